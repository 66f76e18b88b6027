"""Commitments: promises made to audiences, who owns them, when they are due.

A commitment is open until it is marked done or dropped (``closed_on`` is the UK day
that happened); it can be reopened. It is *overdue* from the day after its due date
while it is open. The register, the audience page's section, the to-do list and the
daily digest all read commitments through the queries here.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy import Select
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from engage.accounts.models import User
from engage.audiences.models import Audience
from engage.audit.services import record_event
from engage.clock import local_day
from engage.errors import ValidationError
from engage.extensions import db
from engage.relationships.models import Commitment
from engage.relationships.models import CommitmentStatus
from engage.relationships.models import Interaction

#: The longest description kept.
MAX_DESCRIPTION = 1000


@dataclass(frozen=True)
class CommitmentData:
    """What is recorded of one commitment (``owner_id`` None: the person adding it)."""

    description: str
    audience_id: int | None
    due_on: date | None
    owner_id: int | None = None
    interaction_id: int | None = None


def _owner(owner_id: int | None, actor: User | str, current: User | None) -> User:
    if owner_id is None:
        if isinstance(actor, User):
            owner_id = actor.id
        else:
            raise ValidationError("Choose who owns the commitment.")
    if current is not None and current.id == owner_id:
        return current  # kept as it was, even if they have left since
    owner = db.session.get(User, owner_id)
    if owner is None or not owner.is_active:
        raise ValidationError("Choose an owner from the list of staff.")
    return owner


def _apply(
    commitment: Commitment, data: CommitmentData, *, actor: User | str, now: datetime
) -> None:
    description = data.description.strip()
    if not description:
        raise ValidationError("Say what was promised.")
    if len(description) > MAX_DESCRIPTION:
        raise ValidationError(
            f"The commitment must be {MAX_DESCRIPTION:,} characters or fewer."
        )
    if data.due_on is None:
        raise ValidationError("Enter the date it is due.")
    if data.audience_id is None:
        raise ValidationError("Choose the audience it was made to.")
    audience = db.session.get(Audience, data.audience_id)
    if audience is None:
        raise ValidationError("Choose an audience from the list.")
    if audience.is_archived and audience.id != commitment.audience_id:
        raise ValidationError(f"{audience.name} is archived: choose another audience.")
    interaction = None
    if data.interaction_id is not None:
        interaction = db.session.get(Interaction, data.interaction_id)
        if interaction is None:
            raise ValidationError("Choose an interaction from the list.")
        if audience not in interaction.audiences:
            raise ValidationError(
                f"The interaction \u201c{interaction.subject}\u201d was not with "
                f"{audience.name}."
            )
    commitment.owner = _owner(data.owner_id, actor, commitment.owner)
    commitment.description = description
    commitment.audience = audience
    commitment.due_on = data.due_on
    commitment.interaction = interaction
    commitment.updated_at = now


def add_commitment(
    data: CommitmentData, *, actor: User | str, now: datetime
) -> Commitment:
    """Record a promise made to an audience (owned by the actor unless told)."""
    commitment = Commitment(status=CommitmentStatus.OPEN, created_at=now)
    _apply(commitment, data, actor=actor, now=now)
    db.session.add(commitment)
    db.session.flush()
    record_event(
        actor,
        "create",
        "commitment",
        commitment.id,
        f"due {commitment.due_on.isoformat()}",
        now=now,
    )
    return commitment


def update_commitment(
    commitment: Commitment, data: CommitmentData, *, actor: User | str, now: datetime
) -> None:
    """Change what was promised, to whom, by whom or by when."""
    _apply(commitment, data, actor=actor, now=now)
    db.session.flush()
    record_event(
        actor,
        "update",
        "commitment",
        commitment.id,
        f"due {commitment.due_on.isoformat()}",
        now=now,
    )


def _close(
    commitment: Commitment,
    status: CommitmentStatus,
    *,
    actor: User | str,
    now: datetime,
) -> None:
    if commitment.status is status:
        raise ValidationError(f"This commitment is already {status.label.lower()}.")
    commitment.status = status
    commitment.closed_on = None if status is CommitmentStatus.OPEN else local_day(now)
    commitment.updated_at = now
    db.session.flush()
    action = {
        CommitmentStatus.DONE: "complete",
        CommitmentStatus.DROPPED: "drop",
        CommitmentStatus.OPEN: "reopen",
    }[status]
    record_event(
        actor, action, "commitment", commitment.id, status.label.lower(), now=now
    )


def mark_done(commitment: Commitment, *, actor: User | str, now: datetime) -> None:
    """The promise was kept: done on today's UK date."""
    _close(commitment, CommitmentStatus.DONE, actor=actor, now=now)


def mark_dropped(commitment: Commitment, *, actor: User | str, now: datetime) -> None:
    """The promise will not be kept (or is no longer wanted): dropped today."""
    _close(commitment, CommitmentStatus.DROPPED, actor=actor, now=now)


def reopen(commitment: Commitment, *, actor: User | str, now: datetime) -> None:
    """Open a done or dropped commitment again."""
    _close(commitment, CommitmentStatus.OPEN, actor=actor, now=now)


def is_overdue(commitment: Commitment, today: date) -> bool:
    """Open, and its due date has passed (overdue from the day after it)."""
    return commitment.is_overdue(today)


# The register -------------------------------------------------------------------


class StatusFilter(enum.StrEnum):
    """Which commitments the register shows."""

    OPEN = "open"
    OVERDUE = "overdue"
    DONE = "done"
    DROPPED = "dropped"
    ALL = "all"

    @property
    def label(self) -> str:
        return {
            "open": "Open",
            "overdue": "Overdue",
            "done": "Done",
            "dropped": "Dropped",
            "all": "All",
        }[self.value]


@dataclass(frozen=True)
class CommitmentFilter:
    """The register's filters (None: any)."""

    status: StatusFilter = StatusFilter.OPEN
    audience_id: int | None = None
    owner_id: int | None = None
    due_from: date | None = None
    due_to: date | None = None


def commitment_query(criteria: CommitmentFilter, *, today: date) -> Select[Any]:
    """The commitments ``criteria`` asks for, with their audience, owner and
    interaction loaded in the same query; open ones by due date, closed ones latest
    closed first."""
    query = select(Commitment).options(
        joinedload(Commitment.audience),
        joinedload(Commitment.owner),
        joinedload(Commitment.interaction),
    )
    status = criteria.status
    if status is StatusFilter.OVERDUE:
        query = query.where(
            Commitment.status == CommitmentStatus.OPEN, Commitment.due_on < today
        )
    elif status is not StatusFilter.ALL:
        query = query.where(Commitment.status == CommitmentStatus(status.value))
    if criteria.audience_id is not None:
        query = query.where(Commitment.audience_id == criteria.audience_id)
    if criteria.owner_id is not None:
        query = query.where(Commitment.owner_id == criteria.owner_id)
    if criteria.due_from is not None:
        query = query.where(Commitment.due_on >= criteria.due_from)
    if criteria.due_to is not None:
        query = query.where(Commitment.due_on <= criteria.due_to)
    return query.order_by(*commitment_order(criteria))


def commitment_order(criteria: CommitmentFilter) -> list[ColumnElement[Any]]:
    """The register's order (the keys its pages follow): open ones by due date, closed
    ones latest closed first (any without a date last), the id breaking ties."""
    if criteria.status in (StatusFilter.DONE, StatusFilter.DROPPED):
        return [
            Commitment.closed_on.is_(None),
            Commitment.closed_on.desc(),
            Commitment.id.desc(),
        ]
    return [Commitment.due_on.asc(), Commitment.id.asc()]


#: The export's columns, in order.
EXPORT_COLUMNS = [
    "Commitment",
    "Audience",
    "Owner",
    "Due date",
    "Status",
    "Done or dropped on",
    "From the interaction",
    "Interaction date",
]


def export_rows(criteria: CommitmentFilter, *, today: date) -> Iterator[list[object]]:
    """One row per commitment the filters find, for ``write_table``."""
    for commitment in db.session.scalars(commitment_query(criteria, today=today)):
        interaction = commitment.interaction
        status = commitment.status.label
        if commitment.is_overdue(today):
            status = f"Open, {overdue_words(commitment, today).lower()}"
        yield [
            commitment.description,
            commitment.audience.name,
            commitment.owner.name if commitment.owner else "",
            commitment.due_on.isoformat(),
            status,
            commitment.closed_on.isoformat() if commitment.closed_on else "",
            interaction.subject if interaction else "",
            interaction.occurred_on.isoformat() if interaction else "",
        ]


def overdue_words(commitment: Commitment, today: date) -> str:
    """ "Overdue by 3 days" (empty when it is not overdue)."""
    if not commitment.is_overdue(today):
        return ""
    days = (today - commitment.due_on).days
    return f"Overdue by {days:,} day{'s' if days != 1 else ''}"


# One person's and one audience's ------------------------------------------------


def overdue_for(user: User, today: date) -> list[Commitment]:
    """``user``'s open commitments past their due date, oldest first."""
    return list(
        db.session.scalars(
            select(Commitment)
            .options(joinedload(Commitment.audience))
            .where(
                Commitment.owner_id == user.id,
                Commitment.status == CommitmentStatus.OPEN,
                Commitment.due_on < today,
            )
            .order_by(Commitment.due_on, Commitment.id)
        )
    )


def due_between_for(user: User, first: date, last: date) -> list[Commitment]:
    """``user``'s open commitments due from ``first`` to ``last``, soonest first."""
    return list(
        db.session.scalars(
            select(Commitment)
            .options(joinedload(Commitment.audience))
            .where(
                Commitment.owner_id == user.id,
                Commitment.status == CommitmentStatus.OPEN,
                Commitment.due_on >= first,
                Commitment.due_on <= last,
            )
            .order_by(Commitment.due_on, Commitment.id)
        )
    )


def owners_with_overdue(today: date) -> Select[Any]:
    """The ids of users owning an open commitment past its due date (a subquery)."""
    return select(Commitment.owner_id).where(
        Commitment.owner_id.is_not(None),
        Commitment.status == CommitmentStatus.OPEN,
        Commitment.due_on < today,
    )


#: How many open commitments the audience page lists (the register has the rest).
PANEL_LIMIT = 20


@dataclass(frozen=True)
class AudienceCommitments:
    """The audience page's section: its open commitments and how many are closed."""

    open: list[Commitment]
    open_count: int
    done_count: int
    dropped_count: int


def for_audience(audience_id: int) -> AudienceCommitments:
    """An audience's open commitments (overdue first: by due date) and the counts."""
    counts = dict(
        db.session.execute(
            select(Commitment.status, func.count(Commitment.id))
            .where(Commitment.audience_id == audience_id)
            .group_by(Commitment.status)
        ).all()
    )
    shown = list(
        db.session.scalars(
            select(Commitment)
            .options(joinedload(Commitment.owner))
            .where(
                Commitment.audience_id == audience_id,
                Commitment.status == CommitmentStatus.OPEN,
            )
            .order_by(Commitment.due_on, Commitment.id)
            .limit(PANEL_LIMIT)
        )
    )
    return AudienceCommitments(
        open=shown,
        open_count=int(counts.get(CommitmentStatus.OPEN, 0)),
        done_count=int(counts.get(CommitmentStatus.DONE, 0)),
        dropped_count=int(counts.get(CommitmentStatus.DROPPED, 0)),
    )
