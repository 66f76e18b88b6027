"""System metrics: figures Engage computes from its other features every night.

One registry, ``SYSTEM_METRICS``: each entry names a metric and the function giving its
value for a day. ``compute_system_metrics`` upserts one observation (source system) per
metric and day, so running it again for the same day never double counts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta

from sqlalchemy import func
from sqlalchemy import select

from engage.actions.models import Action
from engage.actions.models import ActionStatus
from engage.audiences.services import contact_statuses
from engage.audiences.services import list_audiences
from engage.clock import utcnow
from engage.extensions import db
from engage.membership.figures import member_counts
from engage.membership.models import Tier
from engage.metrics.models import MetricKind
from engage.metrics.models import Source
from engage.metrics.services import MetricDefinition
from engage.metrics.services import ensure_metric
from engage.metrics.services import upsert_observation
from engage.surveys.figures import response_rate_on
from engage.surveys.figures import responses_per_day


@dataclass(frozen=True)
class SystemMetric:
    """A metric computed by Engage: its definition and how to work out a day's value."""

    definition: MetricDefinition
    #: The day's value, or None when there is nothing to measure (nothing stored).
    compute: Callable[[date], float | None]


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


def _members_in_tier(tier: Tier) -> Callable[[date], float]:
    def compute(day: date) -> float:
        (active,), _ = member_counts([day], [])
        return float(active[tier])

    return compute


def new_members(day: date) -> float:
    """Members who became active on the day (the rule of membership.figures)."""
    _, ((joined, _withdrawn),) = member_counts([], [(day, day)])
    return float(joined)


def withdrawals(day: date) -> float:
    """Members who withdrew on the day."""
    _, ((_joined, withdrawn),) = member_counts([], [(day, day)])
    return float(withdrawn)


def actions_completed(day: date) -> float:
    """Actions marked done on the day."""
    start, end = _day_bounds(day)
    count = db.session.scalar(
        select(func.count(Action.id)).where(
            Action.status == ActionStatus.DONE,
            Action.completed_at >= start,
            Action.completed_at < end,
        )
    )
    return float(count or 0)


def actions_overdue(day: date) -> float:
    """Open actions whose next due date had passed on the day (actions.is_overdue)."""
    count = db.session.scalar(
        select(func.count(Action.id)).where(
            Action.status.in_([s for s in ActionStatus if s.is_open]),
            Action.next_due_date < day,
        )
    )
    return float(count or 0)


def audiences_due_for_contact(day: date) -> float:
    """Audiences not reached within their approach's contact interval."""
    statuses = contact_statuses(list_audiences(), today=day)
    return float(sum(1 for status in statuses.values() if status.is_due))


def survey_responses(day: date) -> float:
    """Survey responses received on the day, from every survey and source."""
    return float(sum(count for _, count in responses_per_day(None, day, day)))


def _metric(
    key: str,
    name: str,
    unit: str,
    kind: MetricKind,
    compute: Callable[[date], float | None],
    *,
    higher_is_better: bool = True,
) -> SystemMetric:
    return SystemMetric(
        MetricDefinition(key, name, unit, kind, higher_is_better), compute
    )


SYSTEM_METRICS: list[SystemMetric] = [
    _metric(
        "members-gold",
        "Gold members",
        "members",
        MetricKind.LEVEL,
        _members_in_tier(Tier.GOLD),
    ),
    _metric(
        "members-silver",
        "Silver members",
        "members",
        MetricKind.LEVEL,
        _members_in_tier(Tier.SILVER),
    ),
    _metric("new-members", "New members", "members", MetricKind.FLOW, new_members),
    _metric(
        "withdrawals",
        "Withdrawals",
        "members",
        MetricKind.FLOW,
        withdrawals,
        higher_is_better=False,
    ),
    _metric(
        "actions-completed",
        "Actions completed",
        "actions",
        MetricKind.FLOW,
        actions_completed,
    ),
    _metric(
        "actions-overdue",
        "Actions overdue",
        "actions",
        MetricKind.LEVEL,
        actions_overdue,
        higher_is_better=False,
    ),
    _metric(
        "audiences-due",
        "Audiences due for contact",
        "audiences",
        MetricKind.LEVEL,
        audiences_due_for_contact,
        higher_is_better=False,
    ),
    _metric(
        "survey-responses",
        "Survey responses",
        "responses",
        MetricKind.FLOW,
        survey_responses,
    ),
    _metric(
        "survey-response-rate",
        "Survey response rate",
        "%",
        MetricKind.LEVEL,
        response_rate_on,
    ),
]


def compute_system_metrics(day: date, *, now: datetime | None = None) -> dict[str, int]:
    """Compute every system metric for ``day`` and upsert it (source system).

    Idempotent: a second run for the same day changes nothing. Returns each metric's
    key with its value (as an int, for the job's log).
    """
    now = now or utcnow()
    results: dict[str, int] = {}
    for entry in SYSTEM_METRICS:
        metric = ensure_metric(entry.definition.key, entry.definition)
        value = entry.compute(day)
        if value is None:
            continue
        upsert_observation(
            metric, day, value, source=Source.SYSTEM, note="Computed nightly", now=now
        )
        results[entry.definition.key] = round(value)
    return results
