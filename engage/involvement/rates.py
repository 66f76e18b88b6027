"""Involvement levels and what they pay, and the mileage rate: set by admins, audited.

A level's payment for a session is kept in whole pence (0: expenses only). The
mileage rate is the organisation's, in pence a mile. Changes apply to claims made
afterwards: a claim keeps the payment and rate it was made at. Nothing here commits.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlalchemy import select

from engage.accounts.models import User
from engage.audit.services import record_event
from engage.errors import ValidationError
from engage.extensions import db
from engage.involvement.models import InvolvementRate
from engage.organisation.models import Organisation

#: The most a level may pay for one session (£10,000), and a mile (£2).
MAX_SESSION_PENCE = 1_000_000
MAX_MILEAGE_PENCE = 200
#: The rate when the organisation's details have not been saved yet (HMRC's 45p).
DEFAULT_MILEAGE_PENCE = 45


def list_rates() -> list[InvolvementRate]:
    """Every level, in their order."""
    return list(
        db.session.scalars(
            select(InvolvementRate).order_by(
                InvolvementRate.position, InvolvementRate.id
            )
        )
    )


def active_rates() -> list[InvolvementRate]:
    """The levels an activity may be given."""
    return [rate for rate in list_rates() if rate.is_active]


def save_rate(
    rate: InvolvementRate | None,
    *,
    name: str,
    description: str,
    session_pence: int,
    is_active: bool,
    actor: User,
    now: datetime,
) -> InvolvementRate:
    """Add a level (``rate`` None) or change one; names are unique."""
    name = name.strip()
    if not name:
        raise ValidationError("Enter the level's name.")
    if not 0 <= session_pence <= MAX_SESSION_PENCE:
        raise ValidationError("The payment must be from £0 to £10,000.")
    same = db.session.scalar(
        select(InvolvementRate).where(
            func.lower(InvolvementRate.name) == name.lower(),
            InvolvementRate.id != (rate.id if rate is not None else 0),
        )
    )
    if same is not None:
        raise ValidationError("There is already a level with this name.")
    creating = rate is None
    if rate is None:
        last = db.session.scalar(select(func.max(InvolvementRate.position))) or 0
        rate = InvolvementRate(position=last + 1, created_at=now)
        db.session.add(rate)
    changed = [
        field
        for field, value in (
            ("name", name),
            ("description", description),
            ("session payment", session_pence),
            ("in use", is_active),
        )
        if creating or getattr(rate, _COLUMNS[field]) != value
    ]
    rate.name = name
    rate.description = description
    rate.session_pence = session_pence
    rate.is_active = is_active
    rate.updated_at = now
    db.session.flush()
    record_event(
        actor,
        "create" if creating else "update",
        "involvement_rate",
        rate.id,
        ("Changed: " + ", ".join(changed)) if changed and not creating else "",
        now=now,
    )
    return rate


_COLUMNS = {
    "name": "name",
    "description": "description",
    "session payment": "session_pence",
    "in use": "is_active",
}


def mileage_pence_per_mile() -> int:
    """What a mile of travel by car is paid, in pence, now."""
    rate = db.session.scalar(
        select(Organisation.mileage_pence_per_mile).where(Organisation.id == 1)
    )
    return DEFAULT_MILEAGE_PENCE if rate is None else int(rate)


def set_mileage_rate(pence: int, *, actor: User, now: datetime) -> None:
    """Set the mileage rate for claims made from now (the organisation's details
    must have been saved, as for its other settings)."""
    if not 0 <= pence <= MAX_MILEAGE_PENCE:
        raise ValidationError(
            f"The mileage rate must be from 0 to {MAX_MILEAGE_PENCE} pence a mile."
        )
    row = db.session.get(Organisation, 1)
    if row is None:
        raise ValidationError(
            "Save the organisation's details first (Administration, Organisation)."
        )
    if row.mileage_pence_per_mile == pence:
        return
    before = row.mileage_pence_per_mile
    row.mileage_pence_per_mile = pence
    row.updated_at = now
    record_event(
        actor,
        "organisation.update",
        "organisation",
        1,
        f"Mileage rate for involvement claims {before}p → {pence}p a mile",
        now=now,
    )
    db.session.flush()
