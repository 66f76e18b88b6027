"""After invitations go out: who may still be written to, when reminders go again,
and what happens to the places of a member who leaves."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from engage.audiences.models import AudienceContact
from engage.clock import to_local
from engage.clock import utcnow
from engage.errors import Conflict
from engage.extensions import db
from engage.involvement import attendance
from engage.involvement import claims
from engage.involvement import invitations
from engage.involvement import replies
from engage.involvement import services
from engage.involvement.messages import Message
from engage.involvement.messages import Notice
from engage.involvement.messages import compose
from engage.involvement.models import ActivityStatus
from engage.involvement.models import Attendance
from engage.involvement.models import ExpenseClaim
from engage.involvement.models import InvolvementInvitation
from engage.involvement.models import Reply
from engage.involvement.models import SendStatus
from engage.involvement.tokens import invitation_token
from engage.membership.consent import record_consents
from engage.membership.consent import withdraw_member
from engage.membership.models import ConsentMethod
from engage.membership.models import ContactChannel
from jobs.involvement import send_involvement
from tests.factories import AudienceFactory
from tests.factories import UserFactory
from tests.involvement.helpers import activity
from tests.involvement.helpers import gold_member


@pytest.fixture(autouse=True)
def _reply_links(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        invitations,
        "reply_url",
        lambda inv: (
            f"https://engage.test/i/{invitation_token(getattr(inv, 'id', inv))}"
        ),
    )


def test_a_contact_is_not_written_to_once_a_member_at_their_address_says_no(
    smtp_server: Any,
) -> None:
    audience = AudienceFactory()
    db.session.add(
        AudienceContact(audience=audience, name="Ann", email="ann@example.org")
    )
    db.session.commit()
    made = activity(to_members=False, audiences=[audience])
    assert invitations.prepare_invitations(made, utcnow()) == 1
    db.session.commit()
    # After the invitation was recorded, a member at the same address (who had
    # agreed to emails) says no.
    member = gold_member(email="ann@example.org")
    record_consents(
        member, {ContactChannel.EMAIL: False}, method=ConsentMethod.PHONE, now=utcnow()
    )
    db.session.commit()

    counts = send_involvement(now=utcnow())

    assert counts.get("sent", 0) == 0
    assert smtp_server.messages == []
    invited = db.session.scalars(select(InvolvementInvitation)).one()
    assert invited.send_status is SendStatus.SKIPPED
    assert "said no to emails" in invited.outcome


def test_a_contact_is_written_to_at_their_address_as_it_is_now(
    smtp_server: Any,
) -> None:
    audience = AudienceFactory()
    contact = AudienceContact(audience=audience, name="Ann", email="ann@example.org")
    db.session.add(contact)
    db.session.commit()
    made = activity(to_members=False, audiences=[audience])
    invitations.prepare_invitations(made, utcnow())
    contact.email = "ann.new@example.org"
    db.session.commit()

    assert send_involvement(now=utcnow())["sent"] == 1

    (message,) = smtp_server.messages
    assert message["To"] == "ann.new@example.org"


def _invite(session: Any, reply: Reply, **member: Any) -> InvolvementInvitation:
    person = gold_member(**member)
    invitation = InvolvementInvitation(
        session_id=session.id,
        member_id=person.id,
        channel=ContactChannel.EMAIL,
        address=person.email,
        send_status=SendStatus.SENT,
        sent_at=utcnow(),
        reply=reply,
        waiting_since=utcnow() if reply is Reply.WAITING else None,
    )
    db.session.add(invitation)
    db.session.commit()
    return invitation


def test_a_moved_session_gets_its_reminders_again_before_its_new_date() -> None:
    made = activity(status=ActivityStatus.INVITING)
    (session,) = made.sessions
    coming = _invite(session, Reply.ATTENDING)
    coming.reminded_week_at = coming.reminded_day_at = utcnow()
    db.session.commit()
    later = to_local(session.starts_at) + timedelta(weeks=3)

    services.move_session(
        session, later.date(), later.time(), actor=UserFactory(), now=utcnow()
    )
    db.session.commit()

    db.session.refresh(coming)
    assert coming.reminded_week_at is None
    assert coming.reminded_day_at is None
    assert session.changed_at is not None  # and everyone is told of the new date


def test_a_member_who_leaves_gives_their_place_to_the_next_in_line() -> None:
    made = activity(status=ActivityStatus.INVITING, capacity=1)
    (session,) = made.sessions
    leaving = _invite(session, Reply.ATTENDING)
    first = _invite(session, Reply.WAITING)
    second = _invite(session, Reply.WAITING)
    second.waiting_since = first.waiting_since + timedelta(minutes=1)
    db.session.commit()

    withdraw_member(
        leaving.member, method=ConsentMethod.PHONE, actor="test", now=utcnow()
    )
    db.session.commit()

    for invitation in (leaving, first, second):
        db.session.refresh(invitation)
    assert leaving.reply is Reply.NOT_ATTENDING
    assert first.reply is Reply.ATTENDING
    assert first.place_offered_at is not None
    assert second.reply is Reply.WAITING


def test_a_waiting_member_who_leaves_is_not_given_a_place() -> None:
    made = activity(status=ActivityStatus.INVITING, capacity=1)
    (session,) = made.sessions
    coming = _invite(session, Reply.ATTENDING)
    leaving = _invite(session, Reply.WAITING)
    staying = _invite(session, Reply.WAITING)
    staying.waiting_since = leaving.waiting_since + timedelta(minutes=1)
    db.session.commit()
    withdraw_member(
        leaving.member, method=ConsentMethod.PHONE, actor="test", now=utcnow()
    )
    db.session.commit()

    replies.reply(coming, Reply.NOT_ATTENDING, utcnow())
    db.session.commit()

    db.session.refresh(staying)
    assert staying.reply is Reply.ATTENDING


def test_the_claim_link_of_a_member_who_left_works_no_more(
    client: FlaskClient,
) -> None:
    made = activity(status=ActivityStatus.INVITING, starts=utcnow() - timedelta(days=2))
    invitation = _invite(made.sessions[0], Reply.ATTENDING)
    link = f"/i/{invitation_token(invitation.id)}/claim"
    assert client.get(link).status_code == 200
    withdraw_member(
        invitation.member, method=ConsentMethod.PHONE, actor="test", now=utcnow()
    )
    db.session.commit()

    response = client.get(link)

    assert response.status_code == 404
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_a_reminder_says_when_in_uk_days() -> None:
    soon = activity(starts=utcnow() + timedelta(days=3))
    invitation = _invite(soon.sessions[0], Reply.ATTENDING)
    weekday = f"{to_local(soon.sessions[0].starts_at):%A}"

    message = compose(Notice.REMINDER_WEEK, invitation)

    assert message.subject == f"Reminder: {soon.title} is on {weekday}"


def test_the_e_mail_escapes_the_words_and_links_the_addresses() -> None:
    message = Message(
        subject="Focus <group>",
        text="Dear <Ann>,\n\nReply at https://engage.test/i/abc today\nThank you",
    )

    assert "<title>Focus &lt;group&gt;</title>" in message.html
    assert "<p>Dear &lt;Ann&gt;,</p>" in message.html
    assert (
        '<p>Reply at <a href="https://engage.test/i/abc">https://engage.test/i/abc</a>'
        " today<br>Thank you</p>"
    ) in message.html


def test_a_claim_sent_twice_at_once_keeps_one_and_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made = activity(status=ActivityStatus.INVITING, starts=utcnow() - timedelta(days=1))
    invitation = _invite(made.sessions[0], Reply.ATTENDING)
    first = claims.submit_claim(
        invitation,
        made.sessions[0],
        miles=Decimal(3),
        fares_pence=0,
        carer_pence=0,
        details="",
        receipts=[],
        entered_by=None,
        now=utcnow(),
    )
    db.session.commit()
    # The second request looked before the first one's claim was written.
    monkeypatch.setattr(claims, "claim_for", lambda *args: None)

    with pytest.raises(Conflict):
        claims.submit_claim(
            invitation,
            made.sessions[0],
            miles=Decimal(5),
            fares_pence=0,
            carer_pence=0,
            details="",
            receipts=[],
            entered_by=None,
            now=utcnow(),
        )

    db.session.rollback()
    kept = db.session.scalars(select(ExpenseClaim)).one()
    assert kept.id == first.id
    assert kept.miles == 3


def test_a_member_added_to_the_register_twice_at_once_is_there_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made = activity(
        status=ActivityStatus.INVITING, starts=utcnow() - timedelta(hours=1)
    )
    session = made.sessions[0]
    person = gold_member()
    officer = UserFactory()
    assert attendance.add_member(session, person.id, actor=officer, now=utcnow())
    db.session.commit()
    monkeypatch.setattr(attendance, "_existing", lambda *args, **kwargs: None)

    assert not attendance.add_member(session, person.id, actor=officer, now=utcnow())
    db.session.commit()

    assert len(db.session.scalars(select(Attendance)).all()) == 1
