"""A staff member signs in and out in real Chromium; axe scans the pages."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible
from tests.browser.conftest import sign_in
from tests.factories import DEFAULT_PASSWORD
from tests.factories import UserFactory


def test_officer_signs_in_and_out(page: Any) -> None:
    officer = UserFactory(role="officer", name="Olu Officer")
    page.goto("/admin/users")
    assert "/login?next=" in page.url
    page.get_by_label("Email address").fill(officer.email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    # An officer may not see the admin page they asked for.
    assert (
        page.get_by_role("heading", level=1).inner_text()
        == "You do not have permission to see this page"
    )
    page.goto("/")
    expect(page.locator("body")).to_contain_text("Welcome, Olu Officer")
    # JavaScript initialised the NHS.UK frontend.
    assert "nhsuk-frontend-supported" in (
        page.eval_on_selector("body", "b => b.className") or ""
    )
    page.get_by_role("button", name="Sign out").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Sign in to Engage"
    page.goto("/")
    assert "/login" in page.url


def test_wrong_password_shows_error_summary_with_focus(page: Any) -> None:
    page.goto("/login")
    page.get_by_label("Email address").fill("nobody@trust.example")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    summary = page.locator(".nhsuk-error-summary")
    assert "Enter a correct email address and password" in summary.inner_text()
    # The NHS.UK script moves focus to the summary once it has loaded.
    page.wait_for_function(
        "() => document.activeElement.classList.contains('nhsuk-error-summary')"
    )


def test_sign_in_works_without_javascript(page_without_js: Any) -> None:
    page = page_without_js
    user = UserFactory(role="lead", name="Lee Lead")
    page.goto("/login")
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    # A lead lands on the dashboard.
    expect(page.get_by_role("heading", level=1)).to_contain_text("Engagement dashboard")
    expect(page.locator("body")).to_contain_text("Lee Lead")
    page.get_by_role("button", name="Sign out").click()
    assert "/login" in page.url


def test_login_page_is_accessible(page: Any) -> None:
    page.goto("/login")
    assert_accessible(page)
    page.get_by_role("button", name="Sign in").click()  # with errors shown
    assert_accessible(page)


def test_home_and_admin_pages_are_accessible(page: Any) -> None:
    admin = UserFactory(role="admin", name="Ada Admin")
    sign_in(page, admin)
    for path in (
        "/",
        "/admin/",
        "/admin/users",
        "/admin/users/new",
        "/admin/audit/",
        "/admin/outbox/",
        "/jobs/",
        "/account",
    ):
        page.goto(path)
        assert_accessible(page)
