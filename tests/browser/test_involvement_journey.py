"""A focus group from start to finish, through the pages, in headless Chromium.

An officer plans it (three places, linked to an action) and invites the Gold members;
the send-involvement job sends the invitations through a real SMTP server on
loopback. Members reply through the private links in the emails they received: the
fourth to say "coming" waits, and gets the place someone gives up. One asks for a
hearing loop. The clock moves to a week and a day before: reminders reach those
coming. On the day the officer takes the register on a phone, with and without
JavaScript; a member claims mileage with a receipt, the officer approves it and
exports it for finance; the board report's evidence log shows the session. axe runs
on every page at 1280 and 390 px, and no page on the way is a server error.
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Iterator
from datetime import datetime
from datetime import time as wall_clock
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from playwright.sync_api import expect
from sqlalchemy import select

from engage.clock import local_day
from engage.clock import local_to_utc
from engage.clock import to_local
from engage.clock import utcnow
from engage.extensions import db
from engage.involvement.models import ClaimStatus
from engage.involvement.models import ExpenseClaim
from engage.involvement.models import InvolvementActivity
from engage.involvement.models import InvolvementInvitation
from engage.involvement.models import InvolvementRate
from engage.involvement.models import Reply
from engage.membership.models import ContactChannel
from engage.membership.models import Member
from engage.membership.models import MemberStatus
from engage.membership.models import SupportNeed
from engage.membership.models import Tier
from engage.organisation.models import Organisation
from jobs.involvement import send_involvement
from tests import factories
from tests.browser.conftest import DESKTOP
from tests.browser.conftest import PHONE
from tests.browser.conftest import SERVER_ERRORS
from tests.browser.conftest import Journey as PageJourney
from tests.browser.conftest import _new_page
from tests.browser.conftest import fill_date
from tests.browser.conftest import past_the_edge
from tests.browser.conftest import sign_in

TITLE = "Stroke services focus group"
#: The smallest PDF a receipt check accepts: its first bytes say what it is.
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


class Journey(PageJourney):
    """What the journey has seen: pages checked with axe, emails by step, errors."""

    def __init__(self, smtp_server: Any) -> None:
        super().__init__()
        self.smtp = smtp_server
        self.read = 0  # messages already handed out by new_mail()
        self.mail_by_step: dict[str, int] = {}

    def new_mail(self, step: str, count: int) -> list[Any]:
        """The next ``count`` messages the SMTP server receives (and no more)."""
        deadline = time.monotonic() + 10
        while len(self.smtp.messages) < self.read + count:
            assert time.monotonic() < deadline, f"{step}: the emails did not arrive"
            time.sleep(0.05)
        messages = list(self.smtp.messages)
        assert len(messages) == self.read + count, [m["Subject"] for m in messages]
        fresh = messages[self.read :]
        self.read = len(messages)
        self.mail_by_step[step] = count
        return fresh


@pytest.fixture
def journey(smtp_server: Any) -> Journey:
    return Journey(smtp_server)


@pytest.fixture
def visitor(browser: Any, live_server: str, journey: Journey) -> Iterator[Any]:
    """A browser with no one signed in, as a member opening their own link."""
    page = journey.watch(_new_page(browser, live_server))
    yield page
    page.context.close()


def _plain(message: Any) -> str:
    part = message.get_body(preferencelist=("plain",))
    return str(part.get_content())


def _link(message: Any) -> str:
    """The path of the private link in an email (/i/<token>)."""
    found = re.search(r"https?://\S+(/i/[A-Za-z0-9._~-]+)", _plain(message))
    assert found, _plain(message)
    return found.group(1)


def _people() -> dict[str, Any]:
    """Staff, the action, a level, and the members: five Gold who agreed to email,
    one Gold who did not, one who withdrew."""
    db.session.add(Organisation(id=1, name="NHS Northshire ICB", short_name="NICB"))
    db.session.add(InvolvementRate(name="Level 3: involvement", session_pence=2500))
    people: dict[str, Any] = {
        "officer": factories.UserFactory(role="officer", name="Olu Officer"),
        "admin": factories.UserFactory(role="admin", name="Alice Admin"),
        "action": factories.ActionFactory(
            title="Review stroke services with patients",
            channel=factories.ChannelFactory(name="Focus groups"),
        ),
    }
    people["gold"] = [
        factories.MemberFactory(
            name=name,
            email=f"{name.split()[0].lower()}@example.org",
            tier=Tier.GOLD,
            consents=[ContactChannel.EMAIL],
        )
        for name in (
            "Ada Ahmed",
            "Ben Brown",
            "Cara Clarke",
            "Dev Dutta",
            "Eve Evans",
        )
    ]
    people["no_email"] = factories.MemberFactory(
        name="Pat Post", email="pat@example.org", tier=Tier.GOLD, consents=[]
    )
    people["withdrawn"] = factories.MemberFactory(
        name="Wyn Withdrawn",
        email="wyn@example.org",
        tier=Tier.GOLD,
        status=MemberStatus.WITHDRAWN,
        consents=[ContactChannel.EMAIL],
    )
    db.session.commit()
    return people


def _plan(page: Any, journey: Journey, starts: datetime) -> int:
    """The officer plans the focus group through the form: the activity's id."""
    page.goto("/involvement/")
    journey.check(page)
    page.get_by_role("button", name="Plan an activity").click()
    journey.check(page)
    page.get_by_role("radio", name="Focus group", exact=True).check()
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("What it is for (optional)").fill(
        "Tell us how stroke care at home could be better."
    )
    page.get_by_label("The action in the plan it delivers").select_option(
        label="Review stroke services with patients"
    )
    page.get_by_label("Involvement level").select_option(
        label="Level 3: involvement (£25 a session)"
    )
    local = to_local(starts)
    fill_date(page, "Date of the first session", local.date())
    page.get_by_label("Start time").fill(local.strftime("%H:%M"))
    page.get_by_label("How long it lasts, in minutes").fill("120")
    page.get_by_label("Venue (optional)", exact=True).fill("Civic Hall")
    page.get_by_label("Places at each session (optional)").fill("3")
    page.get_by_role("button", name="Save activity").click()
    summary = page.locator(".nhsuk-error-summary")
    assert summary.count() == 0, summary.inner_text()
    expect(page.get_by_role("heading", level=1)).to_contain_text(TITLE)
    found = re.search(r"/involvement/(\d+)$", page.url)
    assert found, page.url
    journey.check(page)
    return int(found.group(1))


def _invite(
    page: Any, journey: Journey, people: dict[str, Any], starts: datetime
) -> dict[str, str]:
    """Invite people, confirmed; the job sends five emails: each member's link."""
    page.get_by_role("link", name="Invite people").click()
    table = page.get_by_role("table", name="Who will be invited, by channel")
    expect(table.get_by_role("row", name=re.compile("^Email"))).to_contain_text("5")
    left_out = page.locator("main").inner_text()
    assert "They have not agreed to emails: 1" in left_out
    assert "They have withdrawn from the membership: 1" in left_out
    journey.check(page)
    page.get_by_role("button", name="Yes, send the invitations").click()
    expect(page.locator("body")).to_contain_text(
        "Invitations will be sent within a minute."
    )
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Invitations and replies"
    )
    counts = send_involvement(now=utcnow())
    assert counts.get("sent") == 5, counts
    received = journey.new_mail("invitations", 5)
    to = sorted(str(m["To"]) for m in received)
    assert to == sorted(m.email for m in people["gold"])
    assert all(m["Subject"] == f"You are invited: {TITLE}" for m in received)
    local = to_local(starts)
    when = f"When: {local:%A} {local.day} {local:%B %Y} at 2pm to 4pm (UK time)"
    assert all(when in _plain(m) for m in received), _plain(received[0])
    assert send_involvement(now=utcnow()).get("sent", 0) == 0  # each once
    return {str(m["To"]): _link(m) for m in received}


def _reply(visitor: Any, link: str, answer: str) -> None:
    visitor.goto(link)
    visitor.get_by_label(answer).check()
    visitor.get_by_role("button", name="Send reply").click()
    expect(visitor.get_by_text("Thank you, we have your reply")).to_be_visible()


def _replies(
    visitor: Any, journey: Journey, links: dict[str, str], gold: list[Member]
) -> None:
    ada, ben, cara, dev, _ = gold
    visitor.goto(links[ada.email])
    expect(visitor.get_by_role("heading", level=1)).to_have_text(TITLE)
    journey.check(visitor)
    for member in (ada, ben, cara):
        _reply(visitor, links[member.email], "Yes, I am coming")
        expect(visitor.locator("main")).to_contain_text("You said you are coming")
    journey.check(visitor)
    _reply(visitor, links[dev.email], "Yes, I am coming")
    expect(visitor.get_by_text("on the waiting list", exact=True)).to_be_visible()
    expect(visitor.locator("main")).to_contain_text("(number 1)")
    journey.check(visitor)

    # Ben cannot come after all: Dev is given his place, and is told by email.
    _reply(visitor, links[ben.email], "No, I am not coming")
    expect(visitor.locator("main")).to_contain_text("You said you are not coming")
    visitor.goto(links[dev.email])
    expect(visitor.locator("main")).to_contain_text(
        "A place came free and it is yours: you are coming."
    )
    counts = send_involvement(now=utcnow())
    assert counts.get("sent") == 1, counts
    (place,) = journey.new_mail("a place has come free", 1)
    assert place["To"] == dev.email
    assert place["Subject"] == f"A place has come free: {TITLE}"
    assert _link(place) == links[dev.email]

    # Ada asks for a hearing loop.
    visitor.goto(links[ada.email])
    visitor.get_by_role("link", name="Tell us about any support you need").click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text(
        "Support you need at this session"
    )
    journey.check(visitor)
    visitor.get_by_label("Hearing loop").check()
    visitor.get_by_role("button", name="Send request").click()
    expect(visitor.get_by_text("Thank you, we have your request")).to_be_visible()
    journey.check(visitor)


def _replies_as_recorded(activity_id: int) -> dict[str, Reply]:
    db.session.rollback()  # a new snapshot: what the server wrote
    rows = db.session.execute(
        select(Member.email, InvolvementInvitation.reply)
        .join(InvolvementInvitation.member)
        .join(InvolvementInvitation.session)
        .where(InvolvementInvitation.session.has(activity_id=activity_id))
    ).all()
    return {str(email): reply for email, reply in rows}


def _staff_pages(
    page: Any, journey: Journey, activity_id: int, people: dict[str, Any]
) -> None:
    """The activity's page and the invitations page show the replies; Ada's record
    shows the hearing loop among her support needs."""
    page.goto(f"/involvement/{activity_id}")
    replies = page.get_by_role("table", name="Replies by session")
    row = replies.locator("tbody tr").first
    cells = [c.strip() for c in row.locator("td").all_inner_texts()]
    # Invited, coming, maybe, not coming, waiting, places left.
    assert cells == ["5", "3", "0", "1", "0", "0"], cells
    journey.check(page)
    page.get_by_role(
        "link", name="Who was invited, their replies and support asked for"
    ).click()
    expect(page.locator("main")).to_contain_text("Ada Ahmed")
    expect(page.locator("main")).to_contain_text("Hearing loop")
    journey.check(page)
    ada = people["gold"][0]
    page.goto(f"/members/{ada.id}")
    needs = page.locator(".nhsuk-summary-list__row").filter(has_text="Support needs")
    expect(needs).to_contain_text("Hearing loop")
    db.session.rollback()
    needs = {n.need for n in db.session.get(Member, ada.id).support_needs}
    assert SupportNeed.HEARING_LOOP in needs


def _reminders(journey: Journey, starts: datetime, coming: set[str]) -> None:
    """A week before, then a day before: reminders to those coming, once each."""
    for moment, step, soon in (
        (
            starts - timedelta(days=7) + timedelta(minutes=1),
            "week reminders",
            "in a week's time",
        ),
        (
            starts - timedelta(days=1) + timedelta(minutes=1),
            "day reminders",
            "tomorrow",
        ),
    ):
        with time_machine.travel(moment, tick=True):
            counts = send_involvement(now=utcnow())
            assert counts.get("sent") == len(coming), (step, counts)
            assert send_involvement(now=utcnow()).get("sent", 0) == 0
        received = journey.new_mail(step, len(coming))
        assert {str(m["To"]) for m in received} == coming
        assert {m["Subject"] for m in received} == {f"Reminder: {TITLE} is {soon}"}


def _register(
    page: Any,
    page_without_js: Any,
    journey: Journey,
    people: dict[str, Any],
    activity_id: int,
    session_id: int,
) -> None:
    """At 390 px the officer ticks Ada and Cara; without JavaScript, Dev."""
    ada, _, cara, dev, _ = people["gold"]
    register = f"/involvement/{activity_id}/sessions/{session_id}/register"
    page.set_viewport_size(PHONE)
    page.goto(register)
    expect(page.get_by_role("heading", level=1)).to_contain_text(TITLE)
    for member in (ada, cara):
        page.get_by_label(member.name, exact=True).check()
    page.get_by_role("button", name="Save the register").click()
    expect(page.locator("body")).to_contain_text(
        "Register saved: 2 ticked as came, 0 taken off."
    )
    expect(page.locator("body")).to_contain_text("2 people recorded as came")
    journey.check(page)

    no_js = journey.watch(page_without_js)
    no_js.set_viewport_size(PHONE)
    sign_in(no_js, people["officer"])
    no_js.goto(register)
    expect(no_js.get_by_label(ada.name, exact=True)).to_be_checked()
    no_js.get_by_label(dev.name, exact=True).check()
    no_js.get_by_role("button", name="Save the register").click()
    expect(no_js.locator("body")).to_contain_text(
        "Register saved: 1 ticked as came, 0 taken off."
    )
    expect(no_js.locator("body")).to_contain_text("3 people recorded as came")
    width = no_js.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, past_the_edge(no_js)
    for error in SERVER_ERRORS:
        assert error not in no_js.locator("body").inner_text()
    expect(no_js.get_by_label(dev.name, exact=True)).to_be_checked()
    expect(no_js.get_by_label(cara.name, exact=True)).to_be_checked()


def _claim(visitor: Any, journey: Journey, link: str, receipt: Path) -> None:
    """Ada claims 12.5 miles by car, with a receipt, through her own link."""
    visitor.goto(link + "/claim")
    expect(visitor.get_by_role("heading", level=1)).to_have_text("Claim expenses")
    journey.check(visitor)
    visitor.get_by_label("Miles travelled by car (optional)").fill("12.5")
    visitor.get_by_label("Receipts (optional)").set_input_files(str(receipt))
    visitor.get_by_role("button", name="Send my claim").click()
    expect(visitor.get_by_text("Your claim has been sent")).to_be_visible()
    expect(visitor.get_by_text("Waiting for approval")).to_be_visible()
    journey.check(visitor)


def _approve_and_export(page: Any, journey: Journey, ada: Member) -> int:
    """The officer approves Ada's claim and downloads the CSV for finance."""
    db.session.rollback()
    claim = db.session.scalars(select(ExpenseClaim)).one()
    # £25 for the session and 12.5 miles at 45p (£5.625, rounded up to £5.63).
    assert claim.total_pence == 2500 + 563
    page.goto("/involvement/claims")
    journey.check(page)
    page.get_by_role("link", name=f"Claim {claim.id}").click()
    expect(page.locator("main")).to_contain_text("Ada Ahmed")
    expect(page.locator("main")).to_contain_text("receipt.pdf")
    expect(page.locator("main")).to_contain_text("Came (ticked on the register)")
    journey.check(page)
    page.get_by_label("Approve", exact=True).check()
    page.get_by_role("button", name="Save the decision").click()
    expect(page.get_by_text("Claim approved.")).to_be_visible()
    page.goto("/involvement/claims/export")
    journey.check(page)
    page.get_by_label("CSV").check()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download").click()
    path = download.value.path()
    assert download.value.suggested_filename.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(Path(path).read_text("utf-8-sig"))))
    assert len(rows) == 1, rows
    (row,) = rows
    assert row["Claim number"].lstrip("'") == str(claim.id)
    assert row["Member name"] == ada.name
    assert row["Activity"] == TITLE
    assert row["Miles"] == "12.5"
    assert (row["Involvement payment (£)"], row["Mileage (£)"]) == ("25.00", "5.63")
    assert row["Total (£)"] == "30.63"
    db.session.rollback()
    assert db.session.get(ExpenseClaim, claim.id).status is ClaimStatus.EXPORTED
    return claim.id


def _board_report(page: Any, journey: Journey, starts: datetime) -> None:
    """The quarter that holds the session: its evidence log shows 3 took part."""
    day = local_day(starts)
    quarter = f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    page.goto(f"/dashboard/board-report?quarter={quarter}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Engagement report to the board"
    )
    log = page.get_by_role("region", name="Evidence log")
    line = log.get_by_role("row").filter(has_text=TITLE)
    expect(line).to_have_count(1)
    expect(line).to_contain_text("Focus group")
    cells = [c.strip() for c in line.locator("td").all_inner_texts()]
    # How many took part (Ada, Cara and Dev), and what changed.
    assert cells[-2:] == ["3", "Transport is now offered for follow-up visits."], cells
    journey.check(page)


def _evidence_pages(page: Any, journey: Journey, activity_id: int) -> None:
    """What we heard and what changed; the yearly summary; who took part."""
    page.goto(f"/involvement/{activity_id}")
    sessions = page.get_by_role("table", name="Sessions, in date order (UK time)")
    expect(sessions).to_contain_text("Under way")  # an hour into the session
    claims = page.get_by_role("table", name="Expense claims for this activity")
    expect(claims).to_contain_text("£30.63")
    page.get_by_role("link", name="Add what we heard").click()
    journey.check(page)
    page.get_by_label("What we heard (optional)").fill(
        "Getting to appointments is the hardest part."
    )
    page.get_by_label("What changed (optional)").fill(
        "Transport is now offered for follow-up visits."
    )
    page.get_by_role("button", name=re.compile("^Save")).click()
    expect(page.locator("main")).to_contain_text(
        "Transport is now offered for follow-up visits."
    )
    journey.check(page)
    for path in (
        "/involvement/summary",
        "/involvement/participation",
        f"/involvement/{activity_id}/participation",
    ):
        page.goto(path)
        expect(page.locator("main")).to_contain_text(
            re.compile("took part|involved", re.IGNORECASE)
        )
        journey.check(page)


# A whole journey: under load it outlasts the suite's usual two minutes.
@pytest.mark.timeout(360)
def test_a_focus_group_from_invitation_to_the_board_report(
    page: Any,
    page_without_js: Any,
    visitor: Any,
    journey: Journey,
    tmp_path: Path,
) -> None:
    people = _people()
    gold: list[Member] = people["gold"]
    ada, ben, cara, dev, eve = gold
    page = journey.watch(page)
    day = (to_local(utcnow()) + timedelta(days=10)).date()
    starts = local_to_utc(day, wall_clock(14, 0))

    # 1. Planned through the form and the invitations sent by the job.
    sign_in(page, people["officer"])
    activity_id = _plan(page, journey, starts)
    db.session.rollback()
    made = db.session.get(InvolvementActivity, activity_id)
    assert made is not None
    assert (made.capacity, made.action_id) == (3, people["action"].id)
    (session,) = made.sessions
    assert session.starts_at == starts
    links = _invite(page, journey, people, starts)
    assert people["no_email"].email not in links
    assert people["withdrawn"].email not in links

    # 2. Replies through the links in the emails; a freed place; support.
    _replies(visitor, journey, links, gold)
    assert _replies_as_recorded(activity_id) == {
        ada.email: Reply.ATTENDING,
        ben.email: Reply.NOT_ATTENDING,
        cara.email: Reply.ATTENDING,
        dev.email: Reply.ATTENDING,
        eve.email: Reply.NO_REPLY,
    }
    _staff_pages(page, journey, activity_id, people)

    # 3. Reminders a week and a day before, to those coming only.
    _reminders(journey, starts, {ada.email, cara.email, dev.email})

    # 4-5. On the day, an hour into the session.
    with time_machine.travel(starts + timedelta(hours=1), tick=True):
        page.context.clear_cookies()  # the sign-in has timed out in ten days
        sign_in(page, people["officer"])
        _register(page, page_without_js, journey, people, activity_id, session.id)
        page.set_viewport_size(DESKTOP)
        receipt = tmp_path / "receipt.pdf"
        receipt.write_bytes(PDF)
        _claim(visitor, journey, links[ada.email], receipt)
        _approve_and_export(page, journey, ada)
        _evidence_pages(page, journey, activity_id)
        _board_report(page, journey, starts)
        assert send_involvement(now=utcnow()).get("sent", 0) == 0

        # The involvement levels and mileage rate, as an administrator.
        page.context.clear_cookies()
        sign_in(page, people["admin"])
        page.goto("/admin/involvement-rates")
        expect(page.locator("main")).to_contain_text("Level 3: involvement")
        journey.check(page)

    # Nothing more reached anyone: not Ben, Eve, Pat or Wyn; no server errors.
    assert len(journey.smtp.messages) == journey.read
    every = {str(m["To"]) for m in journey.smtp.messages}
    assert every == {m.email for m in gold}
    assert journey.server_errors == []
    assert journey.mail_by_step == {
        "invitations": 5,
        "a place has come free": 1,
        "week reminders": 3,
        "day reminders": 3,
    }
    # 20 different pages (three members' reply pages), each at 1280 and 390 px.
    checked = set(journey.axe_pages)
    assert len(checked) == 20, sorted(checked)
