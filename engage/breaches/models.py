"""Breach model: one personal-data breach in the register (SECURITY D9, Art 33)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from engage.db import TimestampMixin
from engage.extensions import db


class Breach(TimestampMixin, db.Model):  # type: ignore[name-defined,misc]
    """A recorded personal-data breach. Times are aware UTC."""

    __tablename__ = "breaches"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    #: What happened, without naming the people affected.
    description: Mapped[str] = mapped_column(Text, default="")
    discovered_at: Mapped[datetime] = mapped_column(index=True)
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    #: Approximate number of people affected, if known.
    people_affected: Mapped[int | None]
    data_categories: Mapped[str] = mapped_column(String(500), default="")
    actions_taken: Mapped[str] = mapped_column(Text, default="")
    reported_to_ico_at: Mapped[datetime | None]
    ico_reference: Mapped[str] = mapped_column(String(100), default="")
    closed_at: Mapped[datetime | None]

    recorded_by = relationship("User")
