"""Audience services: the stakeholder map, programmes, overrides and contact cadence."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Select
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from engage.audiences.models import DEFAULT_CONTACT_INTERVALS
from engage.audiences.models import Approach
from engage.audiences.models import Audience
from engage.audiences.models import AudienceContact
from engage.audiences.models import AudienceGroup
from engage.audiences.models import ContactInterval
from engage.audiences.models import Programme
from engage.audiences.models import ProgrammeApproach
from engage.audit.services import record_event
from engage.errors import Conflict
from engage.errors import ValidationError
from engage.extensions import db
from engage.named import by_name
from engage.named import save_named

if TYPE_CHECKING:
    from engage.accounts.models import User

HIGH = 3  #: a score of 3 or more is "high" on either axis of the grid


def suggest_approach(influence: int, interest: int) -> Approach:
    """The approach the power–interest grid suggests; the officer decides.

    - high influence and high interest (both 3 or more) → manage (key players);
    - very high influence (4 or 5), whatever the interest → manage (keep satisfied);
    - otherwise high interest → inform (keep informed; raise influence if needed);
    - otherwise → monitor.
    """
    if (influence >= HIGH and interest >= HIGH) or influence >= 4:
        return Approach.MANAGE
    if interest >= HIGH:
        return Approach.INFORM
    return Approach.MONITOR


@dataclass(frozen=True)
class Quadrant:
    """One of the grid's four parts, named as the power–interest grid names them."""

    key: str
    name: str
    advice: str
    #: Which scores fall in it, in words.
    scores: str
    #: Influence (highest) and interest (lowest) of its top-left cell, where its
    #: name is written on the grid.
    corner: tuple[int, int]


QUADRANTS = (
    Quadrant(
        "key",
        "Key players",
        "manage closely",
        "influence 3 or more and interest 3 or more",
        (5, HIGH),
    ),
    Quadrant(
        "satisfied",
        "Keep satisfied",
        "keep them satisfied",
        "influence 4 or 5 and interest 1 or 2",
        (5, 1),
    ),
    Quadrant(
        "informed",
        "Keep informed",
        "keep them informed",
        "influence 1 or 2 and interest 3 or more",
        (HIGH - 1, HIGH),
    ),
    Quadrant(
        "monitor",
        "Monitor",
        "watch, with the least effort",
        "influence 1 to 3 and interest 1 or 2",
        (HIGH, 1),
    ),
)


def quadrant(influence: int, interest: int) -> Quadrant:
    """The part of the grid a pair of scores falls in (matching suggest_approach)."""
    key, satisfied, informed, monitor = QUADRANTS
    if influence >= HIGH and interest >= HIGH:
        return key
    if influence >= 4:
        return satisfied
    if interest >= HIGH:
        return informed
    return monitor


#: Where an audience with no scores of its own sits on the grid, by approach.
TYPICAL_SCORES = {
    Approach.MANAGE: (4, 4),
    Approach.INFORM: (2, 4),
    Approach.MONITOR: (2, 2),
}


@dataclass(frozen=True)
class AudienceData:
    """The editable fields of an audience."""

    name: str
    group: AudienceGroup
    approach: Approach
    influence: int
    interest: int
    owner_id: int | None = None
    notes: str = ""


def _check_scores(data: AudienceData) -> None:
    for label, value in (("Influence", data.influence), ("Interest", data.interest)):
        if not 1 <= value <= 5:
            raise ValidationError(f"{label} must be between 1 and 5.")


def get_audience_by_name(name: str) -> Audience | None:
    """The audience with this name, ignoring case and surrounding spaces."""
    return db.session.scalar(
        select(Audience).where(func.lower(Audience.name) == name.strip().lower())
    )


def create_audience(
    data: AudienceData, *, actor: User | str, now: datetime
) -> Audience:
    """Add an audience to the map."""
    _check_scores(data)
    if get_audience_by_name(data.name) is not None:
        raise Conflict("An audience with that name already exists.")
    audience = Audience(created_at=now, updated_at=now)
    _apply(audience, data)
    db.session.add(audience)
    db.session.flush()
    record_event(
        actor, "create", "audience", audience.id, f"{audience.approach.value}", now=now
    )
    return audience


def update_audience(
    audience: Audience, data: AudienceData, *, actor: User | str, now: datetime
) -> list[str]:
    """Change an audience; return the names of the fields that changed."""
    _check_scores(data)
    other = get_audience_by_name(data.name)
    if other is not None and other.id != audience.id:
        raise Conflict("An audience with that name already exists.")
    changed = [
        name
        for name in (
            "name",
            "group",
            "approach",
            "influence",
            "interest",
            "owner_id",
            "notes",
        )
        if getattr(audience, name) != getattr(data, name)
    ]
    if changed:
        _apply(audience, data)
        audience.updated_at = now
        db.session.flush()
        record_event(
            actor, "update", "audience", audience.id, ", ".join(changed), now=now
        )
    return changed


def _apply(audience: Audience, data: AudienceData) -> None:
    audience.name = data.name.strip()
    audience.group = data.group
    audience.approach = data.approach
    audience.influence = data.influence
    audience.interest = data.interest
    audience.owner_id = data.owner_id
    audience.notes = data.notes


def archive_audience(audience: Audience, *, actor: User, now: datetime) -> None:
    """Take an audience off the map, keeping its history."""
    if audience.archived_at is None:
        audience.archived_at = now
        record_event(actor, "archive", "audience", audience.id, "", now=now)


def restore_audience(audience: Audience, *, actor: User, now: datetime) -> None:
    """Put an archived audience back on the map."""
    if audience.archived_at is not None:
        audience.archived_at = None
        record_event(actor, "restore", "audience", audience.id, "", now=now)


def add_contact(
    audience: Audience,
    *,
    name: str,
    role: str,
    email: str,
    phone: str,
    actor: User,
    now: datetime,
) -> AudienceContact:
    """Record a named contact for an audience (an email address once in each)."""
    address = email.strip()
    if address and any(
        c.email and c.email.lower() == address.lower() for c in audience.contacts
    ):
        raise ValidationError(f"{address} is already a contact of this audience")
    contact = AudienceContact(name=name.strip(), role=role, email=address, phone=phone)
    audience.contacts.append(contact)
    db.session.flush()
    record_event(
        actor,
        "create",
        "audience_contact",
        contact.id,
        f"audience {audience.id}",
        now=now,
    )
    return contact


def remove_contact(contact: AudienceContact, *, actor: User, now: datetime) -> None:
    """Delete a contact."""
    record_event(
        actor,
        "delete",
        "audience_contact",
        contact.id,
        f"audience {contact.audience_id}",
        now=now,
    )
    db.session.delete(contact)
    db.session.flush()


# Programmes and overrides -------------------------------------------------------------


def list_programmes(*, active_only: bool = False) -> list[Programme]:
    """Programmes by name."""
    query = select(Programme).order_by(Programme.name)
    if active_only:
        query = query.where(Programme.is_active)
    return list(db.session.scalars(query))


def get_programme_by_name(name: str) -> Programme | None:
    """The programme with this name, ignoring case."""
    return by_name(Programme, name)


def save_programme(
    programme: Programme | None,
    *,
    name: str,
    description: str,
    is_active: bool,
    actor: User | str,
    now: datetime,
) -> Programme:
    """Create a programme (``programme`` None) or change one."""
    values: dict[str, object] = {
        "description": description,
        "is_active": is_active,
        "updated_at": now,
    }
    if programme is None:
        values["created_at"] = now
    return save_named(
        Programme,
        programme,
        noun="programme",
        name=name,
        values=values,
        actor=actor,
        now=now,
        summary="",
    )


def set_programme_approach(
    audience: Audience,
    programme: Programme,
    approach: Approach,
    rationale: str,
    *,
    actor: User,
    now: datetime,
) -> ProgrammeApproach:
    """Override an audience's approach for one programme, with the reason why."""
    override = next(
        (o for o in audience.overrides if o.programme_id == programme.id), None
    )
    if override is None:
        override = ProgrammeApproach(
            programme=programme, approach=approach, rationale=rationale
        )
        audience.overrides.append(override)
    else:
        override.approach, override.rationale = approach, rationale
    db.session.flush()
    record_event(
        actor,
        "override",
        "audience",
        audience.id,
        f"programme {programme.id}: {approach.value}",
        now=now,
    )
    return override


def remove_programme_approach(
    override: ProgrammeApproach, *, actor: User, now: datetime
) -> None:
    """Drop an override: the usual approach applies to that programme again."""
    record_event(
        actor,
        "override_removed",
        "audience",
        override.audience_id,
        f"programme {override.programme_id}",
        now=now,
    )
    db.session.delete(override)
    db.session.flush()


def effective_approach(audience: Audience, programme_id: int | None) -> Approach:
    """The audience's approach for a programme (its override), else its usual one."""
    if programme_id is not None:
        for override in audience.overrides:
            if override.programme_id == programme_id:
                return override.approach
    return audience.approach


# Contact cadence ----------------------------------------------------------------------


def get_contact_intervals() -> dict[Approach, int]:
    """Days between contacts expected for each approach (admins may change them)."""
    intervals = dict(DEFAULT_CONTACT_INTERVALS)
    for row in db.session.scalars(select(ContactInterval)):
        intervals[row.approach] = row.days
    return intervals


def set_contact_intervals(
    intervals: dict[Approach, int], *, actor: User, now: datetime
) -> None:
    """Save the expected contact interval of each approach."""
    for approach, days in intervals.items():
        if days < 1:
            raise ValidationError("An interval must be at least one day.")
        row = db.session.get(ContactInterval, approach)
        if row is None:
            db.session.add(ContactInterval(approach=approach, days=days))
        else:
            row.days = days
    db.session.flush()
    summary = ", ".join(f"{a.value} {d}" for a, d in intervals.items())
    record_event(actor, "update", "contact_intervals", None, summary, now=now)


@dataclass(frozen=True)
class ContactStatus:
    """Whether an audience has been reached recently enough for its approach."""

    last_contact: date | None
    interval_days: int
    due_since: date | None  #: None when not due

    @property
    def is_due(self) -> bool:
        return self.due_since is not None


def contact_statuses(
    audiences: list[Audience], *, today: date, programme_id: int | None = None
) -> dict[int, ContactStatus]:
    """Contact status for each audience on ``today``, from the deliveries reaching it.

    Deliveries after ``today`` are ignored, so a past day's status is as it was then.
    """
    from engage.actions.deliveries import last_contact_dates

    intervals = get_contact_intervals()
    last = last_contact_dates([a.id for a in audiences], until=today)
    return {
        audience.id: contact_status(
            last.get(audience.id),
            intervals[effective_approach(audience, programme_id)],
            audience.created_at,
            today,
        )
        for audience in audiences
    }


def contact_status(
    last_contact: date | None, days: int, added_at: datetime, today: date
) -> ContactStatus:
    """Whether an audience added at ``added_at`` and last reached on
    ``last_contact`` is due for contact on ``today``, expecting one every ``days``."""
    if last_contact is None:
        due_since: date | None = added_at.date()
    elif last_contact + timedelta(days=days) <= today:
        due_since = last_contact + timedelta(days=days)
    else:
        due_since = None
    return ContactStatus(last_contact, days, due_since)


# Lists and the map --------------------------------------------------------------------


@dataclass(frozen=True)
class AudienceFilter:
    """Criteria for the audience list; None or empty means no filter."""

    search: str = ""
    group: AudienceGroup | None = None
    approach: Approach | None = None
    include_archived: bool = False


def audience_query(criteria: AudienceFilter) -> Select[Audience]:
    """Audiences matching ``criteria``, by name."""
    query = (
        select(Audience)
        .options(selectinload(Audience.owner), selectinload(Audience.overrides))
        .order_by(Audience.name)
    )
    if not criteria.include_archived:
        query = query.where(Audience.archived_at.is_(None))
    if criteria.group is not None:
        query = query.where(Audience.group == criteria.group)
    if criteria.approach is not None:
        query = query.where(Audience.approach == criteria.approach)
    if criteria.search:
        pattern = f"%{criteria.search.strip().lower()}%"
        query = query.where(
            or_(
                func.lower(Audience.name).like(pattern),
                func.lower(Audience.notes).like(pattern),
            )
        )
    return query


def list_audiences(*, include_archived: bool = False) -> list[Audience]:
    """Audiences on the map (and archived ones if asked), by name."""
    return list(
        db.session.scalars(
            audience_query(AudienceFilter(include_archived=include_archived))
        )
    )


@dataclass
class StakeholderMap:
    """The grid and the lists by approach, for one programme or none."""

    programme: Programme | None
    #: cells[influence][interest] → audiences in that cell (influence and interest 1–5).
    cells: dict[int, dict[int, list[Audience]]] = field(default_factory=dict)
    by_approach: dict[Approach, list[Audience]] = field(default_factory=dict)
    #: The same audiences by the grid's quadrant, strongest first within each.
    by_quadrant: dict[Quadrant, list[Audience]] = field(default_factory=dict)
    approaches: dict[int, Approach] = field(default_factory=dict)
    statuses: dict[int, ContactStatus] = field(default_factory=dict)


def build_map(*, today: date, programme: Programme | None = None) -> StakeholderMap:
    """Place every active audience on the influence × interest grid."""
    audiences = list_audiences()
    programme_id = programme.id if programme else None
    result = StakeholderMap(programme=programme)
    result.cells = {i: {j: [] for j in range(1, 6)} for i in range(1, 6)}
    grouped: dict[Approach, list[Audience]] = defaultdict(list)
    for audience in audiences:
        result.cells[audience.influence][audience.interest].append(audience)
        approach = effective_approach(audience, programme_id)
        result.approaches[audience.id] = approach
        grouped[approach].append(audience)
    result.by_approach = {a: grouped.get(a, []) for a in Approach}
    placed: dict[Quadrant, list[Audience]] = defaultdict(list)
    for audience in audiences:
        placed[quadrant(audience.influence, audience.interest)].append(audience)
    result.by_quadrant = {
        q: sorted(
            placed.get(q, []),
            key=lambda a: (-a.influence, -a.interest, a.name.lower()),
        )
        for q in QUADRANTS
    }
    result.statuses = contact_statuses(
        audiences, today=today, programme_id=programme_id
    )
    return result
