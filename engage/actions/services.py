"""Action plan services: channels, objectives, actions and due dates (deliveries:
engage.actions.deliveries)."""

from __future__ import annotations

import calendar
import enum
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy import Select
from sqlalchemy import and_
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm import selectinload

from engage.accounts.models import User
from engage.actions.models import Action
from engage.actions.models import ActionStatus
from engage.actions.models import Channel
from engage.actions.models import Objective
from engage.actions.models import Recurrence
from engage.actions.models import action_audiences
from engage.actions.models import action_owners
from engage.actions.schedule import occurrences
from engage.actions.schedule import step
from engage.audiences.models import Audience
from engage.audit.services import record_event
from engage.clock import local_day
from engage.errors import Conflict
from engage.errors import ValidationError
from engage.extensions import db
from engage.named import by_name
from engage.named import save_named

#: The channels a new install starts with; admins edit the list.
DEFAULT_CHANNELS = (
    "Website",
    "Newsletter",
    "Press and media",
    "Social media",
    "Face-to-face",
    "Event",
    "Survey",
    "Forum",
    "Partnership",
    "Outreach",
    "Patient relations",
    "Training",
    "Meeting",
)


# Channels -----------------------------------------------------------------------------


def list_channels(*, active_only: bool = False) -> list[Channel]:
    """Channels by name."""
    query = select(Channel).order_by(Channel.name)
    if active_only:
        query = query.where(Channel.is_active)
    return list(db.session.scalars(query))


def get_channel_by_name(name: str) -> Channel | None:
    """The channel with this name, ignoring case."""
    return by_name(Channel, name)


def save_channel(
    channel: Channel | None,
    *,
    name: str,
    is_active: bool,
    actor: User | str,
    now: datetime,
) -> Channel:
    """Create a channel (``channel`` None) or rename / retire one."""
    return save_named(
        Channel,
        channel,
        noun="channel",
        name=name,
        values={"is_active": is_active},
        actor=actor,
        now=now,
    )


def seed_channels(*, now: datetime) -> int:
    """Add the default channels that are missing; return how many were added."""
    added = 0
    for name in DEFAULT_CHANNELS:
        if get_channel_by_name(name) is None:
            save_channel(None, name=name, is_active=True, actor="system", now=now)
            added += 1
    return added


# Objectives ---------------------------------------------------------------------------


def list_objectives() -> list[Objective]:
    """Objectives by title."""
    return list(db.session.scalars(select(Objective).order_by(Objective.title)))


@dataclass(frozen=True)
class ObjectiveData:
    """The editable fields of an objective."""

    title: str
    message: str = ""
    desired_outcome: str = ""
    responsible: str = ""
    due_date: date | None = None


def save_objective(
    objective: Objective | None, data: ObjectiveData, *, actor: User, now: datetime
) -> Objective:
    """Create or change a communication objective."""
    other = db.session.scalar(
        select(Objective).where(
            func.lower(Objective.title) == data.title.strip().lower()
        )
    )
    if other is not None and (objective is None or other.id != objective.id):
        raise Conflict("An objective with that title already exists.")
    action = "update"
    if objective is None:
        objective = Objective(created_at=now)
        db.session.add(objective)
        action = "create"
    objective.title = data.title.strip()
    objective.message, objective.desired_outcome = data.message, data.desired_outcome
    objective.responsible, objective.due_date = data.responsible, data.due_date
    objective.updated_at = now
    db.session.flush()
    record_event(actor, action, "objective", objective.id, "", now=now)
    return objective


# Actions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionData:
    """The editable fields of an action."""

    title: str
    channel_id: int
    audience_ids: tuple[int, ...] = ()
    all_audiences: bool = False
    audience_note: str = ""
    objective_id: int | None = None
    programme_id: int | None = None
    owner_ids: tuple[int, ...] = ()
    responsibility: str = ""
    start_date: date | None = None
    due_date: date | None = None
    timescale: str = ""
    recurrence: Recurrence = Recurrence.NONE
    success_measure: str = ""
    status: ActionStatus = ActionStatus.PLANNED


def get_action_by_title(title: str) -> Action | None:
    """The action with this title, ignoring case."""
    return db.session.scalar(
        select(Action).where(func.lower(Action.title) == title.strip().lower())
    )


def first_due_date(data: ActionData, *, today: date) -> date | None:
    """When a new or rescheduled action is first due.

    Its due date if it has one; else its start date for a cycle that starts later;
    else, for a repeating action with no date ("Monthly"), one cycle from today.
    Ongoing and undated one-off actions have no due date (the latter are unscheduled).

    For a repeating action, ``due_date`` is its first due date, which also fixes the
    day of the month its cycle keeps (see :func:`action_anchor_day`). When the action
    has none, create and update store the date computed here as its due date if it
    falls on the 29th-31st, the only days a short month can clamp and so lose.
    """
    if data.due_date is not None:
        return data.due_date
    if step(today, data.recurrence) is None:
        return None
    if data.start_date is not None and data.start_date > today:
        return data.start_date
    return step(today, data.recurrence)


def _schedule(action: Action, data: ActionData, *, today: date) -> None:
    """Set the next due date of a new or rescheduled action and keep its anchor."""
    first = first_due_date(data, today=today)
    action.next_due_date = first
    if (
        data.due_date is None
        and first is not None
        and first.day > 28
        and data.recurrence is not Recurrence.WEEKLY
    ):
        # Remember the day of the month: the next due date may be clamped later.
        action.due_date = first


def action_anchor_day(action: Action) -> int | None:
    """The day of the month a repeating action keeps (31 → 28 Feb, 31 Mar, 30 Apr).

    Its due date's day (a repeating action's first due date); else its start date's,
    when that is the day its cycle keeps; else its next due date's.
    """
    if action.due_date is not None:
        return action.due_date.day
    current = action.next_due_date
    start = action.start_date
    if start is not None and (
        current is None
        or current.day
        == min(start.day, calendar.monthrange(current.year, current.month)[1])
    ):
        return start.day
    return current.day if current is not None else None


def _validate(data: ActionData) -> None:
    if not data.title.strip():
        raise ValidationError("Enter a title for the action.")
    if data.start_date and data.due_date and data.due_date < data.start_date:
        raise ValidationError("The due date must be on or after the start date.")
    if db.session.get(Channel, data.channel_id) is None:
        raise ValidationError("Choose a channel.")


def _apply(action: Action, data: ActionData) -> None:
    action.title = data.title.strip()
    action.channel_id = data.channel_id
    action.objective_id, action.programme_id = data.objective_id, data.programme_id
    action.all_audiences, action.audience_note = data.all_audiences, data.audience_note
    action.responsibility = data.responsibility
    action.start_date, action.due_date = data.start_date, data.due_date
    action.timescale, action.recurrence = data.timescale.strip(), data.recurrence
    action.success_measure = data.success_measure
    action.audiences = list(
        db.session.scalars(select(Audience).where(Audience.id.in_(data.audience_ids)))
    )
    action.owners = list(
        db.session.scalars(select(User).where(User.id.in_(data.owner_ids)))
    )


def create_action(data: ActionData, *, actor: User | str, now: datetime) -> Action:
    """Add an action to the plan."""
    _validate(data)
    if get_action_by_title(data.title) is not None:
        raise Conflict("An action with that title already exists.")
    action = Action(created_at=now, updated_at=now, status=data.status)
    _apply(action, data)
    _schedule(action, data, today=local_day(now))
    if data.status is ActionStatus.DONE:
        action.completed_at = now
    db.session.add(action)
    db.session.flush()
    record_event(actor, "create", "action", action.id, action.recurrence.value, now=now)
    return action


_COMPARED = (
    "title",
    "channel_id",
    "objective_id",
    "programme_id",
    "all_audiences",
    "audience_note",
    "responsibility",
    "start_date",
    "due_date",
    "timescale",
    "recurrence",
    "success_measure",
)


def update_action(
    action: Action, data: ActionData, *, actor: User | str, now: datetime
) -> list[str]:
    """Change an action; return the names of the fields that changed."""
    _validate(data)
    other = get_action_by_title(data.title)
    if other is not None and other.id != action.id:
        raise Conflict("An action with that title already exists.")
    changed = [
        name for name in _COMPARED if getattr(action, name) != getattr(data, name)
    ]
    if sorted(a.id for a in action.audiences) != sorted(data.audience_ids):
        changed.append("audiences")
    if sorted(u.id for u in action.owners) != sorted(data.owner_ids):
        changed.append("owners")
    reschedule = {"due_date", "start_date", "recurrence"} & set(changed)
    if data.status != action.status:
        changed.append("status")
        set_status(action, data.status, now=now)
    if not changed:
        return []
    _apply(action, data)
    if reschedule:
        _schedule(action, data, today=local_day(now))
    action.updated_at = now
    db.session.flush()
    record_event(actor, "update", "action", action.id, ", ".join(changed), now=now)
    return changed


def set_status(action: Action, status: ActionStatus, *, now: datetime) -> None:
    """Set an action's status and when it was completed (the caller records the
    audit event)."""
    action.status = status
    action.completed_at = now if status is ActionStatus.DONE else None


def change_status(
    action: Action, status: ActionStatus, *, actor: User, now: datetime
) -> None:
    """Complete, cancel, start or reopen an action."""
    if action.status is status:
        return
    previous = action.status
    set_status(action, status, now=now)
    action.updated_at = now
    db.session.flush()
    record_event(
        actor,
        "status",
        "action",
        action.id,
        f"{previous.value}→{status.value}",
        now=now,
    )


def is_overdue(action: Action, today: date) -> bool:
    """Open and past its next due date (derived, never stored)."""
    return (
        action.status.is_open
        and action.next_due_date is not None
        and action.next_due_date < today
    )


def is_unscheduled(action: Action) -> bool:
    """Open, not continuous, and with no date: only an imprecise timescale ("TBC")."""
    return (
        action.status.is_open
        and action.next_due_date is None
        and action.recurrence is not Recurrence.ONGOING
    )


class SortKey(enum.StrEnum):
    """Orders for the action plan table."""

    DUE = "due"
    TITLE = "title"
    STATUS = "status"
    CHANNEL = "channel"


@dataclass(frozen=True)
class ActionFilter:
    """Criteria for the plan; None or empty means no filter."""

    search: str = ""
    owner_id: int | None = None
    status: ActionStatus | None = None
    channel_id: int | None = None
    audience_id: int | None = None
    programme_id: int | None = None
    due_from: date | None = None
    due_to: date | None = None
    overdue: bool = False
    unscheduled: bool = False
    include_closed: bool = True
    sort: SortKey = SortKey.DUE
    descending: bool = False


def action_query(criteria: ActionFilter, *, today: date) -> Select[Action]:
    """Actions matching ``criteria`` in the chosen order."""
    # The plan table shows each action's channel, audiences and owners: load them in
    # three queries per page rather than three per row.
    query = _where_text_and_people(
        select(Action).options(
            joinedload(Action.channel),
            selectinload(Action.audiences),
            selectinload(Action.owners),
        ),
        criteria,
    )
    if criteria.status is not None:
        query = query.where(Action.status == criteria.status)
    elif not criteria.include_closed:
        query = query.where(
            Action.status.in_([ActionStatus.PLANNED, ActionStatus.IN_PROGRESS])
        )
    if criteria.channel_id is not None:
        query = query.where(Action.channel_id == criteria.channel_id)
    if criteria.programme_id is not None:
        query = query.where(Action.programme_id == criteria.programme_id)
    return _where_dates(query, criteria, today).order_by(*action_order(criteria))


def _where_text_and_people(
    query: Select[Action], criteria: ActionFilter
) -> Select[Action]:
    if criteria.search:
        pattern = f"%{criteria.search.strip().lower()}%"
        query = query.where(
            or_(
                func.lower(Action.title).like(pattern),
                func.lower(Action.responsibility).like(pattern),
                func.lower(Action.success_measure).like(pattern),
            )
        )
    if criteria.owner_id is not None:
        owned = select(action_owners.c.action_id).where(
            action_owners.c.user_id == criteria.owner_id
        )
        query = query.where(Action.id.in_(owned))
    if criteria.audience_id is not None:
        aimed = select(action_audiences.c.action_id).where(
            action_audiences.c.audience_id == criteria.audience_id
        )
        query = query.where(or_(Action.all_audiences, Action.id.in_(aimed)))
    return query


def open_condition() -> ColumnElement[bool]:
    """SQL for an open action (planned or in progress)."""
    return Action.status.in_([ActionStatus.PLANNED, ActionStatus.IN_PROGRESS])


def overdue_condition(today: date) -> ColumnElement[bool]:
    """SQL for :func:`is_overdue` on ``today`` (filters and counts share it)."""
    return and_(open_condition(), Action.next_due_date < today)


def unscheduled_condition() -> ColumnElement[bool]:
    """SQL for :func:`is_unscheduled`."""
    return and_(
        open_condition(),
        Action.next_due_date.is_(None),
        Action.recurrence != Recurrence.ONGOING,
    )


def _where_dates(
    query: Select[Action], criteria: ActionFilter, today: date
) -> Select[Action]:
    if criteria.due_from is not None:
        query = query.where(Action.next_due_date >= criteria.due_from)
    if criteria.due_to is not None:
        query = query.where(Action.next_due_date <= criteria.due_to)
    if criteria.overdue:
        query = query.where(overdue_condition(today))
    if criteria.unscheduled:
        query = query.where(unscheduled_condition())
    return query


def action_order(criteria: ActionFilter) -> list[ColumnElement[Any]]:
    """The plan's order as chosen (the keys its pages follow), the id breaking ties."""
    column = {
        SortKey.DUE: Action.next_due_date,
        SortKey.TITLE: func.lower(Action.title),
        SortKey.STATUS: Action.status,
        SortKey.CHANNEL: select(Channel.name)
        .where(Channel.id == Action.channel_id)
        .scalar_subquery(),
    }[criteria.sort]
    ordered = column.desc() if criteria.descending else column.asc()
    # Undated actions go last whichever way dates are sorted.
    nulls_last = (
        [Action.next_due_date.is_(None)] if criteria.sort is SortKey.DUE else []
    )
    return [*nulls_last, ordered, Action.id.asc()]


# Calendar -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DueItem:
    """An action due on a day (its next due date or a later recurrence)."""

    day: date
    action: Action


def due_between(
    start: date, end: date, *, owner_id: int | None = None
) -> list[DueItem]:
    """Open actions due from ``start`` to ``end``; repeating ones at each occurrence."""
    query = select(Action).where(
        Action.status.in_([ActionStatus.PLANNED, ActionStatus.IN_PROGRESS]),
        Action.next_due_date.is_not(None),
        Action.next_due_date <= end,
    )
    if owner_id is not None:
        query = query.where(
            Action.id.in_(
                select(action_owners.c.action_id).where(
                    action_owners.c.user_id == owner_id
                )
            )
        )
    items = []
    for action in db.session.scalars(query):
        first = action.next_due_date or start  # never None: the query excludes undated
        anchor = action_anchor_day(action)
        for day in occurrences(first, action.recurrence, end, anchor_day=anchor):
            if day >= start:
                items.append(DueItem(day, action))
    return sorted(items, key=lambda item: (item.day, item.action.title.lower()))
