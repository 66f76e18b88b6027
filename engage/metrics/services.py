"""Metric services: definitions, observations (upserted), manual entry, reach figures.

Reach figures logged with a delivery become observations by one rule (README): each
(channel, figure label) pair is a metric, key ``reach-<channel>-<label>`` (for
example ``reach-newsletter-recipients``, named "Newsletter recipients"), a flow
linked to the channel. Its value on a day is the sum of that figure over the
deliveries on that day, recomputed from the deliveries, so it never double counts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from engage.accounts.models import User
from engage.actions.models import Action
from engage.actions.models import Activity
from engage.actions.models import Channel
from engage.actions.models import ReachFigure
from engage.audit.services import record_event
from engage.clock import local_day
from engage.errors import Conflict
from engage.errors import ValidationError
from engage.extensions import db
from engage.metrics.models import Metric
from engage.metrics.models import MetricKind
from engage.metrics.models import Observation
from engage.metrics.models import Source
from engage.metrics.models import Stage
from engage.metrics.models import TargetPeriod
from engage.metrics.stages import clean
from engage.metrics.stages import ensure_labels
from engage.metrics.stages import label_settings
from engage.metrics.stages import metric_stage
from engage.templating import format_date

_KEY = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")


@dataclass(frozen=True)
class MetricDefinition:
    """A metric Engage creates itself when it first records it."""

    key: str
    name: str
    unit: str
    kind: MetricKind
    higher_is_better: bool = True
    stage: Stage | None = None


#: Metrics created on first use by the features that record them.
BUILT_IN = {
    "media-coverage": MetricDefinition(
        "media-coverage", "Media coverage", "mentions", MetricKind.FLOW
    ),
}


def slug(text: str) -> str:
    """``"GP newsletter"`` → ``"gp-newsletter"`` (for metric keys)."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "x"


def get_metric_by_key(key: str) -> Metric | None:
    """The metric with this key, or None."""
    return db.session.scalar(select(Metric).where(Metric.key == key))


def ensure_metric(
    key: str, definition: MetricDefinition | None = None, **links: int | None
) -> Metric:
    """The metric with this key, created as a system metric if it does not exist."""
    metric = get_metric_by_key(key)
    if metric is not None:
        return metric
    definition = definition or BUILT_IN[key]
    metric = Metric(
        key=key,
        name=definition.name,
        unit=definition.unit,
        stage=definition.stage or metric_stage(key, definition.name, definition.unit),
        kind=definition.kind,
        higher_is_better=definition.higher_is_better,
        is_system=True,
        **links,
    )
    db.session.add(metric)
    db.session.flush()
    return metric


def list_metrics() -> list[Metric]:
    """Every metric, by name."""
    return list(
        db.session.scalars(
            select(Metric)
            .options(selectinload(Metric.channel), selectinload(Metric.action))
            .order_by(Metric.name, Metric.id)
        )
    )


@dataclass(frozen=True)
class MetricData:
    """A metric definition's editable fields."""

    key: str
    name: str
    kind: MetricKind
    unit: str = ""
    stage: Stage = Stage.OUTPUT
    description: str = ""
    higher_is_better: bool = True
    target_value: float | None = None
    target_period: TargetPeriod | None = None
    channel_id: int | None = None
    action_id: int | None = None


def _check(metric: Metric | None, data: MetricData) -> None:
    if not _KEY.match(data.key):
        raise ValidationError(
            "The key must be lower-case letters, digits, dots, dashes or underscores."
        )
    if not data.name.strip():
        raise ValidationError("Enter the metric's name.")
    if (data.target_value is None) != (data.target_period is None):
        raise ValidationError("A target needs both a value and a period.")
    other = get_metric_by_key(data.key)
    if other is not None and other is not metric:
        raise Conflict(f"There is already a metric with the key “{data.key}”.")


def save_metric(
    metric: Metric | None, data: MetricData, *, actor: User, now: datetime
) -> Metric:
    """Create or update a metric definition."""
    _check(metric, data)
    if metric is None:
        metric = Metric(created_at=now)
        db.session.add(metric)
    for name in (
        "key",
        "kind",
        "unit",
        "stage",
        "description",
        "higher_is_better",
        "target_value",
        "target_period",
        "channel_id",
        "action_id",
    ):
        setattr(metric, name, getattr(data, name))
    metric.name = data.name.strip()
    metric.updated_at = now
    db.session.flush()
    record_event(actor, "save", "metric", metric.id, metric.key, now=now)
    return metric


# Observations -----------------------------------------------------------------------


def upsert_observation(
    metric: Metric,
    day: date,
    value: float,
    *,
    source: Source,
    now: datetime,
    note: str = "",
    actor: User | None = None,
) -> tuple[Observation, bool]:
    """Set the metric's value for the day from this source; True if it changed."""
    observation = db.session.scalar(
        select(Observation).where(
            Observation.metric_id == metric.id,
            Observation.observed_on == day,
            Observation.source == source,
        )
    )
    if observation is None:
        observation = Observation(
            metric_id=metric.id, observed_on=day, source=source, value=value
        )
        db.session.add(observation)
    elif observation.value == value and observation.note == note[:500]:
        return observation, False
    observation.value = value
    observation.note = note[:500]
    observation.recorded_at = now
    observation.recorded_by_id = actor.id if actor else None
    db.session.flush()
    return observation, True


def record_manual_observation(
    metric: Metric,
    day: date,
    value: float,
    *,
    note: str,
    actor: User,
    now: datetime,
) -> Observation:
    """Enter a value by hand (replacing an earlier manual value for that day)."""
    if day > local_day(now):
        raise ValidationError("An observation cannot be in the future.")
    observation, _changed = upsert_observation(
        metric, day, value, source=Source.MANUAL, note=note, actor=actor, now=now
    )
    record_event(
        actor, "observe", "metric", metric.id, f"{day.isoformat()} = {value}", now=now
    )
    return observation


def list_observations(metric: Metric) -> list[Observation]:
    """The metric's observations, oldest first."""
    return list(
        db.session.scalars(
            select(Observation)
            .where(Observation.metric_id == metric.id)
            .order_by(Observation.observed_on, Observation.source)
        )
    )


def daily_values(observations: Iterable[Observation]) -> list[tuple[date, float]]:
    """One value per day: where sources differ, manual beats import beats the rest."""
    rank = {Source.MANUAL: 0, Source.IMPORT: 1, Source.FEED: 2, Source.SYSTEM: 3}
    best: dict[date, Observation] = {}
    for item in observations:
        held = best.get(item.observed_on)
        if held is None or rank[item.source] < rank[held.source]:
            best[item.observed_on] = item
    return [(day, best[day].value) for day in sorted(best)]


# Reach figures from deliveries ------------------------------------------------------


def reach_metric_key(channel: Channel, label: str) -> str:
    """The metric key for a figure label on a channel's deliveries."""
    return f"reach-{slug(channel.name)}-{slug(label)}"


def observations_from_activities(
    days: Iterable[date] | None = None, *, now: datetime
) -> dict[str, int]:
    """Turn reach figures logged with deliveries into observations (source system).

    Recomputes the given days (every day with a delivery when ``days`` is None), so
    it is safe after every delivery and in the nightly job. Returns counts.
    """
    query = (
        select(Activity.occurred_on, Channel, ReachFigure.label, ReachFigure.value)
        .join(ReachFigure, ReachFigure.activity_id == Activity.id)
        .join(Action, Action.id == Activity.action_id)
        .join(Channel, Channel.id == Action.channel_id)
    )
    wanted = None if days is None else sorted(set(days))
    if wanted is not None:
        if not wanted:
            return {"observations": 0, "changed": 0}
        query = query.where(Activity.occurred_on.in_(wanted))
    totals: dict[tuple[str, date], float] = {}
    metrics: dict[str, Metric] = {}
    rows = db.session.execute(query).all()
    # New labels get their default stage and unit, saved so admins can change them.
    ensure_labels((label for _, _, label, _ in rows), now=now)
    settings = label_settings(label for _, _, label, _ in rows)
    for day, channel, label, value in rows:
        key = reach_metric_key(channel, label)
        if key not in metrics:
            setting = settings[clean(label)]
            definition = MetricDefinition(
                key,
                f"{channel.name} {label.strip().lower()}",
                setting.unit,
                MetricKind.FLOW,
                stage=setting.stage,
            )
            metric = ensure_metric(key, definition, channel_id=channel.id)
            # The label's stage and unit, as an admin last set them.
            metric.stage, metric.unit = setting.stage, setting.unit
            metrics[key] = metric
        totals[(key, day)] = totals.get((key, day), 0.0) + float(value)
    changed = _drop_stale_reach(totals, wanted)
    for (key, day), total in sorted(totals.items()):
        _obs, did_change = upsert_observation(
            metrics[key],
            day,
            total,
            source=Source.SYSTEM,
            note="Reach figures logged with deliveries",
            now=now,
        )
        changed += did_change
    return {"observations": len(totals), "changed": changed}


def _drop_stale_reach(
    totals: dict[tuple[str, date], float], days: list[date] | None
) -> int:
    """Delete reach observations of the recomputed days that no delivery backs now."""
    query = (
        select(Observation, Metric.key)
        .join(Metric, Metric.id == Observation.metric_id)
        .where(Metric.key.startswith("reach-"), Observation.source == Source.SYSTEM)
    )
    if days is not None:
        query = query.where(Observation.observed_on.in_(days))
    dropped = 0
    for observation, key in db.session.execute(query).all():
        if (key, observation.observed_on) not in totals:
            db.session.delete(observation)
            dropped += 1
    db.session.flush()
    return dropped


# Pages ------------------------------------------------------------------------------


def list_actions_for_choice() -> list[Action]:
    """Actions by title (for linking a metric to an action)."""
    return list(db.session.scalars(select(Action).order_by(Action.title)))


def chart_data(metric: Metric, observations: list[Observation]) -> dict[str, object]:
    """The history chart's data: one value per day (see ``daily_values``)."""
    values = daily_values(observations)
    return {
        "label": metric.name + (f" ({metric.unit})" if metric.unit else ""),
        "kind": metric.kind.value,
        "dates": [day.isoformat() for day, _ in values],
        #: The axis's words: dates in the NHS style, never ISO.
        "labels": [format_date(day) for day, _ in values],
        "values": [value for _, value in values],
        "target": metric.target_value,
    }
