"""Dashboard and board report pages: filters, tables, print, workbook, escaping."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import openpyxl

from engage.actions.models import Activity, ReachFigure
from engage.audit.models import AuditEvent
from engage.db import utcnow
from engage.extensions import db
from tests import factories


def _delivery(title: str = "GP newsletter", notes: str = "") -> Activity:
    action = factories.ActionFactory(title=title)
    activity = Activity(
        action_id=action.id,
        occurred_on=date(2026, 8, 3),
        description="Sent to practices",
        notes=notes,
        created_at=utcnow(),
        figures=[ReachFigure(label="recipients", value=412)],
    )
    activity.audiences = [factories.AudienceFactory(name="GPs")]
    db.session.add(activity)
    db.session.commit()
    return activity


def test_dashboard_shows_every_section_with_tables(client, login, cast) -> None:  # type: ignore[no-untyped-def]
    _delivery()
    login(cast["lead"])
    response = client.get("/dashboard/?period=quarter&value=2026-Q3")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    for heading in (
        "Action plan",
        "Deliveries and reach",
        "Audiences",
        "PPI membership",
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
) -> None:  # type: ignore[no-untyped-def]
    login(cast["admin"])
    html = client.get("/dashboard/").get_data(as_text=True)
    assert "Membership representativeness" in html
    assert db.session.scalar(
        db.select(AuditEvent).where(AuditEvent.entity_type == "equality_report")
    )


def test_dashboard_bad_period_shows_an_error_and_the_current_quarter(
    client, login, cast
) -> None:  # type: ignore[no-untyped-def]
    login(cast["officer"])
    response = client.get("/dashboard/?period=month&value=2026-13")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "nhsuk-error-summary" in html
    assert "A month is 01 to 12." in html


def test_dashboard_custom_period(client, login, cast) -> None:  # type: ignore[no-untyped-def]
    _delivery()
    login(cast["lead"])
    html = client.get(
        "/dashboard/?period=custom&start=2026-08-01&end=2026-08-31"
    ).get_data(as_text=True)
    assert "1 August 2026 to 31 August 2026" in html


def test_chart_data_is_escaped_in_the_attribute(client, login, cast) -> None:  # type: ignore[no-untyped-def]
    factories.ChannelFactory(name="x'><script>alert(1)</script>")
    action = factories.ActionFactory(
        channel=factories.ChannelFactory(name="x'><script>alert(1)</script>")
    )
    db.session.add(
        Activity(
            action_id=action.id,
            occurred_on=utcnow().date(),
            description="d",
            created_at=utcnow(),
        )
    )
    db.session.commit()
    login(cast["lead"])
    html = client.get("/dashboard/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "\\u003cscript\\u003e" in html


def test_board_report_is_printable_with_evidence_log(client, login, cast) -> None:  # type: ignore[no-untyped-def]
    _delivery(notes="Good feedback from the LMC")
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


def test_board_report_bad_quarter_falls_back_to_the_current_one(
    client, login, cast
) -> None:  # type: ignore[no-untyped-def]
    login(cast["lead"])
    response = client.get("/dashboard/board-report?quarter=nonsense")
    assert response.status_code == 200


def test_board_report_workbook_is_formula_safe(client, login, cast) -> None:  # type: ignore[no-untyped-def]
    _delivery(title='=HYPERLINK("http://x")', notes="+SUM(1,1)")
    login(cast["lead"])
    response = client.get("/dashboard/board-report.xlsx?quarter=2026-Q3")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "engage-board-report-2026-Q3.xlsx" in response.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    assert book.sheetnames[0] == "Summary"
    assert "Evidence log" in book.sheetnames
    log: Any = book["Evidence log"]
    rows = list(log.iter_rows(values_only=True))
    assert rows[1][1] == '\'=HYPERLINK("http://x")'
    assert rows[1][5] == "'+SUM(1,1)"
    summary = list(book["Summary"].iter_rows(values_only=True))
    assert ("Deliveries and reach", "Deliveries logged", 1, 0, 1, None) in summary


def test_navigation_has_dashboard_for_readers(client, login, cast) -> None:  # type: ignore[no-untyped-def]
    login(cast["lead"])
    assert 'href="/dashboard/"' in client.get("/").get_data(as_text=True)
