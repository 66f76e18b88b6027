"""The breach register in real Chromium: record a breach, see its deadlines (D9)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from playwright.sync_api import expect

from engage.clock import to_local
from engage.clock import utcnow
from tests.browser.conftest import assert_accessible
from tests.browser.conftest import fill_date
from tests.browser.conftest import sign_in


def test_admin_records_a_breach_and_every_page_is_accessible(
    page: Any, cast: dict[str, Any]
) -> None:
    sign_in(page, cast["admin"])
    page.goto("/admin/")
    page.get_by_role("link", name="Personal-data breaches").click()
    expect(page.locator("h1")).to_have_text("Personal-data breaches")
    assert_accessible(page)
    expect(page.get_by_role("button", name="Record a breach")).to_have_attribute(
        "href", "/admin/breaches/new"
    )
    page.goto("/admin/breaches/new")  # not a click: no hover state under axe
    expect(page.locator("h1")).to_have_text("Record a breach")
    assert_accessible(page)
    page.get_by_role("button", name="Save breach").click()  # empty: errors shown
    expect(page.locator(".nhsuk-error-summary")).to_be_visible()
    assert_accessible(page)
    # Discovered 80 hours ago in UK time: both deadlines have passed.
    discovered = to_local(utcnow() - timedelta(hours=80))
    page.get_by_label("Title").fill("Members list sent to the wrong supplier")
    page.get_by_label("What happened").fill("A spreadsheet went to the wrong address.")
    fill_date(page, "Date discovered", discovered)
    page.get_by_label("Time discovered").fill(discovered.strftime("%H:%M"))
    page.get_by_role("button", name="Save breach").click()
    expect(page.locator("h1")).to_have_text("Members list sent to the wrong supplier")
    expect(page.get_by_text("Overdue")).to_have_count(2)
    assert_accessible(page)
    page.get_by_role("link", name="Personal-data breaches").click()
    row = page.get_by_role("row").filter(has_text="Members list sent to the wrong")
    expect(row.get_by_text("Overdue")).to_have_count(2)
    assert_accessible(page)
