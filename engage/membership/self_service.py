"""Members' self-service from their manage link (docs/security.md D4, D6).

Asking for the link by address, correcting their details (a new email address is
confirmed by a link sent to it), downloading their data and withdrawing. Joining and
the members' private links are in engage.membership.registration.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import timedelta
from typing import Any

from flask import current_app
from flask import render_template
from flask import url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from engage.audit.models import AuditEvent
from engage.audit.services import PUBLIC
from engage.audit.services import record_event
from engage.clock import local_day
from engage.errors import NotFound
from engage.errors import ValidationError
from engage.extensions import db
from engage.involvement.history import MemberInvolvement
from engage.involvement.history import involvement_for_member
from engage.mail.services import send_mail
from engage.mailings.history import SentToMember
from engage.mailings.history import sent_to_member
from engage.membership import consent
from engage.membership.equality import QUESTIONS
from engage.membership.models import ConsentMethod
from engage.membership.models import ContactChannel
from engage.membership.models import Member
from engage.membership.models import MemberStatus
from engage.membership.models import MemberToken
from engage.membership.models import TokenPurpose
from engage.membership.records import member_data
from engage.membership.records import member_events
from engage.membership.registration import BAD_LINK
from engage.membership.registration import Registration
from engage.membership.registration import apply_details
from engage.membership.registration import check_details
from engage.membership.registration import find_token
from engage.membership.registration import issue_token
from engage.membership.registration import member_by_email
from engage.membership.registration import member_link
from engage.membership.registration import normalise_email
from engage.membership.registration import send_manage_link
from engage.organisation.services import identity
from engage.surveys import privacy as survey_privacy
from engage.surveys.models import Delivery
from engage.surveys.models import ResponseSource
from engage.templating import format_date

EMAIL_CHANGE_LINK_LIFETIME = timedelta(hours=24)

#: Shown when a confirmed new address became someone else's before the link was used.
EMAIL_NOW_TAKEN = (
    "We could not change your email address. Nothing has changed. Ask for a new "
    "link from the manage your membership page to try again."
)


#: Why an email about a change of address came.
_NEW_ADDRESS = "this address was given as the new address of a PPI membership"


def request_manage_link(email: str, *, now: datetime) -> None:
    """Email a manage link if ``email`` is a member's; do nothing otherwise."""
    member = member_by_email(email)
    if member is None:
        return
    send_manage_link(
        member,
        "membership/email/manage_link.txt",
        "Manage your PPI membership",
        now=now,
    )
    record_event(
        PUBLIC, "manage_link", "member", member.id, "manage link emailed", now=now
    )
    db.session.flush()


def member_for_manage_token(token: str, *, now: datetime) -> Member:
    """The member a manage link belongs to, or NotFound (every failure looks alike)."""
    record = find_token(token, TokenPurpose.MANAGE, now=now)
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
        practice_not_listed=member.practice_not_listed,
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

    A new email address is not saved: a link to confirm it is emailed to it (or, if
    it is another member's, a note saying so), and the new address is returned so the
    page can say where the link went. The page must not depend on which was sent.
    Removing the address is immediate (another contact route must remain).

    Raises:
        ValidationError: when ``data`` breaks a rule.
    """
    if member.status not in (MemberStatus.PENDING, MemberStatus.ACTIVE):
        raise ValidationError("You have left the scheme, so your details are locked.")
    check_details(data, joining=False)
    before = registration_of(member)
    email = normalise_email(data.email)
    email_sent_to = None
    # The details first: a link to a new address greets them by the name just given.
    apply_details(member, data)
    if email is None:
        member.email = None
    elif email != member.email:
        _request_email_change(member, email, now=now)
        email_sent_to = email
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
            "practice_not_listed",
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
    """Email ``email`` a link to make it ``member``'s address, changing nothing yet.

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
        send_mail(email, "Your PPI membership email address", text, reason=_NEW_ADDRESS)
    else:
        member.pending_email = email
        token = issue_token(
            member, TokenPurpose.EMAIL_CHANGE, EMAIL_CHANGE_LINK_LIFETIME, now=now
        )
        text = render_template(
            "membership/email/email_change.txt",
            member=member,
            link=member_link("join.confirm_email", token),
            hours=hours,
        )
        send_mail(
            email,
            "Confirm your new email address for PPI membership",
            text,
            reason=_NEW_ADDRESS,
        )
    record_event(
        PUBLIC,
        "email_change_request",
        "member",
        member.id,
        "email change asked for; a message was sent to the new address",
        now=now,
    )


def _email_change(token: str, *, now: datetime) -> tuple[MemberToken, Member, str]:
    record = find_token(token, TokenPurpose.EMAIL_CHANGE, now=now)
    member = db.session.get(Member, record.member_id)
    if (
        member is None
        or member.status not in (MemberStatus.PENDING, MemberStatus.ACTIVE)
        or member.pending_email is None
    ):
        raise NotFound(BAD_LINK)
    return record, member, member.pending_email


def member_for_email_change_token(token: str, *, now: datetime) -> Member:
    """The member an email change link is for, or NotFound (failures look alike)."""
    return _email_change(token, now=now)[1]


def confirm_email_change(token: str, *, now: datetime) -> Member:
    """Apply the new address an email change link was sent to (single use).

    Raises:
        NotFound: for an unusable link.
        ValidationError: when the address became another member's meanwhile
            (nothing changes).
    """
    record, member, email = _email_change(token, now=now)
    taken = member_by_email(email)
    if taken is not None and taken.id != member.id:
        raise ValidationError(EMAIL_NOW_TAKEN)
    old = member.email
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
    if old and old != email:
        # The address it was is told (not which one it is now): a change the
        # member did not make is then noticed.
        send_mail(
            old,
            "The email address for your PPI membership has changed",
            render_template(
                "membership/email/email_moved.txt",
                name=member.name or "",
                day=format_date(local_day(now)),
                org=identity(),
            ),
            reason="this was the email address of your PPI membership",
        )
    db.session.flush()
    return member


def withdraw_own_membership(member: Member, *, now: datetime) -> None:
    """Withdraw a member at their own request: every consent ends at once."""
    consent.withdraw_member(
        member, method=ConsentMethod.SELF_SERVICE, actor=PUBLIC, now=now
    )


def export_own_data(member: Member) -> dict[str, Any]:
    """Everything we hold about a member, as JSON-serialisable data (subject access)."""
    return member_data(member)


def record_own_export(member: Member, *, now: datetime, page: bool = False) -> None:
    """Audit that a member downloaded their own data (``page``: read it as a page)."""
    summary = "own data shown as a page" if page else "own data downloaded"
    record_event(PUBLIC, "export", "member", member.id, summary, now=now)
    db.session.flush()


#: How a consent was given or changed, in the member's words.
METHOD_WORDS = {
    ConsentMethod.WEB_FORM: "On the join form",
    ConsentMethod.SELF_SERVICE: "On your membership page",
    ConsentMethod.PHONE: "By phone, to our staff",
    ConsentMethod.PAPER: "On a paper form",
    ConsentMethod.STAFF: "By our staff",
    ConsentMethod.UNSUBSCRIBE: "With the unsubscribe link in one of our mailings",
    ConsentMethod.COMPLAINT: "By marking one of our emails as spam",
}


@dataclass(frozen=True)
class ConsentRow:
    """One consent given or withdrawn, as the member reads it."""

    recorded_at: datetime
    channel: str
    granted: bool
    method: str
    notice_version: str


@dataclass(frozen=True)
class SurveyRow:
    """A survey invitation or named response, as the member reads it."""

    survey: str
    how: str
    when: date | datetime | None
    answered_at: datetime | None = None
    answers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class OwnData:
    """Everything we hold about a member, in words, for the page they can print.

    The same records as the JSON download (``export_own_data``), with labels in
    place of codes; the page shows dates in UK time.
    """

    member: Member
    practice: str | None
    topics: list[str]
    support_needs: list[str]
    #: Each way of contact, whether they agree to it now, and since when.
    consents: list[tuple[str, bool, datetime | None]]
    consent_history: list[ConsentRow]
    #: (question, answer) pairs, or None when they gave no equality answers.
    equality: list[tuple[str, str]] | None
    invitations: list[SurveyRow]
    responses: list[SurveyRow]
    history: list[AuditEvent]
    #: The mailings sent to them, newest first, and what happened to each.
    mailings: list[SentToMember]
    #: The involvement sessions they were invited to or came to, and their claims.
    involvement: MemberInvolvement


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _answer(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return f"{int(value):,}"
    return "" if value is None else str(value)


def readable_own_data(member: Member) -> OwnData:
    """The member's own data as the page they can read and print."""
    current = consent.current_consents(member)
    latest: dict[ContactChannel, datetime] = {}
    for record in member.consents:
        latest[record.channel] = max(
            latest.get(record.channel, record.recorded_at), record.recorded_at
        )
    equality = member.equality
    surveys = survey_privacy.member_survey_data(member)
    return OwnData(
        member=member,
        practice=(
            member.practice.name
            if member.practice
            else "Not in our list, you told us"
            if member.practice_not_listed
            else None
        ),
        topics=[t.name for t in member.topics],
        support_needs=[n.need.label for n in member.support_needs],
        consents=[
            (channel.label, granted, latest.get(channel))
            for channel, granted in current.items()
        ],
        consent_history=[
            ConsentRow(
                recorded_at=r.recorded_at,
                channel=r.channel.label,
                granted=r.granted,
                method=METHOD_WORDS.get(r.method, r.method.value),
                # "2026-11/8322c209690a": the notice's version, then a hash of the
                # consent wording (kept in the JSON; no help to a reader).
                notice_version=r.wording_version.partition("/")[0],
            )
            for r in sorted(member.consents, key=lambda r: (r.recorded_at, r.id))
        ],
        equality=None
        if equality is None
        else [
            (q.text, q.labels.get(getattr(equality, q.field) or "", "Not answered"))
            for q in QUESTIONS
        ],
        invitations=[
            SurveyRow(
                survey=i["survey"],
                how=Delivery(i["delivery"]).label,
                when=_when(i["sent_at"]),
                answered_at=_when(i["answered_at"]),
            )
            for i in surveys["survey_invitations"]
        ],
        responses=[
            SurveyRow(
                survey=r["survey"],
                how=ResponseSource(r["source"]).label,
                when=date.fromisoformat(r["submitted_on"]),
                answers=tuple(
                    (a["question"], _answer(a["answer"])) for a in r["answers"]
                ),
            )
            for r in surveys["survey_responses"]
        ],
        history=list(member_events(member)),
        mailings=sent_to_member(member),
        involvement=involvement_for_member(member),
    )
