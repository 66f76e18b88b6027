"""Demo measures of reach: a year of values and a stored feed, safe to load twice."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func
from sqlalchemy import select

from engage.extensions import db
from engage.metrics.demo import DEMO_MENTIONS
from engage.metrics.models import Feed
from engage.metrics.models import Mention
from engage.metrics.models import Metric
from engage.metrics.models import Observation


def _counts() -> tuple[int, int, int, int]:
    db.session.rollback()
    return (
        db.session.scalar(select(func.count(Metric.id))) or 0,
        db.session.scalar(select(func.count(Observation.id))) or 0,
        db.session.scalar(select(func.count(Feed.id))) or 0,
        db.session.scalar(select(func.count(Mention.id))) or 0,
    )


def test_demo_metrics_load_twice_without_duplicates(app: Flask) -> None:
    runner = app.test_cli_runner()
    assert runner.invoke(args=["load-demo"]).exit_code == 0
    first = _counts()
    assert runner.invoke(args=["load-demo"]).exit_code == 0
    assert _counts() == first
    metrics, observations, feeds, mentions = first
    assert metrics == 4
    # A year: two metrics monthly (11 or 12 values), two weekly (52 or 53).
    assert 11 + 11 + 52 + 52 <= observations <= 12 + 12 + 53 + 53
    assert feeds == 1
    assert mentions == len(DEMO_MENTIONS)
    feed = db.session.scalar(select(Feed))
    assert feed is not None
    assert not feed.active  # never polled: the demo needs no network
    visits = db.session.scalar(select(Metric).where(Metric.key == "web-visits"))
    assert visits is not None
    assert visits.channel is not None
    assert visits.channel.name == "Website"
