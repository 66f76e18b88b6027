"""Audience figures: audiences due for contact, by approach, on given days."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date
from datetime import timedelta

from sqlalchemy import func
from sqlalchemy import select

from engage.actions.deliveries import last_contact_dates_on
from engage.audiences.models import Approach
from engage.audiences.models import Audience
from engage.audiences.models import ProgrammeApproach
from engage.audiences.services import contact_status
from engage.audiences.services import get_contact_intervals
from engage.dashboard.counting import start_of
from engage.extensions import db


def due_by_approach(
    days: Sequence[date], programme_id: int | None
) -> list[dict[Approach, tuple[int, int]]]:
    """For each day: per approach, audiences due for contact, and audiences in all.

    The audiences services' rule (contact_status) over the last delivery on or
    before each day, found for every audience and day in one grouped query.
    ``last_contact`` is None for contacts older than the longest interval, which
    leaves ``is_due`` unchanged (those audiences are due whatever the date).
    """
    intervals = get_contact_intervals()
    # Only contacts within the longest interval before a day can make an audience
    # "not due" that day, so older deliveries need not be read (their audiences are
    # due either way): for a year, the half-year between the two windows is skipped.
    last = last_contact_dates_on(None, list(days), window=max(intervals.values()))
    # Columns, not ORM objects: the approach for the programme is its override,
    # else the usual one (as audiences.services.effective_approach).
    override = (
        select(ProgrammeApproach.approach)
        .where(
            ProgrammeApproach.audience_id == Audience.id,
            ProgrammeApproach.programme_id == programme_id,
        )
        .scalar_subquery()
    )
    approach = (
        Audience.approach
        if programme_id is None
        else func.coalesce(override, Audience.approach)
    )
    audiences = db.session.execute(
        select(Audience.id, approach, Audience.created_at).where(
            Audience.archived_at.is_(None)
        )
    ).all()
    result = []
    for index, day in enumerate(days):
        due: Counter[Approach] = Counter()
        total: Counter[Approach] = Counter()
        cutoff = start_of(day + timedelta(days=1))
        for audience_id, raw_approach, added_at in audiences:
            if added_at >= cutoff:
                continue
            chosen = Approach(raw_approach)
            total[chosen] += 1
            reached = last.get(audience_id, [None] * len(days))[index]
            if contact_status(reached, intervals[chosen], added_at, day).is_due:
                due[chosen] += 1
        result.append({a: (due[a], total[a]) for a in Approach})
    return result
