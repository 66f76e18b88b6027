"""Two-factor sign-in in real Chromium: an admin sets it up, then signs in (A6)."""

from __future__ import annotations

from typing import Any

import pyotp
from playwright.sync_api import expect

from engage.clock import utcnow
from tests.browser.conftest import assert_accessible
from tests.factories import DEFAULT_PASSWORD
from tests.factories import UserFactory


def _password_step(page: Any, email: str) -> None:
    page.goto("/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_admin_sets_up_two_factor_and_signs_in_with_a_code(page: Any) -> None:
    admin = UserFactory(role="admin", name="Ada Admin", totp_secret=None)
    _password_step(page, admin.email)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Set up two-factor sign-in"
    )
    # The QR code is an inline image the content security policy allows.
    qr = page.get_by_role("img", name="QR code to scan with your authenticator app")
    expect(qr).to_be_visible()
    assert page.evaluate(
        "img => img.complete && img.naturalWidth > 0", qr.element_handle()
    )
    assert_accessible(page)
    page.get_by_role("button", name="Turn on two-factor sign-in").click()  # no code
    assert_accessible(page)
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    totp = pyotp.TOTP(secret)
    page.get_by_label("Code from your authenticator app").fill(totp.now())
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Save your recovery codes"
    )
    assert page.locator(".engage-recovery-codes li").count() == 10
    assert_accessible(page)
    page.get_by_role("link", name="I have saved my codes – continue").click()
    expect(page.locator("body")).to_contain_text("Welcome, Ada Admin")
    page.goto("/account")
    assert_accessible(page)
    page.get_by_role("button", name="Sign out").click()

    # Next time: password, then a code from the next time step (each is used once).
    _password_step(page, admin.email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your sign-in code")
    assert_accessible(page)
    page.get_by_label("Code from your authenticator app").fill("000000")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text(
        "Enter the 6-digit code"
    )
    assert_accessible(page)
    next_step = totp.timecode(utcnow()) + 1
    page.get_by_label("Code from your authenticator app").fill(
        totp.generate_otp(next_step)
    )
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("body")).to_contain_text("Welcome, Ada Admin")
