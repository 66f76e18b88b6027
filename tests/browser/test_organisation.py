"""The organisation on public pages and emails, its notices, and each role's home.

Run in Chromium against a live server, mail through a real SMTP server on loopback,
every page scanned with axe at desktop (1280 px) and phone (390 px) widths.
"""

from __future__ import annotations

import time
from typing import Any

from playwright.sync_api import expect
from sqlalchemy import select

from engage.clock import utcnow
from engage.extensions import db
from engage.membership.consent import CONSENT_WORDING
from engage.membership.models import ConsentRecord
from engage.membership.models import ContactChannel
from engage.organisation.models import Notice
from engage.surveys import services as surveys
from tests.browser.conftest import assert_accessible
from tests.browser.conftest import sign_in
from tests.factories import MemberFactory
from tests.factories import UserFactory
from tests.surveys.helpers import make_survey


def _both_widths(page: Any) -> None:
    """No axe violations at 1280 px, nor at 390 px (where nothing scrolls sideways)."""
    page.set_viewport_size({"width": 1280, "height": 900})
    assert_accessible(page)
    page.set_viewport_size({"width": 390, "height": 844})
    assert_accessible(page)  # waits for the header to lay itself out at this width
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.set_viewport_size({"width": 1280, "height": 900})


def _sign_out(page: Any) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to Engage")


def test_the_organisation_admins_set_appears_on_public_pages_and_e_mails(
    page: Any, smtp_server: Any
) -> None:
    admin = UserFactory(role="admin", name="Ada Admin")
    survey = make_survey(admin, title="Urgent care survey")
    token = surveys.set_public_link(survey, actor=admin, now=utcnow())
    db.session.commit()

    sign_in(page, admin)
    page.goto("/admin/")
    page.get_by_role("link", name="Organisation").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Organisation")
    _both_widths(page)
    page.get_by_label("Name", exact=True).fill("NHS Westvale Integrated Care Board")
    page.get_by_label("Short name").fill("Westvale ICB")
    page.get_by_label("Data controller (optional)").fill(
        "NHS Westvale Integrated Care Board"
    )
    page.get_by_label("Contact email address (optional)").fill(
        "involve@westvale.example"
    )
    page.get_by_role("button", name="Save details").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text(
        "Organisation details saved."
    )
    _sign_out(page)

    # The public join page: the short name heads it, the full name and contact foot it.
    page.goto("/join")
    expect(page.locator(".nhsuk-header__service-name")).to_have_text("Westvale ICB")
    footer = page.locator("footer")
    expect(footer).to_contain_text("NHS Westvale Integrated Care Board")
    expect(footer.get_by_role("link", name="involve@westvale.example")).to_be_visible()
    expect(footer.get_by_role("link", name="Privacy notice")).to_be_visible()
    expect(footer.get_by_role("link", name="Accessibility statement")).to_be_visible()
    _both_widths(page)

    # A survey's public page names who runs it.
    page.goto(f"/s/{token}")
    expect(page.locator(".nhsuk-caption-l").first).to_have_text(
        "NHS Westvale Integrated Care Board"
    )
    _both_widths(page)

    # Joining sends an email whose foot says who sent it and why.
    page.goto("/join")
    page.get_by_label("Full name").fill("Jo Public")
    page.get_by_label("Email address").fill("jo.public@example.com")
    page.get_by_label("Postcode").fill("LS1 4AP")
    page.get_by_label("Silver", exact=False).check()
    page.get_by_label(CONSENT_WORDING[ContactChannel.EMAIL]).check()
    page.get_by_role("button", name="Join the scheme").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    deadline = time.monotonic() + 10
    while not smtp_server.messages:
        assert time.monotonic() < deadline, "no email arrived"
        time.sleep(0.05)
    body = smtp_server.messages[0].get_body(("plain",)).get_content()
    assert "NHS Westvale Integrated Care Board" in body
    assert "Contact us: involve@westvale.example" in body
    assert "You are getting this email because this address was given to join" in body
    assert "http://engage.test/privacy" in body

    # The privacy notice is written from the details saved.
    page.goto("/privacy")
    expect(page.locator("main")).to_contain_text(
        "NHS Westvale Integrated Care Board is the data controller"
    )
    _both_widths(page)


def test_a_new_privacy_notice_version_leaves_old_consents_with_theirs(
    page: Any,
) -> None:
    member = MemberFactory(consents=[ContactChannel.EMAIL])
    (before,) = member.consents
    assert before.wording_version.startswith("2026-11/")
    admin = UserFactory(role="admin")

    sign_in(page, admin)
    page.goto("/admin/notices/privacy")
    _both_widths(page)
    text = page.get_by_label("Text")
    text.fill(text.input_value() + "\n\n## Surveys\n\nWe also ask members' views.")
    page.get_by_role("button", name="Preview").click()
    preview = page.locator(".engage-preview")
    expect(preview.get_by_role("heading", name="Surveys")).to_be_visible()
    _both_widths(page)
    page.get_by_role("button", name="Publish a new version").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text(
        "Privacy notice version 1 published."
    )
    _sign_out(page)

    page.goto("/privacy")
    expect(page.locator("main")).to_contain_text("We also ask members' views.")
    expect(page.locator("main")).to_contain_text("Version 1, published")
    page.get_by_role("link", name="Version 2026-11").click()
    expect(page.locator("main")).to_contain_text("This version is no longer in force")
    expect(page.locator("main")).not_to_contain_text("We also ask members' views.")
    _both_widths(page)

    db.session.rollback()
    assert [n.version for n in db.session.scalars(select(Notice))] == [0, 1]
    kept = db.session.get(ConsentRecord, before.id)
    assert kept is not None
    assert kept.wording_version == before.wording_version


def test_each_role_lands_on_a_page_that_says_what_to_do(page: Any) -> None:
    officer = UserFactory(role="officer", name="Olu Officer")
    admin, lead = UserFactory(role="admin"), UserFactory(role="lead")
    sign_in(page, officer)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your to-do list")
    expect(page.locator("main")).not_to_contain_text("System health")
    _both_widths(page)
    _sign_out(page)

    sign_in(page, admin)
    expect(page.get_by_role("heading", name="System health")).to_be_visible()
    expect(page.locator("main")).to_contain_text("no scheduler has ever reported")
    _both_widths(page)
    _sign_out(page)

    sign_in(page, lead)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Engagement dashboard")
    expect(
        page.get_by_role("navigation", name="Menu").get_by_role(
            "link", name="Dashboard"
        )
    ).to_have_count(1)


def test_the_public_link_and_its_qr_code_are_shown_again(page: Any) -> None:
    officer = UserFactory(role="officer")
    survey = make_survey(officer, title="Urgent care survey")
    sign_in(page, officer)
    page.goto(f"/surveys/{survey.id}")
    page.get_by_role("link", name="Make a public link").click()
    _both_widths(page)
    page.get_by_role("button", name="Make a public link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Public link")
    link = page.get_by_label("The link").input_value()
    assert link.startswith("http://engage.test/s/")
    qr = page.get_by_role("img", name=f"QR code for the link {link}")
    expect(qr).to_be_visible()
    # Drawn: loaded with a width (waiting for it, as a busy machine may be slow).
    page.wait_for_function(
        "image => image.complete && image.naturalWidth > 0", arg=qr.element_handle()
    )
    _both_widths(page)

    # Seen again later, from the survey's page.
    page.goto(f"/surveys/{survey.id}")
    page.get_by_role("link", name="See the link and its QR code").click()
    assert page.get_by_label("The link").input_value() == link

    # A new link is a separate step that says the old one will stop working.
    page.get_by_role("link", name="Make a new link").click()
    expect(page.locator("main .nhsuk-warning-callout")).to_contain_text(link)
    _both_widths(page)
    page.get_by_role("button", name="Make a new link").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text(
        "The old one no longer works."
    )
    assert page.get_by_label("The link").input_value() != link
