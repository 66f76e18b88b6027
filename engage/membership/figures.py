"""Membership figures: members by tier and status on a date, joins and withdrawals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from sqlalchemy import select

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


def _active_from(member: Member) -> datetime | None:
    """When a member became active: confirmation, or joining by phone or paper."""
    if member.joined_by in STAFF_JOIN_METHODS:
        return member.created_at
    return member.confirmed_at


def _status_at(member: Member, moment: datetime) -> MemberStatus | None:
    if member.created_at >= moment:
        return None
    if member.withdrawn_at is not None and member.withdrawn_at < moment:
        return MemberStatus.WITHDRAWN  # erased members too, from when they withdrew
    if member.erased_at is not None and member.erased_at < moment:
        return MemberStatus.ERASED  # erased before ever joining (unconfirmed)
    active_from = _active_from(member)
    if active_from is not None and active_from < moment:
        return MemberStatus.ACTIVE
    return MemberStatus.PENDING


def members_on(day: date) -> dict[Tier, dict[MemberStatus, int]]:
    """How many members each tier had in each status at the end of ``day`` (UTC).

    Worked out from the dates on each record, so erased members still count: as
    withdrawn from their withdrawal. Records erased without ever becoming active
    (unconfirmed sign-ups) count under ERASED from their erasure.
    """
    moment = _start_of(day + timedelta(days=1))
    figures = {tier: dict.fromkeys(MemberStatus, 0) for tier in Tier}
    for member in db.session.scalars(select(Member).where(Member.created_at < moment)):
        status = _status_at(member, moment)
        if status is not None:
            figures[member.tier][status] += 1
    return figures


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
    joined = [0] * len(starts)
    withdrawn = [0] * len(starts)

    def _slot(moment: datetime | None) -> int | None:
        if moment is None or not bounds[0] <= moment < bounds[-1]:
            return None
        for index in range(len(starts)):
            if moment < bounds[index + 1]:
                return index
        return None  # pragma: no cover - the range check above catches it

    for member in db.session.scalars(
        select(Member).where(Member.created_at < bounds[-1])
    ):
        slot = _slot(_active_from(member))
        if slot is not None:
            joined[slot] += 1
        slot = _slot(member.withdrawn_at)
        if slot is not None:
            withdrawn[slot] += 1
    return [
        PeriodFigures(s, j, w)
        for s, j, w in zip(starts, joined, withdrawn, strict=True)
    ]
