"""Outbox model: every email, kept for admins (no SMTP) or queued for delivery."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import LargeBinary
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import deferred
from sqlalchemy.orm import mapped_column

from engage.clock import utcnow
from engage.db import str_enum
from engage.extensions import db


class MailStatus(enum.StrEnum):
    """Where a message is: kept (no mail server), or on its way through SMTP."""

    KEPT = "kept"  # no SMTP server configured: admins read it at /admin/outbox
    QUEUED = "queued"
    SENDING = "sending"  # claimed by one sender (the request's thread or the job)
    SENT = "sent"
    FAILED = "failed"  # retried with back-off until the attempts run out

    @property
    def label(self) -> str:
        return {
            "kept": "Kept (no mail server)",
            "queued": "Queued",
            "sending": "Sending",
            "sent": "Sent",
            "failed": "Failed",
        }[self.value]


class OutboxMessage(db.Model):  # type: ignore[name-defined,misc]
    """An email: written in the sender's transaction, delivered after it commits."""

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    to_address: Mapped[str] = mapped_column(String(254), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    #: Names of attachments (the bytes travel only in ``raw_message``).
    attachment_names: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[MailStatus] = mapped_column(
        str_enum(MailStatus), default=MailStatus.KEPT, server_default="kept", index=True
    )
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    #: The error class and SMTP code of the last failure (never the server's text).
    last_error: Mapped[str | None] = mapped_column(String(200))
    next_attempt_at: Mapped[datetime | None]
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    #: The whole MIME message while it waits to be sent; cleared once sent.
    raw_message: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))


class MailRequest(db.Model):  # type: ignore[name-defined,misc]
    """An email asked for by address, prepared after the response (see requests).

    Whether the address belongs to anyone is decided by the mail worker, not the
    request, so known and unknown addresses cost the request the same; the row is
    deleted as soon as it is prepared, seconds later.
    """

    __tablename__ = "mail_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    address: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime]
