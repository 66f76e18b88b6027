"""The board report's first page, commentary, folding, PDF and workbook sheet names."""

from __future__ import annotations

import io
import re
from datetime import date
from typing import Any

import openpyxl
import pytest
from pypdf import PdfReader
from sqlalchemy import select

from engage.audit.models import AuditEvent
from engage.clock import today
from engage.clock import utcnow
from engage.dashboard import pdf as pdf_module
from engage.dashboard import report as board
from engage.dashboard.commentary import MAX_COMMENTARY
from engage.dashboard.models import BoardCommentary
from engage.dashboard.periods import PeriodKind
from engage.dashboard.periods import current
from engage.dashboard.sections import DataTable
from engage.dashboard.sections import Figure
from engage.dashboard.sections import Section
from engage.extensions import db
from engage.metrics.models import TargetPeriod
from engage.organisation.defaults import Identity
from engage.organisation.services import save_identity
from tests import factories

Q3 = "/dashboard/board-report?quarter=2026-Q3"


def _quarter_with_deliveries() -> None:
    """Q3 2026: two deliveries with reach, a metric with a target; no mentions, no
    survey findings."""
    action = factories.ActionFactory(
        title="Members' newsletter",
        channel=factories.ChannelFactory(name="Newsletter"),
    )
    for day, recipients in ((date(2026, 7, 6), 400), (date(2026, 8, 3), 412)):
        factories.ActivityFactory(
            action=action,
            occurred_on=day,
            notes="Sent to all members",
            figures={"recipients": recipients},
        )
    metric = factories.MetricFactory(
        key="web-visits",
        name="Website visits",
        target_value=1000,
        target_period=TargetPeriod.QUARTER,
    )
    factories.ObservationFactory(metric=metric, observed_on=date(2026, 8, 1), value=50)


def _first_page(html: str) -> str:
    start = html.index('class="engage-board-first-page"')
    return html[start : html.index('class="engage-board-detail"')]


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_first_page_has_the_organisation_figures_and_folded_sections(
    client, login, cast
) -> None:
    save_identity(
        Identity(
            name="NHS Westshire Integrated Care Board",
            short_name="Westshire ICB",
            address="Westshire House\n2 High Street\nWesttown WT1 2BB",
            email="engage@westshire.example",
            phone="0300 999 0000",
            website="https://westshire.example",
            data_controller="NHS Westshire Integrated Care Board",
            ico_registration="ZB999999",
        ),
        actor=cast["admin"],
        now=utcnow(),
    )
    db.session.commit()
    _quarter_with_deliveries()
    login(cast["lead"])
    page = _text(_first_page(client.get(Q3).get_data(as_text=True)))
    # Who is reporting, and for when.
    assert "NHS Westshire Integrated Care Board" in page
    assert "Westshire House, 2 High Street, Westtown WT1 2BB" in page
    assert "engage@westshire.example, 0300 999 0000, https://westshire.example" in page
    assert "Information Commissioner's Office as ZB999999" in page
    assert "Engagement report to the board Q3 2026 (July to September)" in page
    # Headline figures with their change; a target's status in words (and colour).
    assert "Deliveries logged 2 0 Up 2" in page
    assert "Reach: recipients 812" in page
    assert re.search(r"Website visits 50 – – [0-9,.]+ Not met", page), page
    assert 'nhsuk-tag--red engage-board-status">Not met' in client.get(Q3).get_data(
        as_text=True
    )
    # Sections with nothing in them: one line each, no table of zeros.
    assert "Media mentions No media mentions were found in this period." in page
    assert "Mentions: positive" not in page
    assert "No commentary has been written for this quarter." in page
    # The lead may write one.
    assert "Write the commentary" in page


def test_detail_folds_empty_sections_and_tables(client, login, cast) -> None:
    _quarter_with_deliveries()
    login(cast["lead"])
    html = client.get(Q3).get_data(as_text=True)
    detail = html[html.index('class="engage-board-detail"') :]
    assert 'id="table-mentions_by_tone"' not in detail
    assert 'id="table-mentions_trend"' not in detail
    assert "No media mentions were found in this period." in detail
    assert "No survey findings were published in this period." in detail
    assert 'id="table-you-said-we-did"' not in detail
    # A section with data keeps its tables, and its empty ones become a line.
    assert 'id="table-reach_by_channel"' in detail
    assert "Reach by channel by month: nothing in this period." in detail
    assert 'id="table-metrics_trend"' not in detail
    # Headline figures are on the first page, not repeated as cards.
    assert "engage-figure__value" not in detail


def test_section_folding_rules() -> None:
    zeros = DataTable("t", "Things by month", ["Month", "Things"], [["Jul", 0]])
    words = DataTable("w", "Targets", ["Metric", "Status"], [["Visits", "no data"]])
    some = DataTable("s", "Things", ["Month", "Things"], [["Jul", 0], ["Aug", 3]])
    assert board.table_is_empty(zeros)
    assert board.table_is_empty(DataTable("e", "Empty", ["A"], []))
    assert board.table_is_empty(words)  # words alone are not figures
    assert not board.table_is_empty(some)
    nothing = Section("mentions", "Media mentions", [Figure("m", "Mentions", 0, 0)])
    fell = Section("mentions", "Media mentions", [Figure("m", "Mentions", 0, 4)])
    assert board.section_is_empty(nothing)
    assert not board.section_is_empty(fell)  # a fall to nothing is news
    noted = Section("metrics", "Reach metrics", notes=["No metrics yet."])
    assert board.nothing_line(noted) == "No metrics yet."
    assert board.nothing_line(Section("new", "New things")) == (
        "Nothing to report on new things in this period."
    )


def test_commentary_is_saved_shown_audited_and_removed(client, login, cast) -> None:
    login(cast["lead"])
    form = client.get("/dashboard/board-report/commentary?quarter=2026-Q3")
    assert form.status_code == 200
    assert "Commentary for Q3 2026" in form.get_data(as_text=True)
    words = "Reach grew with the newsletter.\n\nWe missed the website target."
    response = client.post(
        "/dashboard/board-report/commentary?quarter=2026-Q3", data={"body": words}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(
        "/dashboard/board-report?quarter=2026-Q3#commentary"
    )
    page = _first_page(client.get(Q3).get_data(as_text=True))
    assert "Reach grew with the newsletter.</p>" in page
    assert "We missed the website target.</p>" in page
    assert "Written by Lena Lead" in page
    assert "Change the commentary" in page
    # Kept with its quarter only.
    other = client.get("/dashboard/board-report?quarter=2026-Q2")
    assert "Reach grew" not in other.get_data(as_text=True)
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "board_commentary.save")
    ).one()
    assert event.actor_id == cast["lead"].id
    assert "Q3 2026" in event.summary
    assert "newsletter" not in event.summary  # the text itself is not in the log
    # In the workbook's first sheet.
    book = openpyxl.load_workbook(
        io.BytesIO(client.get("/dashboard/board-report.xlsx?quarter=2026-Q3").data)
    )
    front = list(book["Board report"].iter_rows(values_only=True))
    assert ("Commentary", words) == front[5][:2]
    # Emptied: removed.
    client.post(
        "/dashboard/board-report/commentary?quarter=2026-Q3", data={"body": "  "}
    )
    assert db.session.scalars(select(BoardCommentary)).all() == []
    assert "No commentary has been written" in client.get(Q3).get_data(as_text=True)


def test_commentary_is_escaped_and_bounded(client, login, cast) -> None:
    login(cast["admin"])
    url = "/dashboard/board-report/commentary?quarter=2026-Q3"
    client.post(url, data={"body": "<script>alert(1)</script>"})
    html = client.get(Q3).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    too_long = client.post(url, data={"body": "x" * (MAX_COMMENTARY + 1)})
    assert too_long.status_code == 200
    assert f"{MAX_COMMENTARY:,} characters" in too_long.get_data(as_text=True)
    assert "Error:" in too_long.get_data(as_text=True)


@pytest.mark.parametrize("quarter", ["nonsense", "2026-Q5", "2026-07", "9" * 40])
def test_commentary_for_a_bad_quarter_is_not_found(
    client, login, cast, quarter: str
) -> None:
    login(cast["lead"])
    url = f"/dashboard/board-report/commentary?quarter={quarter}"
    assert client.get(url).status_code == 404
    assert client.post(url, data={"body": "Words"}).status_code == 404
    assert db.session.scalars(select(BoardCommentary)).all() == []


def test_officers_read_the_report_but_do_not_write_the_commentary(
    client, login, cast
) -> None:
    login(cast["officer"])
    assert "Write the commentary" not in client.get(Q3).get_data(as_text=True)
    url = "/dashboard/board-report/commentary?quarter=2026-Q3"
    assert client.get(url).status_code == 403
    assert client.post(url, data={"body": "Words"}).status_code == 403


def _headline_rows(html: str) -> list[tuple[str, str]]:
    """(figure, value) of each line of the page's headline table."""
    table = html[html.index('id="table-headline"') : html.index("</table>")]
    return re.findall(
        r'engage-board-figures__label">([^<]+)</th>\s*<td[^>]*>([^<]*)</td>', table
    )


def test_pdf_opens_fits_and_has_the_pages_headline_figures(client, login, cast) -> None:
    _quarter_with_deliveries()
    login(cast["lead"])
    client.post(
        "/dashboard/board-report/commentary?quarter=2026-Q3",
        data={"body": "A quarter of steady growth."},
    )
    rows = _headline_rows(client.get(Q3).get_data(as_text=True))
    assert ("Deliveries logged", "2") in rows
    response = client.get("/dashboard/board-report.pdf?quarter=2026-Q3")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    assert "engage-board-report-2026-Q3.pdf" in response.headers["Content-Disposition"]
    pdf = PdfReader(io.BytesIO(response.data))
    assert 1 <= len(pdf.pages) <= 4
    first = " ".join(pdf.pages[0].extract_text().split())
    for label, value in rows:
        assert f"{label} {value}" in first, label
    assert "A quarter of steady growth." in first
    assert "NHS Northshire Integrated Care Board" in first
    assert "Write the commentary" not in first
    # Tagged for screen readers, with its title and language.
    catalog: Any = pdf.trailer["/Root"]
    assert catalog["/Lang"] == "en-GB"
    assert catalog["/MarkInfo"]["/Marked"]
    assert "/StructTreeRoot" in catalog
    assert pdf.metadata is not None
    assert pdf.metadata.title == (
        "Engagement report to the board, Q3 2026 (July to September): "
        "NHS Northshire Integrated Care Board"
    )


def test_pdf_run_time_is_bounded(client, login, cast, monkeypatch) -> None:
    with pytest.raises(pdf_module.PdfError, match="took too long"):
        pdf_module.report_pdf("<p>" + "Words " * 50_000 + "</p>", seconds=0.05)
    monkeypatch.setattr(pdf_module, "STYLESHEET", pdf_module.STYLESHEET.with_name("x"))
    with pytest.raises(pdf_module.PdfError, match="could not be made"):
        pdf_module.report_pdf("<p>Words</p>", seconds=30)
    monkeypatch.undo()

    def too_slow(html: str) -> bytes:
        raise pdf_module.PdfError("The PDF took too long to make.")

    monkeypatch.setattr("engage.dashboard.views.report_pdf", too_slow)
    login(cast["lead"])
    response = client.get("/dashboard/board-report.pdf?quarter=2026-Q3")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(
        "/dashboard/board-report?quarter=2026-Q3"
    )
    assert "The PDF took too long to make." in client.get(
        response.headers["Location"]
    ).get_data(as_text=True)


@pytest.mark.parametrize("asked", ["future", "bogus", "2026-Q5"])
def test_a_quarter_not_on_the_menu_shows_the_current_one_and_says_why(
    client, login, cast, asked: str
) -> None:
    """A quarter still to come has no figures to report: like a value that is no
    quarter at all, the current quarter is shown, with the reason at the top."""
    now = current(PeriodKind.QUARTER, today())
    if asked == "future":
        asked = f"{now.start.year + 10}-Q1"
    login(cast["lead"])
    page = client.get(f"/dashboard/board-report?quarter={asked}").get_data(as_text=True)
    shown = now.label.split(" (")[0]  # "Q4 2026"
    assert f"<title>Error: Board report, {shown} (" in page
    assert "nhsuk-error-summary" in page
    assert "Choose a quarter from the list" in page


def test_a_bookmarked_quarter_of_years_ago_is_still_shown(client, login, cast) -> None:
    past = current(PeriodKind.QUARTER, today())
    for _ in range(12):
        past = past.previous()
    login(cast["lead"])
    page = client.get(f"/dashboard/board-report?quarter={past.value}").get_data(
        as_text=True
    )
    assert f"<title>Board report, {past.label} – " in page.replace("&amp;", "&")
    assert "nhsuk-error-summary" not in page


@pytest.mark.parametrize("kind", ["pdf", "xlsx"])
def test_a_download_of_a_quarter_not_offered_leads_to_the_page_that_says_why(
    client, login, cast, kind: str
) -> None:
    """Not another quarter's file under a name that looks right."""
    login(cast["lead"])
    asked = f"{today().year + 10}-Q1"
    response = client.get(f"/dashboard/board-report.{kind}?quarter={asked}")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/dashboard/board-report?quarter={asked}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Choose a quarter from the list" in page
    # Without a quarter, the current one is downloaded.
    current_file = client.get(f"/dashboard/board-report.{kind}")
    assert current_file.status_code == 200
    assert current_file.data.startswith(b"%PDF-" if kind == "pdf" else b"PK")


def test_workbook_front_sheet_and_evidence_read_as_the_page(
    client, login, cast
) -> None:
    _quarter_with_deliveries()
    login(cast["lead"])
    response = client.get("/dashboard/board-report.xlsx?quarter=2026-Q3")
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    front = list(book["Board report"].iter_rows(values_only=True))
    assert front[0][0] == "Board report"
    labels = [row[0] for row in front]
    # Who and when first; the figures' headings above the figures alone.
    assert labels.index("Headline figures") > labels.index("Commentary")
    assert front[labels.index("Headline figures")][1:3] == (
        "This period",
        "Previous period",
    )
    compared = front[labels.index("Compared with")][1]
    assert compared.startswith("Figures for Q3 2026")
    evidence = list(book["Evidence log"].iter_rows(min_row=2, values_only=True))
    assert {row[0].date() for row in evidence} == {date(2026, 7, 6), date(2026, 8, 3)}


def test_workbook_sheet_names_are_whole_chosen_words(client, login, cast) -> None:
    _quarter_with_deliveries()
    login(cast["admin"])  # admins' report has the representativeness tables too
    response = client.get("/dashboard/board-report.xlsx?quarter=2026-Q3")
    names = openpyxl.load_workbook(io.BytesIO(response.data)).sheetnames
    assert names[:4] == [
        "Board report",
        "Summary",
        "Actions by state",
        "Deliveries by month",  # a quarter's trend is by month
    ]
    assert "Reach by channel" in names
    assert "Survey response rates" in names
    assert names[-2:] == ["You said, we did", "Evidence log"]
    chosen = set(board.SHEET_NAMES.values()) | {
        "Board report",
        "Summary",
        "You said, we did",
        "Evidence log",
    }
    for name in names:
        assert len(name) <= 31
        assert name in chosen or name.replace("by week", "by month") in chosen, name
    assert len({n.lower() for n in names}) == len(names)


def test_a_sheet_not_named_in_advance_is_cut_at_a_whole_word() -> None:
    caption = "Which of these best describes your ethnic group (2021 Census)?"
    table = DataTable("representativeness_ethnicity", caption, ["Answer"], [])
    name = board.sheet_name(table)
    assert name == "Which of these best describes"
    assert len(name) <= 31
    assert caption.startswith(name + " ")
    assert board.sheet_name(DataTable("x", "Tiny: [a]", ["A"], [])) == "Tiny a"
    for key, chosen in board.SHEET_NAMES.items():
        assert len(chosen) <= 31, key


def test_pdfs_are_limited_to_a_few_a_minute_for_each_person(
    client, login, cast, monkeypatch
) -> None:
    made = []
    monkeypatch.setattr(
        "engage.dashboard.views.report_pdf", lambda html: made.append(1) or b"%PDF-"
    )
    login(cast["lead"])
    codes = [client.get("/dashboard/board-report.pdf").status_code for _ in range(6)]
    assert codes == [200] * 5 + [429]
    assert len(made) == 5
    # Another person is not held up by the first one's downloads.
    client.post("/logout")
    login(cast["officer"])
    assert client.get("/dashboard/board-report.pdf").status_code == 200
