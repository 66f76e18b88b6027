"""The metric rollups always equal a recomputation from the observations."""

from __future__ import annotations

import io
from datetime import UTC
from datetime import date
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy import select

from engage.extensions import db
from engage.imports.services import apply_import
from engage.metrics.feeds import record_media_coverage
from engage.metrics.figures import metric_values
from engage.metrics.models import Mention
from engage.metrics.models import MetricDay
from engage.metrics.models import MetricKind
from engage.metrics.models import MetricMonth
from engage.metrics.models import Observation
from engage.metrics.models import Source
from engage.metrics.rollup import rebuild_metric_rollups
from engage.metrics.services import observations_from_activities
from engage.metrics.services import record_manual_observation
from engage.metrics.services import upsert_observation
from tests.factories import ActionFactory
from tests.factories import ActivityFactory
from tests.factories import ChannelFactory
from tests.factories import FeedFactory
from tests.factories import MetricFactory

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
RANK = {Source.MANUAL: 0, Source.IMPORT: 1, Source.FEED: 2, Source.SYSTEM: 3}


def _expected() -> tuple[dict[tuple[int, date], float], dict[tuple[int, date], Any]]:
    """Best source per metric and day, and each month's total and latest day."""
    best: dict[tuple[int, date], tuple[int, float]] = {}
    for item in db.session.scalars(select(Observation)):
        key = (item.metric_id, item.observed_on)
        if key not in best or RANK[item.source] < best[key][0]:
            best[key] = (RANK[item.source], item.value)
    days = {key: value for key, (_rank, value) in best.items()}
    months: dict[tuple[int, date], Any] = {}
    for (metric_id, day), value in sorted(days.items()):
        held = months.setdefault((metric_id, day.replace(day=1)), [0.0, None, None])
        held[0] += value
        held[1:] = [day, value]
    return days, {key: tuple(held) for key, held in months.items()}


def _stored() -> tuple[dict[tuple[int, date], float], dict[tuple[int, date], Any]]:
    db.session.flush()
    # Plain rows, not entities: the identity map would hide rows rewritten by SQL.
    days = {
        (row.metric_id, row.day): row.value
        for row in db.session.execute(select(*MetricDay.__table__.c))
    }
    months = {
        (row.metric_id, row.month): (row.total, row.last_day, row.last_value)
        for row in db.session.execute(select(*MetricMonth.__table__.c))
    }
    return days, months


def _assert_in_step() -> None:
    expected_days, expected_months = _expected()
    days, months = _stored()
    assert days == pytest.approx(expected_days)
    assert months.keys() == expected_months.keys()
    for key, (total, last_day, last_value) in expected_months.items():
        assert months[key][0] == pytest.approx(total)
        assert months[key][1:] == (last_day, last_value)


def test_rollup_follows_every_writer_and_source_ranking(
    cast: dict[str, Any],
) -> None:
    officer = cast["officer"]
    visits = MetricFactory(key="web-visits", kind=MetricKind.FLOW)
    followers = MetricFactory(key="followers", kind=MetricKind.LEVEL)

    # Manual entry, then a system value on the same day: manual still wins.
    record_manual_observation(
        visits, date(2026, 10, 5), 10, note="", actor=officer, now=NOW
    )
    upsert_observation(visits, date(2026, 10, 5), 99, source=Source.SYSTEM, now=NOW)
    upsert_observation(visits, date(2026, 10, 6), 7, source=Source.SYSTEM, now=NOW)
    _assert_in_step()
    assert _stored()[0][(visits.id, date(2026, 10, 5))] == 10

    # An import overrides the system value of the 6th (import ranks above system).
    csv = (
        "metric,date,value,note\n"
        "web-visits,2026-10-06,20,\n"
        "web-visits,2026-11-01,5,\n"
        "followers,2026-10-31,300,\n"
        "followers,2026-10-02,250,\n"
    )
    apply_import(
        "observations", io.BytesIO(csv.encode()), "v.csv", actor=officer, now=NOW
    )
    _assert_in_step()
    assert _stored()[0][(visits.id, date(2026, 10, 6))] == 20
    october = _stored()[1][(followers.id, date(2026, 10, 1))]
    assert october == (550, date(2026, 10, 31), 300)

    # The media-coverage recount (feed source), re-run after a new mention.
    feed = FeedFactory(url="https://news.example/rss", name="News")
    for index, day in enumerate([date(2026, 10, 6), date(2026, 10, 6)]):
        db.session.add(
            Mention(feed_id=feed.id, guid=f"g{index}", published_on=day, found_at=NOW)
        )
    record_media_coverage([date(2026, 10, 6), date(2026, 10, 7)], now=NOW)
    _assert_in_step()
    db.session.add(
        Mention(
            feed_id=feed.id, guid="g9", published_on=date(2026, 10, 7), found_at=NOW
        )
    )
    record_media_coverage([date(2026, 10, 7)], now=NOW)
    _assert_in_step()

    # Reach from deliveries (system), then the delivery's removal drops it again.
    channel = ChannelFactory(name="Radio")
    action = ActionFactory(channel=channel)
    activity = ActivityFactory(
        action=action, occurred_on=date(2026, 10, 8), figures={"Listeners": 40}
    )
    observations_from_activities([date(2026, 10, 8)], now=NOW)
    _assert_in_step()
    assert len(_stored()[0]) == len(_expected()[0])
    db.session.delete(activity)
    db.session.flush()
    observations_from_activities([date(2026, 10, 8)], now=NOW)
    _assert_in_step()

    # A manual value overrides an import on the same day; deleting it falls back.
    record_manual_observation(
        followers, date(2026, 10, 31), 310, note="", actor=officer, now=NOW
    )
    _assert_in_step()
    manual = db.session.scalar(
        select(Observation).where(
            Observation.source == Source.MANUAL, Observation.metric_id == followers.id
        )
    )
    db.session.delete(manual)
    _assert_in_step()
    assert metric_values(date(2026, 10, 1), date(2026, 10, 31))[followers.id] == 300

    # Deleting a metric takes its rollup rows with it.
    db.session.delete(visits)
    _assert_in_step()


def test_rebuild_after_a_bulk_insert_and_partial_months() -> None:
    flow = MetricFactory(key="flow", kind=MetricKind.FLOW)
    level = MetricFactory(key="level", kind=MetricKind.LEVEL)
    rows = []
    for month in (9, 10, 11):
        for day in (1, 15, 28):
            on = date(2026, month, day)
            rows.append((flow.id, on, float(month + day), Source.SYSTEM))
            rows.append((level.id, on, float(month * 100 + day), Source.SYSTEM))
            if day == 15:
                rows.append((flow.id, on, 1.0, Source.MANUAL))
    db.session.execute(
        insert(Observation),
        [
            {
                "metric_id": metric_id,
                "observed_on": on,
                "value": value,
                "source": source,
                "note": "",
                "recorded_at": NOW,
            }
            for metric_id, on, value, source in rows
        ],
    )
    assert _stored() == ({}, {})
    counts = rebuild_metric_rollups()
    assert counts == {"days": 18, "months": 6}
    _assert_in_step()

    def by_hand(start: date, end: date) -> dict[int, float]:
        days, _months = _expected()
        inside = sorted((k, v) for k, v in days.items() if start <= k[1] <= end)
        result: dict[int, float] = {}
        flows = [v for (m, _d), v in inside if m == flow.id]
        if flows:
            result[flow.id] = sum(flows)
        levels = [v for (m, _d), v in inside if m == level.id]
        if levels:
            result[level.id] = levels[-1]
        return result

    for start, end in [
        (date(2026, 9, 1), date(2026, 11, 30)),  # whole months
        (date(2026, 9, 10), date(2026, 11, 20)),  # partial months at both edges
        (date(2026, 9, 2), date(2026, 9, 27)),  # inside one month
        (date(2026, 10, 1), date(2026, 11, 14)),  # whole month then a partial one
        (date(2026, 9, 16), date(2026, 10, 31)),  # partial month then a whole one
        (date(2026, 12, 1), date(2026, 12, 31)),  # no data
    ]:
        assert metric_values(start, end) == pytest.approx(by_hand(start, end))
