"""API models: per-user bearer tokens (only their SHA-256 hash is stored)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from engage.extensions import db


class ApiToken(db.Model):  # type: ignore[name-defined,misc]
    """A user's named API token; shown once, revocable, used as ``Bearer <token>``."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user = relationship("User")

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
