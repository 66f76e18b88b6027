"""Membership figures: active members by tier on a day, joins and withdrawals.

All read from the ``member_days`` rollup (engage.membership.rollup), whatever the
number of members.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from datetime import timedelta
from typing import Literal

from sqlalchemy import and_
from sqlalchemy import case
from sqlalchemy import func
from sqlalchemy import select

from engage.errors import ValidationError
from engage.extensions import db
from engage.membership.models import MemberDay
from engage.membership.models import Tier


def member_counts(
    days: Sequence[date], ranges: Sequence[tuple[date, date]]
) -> tuple[list[dict[Tier, int]], list[tuple[int, int]]]:
    """Active members by tier at the end of each day, and (joins, withdrawals) in
    each range of days (inclusive), in one query over the ``member_days`` rollup.

    The rules are engage.membership.rollup's: a member joins when they confirm
    their email address, or when staff add them (phone or paper); they are active
    from then until they withdraw or are erased; they count under their tier as it
    is now. Erased members still count, as withdrawn from their withdrawal.
    """
    active_columns = [
        func.sum(case((MemberDay.day <= day, MemberDay.starts - MemberDay.stops)))
        for day in days
    ]
    move_columns = [
        func.sum(
            case(
                (
                    and_(MemberDay.day >= start, MemberDay.day <= end),
                    getattr(MemberDay, name),
                )
            )
        )
        for start, end in ranges
        for name in ("joined", "withdrawn")
    ]
    active = [dict.fromkeys(Tier, 0) for _ in days]
    moves = [[0, 0] for _ in ranges]
    rows = db.session.execute(
        select(MemberDay.tier, *active_columns, *move_columns).group_by(MemberDay.tier)
    )
    for tier, *sums in rows:
        values = [int(value or 0) for value in sums]
        for index in range(len(days)):
            active[index][Tier(tier)] = values[index]
        for index in range(len(ranges)):
            moves[index][0] += values[len(days) + 2 * index]
            moves[index][1] += values[len(days) + 2 * index + 1]
    return active, [(joined, withdrawn) for joined, withdrawn in moves]


@dataclass(frozen=True)
class PeriodFigures:
    """Members who joined and who withdrew in one month or week."""

    period_start: date
    joined: int
    withdrawn: int


def _next_start(start: date, period: str) -> date:
    if period == "month":
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start + timedelta(days=7)


def joins_and_withdrawals(
    start: date, end: date, *, period: Literal["month", "week"] | str = "month"
) -> list[PeriodFigures]:
    """Joins and withdrawals in each month (or ISO week) from ``start`` to ``end``.

    Periods are whole: the first is the one holding ``start``, the last ``end``.
    """
    if period == "month":
        current = start.replace(day=1)
    elif period == "week":
        current = start - timedelta(days=start.weekday())
    else:
        raise ValidationError("The period must be month or week.")
    starts = []
    while current <= end:
        starts.append(current)
        current = _next_start(current, period)
    _, moves = member_counts(
        [], [(s, _next_start(s, period) - timedelta(days=1)) for s in starts]
    )
    return [
        PeriodFigures(s, joined, withdrawn)
        for s, (joined, withdrawn) in zip(starts, moves, strict=True)
    ]
