"""Expense claims: a member's involvement payment and expenses for one session.

A claim pays the involvement payment of the activity's level as it is when the claim
is made, mileage at the organisation's rate as it is then (kept with the claim),
fares and carer costs, all in whole pence. One claim a member a session: sending it
again while it waits for approval replaces it; once decided it cannot change. An
officer approves it or not; approved claims go to finance in an export (CSV or Excel,
formula-safe) that marks them sent, and any past export can be downloaded again.

Receipts are PDFs, JPEGs or PNGs, told by their first bytes (never by the name or the
browser's word), at most ``MAX_RECEIPT_BYTES`` each and ``MAX_RECEIPTS`` a claim,
and never read into memory beyond that limit. Nothing here commits.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from engage import uploads
from engage.accounts.models import EDITORS
from engage.accounts.models import User
from engage.audit.services import record_event
from engage.clock import local_day
from engage.db import added_once
from engage.errors import Conflict
from engage.errors import PermissionDenied
from engage.errors import ValidationError
from engage.extensions import db
from engage.imports.tabular import write_table
from engage.involvement.models import ActivityStatus
from engage.involvement.models import Attendance
from engage.involvement.models import ClaimReceipt
from engage.involvement.models import ClaimStatus
from engage.involvement.models import ExpenseClaim
from engage.involvement.models import InvolvementActivity
from engage.involvement.models import InvolvementInvitation
from engage.involvement.models import InvolvementSession
from engage.involvement.rates import mileage_pence_per_mile
from engage.membership.models import Member
from engage.membership.models import MemberStatus

#: The most a claim may ask for fares, and for carer costs: £1,000 each.
MAX_EXPENSE_PENCE = 100_000
#: The most miles a claim may ask for (to one decimal place).
MAX_MILES = Decimal("1000")
#: Receipts: at most this many a claim, each at most this large.
MAX_RECEIPTS = 5
MAX_RECEIPT_BYTES = 5 * 1024 * 1024
MAX_DETAILS = 2000
MAX_NOTE = 500
#: The types a receipt may be, by the bytes a file of that type starts with.
RECEIPT_TYPES = (uploads.PDF, uploads.JPEG, uploads.PNG)
_POUNDS = re.compile(r"£?\s*(\d{1,3}(?:,\d{3})+|\d{1,7})(?:\.(\d{1,2}))?")
_MILES = re.compile(r"(-?)(\d{1,12})(?:\.(\d+))?")


# Amounts ------------------------------------------------------------------------------


def parse_pounds(text: str, *, most_pence: int, called: str) -> int:
    """Pounds as typed ("12", "12.5", "£1,000.00") in whole pence, within 0..most.

    Raises ValidationError in words naming ``called``.
    """
    typed = text.strip()
    if not typed:
        return 0
    match = _POUNDS.fullmatch(typed)
    if match is None:
        raise ValidationError(f"{called} must be an amount in pounds, like 12.50")
    whole = int(match.group(1).replace(",", ""))
    pence = whole * 100 + int((match.group(2) or "0").ljust(2, "0"))
    if pence > most_pence:
        raise ValidationError(f"{called} must be {pounds(most_pence)} or less")
    return pence


def parse_miles(text: str) -> Decimal:
    """Miles as typed ("12" or "12.5"), to one decimal place, from 0 to MAX_MILES."""
    typed = text.strip()
    if not typed:
        return Decimal(0)
    match = _MILES.fullmatch(typed)
    if match is None:
        raise ValidationError("Miles must be a number, like 12 or 12.5")
    sign, whole, tenths = match.groups()
    if sign and (int(whole) or int(tenths or 0)):
        raise ValidationError("Miles cannot be less than 0")
    if tenths is not None and len(tenths) > 1:
        raise ValidationError("Miles can have one decimal place, like 12.5")
    miles = Decimal(f"{whole}.{tenths or '0'}")
    if miles > MAX_MILES:
        raise ValidationError(f"Miles must be {MAX_MILES:,} or fewer")
    return miles


def pounds(pence: int | None) -> str:
    """Whole pence as pounds for people: ``£1,234.50``."""
    value = int(pence or 0)
    sign = "-" if value < 0 else ""
    whole, part = divmod(abs(value), 100)
    return f"{sign}£{whole:,}.{part:02d}"


def mileage_pence(miles: Decimal | float | int, rate_pence: int) -> int:
    """Miles at a rate a mile, to the nearest penny (halves up): 12.5 at 45p is 563p."""
    claim = ExpenseClaim(miles=float(miles), mileage_rate_pence=rate_pence)
    return claim.mileage_pence


# Receipts -----------------------------------------------------------------------------


#: What a receipt upload offers (Werkzeug's FileStorage does).
Upload = uploads.Upload
#: A receipt that passed the checks: its cleaned name, type and bytes.
ReceiptFile = uploads.CheckedFile


def clean_filename(name: str, extension: str) -> str:
    """A receipt's file name safe to store and send back (engage/uploads.py)."""
    return uploads.clean_filename(name, extension, stem="receipt")


def read_receipt(upload: Upload) -> ReceiptFile:
    """Check one uploaded receipt and read it (at most MAX_RECEIPT_BYTES + 1 bytes)."""
    return uploads.read_upload(
        upload,
        types=RECEIPT_TYPES,
        max_bytes=MAX_RECEIPT_BYTES,
        called="A receipt",
        stem="receipt",
        wrong_type_advice="Receipts must be a PDF or a photo (JPEG or PNG).",
        too_large_advice="Upload a smaller copy, for example a photo at a lower "
        "resolution.",
    )


def read_receipts(files: Sequence[Upload]) -> list[ReceiptFile]:
    """Check every receipt uploaded at once (files without a name were not chosen)."""
    chosen = uploads.chosen(files)
    if len(chosen) > MAX_RECEIPTS:
        raise ValidationError(f"Upload at most {MAX_RECEIPTS} receipts for a claim.")
    return [read_receipt(upload) for upload in chosen]


# Who may claim ------------------------------------------------------------------------


def claim_for(member_id: int, session_id: int) -> ExpenseClaim | None:
    """A member's claim for a session, if they have made one."""
    return db.session.scalar(
        select(ExpenseClaim).where(
            ExpenseClaim.member_id == member_id,
            ExpenseClaim.session_id == session_id,
        )
    )


def claimable_members(session: InvolvementSession) -> list[Member]:
    """The members who may claim for a session: those invited and those who came."""
    invited = select(InvolvementInvitation.member_id).where(
        InvolvementInvitation.session_id == session.id,
        InvolvementInvitation.member_id.is_not(None),
    )
    came = select(Attendance.member_id).where(
        Attendance.session_id == session.id, Attendance.member_id.is_not(None)
    )
    return list(
        db.session.scalars(
            select(Member)
            .where(
                Member.id.in_(invited.union(came).scalar_subquery()),
                Member.status != MemberStatus.ERASED,
            )
            .order_by(Member.name, Member.id)
        )
    )


def _may_claim(member: Member, session: InvolvementSession) -> bool:
    return any(m.id == member.id for m in claimable_members(session))


def claim_problem(session: InvolvementSession, now: datetime) -> str | None:
    """Why no claim can be made for a session now, in words (None: it can)."""
    if session.cancelled_at is not None or (
        session.activity.status == ActivityStatus.CANCELLED
    ):
        return "This session was cancelled, so there is nothing to claim for."
    if session.starts_at > now:
        return "You can claim once the session has started."
    return None


# Claims -------------------------------------------------------------------------------


def submit_claim(
    who: InvolvementInvitation | Member,
    session: InvolvementSession,
    *,
    miles: Decimal,
    fares_pence: int,
    carer_pence: int,
    details: str,
    receipts: Sequence[ReceiptFile],
    entered_by: User | None,
    now: datetime,
    remove_receipt_ids: Collection[int] = (),
    payment_wanted: bool = True,
) -> ExpenseClaim:
    """Make (or, while it waits for approval, replace) a member's claim for a session.

    ``payment_wanted`` False claims the expenses alone (a member on benefits may not
    want the involvement payment).

    ``who`` is the member's invitation (their private link) or, for staff entering a
    claim (``entered_by``), the member. A claim sent through the link with fares needs
    a receipt. Receipts already uploaded are kept unless named in
    ``remove_receipt_ids``; at most MAX_RECEIPTS in all.
    """
    if isinstance(who, InvolvementInvitation):
        if who.session_id != session.id or who.member is None:
            raise ValidationError("This link is not for a member's claim.")
        member: Member = who.member
    else:
        member = who
        if not _may_claim(member, session):
            raise ValidationError(
                "Only a member invited to this session, or who came to it, can claim."
            )
    problem = claim_problem(session, now)
    if problem is not None:
        raise ValidationError(problem)
    _check_amounts(miles, fares_pence, carer_pence, details)

    claim = claim_for(member.id, session.id)
    if claim is not None and claim.status != ClaimStatus.SUBMITTED:
        raise ValidationError(
            f"A claim for this session has already been {claim.status.label.lower()}"
            " and cannot be changed. Contact the involvement team if something is "
            "wrong."
        )
    replacing = claim is not None
    mileage_rate = mileage_pence_per_mile()
    if claim is None:
        claim = ExpenseClaim(
            member_id=member.id, session_id=session.id, submitted_at=now
        )
        if not added_once(db.session(), claim):
            raise Conflict(
                "A claim for this session was sent twice at the same moment: one "
                "was kept. Open the claim again to check it."
            )
    _attach(claim, receipts, remove_receipt_ids, now)
    if fares_pence and entered_by is None and not claim.receipts:
        raise ValidationError("Upload a receipt or ticket for your fares.")
    rate = session.activity.rate
    claim.status = ClaimStatus.SUBMITTED
    claim.payment_pence = (
        rate.session_pence if rate is not None and payment_wanted else 0
    )
    claim.miles = float(miles)
    claim.mileage_rate_pence = mileage_rate
    claim.fares_pence = fares_pence
    claim.carer_pence = carer_pence
    claim.details = details
    claim.entered_by_id = entered_by.id if entered_by is not None else None
    claim.submitted_at = now
    db.session.flush()
    record_event(
        entered_by if entered_by is not None else "public",
        "update" if replacing else "create",
        "expense_claim",
        claim.id,
        f"claim for session {session.id}, {len(claim.receipts)} receipts",
        now=now,
    )
    return claim


def _attach(
    claim: ExpenseClaim,
    receipts: Sequence[ReceiptFile],
    remove_ids: Collection[int],
    now: datetime,
) -> None:
    """Keep the claim's receipts not removed, add the new ones (MAX_RECEIPTS in all)."""
    kept = [r for r in claim.receipts if r.id not in set(remove_ids)]
    if len(kept) + len(receipts) > MAX_RECEIPTS:
        raise ValidationError(
            f"A claim can have at most {MAX_RECEIPTS} receipts: it has {len(kept)} "
            "already. Remove one first."
        )
    for receipt in list(claim.receipts):
        if receipt not in kept:
            claim.receipts.remove(receipt)
    for upload in receipts:
        claim.receipts.append(
            ClaimReceipt(
                filename=upload.filename,
                content_type=upload.content_type,
                size=len(upload.data),
                data=upload.data,
                uploaded_at=now,
            )
        )


def _check_amounts(
    miles: Decimal, fares_pence: int, carer_pence: int, details: str
) -> None:
    if not (Decimal(0) <= miles <= MAX_MILES) or miles != miles.quantize(
        Decimal("0.1")
    ):
        raise ValidationError("Miles must be from 0 to 1,000, to one decimal place.")
    for called, pence in (("Fares", fares_pence), ("Carer costs", carer_pence)):
        if not 0 <= pence <= MAX_EXPENSE_PENCE:
            raise ValidationError(f"{called} must be from £0 to £1,000.")
    if len(details) > MAX_DETAILS:
        raise ValidationError(f"Details must be {MAX_DETAILS:,} characters or fewer.")


def decide(
    claim: ExpenseClaim, *, approve: bool, note: str, by: User, now: datetime
) -> None:
    """Approve a claim waiting for approval, or not (an officer or admin; not
    approving needs a note saying why)."""
    if by.role not in EDITORS:
        raise PermissionDenied("Only officers and admins can approve claims.")
    if claim.status != ClaimStatus.SUBMITTED:
        raise ValidationError(
            f"This claim has already been {claim.status.label.lower()}."
        )
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise ValidationError(f"The note must be {MAX_NOTE} characters or fewer.")
    if not approve and not note:
        raise ValidationError("Say why the claim is not approved.")
    claim.status = ClaimStatus.APPROVED if approve else ClaimStatus.REJECTED
    claim.decided_at = now
    claim.decided_by_id = by.id
    claim.decision_note = note
    record_event(
        by,
        "approve_claim" if approve else "reject_claim",
        "expense_claim",
        claim.id,
        "",
        now=now,
    )
    db.session.flush()


# Finance ------------------------------------------------------------------------------

EXPORT_COLUMNS = (
    "Claim number",
    "Member name",
    "Member number",
    "Activity",
    "Session date",
    "Level",
    "Involvement payment (£)",
    "Miles",
    "Mileage rate (pence a mile)",
    "Mileage (£)",
    "Fares (£)",
    "Carer costs (£)",
    "Total (£)",
    "Approved by",
    "Approved on",
)


@dataclass(frozen=True)
class Export:
    """A file for finance: its bytes, name and how many claims it holds."""

    content: bytes
    filename: str
    count: int


@dataclass(frozen=True)
class PastExport:
    """One export already made: when, how many claims and their total."""

    exported_at: datetime
    count: int
    total_pence: int


def _money(pence: int, fmt: str) -> object:
    # A workbook gets numbers finance can add up; a CSV exact text with two places.
    return pence / 100 if fmt == "xlsx" else f"{pence // 100}.{pence % 100:02d}"


def _rows(claims: Sequence[ExpenseClaim], fmt: str) -> list[list[Any]]:
    deciders = {
        user.id: user.name
        for user in db.session.scalars(
            select(User).where(User.id.in_({c.decided_by_id for c in claims}))
        )
    }
    rows = []
    for claim in claims:
        activity = claim.session.activity
        rows.append(
            [
                claim.id,
                claim.member.name or "",
                claim.member_id,
                activity.title,
                local_day(claim.session.starts_at).isoformat(),
                activity.rate.name if activity.rate is not None else "",
                _money(claim.payment_pence, fmt),
                float(claim.miles or 0),
                claim.mileage_rate_pence,
                _money(claim.mileage_pence, fmt),
                _money(claim.fares_pence, fmt),
                _money(claim.carer_pence, fmt),
                _money(claim.total_pence, fmt),
                deciders.get(claim.decided_by_id or 0, ""),
                local_day(claim.decided_at).isoformat() if claim.decided_at else "",
            ]
        )
    return rows


def _file(claims: Sequence[ExpenseClaim], fmt: str, at: datetime) -> Export:
    stamp = at.strftime("%Y-%m-%d-%H%M%S")
    content = write_table(
        fmt, EXPORT_COLUMNS, _rows(claims, fmt), title="Involvement claims"
    )
    return Export(content, f"involvement-claims-{stamp}.{fmt}", len(claims))


#: Newest first: the claims list's order, and the keys its pages follow.
NEWEST_FIRST = (ExpenseClaim.submitted_at.desc(), ExpenseClaim.id.desc())

#: Load with each claim what lists and exports show of it, in a fixed number of
#: queries however many claims there are.
WITH_PEOPLE = (
    selectinload(ExpenseClaim.member),
    selectinload(ExpenseClaim.session)
    .selectinload(InvolvementSession.activity)
    .selectinload(InvolvementActivity.rate),
)


def waiting_for_export() -> list[ExpenseClaim]:
    """Approved claims not yet sent to finance, oldest decision first."""
    return list(
        db.session.scalars(
            select(ExpenseClaim)
            .where(
                ExpenseClaim.status == ClaimStatus.APPROVED,
                ExpenseClaim.exported_at.is_(None),
            )
            .order_by(ExpenseClaim.decided_at, ExpenseClaim.id)
            .options(*WITH_PEOPLE)
        )
    )


def export_for_finance(fmt: str, *, by: User, now: datetime) -> Export:
    """Every approved claim not yet exported, as a file for finance; marks them sent.

    Each claim's ``exported_at`` is ``now``: the export's name, by which it can be
    downloaded again (``export_again``).
    """
    if fmt not in ("csv", "xlsx"):
        raise ValidationError("Choose CSV or Excel.")
    claims = waiting_for_export()
    if not claims:
        raise ValidationError("There are no approved claims to send to finance.")
    for claim in claims:
        claim.status = ClaimStatus.EXPORTED
        claim.exported_at = now
    record_event(
        by, "export", "expense_claim", None, f"{len(claims)} claims sent to finance"
    )
    db.session.flush()
    return _file(claims, fmt, now)


def past_exports(limit: int = 24) -> list[PastExport]:
    """The latest exports to finance, newest first."""
    claims = db.session.scalars(
        select(ExpenseClaim).where(
            ExpenseClaim.exported_at.in_(
                select(ExpenseClaim.exported_at)
                .where(ExpenseClaim.exported_at.is_not(None))
                .group_by(ExpenseClaim.exported_at)
                .order_by(ExpenseClaim.exported_at.desc())
                .limit(limit)
                .scalar_subquery()
            )
        )
    ).all()
    batches: dict[datetime, list[ExpenseClaim]] = {}
    for claim in claims:
        if claim.exported_at is not None:
            batches.setdefault(claim.exported_at, []).append(claim)
    return [
        PastExport(at, len(group), sum(c.total_pence for c in group))
        for at, group in sorted(batches.items(), reverse=True)
    ]


def export_again(exported_at: datetime, fmt: str, *, by: User) -> Export:
    """A past export to finance again, the same claims (their status unchanged)."""
    if fmt not in ("csv", "xlsx"):
        raise ValidationError("Choose CSV or Excel.")
    claims = list(
        db.session.scalars(
            select(ExpenseClaim)
            .where(ExpenseClaim.exported_at == exported_at)
            .order_by(ExpenseClaim.decided_at, ExpenseClaim.id)
            .options(*WITH_PEOPLE)
        )
    )
    if not claims:
        raise ValidationError("That export was not found.")
    record_event(
        by,
        "export",
        "expense_claim",
        None,
        f"{len(claims)} claims downloaded again (sent {exported_at.isoformat()})",
    )
    return _file(claims, fmt, exported_at)


# Summaries ----------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusTotal:
    """Claims of one status: how many and what they come to."""

    status: ClaimStatus
    count: int
    total_pence: int


def totals_for_activity(activity_id: int) -> list[StatusTotal]:
    """The activity's claims by status (only statuses it has), with their totals."""
    claims = db.session.scalars(
        select(ExpenseClaim)
        .join(InvolvementSession, ExpenseClaim.session_id == InvolvementSession.id)
        .where(InvolvementSession.activity_id == activity_id)
    ).all()
    found: dict[ClaimStatus, list[ExpenseClaim]] = {}
    for claim in claims:
        found.setdefault(claim.status, []).append(claim)
    return [
        StatusTotal(
            status, len(found[status]), sum(c.total_pence for c in found[status])
        )
        for status in ClaimStatus
        if status in found
    ]


def count_by_status() -> dict[ClaimStatus, int]:
    """How many claims there are of each status."""
    rows = db.session.execute(
        select(ExpenseClaim.status, func.count()).group_by(ExpenseClaim.status)
    ).all()
    return {ClaimStatus(status): count for status, count in rows}
