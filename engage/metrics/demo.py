"""Demo measures of reach: three metrics with a year of values and one inactive feed."""

from __future__ import annotations

import math
from datetime import date
from datetime import datetime
from datetime import timedelta

from sqlalchemy import select

from engage.actions.services import get_channel_by_name
from engage.clock import local_day
from engage.extensions import db
from engage.metrics.models import Feed
from engage.metrics.models import Metric
from engage.metrics.models import MetricKind
from engage.metrics.models import Source
from engage.metrics.models import TargetPeriod
from engage.metrics.services import upsert_observation

DEMO_FEED_URL = "https://www.example.org/news/rss.xml"

#: key, name, unit, kind, channel, target, target period, first value, growth/step
DEMO_METRICS = (
    (
        "newsletter-readers",
        "Newsletter readership",
        "readers",
        MetricKind.FLOW,
        "Newsletter",
        1500.0,
        TargetPeriod.MONTH,
        1100,
        25,
    ),
    (
        "web-visits",
        "Website visits",
        "visits",
        MetricKind.FLOW,
        "Website",
        20000.0,
        TargetPeriod.MONTH,
        4200,
        40,
    ),
    (
        "social-followers",
        "Social media followers",
        "followers",
        MetricKind.LEVEL,
        "Social media",
        5000.0,
        TargetPeriod.YEAR,
        3600,
        22,
    ),
)


def _dates(kind: MetricKind, key: str, today: date) -> list[date]:
    start = today - timedelta(days=365)
    if key == "newsletter-readers":  # one issue a month, on the 1st
        first = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
        days, current = [], first
        while current <= today:
            days.append(current)
            current = (current.replace(day=28) + timedelta(days=4)).replace(day=1)
        return days
    monday = start - timedelta(days=start.weekday()) + timedelta(days=7)
    return [monday + timedelta(weeks=n) for n in range((today - monday).days // 7 + 1)]


def load_demo_metrics(*, now: datetime) -> None:
    """Create or refresh the demo metrics, their values and the demo feed (flushes)."""
    today = local_day(now)
    for key, name, unit, kind, channel_name, target, period, base, step in DEMO_METRICS:
        metric = db.session.scalar(select(Metric).where(Metric.key == key))
        if metric is None:
            channel = get_channel_by_name(channel_name)
            metric = Metric(
                key=key,
                name=name,
                unit=unit,
                kind=kind,
                target_value=target,
                target_period=period,
                channel_id=channel.id if channel else None,
                created_at=now,
                updated_at=now,
            )
            db.session.add(metric)
            db.session.flush()
        for n, day in enumerate(_dates(kind, key, today)):
            # A steady rise with a seasonal wobble: deterministic, so reruns match.
            value = base + step * n + round(base * 0.08 * math.sin(n / 2))
            upsert_observation(
                metric,
                day,
                float(value),
                source=Source.IMPORT,
                note="Demo data",
                now=now,
            )
    if db.session.scalar(select(Feed).where(Feed.url == DEMO_FEED_URL)) is None:
        db.session.add(
            Feed(
                url=DEMO_FEED_URL,
                name="Local news (example, not polled)",
                phrases="Engage\nPatient participation",
                active=False,
                created_at=now,
                updated_at=now,
            )
        )
    db.session.flush()
