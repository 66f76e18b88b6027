"""Breach services: deadlines, the overdue flag, recording and updating breaches."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from engage.audit.services import record_event
from engage.breaches.models import Breach
from engage.errors import NotFound
from engage.errors import ValidationError
from engage.extensions import db

if TYPE_CHECKING:
    from engage.accounts.models import User

ENTITY = "breach"
#: Our own rule: the breach is reported internally within 12 hours of discovery.
INTERNAL_HOURS = 12
#: UK GDPR Art 33(1): notify the ICO within 72 hours of becoming aware.
ICO_HOURS = 72

FIELDS = (
    "title",
    "description",
    "discovered_at",
    "people_affected",
    "data_categories",
    "actions_taken",
    "reported_to_ico_at",
    "ico_reference",
    "closed_at",
)


def internal_deadline(discovered_at: datetime) -> datetime:
    """Discovery plus 12 hours of elapsed time."""
    return discovered_at + timedelta(hours=INTERNAL_HOURS)


def ico_deadline(discovered_at: datetime) -> datetime:
    """Discovery plus 72 hours of elapsed time (UK GDPR Art 33)."""
    return discovered_at + timedelta(hours=ICO_HOURS)


@dataclass(frozen=True)
class Deadlines:
    """A breach's deadlines and where it stands against them at ``now``."""

    internal: datetime
    ico: datetime
    #: The ICO deadline has passed and the breach is not reported to the ICO.
    ico_overdue: bool
    #: The internal deadline has passed and the breach is not reported to the ICO
    #: (once the ICO has it, the internal report is moot).
    internal_overdue: bool


def deadlines(breach: Breach, now: datetime) -> Deadlines:
    """The deadlines of ``breach`` and whether each is overdue at ``now``."""
    internal = internal_deadline(breach.discovered_at)
    ico = ico_deadline(breach.discovered_at)
    unreported = breach.reported_to_ico_at is None
    return Deadlines(
        internal=internal,
        ico=ico,
        ico_overdue=unreported and now > ico,
        internal_overdue=unreported and now > internal,
    )


def list_breaches() -> list[Breach]:
    """Every breach, open ones first, most recently discovered first."""
    query = select(Breach).order_by(
        Breach.closed_at.is_not(None), Breach.discovered_at.desc(), Breach.id.desc()
    )
    return list(db.session.scalars(query))


def get_breach(breach_id: int) -> Breach:
    """The breach with ``breach_id``, or NotFound."""
    breach = db.session.get(Breach, breach_id)
    if breach is None:
        raise NotFound("No such breach")
    return breach


class BreachFieldError(ValidationError):
    """A rule broken by one field of the breach form."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def _check(values: dict[str, object], now: datetime) -> None:
    discovered = values["discovered_at"]
    if not isinstance(discovered, datetime):
        raise BreachFieldError("Enter when the breach was discovered", "discovered_at")
    if discovered > now:
        raise BreachFieldError(
            "The discovery time cannot be in the future", "discovered_at"
        )
    for name in ("reported_to_ico_at", "closed_at"):
        moment = values.get(name)
        if isinstance(moment, datetime) and moment < discovered:
            raise BreachFieldError(
                "This cannot be before the breach was discovered", name
            )


def record_breach(values: dict[str, object], *, actor: User, now: datetime) -> Breach:
    """Add a breach to the register and audit it (no personal data in the summary)."""
    _check(values, now)
    breach = Breach(
        recorded_by_id=actor.id, created_at=now, updated_at=now, **_only(values)
    )
    db.session.add(breach)
    db.session.flush()
    record_event(
        actor, "breach.recorded", ENTITY, breach.id, "Breach recorded", now=now
    )
    return breach


def update_breach(
    breach: Breach, values: dict[str, object], *, actor: User, now: datetime
) -> Breach:
    """Change a breach and audit which fields changed."""
    _check(values, now)
    changed = []
    for name, value in _only(values).items():
        if getattr(breach, name) != value:
            setattr(breach, name, value)
            changed.append(name)
    if changed:
        breach.updated_at = now
        record_event(
            actor,
            "breach.updated",
            ENTITY,
            breach.id,
            "Changed: " + ", ".join(changed),
            now=now,
        )
    return breach


def _only(values: dict[str, object]) -> dict[str, object]:
    return {name: values[name] for name in FIELDS if name in values}
