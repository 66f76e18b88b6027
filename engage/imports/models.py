"""Pending imports: uploaded files waiting for confirmation after their preview."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy import LargeBinary
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from engage.extensions import db


class PendingImport(db.Model):  # type: ignore[name-defined,misc]
    """An uploaded file waiting for the officer to confirm its import.

    Kept in the database, not on disk, so any web worker or host can finish it.
    """

    __tablename__ = "pending_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
