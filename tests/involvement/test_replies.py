"""Replies through the private link: the waiting list, support, the calendar file."""

from __future__ import annotations

import re
import threading
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from icalendar import Calendar
from sqlalchemy import select

from engage.audit.models import AuditEvent
from engage.audit.words import describe
from engage.clock import utcnow
from engage.db import begin_write
from engage.errors import ValidationError
from engage.extensions import db
from engage.involvement import replies
from engage.involvement.models import ActivityStatus
from engage.involvement.models import InvolvementInvitation
from engage.involvement.models import InvolvementSession
from engage.involvement.models import Reply
from engage.involvement.models import SendStatus
from engage.involvement.tokens import invitation_token
from engage.mailings.tokens import recipient_token
from engage.membership.models import ContactChannel
from engage.membership.models import Member
from engage.membership.models import MemberStatus
from engage.membership.models import MemberSupportNeed
from engage.membership.models import SupportNeed
from tests.conftest import comparable
from tests.factories import AudienceFactory
from tests.involvement.helpers import activity
from tests.involvement.helpers import gold_member
from tests.tokens import tampered

LONDON = ZoneInfo("Europe/London")


def _invite(session: InvolvementSession, member: Member | None = None, **kw: Any):
    invitation = InvolvementInvitation(
        session_id=session.id,
        member_id=(member or gold_member()).id,
        channel=ContactChannel.EMAIL,
        address="someone@example.org",
        send_status=SendStatus.SENT,
        **kw,
    )
    db.session.add(invitation)
    db.session.commit()
    return invitation


def _invited(count: int, **fields: Any) -> tuple[InvolvementSession, list[Any]]:
    fields.setdefault("status", ActivityStatus.INVITING)
    made = activity(**fields)
    session = made.sessions[0]
    return session, [_invite(session) for _ in range(count)]


def _answer(invitation: InvolvementInvitation, answer: Reply, now: datetime) -> Reply:
    replies.reply(invitation, answer, now)
    db.session.commit()
    db.session.refresh(invitation)
    return invitation.reply


def _replies(invitations: list[InvolvementInvitation]) -> list[Reply]:
    db.session.commit()  # a new snapshot: see what other connections wrote
    return [db.session.get(InvolvementInvitation, i.id).reply for i in invitations]


# The waiting list ---------------------------------------------------------------------


def test_a_full_session_puts_the_next_person_on_the_waiting_list() -> None:
    session, people = _invited(4, capacity=3)
    now = utcnow()
    for step, person in enumerate(people):
        _answer(person, Reply.ATTENDING, now + timedelta(minutes=step))
    assert _replies(people) == [Reply.ATTENDING] * 3 + [Reply.WAITING]
    assert people[3].waiting_since == now + timedelta(minutes=3)
    assert replies.waiting_position(people[3]) == 1
    assert replies.places_left(session) == 0


def test_a_place_given_up_goes_to_the_first_waiting() -> None:
    session, people = _invited(4, capacity=3)
    now = utcnow()
    for step, person in enumerate(people):
        _answer(person, Reply.ATTENDING, now + timedelta(minutes=step))
    later = now + timedelta(hours=1)
    assert _answer(people[1], Reply.NOT_ATTENDING, later) == Reply.NOT_ATTENDING
    db.session.refresh(people[3])
    assert people[3].reply == Reply.ATTENDING
    assert people[3].place_offered_at == later
    assert people[3].place_told_at is None
    assert replies.attending_count(session) == 3
    # Those who got a place by saying yes were never "offered" one.
    assert people[0].place_offered_at is None


def test_maybe_gives_up_a_place_too() -> None:
    _, people = _invited(4, capacity=3)
    now = utcnow()
    for step, person in enumerate(people):
        _answer(person, Reply.ATTENDING, now + timedelta(minutes=step))
    _answer(people[0], Reply.MAYBE, now + timedelta(hours=1))
    assert _replies(people) == [Reply.MAYBE] + [Reply.ATTENDING] * 3


def test_the_waiting_list_keeps_its_order() -> None:
    session, people = _invited(6, capacity=3)
    now = utcnow()
    # Asked in the order 0, 1, 2 (places), then 5 before 4 (waiting in that order),
    # and 3 last; ties in time go by id.
    for person, minute in zip(
        [people[0], people[1], people[2], people[5], people[4], people[3]],
        [0, 1, 2, 3, 4, 4],
        strict=True,
    ):
        _answer(person, Reply.ATTENDING, now + timedelta(minutes=minute))
    assert [i.id for i in replies.waiting_list(session)] == [
        people[5].id,
        people[3].id,
        people[4].id,
    ]
    # Saying "coming" again keeps one's place in the queue.
    _answer(people[5], Reply.ATTENDING, now + timedelta(minutes=30))
    assert replies.waiting_position(people[5]) == 1
    _answer(people[0], Reply.NOT_ATTENDING, now + timedelta(hours=1))
    assert _replies(people)[5] == Reply.ATTENDING
    assert _replies(people)[3] == Reply.WAITING
    _answer(people[1], Reply.NOT_ATTENDING, now + timedelta(hours=2))
    assert _replies(people) == [
        Reply.NOT_ATTENDING,
        Reply.NOT_ATTENDING,
        Reply.ATTENDING,
        Reply.ATTENDING,
        Reply.WAITING,
        Reply.ATTENDING,
    ]
    assert replies.waiting_position(people[4]) == 1


def test_leaving_the_waiting_list_and_coming_back_goes_to_the_end() -> None:
    session, people = _invited(5, capacity=2)
    now = utcnow()
    for step, person in enumerate(people):
        _answer(person, Reply.ATTENDING, now + timedelta(minutes=step))
    _answer(people[2], Reply.NOT_ATTENDING, now + timedelta(minutes=10))
    _answer(people[2], Reply.ATTENDING, now + timedelta(minutes=11))
    assert [i.id for i in replies.waiting_list(session)] == [
        people[3].id,
        people[4].id,
        people[2].id,
    ]


def test_raising_the_capacity_fills_places_from_the_list() -> None:
    session, people = _invited(5, capacity=2)
    now = utcnow()
    for step, person in enumerate(people):
        _answer(person, Reply.ATTENDING, now + timedelta(minutes=step))
    session.activity.capacity = 4
    given = replies.fill_freed_places(session, now + timedelta(hours=1))
    db.session.commit()
    assert [i.id for i in given] == [people[2].id, people[3].id]
    assert _replies(people) == [Reply.ATTENDING] * 4 + [Reply.WAITING]
    session.activity.capacity = None
    replies.fill_freed_places(session, now + timedelta(hours=2))
    db.session.commit()
    assert _replies(people) == [Reply.ATTENDING] * 5


def test_no_limit_means_everyone_who_says_yes_is_coming() -> None:
    _, people = _invited(5, capacity=None)
    for person in people:
        _answer(person, Reply.ATTENDING, utcnow())
    assert _replies(people) == [Reply.ATTENDING] * 5


def test_cancelled_or_started_sessions_refuse_replies_in_words() -> None:
    session, (person,) = _invited(1, capacity=3)
    with pytest.raises(replies.RepliesClosed, match="already started"):
        replies.reply(person, Reply.ATTENDING, session.starts_at + timedelta(minutes=1))
    db.session.rollback()
    # Once over (the activity's sessions last 90 minutes by default), it was held.
    later = session.starts_at + timedelta(days=30)
    with pytest.raises(replies.RepliesClosed, match="has taken place"):
        replies.reply(person, Reply.ATTENDING, later)
    db.session.rollback()
    session.cancelled_at = utcnow()
    db.session.commit()
    with pytest.raises(replies.RepliesClosed, match="cancelled"):
        replies.reply(person, Reply.ATTENDING, utcnow())
    db.session.rollback()
    with pytest.raises(ValidationError):
        replies.reply(person, Reply.WAITING, utcnow())


def test_a_cancelled_session_gives_no_places() -> None:
    session, people = _invited(3, capacity=1)
    now = utcnow()
    for person in people:
        _answer(person, Reply.ATTENDING, now)
    session.activity.status = ActivityStatus.CANCELLED
    session.activity.capacity = 10
    assert replies.fill_freed_places(session, now) == []


# Two replies at once ------------------------------------------------------------------


def _reply_together(app: Flask, jobs: list[tuple[int, Reply]], now: datetime) -> None:
    """Send each (invitation id, answer) from its own thread and connection at once."""
    start = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def send(invitation_id: int, answer: Reply) -> None:
        try:
            with app.app_context():
                start.wait(timeout=10)
                # As a POST request does: the transaction starts as a write.
                begin_write(db.session())
                invitation = db.session.get(InvolvementInvitation, invitation_id)
                replies.reply(invitation, answer, now)
                db.session.commit()
                db.session.remove()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=send, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []


def test_replies_at_once_never_give_more_places_than_there_are(app: Flask) -> None:
    # On PostgreSQL (ENGAGE_TEST_DATABASE_URL) each reply locks the session's row;
    # on SQLite the writes queue for the database's one write lock. Both run here.
    session, people = _invited(8, capacity=3)
    _reply_together(app, [(p.id, Reply.ATTENDING) for p in people], utcnow())
    got = _replies(people)
    assert got.count(Reply.ATTENDING) == 3
    assert got.count(Reply.WAITING) == 5
    assert replies.attending_count(session) == 3


def test_places_given_up_at_once_go_to_the_waiting_in_order(app: Flask) -> None:
    session, people = _invited(10, capacity=3)
    now = utcnow()
    for step, person in enumerate(people[:6]):
        _answer(person, Reply.ATTENDING, now + timedelta(minutes=step))
    # 0, 1, 2 coming; 3, 4, 5 waiting. At once: 0 and 1 give up, 6–9 say yes.
    jobs = [(people[0].id, Reply.NOT_ATTENDING), (people[1].id, Reply.NOT_ATTENDING)]
    jobs += [(p.id, Reply.ATTENDING) for p in people[6:]]
    _reply_together(app, jobs, now + timedelta(hours=1))
    got = _replies(people)
    assert replies.attending_count(session) == 3
    assert [got[i] for i in (2, 3, 4)] == [Reply.ATTENDING] * 3
    assert got[5] == Reply.WAITING
    assert [got[i] for i in range(6, 10)] == [Reply.WAITING] * 4
    assert (
        replies.waiting_position(db.session.get(InvolvementInvitation, people[5].id))
        == 1
    )


# Support ------------------------------------------------------------------------------


def test_support_is_recorded_on_the_invitation_and_the_member() -> None:
    member = gold_member()
    db.session.add(MemberSupportNeed(member_id=member.id, need=SupportNeed.LARGE_PRINT))
    db.session.commit()
    session = activity(status=ActivityStatus.INVITING).sessions[0]
    invitation = _invite(session, member)
    replies.request_support(
        invitation,
        [SupportNeed.HEARING_LOOP, SupportNeed.LARGE_PRINT, SupportNeed.HEARING_LOOP],
        "  A seat near the front  ",
        utcnow(),
    )
    db.session.commit()
    db.session.expire_all()
    member = db.session.get(Member, member.id)
    assert sorted(n.need for n in member.support_needs) == [
        SupportNeed.HEARING_LOOP,
        SupportNeed.LARGE_PRINT,
    ]
    invitation = db.session.get(InvolvementInvitation, invitation.id)
    assert invitation.support_request == (
        "Hearing loop, Large print. A seat near the front"
    )
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "support_request")
    )
    assert event.entity_type == "involvement_invitation"
    assert "front" not in event.summary
    assert "Hearing" not in event.summary
    assert "1 new" in event.summary
    sentence = describe([event], None)[event.id].text
    assert "asked for support through an invitation" in sentence
    # Asking again adds nothing twice.
    replies.request_support(invitation, [SupportNeed.HEARING_LOOP], "", utcnow())
    db.session.commit()
    assert len(db.session.get(Member, member.id).support_needs) == 2


def test_a_contacts_support_stays_on_the_invitation() -> None:
    audience = AudienceFactory()
    from engage.audiences.models import AudienceContact

    contact = AudienceContact(audience_id=audience.id, name="Dr Ahmed")
    db.session.add(contact)
    db.session.commit()
    session = activity(status=ActivityStatus.INVITING).sessions[0]
    invitation = InvolvementInvitation(
        session_id=session.id,
        contact_id=contact.id,
        channel=ContactChannel.EMAIL,
        address="ahmed@example.org",
    )
    db.session.add(invitation)
    db.session.commit()
    replies.request_support(invitation, [SupportNeed.BSL], "", utcnow())
    db.session.commit()
    assert invitation.support_request == "British Sign Language (BSL) interpreter"
    assert db.session.scalars(select(MemberSupportNeed)).all() == []


def test_an_empty_support_request_is_refused() -> None:
    _, (invitation,) = _invited(1)
    with pytest.raises(ValidationError, match="Select the support"):
        replies.request_support(invitation, [], "   ", utcnow())


# The pages ----------------------------------------------------------------------------


def _url(invitation: InvolvementInvitation, page: str = "") -> str:
    return f"/i/{invitation_token(invitation.id)}{page}"


def test_the_invitation_page_says_what_when_and_where(client: FlaskClient) -> None:
    starts = datetime(utcnow().year + 1, 7, 14, 13, 0, tzinfo=UTC)  # BST
    made = activity(
        starts=starts,
        status=ActivityStatus.INVITING,
        purpose="Tell us how stroke care could be better.",
        venue_name="Civic Hall",
        venue_address="1 Market Street\nLeeds",
        step_free=True,
        hearing_loop=False,
        online_link="https://meet.example/abc",
        offers_bsl=True,
        capacity=10,
    )
    invitation = _invite(made.sessions[0])
    response = client.get(_url(invitation))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Tell us how stroke care could be better." in html
    assert f"14 July {starts.year}" in html
    assert "2pm to 4pm (UK time)" in html
    assert "/claim" not in html  # nothing to claim before it begins
    assert "Civic Hall" in html
    assert "There is step-free access." in html
    assert "There is no hearing loop." in html
    assert "British Sign Language (BSL) interpreters" in html
    assert 'name="robots" content="noindex' in html
    assert response.headers["X-Robots-Tag"].startswith("noindex")
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    assert not [c for c in response.headers.getlist("Set-Cookie") if "csrf" not in c]
    # The joining link only for those coming.
    assert "meet.example" not in html
    response = client.post(_url(invitation), data={"answer": "attending"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Thank you, we have your reply" in html
    assert 'href="https://meet.example/abc"' in html
    assert db.session.get(InvolvementInvitation, invitation.id).reply == Reply.ATTENDING


def test_the_page_shows_a_place_on_the_waiting_list(client: FlaskClient) -> None:
    _, people = _invited(2, capacity=1, online_link="https://meet.example/abc")
    client.post(_url(people[0]), data={"answer": "attending"})
    html = client.post(_url(people[1]), data={"answer": "attending"}).get_data(
        as_text=True
    )
    assert "on the waiting list</strong> (number 1)" in html
    assert "meet.example" not in html
    client.post(_url(people[0]), data={"answer": "not_attending"})
    html = client.get(_url(people[1])).get_data(as_text=True)
    assert "A place came free and it is yours" in html
    assert 'href="https://meet.example/abc"' in html


def test_a_started_session_shows_why_replies_are_closed(client: FlaskClient) -> None:
    made = activity(
        starts=utcnow() - timedelta(minutes=5), status=ActivityStatus.INVITING
    )
    invitation = _invite(made.sessions[0])
    html = client.get(_url(invitation)).get_data(as_text=True)
    assert "already started" in html
    # It leads to the claim for the session (before it began, it did not).
    assert f'href="{_url(invitation)}/claim"' in html
    assert "Send reply" not in html
    response = client.post(_url(invitation), data={"answer": "attending"})
    assert response.status_code == 400
    assert "already started" in response.get_data(as_text=True)
    assert db.session.get(InvolvementInvitation, invitation.id).reply == Reply.NO_REPLY


def test_an_expired_session_keeps_the_reply_and_the_support_asked_for(
    app: Flask, client: FlaskClient
) -> None:
    session = activity(status=ActivityStatus.INVITING).sessions[0]
    invitation = _invite(session, gold_member())
    app.config["WTF_CSRF_ENABLED"] = True
    reply = client.post(
        _url(invitation), data={"answer": "attending", "csrf_token": "expired"}
    )
    html = reply.get_data(as_text=True)
    assert reply.status_code == 400
    assert "Your session expired; check your answers and send the form again" in html
    assert re.search(r'value="attending"[^>]*checked', html)
    support = client.post(
        _url(invitation, "/support"),
        data={"words": "A quiet room, please", "csrf_token": "expired"},
    )
    html = support.get_data(as_text=True)
    assert support.status_code == 400
    assert "Your session expired" in html
    assert "A quiet room, please" in html
    assert db.session.get(InvolvementInvitation, invitation.id).reply == Reply.NO_REPLY
    # A link that does not work, sent a form without a token: a bad request.
    assert (
        client.post("/i/not-a-token", data={"answer": "attending"}).status_code == 400
    )


def test_the_support_page_records_a_request(client: FlaskClient) -> None:
    member = gold_member()
    session = activity(status=ActivityStatus.INVITING).sessions[0]
    invitation = _invite(session, member)
    page = client.get(_url(invitation, "/support")).get_data(as_text=True)
    assert "Hearing loop" in page
    assert 'name="words"' in page
    response = client.post(
        _url(invitation, "/support"),
        data={"needs": ["hearing_loop", "easy_read"], "words": "A quiet room"},
    )
    assert response.status_code == 200
    assert "Thank you, we have your request" in response.get_data(as_text=True)
    needs = {n.need for n in db.session.get(Member, member.id).support_needs}
    assert needs == {SupportNeed.HEARING_LOOP, SupportNeed.EASY_READ}
    nothing = client.post(_url(invitation, "/support"), data={"words": ""})
    assert nothing.status_code == 400
    assert "Select the support you need" in nothing.get_data(as_text=True)
    other = client.post(_url(invitation, "/support"), data={"needs": ["other"]})
    assert "Tell us what other support you need" in other.get_data(as_text=True)
    assert "Up to 300 characters." in page


# The calendar file --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("month", "local_hour"), [(7, 14), (1, 13)], ids=["summer-time", "winter"]
)
def test_the_calendar_file_has_the_right_times(
    client: FlaskClient, month: int, local_hour: int
) -> None:
    starts = datetime(utcnow().year + 1, month, 14, 13, 0, tzinfo=UTC)
    made = activity(
        starts=starts,
        status=ActivityStatus.INVITING,
        venue_name="Civic Hall",
        venue_address="1 Market Street\nLeeds",
        online_link="https://meet.example/abc",
    )
    invitation = _invite(made.sessions[0])
    response = client.get(_url(invitation, "/calendar.ics"))
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    calendar = Calendar.from_ical(response.data)
    (event,) = calendar.events
    assert event.start == starts
    assert event.start.astimezone(LONDON).hour == local_hour
    assert event.end == starts + timedelta(hours=2)
    assert str(event["UID"]) == f"involvement-session-{made.sessions[0].id}@engage.test"
    assert str(event["LOCATION"]) == "Civic Hall, 1 Market Street, Leeds"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert "meet.example" not in str(event["DESCRIPTION"])
    assert calendar.timezones  # Europe/London's rules travel with the file
    # The UID is the same each time; the joining link appears once they are coming.
    client.post(_url(invitation), data={"answer": "attending"})
    again = Calendar.from_ical(client.get(_url(invitation, "/calendar.ics")).data)
    assert str(again.events[0]["UID"]) == str(event["UID"])
    assert "https://meet.example/abc" in str(again.events[0]["DESCRIPTION"])


def test_a_cancelled_session_is_cancelled_in_the_calendar(client: FlaskClient) -> None:
    session, (invitation,) = _invited(1)
    session.cancelled_at = utcnow()
    db.session.commit()
    calendar = Calendar.from_ical(client.get(_url(invitation, "/calendar.ics")).data)
    event = calendar.events[0]
    assert str(event["STATUS"]) == "CANCELLED"
    assert int(event["SEQUENCE"]) > 0
    html = client.get(_url(invitation)).get_data(as_text=True)
    assert "This session has been cancelled" in html


# Links that do not work ---------------------------------------------------------------


def test_bad_links_get_the_same_404_as_unknown_pages(client: FlaskClient) -> None:
    _session, (invitation, other) = _invited(2)
    good = invitation_token(invitation.id)
    unknown = client.get("/no-such-page")
    assert unknown.status_code == 404
    expected = comparable(unknown)
    bad = [
        "garbage",
        tampered(good),  # altered
        good + "x" * 200,  # too long
        invitation_token(999_999),  # signed, but no such invitation
        recipient_token(invitation.id),  # a mailing's token: another salt
    ]
    for token in bad:
        for page in ("", "/support", "/calendar.ics"):
            response = client.get(f"/i/{token}{page}")
            assert response.status_code == 404, (token, page)
            assert comparable(response) == expected, (token, page)
        assert (
            client.post(f"/i/{token}", data={"answer": "attending"}).status_code == 404
        )
    # Someone who has left the scheme, or been erased: the link no longer works.
    member = db.session.get(Member, other.member_id)
    member.status = MemberStatus.WITHDRAWN
    member.withdrawn_at = utcnow()
    db.session.commit()
    response = client.get(_url(other))
    assert response.status_code == 404
    assert comparable(response) == expected
    member.status = MemberStatus.ERASED
    member.erased_at = utcnow()
    db.session.commit()
    assert client.get(_url(other, "/calendar.ics")).status_code == 404
    assert client.get(_url(invitation)).status_code == 200


def test_one_persons_link_never_shows_or_changes_anothers(client: FlaskClient) -> None:
    first = activity(status=ActivityStatus.INVITING, title="Maternity voices")
    second = activity(status=ActivityStatus.INVITING, title="Diabetes forum")
    mine = _invite(first.sessions[0])
    theirs = _invite(second.sessions[0], support_request="A ramp at the door")
    html = client.get(_url(mine)).get_data(as_text=True)
    assert "Maternity voices" in html
    assert "Diabetes forum" not in html
    assert "A ramp" not in html
    client.post(_url(mine), data={"answer": "attending"})
    client.post(_url(mine, "/support"), data={"needs": ["braille"]})
    db.session.expire_all()
    theirs = db.session.get(InvolvementInvitation, theirs.id)
    assert theirs.reply == Reply.NO_REPLY
    assert theirs.support_request == "A ramp at the door"
    assert db.session.get(Member, theirs.member_id).support_needs == []


HOSTILE = [
    "",
    "waiting",
    "no_reply",
    "ATTENDING",
    " attending",
    "<script>alert(1)</script>",
    "x" * 10_000,
    "\u202e",
    "1e9",
    "../../etc/passwd",
]


def test_hostile_form_values_never_give_a_500(app: Flask, client: FlaskClient) -> None:
    _, (invitation,) = _invited(1, capacity=1)
    app.config["INVOLVEMENT_REPLY_LIMIT"] = "1000 per hour"
    for value in HOSTILE:
        response = client.post(_url(invitation), data={"answer": value})
        assert response.status_code == 400, value
        response = client.post(_url(invitation), data={"answer": [value, "attending"]})
        assert response.status_code < 500, value
        response = client.post(
            _url(invitation, "/support"), data={"needs": value, "words": value}
        )
        assert response.status_code in (200, 400), value
    long_words = client.post(
        _url(invitation, "/support"), data={"needs": "braille", "words": "w" * 301}
    )
    assert long_words.status_code == 400
    assert "300 characters" in long_words.get_data(as_text=True)
    assert client.post(_url(invitation), data={"answer": "a\x00"}).status_code == 400
    assert db.session.get(InvolvementInvitation, invitation.id).reply in (
        Reply.NO_REPLY,
        Reply.ATTENDING,
    )


def test_forms_need_their_csrf_token(app: Flask, client: FlaskClient) -> None:
    _, (invitation,) = _invited(1)
    app.config["WTF_CSRF_ENABLED"] = True
    page = client.get(_url(invitation)).get_data(as_text=True)
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    assert token
    assert client.post(_url(invitation), data={"answer": "maybe"}).status_code == 400
    response = client.post(
        _url(invitation), data={"answer": "maybe", "csrf_token": token.group(1)}
    )
    assert response.status_code == 200
    assert db.session.get(InvolvementInvitation, invitation.id).reply == Reply.MAYBE


def test_replies_are_rate_limited_per_client(app: Flask, client: FlaskClient) -> None:
    _, (invitation,) = _invited(1)
    app.config["INVOLVEMENT_REPLY_LIMIT"] = "3 per hour"
    for _ in range(3):
        assert (
            client.post(_url(invitation), data={"answer": "maybe"}).status_code == 200
        )
    assert client.post(_url(invitation), data={"answer": "maybe"}).status_code == 429
    assert client.post(_url(invitation, "/support"), data={}).status_code == 429
    # Reading the page is not a reply.
    assert client.get(_url(invitation)).status_code == 200


def test_the_private_link_is_masked_in_logs() -> None:
    from engage.logs import mask_tokens

    token = invitation_token(42)
    assert "." in token  # a signed id: the part after the dot is the secret
    line = f'"GET /i/{token}/calendar.ics HTTP/1.1" 200 -'
    assert mask_tokens(line) == '"GET /i/[token]/calendar.ics HTTP/1.1" 200 -'
    assert mask_tokens(f"/i/{token}") == "/i/[token]"
    assert mask_tokens("/involvement/") == "/involvement/"
