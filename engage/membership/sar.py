"""The subject access request (SAR) register: due dates, logging and completion."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy import update

from engage.actions.schedule import add_months
from engage.audit.services import record_event
from engage.clock import local_day
from engage.errors import Conflict
from engage.errors import ValidationError
from engage.extensions import db
from engage.membership.models import Member
from engage.membership.models import MemberStatus
from engage.membership.models import SubjectAccessRequest

if TYPE_CHECKING:
    from engage.accounts.models import User

ENTITY = "subject_access_request"


class SarStatus(enum.StrEnum):
    """Where a request stands on a given day."""

    OVERDUE = "overdue"
    OPEN = "open"
    COMPLETED = "completed"

    @property
    def label(self) -> str:
        return self.value.capitalize()


@dataclass(frozen=True)
class RegisterEntry:
    """One row of the register: the request and its status today."""

    request: SubjectAccessRequest
    status: SarStatus


def due_date(received: date) -> date:
    """Return the response deadline: one calendar month after ``received``.

    When the next month has no such day the deadline is its last day
    (31 January → 28 February, or 29 February in a leap year), as the ICO advises.
    """
    return add_months(received, 1)


def is_overdue(request: SubjectAccessRequest, today: date) -> bool:
    """Whether ``request`` is still open after its due date."""
    return request.completed_on is None and today > request.due_on


def status_on(request: SubjectAccessRequest, today: date) -> SarStatus:
    """The request's status on ``today``."""
    if request.completed_on is not None:
        return SarStatus.COMPLETED
    return SarStatus.OVERDUE if is_overdue(request, today) else SarStatus.OPEN


def find_member(member_id: int) -> Member | None:
    """The member a request can be linked to: None if unknown or already erased."""
    member = db.session.get(Member, member_id)
    if member is None or member.status is MemberStatus.ERASED:
        return None
    return member


def log_request(
    *,
    member: Member | None,
    requester: str,
    received_on: date,
    notes: str,
    actor: User | str,
    now: datetime,
) -> SubjectAccessRequest:
    """Add a request to the register, due one calendar month after it was received.

    Raises:
        ValidationError: no requester, a future received date or an erased member.
    """
    requester = requester.strip()
    if not requester:
        raise ValidationError("Describe who made the request")
    if received_on > local_day(now):
        raise ValidationError("The date received cannot be in the future")
    if member is not None and member.status is MemberStatus.ERASED:
        raise ValidationError("That member's personal data has been erased")
    request = SubjectAccessRequest(
        member=member,
        requester=requester[:200],
        received_on=received_on,
        due_on=due_date(received_on),
        notes=notes.strip(),
        created_at=now,
        created_by_id=None if isinstance(actor, str) else actor.id,
    )
    db.session.add(request)
    db.session.flush()
    linked = f"member {member.id}" if member is not None else "no member linked"
    record_event(
        actor,
        "create",
        ENTITY,
        request.id,
        f"received {received_on.isoformat()}, due {request.due_on.isoformat()}, "
        f"{linked}",
        now=now,
    )
    return request


def complete_request(
    request: SubjectAccessRequest,
    *,
    completed_on: date,
    actor: User | str,
    now: datetime,
) -> None:
    """Mark a request as answered on ``completed_on``.

    Raises:
        Conflict: the request is already completed.
        ValidationError: ``completed_on`` is before it was received or in the future.
    """
    if request.completed_on is not None:
        raise Conflict("This request is already completed.")
    if completed_on < request.received_on or completed_on > local_day(now):
        raise ValidationError(
            "The completion date must be between the date received and today"
        )
    request.completed_on = completed_on
    db.session.flush()
    late = " (late)" if completed_on > request.due_on else ""
    record_event(
        actor,
        "complete",
        ENTITY,
        request.id,
        f"completed {completed_on.isoformat()}, due {request.due_on.isoformat()}{late}",
        now=now,
    )


def list_requests(*, today: date) -> list[RegisterEntry]:
    """The register: open requests first by due date, then completed, newest first."""
    requests = list(
        db.session.scalars(
            select(SubjectAccessRequest).order_by(
                SubjectAccessRequest.due_on, SubjectAccessRequest.id
            )
        )
    )
    still_open = [r for r in requests if r.completed_on is None]
    completed = sorted(
        (r for r in requests if r.completed_on is not None),
        key=lambda r: (r.completed_on or r.due_on, r.id),
        reverse=True,
    )
    return [RegisterEntry(r, status_on(r, today)) for r in still_open + completed]


def forget_requester(member: Member) -> None:
    """Blank the requester and notes of a member's requests when they are erased.

    The dates stay, so the register still shows that each request was answered in
    time; the text describing the requester is personal data.
    """
    db.session.execute(
        update(SubjectAccessRequest)
        .where(SubjectAccessRequest.member_id == member.id)
        .values(requester="", notes="")
    )
