"""Measures of reach in real Chromium: the chart draws, and the pages pass axe."""

from __future__ import annotations

from datetime import date
from datetime import timedelta
from typing import Any

from playwright.sync_api import expect

from engage.clock import utcnow
from engage.extensions import db
from engage.metrics.models import Feed
from engage.metrics.models import Mention
from engage.metrics.models import Metric
from engage.metrics.models import MetricKind
from engage.metrics.models import Observation
from engage.metrics.models import Source
from tests.browser.conftest import assert_accessible
from tests.browser.test_plan import _sign_in
from tests.factories import UserFactory


def _data() -> Metric:
    now = utcnow()
    metric = Metric(
        key="followers",
        name="Followers",
        unit="followers",
        kind=MetricKind.LEVEL,
        created_at=now,
        updated_at=now,
    )
    db.session.add(metric)
    db.session.flush()
    for n in range(6):
        db.session.add(
            Observation(
                metric_id=metric.id,
                observed_on=date(2026, 6, 1) + timedelta(weeks=n),
                value=100 + n * 10,
                source=Source.IMPORT,
                recorded_at=now,
            )
        )
    feed = Feed(
        url="https://news.example/rss", name="News", created_at=now, updated_at=now
    )
    db.session.add(feed)
    db.session.flush()
    db.session.add(
        Mention(
            feed_id=feed.id,
            guid="g1",
            published_on=date(2026, 6, 3),
            title="<script>alert(1)</script> Engage",
            link="https://news.example/1",
            summary="Engage",
            found_at=now,
        )
    )
    db.session.commit()
    return metric


def test_the_metric_chart_draws_and_the_pages_are_accessible(page: Any) -> None:
    metric = _data()
    officer = UserFactory(role="officer")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    _sign_in(page, officer)
    page.goto(f"/metrics/{metric.id}")
    expect(page.locator("#metric-chart")).to_be_visible()
    expect(page.locator("table").first).to_contain_text("1 June 2026")
    assert_accessible(page)
    page.goto("/metrics")
    assert_accessible(page)
    page.goto("/feeds")
    assert_accessible(page)
    page.goto("/feeds/mentions")
    expect(
        page.get_by_role("link", name="<script>alert(1)</script> Engage")
    ).to_be_visible()
    assert_accessible(page)
    page.goto("/reports")
    page.get_by_role("button", name="Make report").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Reach report")
    assert_accessible(page)
    assert errors == []
