"""Dashboard and board report pages: filters, tables, print, workbook, escaping."""

from __future__ import annotations

import io
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta
from typing import Any

import openpyxl

from engage.audit.models import AuditEvent
from engage.clock import today
from engage.clock import utcnow
from engage.dashboard import periods
from engage.extensions import db
from engage.surveys.models import Finding
from tests import factories


def test_dashboard_shows_every_section_with_tables(client, login, cast) -> None:
    factories.ActivityFactory(occurred_on=date(2026, 8, 3), figures={"recipients": 412})
    login(cast["lead"])
    response = client.get("/dashboard/?period=quarter&value=2026-Q3")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    for heading in (
        "Action plan",
        "Deliveries and reach",
        "Audiences",
        "PPI membership",
        "Reach metrics",
        "Media mentions",
        "Surveys",
    ):
        assert f">{heading}</h2>" in html
    assert "Q3 2026 (July to September)" in html
    assert 'id="table-reach_by_channel"' in html
    assert "data-chart='" in html
    assert "412" in html
    # Representativeness (equality aggregates) is for admins only.
    assert "Membership representativeness" not in html


def test_dashboard_representativeness_for_admins_is_audited(
    client, login, cast
) -> None:
    login(cast["admin"])
    html = client.get("/dashboard/").get_data(as_text=True)
    assert "Membership representativeness" in html
    assert db.session.scalar(
        db.select(AuditEvent).where(AuditEvent.entity_type == "equality_report")
    )


def test_dashboard_bad_period_shows_an_error_and_the_current_one(
    client, login, cast
) -> None:
    login(cast["officer"])
    response = client.get("/dashboard/?period=month&value=2026-13")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "nhsuk-error-summary" in html
    assert "Choose a month from the list" in html


def test_dashboard_custom_period(client, login, cast) -> None:
    factories.ActivityFactory(occurred_on=date(2026, 8, 3))
    login(cast["lead"])
    html = client.get(
        "/dashboard/?period=custom&start=2026-08-01&end=2026-08-31"
    ).get_data(as_text=True)
    assert "1 August 2026 to 31 August 2026" in html


def test_chart_data_is_escaped_in_the_attribute(client, login, cast) -> None:
    factories.ChannelFactory(name="x'><script>alert(1)</script>")
    action = factories.ActionFactory(
        channel=factories.ChannelFactory(name="x'><script>alert(1)</script>")
    )
    factories.ActivityFactory(action=action, occurred_on=utcnow().date())
    login(cast["lead"])
    html = client.get("/dashboard/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "\\u003cscript\\u003e" in html


def test_board_report_is_printable_with_evidence_log(client, login, cast) -> None:
    factories.ActivityFactory(
        action__title="GP newsletter",
        occurred_on=date(2026, 8, 3),
        notes="Good feedback from the LMC",
        audiences=[factories.AudienceFactory(name="GPs")],
    )
    login(cast["lead"])
    response = client.get("/dashboard/board-report?quarter=2026-Q3")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Engagement report to the board" in html
    assert "Evidence log of involvement activities" in html
    assert "Good feedback from the LMC" in html
    assert "GP newsletter" in html
    assert "GPs" in html
    assert "data-print hidden" in html  # shown by JS; the note covers no-JS
    assert "use your browser's Print command" in html
    assert "You said, we did" in html


def _findings() -> None:
    """Published and unpublished findings in and out of Q3 2026."""
    action = factories.ActionFactory(title="Extended GP hours")

    def at(day: str) -> datetime:
        return datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC)

    closed_in_q3 = factories.SurveyFactory(
        title="Access survey", closes_at=at("2026-07-15")
    )
    still_open = factories.SurveyFactory(title="Maternity survey")
    closed_in_q2 = factories.SurveyFactory(
        title="Old survey", closes_at=at("2026-05-31")
    )
    for survey, theme, you_said, published, day, actions in [
        (
            closed_in_q3,
            "Access",
            "Appointments are hard to get",
            True,
            "2026-05-01",
            [],
        ),
        (still_open, "Hours", "Open later", True, "2026-08-10", [action]),
        (still_open, "Parking", "Unpublished draft finding", False, "2026-08-11", []),
        (
            closed_in_q2,
            "Signs",
            "Finding of an earlier quarter",
            True,
            "2026-06-01",
            [],
        ),
    ]:
        finding = Finding(
            survey_id=survey.id,
            theme=theme,
            you_said=you_said,
            we_did=f"We acted on {theme.lower()}",
            published=published,
            created_at=at(day),
            updated_at=at(day),
        )
        finding.actions = actions
        db.session.add(finding)
    db.session.commit()


def test_board_report_has_the_quarters_you_said_we_did(client, login, cast) -> None:
    _findings()
    login(cast["lead"])
    html = client.get("/dashboard/board-report?quarter=2026-Q3").get_data(as_text=True)
    assert 'id="table-you-said-we-did"' in html
    # Of a survey that closed in Q3 (added earlier), and one added in Q3.
    assert "Appointments are hard to get" in html
    assert "Open later" in html
    assert "We acted on hours" in html
    assert "Extended GP hours" in html
    # Unpublished, or of another quarter: left out.
    assert "Unpublished draft finding" not in html
    assert "Finding of an earlier quarter" not in html
    book = openpyxl.load_workbook(
        io.BytesIO(client.get("/dashboard/board-report.xlsx?quarter=2026-Q3").data)
    )
    rows = list(book["You said, we did"].iter_rows(values_only=True))
    assert rows == [
        ("Survey", "Theme", "You said", "We did", "Actions"),
        (
            "Access survey",
            "Access",
            "Appointments are hard to get",
            "We acted on access",
            None,
        ),
        (
            "Maternity survey",
            "Hours",
            "Open later",
            "We acted on hours",
            "Extended GP hours",
        ),
    ]
    html = client.get("/dashboard/board-report?quarter=2026-Q2").get_data(as_text=True)
    assert "Finding of an earlier quarter" in html
    assert "Open later" not in html


def test_board_report_bad_quarter_falls_back_to_the_current_one(
    client, login, cast
) -> None:
    factories.ActivityFactory(occurred_on=today(), notes="Logged this quarter")
    # A quarter is at most 92 days long: 93 days ago was in an earlier one.
    factories.ActivityFactory(
        occurred_on=today() - timedelta(days=93), notes="Logged in an earlier quarter"
    )
    login(cast["lead"])
    response = client.get("/dashboard/board-report?quarter=nonsense")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    this_quarter = periods.current(periods.PeriodKind.QUARTER, today())
    assert f"Figures for {this_quarter.name}" in html
    assert f'<option value="{this_quarter.value}" selected' in html
    assert "Logged this quarter" in html
    assert "Logged in an earlier quarter" not in html


def test_board_report_workbook_is_formula_safe(client, login, cast) -> None:
    factories.ActivityFactory(
        action__title='=HYPERLINK("http://x")',
        occurred_on=date(2026, 8, 3),
        notes="+SUM(1,1)",
    )
    login(cast["lead"])
    response = client.get("/dashboard/board-report.xlsx?quarter=2026-Q3")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "engage-board-report-2026-Q3.xlsx" in response.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    assert book.sheetnames[:2] == ["Board report", "Summary"]
    assert "Evidence log" in book.sheetnames
    log: Any = book["Evidence log"]
    rows = list(log.iter_rows(values_only=True))
    assert rows[1][1] == '\'=HYPERLINK("http://x")'
    assert rows[1][5] == "'+SUM(1,1)"
    summary = list(book["Summary"].iter_rows(values_only=True))
    assert ("Deliveries and reach", "Deliveries logged", 1, 0, 1, None, None) in summary


def test_navigation_has_dashboard_for_readers(client, login, cast) -> None:
    login(cast["lead"])
    assert 'href="/dashboard/"' in client.get("/").get_data(as_text=True)


def test_board_report_suppresses_small_survey_counts_that_the_dashboard_shows(
    client, login, cast
) -> None:
    from engage.surveys.models import Response
    from engage.surveys.models import ResponseSource
    from engage.surveys.models import SurveyStatus

    survey = factories.SurveyFactory(
        title="Wheelchair access",
        status=SurveyStatus.OPEN,
        opens_at=datetime(2026, 7, 1, tzinfo=UTC),
    )
    for day in (date(2026, 7, 2), date(2026, 7, 3), date(2026, 8, 4)):
        db.session.add(
            Response(survey_id=survey.id, submitted_on=day, source=ResponseSource.WEB)
        )
    db.session.commit()
    login(cast["lead"])

    def survey_row(html: str) -> str:
        table = html.split('id="table-survey_response_rates"')[1]
        return table.split("Wheelchair access")[1].split("</tr>")[0]

    # The staff dashboard: the team's real count, 3.
    dashboard = client.get("/dashboard/?period=quarter&value=2026-Q3")
    assert ">3<" in survey_row(dashboard.get_data(as_text=True))
    # The board report, on screen and in its workbook: fewer than 5.
    report = client.get("/dashboard/board-report?quarter=2026-Q3")
    html = report.get_data(as_text=True)
    assert "fewer than 5" in survey_row(html)
    assert ">3<" not in survey_row(html)
    assert "Survey responses: fewer than 5 in the period." in html
    book = openpyxl.load_workbook(
        io.BytesIO(client.get("/dashboard/board-report.xlsx?quarter=2026-Q3").data)
    )
    rows = [row for sheet in book for row in sheet.iter_rows(values_only=True)]
    assert ("Wheelchair access", "fewer than 5", 0, 0, None) in rows
    summary = list(book["Summary"].iter_rows(values_only=True))
    assert not any(row[1] == "Survey responses" for row in summary)
