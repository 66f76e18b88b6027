"""Account models: staff users and their set-password tokens."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import AnonymousUserMixin
from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import false
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from engage.db import TimestampMixin
from engage.db import str_enum
from engage.extensions import db


class Role(enum.StrEnum):
    """What a staff user may do: admins do everything, officers edit, leads read."""

    ADMIN = "admin"
    OFFICER = "officer"
    LEAD = "lead"

    @property
    def label(self) -> str:
        return {"admin": "Administrator", "officer": "Officer", "lead": "Lead"}[
            self.value
        ]


#: Who may read the staff areas, who may change things, and who administers Engage.
READERS = (Role.ADMIN, Role.OFFICER, Role.LEAD)
EDITORS = (Role.ADMIN, Role.OFFICER)
ADMINS = (Role.ADMIN,)


class User(TimestampMixin, db.Model):  # type: ignore[name-defined,misc]
    """A member of staff who signs in."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(str_enum(Role))
    #: argon2id hash, or None until the user sets a password through their link.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(default=True)
    #: Bumped on logout, password change and deactivation: older sessions stop working.
    session_version: Mapped[int] = mapped_column(default=1)
    last_login_at: Mapped[datetime | None]
    # Two-factor sign-in (docs/security.md A6) ----------------------------------------
    #: Base32 TOTP secret once two-factor is set up (see README: encrypt the disk).
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    #: The last 30-second time step whose code was accepted: a code is used only once.
    totp_last_step: Mapped[int | None]
    totp_enabled_at: Mapped[datetime | None]
    #: Receives the reach report by email (set on the account page).
    reach_report_subscribed: Mapped[bool] = mapped_column(
        default=False, server_default=false()
    )

    tokens: Mapped[list[PasswordToken]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )
    recovery_codes: Mapped[list[RecoveryCode]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    # Flask-Login protocol --------------------------------------------------------
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles

    # What the user may do, for views and templates --------------------------------
    @property
    def can_edit(self) -> bool:
        """Officers and admins change things; leads only read."""
        return self.role in EDITORS

    @property
    def is_admin(self) -> bool:
        return self.role in ADMINS


class Visitor(AnonymousUserMixin):  # type: ignore[misc]
    """Nobody signed in: may do nothing (templates can ask it the same questions)."""

    can_edit = False
    is_admin = False

    def has_role(self, *roles: Role) -> bool:
        return False


class PasswordToken(db.Model):  # type: ignore[name-defined,misc]
    """A single-use, expiring set-password link; only the token's hash is stored."""

    __tablename__ = "password_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="tokens")


class RecoveryCode(db.Model):  # type: ignore[name-defined,misc]
    """A single-use two-factor recovery code; only a salted hash is stored."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    #: ``salt$sha256(salt + code)`` in hex.
    code_hash: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="recovery_codes")
