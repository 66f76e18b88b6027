"""Metric services: upserts, manual entry, reach from deliveries, system metrics."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select

from engage.actions.models import ActionStatus
from engage.actions.models import Activity
from engage.errors import Conflict
from engage.errors import ValidationError
from engage.extensions import db
from engage.membership.models import ConsentMethod
from engage.membership.models import MemberStatus
from engage.membership.models import Tier
from engage.metrics.models import Metric
from engage.metrics.models import MetricKind
from engage.metrics.models import Observation
from engage.metrics.models import Source
from engage.metrics.models import TargetPeriod
from engage.metrics.services import MetricData
from engage.metrics.services import daily_values
from engage.metrics.services import get_metric_by_key
from engage.metrics.services import observations_from_activities
from engage.metrics.services import record_manual_observation
from engage.metrics.services import save_metric
from engage.metrics.services import upsert_observation
from engage.metrics.system import SYSTEM_METRICS
from engage.metrics.system import compute_system_metrics
from tests.factories import ActionFactory
from tests.factories import ActivityFactory
from tests.factories import AudienceFactory
from tests.factories import ChannelFactory
from tests.factories import MemberFactory

NOW = datetime(2026, 11, 25, 23, 0, tzinfo=UTC)
TODAY = NOW.date()


def _observations() -> int:
    return db.session.scalar(select(func.count(Observation.id))) or 0


def test_save_metric_checks_key_target_and_uniqueness(cast: dict[str, Any]) -> None:
    data = MetricData(key="web-visits", name="Web visits", kind=MetricKind.FLOW)
    metric = save_metric(None, data, actor=cast["officer"], now=NOW)
    assert metric.key == "web-visits"
    assert not metric.is_system
    with pytest.raises(Conflict):
        save_metric(None, data, actor=cast["officer"], now=NOW)
    with pytest.raises(ValidationError, match="lower-case"):
        save_metric(
            None,
            MetricData("Web Visits!", "x", MetricKind.FLOW),
            actor=cast["officer"],
            now=NOW,
        )
    with pytest.raises(ValidationError, match="both a value and a period"):
        save_metric(
            None,
            MetricData("a", "x", MetricKind.FLOW, target_value=5),
            actor=cast["officer"],
            now=NOW,
        )
    targeted = MetricData(
        "a", "A", MetricKind.LEVEL, target_value=5, target_period=TargetPeriod.YEAR
    )
    assert save_metric(None, targeted, actor=cast["officer"], now=NOW).target_value == 5


def test_manual_entry_upserts_one_value_per_day(cast: dict[str, Any]) -> None:
    metric = save_metric(
        None,
        MetricData("followers", "Followers", MetricKind.LEVEL),
        actor=cast["officer"],
        now=NOW,
    )
    record_manual_observation(
        metric, TODAY, 10, note="", actor=cast["officer"], now=NOW
    )
    record_manual_observation(
        metric, TODAY, 12, note="fixed", actor=cast["officer"], now=NOW
    )
    upsert_observation(metric, TODAY, 99, source=Source.SYSTEM, now=NOW)
    assert _observations() == 2
    assert daily_values(metric.observations) == [(TODAY, 12)]
    with pytest.raises(ValidationError, match="future"):
        record_manual_observation(
            metric,
            TODAY + timedelta(days=1),
            1,
            note="",
            actor=cast["officer"],
            now=NOW,
        )


def test_reach_figures_become_one_metric_per_channel_and_label() -> None:
    newsletter = ChannelFactory(name="GP newsletter")
    first, second = ActionFactory(channel=newsletter), ActionFactory(channel=newsletter)
    ActivityFactory(
        action=first, occurred_on=TODAY, figures={"recipients": 400, "opens": 180}
    )
    ActivityFactory(action=second, occurred_on=TODAY, figures={"recipients": 12})
    counts = observations_from_activities([TODAY], now=NOW)
    again = observations_from_activities(now=NOW)
    assert counts == {"observations": 2, "changed": 2}
    assert again == {"observations": 2, "changed": 0}
    metric = get_metric_by_key("reach-gp-newsletter-recipients")
    assert metric is not None
    assert (metric.name, metric.kind, metric.channel_id, metric.is_system) == (
        "GP newsletter recipients",
        MetricKind.FLOW,
        newsletter.id,
        True,
    )
    assert daily_values(metric.observations) == [(TODAY, 412)]


def test_logging_a_delivery_records_its_reach(
    client: Any, login: Any, cast: dict[str, Any]
) -> None:
    action = ActionFactory(channel=ChannelFactory(name="Event"))
    login(cast["officer"])
    response = client.post(
        f"/actions/{action.id}/deliveries/new",
        data={
            "occurred_on": TODAY.isoformat(),
            "description": "Stakeholder event",
            "figures-0-measure": "attendees",
            "figures-0-number": "86",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    metric = get_metric_by_key("reach-event-attendees")
    assert metric is not None
    assert daily_values(metric.observations)[0][1] == 86


def test_system_metrics_are_computed_and_idempotent() -> None:
    earlier = NOW - timedelta(days=30)
    MemberFactory(tier=Tier.GOLD, created_at=earlier)
    # Joined today.
    MemberFactory(created_at=earlier, confirmed_at=NOW - timedelta(hours=2))
    # Added by staff today.
    MemberFactory(joined_by=ConsentMethod.PAPER, created_at=NOW - timedelta(hours=1))
    MemberFactory(
        created_at=earlier,
        confirmed_at=earlier,
        status=MemberStatus.WITHDRAWN,
        withdrawn_at=NOW - timedelta(hours=3),
    )
    ActionFactory(status=ActionStatus.DONE, completed_at=NOW - timedelta(hours=4))
    ActionFactory(status=ActionStatus.IN_PROGRESS, next_due_date=TODAY - timedelta(1))
    ActionFactory(status=ActionStatus.PLANNED, next_due_date=TODAY)
    AudienceFactory(created_at=earlier)  # never contacted: due
    db.session.commit()
    first = compute_system_metrics(TODAY, now=NOW)
    second = compute_system_metrics(TODAY, now=NOW)
    assert (
        first
        == second
        == {
            "members-gold": 1,
            "members-silver": 2,
            "new-members": 2,
            "withdrawals": 1,
            "actions-completed": 1,
            "actions-overdue": 1,
            "audiences-due": 1,
            "survey-responses": 0,
        }
    )
    # Nobody was invited to a survey, so the response rate is not measured.
    assert _observations() == len(SYSTEM_METRICS) - 1
    keys = set(db.session.scalars(select(Metric.key).where(Metric.is_system)))
    assert keys == {entry.definition.key for entry in SYSTEM_METRICS}


def test_reach_from_a_removed_delivery_is_dropped_on_recompute() -> None:
    action = ActionFactory(channel=ChannelFactory(name="Forum"))
    ActivityFactory(action=action, occurred_on=TODAY, figures={"attendees": 20})
    observations_from_activities([TODAY], now=NOW)
    db.session.execute(delete(Activity))
    counts = observations_from_activities([TODAY], now=NOW)
    assert counts == {"observations": 0, "changed": 1}
    assert _observations() == 0
