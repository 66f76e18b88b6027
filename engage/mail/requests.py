"""Emails asked for by address (a password reset, a manage link), prepared later.

The public forms that send a link "if the address is known" must answer known and
unknown addresses alike, in time too. So the request only records what was asked
(``request_mail``: one row, whatever the address) and its view commits; after the
commit engage.mail.delivery's background thread, or failing that the ``deliver-mail``
job, claims the row and calls the feature's service, which looks the address up and,
if it is someone's, makes the token and writes the email. Handlers are named, as
jobs are, so this module imports no feature.
"""

from __future__ import annotations

from datetime import datetime

from engage.extensions import db
from engage.mail.models import MailRequest

#: What may be asked for, and the service (``module:function``, called with the
#: address and ``now``) that decides whether to send it and writes it.
HANDLERS = {
    "password-reset": "engage.accounts.services:request_password_reset",
    "manage-link": "engage.membership.self_service:request_manage_link",
}
#: The session's requests to prepare once it commits (engage.mail.delivery's hooks).
PENDING_REQUESTS_KEY = "engage_pending_mail_requests"


def request_mail(kind: str, address: str, *, now: datetime) -> None:
    """Ask for the email ``kind`` to ``address``, prepared after the commit."""
    if kind not in HANDLERS:
        raise ValueError(f"unknown kind of email request: {kind!r}")
    request = MailRequest(kind=kind, address=address[:254], created_at=now)
    db.session.add(request)
    db.session.info.setdefault(PENDING_REQUESTS_KEY, []).append(request)
