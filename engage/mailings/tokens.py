"""Per-recipient links: one signed token names one person's copy of one mailing.

The token is the recipient row's id signed with the app's secret key, so nothing is
stored, a guessed or altered token finds nothing, and no address appears in a link.
"""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature
from itsdangerous import URLSafeSerializer

from engage.extensions import db
from engage.mailings.models import MailingRecipient

_SALT = "mailing-recipient"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def recipient_token(recipient_id: int) -> str:
    """The token that stands for one recipient in their unsubscribe and click links."""
    return str(_serializer().dumps(recipient_id))


def recipient_from_token(token: str) -> MailingRecipient | None:
    """The recipient a token names, or None for a token that is bad or too long."""
    if len(token) > 100:
        return None
    try:
        recipient_id = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(recipient_id, int) or not 0 < recipient_id < 2**63:
        return None
    return db.session.get(MailingRecipient, recipient_id)
