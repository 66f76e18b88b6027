"""Private reply links: one signed token names one person's invitation to one session.

The token is the invitation's id signed with the app's secret key (its own salt, so
a mailing's token never works here), so nothing is stored, a guessed or altered token
finds nothing, and no name or address appears in the link.
"""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature
from itsdangerous import URLSafeSerializer

from engage.extensions import db
from engage.involvement.models import InvolvementInvitation

_SALT = "involvement-invitation"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def invitation_token(invitation_id: int) -> str:
    """The token in one person's private links (reply, calendar, claim)."""
    return str(_serializer().dumps(invitation_id))


def invitation_from_token(token: str) -> InvolvementInvitation | None:
    """The invitation a token names, or None for a token that is bad or too long."""
    if len(token) > 100:
        return None
    try:
        invitation_id = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(invitation_id, int) or not 0 < invitation_id < 2**63:
        return None
    return db.session.get(InvolvementInvitation, invitation_id)
