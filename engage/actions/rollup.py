"""The deliveries rollups: ``delivery_days`` and ``delivery_months``, what the
dashboard sums instead of reading every delivery and reach figure of a period.

A delivery counts on the day it took place, under its action's channel as it is
now, and under the set of figures it recorded (lower-cased labels, as
``func.lower`` gives them: a rate such as opens ÷ recipients is worked out over the
deliveries that record both). Its row with no label counts it; each of its labels'
rows counts it and adds that figure's value (figures with the same label added
together). ``delivery_months`` holds the same by calendar month.

A delivery's part depends on three tables (its day, its action's channel and its
figures), so rather than following each column, it is kept by recounting
(engage.rollups.keep_recounted) the deliveries each flush touches: those logged,
changed or deleted, those whose figures change, and those of an action that moves
to another channel. Writers that bypass the ORM (the bench generator) call
:func:`rebuild`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from collections.abc import Iterator
from datetime import date
from itertools import chain
from itertools import groupby
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from engage.actions.models import Action
from engage.actions.models import Activity
from engage.actions.models import DeliveryDay
from engage.actions.models import DeliveryMonth
from engage.actions.models import ReachFigure
from engage.dashboard.counting import month_start
from engage.rollups import Counted
from engage.rollups import RollupTable
from engage.rollups import deleted_or_changed
from engage.rollups import keep_recounted
from engage.rollups import lock_parents
from engage.rollups import stored_value

DELIVERY_DAYS = RollupTable(
    table=DeliveryDay,
    key=("day", "channel_id", "labels", "label"),
    counts=("deliveries", "total"),
)
#: The same by calendar month (keyed by the month's first day).
DELIVERY_MONTHS = RollupTable(
    table=DeliveryMonth,
    key=("month", "channel_id", "labels", "label"),
    counts=("deliveries", "total"),
)

#: The label of the row that counts deliveries (a figure's label is never blank).
COUNT_ROW = ""
#: Ids per query: well under SQLite's limit of bound values.
CHUNK = 500


def labels_key(labels: Iterable[str]) -> str:
    """The ``labels`` column for a delivery that recorded ``labels`` (lower-cased)."""
    return json.dumps(sorted(set(labels)), ensure_ascii=False, separators=(",", ":"))


def labels_of(key: str) -> frozenset[str]:
    """The labels a ``labels`` column holds."""
    return frozenset(json.loads(key))


def _count(
    counted: Counted, day: date, channel_id: int, figures: dict[str, int], n: int
) -> None:
    """Add what one delivery counts for to ``counted`` (``n``: 1, or −1 to take
    it off)."""
    labels = labels_key(figures)
    for rollup, when in ((DELIVERY_DAYS, day), (DELIVERY_MONTHS, month_start(day))):
        changes = counted.setdefault(rollup, Counter())
        changes[((when, channel_id, labels, COUNT_ROW), "deliveries")] += n
        for label, value in figures.items():
            changes[((when, channel_id, labels, label), "deliveries")] += n
            changes[((when, channel_id, labels, label), "total")] += n * value


def _read(connection: Connection, condition: Any) -> Iterator[Any]:
    """(id, day, channel, lower-cased label or None, value) of the deliveries that
    meet ``condition`` (None: every one), in order of id."""
    query = (
        select(
            Activity.id,
            Activity.occurred_on,
            Action.channel_id,
            func.lower(ReachFigure.label),
            ReachFigure.value,
        )
        .join(Action, Action.id == Activity.action_id)
        .outerjoin(ReachFigure, ReachFigure.activity_id == Activity.id)
        .order_by(Activity.id)
    )
    if condition is not None:
        query = query.where(condition)
    return iter(connection.execute(query))


def _parts(rows: Iterator[Any]) -> Iterator[tuple[int, date, int, dict[str, int]]]:
    """Per delivery (rows in order of id): its id, day, channel and figures."""
    for activity_id, group in groupby(rows, key=itemgetter(0)):
        first = next(group)
        figures: Counter[str] = Counter()
        for *_, label, value in (first, *group):
            if label is not None:
                figures[label] += int(value)
        yield activity_id, first[1], first[2], dict(figures)


def _recount(
    connection: Connection, concerned: _Concerned, sign: int, into: Counted
) -> None:
    """Add to ``into`` what the deliveries ``concerned`` names count for as stored
    now (each delivery once), times ``sign``."""
    activity_ids, action_ids, new = concerned
    ids = sorted(activity_ids | {a.id for a in new if a.id is not None})
    actions = sorted(action_ids)
    conditions = [
        Activity.id.in_(ids[i : i + CHUNK]) for i in range(0, len(ids), CHUNK)
    ] + [
        Activity.action_id.in_(actions[i : i + CHUNK])
        for i in range(0, len(actions), CHUNK)
    ]
    found: dict[int, tuple[date, int, dict[str, int]]] = {}
    for condition in conditions:
        for part in _parts(_read(connection, condition)):
            found[part[0]] = part[1:]
    for day, channel_id, figures in found.values():
        _count(into, day, channel_id, figures, sign)


def rebuild(connection: Connection) -> int:
    """Recompute the whole rollup from the deliveries; its rows now (the caller
    commits). For bulk loads that bypassed the ORM."""
    counted: Counted = {}
    for _, day, channel_id, figures in _parts(_read(connection, None)):
        _count(counted, day, channel_id, figures, 1)
    for rollup in (DELIVERY_DAYS, DELIVERY_MONTHS):
        connection.execute(delete(rollup.table))
        rollup.add(connection, counted.get(rollup, {}))
    return int(connection.scalar(select(func.count()).select_from(DeliveryDay)) or 0)


# Flush hooks ----------------------------------------------------------------------


#: The stored deliveries a flush may change (by id, and by action id), and the new.
_Concerned = tuple[set[int], set[int], list[Activity]]


def _concerned(session: Session) -> _Concerned | None:
    """What this flush may change of the deliveries (None: nothing)."""
    activity_ids: set[int] = set()
    action_ids: set[int] = set()
    new: list[Activity] = []
    for item in chain(session.new, session.dirty, session.deleted):
        if isinstance(item, ReachFigure):
            stored = (stored_value(item, "activity_id"), item.activity_id)
            activity_ids.update(i for i in stored if i is not None)
            item = item.activity
        if isinstance(item, Activity):
            if item.id is None:
                new.append(item)
            else:
                activity_ids.add(item.id)
        elif isinstance(item, Action) and deleted_or_changed(
            session, item, ("channel_id", "channel")
        ):
            action_ids.add(item.id)
    if not (activity_ids or action_ids or new):
        return None
    # Lock the actions first: two transactions never recount a delivery at once.
    lock_parents(session, Action, Activity.action_id, activity_ids, new, action_ids)
    return activity_ids, action_ids, new


keep_recounted("deliveries", _concerned, _recount)
