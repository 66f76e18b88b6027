"""Staff membership services: lists, records, exports, erasure, retention, figures."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta
from typing import TYPE_CHECKING
from typing import Any
from typing import Literal

from flask import current_app
from sqlalchemy import Select
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from engage.audit.services import SYSTEM
from engage.audit.services import record_event
from engage.audit.words import action_name
from engage.audit.words import actor_name
from engage.audit.words import plain
from engage.backups import ledger
from engage.clock import local_day
from engage.errors import Conflict
from engage.errors import PermissionDenied
from engage.errors import ValidationError
from engage.extensions import db
from engage.imports.tabular import mimetype
from engage.imports.tabular import row_count
from engage.imports.tabular import write_table
from engage.involvement import history as involvement_history
from engage.involvement.replies import give_up_places
from engage.mail.services import forget_address
from engage.mailings import history as mailing_history
from engage.membership import consent
from engage.membership import sar
from engage.membership.equality import QUESTIONS
from engage.membership.models import STAFF_JOIN_METHODS
from engage.membership.models import ConsentMethod
from engage.membership.models import ContactChannel
from engage.membership.models import Member
from engage.membership.models import MemberStatus
from engage.membership.models import MemberSupportNeed
from engage.membership.models import SupportNeed
from engage.membership.models import Tier
from engage.membership.models import Topic
from engage.membership.models import member_topics
from engage.membership.records import member_data
from engage.membership.records import member_events
from engage.membership.validators import normalise_phone
from engage.membership.validators import normalise_postcode
from engage.surveys import privacy as survey_privacy

if TYPE_CHECKING:
    from engage.accounts.models import User


class ErasureReason(enum.StrEnum):
    """Why a member's personal data was erased (recorded in the audit, nothing more)."""

    MEMBER_REQUEST = "member_request"
    CREATED_IN_ERROR = "created_in_error"
    DECEASED = "deceased"
    RETENTION = "retention"

    @property
    def label(self) -> str:
        return {
            "member_request": "The member asked us to erase their data",
            "created_in_error": "The record was created in error or is a duplicate",
            "deceased": "The member has died",
            "retention": "The retention period ended",
        }[self.value]


class MemberDataError(ValidationError):
    """Member details break a rule; ``errors`` maps field names to messages."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(next(iter(errors.values())))
        self.errors = errors


class DuplicateEmail(Conflict):
    """Another member already has this email address."""

    field = "email"


# Lists --------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberFilter:
    """Criteria for the member list; None or empty means no filter."""

    search: str = ""
    tier: Tier | None = None
    #: None lists every status except erased (erased members are never listed).
    status: MemberStatus | None = None
    topic_id: int | None = None
    practice_id: int | None = None
    champion: bool | None = None
    support_need: SupportNeed | None = None


#: The member list's order, newest first: the keys its pages follow.
MEMBER_ORDER = (Member.created_at.desc(), Member.id.desc())


def member_query(criteria: MemberFilter) -> Select[tuple[Member]]:
    """A newest-first query of the (never erased) members matching ``criteria``."""
    query = (
        select(Member)
        .options(selectinload(Member.practice), selectinload(Member.topics))
        .where(Member.status != MemberStatus.ERASED)
        .order_by(*MEMBER_ORDER)
    )
    if criteria.status is not None:
        query = query.where(Member.status == criteria.status)
    if criteria.tier is not None:
        query = query.where(Member.tier == criteria.tier)
    if criteria.practice_id is not None:
        query = query.where(Member.practice_id == criteria.practice_id)
    if criteria.champion is not None:
        query = query.where(Member.is_champion.is_(criteria.champion))
    if criteria.topic_id is not None:
        query = query.where(
            Member.id.in_(
                select(member_topics.c.member_id).where(
                    member_topics.c.topic_id == criteria.topic_id
                )
            )
        )
    if criteria.support_need is not None:
        query = query.where(
            Member.id.in_(
                select(MemberSupportNeed.member_id).where(
                    MemberSupportNeed.need == criteria.support_need
                )
            )
        )
    term = criteria.search.strip().lower()
    if term:
        compact = term.replace(" ", "")
        query = query.where(
            or_(
                func.lower(Member.name).contains(term, autoescape=True),
                func.lower(Member.email).contains(term, autoescape=True),
                func.lower(func.replace(Member.postcode, " ", "")).contains(
                    compact, autoescape=True
                ),
            )
        )
    return query


# Adding and changing members ----------------------------------------------------------


@dataclass
class MemberData:
    """The details staff enter for a member (text as typed; checked by the service)."""

    name: str
    tier: Tier
    email: str = ""
    phone: str = ""
    address: str = ""
    postcode: str = ""
    practice_id: int | None = None
    topic_ids: list[int] = field(default_factory=list)
    support_needs: list[SupportNeed] = field(default_factory=list)
    support_other: str = ""
    is_champion: bool = False
    notes: str = ""
    #: Consent per channel as the member gave it (used when adding a member only).
    consents: dict[ContactChannel, bool] = field(default_factory=dict)


@dataclass(frozen=True)
class _Clean:
    name: str
    email: str | None
    phone: str | None
    address: str | None
    postcode: str | None


def _clean(data: MemberData, *, member: Member | None = None) -> _Clean:
    """Check and normalise the details, or raise MemberDataError / DuplicateEmail."""
    errors: dict[str, str] = {}
    name = data.name.strip()
    if not name:
        errors["name"] = "Enter the member's name"
    email = data.email.strip().lower() or None
    if email is not None and ("@" not in email or len(email) > 254):
        errors["email"] = "Enter an email address in the correct format"
    phone = normalise_phone(data.phone) if data.phone.strip() else None
    if data.phone.strip() and phone is None:
        errors["phone"] = "Enter a phone number, like 01632 960 001 or 07700 900 982"
    postcode = normalise_postcode(data.postcode) if data.postcode.strip() else None
    if data.postcode.strip() and postcode is None:
        errors["postcode"] = "Enter a full UK postcode, like LS1 4AP"
    address = data.address.strip() or None
    if not (data.email.strip() or data.phone.strip() or address):
        errors["email"] = "Enter at least one way to contact the member"
    if errors:
        raise MemberDataError(errors)
    if email is not None:
        other = get_member_by_email(email)
        if other is not None and (member is None or other.id != member.id):
            raise DuplicateEmail("A member with this email address already exists")
    return _Clean(name, email, phone, address, postcode)


def get_member_by_email(email: str) -> Member | None:
    """The member with this email address (any status except erased)."""
    return db.session.scalar(
        select(Member).where(Member.email == email.strip().lower())
    )


def _check_consents(clean: _Clean, consents: dict[ContactChannel, bool]) -> None:
    needs = {
        ContactChannel.EMAIL: ("email", clean.email, "Enter an email address"),
        ContactChannel.SMS: ("phone", clean.phone, "Enter a mobile phone number"),
        ContactChannel.PHONE: ("phone", clean.phone, "Enter a phone number"),
        ContactChannel.POST: ("address", clean.address, "Enter a postal address"),
    }
    errors: dict[str, str] = {}
    for channel, granted in consents.items():
        name, value, message = needs[channel]
        if granted and not value:
            errors.setdefault(name, f"{message} to contact them by {channel.value}")
    if errors:
        raise MemberDataError(errors)


def _apply(member: Member, data: MemberData, clean: _Clean) -> list[str]:
    """Copy the details onto ``member``; return the names of the fields that changed."""
    changed: list[str] = []
    values: dict[str, object] = {
        "name": clean.name,
        "email": clean.email,
        "phone": clean.phone,
        "address": clean.address,
        "postcode": clean.postcode,
        "tier": data.tier,
        "practice_id": data.practice_id,
        # Staff choosing a practice settle it; "Not known" leaves what they said.
        "practice_not_listed": member.practice_not_listed and data.practice_id is None,
        "support_other": data.support_other.strip() or None,
        "is_champion": data.is_champion,
        "notes": data.notes.strip() or None,
    }
    for name, value in values.items():
        if getattr(member, name) != value:
            setattr(member, name, value)
            changed.append(name)
    topics = list(db.session.scalars(select(Topic).where(Topic.id.in_(data.topic_ids))))
    if {t.id for t in member.topics} != {t.id for t in topics}:
        member.topics = topics
        changed.append("topics")
    needs = set(data.support_needs)
    if {n.need for n in member.support_needs} != needs:
        member.support_needs = [
            MemberSupportNeed(need=n) for n in SupportNeed if n in needs
        ]
        changed.append("support_needs")
    return changed


def add_member(
    data: MemberData,
    *,
    method: ConsentMethod,
    actor: User | str,
    now: datetime,
) -> Member:
    """Add a member who joined by phone or on paper: active at once.

    ``data.consents`` are those the member gave, recorded with ``method``. Raises
    MemberDataError for bad details and DuplicateEmail for a known address.
    """
    if method not in STAFF_JOIN_METHODS:
        raise ValidationError("Staff add members who joined by phone or on paper.")
    clean = _clean(data)
    _check_consents(clean, data.consents)
    member = Member(
        status=MemberStatus.ACTIVE,
        joined_by=method,
        created_at=now,
        updated_at=now,
        topics=[],
        support_needs=[],
    )
    _apply(member, data, clean)
    db.session.add(member)
    db.session.flush()
    given = consent.record_consents(member, data.consents, method=method, now=now)
    record_event(
        actor,
        "create",
        "member",
        member.id,
        f"joined by {method.value}; tier {member.tier.value}; consents: "
        + (", ".join(sorted(c.value for c in given)) or "none"),
        now=now,
    )
    return member


def update_member(
    member: Member, data: MemberData, *, actor: User | str, now: datetime
) -> list[str]:
    """Change a member's details; return the names of the fields that changed.

    Consents, status and timestamps are never changed here.
    """
    if member.status is MemberStatus.ERASED:
        raise Conflict("This member's data has been erased.")
    clean = _clean(data, member=member)
    old_tier = member.tier
    changed = _apply(member, data, clean)
    if changed:
        member.updated_at = now
        db.session.flush()
        summary = ", ".join(changed)
        if "tier" in changed:
            summary += f" (tier {old_tier.value}→{member.tier.value})"
        record_event(actor, "update", "member", member.id, summary, now=now)
    return changed


def change_tier(
    member: Member, tier: Tier, *, actor: User | str, now: datetime
) -> None:
    """Move a member to another tier."""
    if member.status is MemberStatus.ERASED:
        raise Conflict("This member's data has been erased.")
    if member.tier is tier:
        return
    old = member.tier
    member.tier = tier
    member.updated_at = now
    db.session.flush()
    record_event(
        actor, "update", "member", member.id, f"tier {old.value}→{tier.value}", now=now
    )


def withdraw_on_request(member: Member, *, actor: User | str, now: datetime) -> None:
    """Withdraw a member who asked staff to (every consent is withdrawn at once)."""
    consent.withdraw_member(member, method=ConsentMethod.STAFF, actor=actor, now=now)


# The record's history -----------------------------------------------------------------


@dataclass(frozen=True)
class HistoryEntry:
    """One line of a member's history: an audited change or a consent record."""

    at: datetime
    kind: Literal["audit", "consent"]
    who: str
    what: str


def _under_notice(wording_version: str) -> str:
    """ ", under privacy notice 3" from a consent record's wording version (the
    notice's version, then a digest of the consent wording that only the record and
    downloads keep)."""
    notice = wording_version.partition("/")[0].strip()
    return f", under privacy notice {notice}" if notice else ""


def member_history(member: Member) -> list[HistoryEntry]:
    """Audit events about the member and its consent records, merged, oldest first."""
    entries = [
        HistoryEntry(
            e.occurred_at,
            "audit",
            actor_name(e),
            ": ".join(
                part for part in (action_name(e.action), plain(e.summary or "")) if part
            ),
        )
        for e in member_events(member)
    ]
    entries += [
        HistoryEntry(
            r.recorded_at,
            "consent",
            r.method.label,
            f"{'Gave' if r.granted else 'Withdrew'} consent to contact by "
            f"{r.channel.label}{_under_notice(r.wording_version)}",
        )
        for r in member.consents
    ]
    return sorted(entries, key=lambda e: (e.at, e.kind != "consent"))


# Erasure and retention ----------------------------------------------------------------


def erase_member(
    member: Member, *, actor: User | str, reason: ErasureReason, now: datetime
) -> None:
    """Erase a member's personal data (right to erasure, SECURITY D5).

    Every personal field is emptied and the support needs, tokens, topics, equality
    answers, consent records, outbox emails, their copies of mailings and their
    involvement (invitations, attendance, claims and receipts) are
    deleted. The row stays as a non-identifying tombstone (tier, status, dates) so
    counts stay true, and the audit keeps who erased it, when and why (the reason
    category only).
    """
    if member.status is MemberStatus.ERASED:
        return
    for address in (member.email, member.pending_email):
        if address:
            forget_address(address)
    for name in (
        "name",
        "email",
        "pending_email",
        "phone",
        "address",
        "postcode",
        "notes",
        "support_other",
    ):
        setattr(member, name, None)
    member.practice = None
    member.practice_not_listed = False
    member.is_champion = False
    member.topics = []
    member.support_needs = []
    member.tokens = []
    member.consents = []
    member.equality = None
    sar.forget_requester(member)
    survey_privacy.forget_member(member)  # surveys: linked-survey PII (D5)
    mailing_history.forget_member(member)  # what was sent to them
    give_up_places(member.id, now)  # places at sessions to come go to those waiting
    involvement_history.forget_member(member)  # invitations, attendance, claims
    if member.withdrawn_at is None and member.status is MemberStatus.ACTIVE:
        member.withdrawn_at = now  # an active member erased has left the scheme
    member.status = MemberStatus.ERASED
    member.erased_at = now
    member.updated_at = now
    db.session.flush()
    record_event(
        actor, "erase", "member", member.id, f"reason: {reason.value}", now=now
    )
    # Kept outside the database, so a restored backup is erased again (F6).
    ledger.queue_entry(
        db.session(), member.id, action=ledger.ERASE, reason=reason.value, now=now
    )


def apply_retention(*, now: datetime, withdrawn_after: timedelta | None = None) -> int:
    """Erase members withdrawn longer ago than the retention period (SECURITY D7).

    The period is ``MEMBER_RETENTION_DAYS`` (30 by default). Returns how many were
    erased and audits one summary event; running it again erases nothing more.
    """
    if withdrawn_after is None:
        withdrawn_after = timedelta(
            days=int(current_app.config["MEMBER_RETENTION_DAYS"])
        )
    due = list(
        db.session.scalars(
            select(Member).where(
                Member.status == MemberStatus.WITHDRAWN,
                Member.withdrawn_at < now - withdrawn_after,
            )
        )
    )
    for member in due:
        erase_member(member, actor=SYSTEM, reason=ErasureReason.RETENTION, now=now)
    record_event(
        SYSTEM,
        "retention",
        "member",
        None,
        f"{len(due)} withdrawn members erased (withdrawn over "
        f"{withdrawn_after.days} days ago)",
        now=now,
    )
    return len(due)


# Subject access and exports -----------------------------------------------------------


def subject_access_export(
    member: Member, *, actor: User | str, now: datetime
) -> dict[str, Any]:
    """Everything held about one member, as JSON-ready data (SECURITY D6).

    Audited as an export of personal data; the audit of this export is included.
    """
    record_event(actor, "export", "member", member.id, "subject access export", now=now)
    db.session.flush()
    return {
        "about": (
            "Everything Engage holds about one member of the PPI membership "
            "scheme (subject access request)."
        ),
        "generated_at": now.isoformat(),
        **member_data(member),
    }


#: The members download's headings, in words: it is read by people (a mail merge, a
#: count by practice), never imported back.
EXPORT_COLUMNS = (
    "Member number",
    "Name",
    "Email address",
    "Phone",
    "Address",
    "Postcode",
    "GP practice",
    "Tier",
    "Status",
    "Joined by",
    "Champion",
    "Topics",
    "Support needs",
    "Other support",
    *(f"May contact by {c.label}" for c in ContactChannel),
    "Joined on",
)
EQUALITY_COLUMNS = tuple(q.text for q in QUESTIONS)


def _is_admin(actor: User | str) -> bool:
    return not isinstance(actor, str) and actor.is_admin


def export_members(
    fmt: Literal["csv", "xlsx"] | str,
    *,
    actor: User | str,
    include_equality: bool,
    now: datetime,
) -> tuple[str, str, bytes]:
    """Active members as a formula-safe CSV or XLSX file.

    Withdrawn and erased members are left out, and so are pending sign-ups: nothing
    may be done with an unconfirmed address (it may have been typed by someone else).

    Equality answers are included only when asked, and only for admins (others get
    PermissionDenied). Returns (filename, mimetype, content); audited with counts.
    """
    if fmt not in ("csv", "xlsx"):
        raise ValidationError("Export as csv or xlsx.")
    if include_equality and not _is_admin(actor):
        raise PermissionDenied("Only administrators may export equality answers.")
    members = list(
        db.session.scalars(
            select(Member)
            .options(
                selectinload(Member.practice),
                selectinload(Member.topics),
                selectinload(Member.support_needs),
                selectinload(Member.consents),
                selectinload(Member.equality),
            )
            .where(Member.status == MemberStatus.ACTIVE)
            .order_by(Member.id)
        )
    )
    columns = list(EXPORT_COLUMNS)
    if include_equality:
        columns += list(EQUALITY_COLUMNS)
    rows = [_export_row(m, include_equality) for m in members]
    content = write_table(fmt, columns, rows, title="members")
    record_event(
        actor,
        "export",
        "member",
        None,
        f"export members: {row_count(len(rows))} ({fmt})"
        + ("; with equality answers" if include_equality else ""),
        now=now,
    )
    return f"members-{local_day(now).isoformat()}.{fmt}", mimetype(fmt), content


def _export_row(member: Member, include_equality: bool) -> list[object]:
    consents = consent.current_consents(member)
    row: list[object] = [
        member.id,
        member.name,
        member.email,
        member.phone,
        member.address,
        member.postcode,
        member.practice_words,
        member.tier.label,
        member.status.label,
        member.joined_by.label,
        "Yes" if member.is_champion else "No",
        "; ".join(t.name for t in member.topics),
        "; ".join(n.need.label for n in member.support_needs),
        member.support_other,
        *("Yes" if consents[c] else "No" for c in ContactChannel),
        local_day(member.created_at),
    ]
    if include_equality:
        answers = member.equality
        for question in QUESTIONS:
            value = getattr(answers, question.field) if answers else None
            row.append(question.labels.get(value, "") if value else "")
    return row
