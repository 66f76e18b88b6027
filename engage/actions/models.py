"""Action plan models: objectives, channels, actions, owners and logged deliveries."""

from __future__ import annotations

import enum
from datetime import date
from datetime import datetime

from sqlalchemy import BigInteger
from sqlalchemy import Column
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import Table
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from engage.db import TimestampMixin
from engage.db import str_enum
from engage.extensions import db


class Recurrence(enum.StrEnum):
    """How often an action repeats."""

    NONE = "none"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    BIMONTHLY = "bimonthly"
    QUARTERLY = "quarterly"
    BIANNUALLY = "biannually"
    ANNUALLY = "annually"
    ONGOING = "ongoing"

    @property
    def label(self) -> str:
        return {
            "none": "Does not repeat",
            "weekly": "Weekly",
            "monthly": "Monthly",
            "bimonthly": "Every two months",
            "quarterly": "Quarterly",
            "biannually": "Twice a year",
            "annually": "Annually",
            "ongoing": "Ongoing (continuous)",
        }[self.value]


class ActionStatus(enum.StrEnum):
    """Stored status; *overdue* and *unscheduled* are derived, never stored."""

    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()

    @property
    def is_open(self) -> bool:
        return self in (ActionStatus.PLANNED, ActionStatus.IN_PROGRESS)


class Objective(TimestampMixin, db.Model):  # type: ignore[name-defined,misc]
    """A core communication objective."""

    __tablename__ = "objectives"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200), unique=True)
    message: Mapped[str] = mapped_column(Text, default="")
    desired_outcome: Mapped[str] = mapped_column(Text, default="")
    responsible: Mapped[str] = mapped_column(String(200), default="")
    due_date: Mapped[date | None]


class Channel(db.Model):  # type: ignore[name-defined,misc]
    """A method of engagement (website, newsletter, event…): an editable list."""

    __tablename__ = "channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    is_active: Mapped[bool] = mapped_column(default=True)


action_audiences = Table(
    "action_audiences",
    db.metadata,
    Column("action_id", ForeignKey("actions.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "audience_id", ForeignKey("audiences.id", ondelete="CASCADE"), primary_key=True
    ),
)

action_owners = Table(
    "action_owners",
    db.metadata,
    Column("action_id", ForeignKey("actions.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)

activity_audiences = Table(
    "activity_audiences",
    db.metadata,
    Column(
        "activity_id", ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True
    ),
    Column(
        "audience_id", ForeignKey("audiences.id", ondelete="CASCADE"), primary_key=True
    ),
    Index("ix_activity_audiences_audience_id", "audience_id"),
    # Last contact per audience without reading the table (dashboard).
    Index(
        "ix_activity_audiences_audience_id_activity_id", "audience_id", "activity_id"
    ),
)


class Action(TimestampMixin, db.Model):  # type: ignore[name-defined,misc]
    """A communication action in the plan."""

    __tablename__ = "actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300), unique=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"), index=True)
    objective_id: Mapped[int | None] = mapped_column(
        ForeignKey("objectives.id", ondelete="SET NULL"), index=True
    )
    programme_id: Mapped[int | None] = mapped_column(
        ForeignKey("programmes.id", ondelete="SET NULL"), index=True
    )
    #: The action is aimed at every audience ("All" in a plan).
    all_audiences: Mapped[bool] = mapped_column(default=False)
    #: Audience wording that matched no audience record (kept as written).
    audience_note: Mapped[str] = mapped_column(String(500), default="")
    #: Roles outside Engage who are responsible ("Provider communications team").
    responsibility: Mapped[str] = mapped_column(String(500), default="")
    start_date: Mapped[date | None]
    due_date: Mapped[date | None]
    #: The timescale as written ("TBC", "Autumn 2012", "Monthly").
    timescale: Mapped[str] = mapped_column(String(200), default="")
    recurrence: Mapped[Recurrence] = mapped_column(
        str_enum(Recurrence), default=Recurrence.NONE
    )
    #: When the next delivery is due; advanced when a delivery is logged.
    next_due_date: Mapped[date | None] = mapped_column(index=True)
    status: Mapped[ActionStatus] = mapped_column(
        str_enum(ActionStatus), default=ActionStatus.PLANNED, index=True
    )
    success_measure: Mapped[str] = mapped_column(Text, default="")
    completed_at: Mapped[datetime | None]

    channel: Mapped[Channel] = relationship()
    objective: Mapped[Objective | None] = relationship()
    programme = relationship("Programme")
    audiences = relationship(
        "Audience", secondary=action_audiences, order_by="Audience.name"
    )
    owners = relationship("User", secondary=action_owners, order_by="User.name")
    activities: Mapped[list[Activity]] = relationship(
        back_populates="action",
        cascade="all, delete-orphan",
        order_by="(Activity.occurred_on.desc(), Activity.id.desc())",
    )


class Activity(db.Model):  # type: ignore[name-defined,misc]
    """One logged delivery of an action, with the reach it had."""

    __tablename__ = "activities"
    #: Deliveries in a period with their action, from the index alone (dashboard).
    __table_args__ = (
        Index("ix_activities_occurred_on_action_id", "occurred_on", "action_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(
        ForeignKey("actions.id", ondelete="CASCADE"), index=True
    )
    occurred_on: Mapped[date] = mapped_column(index=True)
    description: Mapped[str] = mapped_column(String(500))
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime]

    action: Mapped[Action] = relationship(back_populates="activities")
    audiences = relationship(
        "Audience", secondary=activity_audiences, order_by="Audience.name"
    )
    figures: Mapped[list[ReachFigure]] = relationship(
        back_populates="activity",
        cascade="all, delete-orphan",
        order_by="ReachFigure.id",
    )
    created_by = relationship("User")


class ReachFigure(db.Model):  # type: ignore[name-defined,misc]
    """A reach number recorded with a delivery ("recipients 412", "opens 188")."""

    __tablename__ = "reach_figures"
    #: Reach totals by label without reading the table (dashboard).
    __table_args__ = (
        Index(
            "ix_reach_figures_activity_id_label_value", "activity_id", "label", "value"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str] = mapped_column(String(100))
    value: Mapped[int]

    activity: Mapped[Activity] = relationship(back_populates="figures")


class _DeliveryRollup:
    """The columns the deliveries rollups share, after their day or month."""

    channel_id: Mapped[int] = mapped_column(primary_key=True)
    #: The set of figures the deliveries recorded: lower-cased labels, as JSON.
    labels: Mapped[str] = mapped_column(Text, primary_key=True)
    #: A figure's label, or "" on the row that counts the deliveries.
    label: Mapped[str] = mapped_column(Text, primary_key=True)
    deliveries: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(BigInteger, default=0)


class DeliveryDay(_DeliveryRollup, db.Model):  # type: ignore[name-defined,misc]
    """Rollup: deliveries and their reach figures per day, channel and the set of
    figures each delivery recorded (engage.actions.rollup).

    The row with ``label`` "" counts the deliveries; each label's row counts the
    deliveries with it and totals its values. Derived from deliveries only; never
    edited by hand.
    """

    __tablename__ = "delivery_days"

    day: Mapped[date] = mapped_column(primary_key=True)


class DeliveryMonth(_DeliveryRollup, db.Model):  # type: ignore[name-defined,misc]
    """Rollup: ``delivery_days`` by calendar month (``month``: its first day), so a
    year is summed from a few rows per month."""

    __tablename__ = "delivery_months"

    month: Mapped[date] = mapped_column(primary_key=True)


class CalendarToken(db.Model):  # type: ignore[name-defined,misc]
    """A user's private calendar-feed token; only its hash is stored."""

    __tablename__ = "calendar_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), unique=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]


class ActionDigestSent(db.Model):  # type: ignore[name-defined,misc]
    """An owner's daily digest went out that day (so it never goes twice)."""

    __tablename__ = "action_digests_sent"
    __table_args__ = (UniqueConstraint("user_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    day: Mapped[date]
    sent_at: Mapped[datetime]


# Keeps delivery_days up to date on every flush of deliveries.
from engage.actions import rollup as _rollup  # noqa: E402,F401
