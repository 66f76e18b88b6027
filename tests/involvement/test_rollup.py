"""The involvement rollup always gives the figures the sessions themselves give."""

from __future__ import annotations

import random
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select

from engage.audiences.services import remove_contact
from engage.extensions import db
from engage.involvement import figures
from engage.involvement import rollup
from engage.involvement.models import ActivityKind
from engage.involvement.models import ActivityStatus
from engage.involvement.models import Attendance
from engage.involvement.models import InvolvementActivity
from engage.involvement.models import InvolvementDay
from engage.involvement.models import InvolvementSession
from engage.membership.services import ErasureReason
from engage.membership.services import erase_member
from tests.factories import ActionFactory
from tests.factories import ContactFactory
from tests.factories import MemberFactory
from tests.factories import ProgrammeFactory
from tests.factories import UserFactory

START = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
#: "Now" for the figures: sessions go on for weeks after it, and one is later today.
NOW = datetime(2025, 4, 20, 12, 0, tzinfo=UTC)


def _stored() -> set[tuple[Any, ...]]:
    db.session.flush()
    return {
        tuple(row) for row in db.session.execute(select(*InvolvementDay.__table__.c))
    }


def _moment(rng: random.Random) -> datetime:
    # From START to a month after NOW, on the hour; 1 in 6 later on NOW's day.
    if rng.randrange(6) == 0:
        return NOW + timedelta(hours=rng.choice((-3, 2, 5)))
    return START + timedelta(hours=rng.randrange(24 * 80))


def _session(rng: random.Random) -> InvolvementSession:
    begins = _moment(rng)
    return InvolvementSession(starts_at=begins, ends_at=begins + timedelta(hours=2))


def _change(
    rng: random.Random, activities: list[InvolvementActivity], staff: list[Any]
) -> None:
    sessions = db.session.scalars(
        select(InvolvementSession).order_by(InvolvementSession.id)
    ).all()
    change = rng.randrange(9)
    if change in (0, 8) or not sessions:
        rng.choice(activities).sessions.append(_session(rng))
        return
    session = rng.choice(sessions)
    if change == 1:
        session.starts_at = _moment(rng)
        session.ends_at = session.starts_at + timedelta(hours=2)
    elif change == 2:
        session.cancelled_at = None if session.cancelled_at else NOW
    elif change == 3:
        db.session.add(
            Attendance(
                session=session,
                guest_name=f"Guest {rng.randrange(10**6)}",
                recorded_at=NOW,
            )
        )
    elif change == 4:
        came = db.session.scalars(
            select(Attendance)
            .where(Attendance.session_id == session.id)
            .order_by(Attendance.id)
        ).all()
        if came:
            db.session.delete(rng.choice(came))
    elif change == 5:
        activity = rng.choice(activities)
        activity.kind = rng.choice(list(ActivityKind))
        _move_a_guest(rng, session)
    elif change == 6:
        activity = rng.choice(activities)
        activity.status = (
            ActivityStatus.INVITING
            if activity.status is ActivityStatus.CANCELLED
            else ActivityStatus.CANCELLED
        )
    else:
        user = rng.choice(staff)
        taken = db.session.scalar(
            select(Attendance.id).where(
                Attendance.session_id == session.id, Attendance.user_id == user.id
            )
        )
        if taken is None:  # staff who came are on the register, never counted
            db.session.add(
                Attendance(session=session, user_id=user.id, recorded_at=NOW)
            )


def _move_a_guest(rng: random.Random, session: InvolvementSession) -> None:
    """An attendance put down against the wrong session, corrected (by object)."""
    came = db.session.scalars(select(Attendance).order_by(Attendance.id)).all()
    guests = [a for a in came if a.guest_name]
    if guests:
        rng.choice(guests).session = session


def _spans(rng: random.Random) -> list[tuple[date, date]]:
    first = (START + timedelta(days=rng.randrange(60))).date()
    spans = [(first, first + timedelta(days=rng.randrange(40)))]
    # A span over today, another ending today, and a day to come.
    today = NOW.date()
    spans += [(today - timedelta(days=3), today + timedelta(days=2)), (today, today)]
    return spans


def _check(rng: random.Random, programme_id: int) -> None:
    # Every figure from what the flushes kept equals the same figure counted from
    # the sessions themselves (every activity is in the one programme, whose
    # figures are counted from the sessions)…
    spans = _spans(rng)
    assert figures.sessions_and_attendances(
        spans, now=NOW
    ) == figures.sessions_and_attendances(spans, now=NOW, programme_id=programme_id)
    apart = [spans[0], (NOW.date() + timedelta(days=1), NOW.date() + timedelta(3))]
    if apart[0][1] < apart[1][0]:
        assert figures.sessions_by_kind_in(
            apart, now=NOW
        ) == figures.sessions_by_kind_in(apart, now=NOW, programme_id=programme_id)
    # …and what they kept equals a recount from scratch.
    stored = _stored()
    assert rollup.rebuild(db.session.connection()) == len(stored)
    assert _stored() == stored


def test_the_rollup_follows_every_change_to_sessions(app: Flask) -> None:
    rng = random.Random(20261207)
    action = ActionFactory(programme=ProgrammeFactory())
    staff = [UserFactory(), UserFactory()]
    activities = [
        InvolvementActivity(
            kind=rng.choice(list(ActivityKind)),
            title=f"Activity {n}",
            action_id=action.id,
            status=ActivityStatus.INVITING,
        )
        for n in range(3)
    ]
    db.session.add_all(activities)
    for round_ in range(40):
        for _ in range(rng.randrange(1, 4)):
            _change(rng, activities, staff)
        if round_ % 3 == 0:
            db.session.commit()
        _check(rng, action.programme_id)
    assert _stored(), "the rounds left sessions to count"
    counted = figures.sessions_and_attendances([(START.date(), NOW.date())], now=NOW)
    assert counted[0][0] > 0
    assert counted[0][1] > 0


def test_deleting_an_activity_takes_its_sessions_off(app: Flask) -> None:
    activity = InvolvementActivity(kind=ActivityKind.MEETING, title="Board")
    session = InvolvementSession(starts_at=START, ends_at=START + timedelta(hours=1))
    activity.sessions.append(session)
    db.session.add(activity)
    db.session.add(Attendance(session=session, guest_name="Ann", recorded_at=NOW))
    db.session.commit()
    assert _stored() == {(START.date(), ActivityKind.MEETING, 1, 1)}
    db.session.delete(activity)
    db.session.commit()
    assert _stored() == set()


def test_attendance_deleted_with_people_is_taken_off(app: Flask) -> None:
    """Erasing or purging a member, and deleting a contact, delete their attendance
    without the ORM seeing each row: the sessions are recounted all the same."""
    activity = InvolvementActivity(kind=ActivityKind.MEETING, title="Board")
    session = InvolvementSession(starts_at=START, ends_at=START + timedelta(hours=1))
    activity.sessions.append(session)
    erased, purged = MemberFactory(), MemberFactory()
    contact = ContactFactory()
    db.session.add(activity)
    for person in ({"member": erased}, {"member": purged}, {"contact": contact}):
        db.session.add(Attendance(session=session, recorded_at=NOW, **person))
    db.session.add(Attendance(session=session, guest_name="Ann", recorded_at=NOW))
    db.session.commit()
    assert _stored() == {(START.date(), ActivityKind.MEETING, 1, 4)}
    erase_member(erased, actor="test", reason=ErasureReason.MEMBER_REQUEST, now=NOW)
    db.session.commit()
    assert _stored() == {(START.date(), ActivityKind.MEETING, 1, 3)}
    db.session.delete(purged)
    remove_contact(contact, actor=UserFactory(), now=NOW)
    db.session.commit()
    assert _stored() == {(START.date(), ActivityKind.MEETING, 1, 1)}
    assert rollup.rebuild(db.session.connection()) == 1
    assert _stored() == {(START.date(), ActivityKind.MEETING, 1, 1)}
