"""A member of the public joins, confirms, manages and leaves the PPI scheme.

Mail goes through a real SMTP server on loopback; the journey runs with and without
JavaScript, and every public page is scanned with axe (with JavaScript).
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from engage.extensions import db
from engage.membership.consent import CONSENT_WORDING
from engage.membership.models import ContactChannel
from engage.membership.models import Member
from engage.membership.models import MemberStatus
from engage.membership.models import Topic
from tests.browser.conftest import assert_accessible

EMAIL = "jo.public@example.com"


def _wait_for_mail(smtp_server: Any, count: int) -> Any:
    deadline = time.monotonic() + 10
    while len(smtp_server.messages) < count:
        assert time.monotonic() < deadline, "no email arrived"
        time.sleep(0.05)
    return smtp_server.messages[count - 1]


def _path_of_link(message: Any) -> str:
    body = message.get_body(preferencelist=("plain",)).get_content()
    match = re.search(r"http://engage\.test(/\S+)", body)
    assert match, body
    return match.group(1)


def _comparable(html: str) -> str:
    html = re.sub(r'nonce="[^"]+"', "", html)
    return re.sub(r'name="csrf_token"[^>]*value="[^"]+"', "", html)


def _scan(page: Any, with_js: bool) -> None:
    if with_js:
        assert_accessible(page)


def _join(page: Any) -> str:
    """Fill in and send the join form; return the page as the server sent it."""
    page.goto("/join")
    page.get_by_label("Full name").fill("Jo Public")
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_label("Postcode").fill("ls1 4ap")
    page.get_by_label("Silver", exact=False).check()
    page.get_by_label(CONSENT_WORDING[ContactChannel.EMAIL]).check()
    with page.expect_response(
        lambda r: r.request.method == "POST" and r.url.endswith("/join")
    ) as answer:
        page.get_by_role("button", name="Join the scheme").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    return _comparable(answer.value.text())


@pytest.mark.parametrize("with_js", [True, False], ids=["js", "no-js"])
def test_public_member_joins_confirms_manages_and_leaves(
    request: pytest.FixtureRequest, smtp_server: Any, tmp_path: Path, with_js: bool
) -> None:
    page = request.getfixturevalue("page" if with_js else "page_without_js")
    db.session.add_all([Topic(name="Diabetes"), Topic(name="Maternity")])
    db.session.commit()

    # 1. The join form, first sent empty: errors are listed and linked.
    page.goto("/join")
    _scan(page, with_js)
    page.get_by_role("button", name="Join the scheme").click()
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_contain_text("Enter your full name")
    expect(summary).to_contain_text("Select at least one way we may contact you")
    _scan(page, with_js)

    # 2. Join as Silver with email consent; answer one optional question.
    first_answer = _join(page)
    _scan(page, with_js)
    page.get_by_role("link", name="Answer some questions about you").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("About you")
    _scan(page, with_js)
    page.locator("#age_band-3").check()
    page.get_by_role("button", name="Save my answers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")

    # 3. The confirmation email: opening the link changes nothing until the button.
    confirm_path = _path_of_link(_wait_for_mail(smtp_server, 1))
    assert confirm_path.startswith("/join/confirm/")
    page.goto(confirm_path)
    _scan(page, with_js)
    db.session.rollback()  # end the test's read snapshot: the server wrote since
    assert db.session.scalars(select(Member)).one().status is MemberStatus.PENDING
    page.get_by_role("button", name="Confirm my membership").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Your membership is confirmed"
    )

    # 4. Ask for the manage link; switch to Gold and add a topic.
    page.goto("/membership/manage")
    _scan(page, with_js)
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_role("button", name="Send me a link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    manage_path = _path_of_link(_wait_for_mail(smtp_server, 2))
    page.goto(manage_path)
    expect(page.get_by_label("Full name")).to_have_value("Jo Public")
    _scan(page, with_js)
    page.get_by_label("Gold", exact=False).check()
    page.get_by_label("Diabetes").check()
    page.get_by_role("button", name="Save my details").click()
    expect(page.locator("body")).to_contain_text("Your details have been saved")
    expect(page.get_by_label("Gold", exact=False)).to_be_checked()

    # 5. My data: a page to read and print, then the same as a JSON download.
    page.get_by_role("link", name="See all the information we hold about you").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "The information we hold about you"
    )
    details = page.locator(".nhsuk-summary-list").first
    expect(details).to_contain_text("Jo Public")
    expect(details).to_contain_text("Gold")
    expect(details).to_contain_text("Diabetes")
    expect(page.locator("body")).to_contain_text("By email")
    expect(page.locator("body")).to_contain_text("What is your age?")
    if with_js:
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            assert_accessible(page)
            assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.set_viewport_size({"width": 1280, "height": 900})
    page.emulate_media(media="print")
    expect(page.locator("h1")).to_be_visible()
    page.emulate_media(media="screen")
    page.get_by_role("link", name="Back to your membership").click()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download it as a JSON file").click()
    target = tmp_path / "data.json"
    download_info.value.save_as(target)
    data = json.loads(target.read_text())
    assert data["member"]["email"] == EMAIL
    assert data["member"]["tier"] == "gold"
    assert data["member"]["status"] == "active"
    assert data["topics"] == ["Diabetes"]
    assert data["equality_answers"]["age_band"] == "25_34"
    assert {"register", "confirm", "self_service_update", "export"} <= {
        event["action"] for event in data["audit_events"]
    }

    # 6. Leave the scheme: two steps from the link.
    page.get_by_role(
        "link", name="Leave the Patient and Public Involvement scheme"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Are you sure you want to leave the scheme?"
    )
    _scan(page, with_js)
    page.get_by_role("button", name="Yes, leave the scheme").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "You have left the scheme"
    )
    _scan(page, with_js)
    db.session.rollback()
    assert db.session.scalars(select(Member)).one().status is MemberStatus.WITHDRAWN

    # 7. Joining again with the same address: the same page, and a reminder email.
    assert _join(page) == first_answer
    reminder = _wait_for_mail(smtp_server, 3)
    assert reminder["Subject"].startswith("You are already registered")
    assert _path_of_link(reminder).startswith("/membership/manage/")
    db.session.rollback()
    assert len(db.session.scalars(select(Member)).all()) == 1


def test_public_result_pages_are_accessible(page: Any, smtp_server: Any) -> None:
    """The pages shown after a step (not scanned by the journey above) pass axe."""
    # The thank-you page, after the optional equality questions.
    _join(page)
    page.get_by_role("link", name="Answer some questions about you").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("About you")
    page.get_by_role("button", name="Save my answers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
    assert_accessible(page)

    # The confirmed page.
    page.goto(_path_of_link(_wait_for_mail(smtp_server, 1)))
    page.get_by_role("button", name="Confirm my membership").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Your membership is confirmed"
    )
    assert_accessible(page)

    # The manage-link-sent page.
    page.get_by_role("link", name="ask for a link to manage your membership").click()
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_role("button", name="Send me a link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    expect(page.locator("body")).to_contain_text("link to manage the membership")
    assert_accessible(page)
    _wait_for_mail(smtp_server, 2)

    # The joined page, for a member who gave a phone number and no email address.
    page.goto("/join")
    page.get_by_label("Full name").fill("Pat Phone")
    page.get_by_label("Phone number").fill("07700 900 982")
    page.get_by_label("Postcode").fill("LS1 4AP")
    page.get_by_label("Silver", exact=False).check()
    page.get_by_label(CONSENT_WORDING[ContactChannel.SMS]).check()
    page.get_by_role("button", name="Join the scheme").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "You have joined the scheme"
    )
    assert_accessible(page)
    db.session.rollback()
    members = db.session.scalars(select(Member).order_by(Member.id)).all()
    assert [(m.email, m.status) for m in members] == [
        (EMAIL, MemberStatus.ACTIVE),
        (None, MemberStatus.ACTIVE),
    ]


def test_email_change_pages_are_accessible(page: Any, smtp_server: Any) -> None:
    """Changing the address: the saved banner, the confirm page and the done page."""
    _join(page)
    page.goto(_path_of_link(_wait_for_mail(smtp_server, 1)))
    page.get_by_role("button", name="Confirm my membership").click()
    page.goto("/membership/manage")
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_role("button", name="Send me a link").click()
    page.goto(_path_of_link(_wait_for_mail(smtp_server, 2)))

    page.get_by_label("Email address").fill("jo.new@example.com")
    page.get_by_role("button", name="Save my details").click()
    expect(page.locator("body")).to_contain_text(
        "We have sent a link to jo.new@example.com"
    )
    assert_accessible(page)

    message = _wait_for_mail(smtp_server, 3)
    assert message["To"] == "jo.new@example.com"
    page.goto(_path_of_link(message))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Confirm your new email address"
    )
    assert_accessible(page)
    page.get_by_role("button", name="Use this email address").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Your email address has changed"
    )
    assert_accessible(page)
    db.session.rollback()
    assert db.session.scalars(select(Member)).one().email == "jo.new@example.com"
