"""An officer sends a newsletter from Engage, end to end, in headless Chromium.

Composed from a saved template and linked to an action, previewed, tested, scheduled,
then sent to a handful of members through a real SMTP server on loopback (the
send-mailings job does the sending, as the scheduler would). A member unsubscribes
with the one-click POST a mail program makes; the delivery is logged on the action
and reaches the dashboard. axe runs on every mailing page at desktop and phone widths.
"""

from __future__ import annotations

import re
import time
import urllib.parse
from datetime import timedelta
from typing import Any

from playwright.sync_api import expect
from sqlalchemy import select

from engage.clock import today
from engage.clock import utcnow
from engage.extensions import db
from engage.mailings.links import unsubscribe_url
from engage.mailings.models import Mailing
from engage.mailings.models import MailingRecipient
from engage.mailings.models import MailingStatus
from engage.mailings.models import RecipientStatus
from engage.mailings.starters import ensure_starter_templates
from engage.membership.consent import may_contact
from engage.membership.models import ConsentMethod
from engage.membership.models import ConsentRecord
from engage.membership.models import ContactChannel
from engage.membership.models import Member
from engage.membership.models import MemberStatus
from jobs.mailings import send_mailings
from tests import factories
from tests.browser.conftest import assert_accessible
from tests.browser.conftest import sign_in
from tests.mailings.measure_helpers import sent_mailing

#: The widths every mailing page is checked at: a desktop and a phone.
DESKTOP, PHONE = 1280, 390


def _accessible_at_both_widths(page: Any) -> None:
    """axe finds nothing on the page at desktop width, nor at phone width."""
    for width in (DESKTOP, PHONE):
        page.set_viewport_size({"width": width, "height": 900})
        assert_accessible(page)
    page.set_viewport_size({"width": DESKTOP, "height": 900})


def _wait_for_mail(smtp_server: Any, count: int) -> list[Any]:
    deadline = time.monotonic() + 10
    while len(smtp_server.messages) < count:
        assert time.monotonic() < deadline, "the email did not arrive"
        time.sleep(0.05)
    return list(smtp_server.messages)


def _people() -> tuple[Any, list[Member], Member, Any]:
    """The officer, four members who agreed to email, one who did not; the action."""
    ensure_starter_templates(now=utcnow())
    officer = factories.UserFactory(role="officer", name="Olu Officer")
    action = factories.ActionFactory(
        title="Monthly PPI newsletter",
        channel=factories.ChannelFactory(name="Newsletter"),
    )
    members = [
        factories.MemberFactory(name=name, email=email, consents=[ContactChannel.EMAIL])
        for name, email in (
            ("Ada Ahmed", "ada@example.org"),
            ("Ben Brown", "ben@example.org"),
            ("Cara Clarke", "cara@example.org"),
            ("Dev Dutta", "dev@example.org"),
        )
    ]
    by_post = factories.MemberFactory(
        name="Pat Post", email="pat@example.org", consents=[ContactChannel.POST]
    )
    db.session.commit()
    return officer, members, by_post, action


def _compose(page: Any) -> int:
    """From the list, a new mailing from the PPI newsletter template: its id."""
    page.goto("/mailings/")
    _accessible_at_both_widths(page)
    page.get_by_role("button", name="Create a mailing").click()
    _accessible_at_both_widths(page)
    page.get_by_role("link", name="PPI newsletter").click()
    expect(page.locator("main")).to_contain_text("Started from the template")
    subject = page.get_by_label("Subject", exact=True)
    expect(subject).not_to_have_value("")
    subject.fill("Spring members' newsletter")
    page.get_by_label("The action in the plan it delivers").select_option(
        label="Monthly PPI newsletter"
    )
    page.get_by_role("button", name="Save mailing").click()
    expect(page.locator("body")).to_contain_text("Mailing saved as a draft.")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Spring members' newsletter"
    )
    expect(page.locator("main")).to_contain_text("Monthly PPI newsletter")
    _accessible_at_both_widths(page)
    match = re.search(r"/mailings/(\d+)$", page.url)
    assert match, page.url
    return int(match.group(1))


def _preview_and_test(page: Any, officer: Any, smtp_server: Any) -> None:
    page.get_by_role("button", name="Preview").click()
    frames = page.locator("iframe")
    expect(frames).to_have_count(2)
    widths = [frames.nth(i).get_attribute("width") for i in range(2)]
    assert widths == ["600", "360"]
    for i in range(2):
        heading = page.frame_locator("iframe").nth(i).get_by_role("heading", level=1)
        expect(heading).to_have_text("Spring members' newsletter")
    _accessible_at_both_widths(page)
    page.get_by_role("link", name="Back to the mailing").click()

    page.get_by_role("button", name="Send a test to me").click()
    expect(page.locator("body")).to_contain_text(
        f"Test email sent to you at {officer.email}."
    )
    (test,) = _wait_for_mail(smtp_server, 1)
    assert test["To"] == officer.email
    assert "Spring members' newsletter" in test["Subject"]


def _schedule(page: Any) -> None:
    page.get_by_role("link", name="Schedule").click()
    _accessible_at_both_widths(page)
    # Submitted empty: the errors are listed and linked.
    page.get_by_role("button", name="Schedule").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text(
        "Enter the date to send it"
    )
    _accessible_at_both_widths(page)
    tomorrow = today() + timedelta(days=1)
    group = page.get_by_role("group", name="Date to send")
    group.get_by_label("Day").fill(str(tomorrow.day))
    group.get_by_label("Month").fill(str(tomorrow.month))
    group.get_by_label("Year").fill(str(tomorrow.year))
    page.get_by_label("Time to send").fill("09:30")
    page.get_by_role("button", name="Schedule").click()
    expect(page.locator("body")).to_contain_text("Mailing scheduled.")
    expect(page.locator("main")).to_contain_text("9:30")
    assert "UTC" not in page.locator("main").inner_text()


def _send_now(page: Any, mailing_id: int) -> None:
    """The officer decides not to wait: send now, confirmed, then the progress page."""
    page.goto(f"/mailings/{mailing_id}")
    page.get_by_role("link", name="Send now").click()
    table = page.get_by_role("table", name="Who gets it, by channel")
    expect(table).to_contain_text("4")
    _accessible_at_both_widths(page)
    page.get_by_role("button", name="Yes, send it now").click()
    expect(page.locator("body")).to_contain_text("Sending has started.")
    expect(page.locator("#progress-words")).to_have_text("0 of 4 sent")
    _accessible_at_both_widths(page)


def _one_click_unsubscribe(browser: Any, live_server: str, message: Any) -> None:
    """POST to the List-Unsubscribe address as a mail program does (RFC 8058):
    that body alone, from a client with no cookie and no CSRF token."""
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    header = str(message["List-Unsubscribe"])
    match = re.search(r"<(https?://[^>]+)>", header)
    assert match, header
    path = urllib.parse.urlsplit(match.group(1)).path
    client = browser.new_context()
    try:
        assert client.cookies() == []
        response = client.request.post(
            live_server + path,
            data="List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert response.status == 200, response.text()
    finally:
        client.close()


def test_an_officer_composes_schedules_sends_and_measures_a_newsletter(
    page: Any, browser: Any, live_server: str, smtp_server: Any
) -> None:
    officer, members, by_post, action = _people()
    sign_in(page, officer)

    mailing_id = _compose(page)
    _preview_and_test(page, officer, smtp_server)
    _schedule(page)
    _send_now(page, mailing_id)

    # The scheduler runs the send-mailings job; the progress page follows it.
    counts = send_mailings(now=utcnow())
    assert counts["sent"] == 4
    messages = _wait_for_mail(smtp_server, 5)[1:]
    assert sorted(m["To"] for m in messages) == [m.email for m in members]
    page.reload()
    expect(page.locator("#progress-words")).to_have_text("4 of 4 sent")
    expect(page.locator("main")).to_contain_text("Sent")
    _accessible_at_both_widths(page)

    # Ben's mail program offers "Unsubscribe": one POST, no cookie, no token.
    ben = members[1]
    (to_ben,) = [m for m in messages if m["To"] == ben.email]
    _one_click_unsubscribe(browser, live_server, to_ben)
    db.session.rollback()  # end the test's read snapshot: see what the server wrote
    assert not may_contact(ben, ContactChannel.EMAIL)
    assert ben.status is MemberStatus.ACTIVE
    withdrawal = db.session.scalars(
        select(ConsentRecord)
        .where(ConsentRecord.member_id == ben.id)
        .order_by(ConsentRecord.id.desc())
    ).first()
    assert withdrawal is not None
    assert (withdrawal.granted, withdrawal.method) == (False, ConsentMethod.UNSUBSCRIBE)
    assert all(may_contact(m, ContactChannel.EMAIL) for m in members if m is not ben)
    assert by_post.email not in {m["To"] for m in messages}

    # Staff see it on Ben's record: still a member, email withdrawn, the mailing.
    page.goto(f"/members/{ben.id}")
    record = page.locator("main")
    expect(record).to_contain_text("Spring members' newsletter")
    expect(record).to_contain_text("Active")
    history = page.get_by_role("region", name="Changes and consents, oldest first")
    expect(history).to_contain_text("nsubscribe")

    # The delivery is logged on the action, and the dashboard counts it as reach.
    page.goto(f"/actions/{action.id}")
    expect(page.locator("main")).to_contain_text(
        "Mailing sent: Spring members' newsletter"
    )
    day = today()
    page.goto(
        f"/dashboard/?period=quarter&value={day.year}-Q{(day.month - 1) // 3 + 1}"
    )
    words = " ".join(page.locator("main").inner_text().split())
    assert "4 Reach: sent" in words, words

    # The mailing's own page shows it sent, and its readership.
    page.goto(f"/mailings/{mailing_id}")
    expect(page.locator("main")).to_contain_text("Sent")
    _accessible_at_both_widths(page)
    db.session.rollback()
    mailing = db.session.get(Mailing, mailing_id)
    assert mailing is not None
    assert mailing.status is MailingStatus.SENT


def test_every_other_mailing_page_passes_axe_at_both_widths(
    page: Any, browser: Any, live_server: str
) -> None:
    """The pages the journey does not pass through: editing, who gets it and why
    not, letters, readership, templates, unsubscribing and the public archive."""
    ensure_starter_templates(now=utcnow())
    officer = factories.UserFactory(role="officer")
    members = [
        factories.MemberFactory(name="Ada Ahmed", consents=[ContactChannel.EMAIL]),
        factories.MemberFactory(name="Pat Post", consents=[ContactChannel.POST]),
    ]
    sent = sent_mailing(
        [RecipientStatus.SENT, (RecipientStatus.PRINTED, ContactChannel.POST)],
        members=members,
        subject="Winter members' newsletter",
    )
    draft = Mailing(
        subject="Spring members' newsletter",
        body="Thank you for your views.\n\n## Get involved\n\n- Coffee morning",
        by_email=True,
        by_post=True,
        to_members=True,
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    db.session.add(draft)
    db.session.commit()
    to_ada = db.session.scalars(
        select(MailingRecipient).where(MailingRecipient.member_id == members[0].id)
    ).one()
    unsubscribe = urllib.parse.urlsplit(unsubscribe_url(to_ada.id)).path
    db.session.commit()

    sign_in(page, officer)
    page.goto(f"/mailings/{draft.id}/edit")
    _accessible_at_both_widths(page)
    page.get_by_label("Subject", exact=True).fill("")
    page.get_by_role("button", name="Save mailing").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Enter a subject")
    _accessible_at_both_widths(page)

    page.goto(f"/mailings/{draft.id}/recipients")
    _accessible_at_both_widths(page)
    page.get_by_label("Member's name").fill("Pat")
    page.get_by_role("button", name="Look up").click()
    expect(page.locator("main")).to_contain_text("Pat Post")
    _accessible_at_both_widths(page)

    page.goto(f"/mailings/{draft.id}")
    page.get_by_role("button", name="Publish on the web").click()
    expect(page.locator("body")).to_contain_text("Published")

    for path in (
        f"/mailings/{sent.id}",
        f"/mailings/{sent.id}/letters",
        "/mailings/readership/",
        "/mailings/templates",
        "/mailings/templates/new",
    ):
        page.goto(path)
        _accessible_at_both_widths(page)
    page.goto("/mailings/templates")
    page.get_by_role("link", name="PPI newsletter (edit)").click()
    expect(page.get_by_label("Name")).to_have_value("PPI newsletter")
    _accessible_at_both_widths(page)
    page.goto("/mailings/templates")
    page.get_by_role("link", name="Delete PPI newsletter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Delete the template PPI newsletter?"
    )
    _accessible_at_both_widths(page)
    page.get_by_role("link", name="No, keep it").click()
    expect(page.get_by_role("link", name="PPI newsletter (edit)")).to_be_visible()

    # The public pages, as someone who is not signed in sees them.
    public = browser.new_context(base_url=live_server)
    try:
        visitor = public.new_page()
        visitor.goto("/newsletters/")
        _accessible_at_both_widths(visitor)
        visitor.get_by_role("link", name="Spring members' newsletter").click()
        expect(visitor.get_by_role("heading", level=1)).to_have_text(
            "Spring members' newsletter"
        )
        _accessible_at_both_widths(visitor)
        visitor.goto(unsubscribe)
        expect(visitor.get_by_role("heading", level=1)).to_have_text(
            re.compile("Stop getting emails")
        )
        _accessible_at_both_widths(visitor)
        visitor.get_by_role("button", name="Stop getting emails").click()
        expect(visitor.get_by_role("heading", level=1)).to_have_text(
            "You will not get emails from us any more"
        )
        _accessible_at_both_widths(visitor)
        visitor.goto("/m/not-a-token/unsubscribe")
        _accessible_at_both_widths(visitor)
    finally:
        public.close()


def test_sending_and_its_progress_work_without_javascript(
    page_without_js: Any, smtp_server: Any
) -> None:
    page = page_without_js
    officer = factories.UserFactory(role="officer")
    factories.MemberFactory(name="Ada Ahmed", consents=[ContactChannel.EMAIL])
    draft = Mailing(
        subject="Spring members' newsletter",
        body="Thank you for your views.",
        by_email=True,
        to_members=True,
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    db.session.add(draft)
    db.session.commit()

    sign_in(page, officer)
    page.goto(f"/mailings/{draft.id}")
    page.get_by_role("link", name="Send now").click()
    page.get_by_role("button", name="Yes, send it now").click()
    expect(page.locator("#progress-words")).to_have_text("0 of 1 sent")
    # Without JavaScript the page reloads itself while sending, until told not to.
    assert page.locator('meta[http-equiv="refresh"]').count() == 1
    page.get_by_role("link", name="Stop the updates").click()
    assert page.locator('meta[http-equiv="refresh"]').count() == 0
    expect(page.locator("main")).to_contain_text("no longer updates itself")
    page.get_by_role("button", name="Pause sending").click()
    expect(page.locator("body")).to_contain_text("Sending paused.")
    page.get_by_role("button", name="Resume sending").click()
    expect(page.locator("body")).to_contain_text("Sending resumed.")
