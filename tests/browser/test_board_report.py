"""The board report of the demo quarter in Chromium: its first page, axe at desktop
and phone widths, and the printout on at most four A4 pages, today and on the
quarter's last day."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from datetime import time
from typing import Any

import pytest
import time_machine
from playwright.sync_api import expect
from pypdf import PdfReader
from sqlalchemy import select

from engage.accounts.models import Role
from engage.accounts.models import User
from engage.clock import today
from engage.clock import utcnow
from engage.dashboard import periods
from engage.demo import load_demo
from engage.extensions import db
from tests.browser.conftest import assert_accessible

#: A governing body's papers: the report of a quarter prints on this many A4 pages.
MOST_PAGES = 4
#: A commentary near the longest allowed, to show it still fits on the first page.
COMMENTARY = (
    "Membership grew this quarter. "
    + "Most of the new members joined at the carers' drop-in sessions and through the "
    "members' newsletter, which more people opened than in any quarter before. "
    * 8
    + "\n\nWe missed the website visits target: the new pages went live late. "
    "We will publish the survey findings, and say what we changed, in next "
    "quarter's report."
)


def _demo_lead(page: Any) -> str:
    """Load the demo (as ``flask load-demo`` does), sign in as its lead: their name."""
    logins = load_demo(now=utcnow())
    db.session.commit()
    lead = next(login for login in logins if login.role is Role.LEAD)
    page.goto("/login")
    page.get_by_label("Email address").fill(lead.email)
    page.get_by_label("Password").fill(lead.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/dashboard/**")
    return db.session.scalar(select(User.name).where(User.email == lead.email)) or ""


@pytest.fixture(params=["today", "the quarter's last evening"])
def report_day(request: pytest.FixtureRequest) -> Iterator[None]:
    """Today, and the last evening of this quarter: the demo's deliveries fill the
    quarter as it goes on, and the printout must fit on any day of it."""
    if request.param == "today":
        yield
        return
    quarter = periods.current(periods.PeriodKind.QUARTER, today())
    evening = datetime.combine(quarter.end, time(20), tzinfo=UTC)
    with time_machine.travel(evening, tick=True):
        yield


def test_board_report_first_page_reads_well_and_prints_on_four_pages(
    page: Any, report_day: None
) -> None:
    lead = _demo_lead(page)
    quarter = periods.current(periods.PeriodKind.QUARTER, today()).on(today())
    page.goto(f"/dashboard/board-report?quarter={quarter.value}")
    # The commentary, written by the lead for this quarter.
    page.get_by_role("link", name="Write the commentary").click()
    page.get_by_label("Commentary (optional)", exact=True).fill(COMMENTARY)
    page.get_by_role("button", name="Save commentary").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Engagement report to the board"
    )
    first = page.locator(".engage-board-first-page")
    expect(first).to_contain_text("NHS Northshire Integrated Care Board")
    expect(first).to_contain_text("Northshire House, 1 Market Street")
    expect(first).to_contain_text(quarter.label)
    # Prepared on the day the test stands on (today, or the quarter's last day).
    expect(first).to_contain_text(f"Prepared on {today().day} {today():%B %Y}.")
    headline = page.locator("#table-headline")
    expect(headline).to_contain_text("Active members")
    expect(headline.get_by_role("columnheader", name="Status")).to_be_visible()
    expect(page.locator("#commentary")).to_contain_text("Membership grew this quarter.")
    expect(page.locator("#commentary")).to_contain_text(f"Written by {lead}")
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        assert_accessible(page)
    # No sideways page scroll on a phone: the table scrolls in its own box.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.set_viewport_size({"width": 1280, "height": 900})
    # Print: no menus or buttons, the first page on its own, at most four A4 pages.
    page.emulate_media(media="print")
    expect(page.locator(".nhsuk-header")).to_be_hidden()
    expect(page.get_by_role("link", name="Download as PDF")).to_be_hidden()
    expect(page.locator(".engage-chart").first).to_be_hidden()
    printed = PdfReader(io.BytesIO(page.pdf(format="A4")))
    assert 1 <= len(printed.pages) <= MOST_PAGES
    first_page = " ".join(printed.pages[0].extract_text().split())
    assert "Engagement report to the board" in first_page
    assert "Membership grew this quarter." in first_page
    # The longest commentary still ends on the first page.
    assert "next quarter's report." in first_page
    assert "Active members" in first_page
    assert "Action plan" in first_page
