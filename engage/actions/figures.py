"""Action plan figures: actions by state, deliveries logged, reach figures by channel.

Each is aggregated in the database (conditional counts, GROUP BY, or index range
counts per piece of the ranges asked for: engage.dashboard.counting), never row by
row. Ranges of days are given by their first and last day, both inclusive.

Deliveries and their reach figures over every programme are summed from the
deliveries rollup (engage.actions.rollup), a few rows per day whatever the number
of deliveries; one programme's are read from the deliveries themselves.
"""

from __future__ import annotations

from collections import Counter
from collections import defaultdict
from collections.abc import Collection
from collections.abc import Sequence
from datetime import date
from datetime import timedelta
from typing import Any

from sqlalchemy import and_
from sqlalchemy import case
from sqlalchemy import event
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import union_all
from sqlalchemy.orm import Session
from sqlalchemy.orm import joinedload
from sqlalchemy.orm import selectinload

from engage.actions.models import Action
from engage.actions.models import ActionStatus
from engage.actions.models import Activity
from engage.actions.models import Channel
from engage.actions.models import DeliveryDay
from engage.actions.models import DeliveryMonth
from engage.actions.models import ReachFigure
from engage.actions.rollup import COUNT_ROW
from engage.actions.rollup import labels_of
from engage.actions.services import open_condition
from engage.actions.services import overdue_condition
from engage.actions.services import unscheduled_condition
from engage.dashboard.counting import counts_in_ranges
from engage.dashboard.counting import day_ranges
from engage.dashboard.counting import pieces_of
from engage.dashboard.counting import start_of
from engage.dashboard.counting import whole_months
from engage.extensions import db


def action_figures(
    periods: Sequence[tuple[date, date, date]], *, programme_id: int | None
) -> list[dict[str, int]]:
    """For each (first day, last day, as-of day): actions completed in the period,
    and open ones as of the as-of day.

    *Overdue* and *unscheduled* are the action plan's own conditions
    (engage.actions.services), applied on the as-of day (the period's last day, or
    today if that is sooner). Actions added after that day are left out; the status
    is the stored one. One query for all the periods.
    """
    columns = []
    for start, end, as_of in periods:
        added = Action.created_at < start_of(as_of + timedelta(days=1))
        completed = and_(
            Action.status == ActionStatus.DONE,
            Action.completed_at >= start_of(start),
            Action.completed_at < start_of(end + timedelta(days=1)),
        )
        columns += [
            func.count(case((completed, 1))),
            func.count(case((and_(added, open_condition()), 1))),
            func.count(case((and_(added, overdue_condition(as_of)), 1))),
            func.count(case((and_(added, unscheduled_condition()), 1))),
        ]
    query = select(*columns)
    if programme_id is not None:
        query = query.where(Action.programme_id == programme_id)
    row = db.session.execute(query).one()
    result = []
    for index in range(len(periods)):
        done, open_, overdue, unscheduled = (
            int(v) for v in row[4 * index : 4 * index + 4]
        )
        result.append(
            {
                "completed": done,
                "on_track": open_ - overdue - unscheduled,
                "overdue": overdue,
                "unscheduled": unscheduled,
                "open": open_,
            }
        )
    return result


#: Per span of days, from the rollup: (channel id, labels, label) → (deliveries, total).
RolledUp = list[dict[tuple[int, str, str], tuple[int, int]]]


#: The session's sums already read (see ``_rolled_up``).
_READ = "engage.actions.figures.rolled_up"


@event.listens_for(Session, "after_flush")
@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_sums(session: Session, *_: object) -> None:
    session.info.pop(_READ, None)


def _rolled_up(spans: Sequence[tuple[date, date]], *, counts_only: bool) -> RolledUp:
    """The deliveries rollups summed over each span of days (first and last day;
    not overlapping), in one query: its whole months from ``delivery_months``, the
    days at its edges from ``delivery_days``. ``counts_only``: the delivery counts
    alone.

    A section asks for the same spans' sums several times (each channel's reach,
    then each rate's totals), so the session keeps what it read until its next
    flush, commit or rollback, and spans read before are not read again.
    """
    session = db.session()
    if session.new or session.dirty or session.deleted:
        # Changes not flushed yet: the query below flushes them, and what was
        # read before them is forgotten.
        session.info.pop(_READ, None)
    read: dict[tuple[tuple[date, date], bool], dict[Any, tuple[int, int]]]
    read = session.info.setdefault(_READ, {})
    if all((span, False) in read or (span, counts_only) in read for span in spans):
        return [
            read[(span, counts_only)]
            if (span, counts_only) in read
            else {k: v for k, v in read[(span, False)].items() if k[2] == COUNT_ROW}
            for span in spans
        ]
    found = _sums_read(spans, counts_only=counts_only)
    read = session.info.setdefault(_READ, {})  # a new one if the query flushed
    read.update(
        ((span, counts_only), mine) for span, mine in zip(spans, found, strict=True)
    )
    return found


def _sums_read(spans: Sequence[tuple[date, date]], *, counts_only: bool) -> RolledUp:
    """``_rolled_up``'s query."""
    found: RolledUp = [{} for _ in spans]
    days: list[tuple[int, date, date]] = []
    months: list[tuple[int, date, date]] = []
    for index, (first, last) in enumerate(spans):
        whole = whole_months(first, last)
        if whole is None:
            days.append((index, first, last))
            continue
        months.append((index, whole[0], whole[1] - timedelta(days=1)))
        if first < whole[0]:
            days.append((index, first, whole[0] - timedelta(days=1)))
        if whole[1] <= last:
            days.append((index, whole[1], last))
    parts = [
        _sums(table, when, pieces, counts_only=counts_only)
        for table, when, pieces in (
            (DeliveryDay, DeliveryDay.day, days),
            (DeliveryMonth, DeliveryMonth.month, months),
        )
        if pieces
    ]
    if not parts:
        return found
    for index, channel_id, labels, label, deliveries, total in db.session.execute(
        union_all(*parts)
    ):
        key = (channel_id, labels, label)
        held = found[index].get(key, (0, 0))
        found[index][key] = (held[0] + int(deliveries), held[1] + int(total))
    return found


def _sums(
    table: Any,
    when: Any,
    pieces: Sequence[tuple[int, date, date]],
    *,
    counts_only: bool,
) -> Any:
    """Sums of a deliveries rollup's rows per piece (its span's index, and first and
    last day or month), channel, labels and label."""
    piece = case(
        *((and_(when >= first, when <= last), index) for index, first, last in pieces)
    )
    query = (
        select(
            piece,
            table.channel_id,
            table.labels,
            table.label,
            func.sum(table.deliveries),
            func.sum(table.total),
        )
        .where(or_(*(and_(when >= first, when <= last) for _, first, last in pieces)))
        .group_by(piece, table.channel_id, table.labels, table.label)
    )
    if counts_only:
        query = query.where(table.label == COUNT_ROW)
    return query


def count_deliveries(
    ranges: Sequence[tuple[date, date]], programme_id: int | None
) -> list[int]:
    """Deliveries (activities) logged in each range of days, in one query."""
    if programme_id is None:
        pieces = pieces_of(day_ranges(ranges))
        counts = _rolled_up(
            [(low, high - timedelta(days=1)) for low, high in pieces],
            counts_only=True,
        )
        per_piece = [sum(n for n, _ in found.values()) for found in counts]
        return [
            sum(
                n
                for (low, high), n in zip(pieces, per_piece, strict=True)
                if start <= low and high <= end
            )
            for start, end in day_ranges(ranges)
        ]
    of_programme = Activity.action_id.in_(
        select(Action.id).where(Action.programme_id == programme_id)
    )
    return counts_in_ranges(Activity.occurred_on, day_ranges(ranges), of_programme)


def deliveries_by_channel(
    start: date, end: date, programme_id: int | None
) -> Counter[str]:
    """Deliveries logged on days from ``start`` to ``end``, per channel (name)."""
    names = channel_names()
    result: Counter[str] = Counter()
    if programme_id is None:
        (found,) = _rolled_up([(start, end)], counts_only=True)
        for (channel_id, _, _), (count, _) in found.items():
            result[names[channel_id]] += count
        return result
    query = (
        select(Action.channel_id, func.count())
        .select_from(Activity)
        .join(Action, Action.id == Activity.action_id)
        .where(Activity.occurred_on >= start, Activity.occurred_on <= end)
        .where(Action.programme_id == programme_id)
        .group_by(Action.channel_id)
    )
    for channel_id, count in db.session.execute(query):
        result[names[channel_id]] += int(count)
    return result


def channel_names() -> dict[int, str]:
    """Every channel's name by its id (retired channels too)."""
    return {c.id: c.name for c in db.session.scalars(select(Channel))}


def _span_of_day(spans: Sequence[tuple[date, date]]) -> Any:
    """Which of ``spans`` (first and last day, not overlapping) a delivery is in."""
    return case(
        *(
            (and_(Activity.occurred_on >= first, Activity.occurred_on <= last), index)
            for index, (first, last) in enumerate(spans)
        )
    )


def _in_any(spans: Sequence[tuple[date, date]]) -> Any:
    return or_(
        *(
            and_(Activity.occurred_on >= first, Activity.occurred_on <= last)
            for first, last in spans
        )
    )


def reach_totals(
    spans: Sequence[tuple[date, date]], programme_id: int | None
) -> list[dict[str, dict[str, int]]]:
    """For each span of days (not overlapping), each channel's total of each reach
    figure label (lower-cased), in one query."""
    names = channel_names()
    totals: list[dict[str, dict[str, int]]] = [defaultdict(dict) for _ in spans]
    if programme_id is None:
        for index, found in enumerate(_rolled_up(spans, counts_only=False)):
            for (channel_id, _, name), (_, total) in found.items():
                if name != COUNT_ROW:
                    mine = totals[index][names[channel_id]]
                    mine[name] = mine.get(name, 0) + total
        return totals
    label = func.lower(ReachFigure.label)
    span = _span_of_day(spans)
    query = (
        select(span, Action.channel_id, label, func.sum(ReachFigure.value))
        .select_from(Activity)
        .join(Action, Action.id == Activity.action_id)
        .join(ReachFigure, ReachFigure.activity_id == Activity.id)
        .where(_in_any(spans), Action.programme_id == programme_id)
        .group_by(span, Action.channel_id, label)
    )
    for index, channel_id, name, total in db.session.execute(query):
        totals[index][names[channel_id]][name] = int(total or 0)
    return totals


def paired_totals(
    spans: Sequence[tuple[date, date]],
    programme_id: int | None,
    label: str,
    outputs: Sequence[str],
) -> list[dict[str, tuple[int, int]]]:
    """For each span of days (not overlapping), per channel, the total of ``label``
    and of its ``outputs`` (lower-cased labels) over the deliveries that record
    both: a rate's numerator and denominator (opens ÷ recipients), in one query."""
    names = channel_names()
    result: list[dict[str, tuple[int, int]]] = [{} for _ in spans]
    if programme_id is None:
        for index, found in enumerate(_rolled_up(spans, counts_only=False)):
            sums: dict[str, tuple[int, int]] = result[index]
            for (channel_id, labels, name), (_, summed) in found.items():
                recorded = labels_of(labels)
                if label not in recorded or recorded.isdisjoint(outputs):
                    continue
                part, whole = sums.get(names[channel_id], (0, 0))
                if name == label:
                    part += summed
                if name in outputs:
                    whole += summed
                sums[names[channel_id]] = (part, whole)
        return result

    def total(labels: Sequence[str]) -> Any:
        return (
            select(func.sum(ReachFigure.value))
            .where(
                ReachFigure.activity_id == Activity.id,
                func.lower(ReachFigure.label).in_(labels),
            )
            .scalar_subquery()
        )

    per_delivery = (
        select(
            _span_of_day(spans).label("span"),
            Action.channel_id.label("channel_id"),
            total([label]).label("part"),
            total(outputs).label("whole"),
        )
        .select_from(Activity)
        .join(Action, Action.id == Activity.action_id)
        .where(_in_any(spans), Action.programme_id == programme_id)
    )
    inner = per_delivery.subquery()
    query = (
        select(
            inner.c.span,
            inner.c.channel_id,
            func.sum(inner.c.part),
            func.sum(inner.c.whole),
        )
        .where(inner.c.part.is_not(None), inner.c.whole.is_not(None))
        .group_by(inner.c.span, inner.c.channel_id)
    )
    for index, channel_id, part, whole in db.session.execute(query):
        result[index][names[channel_id]] = (int(part or 0), int(whole or 0))
    return result


def deliveries_logged(
    start: date,
    end: date,
    programme_id: int | None,
    *,
    skip: Collection[int] = (),
) -> list[tuple[date, str, str, str, str, str]]:
    """The deliveries logged from ``start`` to ``end``, oldest first, as rows of
    (day, action title, channel, audiences reached, what happened, notes); the
    deliveries in ``skip`` (by id) left out."""
    query = (
        select(Activity)
        .join(Action, Action.id == Activity.action_id)
        .options(
            joinedload(Activity.action).joinedload(Action.channel),
            selectinload(Activity.audiences),
        )
        .where(Activity.occurred_on >= start, Activity.occurred_on <= end)
        .order_by(Activity.occurred_on, Activity.id)
    )
    if programme_id is not None:
        query = query.where(Action.programme_id == programme_id)
    if skip:
        query = query.where(Activity.id.not_in(list(skip)))
    return [
        (
            activity.occurred_on,
            activity.action.title,
            activity.action.channel.name,
            ", ".join(a.name for a in activity.audiences),
            activity.description,
            activity.notes,
        )
        for activity in db.session.scalars(query)
    ]
