"""Honest measurement: reach counts outputs only; opens are a rate of recipients.

A delivery logged with recipients 412 and opens 188 has reach 412 and an open rate
of 45.6% on the dashboard, in the board report, in the API summary and in the reach
report (page, email and workbook), never 600.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

import openpyxl
import pytest
from flask import render_template
from flask.testing import FlaskClient

from engage.api.tokens import create_api_token
from engage.clock import today
from engage.clock import utcnow
from engage.extensions import db
from engage.metrics.models import Metric
from engage.metrics.models import MetricKind
from engage.metrics.models import ReachLabel
from engage.metrics.models import ReportPeriod
from engage.metrics.models import Stage
from engage.metrics.models import TargetPeriod
from engage.metrics.reach import make_reach_report
from engage.metrics.report import period_containing
from engage.metrics.report import report_xlsx
from engage.metrics.stages import default_setting
from engage.metrics.stages import measure_deliveries
from tests import factories


def _quarter() -> str:
    day = today()
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def _text(html: str) -> str:
    """The page's words, without tags, on one line."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _dashboard_words(client: FlaskClient) -> str:
    """The words of this quarter's dashboard, as the signed-in user sees it."""
    return _text(
        client.get(f"/dashboard/?period=quarter&value={_quarter()}").get_data(
            as_text=True
        )
    )


@pytest.fixture
def delivery(client: FlaskClient, login: Any, cast: dict[str, Any]) -> Any:
    """An officer logs a newsletter: recipients 412, opens 188 (through the form)."""
    channel = factories.ChannelFactory(name="Newsletter")
    action = factories.ActionFactory(
        title="GP newsletter", channel=channel, owners=[cast["officer"]]
    )
    login(cast["officer"])
    response = client.post(
        f"/actions/{action.id}/deliveries/new",
        data={
            "occurred_on": today().isoformat(),
            "description": "December issue",
            "figures-0-measure": "recipients",
            "figures-0-number": "412",
            "figures-1-measure": "opens",
            "figures-1-number": "188",
        },
    )
    assert response.status_code == 302
    client.post("/logout")
    return action


@pytest.mark.usefixtures("delivery")
def test_dashboard_shows_reach_412_and_an_open_rate_never_600(
    client: FlaskClient, login: Any, cast: dict[str, Any]
) -> None:
    login(cast["lead"])
    words = _dashboard_words(client)
    assert "412 Reach: recipients" in words
    assert "45.6% Open rate (opens ÷ recipients)" in words
    # Reach by channel (the metrics made from the delivery's figures): outputs only.
    assert "412 Reach: Newsletter (recipients)" in words
    assert "600" not in words
    assert "788" not in words  # 600 + 188: nothing is added twice either


@pytest.mark.usefixtures("delivery")
def test_board_report_shows_reach_412_and_the_open_rate(
    client: FlaskClient, login: Any, cast: dict[str, Any]
) -> None:
    login(cast["lead"])
    words = _text(
        client.get(f"/dashboard/board-report?quarter={_quarter()}").get_data(
            as_text=True
        )
    )
    # The first page's table of headline figures: figure, then this period's value.
    assert "Reach: recipients 412" in words
    assert "Open rate (opens ÷ recipients) 45.6%" in words
    assert "600" not in words
    book = openpyxl.load_workbook(
        io.BytesIO(
            client.get(f"/dashboard/board-report.xlsx?quarter={_quarter()}").data
        )
    )
    summary = list(book["Summary"].iter_rows(values_only=True))
    figures = {row[1]: (row[2], row[6]) for row in summary[1:]}
    assert figures["Reach: recipients"] == (412, "recipients")
    assert figures["Open rate (opens ÷ recipients)"] == (45.6, "%")
    assert 600 not in [cell for row in summary for cell in row]


@pytest.mark.usefixtures("delivery")
def test_api_summary_gives_reach_412_and_the_open_rate(
    client: FlaskClient, cast: dict[str, Any]
) -> None:
    _, secret = create_api_token(cast["lead"], name="Board pack", now=utcnow())
    db.session.commit()
    body = client.get(
        f"/api/v1/summary?period=quarter&value={_quarter()}",
        headers={"Authorization": f"Bearer {secret}"},
    ).get_json()
    figures = {f["key"]: f for section in body["sections"] for f in section["figures"]}
    assert figures["reach_recipients"]["value"] == 412
    assert figures["reach_recipients"]["stage"] == "output"
    assert (figures["rate_opens"]["value"], figures["rate_opens"]["unit"]) == (
        45.6,
        "%",
    )
    assert figures["metric_reach_1"]["value"] == 412
    assert "reach_opens" not in figures
    values = [f["value"] for f in figures.values()]
    values += [
        cell
        for section in body["sections"]
        for table in section["tables"]
        for row in table["rows"]
        for cell in row
    ]
    assert 600 not in values


@pytest.mark.usefixtures("delivery")
def test_reach_report_shows_reach_412_and_the_open_rate(
    client: FlaskClient, login: Any, cast: dict[str, Any]
) -> None:
    period = period_containing(ReportPeriod.MONTH, today())
    report = make_reach_report(period, now=utcnow())
    db.session.commit()
    channels = report.figures["channels"]
    assert [(c["channel"], c["unit"], c["value"]) for c in channels] == [
        ("Newsletter", "recipients", 412.0)
    ]
    (opens,) = report.figures["rates"]
    assert (opens["name"], opens["stage"], opens["rate"], opens["of"]) == (
        "Open rate",
        "outtake",
        45.6,
        412,
    )
    login(cast["lead"])
    words = _text(client.get(f"/reports/{report.id}").get_data(as_text=True))
    assert "Newsletter recipients 412" in words
    assert "Open rate Outtake 188 45.6% of 412 recipients" in words
    assert "600" not in words
    context = {"report": report, "figures": report.figures, "user": cast["lead"]}
    text = render_template("metrics/email/reach_report.txt", **context)
    assert "- Newsletter: 412 recipients" in text
    assert "Open rate (outtake) 45.6% (188 of 412 recipients)" in text
    assert "600" not in text
    html = _text(render_template("metrics/email/reach_report.html", **context))
    assert "45.6% of 412 recipients" in html
    assert "600" not in html
    book = openpyxl.load_workbook(io.BytesIO(report_xlsx(report.figures)))
    assert list(book["Channels"].iter_rows(values_only=True))[1][:3] == (
        "Newsletter",
        "recipients",
        "412",
    )
    assert list(book["Rates"].iter_rows(values_only=True))[1] == (
        "Newsletter",
        "Open rate",
        "outtake",
        "188",
        "412 recipients",
        "45.6%",
    )


def test_opens_without_recipients_are_a_count_labelled_with_their_stage(
    client: FlaskClient, login: Any, cast: dict[str, Any]
) -> None:
    action = factories.ActionFactory(channel=factories.ChannelFactory(name="Social"))
    factories.ActivityFactory(action=action, figures={"opens": 50})
    factories.ActivityFactory(action=action, figures={"attendees": 30})
    login(cast["lead"])
    words = _dashboard_words(client)
    assert "50 Opens (outtake, not reach)" in words
    assert "30 Attendees (outtake, not reach)" in words
    assert "Reach: opens" not in words
    assert "Open rate" not in words


@pytest.mark.usefixtures("delivery")
def test_opens_on_a_channel_without_an_open_rate_say_so_beside_the_rate(
    client: FlaskClient, login: Any, cast: dict[str, Any]
) -> None:
    """The newsletter's opens are a rate of its recipients; the social channel's
    opens, with no recipients, are a count, named as the others' opens."""
    action = factories.ActionFactory(channel=factories.ChannelFactory(name="Social"))
    factories.ActivityFactory(action=action, figures={"opens": 50})
    login(cast["lead"])
    words = _dashboard_words(client)
    assert "45.6% Open rate (opens ÷ recipients)" in words
    assert "50 Opens on channels without an open rate (outtake, not reach)" in words


def test_a_rate_counts_only_the_deliveries_that_record_both() -> None:
    settings = {label: default_setting(label) for label in ("recipients", "opens")}
    (newsletter,) = measure_deliveries(
        [
            ("Newsletter", [("recipients", 412), ("Opens", 188)]),
            ("Newsletter", [("recipients", 300)]),  # no opens recorded
            ("Newsletter", [("opens", 20)]),  # no recipients recorded
        ],
        settings,
    )
    assert newsletter.reach == {"recipients": 712}
    rate = newsletter.rates["opens"]
    assert (rate.numerator, rate.denominator, rate.value) == (188, 412, 45.6)
    assert newsletter.counts["opens"][1] == 208


def test_targets_show_in_the_metrics_unit_with_met_in_colour_and_words(
    client: FlaskClient, login: Any, cast: dict[str, Any]
) -> None:
    channel = factories.ChannelFactory(name="Newsletter")
    readers = factories.MetricFactory(
        key="newsletter-readers",
        name="Newsletter readership",
        unit="readers",
        kind=MetricKind.FLOW,
        target_value=13600,
        target_period=TargetPeriod.QUARTER,
        channel=channel,
    )
    # Last month, a whole one (this month's target would be scaled to its days so far).
    last_month = today().replace(day=1) - timedelta(days=1)
    factories.ObservationFactory(metric=readers, observed_on=last_month, value=1)
    login(cast["lead"])
    html = client.get("/dashboard/?period=month&value=" + last_month.strftime("%Y-%m"))
    page = html.get_data(as_text=True)
    # 13,600 a quarter scaled to the month's days: whole readers, never 4,533.88.
    assert re.search(r">\d,\d{3} readers<", page)
    assert not re.search(r"\d,\d{3}\.\d", page)
    assert '<strong class="nhsuk-tag nhsuk-tag--red">Not met</strong>' in page


def test_admins_change_a_labels_stage_and_the_figures_follow(
    client: FlaskClient, login: Any, cast: dict[str, Any], delivery: Any
) -> None:
    labels = {row.label: row for row in db.session.query(ReachLabel)}
    # Logging the delivery saved its labels with their defaults.
    assert (labels["opens"].stage, labels["opens"].rate_of) == (
        Stage.OUTTAKE,
        "recipients",
    )
    login(cast["admin"])
    page = client.get("/admin/reach-labels/").get_data(as_text=True)
    assert "Reach figure labels" in page
    assert "A rate of recipients" in page
    assert "/admin/reach-labels/" in client.get("/admin/").get_data(as_text=True)
    edit = f"/admin/reach-labels/{labels['opens'].id}/edit"
    # An output is reach: it cannot be a rate of anything.
    refused = client.post(
        edit, data={"stage": "output", "unit": "opens", "rate_of": "recipients"}
    )
    assert refused.status_code == 200
    assert "An output is reach, not a rate" in refused.get_data(as_text=True)
    # A unit must be given, and a rate must be one offered.
    assert client.post(edit, data={"stage": "outtake", "unit": ""}).status_code == 200
    bad = client.post(edit, data={"stage": "outtake", "unit": "x", "rate_of": "zzz"})
    assert "Select one of the options shown" in bad.get_data(as_text=True)
    saved = client.post(edit, data={"stage": "output", "unit": "opens", "rate_of": ""})
    assert saved.status_code == 302
    db.session.refresh(labels["opens"])
    assert labels["opens"].stage is Stage.OUTPUT
    metric = db.session.query(Metric).filter_by(key="reach-newsletter-opens").one()
    assert (metric.stage, metric.unit) == (Stage.OUTPUT, "opens")
    words = _dashboard_words(client)
    # Now opens are reach in their own unit: still never added to recipients.
    assert "188 Reach: opens" in words
    assert "412 Reach: recipients" in words
    assert "Open rate" not in words
    assert "600" not in words


def test_adding_a_label_and_refusing_one_already_set_up(
    client: FlaskClient, login: Any, cast: dict[str, Any]
) -> None:
    login(cast["admin"])
    data = {
        "label": "Webinar registrations",
        "stage": "outcome",
        "unit": "registrations",
    }
    form = client.get("/admin/reach-labels/new?label=podcast%20plays")
    assert 'value="podcast plays"' in form.get_data(as_text=True)
    assert client.post("/admin/reach-labels/new", data=data).status_code == 302
    row = db.session.query(ReachLabel).filter_by(label="webinar registrations").one()
    assert (row.stage, row.unit, row.rate_of) == (Stage.OUTCOME, "registrations", "")
    # In another unit: the same form sent twice would only lead to the first.
    again = client.post("/admin/reach-labels/new", data={**data, "unit": "sign-ups"})
    assert again.status_code == 200
    assert "already set up" in again.get_data(as_text=True)
    for role in ("officer", "lead"):
        client.post("/logout")
        login(cast[role])
        assert client.get("/admin/reach-labels/").status_code == 403


def test_a_label_of_a_hundred_characters_is_logged_with_a_unit_that_fits(
    client: FlaskClient, login: Any, cast: dict[str, Any]
) -> None:
    label = (
        "people who stopped at the stand in the hospital atrium and took a leaflet away"
    )
    label = (label + " with them today")[:100]
    action = factories.ActionFactory(owners=[cast["officer"]])
    login(cast["officer"])
    response = client.post(
        f"/actions/{action.id}/deliveries/new",
        data={
            "occurred_on": today().isoformat(),
            "description": "Atrium stand",
            "figures-0-measure": label,
            "figures-0-number": "75",
        },
    )
    assert response.status_code == 302
    (row,) = [r for r in db.session.query(ReachLabel) if r.label == label]
    assert row.unit == label[:50].rstrip()
