"""Membership figures: members by tier and status on a date, joins and withdrawals."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from sqlalchemy import ColumnElement, and_, case, func, or_, select

from engage.counting import series_in_ranges
from engage.errors import ValidationError
from engage.extensions import db
from engage.membership.models import (
    STAFF_JOIN_METHODS,
    Member,
    MemberStatus,
    Tier,
)


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _active_from_sql() -> ColumnElement[datetime]:
    """When a member became active: confirmation, or joining by phone or paper."""
    return case(
        (Member.joined_by.in_(STAFF_JOIN_METHODS), Member.created_at),
        else_=Member.confirmed_at,
    )


def members_on(day: date) -> dict[Tier, dict[MemberStatus, int]]:
    """How many members each tier had in each status at the end of ``day`` (UTC).

    Worked out from the dates on each record, so erased members still count: as
    withdrawn from their withdrawal. Records erased without ever becoming active
    (unconfirmed sign-ups) count under ERASED from their erasure. Counted in one
    grouped query, never row by row: withdrawal first, then erasure, then
    becoming active; otherwise pending.
    """
    moment = _start_of(day + timedelta(days=1))
    status = case(
        (Member.withdrawn_at < moment, MemberStatus.WITHDRAWN.value),
        (Member.erased_at < moment, MemberStatus.ERASED.value),
        (_active_from_sql() < moment, MemberStatus.ACTIVE.value),
        else_=MemberStatus.PENDING.value,
    )
    figures = {tier: dict.fromkeys(MemberStatus, 0) for tier in Tier}
    rows = db.session.execute(
        select(Member.tier, status, func.count())
        .where(Member.created_at < moment)
        .group_by(Member.tier, status)
    )
    for tier, value, count in rows:
        figures[Tier(tier)][MemberStatus(value)] += count
    return figures


def count_joins_and_withdrawals(start: date, end: date) -> tuple[int, int]:
    """Members who joined, and who withdrew, from ``start`` to ``end`` inclusive."""
    low, high = _start_of(start), _start_of(end + timedelta(days=1))
    active_from = _active_from_sql()
    row = db.session.execute(
        select(
            func.count(case((and_(active_from >= low, active_from < high), 1))),
            func.count(
                case((and_(Member.withdrawn_at >= low, Member.withdrawn_at < high), 1))
            ),
        ).where(Member.created_at < high)
    ).one()
    return int(row[0]), int(row[1])


@dataclass(frozen=True)
class PeriodFigures:
    """Members who joined and who withdrew in one month or week."""

    period_start: date
    joined: int
    withdrawn: int


def _period_starts(
    start: date, end: date, period: Literal["month", "week"] | str
) -> list[date]:
    if period == "month":
        current = start.replace(day=1)
    elif period == "week":
        current = start - timedelta(days=start.weekday())
    else:
        raise ValidationError("The period must be month or week.")
    starts = []
    while current <= end:
        starts.append(current)
        if period == "month":
            current = (current.replace(day=28) + timedelta(days=4)).replace(day=1)
        else:
            current += timedelta(days=7)
    return starts


def joins_and_withdrawals(
    start: date, end: date, *, period: Literal["month", "week"] | str = "month"
) -> list[PeriodFigures]:
    """Joins and withdrawals in each month (or ISO week) from ``start`` to ``end``.

    A member joins when they confirm their e-mail address, or when staff add them
    (phone or paper); they withdraw at ``withdrawn_at`` (erased members included).
    Periods are whole: the first is the one holding ``start``, the last ``end``.
    """
    starts = _period_starts(start, end, period)
    if not starts:
        return []
    bounds = [_start_of(s) for s in starts]
    last = starts[-1]
    after = (
        (last.replace(day=28) + timedelta(days=4)).replace(day=1)
        if period == "month"
        else last + timedelta(days=7)
    )
    bounds.append(_start_of(after))
    # One query with a pair of counts per period: portable (no date_trunc) and
    # aggregated in the database, whatever the number of members.
    active_from = _active_from_sql()
    columns = []
    for low, high in itertools.pairwise(bounds):
        columns.append(
            func.count(case((and_(active_from >= low, active_from < high), 1)))
        )
        columns.append(
            func.count(
                case((and_(Member.withdrawn_at >= low, Member.withdrawn_at < high), 1))
            )
        )
    row = db.session.execute(
        select(*columns).where(Member.created_at < bounds[-1])
    ).one()
    joined = [int(row[2 * i]) for i in range(len(starts))]
    withdrawn = [int(row[2 * i + 1]) for i in range(len(starts))]
    return [
        PeriodFigures(s, j, w)
        for s, j, w in zip(starts, joined, withdrawn, strict=True)
    ]


def member_counts(
    days: Sequence[date], ranges: Sequence[tuple[date, date]]
) -> tuple[list[dict[Tier, int]], list[tuple[int, int]]]:
    """Active members by tier at the end of each day, and joins and withdrawals in
    each range (inclusive), in two queries whatever the number of ranges.

    The rules are those of :func:`members_on` and :func:`joins_and_withdrawals`.
    """
    active_from = _active_from_sql()
    columns = []
    for day in days:
        moment = _start_of(day + timedelta(days=1))
        columns.append(
            func.count(
                case(
                    (
                        and_(
                            Member.created_at < moment,
                            active_from < moment,
                            or_(
                                Member.withdrawn_at.is_(None),
                                Member.withdrawn_at >= moment,
                            ),
                            or_(Member.erased_at.is_(None), Member.erased_at >= moment),
                        ),
                        1,
                    )
                )
            )
        )
    active = [dict.fromkeys(Tier, 0) for _ in days]
    for row in db.session.execute(select(Member.tier, *columns).group_by(Member.tier)):
        for index in range(len(days)):
            active[index][Tier(row[0])] = int(row[1 + index])
    if not ranges:
        return active, []
    bounds = [
        (_start_of(start), _start_of(end + timedelta(days=1))) for start, end in ranges
    ]
    # A member becomes active when staff add them (created_at) or when they confirm
    # (confirmed_at): index range counts per piece of the ranges, not the CASE
    # evaluated on every member.
    joined_by_staff, joined_online, withdrawn = series_in_ranges(
        bounds,
        [
            (Member.created_at, [Member.joined_by.in_(STAFF_JOIN_METHODS)]),
            (Member.confirmed_at, [Member.joined_by.not_in(STAFF_JOIN_METHODS)]),
            (Member.withdrawn_at, []),
        ],
    )
    moves = [
        (staff + online, gone)
        for staff, online, gone in zip(
            joined_by_staff, joined_online, withdrawn, strict=True
        )
    ]
    return active, moves
