"""Survey distribution: invite members, send in batches, remind, and list post copies.

Only active members whose consent allows it are invited (``may_contact``), and the
check is made again at every send: a member who withdraws after being chosen gets
no invitation and no reminder (docs/security.md D4).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from flask import render_template
from sqlalchemy import ColumnElement
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import selectinload

from engage.audit.services import record_event
from engage.errors import Conflict
from engage.extensions import db
from engage.imports.tabular import mimetype
from engage.imports.tabular import row_count
from engage.imports.tabular import write_table
from engage.mail.services import absolute_url
from engage.mail.services import send_mail
from engage.membership.consent import may_contact
from engage.membership.models import ContactChannel
from engage.membership.models import Member
from engage.membership.models import MemberStatus
from engage.membership.models import SupportNeed
from engage.membership.models import Tier
from engage.membership.services import MemberFilter
from engage.membership.services import member_query
from engage.surveys.models import Delivery
from engage.surveys.models import Invitation
from engage.surveys.models import Survey
from engage.surveys.models import SurveyStatus
from engage.surveys.services import answering_problem
from engage.surveys.services import closes_on
from engage.surveys.services import new_token
from engage.surveys.services import token_hash

if TYPE_CHECKING:
    from engage.accounts.models import User

#: Invitations or reminders sent per request (each POST sends one batch).
BATCH_SIZE = 200


@dataclass(frozen=True)
class InviteCriteria:
    """Which members to invite; None means any."""

    tier: Tier | None = None
    topic_id: int | None = None
    practice_id: int | None = None
    support_need: SupportNeed | None = None


@dataclass(frozen=True)
class InvitePlan:
    """How the chosen members would be (or were) invited."""

    by_email: int = 0
    by_post: int = 0
    #: Active members chosen whose consents allow neither email nor post.
    cannot_contact: int = 0
    already_invited: int = 0


@dataclass(frozen=True)
class Progress:
    """How many of a survey's invitations have gone out."""

    sent: int
    total: int

    @property
    def remaining(self) -> int:
        return self.total - self.sent


#: Why a member gets a survey email.
_MEMBER = (
    "you are a member of our PPI scheme and agreed that we may contact you by email"
)


def _delivery(member: Member) -> Delivery | None:
    if member.email and may_contact(member, ContactChannel.EMAIL):
        return Delivery.EMAIL
    if member.address and may_contact(member, ContactChannel.POST):
        return Delivery.POST
    return None


def _chosen(survey: Survey, criteria: InviteCriteria) -> tuple[list[Member], set[int]]:
    query = member_query(
        MemberFilter(
            status=MemberStatus.ACTIVE,
            tier=criteria.tier,
            topic_id=criteria.topic_id,
            practice_id=criteria.practice_id,
            support_need=criteria.support_need,
        )
    ).options(selectinload(Member.consents))
    invited = {
        member_id
        for member_id in db.session.scalars(
            select(Invitation.member_id).where(Invitation.survey_id == survey.id)
        )
        if member_id is not None
    }
    return list(db.session.scalars(query)), invited


def plan_invitations(survey: Survey, criteria: InviteCriteria) -> InvitePlan:
    """Count how the members matching ``criteria`` would be invited (no change)."""
    members, invited = _chosen(survey, criteria)
    counts = {"email": 0, "post": 0, "none": 0, "again": 0}
    for member in members:
        if member.id in invited:
            counts["again"] += 1
            continue
        delivery = _delivery(member)
        counts[delivery.value if delivery else "none"] += 1
    return InvitePlan(counts["email"], counts["post"], counts["none"], counts["again"])


def create_invitations(
    survey: Survey, criteria: InviteCriteria, *, actor: User, now: datetime
) -> InvitePlan:
    """Invite the matching members who may be contacted and are not yet invited.

    Nothing is sent here: emails go out in batches (``send_invitations``) and post
    copies through the post list.
    """
    if survey.status is SurveyStatus.CLOSED:
        raise Conflict("This survey has closed")
    plan = plan_invitations(survey, criteria)
    members, invited = _chosen(survey, criteria)
    for member in members:
        delivery = _delivery(member)
        if member.id in invited or delivery is None:
            continue
        # The real token is made when the email is sent; until then this one is
        # never shown to anybody.
        db.session.add(
            Invitation(
                survey_id=survey.id,
                member_id=member.id,
                token_hash=token_hash(new_token()),
                delivery=delivery,
                created_at=now,
            )
        )
    db.session.flush()
    record_event(
        actor,
        "invite",
        "survey",
        survey.id,
        f"{plan.by_email} by email, {plan.by_post} by post",
        now=now,
    )
    return plan


def _count(*conditions: ColumnElement[bool]) -> int:
    return int(
        db.session.scalar(select(func.count(Invitation.id)).where(*conditions)) or 0
    )


def send_progress(survey: Survey) -> Progress:
    """How many email invitations have been sent, of how many."""
    is_email = (
        Invitation.survey_id == survey.id,
        Invitation.delivery == Delivery.EMAIL,
    )
    return Progress(
        sent=_count(*is_email, Invitation.sent_at.is_not(None)),
        total=_count(*is_email),
    )


def invitation_counts(survey: Survey) -> dict[str, int]:
    """Invitations by state, for the distribution page."""
    of_survey = Invitation.survey_id == survey.id
    return {
        "total": _count(of_survey),
        "email": _count(of_survey, Invitation.delivery == Delivery.EMAIL),
        "post": _count(of_survey, Invitation.delivery == Delivery.POST),
        "answered": _count(of_survey, Invitation.answered_at.is_not(None)),
        "reminded": _count(of_survey, Invitation.reminded_at.is_not(None)),
    }


def _link(token: str) -> str:
    return absolute_url("answer.form", token=token)


def _manage_url() -> str:
    return absolute_url("join.manage_request")


def _claim(invitation: Invitation, column: str, now: datetime) -> bool:
    """Set ``sent_at`` or ``reminded_at`` if still unset (one sender wins)."""
    attribute = getattr(Invitation, column)
    result = db.session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, attribute.is_(None))
        .values({column: now})
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _mail(invitation: Invitation, member: Member, template: str, subject: str) -> None:
    # A fresh token for every email: only its hash is stored, so the link in an
    # earlier email stops working once a reminder is sent.
    token = new_token()
    invitation.token_hash = token_hash(token)
    survey = invitation.survey
    text = render_template(
        template,
        member=member,
        survey=survey,
        link=_link(token),
        closes_on=f"{closes_on(survey):%-d %B %Y}" if survey.closes_at else "",
        manage_url=_manage_url(),
    )
    send_mail(member.email or "", f"{subject}: {survey.title}", text, reason=_MEMBER)


def _check_sendable(survey: Survey, now: datetime) -> None:
    problem = answering_problem(survey, now)
    if survey.status is not SurveyStatus.OPEN or (
        problem and "opens on" not in problem
    ):
        raise Conflict(problem or "Open the survey before sending invitations")


def send_invitations(
    survey: Survey, *, actor: User | str, now: datetime, limit: int = BATCH_SIZE
) -> int:
    """Send the next batch of email invitations; return how many were sent.

    A chosen member who may no longer be contacted (withdrawn, consent removed) is
    dropped from the invitations instead, so the response rate stays honest.
    """
    _check_sendable(survey, now)
    batch = list(
        db.session.scalars(
            select(Invitation)
            .where(
                Invitation.survey_id == survey.id,
                Invitation.delivery == Delivery.EMAIL,
                Invitation.sent_at.is_(None),
            )
            .order_by(Invitation.id)
            .limit(limit)
        )
    )
    sent = dropped = 0
    for invitation in batch:
        member = db.session.get(Member, invitation.member_id or 0)
        if member is None or _delivery(member) is not Delivery.EMAIL:
            db.session.delete(invitation)
            dropped += 1
        elif _claim(invitation, "sent_at", now):
            _mail(invitation, member, "surveys/email/invitation.txt", "Have your say")
            sent += 1
    db.session.flush()
    record_event(
        actor,
        "send",
        "survey",
        survey.id,
        f"{sent} invitations sent; {dropped} no longer contactable",
        now=now,
    )
    return sent


@dataclass(frozen=True)
class ReminderBatch:
    """One batch of reminders: how many went, and where the next batch starts."""

    sent: int
    last_id: int
    done: bool


def send_reminders(
    survey: Survey,
    *,
    actor: User | str,
    now: datetime,
    after_id: int = 0,
    limit: int = BATCH_SIZE,
) -> ReminderBatch:
    """Remind invited members who have not answered (once each), in batches.

    Only members who may still be contacted by email are reminded; ``reminded_at``
    records each reminder. Pass ``last_id`` back as ``after_id`` for the next batch.
    """
    if answering_problem(survey, now):
        raise Conflict(answering_problem(survey, now) or "")
    batch = list(
        db.session.scalars(
            select(Invitation)
            .where(
                Invitation.survey_id == survey.id,
                Invitation.id > after_id,
                Invitation.delivery == Delivery.EMAIL,
                Invitation.sent_at.is_not(None),
                Invitation.answered_at.is_(None),
                Invitation.reminded_at.is_(None),
            )
            .order_by(Invitation.id)
            .limit(limit)
        )
    )
    sent = 0
    for invitation in batch:
        member = db.session.get(Member, invitation.member_id or 0)
        if member is None or _delivery(member) is not Delivery.EMAIL:
            continue
        if _claim(invitation, "reminded_at", now):
            _mail(invitation, member, "surveys/email/reminder.txt", "Reminder")
            sent += 1
    db.session.flush()
    record_event(actor, "remind", "survey", survey.id, f"{sent} reminders", now=now)
    last_id = batch[-1].id if batch else after_id
    return ReminderBatch(sent=sent, last_id=last_id, done=len(batch) < limit)


def count_due_reminders(survey: Survey) -> int:
    """Sent, unanswered, not yet reminded email invitations."""
    return _count(
        Invitation.survey_id == survey.id,
        Invitation.delivery == Delivery.EMAIL,
        Invitation.sent_at.is_not(None),
        Invitation.answered_at.is_(None),
        Invitation.reminded_at.is_(None),
    )


# Post ---------------------------------------------------------------------------------

POST_LIST_COLUMNS = (
    "reference",
    "name",
    "address",
    "postcode",
    "practice",
    "support_needs",
    "answered",
)


def post_list(survey: Survey) -> list[tuple[Invitation, Member]]:
    """Members invited by post who may still be written to."""
    rows = db.session.execute(
        select(Invitation, Member)
        .join(Member, Member.id == Invitation.member_id)
        .options(selectinload(Member.consents), selectinload(Member.support_needs))
        .where(
            Invitation.survey_id == survey.id,
            Invitation.delivery == Delivery.POST,
        )
        .order_by(Member.postcode, Member.name, Invitation.id)
    )
    return [
        (invitation, member)
        for invitation, member in rows
        if may_contact(member, ContactChannel.POST)
    ]


def export_post_list(
    survey: Survey, fmt: str, *, actor: User, now: datetime
) -> tuple[str, str, bytes]:
    """The post list as a formula-safe CSV or XLSX file (audited as an export).

    Returns (filename, mimetype, content).
    """
    rows = []
    for invitation, member in post_list(survey):
        rows.append(
            [
                invitation.id,
                member.name,
                member.address,
                member.postcode,
                member.practice.name if member.practice else "",
                "; ".join(n.need.label for n in member.support_needs),
                "yes" if invitation.answered_at else "no",
            ]
        )
    content = write_table(fmt, POST_LIST_COLUMNS, rows, title="post list")
    record_event(
        actor,
        "export",
        "survey",
        survey.id,
        f"post list: {row_count(len(rows))} ({fmt})",
        now=now,
    )
    return f"survey-{survey.id}-post-list.{fmt}", mimetype(fmt), content


# "You said, we did" -------------------------------------------------------------------


def tell_participants(survey: Survey, *, actor: User, now: datetime) -> int:
    """Email the invited members who answered that the findings are published.

    Works for anonymous surveys too (through ``Invitation.answered_at``); only
    members who may still be contacted by email are told. Returns how many.
    """
    if not survey.results_published:
        raise Conflict("Publish the findings first")
    link = absolute_url("answer.you_said_we_did", survey_id=survey.id)
    members = db.session.scalars(
        select(Member)
        .join(Invitation, Invitation.member_id == Member.id)
        .options(selectinload(Member.consents))
        .where(Invitation.survey_id == survey.id, Invitation.answered_at.is_not(None))
        .order_by(Member.id)
    )
    told = 0
    for member in members:
        if member.email and may_contact(member, ContactChannel.EMAIL):
            text = render_template(
                "surveys/email/you_said_we_did.txt",
                survey=survey,
                link=link,
                manage_url=_manage_url(),
            )
            send_mail(
                member.email, f"You said, we did: {survey.title}", text, reason=_MEMBER
            )
            told += 1
    record_event(
        actor, "send", "survey", survey.id, f"{told} told of the findings", now=now
    )
    return told
