"""Deliveries: logging what was done for an action, and when audiences were reached."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime
from datetime import timedelta
from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy import and_
from sqlalchemy import case
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import true

from engage.actions.models import Action
from engage.actions.models import ActionStatus
from engage.actions.models import Activity
from engage.actions.models import ReachFigure
from engage.actions.models import activity_audiences
from engage.actions.schedule import next_due_after
from engage.actions.services import action_anchor_day
from engage.actions.services import set_status
from engage.audiences.models import Audience
from engage.audit.services import record_event
from engage.clock import local_day
from engage.errors import ValidationError
from engage.extensions import db

if TYPE_CHECKING:
    from collections.abc import Iterable

    from engage.accounts.models import User


@dataclass(frozen=True)
class DeliveryData:
    """One logged delivery of an action."""

    occurred_on: date
    description: str
    notes: str = ""
    audience_ids: tuple[int, ...] = ()
    figures: tuple[tuple[str, int], ...] = field(default_factory=tuple)
    complete: bool = False


def default_reached_audiences(action: Action) -> list[Audience]:
    """Who a delivery reaches unless the officer says otherwise: the action's."""
    if action.all_audiences:
        return list(
            db.session.scalars(
                select(Audience)
                .where(Audience.archived_at.is_(None))
                .order_by(Audience.name)
            )
        )
    return list(action.audiences)


def log_delivery(
    action: Action, data: DeliveryData, *, actor: User | str, now: datetime
) -> Activity:
    """Record a delivery; a repeating action's next due date moves past it.

    ``actor`` is the officer, or a label such as ``"system"`` for a delivery Engage
    logs by itself (a mailing sent from Engage).
    """
    if not data.description.strip():
        raise ValidationError("Say what happened.")
    if data.occurred_on > local_day(now) + timedelta(days=1):
        raise ValidationError("A delivery cannot be in the future.")
    for label, value in data.figures:
        if not label.strip() or value < 0:
            raise ValidationError(
                "Each reach figure needs a label and a number of 0 or more."
            )
    activity = Activity(
        occurred_on=data.occurred_on,
        description=data.description.strip(),
        notes=data.notes,
        created_by_id=None if isinstance(actor, str) else actor.id,
        created_at=now,
        figures=[
            ReachFigure(label=label.strip(), value=value)
            for label, value in data.figures
        ],
    )
    activity.audiences = list(
        db.session.scalars(select(Audience).where(Audience.id.in_(data.audience_ids)))
    )
    action.activities.append(activity)
    action.next_due_date = next_due_after(
        action.next_due_date,
        action.recurrence,
        data.occurred_on,
        anchor_day=action_anchor_day(action),
    )
    if data.complete:
        set_status(action, ActionStatus.DONE, now=now)
    elif action.status is ActionStatus.PLANNED:
        action.status = ActionStatus.IN_PROGRESS
    action.updated_at = now
    db.session.flush()
    record_event(
        actor,
        "deliver",
        "action",
        action.id,
        f"activity {activity.id} on {data.occurred_on.isoformat()}",
        now=now,
    )
    return activity


def _contact_sources() -> list[tuple[Any, Any, Any, list[ColumnElement[bool]]]]:
    """Where contact with an audience is recorded: (link table's audience column, day
    column, join, conditions) for logged deliveries and for confirmed interactions."""
    from engage.relationships.models import interaction_audiences as links

    return [
        (
            activity_audiences.c.audience_id,
            Activity.occurred_on,
            activity_audiences.join(
                Activity, Activity.id == activity_audiences.c.activity_id
            ),
            [],
        ),
        # The link rows carry the interaction's day and status: their index alone
        # answers, with no join.
        (
            links.c.audience_id,
            links.c.occurred_on,
            links,
            [links.c.confirmed == true()],
        ),
    ]


def last_contact_dates_on(
    audience_ids: Iterable[int] | None,
    days: list[date],
    *,
    window: int | None = None,
) -> dict[int, list[date | None]]:
    """Per audience, its latest contact on or before each of ``days``.

    Contact is a delivery reaching the audience or a confirmed interaction with it.
    One grouped query over the deliveries whatever the number of days, and one
    query looking up each audience's interactions; ``audience_ids`` None means
    all. With ``window``, only contact from ``window`` days before each day up to
    it is looked at (None is returned when there is none): older contact, and
    that between one day's window and the next, is not read.
    """
    spans: list[tuple[date | None, date]] = []
    if window is None:
        spans.append((None, max(days)))
    else:
        for day in sorted(days):
            low = day - timedelta(days=window)
            if spans and low <= spans[-1][1]:
                spans[-1] = (spans[-1][0], day)
            else:
                spans.append((low, day))

    deliveries, interactions = _contact_sources()
    audience_column, day_column, joined, conditions = deliveries

    def looked_at(day: date) -> ColumnElement[bool]:
        if window is None:
            return day_column <= day  # type: ignore[no-any-return]
        return and_(day_column <= day, day_column >= day - timedelta(days=window))

    columns = [func.max(case((looked_at(day), day_column))) for day in days]
    # One index range from the first span to the last; the gaps between spans
    # are filtered on the index alone (an OR of ranges would read it twice).
    where = [day_column <= spans[-1][1], *conditions]
    if spans[0][0] is not None:
        where.append(day_column >= spans[0][0])
    where += [
        or_(day_column <= gap_low, day_column >= gap_high)
        for (_, gap_low), (gap_high, _) in itertools.pairwise(spans)
    ]
    query = (
        select(audience_column, *columns)
        .select_from(joined)
        .where(*where)
        .group_by(audience_column)
    )
    if audience_ids is not None:
        audience_ids = list(audience_ids)
        query = query.where(audience_column.in_(audience_ids))
    latest: dict[int, list[date | None]] = {
        row[0]: list(row[1:]) for row in db.session.execute(query)
    }
    for row in db.session.execute(
        _latest_interactions(interactions, audience_ids, days, window)
    ):
        found = list(row[1:])
        if not any(found):
            continue
        before = latest.get(row[0])
        latest[row[0]] = (
            found
            if before is None
            else [_later(a, b) for a, b in zip(before, found, strict=True)]
        )
    return latest


def _latest_interactions(
    source: tuple[Any, Any, Any, list[ColumnElement[bool]]],
    audience_ids: list[int] | None,
    days: list[date],
    window: int | None,
) -> Any:
    """Each audience's latest confirmed interaction on or before each of ``days``
    (within ``window`` days of it): one look-up per audience and day on the link
    rows' (audience, confirmed, day) index, whatever the number of interactions
    (a county logs thousands a year, and the dashboard looks back half a year)."""
    audience_column, day_column, joined, conditions = source

    def latest_on(day: date) -> Any:
        where = [audience_column == Audience.id, day_column <= day, *conditions]
        if window is not None:
            where.append(day_column >= day - timedelta(days=window))
        return (
            select(func.max(day_column))
            .select_from(joined)
            .where(*where)
            .scalar_subquery()
        )

    query = select(Audience.id, *(latest_on(day) for day in days))
    if audience_ids is not None:
        query = query.where(Audience.id.in_(audience_ids))
    return query


def _later(first: date | None, second: date | None) -> date | None:
    if first is None:
        return second
    if second is None:
        return first
    return max(first, second)


def last_contact_dates(
    audience_ids: Iterable[int], *, until: date | None = None
) -> dict[int, date]:
    """Each audience's latest contact (on or before ``until``): a delivery reaching
    it or a confirmed interaction with it."""
    ids = list(audience_ids)
    if not ids:
        return {}
    latest: dict[int, date] = {}
    for audience_column, day_column, joined, conditions in _contact_sources():
        query = (
            select(audience_column, func.max(day_column))
            .select_from(joined)
            .where(audience_column.in_(ids), *conditions)
            .group_by(audience_column)
        )
        if until is not None:
            query = query.where(day_column <= until)
        for audience_id, last in db.session.execute(query):
            if last is not None:
                latest[audience_id] = max(last, latest.get(audience_id, last))
    return latest
