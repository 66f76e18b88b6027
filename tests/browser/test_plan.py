"""An officer's day in real Chromium: audience, monthly action, delivery."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from playwright.sync_api import expect

from engage.actions.services import seed_channels
from engage.clock import utcnow
from engage.extensions import db
from tests.browser.conftest import assert_accessible
from tests.browser.conftest import fill_date
from tests.browser.conftest import sign_in
from tests.factories import DEFAULT_PASSWORD
from tests.factories import ActionFactory
from tests.factories import AudienceFactory
from tests.factories import UserFactory


def _sign_in(page: Any, user: Any) -> None:
    sign_in(page, user)
    page.wait_for_url("**/")


def test_officer_plans_and_delivers_a_monthly_action(page: Any) -> None:
    seed_channels(now=utcnow())
    db.session.commit()
    officer = UserFactory(role="officer", name="Olu Officer")
    UserFactory(role="officer", name="Sam Second")
    _sign_in(page, officer)

    # 1. A new audience: due for contact, since nothing has reached it yet.
    page.goto("/audiences/new")
    page.get_by_label("Name").fill("Carers' forum")
    page.get_by_label("Group").select_option("public")
    page.locator("#influence-3").check()
    page.locator("#interest-4").check()
    page.get_by_label("Manage – key stakeholders").check()
    page.get_by_role("button", name="Save audience").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Carers' forum")
    expect(page.locator("body")).to_contain_text("Due for contact")

    # 2. A monthly action for it, with two owners.
    first_due = utcnow().date() + timedelta(days=3)
    page.goto("/actions/new")
    assert_accessible(page)
    page.get_by_label("Action", exact=True).fill("Carers' bulletin")
    page.get_by_label("Channel").select_option(label="Newsletter")
    page.get_by_label("Carers' forum").check()
    page.get_by_label("Olu Officer").check()
    page.get_by_label("Sam Second").check()
    fill_date(page, "Due date (optional)", first_due)
    page.get_by_label("Monthly").check()
    page.get_by_role("button", name="Save action").click()
    expect(page.locator("body")).to_contain_text("Action added to the plan")
    next_due = page.locator(".nhsuk-summary-list__row", has_text="Next due")
    expect(next_due).to_contain_text(f"{first_due.day} {first_due:%B %Y}")
    assert_accessible(page)

    # 3. Log a delivery with reach figures: the next due date moves a month on.
    page.get_by_role("button", name="Log a delivery").click()
    assert page.get_by_label("Carers' forum").is_checked()
    page.get_by_label("What happened").fill("December bulletin sent")
    page.locator("#figures-0-measure").fill("recipients")
    page.locator("#figures-0-number").fill("412")
    page.locator("#figures-1-measure").fill("opens")
    page.locator("#figures-1-number").fill("188")
    assert_accessible(page)
    page.get_by_role("button", name="Log delivery").click()
    expect(page.locator("body")).to_contain_text("Delivery logged")
    from engage.actions.schedule import add_months

    advanced = add_months(first_due, 1)
    next_due = page.locator(".nhsuk-summary-list__row", has_text="Next due")
    expect(next_due).to_contain_text(f"{advanced.day} {advanced:%B %Y}")
    deliveries = page.locator("#deliveries + .engage-table-box table").inner_text()
    assert "recipients 412" in deliveries
    assert "opens 188" in deliveries

    # 4. The audience is no longer due for contact, on its page and on the map.
    page.goto("/audiences/")
    row = page.locator("tr", has_text="Carers' forum")
    assert "Contacted" in row.inner_text()
    page.goto("/map/")
    assert_accessible(page)
    cell = page.locator("td", has=page.get_by_role("link", name="Carers' forum"))
    assert cell.count() >= 1
    assert "due for contact" not in cell.first.inner_text()


def test_plan_and_map_pages_are_accessible(page: Any) -> None:
    seed_channels(now=utcnow())
    db.session.commit()
    lead = UserFactory(role="admin", name="Ada Admin")
    _sign_in(page, lead)
    for path in (
        "/actions/",
        "/actions/mine",
        "/actions/calendar",
        "/actions/objectives",
        "/actions/objectives/new",
        "/actions/channels",
        "/audiences/",
        "/audiences/new",
        "/audiences/programmes",
        "/audiences/contact-intervals",
        "/map/",
    ):
        page.goto(path)
        assert_accessible(page)


def test_plan_works_without_javascript(page_without_js: Any) -> None:
    page = page_without_js
    seed_channels(now=utcnow())
    db.session.commit()
    officer = UserFactory(role="officer")
    page.goto("/login")
    page.get_by_label("Email address").fill(officer.email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto("/actions/new")
    page.get_by_label("Action", exact=True).fill("Crisis manual")
    page.get_by_label("Channel").select_option(label="Press and media")
    page.get_by_label("Timescale as written").fill("TBC")
    page.get_by_role("button", name="Save action").click()
    expect(page.locator("body")).to_contain_text("Unscheduled")


def test_on_a_phone_wide_tables_scroll_inside_the_page(page: Any) -> None:
    seed_channels(now=utcnow())
    db.session.commit()
    officer = UserFactory(role="officer", name="Olu Officer")
    audience = AudienceFactory(name="Patient participation group chairs")
    for number in range(3):
        ActionFactory(
            title=f"Quarterly stakeholder newsletter number {number}",
            owners=[officer],
            audiences=[audience],
        )
    db.session.commit()
    _sign_in(page, officer)
    page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/actions/", "/audiences/", "/members/", "/map/"):
        page.goto(path)
        # The page is no wider than the phone: only the table's box scrolls.
        assert page.evaluate("document.documentElement.scrollWidth") == 390, path
    assert_accessible(page)
