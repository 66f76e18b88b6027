"""Each member's involvement: their record, their subject access data, erasure.

A member's involvement is every session they were invited to (and their reply), every
session they came to (invited or not), and their expense claims with what was paid.
Four queries, however many sessions.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from engage.clock import utcnow
from engage.extensions import db
from engage.involvement.models import Attendance
from engage.involvement.models import ClaimReceipt
from engage.involvement.models import ClaimStatus
from engage.involvement.models import ExpenseClaim
from engage.involvement.models import InvolvementActivity
from engage.involvement.models import InvolvementInvitation
from engage.involvement.models import InvolvementSession
from engage.involvement.models import Reply
from engage.involvement.rollup import attended_sessions
from engage.involvement.rollup import sessions_recounted

if TYPE_CHECKING:
    from engage.membership.models import Member

#: Claims whose amounts were approved (paid, or on their way to finance).
PAID = (ClaimStatus.APPROVED, ClaimStatus.EXPORTED)


@dataclass(frozen=True)
class ClaimLine:
    """A member's claim for one session, in pence."""

    status: ClaimStatus
    submitted_at: datetime
    payment_pence: int
    mileage_pence: int
    fares_pence: int
    carer_pence: int
    total_pence: int
    miles: float
    details: str
    decided_at: datetime | None
    decision_note: str
    receipts: tuple[str, ...]

    @property
    def paid_pence(self) -> int:
        """What is paid: the total once approved, else nothing."""
        return self.total_pence if self.status in PAID else 0


@dataclass(frozen=True)
class SessionLine:
    """One session a member was invited to, came to, or claimed for."""

    session_id: int
    activity_id: int
    activity: str
    kind: str
    starts_at: datetime
    cancelled: bool
    #: Their reply (None: not invited).
    reply: Reply | None = None
    replied_at: datetime | None = None
    support_request: str = ""
    attended: bool = False
    claims: list[ClaimLine] = field(default_factory=list)
    #: Whether it has taken place (begun, and not called off).
    held: bool = False

    @property
    def came_words(self) -> str:
        """Whether they came, in words: only a session held can have been missed."""
        if self.attended:
            return "Yes"
        if self.cancelled:
            return "Called off"
        return "No" if self.held else "Not yet held"

    @property
    def reply_words(self) -> str:
        return "Not invited" if self.reply is None else self.reply.label

    @property
    def paid_pence(self) -> int:
        return sum(claim.paid_pence for claim in self.claims)


@dataclass(frozen=True)
class MemberInvolvement:
    """A member's involvement, newest session first."""

    sessions: list[SessionLine]

    @property
    def attended(self) -> int:
        return sum(1 for line in self.sessions if line.attended)

    @property
    def held(self) -> int:
        """The sessions that have taken place (those they came to among them)."""
        return sum(1 for line in self.sessions if line.held or line.attended)

    @property
    def to_come(self) -> int:
        return sum(1 for line in self.sessions if not (line.held or line.cancelled))

    @property
    def paid_pence(self) -> int:
        return sum(line.paid_pence for line in self.sessions)


def involvement_for_member(
    member: Member, *, now: datetime | None = None
) -> MemberInvolvement:
    """Every session the member was invited to or came to or claimed for, each
    marked held or not as at ``now`` (the clock's when not given).

    Invitations and sessions are read as plain rows (only the columns shown), not
    as objects: a member in hundreds of sessions is read in milliseconds.
    """
    invited = {
        row.session_id: row
        for row in db.session.execute(
            select(
                InvolvementInvitation.session_id,
                InvolvementInvitation.reply,
                InvolvementInvitation.replied_at,
                InvolvementInvitation.support_request,
            ).where(InvolvementInvitation.member_id == member.id)
        )
    }
    attended = set(
        db.session.scalars(
            select(Attendance.session_id).where(Attendance.member_id == member.id)
        )
    )
    claims = db.session.scalars(
        select(ExpenseClaim)
        .options(joinedload(ExpenseClaim.receipts).load_only(ClaimReceipt.filename))
        .where(ExpenseClaim.member_id == member.id)
        .order_by(ExpenseClaim.id)
    ).unique()
    by_session: dict[int, list[ClaimLine]] = {}
    for claim in claims:
        by_session.setdefault(claim.session_id, []).append(
            ClaimLine(
                status=claim.status,
                submitted_at=claim.submitted_at,
                payment_pence=claim.payment_pence,
                mileage_pence=claim.mileage_pence,
                fares_pence=claim.fares_pence,
                carer_pence=claim.carer_pence,
                total_pence=claim.total_pence,
                miles=float(claim.miles or 0),
                details=claim.details,
                decided_at=claim.decided_at,
                decision_note=claim.decision_note,
                receipts=tuple(r.filename for r in claim.receipts),
            )
        )
    ids = set(invited) | attended | set(by_session)
    if not ids:
        return MemberInvolvement([])
    sessions = db.session.execute(
        select(
            InvolvementSession.id,
            InvolvementSession.activity_id,
            InvolvementSession.starts_at,
            InvolvementSession.cancelled_at,
            InvolvementActivity.title,
            InvolvementActivity.kind,
            InvolvementActivity.cancelled_at.label("activity_cancelled_at"),
        )
        .join(
            InvolvementActivity,
            InvolvementActivity.id == InvolvementSession.activity_id,
        )
        .where(InvolvementSession.id.in_(sorted(ids)))
    )
    now = now or utcnow()
    lines = []
    for session in sessions:
        invitation = invited.get(session.id)
        cancelled = (
            session.cancelled_at is not None
            or session.activity_cancelled_at is not None
        )
        lines.append(
            SessionLine(
                session_id=session.id,
                activity_id=session.activity_id,
                activity=session.title,
                kind=session.kind.label,
                starts_at=session.starts_at,
                cancelled=cancelled,
                reply=invitation.reply if invitation else None,
                replied_at=invitation.replied_at if invitation else None,
                support_request=invitation.support_request if invitation else "",
                attended=session.id in attended,
                claims=by_session.get(session.id, []),
                held=not cancelled and session.starts_at <= now,
            )
        )
    lines.sort(key=lambda line: (line.starts_at, line.session_id), reverse=True)
    return MemberInvolvement(lines)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def member_involvement_data(member: Member) -> dict[str, Any]:
    """The member's involvement, JSON-ready, for subject access exports."""
    return {
        "involvement": [
            {
                "activity": line.activity,
                "kind": line.kind,
                "session_starts_at": _iso(line.starts_at),
                "session_cancelled": line.cancelled,
                "invited": line.reply is not None,
                "reply": None if line.reply is None else line.reply.value,
                "replied_at": _iso(line.replied_at),
                "support_request": line.support_request,
                "attended": line.attended,
                "claims": [
                    {
                        "status": claim.status.value,
                        "submitted_at": _iso(claim.submitted_at),
                        "payment_pence": claim.payment_pence,
                        "miles": claim.miles,
                        "mileage_pence": claim.mileage_pence,
                        "fares_pence": claim.fares_pence,
                        "carer_pence": claim.carer_pence,
                        "total_pence": claim.total_pence,
                        "paid_pence": claim.paid_pence,
                        "details": claim.details,
                        "decided_at": _iso(claim.decided_at),
                        "decision_note": claim.decision_note,
                        "receipts": list(claim.receipts),
                    }
                    for claim in line.claims
                ],
            }
            for line in involvement_for_member(member).sessions
        ]
    }


def forget_member(member: Member) -> None:
    """Erasure: delete the member's invitations, attendance, claims and receipts.

    The figures logged on the plan for past sessions stay as they were logged.
    """
    claim_ids = select(ExpenseClaim.id).where(ExpenseClaim.member_id == member.id)
    db.session.execute(delete(ClaimReceipt).where(ClaimReceipt.claim_id.in_(claim_ids)))
    came = attended_sessions(db.session(), "member_id", [member.id])
    # Their attendance no longer counts in the sessions' figures.
    with sessions_recounted(db.session(), came):
        for model in (ExpenseClaim, Attendance, InvolvementInvitation):
            db.session.execute(delete(model).where(model.member_id == member.id))
