"""Public membership services: join (a read phase, then a write phase), confirm, the
optional equality step, members' private links, and the purge of unconfirmed sign-ups.

What a member does later with their manage link is in engage.membership.self_service.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta

from flask import render_template
from sqlalchemy import bindparam
from sqlalchemy import select

from engage.audit.services import PUBLIC
from engage.audit.services import record_event
from engage.backups import ledger
from engage.db import first_write_refused
from engage.errors import NotFound
from engage.errors import ValidationError
from engage.extensions import db
from engage.mail.services import absolute_url
from engage.mail.services import forget_address
from engage.mail.services import send_mail
from engage.membership import consent
from engage.membership import equality
from engage.membership.models import ConsentMethod
from engage.membership.models import ContactChannel
from engage.membership.models import EqualityAnswers
from engage.membership.models import Member
from engage.membership.models import MemberStatus
from engage.membership.models import MemberSupportNeed
from engage.membership.models import MemberToken
from engage.membership.models import SupportNeed
from engage.membership.models import Tier
from engage.membership.models import TokenPurpose
from engage.membership.models import Topic
from engage.membership.validators import normalise_phone
from engage.membership.validators import normalise_postcode
from engage.organisation import services as organisation

log = logging.getLogger(__name__)

CONFIRM_LINK_LIFETIME = timedelta(days=7)
MANAGE_LINK_LIFETIME = timedelta(hours=24)
EQUALITY_STEP_LIFETIME = timedelta(hours=2)
PURGE_PENDING_AFTER = timedelta(days=30)

#: The one message for every unusable link, so a guess learns nothing.
BAD_LINK = (
    "This link is not valid or has expired. Ask for a new link on the "
    "manage your membership page."
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
    #: No practice chosen because theirs is not in the list.
    practice_not_listed: bool = False
    topic_ids: tuple[int, ...] = ()
    support_needs: tuple[SupportNeed, ...] = ()
    support_other: str | None = None


@dataclass(frozen=True)
class RegistrationResult:
    """The outcome of a join; the page shown must not depend on ``created``."""

    created: bool
    member: Member | None = None
    #: The confirmation token for a new email registration (tests use it).
    token: str | None = field(default=None, repr=False)


# Checking -----------------------------------------------------------------------------


def detail_problems(data: Registration, *, joining: bool = True) -> dict[str, str]:
    """Field name → message for each business rule ``data`` breaks (empty if none).

    Joining asks for at least one way to be contacted; a member changing their own
    details may untick them all (consent is never a price of correcting them).
    """
    problems: dict[str, str] = {}
    if not (data.email or data.phone or (data.address or "").strip()):
        problems["email"] = "Enter an email address, a phone number or a postal address"
    if data.phone and normalise_phone(data.phone) is None:
        problems["phone"] = (
            "Enter a UK phone number, like 01632 960 001 or 07700 900 982"
        )
    if normalise_postcode(data.postcode or "") is None:
        problems["postcode"] = "Enter a real postcode, like LS1 4AP"
    if joining and not any(data.consents.values()):
        problems["consents"] = "Select at least one way we may contact you"
    other = (data.support_other or "").strip()
    if SupportNeed.OTHER in data.support_needs and not other:
        problems["support_other"] = "Tell us what other support you need"
    for channel, (route, message) in _ROUTE_FOR_CHANNEL.items():
        if data.consents.get(channel) and not (getattr(data, route) or "").strip():
            problems.setdefault(route, message)
    return problems


def check_details(data: Registration, *, joining: bool = True) -> None:
    """Raise ValidationError with the first business rule ``data`` breaks, if any."""
    problems = detail_problems(data, joining=joining)
    if problems:
        raise ValidationError(next(iter(problems.values())))


def normalise_email(email: str | None) -> str | None:
    """An address trimmed and lower-cased; None for none."""
    email = (email or "").strip().lower()
    return email or None


def member_by_email(email: str) -> Member | None:
    """The member (not erased) who owns ``email``, if any."""
    normalised = normalise_email(email)
    if normalised is None:
        return None
    return db.session.scalar(
        select(Member).where(
            Member.email == normalised, Member.status != MemberStatus.ERASED
        )
    )


#: The id of the member (not erased) who owns the normalised address ``owner_email``,
#: if any: built once, as every join reads it.
_OWNER_ID = (
    select(Member.id)
    .where(
        Member.email == bindparam("owner_email"), Member.status != MemberStatus.ERASED
    )
    .scalar_subquery()
)


# Tokens -------------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(
    member: Member, purpose: TokenPurpose, lifetime: timedelta, *, now: datetime
) -> str:
    """A new random link token for ``member``, stored only as its hash."""
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


def find_token(token: str, purpose: TokenPurpose, *, now: datetime) -> MemberToken:
    """The usable token record, or NotFound with the one message for every failure."""
    record: MemberToken | None = db.session.scalar(
        select(MemberToken).where(
            MemberToken.token_hash == _token_hash(token),
            MemberToken.purpose == purpose,
        )
    )
    if record is None or record.expires_at <= now or record.used_at is not None:
        raise NotFound(BAD_LINK)
    return record


def member_link(endpoint: str, token: str) -> str:
    """The absolute link to a member's page at ``endpoint`` for an email."""
    return absolute_url(endpoint, token=token)


def send_manage_link(
    member: Member, template: str, subject: str, *, now: datetime
) -> str:
    """Email ``member`` a new manage link with ``template``; the token ("" if none)."""
    if not member.email:  # only members found by their email address get here
        return ""
    token = issue_token(member, TokenPurpose.MANAGE, MANAGE_LINK_LIFETIME, now=now)
    text = render_template(
        template,
        member=member,
        link=member_link("join.manage", token),
        hours=int(MANAGE_LINK_LIFETIME.total_seconds() // 3600),
    )
    send_mail(
        member.email,
        subject,
        text,
        reason="this address was given to manage a membership of our PPI scheme",
    )
    return token


# Joining ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckedRegistration:
    """A join after its read phase: checked, its address looked up, its email written.

    ``known_id`` is the member who already had the address, if any; ``confirmation``
    the link and email for a new email registration. Nothing is stored yet.
    """

    data: Registration
    email: str | None
    known_id: int | None
    confirmation: _Confirmation | None = field(repr=False)


def check_registration(data: Registration) -> CheckedRegistration:
    """The read phase of a join from the public form: check it and look it up.

    Reads only (the address's owner, and what the write phase needs of the
    organisation: its notices' state and identity, see ``organisation.read_ahead``)
    and renders the confirmation email, so the caller can end this read
    transaction before taking the write lock for ``store_registration`` (on SQLite
    the database-wide lock, see ``engage.db.begin_write``): concurrent joins then
    queue only for each other's writes (docs/security.md F5).

    Raises:
        ValidationError: when ``data`` breaks a rule (see ``detail_problems``).
    """
    check_details(data)
    email = normalise_email(data.email)
    if email is None:
        organisation.read_ahead()
        known_id = None
    else:
        # One query: the address's owner, and the notices' state with it.
        (known_id,) = organisation.read_ahead(_OWNER_ID, owner_email=email)
    confirmation = (
        _confirmation(data.name.strip()) if email and known_id is None else None
    )
    return CheckedRegistration(data, email, known_id, confirmation)


def store_registration(
    checked: CheckedRegistration, *, now: datetime
) -> RegistrationResult:
    """The write phase of a join: register the member (double opt-in with an email).

    An address that already belongs to a member changes nothing: its owner is
    emailed a manage link instead, and the caller shows the same page. Run it in
    a write transaction begun after ``check_registration``'s read ended; the caller
    commits.
    """
    data, email, confirmation = checked.data, checked.email, checked.confirmation
    if checked.known_id is not None:
        known = db.session.get(Member, checked.known_id)
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
    apply_details(member, data)
    consent.record_consents(
        member, dict(data.consents), method=ConsentMethod.WEB_FORM, now=now
    )
    # A concurrent join with the same address loses on the unique constraint. One
    # flush writes the member with its topics and consents, the first writes of this
    # transaction (so no savepoint is needed); the audit event, links and email
    # below are written when the caller commits.
    refused = first_write_refused(db.session(), member)
    if refused is not None:
        existing = member_by_email(email or "")
        if existing is None:
            raise refused
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
    """A confirmation link's token and the email carrying it, not yet stored."""

    token: str
    text: str


def _confirmation(name: str) -> _Confirmation:
    """A new confirmation token and its email's text for a member called ``name``."""
    token = secrets.token_urlsafe(32)
    text = render_template(
        "membership/email/confirm.txt",
        name=name,
        link=member_link("join.confirm", token),
        days=CONFIRM_LINK_LIFETIME.days,
    )
    return _Confirmation(token, text)


def _send_confirmation(
    member: Member, email: str, confirmation: _Confirmation, *, now: datetime
) -> str:
    """Store ``confirmation``'s single-use link for ``member`` and email it."""
    _store_token(
        member, TokenPurpose.CONFIRM, confirmation.token, CONFIRM_LINK_LIFETIME, now=now
    )
    send_mail(
        email,
        "Confirm your PPI membership",
        confirmation.text,
        reason="this address was given to join our PPI membership scheme",
    )
    return confirmation.token


def _already_registered(member: Member, *, now: datetime) -> RegistrationResult:
    """Answer a join with a registered address: email its owner, change nothing.

    A member who never confirmed gets a fresh confirmation link (the first may be lost
    or expired); anyone else gets a manage link. The page shown is the same either way.
    """
    if member.status is MemberStatus.PENDING and member.email:
        _send_confirmation(
            member, member.email, _confirmation(member.name or ""), now=now
        )
        summary = "join form sent with an unconfirmed address; confirm link emailed"
    else:
        send_manage_link(
            member,
            "membership/email/already_registered.txt",
            "You are already registered for the PPI membership scheme",
            now=now,
        )
        summary = "join form sent with a registered address; manage link emailed"
    record_event(PUBLIC, "register_again", "member", member.id, summary, now=now)
    db.session.flush()
    return RegistrationResult(created=False)


def apply_details(member: Member, data: Registration) -> None:
    """Copy the editable fields of ``data`` onto ``member`` (normalised)."""
    member.name = data.name.strip()
    member.phone = normalise_phone(data.phone) if data.phone else None
    member.address = (data.address or "").strip() or None
    member.postcode = normalise_postcode(data.postcode)
    member.practice_id = data.practice_id
    member.practice_not_listed = data.practice_id is None and data.practice_not_listed
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
    record = find_token(token, TokenPurpose.CONFIRM, now=now)
    member = db.session.get(Member, record.member_id)
    if member is None or member.status is not MemberStatus.PENDING:
        raise NotFound(BAD_LINK)
    return record


def confirm_member(token: str, *, now: datetime) -> Member:
    """Confirm a pending member's email address with their single-use link."""
    record = find_confirm_token(token, now=now)
    member: Member = db.session.get_one(Member, record.member_id)
    record.used_at = now
    activate(member, now=now, how="email confirmed")
    return member


def activate(member: Member, *, now: datetime, how: str) -> None:
    """A pending member whose address is proven (they opened a link emailed to it)
    becomes active; ``how`` says which link, for the audit."""
    if member.status is not MemberStatus.PENDING:
        raise ValidationError("This membership does not need confirming.")
    member.status = MemberStatus.ACTIVE
    member.confirmed_at = now
    member.updated_at = now
    record_event(PUBLIC, "confirm", "member", member.id, how, now=now)
    db.session.flush()


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
    return issue_token(member, TokenPurpose.EQUALITY, EQUALITY_STEP_LIFETIME, now=now)


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
            forget_address(member.email)  # the confirmation email holds their details
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
