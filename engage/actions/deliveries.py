"""Deliveries: logging what was done for an action, and when audiences were reached."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement
from sqlalchemy import and_
from sqlalchemy import case
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select

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


def last_contact_dates_on(
    audience_ids: Iterable[int] | None,
    days: list[date],
    *,
    window: int | None = None,
) -> dict[int, list[date | None]]:
    """Per audience, the latest delivery reaching it on or before each of ``days``.

    One grouped query whatever the number of days; ``audience_ids`` None means all.
    With ``window``, only deliveries from ``window`` days before each day up to it
    are looked at (None is returned when there are none): older ones, and those
    between one day's window and the next, are not read.
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

    def looked_at(day: date) -> ColumnElement[bool]:
        if window is None:
            return Activity.occurred_on <= day
        return and_(
            Activity.occurred_on <= day,
            Activity.occurred_on >= day - timedelta(days=window),
        )

    columns = [func.max(case((looked_at(day), Activity.occurred_on))) for day in days]
    # One index range from the first span to the last; the gaps between spans are
    # filtered on the index alone (an OR of ranges would read the index twice).
    where = [Activity.occurred_on <= spans[-1][1]]
    if spans[0][0] is not None:
        where.append(Activity.occurred_on >= spans[0][0])
    where += [
        or_(Activity.occurred_on <= gap_low, Activity.occurred_on >= gap_high)
        for (_, gap_low), (gap_high, _) in itertools.pairwise(spans)
    ]
    query = (
        select(activity_audiences.c.audience_id, *columns)
        .join(Activity, Activity.id == activity_audiences.c.activity_id)
        .where(*where)
        .group_by(activity_audiences.c.audience_id)
    )
    if audience_ids is not None:
        query = query.where(activity_audiences.c.audience_id.in_(list(audience_ids)))
    return {row[0]: list(row[1:]) for row in db.session.execute(query)}


def last_contact_dates(
    audience_ids: Iterable[int], *, until: date | None = None
) -> dict[int, date]:
    """The latest delivery date that reached each audience (on or before ``until``)."""
    ids = list(audience_ids)
    if not ids:
        return {}
    query = (
        select(activity_audiences.c.audience_id, func.max(Activity.occurred_on))
        .join(Activity, Activity.id == activity_audiences.c.activity_id)
        .where(activity_audiences.c.audience_id.in_(ids))
        .group_by(activity_audiences.c.audience_id)
    )
    if until is not None:
        query = query.where(Activity.occurred_on <= until)
    rows = db.session.execute(query)
    # Not dict(rows): a Result has keys(), so dict() would read it as a mapping.
    return {audience_id: last for audience_id, last in rows}  # noqa: C416
