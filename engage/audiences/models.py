"""Audience models: stakeholder groups, their contacts, programmes and overrides."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint
from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from engage.db import TimestampMixin
from engage.db import str_enum
from engage.extensions import db


class AudienceGroup(enum.StrEnum):
    """The broad kind of stakeholder."""

    PUBLIC = "public"
    CLINICAL = "clinical"
    PROVIDER = "provider"
    PARTNER = "partner"
    MEDIA = "media"
    INTERNAL = "internal"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class Approach(enum.StrEnum):
    """How we engage an audience: manage, inform or monitor."""

    MANAGE = "manage"
    INFORM = "inform"
    MONITOR = "monitor"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class Programme(TimestampMixin, db.Model):  # type: ignore[name-defined,misc]
    """A work programme or subject, e.g. "Mental health review"."""

    __tablename__ = "programmes"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    is_active: Mapped[bool] = mapped_column(default=True)


class Audience(TimestampMixin, db.Model):  # type: ignore[name-defined,misc]
    """A stakeholder group or organisation on the map."""

    __tablename__ = "audiences"
    __table_args__ = (
        CheckConstraint("influence BETWEEN 1 AND 5", name="influence_range"),
        CheckConstraint("interest BETWEEN 1 AND 5", name="interest_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    group: Mapped[AudienceGroup] = mapped_column(str_enum(AudienceGroup))
    #: 1 (little) to 5 (decisive) – the power axis of the grid.
    influence: Mapped[int] = mapped_column(default=3)
    #: 1 (little) to 5 (very keen) – the interest axis of the grid.
    interest: Mapped[int] = mapped_column(default=3)
    #: The approach the officer chose (the grid only suggests one).
    approach: Mapped[Approach] = mapped_column(str_enum(Approach))
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    notes: Mapped[str] = mapped_column(Text, default="")
    archived_at: Mapped[datetime | None]

    owner = relationship("User")
    contacts: Mapped[list[AudienceContact]] = relationship(
        back_populates="audience",
        cascade="all, delete-orphan",
        order_by="AudienceContact.name",
    )
    overrides: Mapped[list[ProgrammeApproach]] = relationship(
        back_populates="audience", cascade="all, delete-orphan"
    )

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class AudienceContact(db.Model):  # type: ignore[name-defined,misc]
    """A named person we deal with in an audience (a professional contact)."""

    __tablename__ = "audience_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    audience_id: Mapped[int] = mapped_column(
        ForeignKey("audiences.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")

    audience: Mapped[Audience] = relationship(back_populates="contacts")


class ProgrammeApproach(db.Model):  # type: ignore[name-defined,misc]
    """An audience's approach for one programme, overriding its usual one."""

    __tablename__ = "programme_approaches"
    __table_args__ = (UniqueConstraint("audience_id", "programme_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    audience_id: Mapped[int] = mapped_column(
        ForeignKey("audiences.id", ondelete="CASCADE"), index=True
    )
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programmes.id", ondelete="CASCADE"), index=True
    )
    approach: Mapped[Approach] = mapped_column(str_enum(Approach))
    rationale: Mapped[str] = mapped_column(Text, default="")

    audience: Mapped[Audience] = relationship(back_populates="overrides")
    programme: Mapped[Programme] = relationship()


class ContactInterval(db.Model):  # type: ignore[name-defined,misc]
    """How often an audience with this approach expects contact (admins change it)."""

    __tablename__ = "contact_intervals"

    approach: Mapped[Approach] = mapped_column(str_enum(Approach), primary_key=True)
    days: Mapped[int] = mapped_column(CheckConstraint("days > 0", name="days_positive"))


DEFAULT_CONTACT_INTERVALS = {
    Approach.MANAGE: 30,
    Approach.INFORM: 90,
    Approach.MONITOR: 180,
}
