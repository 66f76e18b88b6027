"""Metrics models: metrics and their observations, feeds and mentions, reach reports."""

from __future__ import annotations

import enum
from datetime import date
from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlalchemy import Float
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from engage.db import TimestampMixin
from engage.db import str_enum
from engage.extensions import db


class MetricKind(enum.StrEnum):
    """Flow metrics are summed over a period; for a level the latest value counts."""

    FLOW = "flow"
    LEVEL = "level"

    @property
    def label(self) -> str:
        return {
            "flow": "Flow (summed over a period)",
            "level": "Level (the latest value counts)",
        }[self.value]


class TargetPeriod(enum.StrEnum):
    """The period a target applies to."""

    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"

    @property
    def label(self) -> str:
        return {"month": "a month", "quarter": "a quarter", "year": "a year"}[
            self.value
        ]


class Source(enum.StrEnum):
    """Where an observation came from."""

    MANUAL = "manual"
    IMPORT = "import"
    FEED = "feed"
    SYSTEM = "system"

    @property
    def label(self) -> str:
        return {
            "manual": "Entered by hand",
            "import": "Imported",
            "feed": "Media monitoring",
            "system": "Computed by Engage",
        }[self.value]


class Tone(enum.StrEnum):
    """The tone of a media mention, set by an officer."""

    POSITIVE = "positive"
    NEUTRAL = "neutral"
    NEGATIVE = "negative"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class Stage(enum.StrEnum):
    """Where a figure sits in the Government Communication Service evaluation
    framework: what was put in, what went out, what people took from it, what they
    did, and what changed. Figures of different stages are never added together."""

    INPUT = "input"
    OUTPUT = "output"
    OUTTAKE = "outtake"
    OUTCOME = "outcome"
    IMPACT = "impact"

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @property
    def hint(self) -> str:
        return {
            "input": "What the team put in: actions, time, money",
            "output": "Reach: who the communication went out to (recipients, "
            "impressions, visits, views, readers)",
            "outtake": "What people did with it: opens, clicks, attendances, downloads",
            "outcome": "What changed as a result: joins, survey responses",
            "impact": "The difference it made to the organisation's aims",
        }[self.value]


class Metric(TimestampMixin, db.Model):  # type: ignore[name-defined,misc]
    """A measure of reach (newsletter readership, followers, media coverage…)."""

    __tablename__ = "metrics"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(50), default="")
    stage: Mapped[Stage] = mapped_column(str_enum(Stage), default=Stage.OUTPUT)
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[MetricKind] = mapped_column(str_enum(MetricKind))
    higher_is_better: Mapped[bool] = mapped_column(default=True)
    target_value: Mapped[float | None] = mapped_column(Float)
    target_period: Mapped[TargetPeriod | None] = mapped_column(str_enum(TargetPeriod))
    channel_id: Mapped[int | None] = mapped_column(
        ForeignKey("channels.id", ondelete="SET NULL"), index=True
    )
    action_id: Mapped[int | None] = mapped_column(
        ForeignKey("actions.id", ondelete="SET NULL"), index=True
    )
    #: Kept up to date by Engage itself (system figures, reach from deliveries).
    is_system: Mapped[bool] = mapped_column(default=False)

    channel = relationship("Channel")
    action = relationship("Action")
    observations: Mapped[list[Observation]] = relationship(
        back_populates="metric",
        cascade="all, delete-orphan",
        order_by="(Observation.observed_on, Observation.source)",
    )


class ReachLabel(db.Model):  # type: ignore[name-defined,misc]
    """What a reach figure's label counts ("recipients", "opens"): its stage and unit.

    Keyed by the label as officers type it, in lower case. A label with no row
    here takes the defaults of engage.metrics.stages. Figures with the same stage
    and unit may be added together; no others ever are.
    """

    __tablename__ = "reach_labels"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(100), unique=True)
    stage: Mapped[Stage] = mapped_column(str_enum(Stage))
    unit: Mapped[str] = mapped_column(String(50))
    #: The output unit this figure is a rate of ("recipients" for opens), or "".
    rate_of: Mapped[str] = mapped_column(String(50), default="")
    updated_at: Mapped[datetime | None]


class Observation(db.Model):  # type: ignore[name-defined,misc]
    """A metric's value on a date from one source (one per metric, date and source)."""

    __tablename__ = "observations"
    __table_args__ = (
        UniqueConstraint(
            "metric_id", "observed_on", "source", name="uq_observations_metric_day"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    metric_id: Mapped[int] = mapped_column(
        ForeignKey("metrics.id", ondelete="CASCADE"), index=True
    )
    observed_on: Mapped[date] = mapped_column(index=True)
    value: Mapped[float] = mapped_column(Float)
    source: Mapped[Source] = mapped_column(str_enum(Source))
    note: Mapped[str] = mapped_column(String(500), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    recorded_at: Mapped[datetime]

    metric: Mapped[Metric] = relationship(back_populates="observations")
    recorded_by = relationship("User")


class MetricDay(db.Model):  # type: ignore[name-defined,misc]
    """Rollup: a metric's value on a day from its best source (engage.metrics.rollup).

    Derived from observations only; never edited by hand.
    """

    __tablename__ = "metric_days"
    __table_args__ = (Index("ix_metric_days_day", "day", "metric_id", "value"),)

    metric_id: Mapped[int] = mapped_column(
        ForeignKey("metrics.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(primary_key=True)
    value: Mapped[float] = mapped_column(Float)


class MetricMonth(db.Model):  # type: ignore[name-defined,misc]
    """Rollup: a metric's calendar month from its ``metric_days`` rows.

    ``total`` is the sum of the month's daily values (for flows); ``last_day`` and
    ``last_value`` are its latest day with a value (for levels).
    """

    __tablename__ = "metric_months"
    __table_args__ = (
        Index("ix_metric_months_month", "month"),
        # A metric's months summed from the index alone (the dashboard, per metric).
        Index("ix_metric_months_metric_total", "metric_id", "month", "total"),
    )

    metric_id: Mapped[int] = mapped_column(
        ForeignKey("metrics.id", ondelete="CASCADE"), primary_key=True
    )
    #: The first day of the month.
    month: Mapped[date] = mapped_column(primary_key=True)
    total: Mapped[float] = mapped_column(Float)
    last_day: Mapped[date]
    last_value: Mapped[float] = mapped_column(Float)


class Feed(TimestampMixin, db.Model):  # type: ignore[name-defined,misc]
    """An RSS or Atom feed watched for phrases (media monitoring)."""

    __tablename__ = "feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    name: Mapped[str] = mapped_column(String(200))
    #: Phrases to watch, one a line; a feed with none records every entry.
    phrases: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(default=True)
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    last_polled_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    #: Failures in a row; sets the back-off.
    failures: Mapped[int] = mapped_column(default=0)
    next_poll_after: Mapped[datetime | None]

    mentions: Mapped[list[Mention]] = relationship(
        back_populates="feed", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def phrase_list(self) -> list[str]:
        return [line.strip() for line in self.phrases.splitlines() if line.strip()]


class Mention(db.Model):  # type: ignore[name-defined,misc]
    """One feed entry that matched (one per feed and guid: re-polls never duplicate)."""

    __tablename__ = "mentions"
    __table_args__ = (
        UniqueConstraint("feed_id", "guid", name="uq_mentions_feed_guid"),
        # Covers the dashboard's mentions by tone and day (no table reads).
        Index("ix_mentions_published_tone", "published_on", "tone"),
        # The dashboard counts each tone's mentions in a range: one index seek each.
        Index("ix_mentions_tone_published", "tone", "published_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    feed_id: Mapped[int] = mapped_column(
        ForeignKey("feeds.id", ondelete="CASCADE"), index=True
    )
    #: The entry's guid, else its link (a digest when longer than the column).
    guid: Mapped[str] = mapped_column(String(500))
    published_on: Mapped[date] = mapped_column(index=True)
    title: Mapped[str] = mapped_column(String(500), default="")
    #: Only http(s) links are kept.
    link: Mapped[str | None] = mapped_column(String(2000))
    #: Plain text: HTML is stripped before storing.
    summary: Mapped[str] = mapped_column(Text, default="")
    #: The phrases that matched, one a line.
    phrases: Mapped[str] = mapped_column(Text, default="")
    tone: Mapped[Tone | None] = mapped_column(str_enum(Tone))
    found_at: Mapped[datetime]

    feed: Mapped[Feed] = relationship(back_populates="mentions")


class ReportPeriod(enum.StrEnum):
    """A reach report covers a week (Monday to Sunday) or a calendar month."""

    WEEK = "week"
    MONTH = "month"


class ReachReport(db.Model):  # type: ignore[name-defined,misc]
    """A reach report for one period, its figures frozen as JSON when it was made."""

    __tablename__ = "reach_reports"
    __table_args__ = (
        UniqueConstraint("period", "start", name="uq_reach_reports_period_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[ReportPeriod] = mapped_column(str_enum(ReportPeriod))
    start: Mapped[date]
    end: Mapped[date]
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    #: When it was emailed to subscribers (None: not sent).
    sent_at: Mapped[datetime | None]
    recipients: Mapped[int] = mapped_column(default=0)


# Keeps metric_days and metric_months up to date on every flush of observations.
from engage.metrics import rollup as _rollup  # noqa: E402,F401
