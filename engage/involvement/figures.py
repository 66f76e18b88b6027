"""Involvement figures: sessions held, attendances and people involved, counted in
the database for the dashboard, the board report's evidence log and the yearly
summary.

A session is *held* when it started before now and neither it nor its activity was
cancelled. Days are UK days. Attendances and people count those who took part:
members, stakeholder contacts and guests, never staff who attended. An attendance
is one person at one session; *people involved* counts each person once however
many sessions they came to (a guest, who is on no record, by the name they gave).
Different kinds of figure are never added together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy import Select
from sqlalchemy import distinct
from sqlalchemy import func
from sqlalchemy import select

from engage.actions.models import Action
from engage.clock import start_of_day
from engage.dashboard.counting import series_in_ranges
from engage.extensions import db
from engage.involvement.models import ActivityKind
from engage.involvement.models import ActivityStatus
from engage.involvement.models import Attendance
from engage.involvement.models import InvolvementActivity
from engage.involvement.models import InvolvementSession
from engage.membership.models import Member
from engage.membership.models import Tier

#: The groups "people involved" is broken down into, in order.
PEOPLE_GROUPS = (
    ("gold", "Gold members"),
    ("silver", "Silver members"),
    ("contacts", "Stakeholder contacts"),
    ("guests", "Guests"),
)


def moments(first: date, last: date) -> tuple[datetime, datetime]:
    """The UK days ``first`` to ``last`` (inclusive) as a half-open range of moments."""
    return start_of_day(first), start_of_day(last + timedelta(days=1))


def _held(now: datetime, programme_id: int | None = None) -> list[ColumnElement[bool]]:
    """Conditions on InvolvementSession for a session held by ``now``."""
    cancelled = select(InvolvementActivity.id).where(
        InvolvementActivity.status == ActivityStatus.CANCELLED
    )
    where = [
        InvolvementSession.cancelled_at.is_(None),
        InvolvementSession.starts_at < now,
        InvolvementSession.activity_id.not_in(cancelled),
    ]
    if programme_id is not None:
        where.append(
            InvolvementSession.activity_id.in_(
                select(InvolvementActivity.id)
                .join(Action, Action.id == InvolvementActivity.action_id)
                .where(Action.programme_id == programme_id)
            )
        )
    return where


def _took_part() -> ColumnElement[bool]:
    """An attendance by someone involved (not a member of staff)."""
    return Attendance.user_id.is_(None)


def sessions_and_attendances(
    spans: Sequence[tuple[date, date]],
    *,
    now: datetime,
    programme_id: int | None = None,
) -> list[tuple[int, int]]:
    """(sessions held, attendances) in each span of UK days, in one query."""
    ranges = [moments(first, last) for first, last in spans]
    held = _held(now, programme_id)
    sessions, attendances = series_in_ranges(
        ranges,
        [
            (InvolvementSession.starts_at, held),
            (
                InvolvementSession.starts_at,
                [*held, Attendance.session_id == InvolvementSession.id, _took_part()],
            ),
        ],
    )
    return list(zip(sessions, attendances, strict=True))


def _attendances_in(
    first: date, last: date, now: datetime, programme_id: int | None
) -> Select[Any]:
    """The ids of sessions held from ``first`` to ``last``."""
    low, high = moments(first, last)
    return select(InvolvementSession.id).where(
        InvolvementSession.starts_at >= low,
        InvolvementSession.starts_at < high,
        *_held(now, programme_id),
    )


def people_involved(
    first: date,
    last: date,
    *,
    now: datetime,
    programme_id: int | None = None,
    activity_id: int | None = None,
) -> dict[str, int]:
    """Different people who took part in sessions held from ``first`` to ``last``,
    by group (PEOPLE_GROUPS' keys), each counted once; members by their tier now."""
    sessions = _attendances_in(first, last, now, programme_id)
    if activity_id is not None:
        sessions = sessions.where(InvolvementSession.activity_id == activity_id)
    within = Attendance.session_id.in_(sessions)
    # The members who came, each once, then counted by tier: the join is to the
    # different members, not to every attendance (a county's year has thousands).
    by_tier = dict(
        db.session.execute(
            select(Member.tier, func.count())
            .where(Member.id.in_(select(Attendance.member_id).where(within)))
            .group_by(Member.tier)
        ).all()
    )
    contacts = db.session.scalar(
        select(func.count(distinct(Attendance.contact_id))).where(
            within, Attendance.contact_id.is_not(None)
        )
    )
    guests = db.session.scalar(
        select(
            func.count(distinct(func.lower(func.trim(Attendance.guest_name))))
        ).where(
            within,
            Attendance.member_id.is_(None),
            Attendance.contact_id.is_(None),
            _took_part(),
            Attendance.guest_name != "",
        )
    )
    return {
        "gold": int(by_tier.get(Tier.GOLD, 0)),
        "silver": int(by_tier.get(Tier.SILVER, 0)),
        "contacts": int(contacts or 0),
        "guests": int(guests or 0),
    }


@dataclass(frozen=True)
class KindFigures:
    """One kind of activity's figures for a span of days."""

    kind: ActivityKind
    activities: int
    sessions: int
    attendances: int


def by_kind(
    first: date, last: date, *, now: datetime, programme_id: int | None = None
) -> dict[ActivityKind, KindFigures]:
    """Activities with a session held, sessions held and attendances, by kind."""
    held = _attendances_in(first, last, now, programme_id)
    sessions = held.subquery()
    # Only the span's sessions' attendances are counted (not every session's, which
    # grew with the years of history).
    attended = (
        select(Attendance.session_id, func.count().label("n"))
        .where(_took_part(), Attendance.session_id.in_(held))
        .group_by(Attendance.session_id)
        .subquery()
    )
    rows = db.session.execute(
        select(
            InvolvementActivity.kind,
            func.count(distinct(InvolvementActivity.id)),
            func.count(InvolvementSession.id),
            func.coalesce(func.sum(attended.c.n), 0),
        )
        .select_from(InvolvementSession)
        .join(sessions, sessions.c.id == InvolvementSession.id)
        .join(
            InvolvementActivity,
            InvolvementActivity.id == InvolvementSession.activity_id,
        )
        .outerjoin(attended, attended.c.session_id == InvolvementSession.id)
        .group_by(InvolvementActivity.kind)
    ).all()
    found = {kind: KindFigures(kind, int(a), int(s), int(n)) for kind, a, s, n in rows}
    return {kind: found.get(kind, KindFigures(kind, 0, 0, 0)) for kind in ActivityKind}


@dataclass(frozen=True)
class HeldSession:
    """A session held, with its activity, its place in the series and who came."""

    session: InvolvementSession
    activity: InvolvementActivity
    #: Its number among the activity's sessions not cancelled, and how many there are.
    number: int
    of: int
    #: Attendances by people involved (not staff); None when none is recorded.
    attended: int | None


def held_sessions(
    first: date, last: date, *, now: datetime, programme_id: int | None = None
) -> list[HeldSession]:
    """The sessions held from ``first`` to ``last``, oldest first."""
    low, high = moments(first, last)
    attended = (
        select(Attendance.session_id, func.count().label("n"))
        .where(_took_part())
        .group_by(Attendance.session_id)
        .subquery()
    )
    rows = db.session.execute(
        select(InvolvementSession, attended.c.n)
        .outerjoin(attended, attended.c.session_id == InvolvementSession.id)
        .where(
            InvolvementSession.starts_at >= low,
            InvolvementSession.starts_at < high,
            *_held(now, programme_id),
        )
        .order_by(InvolvementSession.starts_at, InvolvementSession.id)
    ).all()
    shown = []
    for session, count in rows:
        activity = session.activity
        series = [s for s in activity.sessions if s.cancelled_at is None]
        number = next(
            (i for i, s in enumerate(series, start=1) if s.id == session.id), 1
        )
        shown.append(
            HeldSession(
                session,
                activity,
                number,
                len(series),
                int(count) if count else None,
            )
        )
    return shown


def outcomes_recorded(
    spans: Sequence[tuple[date, date]], *, programme_id: int | None = None
) -> list[int]:
    """Activities whose outcome was (last) recorded in each span of UK days."""
    where: list[ColumnElement[bool]] = [
        InvolvementActivity.status != ActivityStatus.CANCELLED,
        InvolvementActivity.what_changed != "",
    ]
    if programme_id is not None:
        where.append(
            InvolvementActivity.action_id.in_(
                select(Action.id).where(Action.programme_id == programme_id)
            )
        )
    return series_in_ranges(
        [moments(first, last) for first, last in spans],
        [(InvolvementActivity.outcome_recorded_at, where)],
    )[0]


def years_with_sessions(now: datetime) -> list[int]:
    """The years (UTC) in which a session was held, newest first."""
    year = func.extract("year", InvolvementSession.starts_at)
    return sorted(
        {
            int(y)
            for y in db.session.scalars(select(year).where(*_held(now)).distinct())
        },
        reverse=True,
    )
