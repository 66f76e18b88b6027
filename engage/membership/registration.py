"""Public membership services: join, confirm, manage, export, equality and purge."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, render_template, url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from engage.audit.services import PUBLIC, record_event
from engage.backups import ledger
from engage.db import begin_write
from engage.errors import NotFound, ValidationError
from engage.extensions import db
from engage.mail.services import absolute_url, forget_address, send_mail
from engage.membership import consent, equality
from engage.membership.models import (
    ConsentMethod,
    ContactChannel,
    EqualityAnswers,
    Member,
    MemberStatus,
    MemberSupportNeed,
    MemberToken,
    SupportNeed,
    Tier,
    TokenPurpose,
    Topic,
)
from engage.membership.records import member_data
from engage.membership.validators import normalise_phone, normalise_postcode

log = logging.getLogger(__name__)

CONFIRM_LINK_LIFETIME = timedelta(days=7)
MANAGE_LINK_LIFETIME = timedelta(hours=24)
EMAIL_CHANGE_LINK_LIFETIME = timedelta(hours=24)
EQUALITY_STEP_LIFETIME = timedelta(hours=2)
PURGE_PENDING_AFTER = timedelta(days=30)

#: The one message for every unusable link, so a guess learns nothing.
BAD_LINK = (
    "This link is not valid or has expired. Ask for a new link on the "
    "manage your membership page."
)

#: Shown when a confirmed new address became someone else's before the link was used.
EMAIL_NOW_TAKEN = (
    "We could not change your email address. Nothing has changed. Ask for a new "
    "link from the manage your membership page to try again."
)

#: Which contact route each consent needs.
_ROUTE_FOR_CHANNEL = {
    ContactChannel.EMAIL: (
        "email",
        "To be contacted by email, enter your email address",
    ),
    ContactChannel.SMS: ("phone", "To get text messages, enter your phone number"),
    ContactChannel.PHONE: ("phone", "To be phoned, enter your phone number"),
    ContactChannel.POST: ("address", "To get letters, enter your postal address"),
}


@dataclass(frozen=True)
class Registration:
    """What a member tells us when joining (and later when changing their details)."""

    name: str
    postcode: str
    tier: Tier
    consents: Mapping[ContactChannel, bool]
    email: str | None = None
    phone: str | None = None
    address: str | None = None
    practice_id: int | None = None
    topic_ids: tuple[int, ...] = ()
    support_needs: tuple[SupportNeed, ...] = ()
    support_other: str | None = None


@dataclass(frozen=True)
class RegistrationResult:
    """The outcome of a join; the page shown must not depend on ``created``."""

    created: bool
    member: Member | None = None
    #: The confirmation token for a new e-mail registration (tests use it).
    token: str | None = field(default=None, repr=False)


# Checking -----------------------------------------------------------------------------


def detail_problems(data: Registration) -> dict[str, str]:
    """Field name → message for each business rule ``data`` breaks (empty if none)."""
    problems: dict[str, str] = {}
    if not (data.email or data.phone or (data.address or "").strip()):
        problems["email"] = "Enter an email address, a phone number or a postal address"
    if data.phone and normalise_phone(data.phone) is None:
        problems["phone"] = (
            "Enter a UK phone number, like 01632 960 001 or 07700 900 982"
        )
    if normalise_postcode(data.postcode or "") is None:
        problems["postcode"] = "Enter a real postcode, like LS1 4AP"
    if not any(data.consents.values()):
        problems["consents"] = "Select at least one way we may contact you"
    for channel, (route, message) in _ROUTE_FOR_CHANNEL.items():
        if data.consents.get(channel) and not (getattr(data, route) or "").strip():
            problems.setdefault(route, message)
    return problems


def _check(data: Registration) -> None:
    problems = detail_problems(data)
    if problems:
        raise ValidationError(next(iter(problems.values())))


def _normalise_email(email: str | None) -> str | None:
    email = (email or "").strip().lower()
    return email or None


def member_by_email(email: str) -> Member | None:
    """The member (not erased) who owns ``email``, if any."""
    normalised = _normalise_email(email)
    if normalised is None:
        return None
    return db.session.scalar(
        select(Member).where(
            Member.email == normalised, Member.status != MemberStatus.ERASED
        )
    )


# Tokens -------------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _issue_token(
    member: Member, purpose: TokenPurpose, lifetime: timedelta, *, now: datetime
) -> str:
    return _store_token(member, purpose, secrets.token_urlsafe(32), lifetime, now=now)


def _store_token(
    member: Member,
    purpose: TokenPurpose,
    token: str,
    lifetime: timedelta,
    *,
    now: datetime,
) -> str:
    db.session.add(
        MemberToken(
            member_id=member.id,
            purpose=purpose,
            token_hash=_token_hash(token),
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    return token


def _find_token(token: str, purpose: TokenPurpose, *, now: datetime) -> MemberToken:
    record: MemberToken | None = db.session.scalar(
        select(MemberToken).where(
            MemberToken.token_hash == _token_hash(token),
            MemberToken.purpose == purpose,
        )
    )
    if record is None or record.expires_at <= now or record.used_at is not None:
        raise NotFound(BAD_LINK)
    return record


def _link(endpoint: str, token: str) -> str:
    return absolute_url(endpoint, token=token)


def _send_manage_link(
    member: Member, template: str, subject: str, *, now: datetime
) -> str:
    if not member.email:  # only members found by their e-mail address get here
        return ""
    token = _issue_token(member, TokenPurpose.MANAGE, MANAGE_LINK_LIFETIME, now=now)
    text = render_template(
        template,
        member=member,
        link=_link("join.manage", token),
        hours=int(MANAGE_LINK_LIFETIME.total_seconds() // 3600),
    )
    send_mail(member.email, subject, text)
    return token


# Joining ------------------------------------------------------------------------------


def register_member(data: Registration, *, now: datetime) -> RegistrationResult:
    """Register a member from the public form (double opt-in when there is an e-mail).

    An address that already belongs to a member changes nothing: its owner is
    e-mailed a manage link instead, and the caller shows the same page.

    The address is looked up and the confirmation e-mail written in the caller's read
    transaction, which this ends; the write transaction (on SQLite the database-wide
    write lock, see ``engage.db.begin_write``) is taken for the inserts alone, so
    concurrent joins queue only for each other's writes. Call it with no unsaved
    changes in the session (the join view is ``writes_late``); the caller commits.

    Raises:
        ValidationError: when ``data`` breaks a rule (see ``detail_problems``).
    """
    _check(data)
    email = _normalise_email(data.email)
    known = member_by_email(email) if email is not None else None
    known_id = known.id if known is not None else None
    confirmation = (
        _confirmation(data.name.strip()) if email and known_id is None else None
    )
    db.session.rollback()  # end the read: the lock is for the writes below
    begin_write(db.session())
    if known_id is not None:
        known = db.session.get(Member, known_id)
        if known is not None and known.status is not MemberStatus.ERASED:
            return _already_registered(known, now=now)
        confirmation = _confirmation(data.name.strip())  # erased since: join anew
    member = Member(
        name=data.name.strip(),
        email=email,
        tier=data.tier,
        status=MemberStatus.PENDING if email else MemberStatus.ACTIVE,
        joined_by=ConsentMethod.WEB_FORM,
        created_at=now,
        updated_at=now,
        confirmed_at=None if email else now,
        consents=[],  # a new member has none: no query to find out
    )
    _apply_details(member, data)
    consent.record_consents(
        member, dict(data.consents), method=ConsentMethod.WEB_FORM, now=now
    )
    try:
        # A concurrent join with the same address loses on the unique constraint.
        # One flush writes the member with its topics and consents; the audit event,
        # links and e-mail below are written when the caller commits.
        with db.session.begin_nested():
            db.session.add(member)
            db.session.flush()
    except IntegrityError:
        existing = member_by_email(email or "")
        if existing is None:
            raise
        return _already_registered(existing, now=now)
    record_event(
        PUBLIC,
        "register",
        "member",
        member.id,
        "joined online, awaiting confirmation" if email else "joined online",
        now=now,
    )
    token = None
    if email is not None and confirmation is not None:
        token = _send_confirmation(member, email, confirmation, now=now)
    return RegistrationResult(created=True, member=member, token=token)


@dataclass(frozen=True)
class _Confirmation:
    """A confirmation link's token and the e-mail carrying it, not yet stored."""

    token: str
    text: str


def _confirmation(name: str) -> _Confirmation:
    """A new confirmation token and its e-mail's text for a member called ``name``."""
    token = secrets.token_urlsafe(32)
    text = render_template(
        "membership/email/confirm.txt",
        name=name,
        link=_link("join.confirm", token),
        days=CONFIRM_LINK_LIFETIME.days,
    )
    return _Confirmation(token, text)


def _send_confirmation(
    member: Member, email: str, confirmation: _Confirmation, *, now: datetime
) -> str:
    """Store ``confirmation``'s single-use link for ``member`` and e-mail it."""
    _store_token(
        member, TokenPurpose.CONFIRM, confirmation.token, CONFIRM_LINK_LIFETIME, now=now
    )
    send_mail(email, "Confirm your PPI membership", confirmation.text)
    return confirmation.token


def _already_registered(member: Member, *, now: datetime) -> RegistrationResult:
    """Answer a join with a registered address: e-mail its owner, change nothing.

    A member who never confirmed gets a fresh confirmation link (the first may be lost
    or expired); anyone else gets a manage link. The page shown is the same either way.
    """
    if member.status is MemberStatus.PENDING and member.email:
        _send_confirmation(
            member, member.email, _confirmation(member.name or ""), now=now
        )
        summary = "join form sent with an unconfirmed address; confirm link e-mailed"
    else:
        _send_manage_link(
            member,
            "membership/email/already_registered.txt",
            "You are already registered for the PPI membership scheme",
            now=now,
        )
        summary = "join form sent with a registered address; manage link e-mailed"
    record_event(PUBLIC, "register_again", "member", member.id, summary, now=now)
    db.session.flush()
    return RegistrationResult(created=False)


def _apply_details(member: Member, data: Registration) -> None:
    """Copy the editable fields of ``data`` onto ``member`` (normalised)."""
    member.name = data.name.strip()
    member.phone = normalise_phone(data.phone) if data.phone else None
    member.address = (data.address or "").strip() or None
    member.postcode = normalise_postcode(data.postcode)
    member.practice_id = data.practice_id
    member.tier = data.tier
    member.support_other = (data.support_other or "").strip() or None
    topics = (
        db.session.scalars(select(Topic).where(Topic.id.in_(data.topic_ids))).all()
        if data.topic_ids
        else []
    )
    member.topics = list(topics)
    wanted = set(data.support_needs)
    have = {n.need for n in member.support_needs}
    if wanted != have:
        member.support_needs = [n for n in member.support_needs if n.need in wanted] + [
            MemberSupportNeed(need=n) for n in sorted(wanted - have)
        ]


def find_confirm_token(token: str, *, now: datetime) -> MemberToken:
    """The usable confirmation token, or NotFound (every failure looks alike)."""
    record = _find_token(token, TokenPurpose.CONFIRM, now=now)
    member = db.session.get(Member, record.member_id)
    if member is None or member.status is not MemberStatus.PENDING:
        raise NotFound(BAD_LINK)
    return record


def confirm_member(token: str, *, now: datetime) -> Member:
    """Confirm a pending member's e-mail address with their single-use link."""
    record = find_confirm_token(token, now=now)
    member: Member = db.session.get_one(Member, record.member_id)
    record.used_at = now
    member.status = MemberStatus.ACTIVE
    member.confirmed_at = now
    member.updated_at = now
    record_event(PUBLIC, "confirm", "member", member.id, "e-mail confirmed", now=now)
    db.session.flush()
    return member


# Managing -----------------------------------------------------------------------------


def request_manage_link(email: str, *, now: datetime) -> None:
    """E-mail a manage link if ``email`` is a member's; do nothing otherwise."""
    member = member_by_email(email)
    if member is None:
        return
    _send_manage_link(
        member,
        "membership/email/manage_link.txt",
        "Manage your PPI membership",
        now=now,
    )
    record_event(
        PUBLIC, "manage_link", "member", member.id, "manage link e-mailed", now=now
    )
    db.session.flush()


def member_for_manage_token(token: str, *, now: datetime) -> Member:
    """The member a manage link belongs to, or NotFound (every failure looks alike)."""
    record = _find_token(token, TokenPurpose.MANAGE, now=now)
    member = db.session.get(Member, record.member_id)
    if member is None or member.status is MemberStatus.ERASED:
        raise NotFound(BAD_LINK)
    return member


def registration_of(member: Member) -> Registration:
    """A member's current details, in the shape the forms and services use."""
    return Registration(
        name=member.name or "",
        email=member.email,
        phone=member.phone,
        address=member.address,
        postcode=member.postcode or "",
        practice_id=member.practice_id,
        topic_ids=tuple(t.id for t in member.topics),
        tier=member.tier,
        consents=consent.current_consents(member),
        support_needs=tuple(sorted(n.need for n in member.support_needs)),
        support_other=member.support_other,
    )


def update_own_details(
    member: Member, data: Registration, *, now: datetime
) -> str | None:
    """Save a member's own changes (rectification), audited by changed field names.

    A new e-mail address is not saved: a link to confirm it is e-mailed to it (or, if
    it is another member's, a note saying so), and the new address is returned so the
    page can say where the link went. The page must not depend on which was sent.
    Removing the address is immediate (another contact route must remain).

    Raises:
        ValidationError: when ``data`` breaks a rule.
    """
    if member.status not in (MemberStatus.PENDING, MemberStatus.ACTIVE):
        raise ValidationError("You have left the scheme, so your details are locked.")
    _check(data)
    before = registration_of(member)
    email = _normalise_email(data.email)
    email_sent_to = None
    if email is None:
        member.email = None
    elif email != member.email:
        _request_email_change(member, email, now=now)
        email_sent_to = email
    _apply_details(member, data)
    changed_channels = consent.record_consents(
        member, dict(data.consents), method=ConsentMethod.SELF_SERVICE, now=now
    )
    after = registration_of(member)
    changed = [
        name
        for name in (
            "name",
            "email",
            "phone",
            "address",
            "postcode",
            "practice_id",
            "tier",
            "topic_ids",
            "support_needs",
            "support_other",
        )
        if getattr(before, name) != getattr(after, name)
    ]
    if changed_channels:
        changed.append("consents")
    if not changed:
        db.session.flush()
        return email_sent_to
    member.updated_at = now
    record_event(
        PUBLIC,
        "self_service_update",
        "member",
        member.id,
        "self-service update: " + ", ".join(changed),
        now=now,
    )
    db.session.flush()
    return email_sent_to


def _request_email_change(member: Member, email: str, *, now: datetime) -> None:
    """E-mail ``email`` a link to make it ``member``'s address, changing nothing yet.

    Earlier change links stop working, so a link only ever applies the address it
    was sent to. An address that is another member's gets a note instead (no link).
    """
    for record in db.session.scalars(
        select(MemberToken).where(
            MemberToken.member_id == member.id,
            MemberToken.purpose == TokenPurpose.EMAIL_CHANGE,
            MemberToken.used_at.is_(None),
        )
    ):
        record.used_at = now
    hours = int(EMAIL_CHANGE_LINK_LIFETIME.total_seconds() // 3600)
    if member_by_email(email) is not None:
        member.pending_email = None
        text = render_template(
            "membership/email/email_taken.txt",
            manage_page=str(current_app.config["BASE_URL"]).rstrip("/")
            + url_for("join.manage_request"),
        )
        send_mail(email, "Your PPI membership email address", text)
    else:
        member.pending_email = email
        token = _issue_token(
            member, TokenPurpose.EMAIL_CHANGE, EMAIL_CHANGE_LINK_LIFETIME, now=now
        )
        text = render_template(
            "membership/email/email_change.txt",
            member=member,
            link=_link("join.confirm_email", token),
            hours=hours,
        )
        send_mail(email, "Confirm your new email address for PPI membership", text)
    record_event(
        PUBLIC,
        "email_change_request",
        "member",
        member.id,
        "e-mail change asked for; a message was sent to the new address",
        now=now,
    )


def _email_change(token: str, *, now: datetime) -> tuple[MemberToken, Member, str]:
    record = _find_token(token, TokenPurpose.EMAIL_CHANGE, now=now)
    member = db.session.get(Member, record.member_id)
    if (
        member is None
        or member.status not in (MemberStatus.PENDING, MemberStatus.ACTIVE)
        or member.pending_email is None
    ):
        raise NotFound(BAD_LINK)
    return record, member, member.pending_email


def member_for_email_change_token(token: str, *, now: datetime) -> Member:
    """The member an e-mail change link is for, or NotFound (failures look alike)."""
    return _email_change(token, now=now)[1]


def confirm_email_change(token: str, *, now: datetime) -> Member:
    """Apply the new address an e-mail change link was sent to (single use).

    Raises:
        NotFound: for an unusable link.
        ValidationError: when the address became another member's meanwhile
            (nothing changes).
    """
    record, member, email = _email_change(token, now=now)
    taken = member_by_email(email)
    if taken is not None and taken.id != member.id:
        raise ValidationError(EMAIL_NOW_TAKEN)
    try:
        with db.session.begin_nested():
            member.email = email
            member.pending_email = None
            db.session.flush()
    except IntegrityError:
        raise ValidationError(EMAIL_NOW_TAKEN) from None
    record.used_at = now
    member.updated_at = now
    record_event(
        PUBLIC,
        "self_service_update",
        "member",
        member.id,
        "self-service update: email",
        now=now,
    )
    db.session.flush()
    return member


def withdraw_own_membership(member: Member, *, now: datetime) -> None:
    """Withdraw a member at their own request: every consent ends at once."""
    consent.withdraw_member(
        member, method=ConsentMethod.SELF_SERVICE, actor=PUBLIC, now=now
    )


def save_equality_answers(
    member: Member, answers: Mapping[str, str | None], *, now: datetime
) -> None:
    """Store a member's optional equality answers (None means not answered).

    Raises:
        ValidationError: for an unknown question or answer.
    """
    for name, value in answers.items():
        if name not in equality.QUESTIONS_BY_FIELD or not equality.is_valid_answer(
            name, value
        ):
            raise ValidationError("Choose one of the answers shown")
    if member.equality is None:
        if not any(answers.values()):
            return
        member.equality = EqualityAnswers(recorded_at=now)
    for name, value in answers.items():
        setattr(member.equality, name, value)
    member.equality.recorded_at = now
    record_event(
        PUBLIC, "equality_answers", "member", member.id, "answers saved", now=now
    )
    db.session.flush()


def start_equality_step(member: Member | None, *, now: datetime) -> str:
    """A fresh opaque value for the join session, the same shape for every outcome.

    Only for a newly created ``member`` is its hash stored (as an EQUALITY token), so
    the value lets that member answer the equality questions; for anyone else (a known
    address, a bot) it matches nothing. The session never names a member.
    """
    if member is None:
        return secrets.token_urlsafe(32)
    return _issue_token(member, TokenPurpose.EQUALITY, EQUALITY_STEP_LIFETIME, now=now)


def use_equality_token(token: str, *, now: datetime) -> Member | None:
    """The member an unexpired, unused equality token belongs to, marking it used.

    None when the value matches nothing usable (every failure looks alike).
    """
    record: MemberToken | None = db.session.scalar(
        select(MemberToken).where(
            MemberToken.token_hash == _token_hash(token),
            MemberToken.purpose == TokenPurpose.EQUALITY,
        )
    )
    if record is None or record.expires_at <= now or record.used_at is not None:
        return None
    member = db.session.get(Member, record.member_id)
    if member is None or member.status is MemberStatus.ERASED:
        return None
    record.used_at = now
    db.session.flush()
    return member


def export_own_data(member: Member) -> dict[str, Any]:
    """Everything we hold about a member, as JSON-serialisable data (subject access)."""
    return member_data(member)


def record_own_export(member: Member, *, now: datetime) -> None:
    """Audit that a member downloaded their own data."""
    record_event(PUBLIC, "export", "member", member.id, "own data downloaded", now=now)
    db.session.flush()


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


# Retention ----------------------------------------------------------------------------


def purge_unconfirmed(
    *, now: datetime, older_than: timedelta = PURGE_PENDING_AFTER
) -> int:
    """Delete pending registrations never confirmed within ``older_than``; the count."""
    stale = db.session.scalars(
        select(Member).where(
            Member.status == MemberStatus.PENDING,
            Member.created_at < now - older_than,
        )
    ).all()
    for member in stale:
        if member.email:
            forget_address(member.email)  # the confirmation e-mail holds their details
        ledger.queue_entry(
            db.session(), member.id, action=ledger.PURGE, reason="unconfirmed", now=now
        )
        db.session.delete(member)
    if stale:
        record_event(
            "system",
            "purge_unconfirmed",
            "member",
            None,
            f"{len(stale)} unconfirmed registrations deleted",
            now=now,
        )
    db.session.flush()
    log.info("purged %d unconfirmed registrations", len(stale))
    return len(stale)
