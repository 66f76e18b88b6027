"""The membership rollup: ``member_days``, members' changes per tier and day (UTC).

The dashboard's membership figures sum it instead of testing every member's dates:

- a member is *active* at the end of a day from the day they became active (the
  later of being added and becoming active: confirming their address, or being
  added by staff by phone or paper) until the day they withdrew or were erased,
  whichever came first; so the rollup counts a ``start`` on the first day and a
  ``stop`` on the last (a member who withdrew the day they joined counts neither);
- ``joined`` counts members on the day they became active, and ``withdrawn``
  members on the day they withdrew (as membership.figures counts them).

Each member counts under their tier as it is now, as membership.figures does. It
is a :class:`engage.rollups.CountRollup`, kept by every flush of members.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from datetime import UTC
from datetime import date
from datetime import datetime
from typing import Any

from engage.membership.models import STAFF_JOIN_METHODS
from engage.membership.models import Member
from engage.membership.models import MemberDay
from engage.rollups import CountRollup
from engage.rollups import Slot
from engage.rollups import register


def _day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()  # timestamps are always aware (UTCDateTime)


def _counts_of(member: Mapping[str, Any]) -> Iterable[Slot]:
    tier = member["tier"]
    active_from = (
        member["created_at"]
        if member["joined_by"] in STAFF_JOIN_METHODS
        else member["confirmed_at"]
    )
    slots: list[Slot] = []
    if active_from is not None:
        slots.append(((tier, _day(active_from)), "joined"))
        first = max(_day(member["created_at"]), _day(active_from))
        ends = [_day(m) for m in (member["withdrawn_at"], member["erased_at"]) if m]
        last = min(ends, default=None)
        if last is None or last > first:
            slots.append(((tier, first), "starts"))
            if last is not None:
                slots.append(((tier, last), "stops"))
    if member["withdrawn_at"] is not None:
        slots.append(((tier, _day(member["withdrawn_at"])), "withdrawn"))
    return slots


MEMBER_DAYS = register(
    CountRollup(
        table=MemberDay,
        key=("tier", "day"),
        counts=("starts", "stops", "joined", "withdrawn"),
        source=Member,
        watched=(
            "tier",
            "joined_by",
            "created_at",
            "confirmed_at",
            "withdrawn_at",
            "erased_at",
        ),
        counts_of=_counts_of,
    )
)
