"""Staff pages for involvement activities: the form, sessions in UK time, the list."""

from __future__ import annotations

import calendar
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy import select

from engage.audit.models import AuditEvent
from engage.clock import local_to_utc
from engage.clock import to_local
from engage.clock import utcnow
from engage.extensions import db
from engage.involvement import services
from engage.involvement.models import ActivityKind
from engage.involvement.models import ActivityStatus
from engage.involvement.models import InvolvementActivity
from engage.involvement.models import InvolvementInvitation
from engage.involvement.models import InvolvementRate
from engage.involvement.models import InvolvementSession
from engage.involvement.models import Reply
from engage.involvement.models import SendStatus
from engage.membership.models import ContactChannel
from engage.membership.models import Tier
from tests.factories import ActionFactory
from tests.factories import AudienceFactory
from tests.involvement.helpers import activity
from tests.involvement.helpers import gold_member


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _last_sunday(year: int, month: int) -> date:
    last = date(year, month, calendar.monthrange(year, month)[1])
    return last - timedelta(days=(last.weekday() - 6) % 7)


def _day_fields(name: str, day: date) -> dict[str, str]:
    return {
        f"{name}-day": str(day.day),
        f"{name}-month": str(day.month),
        f"{name}-year": str(day.year),
    }


def _form(**overrides: Any) -> dict[str, Any]:
    """A good submission of the activity form: a one-off focus group next month."""
    first = (to_local(utcnow()) + timedelta(days=30)).date()
    data: dict[str, Any] = {
        "kind": "focus_group",
        "title": "Maternity voices focus group",
        "purpose": "To hear about antenatal care.",
        "programme": "Welcome\nDiscussion\nClose",
        "action_id": "",
        "rate_id": "",
        **_day_fields("first_day", first),
        "first_time": "14:00",
        "duration": "120",
        "recurrence": "none",
        "session_count": "",
        "venue_name": "Riverside Community Centre",
        "venue_address": "1 River Road\nTownton TN1 1AA",
        "step_free": "yes",
        "hearing_loop": "unknown",
        "parking": "Free car park",
        "public_transport": "Bus 12 stops outside",
        "accessibility_notes": "",
        "online_link": "",
        "capacity": "12",
        "support": ["bsl", "travel"],
        "support_notes": "",
        "to_members": "yes",
        "tier": "gold",
        "topic_id": "",
        "practice_id": "",
        "support_need": "",
        "channels": ["email"],
    }
    data.update(overrides)
    return data


def _errors(html: str) -> str:
    return html.split('class="nhsuk-error-summary', 1)[-1] if html else ""


# Creating through the form ---------------------------------------------------------


def test_an_officer_plans_a_focus_group_through_the_form(
    client: FlaskClient, login, cast
) -> None:
    rate = InvolvementRate(name="Level 4: partnership", session_pence=7500)
    free = InvolvementRate(name="Level 1: engagement", session_pence=0, position=-1)
    retired = InvolvementRate(name="Level 9: retired", is_active=False)
    action = ActionFactory(title="Maternity listening")
    db.session.add_all([rate, free, retired])
    db.session.commit()
    login(cast["officer"])

    page = client.get("/involvement/new").get_data(as_text=True)
    assert "Level 4: partnership (£75 a session)" in page
    assert "Level 1: engagement (expenses only)" in page
    assert "Level 9: retired" not in page

    response = client.post(
        "/involvement/new",
        data=_form(rate_id=str(rate.id), action_id=str(action.id)),
    )
    assert response.status_code == 302
    made = db.session.scalars(select(InvolvementActivity)).one()
    assert made.status is ActivityStatus.DRAFT
    assert made.kind is ActivityKind.FOCUS_GROUP
    assert made.rate_id == rate.id
    assert made.action_id == action.id
    assert made.step_free is True
    assert made.hearing_loop is None
    assert made.capacity == 12
    assert made.offers_bsl
    assert made.offers_travel
    assert not made.offers_carers
    assert made.tier is Tier.GOLD
    assert made.by_email
    assert not made.by_sms
    assert made.created_by_id == cast["officer"].id
    assert len(made.sessions) == 1
    starts = to_local(_utc(made.sessions[0].starts_at))
    assert (starts.hour, starts.minute) == (14, 0)
    assert _utc(made.sessions[0].ends_at) - _utc(made.sessions[0].starts_at) == (
        timedelta(hours=2)
    )
    audit = db.session.scalars(
        select(AuditEvent).where(AuditEvent.entity_type == "involvement_activity")
    ).one()
    assert (audit.action, audit.entity_type) == ("create", "involvement_activity")
    assert audit.entity_id == str(made.id)

    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    day = starts.strftime("%A %-d %B %Y")
    assert f"{day}, 2pm to 4pm" in detail
    assert "Level 4: partnership (£75 a session)" in detail
    assert "British Sign Language (BSL) interpreters" in detail
    assert "Help with travel" in detail
    assert "Step-free access" in detail
    assert "Not known" in detail
    assert "Gold members" in detail
    assert "Maternity listening" in detail


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"title": ""}, "title", "Enter a title"),
        ({"kind": ""}, "kind", "Choose what kind of activity it is"),
        ({"kind": "rave"}, "kind", "Select one of the options shown"),
        (
            {"first_day-day": "31", "first_day-month": "2"},
            "first_day",
            "must be a real date",
        ),
        ({"first_time": ""}, "first_time", "Enter the time the first session"),
        ({"first_time": "25:00"}, "first_time", "24-hour format"),
        ({"first_time": "6pm"}, "first_time", "24-hour format"),
        ({"duration": "5"}, "duration", "between 15 and 720 minutes"),
        ({"duration": "ninety"}, "duration", "Enter a whole number from 15 to 720"),
        ({"duration": "90.5"}, "duration", "Enter a whole number from 15 to 720"),
        (
            {"duration": "99999999999"},
            "duration",
            "A session lasts between 15 and 720 minutes",
        ),
        ({"capacity": "2.5"}, "capacity", "Enter a whole number from 1 to 10,000"),
        ({"capacity": "99999999999"}, "capacity", "from 1 to 10,000"),
        ({"recurrence": "weekly"}, "session_count", "how many sessions"),
        (
            {"recurrence": "weekly", "session_count": "53"},
            "session_count",
            "from 2 to 52",
        ),
        (
            {"recurrence": "weekly", "session_count": "1"},
            "session_count",
            "from 2 to 52",
        ),
        ({"recurrence": "none", "session_count": "4"}, "session_count", "repeats"),
        ({"recurrence": "ongoing"}, "recurrence", "Select one of the options"),
        ({"capacity": "0"}, "capacity", "from 1 to 10,000"),
        ({"capacity": "10001"}, "capacity", "from 1 to 10,000"),
        ({"online_link": "http://meet.example.com/x"}, "online_link", "https://"),
        ({"online_link": "javascript:alert(1)"}, "online_link", "https://"),
        ({"step_free": "maybe"}, "step_free", "Select one of the options"),
        ({"support": ["massage"]}, "support", "Select one of the options"),
        ({"channels": []}, "channels", "at least one way"),
        ({"channels": ["pigeon"]}, "channels", "Select one of the options"),
        ({"tier": "platinum"}, "tier", "Select one of the options"),
        ({"tier": ""}, "tier", "Select one of the options"),
        ({"to_members": "no"}, "audience_ids", "at least one audience"),
        ({"action_id": "999"}, "action_id", "Select one of the options"),
        ({"rate_id": "-1"}, "rate_id", "Select one of the options"),
        ({"audience_ids": ["12345"]}, "audience_ids", "Select one of the options"),
    ],
)
def test_each_refusal_is_on_its_field(
    client: FlaskClient,
    login,
    cast,
    overrides: dict[str, Any],
    field: str,
    message: str,
) -> None:
    login(cast["officer"])
    response = client.post("/involvement/new", data=_form(**overrides))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    summary = _errors(html)
    assert message in summary
    # The summary links to the field the message is about, and says it once.
    assert f'href="#{field}' in summary
    assert summary.count('href="#') == 1, summary
    assert db.session.scalars(select(InvolvementActivity)).first() is None


def test_invites_audiences_alone_when_members_are_not_asked(
    client: FlaskClient, login, cast
) -> None:
    audience = AudienceFactory(name="Carers' forum")
    login(cast["officer"])
    response = client.post(
        "/involvement/new",
        data=_form(
            to_members="no", audience_ids=[str(audience.id)], channels=["email", "sms"]
        ),
    )
    assert response.status_code == 302
    made = db.session.scalars(select(InvolvementActivity)).one()
    assert made.to_members is False
    assert [a.name for a in made.audiences] == ["Carers' forum"]
    assert made.by_sms
    assert made.by_email
    assert not made.by_post


# Series across the clock change ----------------------------------------------------


def test_a_weekly_series_keeps_its_uk_time_across_the_spring_clock_change(
    client: FlaskClient, login, cast
) -> None:
    year = to_local(utcnow()).year + 1
    change_day = _last_sunday(year, 3)
    first = change_day - timedelta(days=12)  # a Tuesday, two weeks before
    login(cast["officer"])
    response = client.post(
        "/involvement/new",
        data=_form(
            kind="reference_group",
            **_day_fields("first_day", first),
            first_time="18:00",
            duration="90",
            recurrence="weekly",
            session_count="4",
        ),
    )
    assert response.status_code == 302
    made = db.session.scalars(select(InvolvementActivity)).one()
    starts = [_utc(s.starts_at) for s in made.sessions]
    assert len(starts) == 4
    assert [to_local(s).strftime("%H:%M") for s in starts] == ["18:00"] * 4
    assert [to_local(s).date() for s in starts] == [
        first + timedelta(weeks=n) for n in range(4)
    ]
    # 6pm GMT is 18:00 UTC; 6pm BST is 17:00 UTC.
    assert [s.hour for s in starts] == [18, 18, 17, 17]
    detail = client.get(f"/involvement/{made.id}").get_data(as_text=True)
    assert "4 sessions, weekly, each 1 hour 30 minutes" in detail
    assert detail.count(", 6pm to 7:30pm</td>") == 4


def test_a_monthly_series_keeps_its_uk_time_across_the_autumn_clock_change() -> None:
    year = to_local(utcnow()).year + 1
    first = date(year, 10, 20)
    times = services.session_times(
        services.Schedule(
            first_day=first,
            first_time=datetime.strptime("10:00", "%H:%M").time(),
            duration_minutes=60,
            recurrence=services.Recurrence.MONTHLY,
            count=3,
        )
    )
    assert [to_local(s).strftime("%d %m %H:%M") for s, _ in times] == [
        "20 10 10:00",
        "20 11 10:00",
        "20 12 10:00",
    ]
    assert [s.hour for s, _ in times] == [9, 10, 10]
    assert all(e - s == timedelta(hours=1) for s, e in times)


def test_series_are_bounded() -> None:
    first = to_local(utcnow()).date() + timedelta(days=7)
    at = datetime.strptime("09:30", "%H:%M").time()
    schedule = services.Schedule(first, at, 60, services.Recurrence.WEEKLY, 52)
    assert len(services.session_times(schedule)) == 52
    for bad in (
        services.Schedule(first, at, 60, services.Recurrence.WEEKLY, 53),
        services.Schedule(first, at, 60, services.Recurrence.ONGOING, 3),
        services.Schedule(first, at, 5, services.Recurrence.NONE, 1),
        services.Schedule(first, at, 60, services.Recurrence.NONE, 2),
    ):
        with pytest.raises(services.ValidationError):
            services.session_times(bad)


# Editing, sessions and deleting ----------------------------------------------------


def test_editing_a_draft_remakes_its_sessions_from_the_schedule(
    client: FlaskClient, login, cast
) -> None:
    made = activity(sessions=1)
    login(cast["officer"])
    form = client.get(f"/involvement/{made.id}/edit").get_data(as_text=True)
    assert "Stroke services focus group" in form
    first = (to_local(utcnow()) + timedelta(days=20)).date()
    response = client.post(
        f"/involvement/{made.id}/edit",
        data=_form(
            title="Stroke services reference group",
            kind="reference_group",
            **_day_fields("first_day", first),
            first_time="10:30",
            duration="60",
            recurrence="monthly",
            session_count="3",
        ),
    )
    assert response.status_code == 302
    db.session.refresh(made)
    assert made.title == "Stroke services reference group"
    assert len(made.sessions) == 3
    assert {to_local(_utc(s.starts_at)).strftime("%H:%M") for s in made.sessions} == {
        "10:30"
    }
    event_ = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "update")
    ).one()
    assert "sessions" in event_.summary
    assert "title" in event_.summary


def _invite(session: InvolvementSession, *, sent: bool = True) -> InvolvementInvitation:
    member = gold_member()
    invitation = InvolvementInvitation(
        session_id=session.id,
        member_id=member.id,
        channel=ContactChannel.EMAIL,
        address=member.email,
        send_status=SendStatus.SENT if sent else SendStatus.PENDING,
        reply=Reply.ATTENDING,
    )
    db.session.add(invitation)
    db.session.commit()
    return invitation


def test_moving_a_session_after_invitations_marks_it_changed(
    client: FlaskClient, login, cast
) -> None:
    made = activity(sessions=2, status=ActivityStatus.INVITING)
    first, second = made.sessions
    _invite(first)
    login(cast["officer"])
    new_day = (to_local(_utc(first.starts_at)) + timedelta(days=1)).date()
    response = client.post(
        f"/involvement/{made.id}/sessions/{first.id}/edit",
        data={**_day_fields("day", new_day), "at": "19:15", "duration": "60"},
    )
    assert response.status_code == 302
    db.session.refresh(first)
    moved = to_local(_utc(first.starts_at))
    assert (moved.date(), moved.strftime("%H:%M")) == (new_day, "19:15")
    assert _utc(first.ends_at) - _utc(first.starts_at) == timedelta(hours=1)
    assert first.changed_at is not None
    # The other session (no one invited) is untouched.
    db.session.refresh(second)
    assert second.changed_at is None
    assert db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.action == "move_session")
    ).one()


def test_moving_a_session_no_one_was_sent_leaves_it_unmarked(
    client: FlaskClient, login, cast
) -> None:
    made = activity(sessions=1)
    (only,) = made.sessions
    _invite(only, sent=False)
    login(cast["officer"])
    new_day = (to_local(_utc(only.starts_at)) + timedelta(days=2)).date()
    client.post(
        f"/involvement/{made.id}/sessions/{only.id}/edit",
        data={**_day_fields("day", new_day), "at": "10:00", "duration": "90"},
    )
    db.session.refresh(only)
    assert to_local(_utc(only.starts_at)).date() == new_day
    assert only.changed_at is None


def test_once_invited_the_form_keeps_sessions_one_by_one(
    client: FlaskClient, login, cast
) -> None:
    made = activity(sessions=2, status=ActivityStatus.INVITING, venue_name="Hall")
    first, second = made.sessions
    _invite(first)
    login(cast["officer"])
    page = client.get(f"/involvement/{made.id}/edit").get_data(as_text=True)
    assert "first_day-day" not in page
    response = client.post(
        f"/involvement/{made.id}/edit",
        data=_form(
            title=made.title,
            venue_name="The Old Library",
            duration="150",
            first_time="01:00",  # not on this form: ignored
        ),
    )
    assert response.status_code == 302
    db.session.refresh(first)
    db.session.refresh(second)
    assert len(made.sessions) == 2
    assert _utc(first.ends_at) - _utc(first.starts_at) == timedelta(minutes=150)
    # The place changed: the invited session is marked, the other not.
    assert first.changed_at is not None
    assert second.changed_at is None


def test_adding_and_removing_sessions(client: FlaskClient, login, cast) -> None:
    made = activity(sessions=2)
    made_id = made.id
    first, second = made.sessions
    _invite(first)
    login(cast["officer"])
    day = (to_local(_utc(second.starts_at)) + timedelta(weeks=1)).date()
    response = client.post(
        f"/involvement/{made.id}/sessions/new",
        data={**_day_fields("day", day), "at": "13:00", "duration": "45"},
    )
    assert response.status_code == 302
    db.session.refresh(made)
    assert len(made.sessions) == 3
    added = made.sessions[-1]
    added_id = added.id
    assert to_local(_utc(added.starts_at)).strftime("%H:%M") == "13:00"
    assert local_to_utc(day, to_local(_utc(added.starts_at)).time()) == _utc(
        added.starts_at
    )

    # The same time again (for longer: the same form sent twice would only lead to
    # the first) is refused on the time field.
    again = client.post(
        f"/involvement/{made.id}/sessions/new",
        data={**_day_fields("day", day), "at": "13:00", "duration": "60"},
    ).get_data(as_text=True)
    assert "already a session at that date and time" in _errors(again)

    # A session with invitations is not removed; one without is.
    client.post(f"/involvement/{made.id}/sessions/{first.id}/remove")
    assert db.session.get(InvolvementSession, first.id) is not None
    client.post(f"/involvement/{made.id}/sessions/{added_id}/remove")
    db.session.expunge_all()
    assert db.session.get(InvolvementSession, added_id) is None
    # A session of another activity is not found through this one.
    other = activity(sessions=1)
    stranger = other.sessions[0].id
    url = f"/involvement/{made_id}/sessions/{stranger}/remove"
    assert client.post(url).status_code == 404
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"add_session", "remove_session"} <= actions


def test_the_last_session_is_not_removed(client: FlaskClient, login, cast) -> None:
    made = activity(sessions=1)
    login(cast["officer"])
    response = client.post(
        f"/involvement/{made.id}/sessions/{made.sessions[0].id}/remove",
        follow_redirects=True,
    )
    assert "at least one session" in response.get_data(as_text=True)
    assert len(db.session.get(InvolvementActivity, made.id).sessions) == 1


def test_a_draft_is_deleted_after_confirmation(
    client: FlaskClient, login, cast
) -> None:
    made_id = activity(sessions=3).id
    login(cast["officer"])
    confirm = client.get(f"/involvement/{made_id}/delete").get_data(as_text=True)
    assert "Delete Stroke services focus group?" in confirm
    assert "3 sessions" in confirm
    assert client.post(f"/involvement/{made_id}/delete").status_code == 302
    db.session.expunge_all()
    assert db.session.get(InvolvementActivity, made_id) is None
    assert db.session.scalars(select(InvolvementSession)).first() is None
    assert db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.action == "delete")
    ).one()


def test_an_activity_with_invitations_is_not_deleted(
    client: FlaskClient, login, cast
) -> None:
    inviting = activity(sessions=1, status=ActivityStatus.INVITING)
    draft = activity(sessions=1)
    _invite(draft.sessions[0], sent=False)
    login(cast["officer"])
    for made in (inviting, draft):
        response = client.post(f"/involvement/{made.id}/delete")
        assert response.status_code == 302
        assert db.session.get(InvolvementActivity, made.id) is not None


# The list ---------------------------------------------------------------------------


def test_the_list_filters_by_when_kind_and_status(
    client: FlaskClient, login, cast
) -> None:
    soon = activity(title="Soon focus group", capacity=10)
    _invite(soon.sessions[0])
    activity(
        title="Later reference group",
        kind=ActivityKind.REFERENCE_GROUP,
        status=ActivityStatus.INVITING,
        starts=utcnow() + timedelta(days=40),
        sessions=3,
    )
    activity(title="Last year's event", starts=utcnow() - timedelta(days=300))
    login(cast["lead"])

    upcoming = client.get("/involvement/").get_data(as_text=True)
    assert "Soon focus group" in upcoming
    assert "Later reference group" in upcoming
    assert "Last year" not in upcoming
    assert upcoming.index("Soon focus group") < upcoming.index("Later reference")
    assert "1 of 10" in upcoming  # places taken at the next session
    assert "3 sessions" in upcoming

    past = client.get("/involvement/?when=past").get_data(as_text=True)
    assert "Last year's event" in past or "Last year&#39;s event" in past
    assert "Soon focus group" not in past

    everything = client.get("/involvement/?when=all").get_data(as_text=True)
    assert "3 activities" in everything

    groups = client.get("/involvement/?when=all&kind=reference_group").get_data(
        as_text=True
    )
    assert "Later reference group" in groups
    assert "Soon focus group" not in groups

    drafts = client.get("/involvement/?when=all&status=draft").get_data(as_text=True)
    assert "Soon focus group" in drafts
    assert "Later reference group" not in drafts


def test_the_list_pages_and_keeps_its_filters(client: FlaskClient, login, cast) -> None:
    for n in range(30):
        activity(title=f"Group {n:02d}", starts=utcnow() + timedelta(days=n + 1))
    login(cast["officer"])
    first = client.get("/involvement/?when=upcoming").get_data(as_text=True)
    assert "Group 00" in first
    assert "Group 24" in first
    assert "Group 25" not in first
    assert "page=2" in first
    assert "when=upcoming" in first
    second = client.get("/involvement/?when=upcoming&page=2").get_data(as_text=True)
    assert "Group 25" in second
    assert "Group 29" in second
    assert "Group 00" not in second


@contextmanager
def _counted() -> Iterator[list[str]]:
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def _add_many(count: int) -> None:
    """``count`` activities of two sessions each, quickly."""
    start = utcnow() + timedelta(days=2)
    for n in range(count):
        made = InvolvementActivity(
            kind=ActivityKind.MEETING, title=f"Meeting {n}", capacity=20
        )
        for week in range(2):
            begins = start + timedelta(hours=n, weeks=week)
            made.sessions.append(
                InvolvementSession(
                    starts_at=begins, ends_at=begins + timedelta(hours=1)
                )
            )
        db.session.add(made)
    db.session.commit()


def test_the_list_stays_quick_with_two_thousand_activities(
    client: FlaskClient, login, cast
) -> None:
    login(cast["officer"])
    _add_many(3)
    client.get("/involvement/")  # the first request reads the organisation once
    with _counted() as few:
        assert client.get("/involvement/?when=all").status_code == 200
    _add_many(1997)
    # Read the organisation again if adding them outlasted the process's copy (a
    # loaded machine on PostgreSQL): the count compared is the list's own.
    client.get("/involvement/")
    with _counted() as many:
        started = time.perf_counter()
        html = client.get("/involvement/?when=all&page=40").get_data(as_text=True)
        took = time.perf_counter() - started
    assert "2000 activities" in html
    # Page 40 holds the 976th to 1,000th: the three made first come among the
    # first six, so these are numbers 972 to 996 of the second batch.
    assert ">Meeting 980<" in html
    assert ">Meeting 999<" not in html
    assert len(many) == len(few)
    touching = [s for s in many if "involvement" in s]
    # The page, its count, and the next sessions of the page's activities.
    assert len(touching) == 3
    # Tens of milliseconds on either engine; the bound only catches a lost join.
    assert took < 3


# Access and hostile input -----------------------------------------------------------


def test_a_lead_reads_but_does_not_change(client: FlaskClient, login, cast) -> None:
    made = activity(sessions=2)
    login(cast["lead"])
    assert client.get("/involvement/").status_code == 200
    page = client.get(f"/involvement/{made.id}")
    assert page.status_code == 200
    assert "Edit activity" not in page.get_data(as_text=True)
    assert client.get("/involvement/new").status_code == 403
    assert client.post("/involvement/new", data=_form()).status_code == 403
    assert client.post(f"/involvement/{made.id}/delete").status_code == 403
    session_id = made.sessions[0].id
    assert (
        client.post(f"/involvement/{made.id}/sessions/{session_id}/remove").status_code
        == 403
    )
    assert db.session.scalars(select(InvolvementActivity)).one().id == made.id


def test_a_visitor_is_sent_to_sign_in(client: FlaskClient) -> None:
    made = activity()
    for url in ("/involvement/", "/involvement/new", f"/involvement/{made.id}"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")


HOSTILE = [
    "",
    "\n",
    "\x00",
    "-1",
    "9" * 40,
    "' OR 1=1 --<script>",
    "\u202e\u0661",
    "x" * 20_000,
]


@pytest.mark.parametrize("value", HOSTILE)
def test_no_hostile_value_gives_a_500(
    client: FlaskClient, login, cast, value: str
) -> None:
    made = activity(sessions=2)
    session_id = made.sessions[0].id
    login(cast["officer"])
    for name in ("day-day", "day-month", "day-year", "at", "duration"):
        data = {"day-day": "1", "day-month": "6", "day-year": "2031", "at": "10:00"}
        data["duration"] = "60"
        data[name] = value
        for url in (
            f"/involvement/{made.id}/sessions/new",
            f"/involvement/{made.id}/sessions/{session_id}/edit",
        ):
            assert client.post(url, data=data).status_code < 500, name
    for name in _form():
        response = client.post("/involvement/new", data=_form(**{name: value}))
        assert response.status_code < 500, name
        response = client.post(
            f"/involvement/{made.id}/edit", data=_form(**{name: value})
        )
        assert response.status_code < 500, name
    for query in ("when", "kind", "status", "page"):
        response = client.get("/involvement/", query_string={query: value})
        assert response.status_code < 500


def test_more_places_go_to_those_waiting_in_the_order_they_asked(
    client: FlaskClient, login, cast
) -> None:
    made = activity(status=ActivityStatus.INVITING, capacity=1)
    (only,) = made.sessions
    _invite(only)  # coming: the one place
    waiting = [_invite(only), _invite(only), _invite(only)]
    for minutes, invitation in zip((3, 1, 2), waiting, strict=True):
        invitation.reply = Reply.WAITING
        invitation.waiting_since = utcnow() - timedelta(minutes=minutes)
    db.session.commit()
    login(cast["officer"])
    response = client.post(
        f"/involvement/{made.id}/edit", data=_form(title=made.title, capacity="3")
    )
    assert response.status_code == 302
    for invitation in waiting:
        db.session.refresh(invitation)
    # Two more places: the two who asked first (3 and 2 minutes ago) get them.
    assert [w.reply for w in waiting] == [
        Reply.ATTENDING,
        Reply.WAITING,
        Reply.ATTENDING,
    ]
    assert waiting[0].place_offered_at is not None
    assert waiting[1].place_offered_at is None
