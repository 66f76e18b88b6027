"""Outbox model: messages kept in the database when no SMTP server is configured."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engage.db import utcnow
from engage.extensions import db


class OutboxMessage(db.Model):  # type: ignore[name-defined,misc]
    """An e-mail that would have been sent; admins read them at /admin/outbox."""

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    to_address: Mapped[str] = mapped_column(String(254), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    #: Names of attachments (the bytes are not kept).
    attachment_names: Mapped[str] = mapped_column(String(500), default="")
