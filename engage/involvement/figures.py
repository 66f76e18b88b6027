"""Involvement figures: sessions held, attendances and people involved, counted in
the database for the dashboard, the board report's evidence log and the yearly
summary.

A session is *held* when it started before now and neither it nor its activity was
cancelled. Days are UK days. Attendances and people count those who took part:
members, stakeholder contacts and guests, never staff who attended. An attendance
is one person at one session; *people involved* counts each person once however
many sessions they came to (a guest, who is on no record, by the name they gave).
Different kinds of figure are never added together.

Sessions and attendances over every programme are summed from the involvement
rollup (engage.involvement.rollup) for the days before today, a few rows per day
whatever the number of sessions; today's, and one programme's, are counted from
the sessions themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy import String
from sqlalchemy import and_
from sqlalchemy import case
from sqlalchemy import cast
from sqlalchemy import distinct
from sqlalchemy import func
from sqlalchemy import literal
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import union_all

from engage.actions.models import Action
from engage.clock import local_day
from engage.clock import start_of_day
from engage.dashboard.counting import pieces_of
from engage.dashboard.counting import series_in_ranges
from engage.extensions import db
from engage.involvement.models import ActivityKind
from engage.involvement.models import ActivityStatus
from engage.involvement.models import Attendance
from engage.involvement.models import InvolvementActivity
from engage.involvement.models import InvolvementDay
from engage.involvement.models import InvolvementSession
from engage.membership.models import Member

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
    """(sessions held, attendances) in each span of UK days (spans may overlap)."""
    if programme_id is not None:
        return _held_and_attended(spans, now=now, programme_id=programme_id)
    earlier, today_on = _before_today(spans, now)
    rolled = _rolled_up(earlier)
    todays = [s for s in today_on if s is not None]
    counted = iter(_held_and_attended(todays, now=now) if todays else [])
    result = []
    for mine, today in zip(rolled, today_on, strict=True):
        held, came = next(counted) if today is not None else (0, 0)
        result.append(
            (
                held + sum(n for n, _ in mine.values()),
                came + sum(n for _, n in mine.values()),
            )
        )
    return result


def sessions_by_kind_in(
    spans: Sequence[tuple[date, date]],
    *,
    now: datetime,
    programme_id: int | None = None,
) -> list[dict[ActivityKind, tuple[int, int]]]:
    """(sessions held, attendances) by kind of activity in each span of UK days
    (not overlapping)."""
    if programme_id is not None:
        return [
            {kind: (k.sessions, k.attendances) for kind, k in kinds.items()}
            for kinds in by_kind_in(spans, now=now, programme_id=programme_id)
        ]
    earlier, today_on = _before_today(spans, now)
    rolled = _rolled_up(earlier)
    todays = [s for s in today_on if s is not None]
    counted = iter(by_kind_in(todays, now=now) if todays else [])
    result = []
    for mine, today in zip(rolled, today_on, strict=True):
        kinds = next(counted) if today is not None else {}
        result.append(
            {
                kind: (
                    mine.get(kind, (0, 0))[0]
                    + (kinds[kind].sessions if kind in kinds else 0),
                    mine.get(kind, (0, 0))[1]
                    + (kinds[kind].attendances if kind in kinds else 0),
                )
                for kind in ActivityKind
            }
        )
    return result


def _before_today(
    spans: Sequence[tuple[date, date]], now: datetime
) -> tuple[list[tuple[date, date] | None], list[tuple[date, date] | None]]:
    """Each span's days before today (from the rollup: every session on them has
    started) and its days from today on (from the sessions: a session later today
    is not held yet); None where it has none."""
    today = local_day(now)
    before = today - timedelta(days=1)
    earlier = [
        (first, min(last, before)) if first <= before else None for first, last in spans
    ]
    later = [
        (max(first, today), last) if last >= today else None for first, last in spans
    ]
    return earlier, later


def _rolled_up(
    spans: Sequence[tuple[date, date] | None],
) -> list[dict[ActivityKind, tuple[int, int]]]:
    """(sessions, attendances) by kind from the rollup for each span of days (they
    may overlap; None: none), in one query."""
    found: list[dict[ActivityKind, tuple[int, int]]] = [{} for _ in spans]
    ranges = [(s[0], s[1] + timedelta(days=1)) for s in spans if s is not None]
    pieces = pieces_of(ranges)
    if not pieces:
        return found
    day = InvolvementDay.day
    within = [and_(day >= low, day < high) for low, high in pieces]
    piece = case(*((test, index) for index, test in enumerate(within)))
    rows = db.session.execute(
        select(
            piece,
            InvolvementDay.kind,
            func.sum(InvolvementDay.sessions),
            func.sum(InvolvementDay.attendances),
        )
        .where(or_(*within))
        .group_by(piece, InvolvementDay.kind)
    ).all()
    for mine, span in zip(found, spans, strict=True):
        if span is None:
            continue
        low, high = span[0], span[1] + timedelta(days=1)
        for index, kind, sessions, attendances in rows:
            start, end = pieces[index]
            if low <= start and end <= high:
                held = mine.get(kind, (0, 0))
                mine[kind] = (held[0] + int(sessions), held[1] + int(attendances))
    return found


def _held_and_attended(
    spans: Sequence[tuple[date, date]],
    *,
    now: datetime,
    programme_id: int | None = None,
) -> list[tuple[int, int]]:
    """(sessions held, attendances) in each span of UK days, from the sessions
    themselves, in one query."""
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


def _span_of(ranges: Sequence[tuple[datetime, datetime]]) -> Any:
    """Which of ``ranges`` (half-open, not overlapping) a session started in."""
    return case(
        *(
            (
                and_(
                    InvolvementSession.starts_at >= low,
                    InvolvementSession.starts_at < high,
                ),
                index,
            )
            for index, (low, high) in enumerate(ranges)
        )
    )


def _held_in(
    spans: Sequence[tuple[date, date]],
    now: datetime,
    programme_id: int | None,
    activity_id: int | None = None,
) -> Any:
    """The sessions held in any of ``spans`` of UK days (id, activity, the span's
    index), as a CTE the figures of every span are counted from at once."""
    ranges = [moments(first, last) for first, last in spans]
    query = select(
        InvolvementSession.id,
        InvolvementSession.activity_id,
        _span_of(ranges).label("span"),
    ).where(
        or_(
            *(
                and_(
                    InvolvementSession.starts_at >= low,
                    InvolvementSession.starts_at < high,
                )
                for low, high in ranges
            )
        ),
        *_held(now, programme_id),
    )
    if activity_id is not None:
        query = query.where(InvolvementSession.activity_id == activity_id)
    return query.cte("held")


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
    [people] = people_involved_in(
        [(first, last)], now=now, programme_id=programme_id, activity_id=activity_id
    )
    return people


def people_involved_in(
    spans: Sequence[tuple[date, date]],
    *,
    now: datetime,
    programme_id: int | None = None,
    activity_id: int | None = None,
) -> list[dict[str, int]]:
    """:func:`people_involved` for each of ``spans`` (not overlapping), in one query."""
    held = _held_in(spans, now, programme_id, activity_id)
    came = (
        select(
            held.c.span,
            Attendance.member_id,
            Attendance.contact_id,
            Attendance.user_id,
            Attendance.guest_name,
        )
        .join(held, held.c.id == Attendance.session_id)
        .cte("came")
    )
    # The members who came, each once per span, then counted by tier: the join is
    # to the different members, not to every attendance (a year has thousands).
    members = (
        select(came.c.span, came.c.member_id)
        .where(came.c.member_id.is_not(None))
        .distinct()
        .subquery()
    )
    guest = func.lower(func.trim(came.c.guest_name))
    rows = db.session.execute(
        union_all(
            select(members.c.span, cast(Member.tier, String), func.count())
            .join(Member, Member.id == members.c.member_id)
            .group_by(members.c.span, Member.tier),
            select(
                came.c.span,
                literal("contacts"),
                func.count(distinct(came.c.contact_id)),
            )
            .where(came.c.contact_id.is_not(None))
            .group_by(came.c.span),
            select(came.c.span, literal("guests"), func.count(distinct(guest)))
            .where(
                came.c.member_id.is_(None),
                came.c.contact_id.is_(None),
                came.c.user_id.is_(None),
                came.c.guest_name != "",
            )
            .group_by(came.c.span),
        )
    ).all()
    found = [dict.fromkeys((key for key, _ in PEOPLE_GROUPS), 0) for _ in spans]
    for span, group, n in rows:
        found[int(span)][str(group)] = int(n)
    return found


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
    [kinds] = by_kind_in([(first, last)], now=now, programme_id=programme_id)
    return kinds


def by_kind_in(
    spans: Sequence[tuple[date, date]],
    *,
    now: datetime,
    programme_id: int | None = None,
) -> list[dict[ActivityKind, KindFigures]]:
    """:func:`by_kind` for each of ``spans`` (not overlapping), in one query."""
    held = _held_in(spans, now, programme_id)
    # Only the spans' sessions' attendances are counted (not every session's, which
    # grew with the years of history).
    attended = (
        select(Attendance.session_id, func.count().label("n"))
        .where(_took_part(), Attendance.session_id.in_(select(held.c.id)))
        .group_by(Attendance.session_id)
        .subquery()
    )
    rows = db.session.execute(
        select(
            held.c.span,
            InvolvementActivity.kind,
            func.count(distinct(InvolvementActivity.id)),
            func.count(held.c.id),
            func.coalesce(func.sum(attended.c.n), 0),
        )
        .select_from(held)
        .join(InvolvementActivity, InvolvementActivity.id == held.c.activity_id)
        .outerjoin(attended, attended.c.session_id == held.c.id)
        .group_by(held.c.span, InvolvementActivity.kind)
    ).all()
    found: list[dict[ActivityKind, KindFigures]] = [{} for _ in spans]
    for span, kind, a, s, n in rows:
        found[int(span)][kind] = KindFigures(kind, int(a), int(s), int(n))
    return [
        {kind: mine.get(kind, KindFigures(kind, 0, 0, 0)) for kind in ActivityKind}
        for mine in found
    ]


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
