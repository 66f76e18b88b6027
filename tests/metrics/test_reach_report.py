"""The reach report for a known data set: exact figures, storage, XLSX and email."""

from __future__ import annotations

import io
import re
from datetime import UTC
from datetime import date
from datetime import datetime
from typing import Any

import openpyxl
import pytest

from engage.db import begin_write
from engage.extensions import db
from engage.metrics.models import Mention
from engage.metrics.models import MetricKind
from engage.metrics.models import ReachReport
from engage.metrics.models import ReportPeriod
from engage.metrics.models import Source
from engage.metrics.models import TargetPeriod
from engage.metrics.models import Tone
from engage.metrics.reach import send_reach_report
from engage.metrics.report import Period
from engage.metrics.report import compute_reach
from engage.metrics.report import last_complete_period
from engage.metrics.report import period_containing
from engage.metrics.report import reach_rows
from engage.metrics.report import target_status
from tests.factories import ActionFactory
from tests.factories import ActivityFactory
from tests.factories import ChannelFactory
from tests.factories import FeedFactory
from tests.factories import MetricFactory
from tests.factories import ObservationFactory
from tests.factories import UserFactory

NOW = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
OCTOBER = Period(ReportPeriod.MONTH, date(2026, 10, 1), date(2026, 10, 31))


@pytest.fixture
def data_set() -> None:
    newsletter = ChannelFactory(name="Newsletter")
    readers = MetricFactory(
        key="newsletter-readers",
        kind=MetricKind.FLOW,
        unit="readers",
        channel=newsletter,
        target_value=1000,
        target_period=TargetPeriod.MONTH,
    )
    for day, value in [
        (date(2026, 9, 5), 400),
        (date(2026, 9, 20), 500),
        (date(2026, 10, 3), 600),
        (date(2026, 10, 17), 700),
    ]:
        ObservationFactory(
            metric=readers, observed_on=day, value=value, source=Source.IMPORT
        )
    ObservationFactory(  # the import wins that day
        metric=readers, observed_on=date(2026, 10, 17), value=999, source=Source.SYSTEM
    )
    ObservationFactory(  # after the period
        metric=readers, observed_on=date(2026, 11, 1), value=5000, source=Source.IMPORT
    )
    followers = MetricFactory(
        key="followers",
        kind=MetricKind.LEVEL,
        target_value=5000,
        target_period=TargetPeriod.YEAR,
    )
    for day, value in [
        (date(2026, 9, 30), 4000),
        (date(2026, 10, 1), 4100),
        (date(2026, 10, 31), 4500),
    ]:
        ObservationFactory(
            metric=followers, observed_on=day, value=value, source=Source.MANUAL
        )
    complaints = MetricFactory(
        key="complaints",
        kind=MetricKind.FLOW,
        higher_is_better=False,
        target_value=10,
        target_period=TargetPeriod.QUARTER,
    )
    ObservationFactory(
        metric=complaints, observed_on=date(2026, 10, 10), value=2, source=Source.MANUAL
    )
    MetricFactory(key="web-visits", kind=MetricKind.FLOW)  # no data at all
    feed = FeedFactory(url="https://news.example/rss", name="Local news")
    for guid, day, tone in [
        ("m1", "2026-10-05", Tone.POSITIVE),
        ("m2", "2026-10-20", None),
        ("m3", "2026-09-28", Tone.NEGATIVE),
    ]:
        db.session.add(
            Mention(
                feed_id=feed.id,
                guid=guid,
                published_on=date.fromisoformat(day),
                title=f"Story {guid}",
                link=f"https://news.example/{guid}",
                tone=tone,
                found_at=NOW,
            )
        )
    action = ActionFactory(title="GP newsletter", channel=newsletter)
    for day, recipients in [(date(2026, 10, 3), 412), (date(2026, 9, 3), 400)]:
        ActivityFactory(
            action=action, occurred_on=day, figures={"recipients": recipients}
        )
    db.session.commit()


def test_periods_are_whole_weeks_and_months() -> None:
    assert last_complete_period(ReportPeriod.MONTH, date(2026, 11, 2)) == OCTOBER
    week = last_complete_period(ReportPeriod.WEEK, date(2026, 11, 2))  # a Monday
    assert (week.start, week.end) == (date(2026, 10, 26), date(2026, 11, 1))
    assert period_containing(ReportPeriod.MONTH, date(2026, 3, 15)).previous() == (
        Period(ReportPeriod.MONTH, date(2026, 2, 1), date(2026, 2, 28))
    )


def test_target_status_respects_direction() -> None:
    assert target_status(10, 5, True) == "met"
    assert target_status(10, 5, False) == "not met"
    assert target_status(None, 5, True) == "no data"
    assert target_status(3, None, True) == "no target"


@pytest.mark.usefixtures("data_set")
def test_the_report_has_the_expected_figures() -> None:
    figures = compute_reach(reach_rows(OCTOBER), OCTOBER)
    metrics = {m["key"]: m for m in figures["metrics"]}
    assert metrics["newsletter-readers"] == {
        "key": "newsletter-readers",
        "name": "Newsletter readers",
        "unit": "readers",
        "stage": "output",
        "kind": "flow",
        "channel": "Newsletter",
        "value": 1300.0,
        "previous": 900.0,
        "change": 400.0,
        "change_pct": 44.4,
        "target": 1000.0,
        "status": "met",
    }
    assert (metrics["followers"]["value"], metrics["followers"]["previous"]) == (
        4500.0,
        4000.0,
    )
    assert metrics["followers"]["change_pct"] == 12.5
    assert metrics["followers"]["status"] == "not met"
    assert metrics["complaints"]["target"] == round(10 * 31 / (365.25 / 4), 2)
    assert metrics["complaints"]["status"] == "met"
    assert metrics["complaints"]["change"] is None
    assert metrics["web-visits"]["status"] == "no target"
    assert metrics["web-visits"]["value"] is None
    assert figures["channels"] == [
        {
            "channel": "Newsletter",
            "unit": "readers",
            "value": 1300.0,
            "previous": 900.0,
            "change": 400.0,
            "change_pct": 44.4,
            "deliveries": 1,
        }
    ]
    assert figures["mentions"]["total"] == 2
    assert figures["mentions"]["counts"] == {
        "positive": 1,
        "neutral": 0,
        "negative": 0,
        "unset": 1,
    }
    assert [d["figures"] for d in figures["deliveries"]] == ["recipients 412"]


@pytest.mark.usefixtures("data_set")
def test_the_report_is_stored_and_mailed_once_to_subscribers(
    smtp_server: Any,
) -> None:
    officer = UserFactory(role="officer", reach_report_subscribed=True)
    lead = UserFactory(role="lead", reach_report_subscribed=True)
    UserFactory(role="lead")  # not subscribed
    UserFactory(role="admin", reach_report_subscribed=True)  # not a lead or officer
    UserFactory(role="officer", reach_report_subscribed=True, is_active=False)
    counts = send_reach_report("month", date(2026, 11, 2), now=NOW)
    db.session.commit()
    # The mail is being sent in the background (it writes to the outbox as it goes):
    # take the write lock first, as the job wrapper does when writers collide.
    begin_write(db.session())
    again = send_reach_report(ReportPeriod.MONTH, date(2026, 11, 15), now=NOW)
    db.session.commit()
    assert counts == {"reports": 1, "sent": 2}
    assert again == {"reports": 0, "sent": 0}
    assert sorted(m["To"] for m in smtp_server.messages) == sorted(
        [officer.email, lead.email]
    )
    message = smtp_server.messages[0]
    assert message["Subject"] == "Reach report: October 2026"
    text = message.get_body(("plain",)).get_content()
    assert (
        "Newsletter readers (output): 1,300 readers (before: 900, change +400 / "
        "+44.4%); target: 1,000 readers, Met"
    ) in text
    # Dates in the NHS style, in both parts of the email.
    assert "(1 October 2026 to 31 October 2026), compared with" in text
    assert "2026-10-01" not in text
    html = message.get_body(("html",)).get_content()
    assert "<h1>Reach report: October 2026</h1>" in html
    assert "Metrics, 1 October 2026 to 31 October 2026 against" in html
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == "reach-report-month-2026-10-01.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(attachment.get_content()))
    rows = list(book["Metrics"].iter_rows(values_only=True))
    assert rows[0][:5] == ("metric", "stage", "unit", "channel", "value")
    assert (
        "Newsletter readers",
        "output",
        "readers",
        "Newsletter",
        "1300",
        "900",
        "400",
        "44.4",
        "1,000 readers",
        "met",
    ) in rows
    assert book.sheetnames == [
        "Metrics",
        "Channels",
        "Rates",
        "Mentions",
        "Deliveries",
    ]
    report = db.session.query(ReachReport).one()
    assert (report.recipients, report.sent_at is not None) == (2, True)


@pytest.mark.usefixtures("data_set")
def test_reports_are_listed_shown_and_downloaded(
    client: Any, login: Any, cast: dict[str, Any], time_machine: Any
) -> None:
    # "The last whole month" is October for the whole of November, in UK time.
    time_machine.move_to(datetime(2026, 11, 30, 23, 59, tzinfo=UTC), tick=False)
    login(cast["officer"])
    response = client.post("/reports/new", data={"period": "month"})
    assert response.status_code == 302
    report = db.session.query(ReachReport).one()
    assert (report.start, report.end) == (OCTOBER.start, OCTOBER.end)
    assert client.get("/reports").status_code == 200
    page = client.get(f"/reports/{report.id}").get_data(as_text=True)
    assert "Newsletter readers" in page
    assert "+44.4%" in page
    assert "Metrics, 1 October 2026 to 31 October 2026 against" in page
    assert not re.search(r"\d{4}-\d{2}-\d{2}", page.split("<main", 1)[1])
    download = client.get(f"/reports/{report.id}/report.xlsx")
    assert download.mimetype.endswith("spreadsheetml.sheet")
    openpyxl.load_workbook(io.BytesIO(download.data))


def test_the_account_page_sets_the_report_preference(
    client: Any, login: Any, cast: dict[str, Any]
) -> None:
    login(cast["lead"])
    assert "Send me the reach report" in client.get("/account").get_data(as_text=True)
    client.post("/reports/subscription", data={"subscribed": "yes"})
    db.session.refresh(cast["lead"])
    assert cast["lead"].reach_report_subscribed
    assert "Stop sending me" in client.get("/account").get_data(as_text=True)
