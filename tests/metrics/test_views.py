"""Metric, feed and import pages: who may do what, the chart and its table, imports."""

from __future__ import annotations

import io
import re
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from flask import Flask
from sqlalchemy import func
from sqlalchemy import select

from engage.clock import today
from engage.extensions import db
from engage.metrics.models import Feed
from engage.metrics.models import Metric
from engage.metrics.models import Observation
from engage.metrics.models import Source
from tests.factories import FeedFactory
from tests.factories import MetricFactory
from tests.factories import ObservationFactory
from tests.pager import pager_links

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def _values() -> list[tuple[str, str, float, Source]]:
    db.session.rollback()
    return [
        (key, o.observed_on.isoformat(), o.value, o.source)
        for key, o in db.session.execute(
            select(Metric.key, Observation)
            .join(Observation)
            .order_by(Metric.key, Observation.observed_on)
        ).all()
    ]


def test_officers_define_metrics_and_record_values(
    client: Any, login: Any, cast: dict[str, Any]
) -> None:
    login(cast["officer"])
    response = client.post(
        "/metrics/new",
        data={
            "key": "followers",
            "name": "Followers",
            "unit": "followers",
            "stage": "output",
            "kind": "level",
            "higher_is_better": "y",
            "target_value": "5000",
            "target_period": "year",
        },
    )
    assert response.status_code == 302
    metric = db.session.scalar(select(Metric).where(Metric.key == "followers"))
    assert metric is not None
    assert metric.target_value == 5000
    for value in ("4100", "4200"):
        client.post(
            f"/metrics/{metric.id}/observations",
            data={"observed_on": "2026-10-01", "value": value},
        )
    assert _values() == [("followers", "2026-10-01", 4200.0, Source.MANUAL)]
    bad = client.post(
        f"/metrics/{metric.id}/observations",
        data={"observed_on": "2026-10-01", "value": "lots"},
    )
    assert bad.status_code == 400
    edit = client.post(
        f"/metrics/{metric.id}/edit",
        data={
            "key": "followers",
            "name": "Social followers",
            "unit": "followers",
            "stage": "output",
            "kind": "level",
            "target_value": "",
            "target_period": "",
        },
    )
    assert edit.status_code == 302
    db.session.refresh(metric)
    assert (metric.name, metric.target_value, metric.higher_is_better) == (
        "Social followers",
        None,
        False,
    )


def test_the_metric_page_has_a_chart_with_its_data_table(
    client: Any, login: Any, cast: dict[str, Any]
) -> None:
    metric = MetricFactory(key="web-visits", name="Web visits")
    for day, value in [(date(2026, 10, 1), 10), (date(2026, 10, 2), 12)]:
        ObservationFactory(
            metric=metric, observed_on=day, value=value, source=Source.IMPORT
        )
    login(cast["lead"])
    response = client.get(f"/metrics/{metric.id}")
    page = response.get_data(as_text=True)
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"])
    assert nonce is not None
    assert re.search(
        rf'<script nonce="{nonce.group(1)}" '
        r'src="/static/js/metric-chart\.\w{12}\.js">',
        page,
    )
    assert re.search(r"vendor/chartjs/chart\.umd\.min\.\w{12}\.js", page)
    assert '"dates": ["2026-10-01", "2026-10-02"]' in page
    # The chart's axis and the table read dates in the NHS style, never ISO.
    assert '"labels": ["1 October 2026", "2 October 2026"]' in page
    assert "from 1 October 2026 to 2 October 2026" in page
    assert ">2 October 2026</td>" in page
    assert '<canvas id="metric-chart" role="img"' in page
    assert '<caption class="nhsuk-table__caption">Values of Web visits' in page
    assert "Record a value" not in page  # leads read only
    assert client.post(f"/metrics/{metric.id}/observations").status_code == 403


def test_static_chart_script_exists() -> None:
    root = Path(__file__).resolve().parents[2] / "static"
    assert (root / "js" / "metric-chart.js").is_file()
    assert (root / "vendor" / "chartjs" / "chart.umd.min.js").is_file()


def test_feed_pages_validate_the_address(
    client: Any, login: Any, cast: dict[str, Any]
) -> None:
    login(cast["officer"])
    response = client.post(
        "/feeds/new",
        data={
            "name": "Metadata",
            "url": "http://169.254.169.254/latest/",
            "phrases": "x",
        },
    )
    assert response.status_code == 200
    assert "private or local network" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Feed.id))) == 0


def test_officers_set_the_tone_of_a_mention(
    client: Any, login: Any, cast: dict[str, Any]
) -> None:
    from engage.metrics.models import Mention
    from engage.metrics.models import Tone

    feed = FeedFactory(url="https://news.example/rss", name="News")
    mention = Mention(
        feed_id=feed.id,
        guid="g",
        published_on=date(2026, 11, 1),
        title="Story",
        found_at=NOW,
    )
    db.session.add(mention)
    db.session.commit()
    login(cast["officer"])
    response = client.post(
        f"/feeds/mentions/{mention.id}/tone",
        data={"tone": "negative", "back": "/feeds/mentions"},
    )
    assert response.status_code == 302
    db.session.refresh(mention)
    assert mention.tone is Tone.NEGATIVE
    filtered = client.get("/feeds/mentions?tone=negative").get_data(as_text=True)
    assert "Story" in filtered
    assert "Story" not in client.get("/feeds/mentions?tone=positive").get_data(
        as_text=True
    )
    # "back" is only ever a path on this site (docs/security.md B6: no open redirect).
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = client.post(
            f"/feeds/mentions/{mention.id}/tone",
            data={"tone": "positive", "back": target},
        )
        assert response.headers["Location"] == "/feeds/mentions", target


def test_mentions_are_listed_a_page_at_a_time_newest_first(
    client: Any, login: Any, cast: dict[str, Any]
) -> None:
    from engage.metrics.models import Mention
    from engage.metrics.models import Tone

    feed = FeedFactory(url="https://news.example/rss", name="News")
    # Sixty on one day (ties on the date), and one older: 61 negative, 1 positive.
    db.session.add_all(
        Mention(
            feed_id=feed.id,
            guid=f"g{index}",
            published_on=date(2026, 11, 1 if index < 60 else 2),
            title=f"Story {index:02}",
            tone=Tone.NEGATIVE if index < 61 else Tone.POSITIVE,
            found_at=NOW,
        )
        for index in range(62)
    )
    db.session.commit()
    login(cast["officer"])
    first = client.get("/feeds/mentions?tone=negative").get_data(as_text=True)
    assert "61 mentions, newest first" in first
    stories = re.findall(r"Story \d\d", first)
    # The newer day first, then the same day's in the order they were found.
    assert stories[:2] == ["Story 60", "Story 59"]
    assert len(stories) == 50
    links = pager_links(first)
    assert "tone=negative" in links["next"]
    second = client.get(links["next"]).get_data(as_text=True)
    assert re.findall(r"Story \d\d", second) == [
        f"Story {index:02}" for index in range(10, -1, -1)
    ]
    assert "Story 61" not in second  # the positive one stays filtered out
    # Saving a tone comes back to the same page.
    assert f'name="back" value="{links["next"]}"'.replace("&", "&amp;") in second
    assert client.get("/feeds/mentions?after=nonsense").status_code == 200


CSV = (
    b"metric,date,value,note\n"
    b"web-visits,2026-10-01,1250,GA\n"
    b"web-visits,2026-10-02,1300,\n"
)


def test_observations_import_through_the_web_page_is_idempotent(
    client: Any, login: Any, cast: dict[str, Any]
) -> None:
    MetricFactory(key="web-visits", name="Website visits")
    login(cast["officer"])
    preview = client.post(
        "/observations/import",
        data={"file": (io.BytesIO(CSV), "values.csv")},
        content_type="multipart/form-data",
    )
    page = preview.get_data(as_text=True)
    # Each row named by the metric and the day, in words.
    assert 'class="nhsuk-table__header">Metric value</th>' in page
    assert "Website visits, 1 October 2026" in page
    assert "2026-10-01" not in page
    pending = re.search(r"/observations/import/(\d+)", page)
    assert pending is not None
    done = client.post(f"/observations/import/{pending.group(1)}")
    assert done.status_code == 302
    assert done.location.endswith("/metrics")
    again = client.post(
        "/observations/import",
        data={"file": (io.BytesIO(CSV), "values.csv")},
        content_type="multipart/form-data",
    )
    assert "Nothing to import" in again.get_data(as_text=True)
    assert _values() == [
        ("web-visits", "2026-10-01", 1250.0, Source.IMPORT),
        ("web-visits", "2026-10-02", 1300.0, Source.IMPORT),
    ]


def test_an_imported_value_dated_after_today_is_refused(
    client: Any, login: Any, cast: dict[str, Any]
) -> None:
    MetricFactory(key="web-visits", name="Website visits")
    login(cast["officer"])
    tomorrow = (today() + timedelta(days=1)).isoformat()
    content = f"metric,date,value\nweb-visits,{tomorrow},5\n".encode()
    page = client.post(
        "/observations/import",
        data={"file": (io.BytesIO(content), "values.csv")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert "The date cannot be in the future." in page
    assert _values() == []


def test_observations_export_keeps_every_digit_and_imports_back_unchanged(
    client: Any, login: Any, cast: dict[str, Any]
) -> None:
    MetricFactory(key="impressions")
    login(cast["officer"])
    given = (
        b"metric,date,value\n"
        b"impressions,2026-10-01,1234567\n"
        b"impressions,2026-10-02,0.25\n"
    )
    preview = client.post(
        "/observations/import",
        data={"file": (io.BytesIO(given), "values.csv")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    pending = re.search(r"/observations/import/(\d+)", preview)
    assert pending is not None
    client.post(f"/observations/import/{pending.group(1)}")

    exported = client.get("/observations/export.csv").get_data(as_text=True)
    assert "impressions,2026-10-01,1234567," in exported
    assert "impressions,2026-10-02,0.25," in exported
    workbook = client.get("/observations/export.xlsx").get_data()
    sheet = openpyxl.load_workbook(io.BytesIO(workbook)).active
    assert [row[2] for row in sheet.iter_rows(min_row=2, values_only=True)] == [
        1234567,
        0.25,
    ]
    again = client.post(
        "/observations/import",
        data={"file": (io.BytesIO(exported.encode()), "values.csv")},
        content_type="multipart/form-data",
    )
    assert "Nothing to import" in again.get_data(as_text=True)


def test_observations_import_reports_row_errors(
    client: Any, login: Any, cast: dict[str, Any]
) -> None:
    MetricFactory(key="web-visits")
    login(cast["officer"])
    bad = b"metric,date,value\nnope,2026-10-01,1\nweb-visits,31 October 2026,x\n"
    page = client.post(
        "/observations/import",
        data={"file": (io.BytesIO(bad), "values.csv")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert "There is no metric with the key “nope”." in page
    assert "The value must be a number, not “x”." in page
    assert "must be a date written like 31/07/2026 or 2026-07-31" in page


@pytest.mark.parametrize("dry_run", [True, False])
def test_engage_import_observations(app: Flask, tmp_path: Path, dry_run: bool) -> None:
    MetricFactory(key="web-visits")
    path = tmp_path / "values.csv"
    path.write_bytes(CSV)
    args = ["import", "observations", str(path)] + (["--dry-run"] if dry_run else [])
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    assert len(_values()) == (0 if dry_run else 2)
    if not dry_run:
        again = app.test_cli_runner().invoke(args=args)
        assert "0 created, 0 updated, 2 unchanged" in again.output


def test_feed_times_are_uk_time_in_nhs_style(
    client: Any, login: Any, cast: dict[str, Any]
) -> None:
    # 14:05 UTC on 2 June is 3:05pm in the UK (BST).
    polled = datetime(2026, 6, 2, 14, 5, tzinfo=UTC)
    feed = FeedFactory(name="Local news", last_polled_at=polled, last_success_at=polled)
    db.session.commit()
    login(cast["lead"])
    for path in ("/feeds", f"/feeds/{feed.id}"):
        page = client.get(path).get_data(as_text=True)
        assert "2 June 2026 at 3:05pm" in page, path
        assert "UTC" not in page, path
        assert "2026-06-02" not in page, path
