"""Expense claims in Chromium: the member claims without JavaScript, with a receipt;
staff approve and export; every page axe-clean at 1280 px and 390 px."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from playwright.sync_api import expect
from sqlalchemy import select

from engage.clock import utcnow
from engage.extensions import db
from engage.involvement.models import ClaimStatus
from engage.involvement.models import ExpenseClaim
from engage.involvement.models import InvolvementInvitation
from engage.involvement.models import InvolvementRate
from engage.involvement.tokens import invitation_token
from engage.membership.models import ContactChannel
from engage.organisation.models import Organisation
from tests.browser.conftest import assert_accessible
from tests.browser.conftest import sign_in
from tests.factories import UserFactory
from tests.involvement.helpers import activity
from tests.involvement.helpers import gold_member

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _both_widths(page: Any) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    assert_accessible(page)
    page.set_viewport_size({"width": 390, "height": 844})
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_member_claims_without_javascript_and_staff_approve_and_export(
    page_without_js: Any, page: Any, tmp_path: Path
) -> None:
    db.session.add(Organisation(id=1, name="NHS Northshire ICB", short_name="NICB"))
    level = InvolvementRate(name="Level 4: partnership", session_pence=7500)
    made = activity(starts=utcnow() - timedelta(days=1), rate=level)
    member = gold_member(name="Ada Lovelace")
    invitation = InvolvementInvitation(
        session_id=made.sessions[0].id,
        member_id=member.id,
        channel=ContactChannel.EMAIL,
        address=member.email,
    )
    db.session.add(invitation)
    db.session.commit()
    receipt = tmp_path / "bus ticket.pdf"
    receipt.write_bytes(PDF)

    link = f"/i/{invitation_token(invitation.id)}/claim"
    page.goto(link)  # axe needs JavaScript; the journey below is made without it
    expect(page.get_by_role("heading", level=1)).to_have_text("Claim expenses")
    _both_widths(page)
    member_page = page_without_js
    member_page.goto(link)
    member_page.get_by_label("Miles travelled by car (optional)").fill("12.5")
    member_page.get_by_label("Fares (bus, train, taxi, parking) (optional)").fill(
        "7.40"
    )
    member_page.get_by_label("Receipts (optional)").set_input_files(str(receipt))
    member_page.get_by_role("button", name="Send my claim").click()
    expect(member_page.get_by_text("Your claim has been sent")).to_be_visible()
    page.goto(member_page.url)
    expect(page.get_by_text("Waiting for approval")).to_be_visible()
    _both_widths(page)
    db.session.rollback()  # read what the server wrote
    claim = db.session.scalars(select(ExpenseClaim)).one()
    assert claim.total_pence == 7500 + 563 + 740

    officer = UserFactory(role="officer", name="Owen Officer")
    admin = UserFactory(role="admin", name="Alice Admin")
    db.session.commit()
    sign_in(page, officer)
    page.goto("/involvement/claims")
    _both_widths(page)
    page.get_by_role("link", name=f"Claim {claim.id}").click()
    _both_widths(page)
    page.get_by_label("Approve", exact=True).check()
    page.get_by_role("button", name="Save the decision").click()
    expect(page.get_by_text("Claim approved.")).to_be_visible()
    page.goto("/involvement/claims/export")
    _both_widths(page)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download").click()
    assert download.value.suggested_filename.endswith(".csv")
    db.session.rollback()
    assert db.session.get(ExpenseClaim, claim.id).status == ClaimStatus.EXPORTED

    page.context.clear_cookies()
    sign_in(page, admin)
    page.goto("/admin/involvement-rates")
    _both_widths(page)
    page.get_by_role("button", name="Add a level").click()
    _both_widths(page)
