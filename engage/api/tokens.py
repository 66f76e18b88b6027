"""API token services: create, list, revoke, and authenticate a bearer token."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from datetime import timedelta

from sqlalchemy import select

from engage.accounts.models import User
from engage.api.models import ApiToken
from engage.audit.services import record_event
from engage.errors import NotFound
from engage.errors import ValidationError
from engage.extensions import db

#: Tokens start with this, so leaked ones are easy to recognise (and to grep for).
PREFIX = "eng_"
#: ``last_used_at`` is written at most this often, so reads stay reads.
TOUCH_EVERY = timedelta(minutes=5)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(user: User, *, name: str, now: datetime) -> tuple[ApiToken, str]:
    """Create a named token for ``user``; return it with the secret (shown once)."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ValidationError("Give the token a name of up to 100 characters.")
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id, name=name, token_hash=_hash(secret), created_at=now
    )
    db.session.add(token)
    db.session.flush()
    record_event(user, "create", "api_token", token.id, name, now=now)
    return token, secret


def list_api_tokens(user: User) -> list[ApiToken]:
    """The user's tokens, newest first (revoked ones too, marked)."""
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def revoke_api_token(user: User, token_id: int, *, now: datetime) -> None:
    """Stop one of ``user``'s tokens working (another user's token is not found)."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound("No such API token.")
    if token.revoked_at is None:
        token.revoked_at = now
        db.session.flush()
        record_event(user, "revoke", "api_token", token.id, token.name, now=now)


def authenticate(secret: str, *, now: datetime) -> User | None:
    """The active user holding this unrevoked token, or None."""
    if not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    token = db.session.scalar(
        select(ApiToken).where(ApiToken.token_hash == _hash(secret))
    )
    if token is None or token.revoked_at is not None:
        return None
    user: User | None = db.session.get(User, token.user_id)
    if user is None or not user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
        token.last_used_at = now
        db.session.flush()
    return user
