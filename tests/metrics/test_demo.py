"""Demo measures of reach: a year of values and an inactive feed, safe to load twice."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func
from sqlalchemy import select

from engage.extensions import db
from engage.metrics.models import Feed
from engage.metrics.models import Metric
from engage.metrics.models import Observation


def _counts() -> tuple[int, int, int]:
    db.session.rollback()
    return (
        db.session.scalar(select(func.count(Metric.id))) or 0,
        db.session.scalar(select(func.count(Observation.id))) or 0,
        db.session.scalar(select(func.count(Feed.id))) or 0,
    )


def test_demo_metrics_load_twice_without_duplicates(app: Flask) -> None:
    runner = app.test_cli_runner()
    assert runner.invoke(args=["load-demo"]).exit_code == 0
    first = _counts()
    assert runner.invoke(args=["load-demo"]).exit_code == 0
    assert _counts() == first
    metrics, observations, feeds = first
    assert metrics == 3
    assert 12 + 52 + 52 <= observations <= 13 + 53 + 53  # a year: monthly, weekly
    assert feeds == 1
    feed = db.session.scalar(select(Feed))
    assert feed is not None
    assert not feed.active
    readers = db.session.scalar(select(Metric).where(Metric.key == "web-visits"))
    assert readers is not None
    assert readers.channel is not None
    assert readers.channel.name == "Website"
