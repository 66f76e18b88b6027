"""An invited member replies, asks for support and gets the calendar file, in a browser.

The journey runs with and without JavaScript; each page is scanned with axe at 1280
and 390 px (with JavaScript) and must not scroll sideways on a phone.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from engage.extensions import db
from engage.involvement.models import ActivityStatus
from engage.involvement.models import InvolvementInvitation
from engage.involvement.models import Reply
from engage.involvement.models import SendStatus
from engage.involvement.tokens import invitation_token
from engage.membership.models import ContactChannel
from engage.membership.models import Member
from engage.membership.models import SupportNeed
from tests.browser.conftest import assert_accessible
from tests.involvement.helpers import activity
from tests.involvement.helpers import gold_member

SIZES = ({"width": 1280, "height": 900}, {"width": 390, "height": 844})


def _scan(page: Any, with_js: bool) -> None:
    if not with_js:
        return
    for size in SIZES:
        page.set_viewport_size(size)
        assert_accessible(page)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= size["width"], f"scrolls sideways at {size['width']} px"
    page.set_viewport_size(SIZES[0])


@pytest.mark.parametrize("with_js", [True, False], ids=["js", "no-js"])
def test_a_member_replies_and_asks_for_support(
    request: pytest.FixtureRequest, with_js: bool
) -> None:
    page = request.getfixturevalue("page" if with_js else "page_without_js")
    made = activity(
        status=ActivityStatus.INVITING,
        purpose="Tell us how stroke care at home could be better.",
        programme="Welcome\nSmall group discussions\nWhat happens next",
        venue_name="Civic Hall",
        venue_address="1 Market Street\nLeeds LS1 1AA",
        step_free=True,
        hearing_loop=True,
        parking="Free parking behind the hall",
        online_link="https://meet.example/stroke",
        offers_travel=True,
        offers_bsl=True,
        capacity=1,
    )
    session = made.sessions[0]
    member = gold_member()
    other = gold_member()
    invitations = [
        InvolvementInvitation(
            session_id=session.id,
            member_id=person.id,
            channel=ContactChannel.EMAIL,
            address=person.email,
            send_status=SendStatus.SENT,
        )
        for person in (member, other)
    ]
    db.session.add_all(invitations)
    db.session.commit()
    mine, theirs = invitations
    # The one place is taken: saying yes puts this member on the waiting list.
    theirs.reply = Reply.ATTENDING
    db.session.commit()

    page.goto(f"/i/{invitation_token(mine.id)}")
    expect(page.get_by_role("heading", level=1)).to_have_text(made.title)
    _scan(page, with_js)
    page.get_by_label("Yes, I am coming").check()
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_text("Thank you, we have your reply")).to_be_visible()
    expect(page.get_by_text("on the waiting list", exact=True)).to_be_visible()
    _scan(page, with_js)

    page.get_by_role("button", name="Send reply").click()  # no change: still waiting
    page.get_by_role("link", name="Tell us about any support you need").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Support you need at this session"
    )
    _scan(page, with_js)
    page.get_by_role("button", name="Send request").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text(
        "Select the support you need"
    )
    _scan(page, with_js)
    page.get_by_label("Hearing loop").check()
    page.get_by_label("Tell us anything else we should know").fill("A quiet room")
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_text("Thank you, we have your request")).to_be_visible()
    _scan(page, with_js)

    db.session.commit()  # a new snapshot: see what the server wrote
    needs = {n.need for n in db.session.get(Member, member.id).support_needs}
    assert needs == {SupportNeed.HEARING_LOOP}
    assert db.session.get(InvolvementInvitation, mine.id).reply == Reply.WAITING

    with page.expect_download() as download:
        page.goto(f"/i/{invitation_token(mine.id)}")
        page.get_by_role("link", name="Add this session to your calendar").click()
    assert download.value.suggested_filename == "involvement-session.ics"
