"""Who is invited to an involvement activity, and every message sent about it."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import select

from engage.audiences.models import AudienceContact
from engage.bench.fake_notify import FakeNotify
from engage.clock import utcnow
from engage.extensions import db
from engage.involvement import invitations
from engage.involvement.models import ActivityStatus
from engage.involvement.models import InvolvementInvitation
from engage.involvement.models import Reply
from engage.involvement.models import SendStatus
from engage.involvement.tokens import invitation_token
from engage.mailings.models import Suppression
from engage.mailings.models import SuppressionReason
from engage.membership.models import ConsentMethod
from engage.membership.models import ContactChannel
from engage.membership.models import Member
from engage.membership.models import MemberStatus
from engage.membership.models import Tier
from jobs.involvement import send_involvement
from tests.factories import AudienceFactory
from tests.factories import UserFactory
from tests.involvement.helpers import activity
from tests.involvement.helpers import gold_member


@pytest.fixture(autouse=True)
def _reply_links(monkeypatch: pytest.MonkeyPatch) -> None:
    """The reply page is another part's: its link is stood in for here."""
    monkeypatch.setattr(
        invitations,
        "reply_url",
        lambda inv: (
            f"https://engage.test/i/{invitation_token(getattr(inv, 'id', inv))}"
        ),
    )


@pytest.fixture
def fake_notify(app: Flask) -> Iterator[FakeNotify]:
    """A fake GOV.UK Notify on loopback (as the mailing tests' own)."""
    fake = FakeNotify()
    fake.start()
    app.config.update(
        NOTIFY_API_KEY=fake.api_key,
        NOTIFY_BASE_URL=fake.base_url,
        NOTIFY_EMAIL_TEMPLATE_ID=str(uuid.uuid4()),
        NOTIFY_SMS_TEMPLATE_ID=str(uuid.uuid4()),
    )
    try:
        yield fake
    finally:
        fake.stop()


def _invited(made: Any) -> dict[str, ContactChannel]:
    """Invited people's names -> their channel (first session)."""
    rows = db.session.execute(
        select(Member.name, InvolvementInvitation.channel)
        .join(Member, Member.id == InvolvementInvitation.member_id)
        .where(InvolvementInvitation.session_id == made.sessions[0].id)
    )
    return dict(rows.all())


def _suppress(address: str) -> None:
    db.session.add(
        Suppression(
            channel=ContactChannel.EMAIL,
            address=address,
            reason=SuppressionReason.BOUNCED,
            recorded_at=utcnow(),
        )
    )
    db.session.commit()


def test_consent_decides_who_is_invited_and_by_which_one_channel() -> None:
    """Never withdrawn, erased, pending, unconsented or do-not-send (both databases)."""
    gold_member(name="Yes Email")
    gold_member(name="Gone", status=MemberStatus.WITHDRAWN, withdrawn_at=utcnow())
    gold_member(name="Erased", status=MemberStatus.ERASED)
    gold_member(name="Pending", status=MemberStatus.PENDING)
    gold_member(name="No Consent", consents=[])
    gold_member(name="Bounced", email="bounced@example.org")
    gold_member(name="Silver", tier=Tier.SILVER)
    gold_member(
        name="Both",
        phone="07700900001",
        consents=[ContactChannel.EMAIL, ContactChannel.SMS],
    )
    gold_member(name="Text Only", phone="07700900002", consents=[ContactChannel.SMS])
    gold_member(name="Letter Only", address="1 High St", consents=[ContactChannel.POST])
    _suppress("bounced@example.org")
    made = activity(sessions=2, by_email=True, by_sms=True, by_post=True)

    counts = invitations.invitation_counts(made)
    by_channel = {line.channel: line.members for line in counts.channels}
    assert by_channel == {
        ContactChannel.EMAIL: 2,
        ContactChannel.SMS: 1,
        ContactChannel.POST: 1,
    }
    assert counts.left_out["They have withdrawn from the membership"] == 1
    assert counts.left_out["Their details have been erased"] == 1
    assert counts.left_out["They have not confirmed their membership yet"] == 1
    assert any("do-not-send" in reason for reason in counts.left_out)

    assert invitations.prepare_invitations(made, utcnow()) == 8  # 4 people x 2
    db.session.commit()
    assert _invited(made) == {
        "Yes Email": ContactChannel.EMAIL,
        "Both": ContactChannel.EMAIL,
        "Text Only": ContactChannel.SMS,
        "Letter Only": ContactChannel.POST,
    }
    assert made.status is ActivityStatus.INVITING


def test_prepare_is_idempotent_and_skips_past_and_cancelled_sessions() -> None:
    gold_member(name="One")
    made = activity(sessions=3)
    made.sessions[1].cancelled_at = utcnow()
    db.session.commit()
    assert invitations.prepare_invitations(made, utcnow()) == 2
    assert invitations.prepare_invitations(made, utcnow()) == 0
    gold_member(name="Two")
    assert invitations.prepare_invitations(made, utcnow()) == 2
    total = db.session.scalar(select(func.count()).select_from(InvolvementInvitation))
    assert total == 4


def test_audience_contacts_are_invited_by_email_once() -> None:
    audience = AudienceFactory()
    db.session.add_all(
        [
            AudienceContact(audience=audience, name="Ann", email="Ann@Example.org"),
            AudienceContact(
                audience=audience, name="Ann again", email="ann@example.org"
            ),
            AudienceContact(audience=audience, name="No mail", email=""),
            AudienceContact(audience=audience, name="Blocked", email="x@example.org"),
        ]
    )
    db.session.commit()
    _suppress("x@example.org")
    made = activity(to_members=False, audiences=[audience])
    counts = invitations.invitation_counts(made)
    assert counts.channels[0].contacts == 1
    assert invitations.prepare_invitations(made, utcnow()) == 1
    assert invitations.prepare_invitations(made, utcnow()) == 0
    invited = db.session.scalars(select(InvolvementInvitation)).one()
    assert invited.address == "ann@example.org"


@pytest.mark.slow
def test_fifty_thousand_members_are_each_invited_once() -> None:
    """At the scale of a county's membership, in chunks, set-based (the speed is
    the benchmark's: `make bench`); the bound only catches a row-by-row slide."""
    made = activity()
    now = utcnow()
    db.session.execute(
        insert(Member),
        [
            {
                "name": f"Member {n}",
                "email": f"bulk{n}@example.org",
                "tier": Tier.GOLD,
                "status": MemberStatus.ACTIVE,
                "joined_by": ConsentMethod.PAPER,
                "is_champion": False,
                "created_at": now,
                "updated_at": now,
            }
            for n in range(50_000)
        ],
    )
    ids = db.session.scalars(select(Member.id)).all()
    from engage.membership.models import ConsentRecord

    db.session.execute(
        insert(ConsentRecord),
        [
            {
                "member_id": member_id,
                "channel": ContactChannel.EMAIL,
                "granted": True,
                "recorded_at": now,
                "method": ConsentMethod.PAPER,
                "wording_version": "test",
            }
            for member_id in ids
        ],
    )
    db.session.commit()
    started = time.monotonic()
    assert invitations.prepare_invitations(made, utcnow()) == 50_000
    db.session.commit()
    elapsed = time.monotonic() - started
    assert invitations.prepare_invitations(made, utcnow()) == 0
    invited = db.session.scalar(
        select(func.count(func.distinct(InvolvementInvitation.member_id)))
    )
    assert invited == 50_000
    assert elapsed < 60, elapsed


def _invite(made: Any) -> None:
    invitations.invite(made, actor=UserFactory(role="officer"), now=utcnow())
    db.session.commit()


def test_invitations_go_through_a_real_smtp_server_once(smtp_server: Any) -> None:
    gold_member(name="Priya Shah", email="priya@example.org")
    gold_member(name="Later No", email="later@example.org")
    made = activity(
        venue_name="Town Hall", online_link="https://meet.example/x", offers_bsl=True
    )
    _invite(made)
    # Consent withdrawn after the invitations were recorded: re-checked, not sent.
    later = db.session.scalars(select(Member).where(Member.name == "Later No")).one()
    from engage.membership.consent import record_consents

    record_consents(
        later, {ContactChannel.EMAIL: False}, method=ConsentMethod.PHONE, now=utcnow()
    )
    db.session.commit()

    counts = send_involvement(now=utcnow())
    assert counts["sent"] == 1
    assert counts["skipped"] == 1
    assert send_involvement(now=utcnow()).get("sent", 0) == 0
    (message,) = smtp_server.messages
    assert message["To"] == "priya@example.org"
    assert message["List-Unsubscribe"] is None
    body = message.get_body(("plain",)).get_content()
    assert "Dear Priya Shah" in body
    assert "Town Hall" in body
    assert "https://meet.example/x" in body
    assert "British Sign Language" in body
    assert "https://engage.test/i/" in body
    weekday = made.sessions[0].starts_at.astimezone().strftime("%A")
    assert weekday in body or "When:" in body


def test_texts_through_notify(fake_notify: FakeNotify) -> None:
    gold_member(name="Texter", phone="07700900123", consents=[ContactChannel.SMS])
    made = activity(by_email=False, by_sms=True)
    _invite(made)
    assert send_involvement(now=utcnow())["sent"] == 1
    (sent,) = fake_notify.received
    assert sent["kind"] == "sms"
    assert sent["body"]["phone_number"] == "07700900123"
    assert sent["body"]["reference"].startswith("involvement-")
    assert "https://engage.test/i/" in sent["body"]["personalisation"]["body"]


def _reply(made: Any, name: str, reply: Reply) -> InvolvementInvitation:
    found = db.session.scalars(
        select(InvolvementInvitation)
        .join(Member, Member.id == InvolvementInvitation.member_id)
        .where(
            Member.name == name, InvolvementInvitation.session_id == made.sessions[0].id
        )
    ).one()
    found.reply = reply
    found.replied_at = utcnow()
    db.session.commit()
    return found


def _subjects(fake: FakeNotify) -> list[tuple[str, str]]:
    return [
        (item["body"]["email_address"], item["body"]["personalisation"]["subject"])
        for item in fake.received
    ]


@pytest.fixture
def notify_email(app: Flask, fake_notify: FakeNotify) -> FakeNotify:
    app.config["MAILING_EMAIL_TRANSPORT"] = "notify"
    return fake_notify


def _three_replies(notify_email: FakeNotify) -> Any:
    for name in ("Coming", "Maybe", "Not", "Silent"):
        gold_member(name=name, email=f"{name.lower()}@example.org")
    made = activity()
    _invite(made)
    send_involvement(now=utcnow())
    notify_email.received.clear()
    _reply(made, "Coming", Reply.ATTENDING)
    _reply(made, "Maybe", Reply.MAYBE)
    _reply(made, "Not", Reply.NOT_ATTENDING)
    return made


def test_reminders_a_week_and_a_day_before_to_those_coming(
    notify_email: FakeNotify,
) -> None:
    made = _three_replies(notify_email)
    starts = made.sessions[0].starts_at
    assert send_involvement(now=utcnow()).get("sent", 0) == 0  # ten days ahead
    with time_machine.travel(starts - timedelta(days=7, minutes=-1), tick=False):
        assert send_involvement(now=utcnow())["sent"] == 2
        assert send_involvement(now=utcnow()).get("sent", 0) == 0
    assert sorted(_subjects(notify_email)) == [
        ("coming@example.org", f"Reminder: {made.title} is in a week's time"),
        ("maybe@example.org", f"Reminder: {made.title} is in a week's time"),
    ]
    notify_email.received.clear()
    with time_machine.travel(starts - timedelta(hours=23), tick=False):
        assert send_involvement(now=utcnow())["sent"] == 2
        assert send_involvement(now=utcnow()).get("sent", 0) == 0
    assert {s for _, s in _subjects(notify_email)} == {
        f"Reminder: {made.title} is tomorrow"
    }
    notify_email.received.clear()
    with time_machine.travel(starts + timedelta(minutes=1), tick=False):
        assert send_involvement(now=utcnow()).get("sent", 0) == 0


def test_a_late_reminder_is_sent_once_and_never_after_the_session(
    notify_email: FakeNotify,
) -> None:
    made = _three_replies(notify_email)
    starts = made.sessions[0].starts_at
    with time_machine.travel(starts - timedelta(days=3), tick=False):
        assert send_involvement(now=utcnow())["sent"] == 2  # the week one, late
    with time_machine.travel(starts - timedelta(days=2), tick=False):
        assert send_involvement(now=utcnow()).get("sent", 0) == 0
    notify_email.received.clear()
    with time_machine.travel(starts + timedelta(minutes=5), tick=False):
        assert send_involvement(now=utcnow()).get("sent", 0) == 0  # too late
    assert notify_email.received == []


def test_place_offered_change_and_cancellation_reach_the_right_people_once(
    notify_email: FakeNotify,
) -> None:
    made = _three_replies(notify_email)
    coming = _reply(made, "Coming", Reply.ATTENDING)
    coming.place_offered_at = utcnow()
    db.session.commit()
    send_involvement(now=utcnow())
    assert _subjects(notify_email) == [
        ("coming@example.org", f"A place has come free: {made.title}")
    ]
    assert send_involvement(now=utcnow()).get("sent", 0) == 0
    notify_email.received.clear()

    session = made.sessions[0]
    session.starts_at += timedelta(hours=1)
    session.ends_at += timedelta(hours=1)
    session.changed_at = utcnow() + timedelta(seconds=1)
    db.session.commit()
    send_involvement(now=utcnow() + timedelta(seconds=2))
    assert sorted(a for a, _ in _subjects(notify_email)) == [
        "coming@example.org",
        "maybe@example.org",
        "not@example.org",
    ]
    assert send_involvement(now=utcnow() + timedelta(seconds=2)).get("sent", 0) == 0
    notify_email.received.clear()

    invitations.cancel_session(
        session,
        "The room flooded",
        actor=UserFactory(role="officer"),
        now=utcnow() + timedelta(seconds=3),
    )
    db.session.commit()
    send_involvement(now=utcnow() + timedelta(seconds=4))
    assert sorted(a for a, _ in _subjects(notify_email)) == [
        "coming@example.org",
        "maybe@example.org",
        "not@example.org",
        "silent@example.org",
    ]
    body = notify_email.received[0]["body"]["personalisation"]["body"]
    assert "The room flooded" in body
    notify_email.received.clear()
    assert send_involvement(now=utcnow() + timedelta(seconds=5)).get("sent", 0) == 0
    assert notify_email.received == []


def test_cancelling_the_activity_drops_unsent_and_tells_those_sent(
    notify_email: FakeNotify,
) -> None:
    gold_member(name="Sent", email="sent@example.org")
    made = activity()
    _invite(made)
    send_involvement(now=utcnow())
    gold_member(name="Unsent", email="unsent@example.org")
    _invite(made)
    notify_email.received.clear()
    invitations.cancel_activity(
        made, "Not enough time", actor=UserFactory(role="officer"), now=utcnow()
    )
    db.session.commit()
    send_involvement(now=utcnow() + timedelta(seconds=1))
    assert _subjects(notify_email) == [("sent@example.org", f"Cancelled: {made.title}")]
    unsent = db.session.scalars(
        select(InvolvementInvitation).where(
            InvolvementInvitation.address == "unsent@example.org"
        )
    ).one()
    assert unsent.send_status is SendStatus.SKIPPED


# Staff pages -------------------------------------------------------------------------


def test_invite_page_counts_then_confirm_prepares(
    client: Any, login: Any, cast: Any
) -> None:
    gold_member(name="Yes")
    gold_member(name="Nope", consents=[])
    made = activity()
    login(cast["officer"])
    page = client.get(f"/involvement/{made.id}/invite")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "They have not agreed to emails: 1" in html
    response = client.post(f"/involvement/{made.id}/invite", data={})
    assert response.status_code == 302
    assert (
        db.session.scalar(select(func.count()).select_from(InvolvementInvitation)) == 1
    )
    listing = client.get(f"/involvement/{made.id}/invitations")
    assert listing.status_code == 200
    assert "Yes" in listing.get_data(as_text=True)


def test_export_is_formula_safe_and_audited(client: Any, login: Any, cast: Any) -> None:
    from engage.audit.models import AuditEvent

    gold_member(name="=HYPERLINK(1)")
    made = activity()
    invitations.prepare_invitations(made, utcnow())
    db.session.commit()
    login(cast["officer"])
    response = client.get(f"/involvement/{made.id}/invitations.csv")
    assert response.status_code == 200
    assert "'=HYPERLINK(1)" in response.get_data(as_text=True)
    assert client.get(f"/involvement/{made.id}/invitations.xlsx").status_code == 200
    assert client.get(f"/involvement/{made.id}/invitations.pdf").status_code == 404
    exported = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "export")
    ).all()
    assert len(exported) == 2


def test_cancel_pages_need_a_reason_and_tell_people(
    client: Any, login: Any, cast: Any
) -> None:
    made = activity(sessions=2)
    login(cast["officer"])
    first = made.sessions[0]
    url = f"/involvement/{made.id}/sessions/{first.id}/cancel"
    assert client.get(url).status_code == 200
    assert client.post(url, data={"reason": "  "}).status_code == 200
    assert client.post(url, data={"reason": "Room flooded"}).status_code == 302
    db.session.refresh(first)
    assert first.cancel_reason == "Room flooded"
    other = activity()
    bad = f"/involvement/{made.id}/sessions/{other.sessions[0].id}/cancel"
    assert client.get(bad).status_code == 404
    assert (
        client.post(
            f"/involvement/{made.id}/cancel", data={"reason": "No funding"}
        ).status_code
        == 302
    )
    db.session.refresh(made)
    assert made.status is ActivityStatus.CANCELLED


def test_letters_listed_to_print_then_marked_posted(
    client: Any, login: Any, cast: Any
) -> None:
    gold_member(
        name="By Post", address="1 High St\nTown", consents=[ContactChannel.POST]
    )
    made = activity(by_email=False, by_post=True)
    invitations.prepare_invitations(made, utcnow())
    db.session.commit()
    assert send_involvement(now=utcnow()).get("sent", 0) == 0  # letters are printed
    login(cast["officer"])
    page = client.get(f"/involvement/{made.id}/letters")
    html = page.get_data(as_text=True)
    assert "By Post" in html
    assert "https://engage.test/i/" in html
    printed = re.findall(r'name="printed" value="([^"]+)"', html)
    assert len(printed) == 1
    # Someone invited after the page was printed: their letter was not printed.
    gold_member(name="Later", address="2 High St\nTown", consents=[ContactChannel.POST])
    invitations.prepare_invitations(made, utcnow())
    db.session.commit()
    posted = client.post(
        f"/involvement/{made.id}/letters/posted", data={"printed": printed}
    )
    assert posted.status_code == 302
    by_status = dict(
        db.session.execute(
            select(Member.name, InvolvementInvitation.send_status).join(
                Member, Member.id == InvolvementInvitation.member_id
            )
        ).all()
    )
    assert by_status == {"By Post": SendStatus.SENT, "Later": SendStatus.PENDING}
    page = client.get(f"/involvement/{made.id}/letters").get_data(as_text=True)
    assert "Later" in page
    assert "By Post" not in page


def test_panel_gives_the_counts() -> None:
    from engage.involvement.panels import panels_for

    gold_member(name="A")
    made = activity(capacity=5)
    invitations.prepare_invitations(made, utcnow())
    db.session.commit()
    _reply(made, "A", Reply.ATTENDING)
    shown = dict(panels_for(made))
    (line,) = shown["involvement/_invitations_panel.html"]["lines"]
    assert (line.invited, line.coming, line.places_left) == (1, 1, 4)
