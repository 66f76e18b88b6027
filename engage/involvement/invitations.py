"""Who is invited to an involvement activity, recording the invitations, and calling
sessions off.

Who is invited means what it means for a mailing: the same criteria and the same
consent rule, in SQL, from ``engage.mailings.recipients`` (there is no second rule).
Each person gets one invitation per upcoming session, by one channel: the first of
the activity's channels (email, then text, then letter) that their consent and
address allow. Contacts of the chosen audiences are invited by email. The
send-involvement job (jobs/involvement.py) sends them and every later message.

Services only: nothing here commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from datetime import datetime

from sqlalchemy import ColumnElement
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import literal
from sqlalchemy import null
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import selectinload

from engage.accounts.models import User
from engage.audiences.models import AudienceContact
from engage.audit.services import record_event
from engage.errors import Conflict
from engage.errors import ValidationError
from engage.extensions import db
from engage.involvement.models import ActivityStatus
from engage.involvement.models import InvolvementActivity
from engage.involvement.models import InvolvementInvitation
from engage.involvement.models import InvolvementSession
from engage.involvement.models import Reply
from engage.involvement.models import SendStatus
from engage.involvement.tokens import invitation_token
from engage.mail.services import absolute_url
from engage.mailings import recipients
from engage.mailings.recipients import ChannelCount
from engage.mailings.recipients import Selection
from engage.membership.models import ContactChannel
from engage.membership.models import Member

#: Members are chosen and recorded this many ids at a time (bounded work per
#: statement; fewer, larger statements: 50,000 members in under 3 s on PostgreSQL).
CHUNK = 25_000
#: Reasons that are the member's status, the same whatever the channel.
_STATUS_CODES = ("erased", "withdrawn", "pending")


def reply_url(invitation: InvolvementInvitation | int) -> str:
    """One person's private link to reply to their invitation (absolute)."""
    invitation_id = invitation if isinstance(invitation, int) else int(invitation.id)
    return absolute_url(
        "involvement_reply.invitation", token=invitation_token(invitation_id)
    )


def selection(activity: InvolvementActivity) -> Selection:
    """The activity's invitation criteria, audiences and channels, as a mailing's."""
    return Selection(
        to_members=activity.to_members,
        channels=tuple(activity.channels),
        audience_ids=tuple(audience.id for audience in activity.audiences),
        tier=activity.tier,
        topic_id=activity.topic_id,
        practice_id=activity.practice_id,
        support_need=activity.support_need,
    )


def upcoming_sessions(
    activity: InvolvementActivity, now: datetime
) -> list[InvolvementSession]:
    """The activity's sessions still to come: not cancelled and not started."""
    if activity.cancelled_at is not None:
        return []
    return [
        s for s in activity.sessions if s.cancelled_at is None and s.starts_at > now
    ]


# Counts ------------------------------------------------------------------------------


@dataclass
class InvitationCounts:
    """Before inviting: how many people per channel, and who is left out, why."""

    matched_members: int
    sessions: int
    #: Per channel chosen, the people invited by it (``left_out`` is not used).
    channels: list[ChannelCount]
    #: Plain-word reason -> how many people get no invitation for it.
    left_out: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(line.total for line in self.channels)


def _joined(reasons: list[str]) -> str:
    first, *rest = reasons
    return ", and ".join([first, *(r[:1].lower() + r[1:] for r in rest)])


def _left_out_words(codes: list[tuple[ContactChannel, str]]) -> str:
    """Why a member gets no invitation on any channel, in words."""
    if codes[0][1] in _STATUS_CODES:
        return recipients.left_out_words(codes[0][1], codes[0][0])
    return _joined([recipients.left_out_words(code, ch) for ch, code in codes])


def invitation_counts(activity: InvolvementActivity) -> InvitationCounts:
    """How many would be invited by each channel, and why the others would not be
    (one channel per person: the first their consent and address allow)."""
    chosen = selection(activity)
    lines = {channel: ChannelCount(channel) for channel in chosen.channels}
    result = InvitationCounts(
        matched_members=0,
        sessions=sum(1 for s in activity.sessions if s.cancelled_at is None),
        channels=list(lines.values()),
    )
    if chosen.to_members and chosen.channels:
        result.matched_members = (
            db.session.scalar(
                select(func.count())
                .select_from(Member)
                .where(*recipients.criteria(chosen))
            )
            or 0
        )
        members, reasons = recipients.member_reasons_by_channel(chosen.channels)
        labelled = [reasons[c].label(f"why_{c.value}") for c in chosen.channels]
        rows = db.session.execute(
            select(*labelled, func.count())
            .select_from(members)
            .where(*recipients.criteria(chosen))
            .group_by(*labelled)
        )
        for *codes, number in rows:
            pairs: list[tuple[ContactChannel, str]] = list(
                zip(chosen.channels, codes, strict=True)
            )
            gets = [channel for channel, code in pairs if not code]
            if gets:
                lines[gets[0]].members += number
            else:
                words = _left_out_words(pairs)
                result.left_out[words] = result.left_out.get(words, 0) + number
    if recipients.wants_contacts(chosen):
        _, contact_reason = recipients.contact_rows(chosen)
        labelled_reason = contact_reason.label("reason")
        contact_rows = db.session.execute(
            select(labelled_reason, func.count())
            .select_from(AudienceContact)
            .where(recipients.contacts_of(chosen))
            .group_by(labelled_reason)
        )
        for contact_code, number in contact_rows:
            if contact_code is None:
                lines[ContactChannel.EMAIL].contacts += number
            else:
                words = recipients.CONTACT_LEFT_OUT[contact_code]
                result.left_out[words] = result.left_out.get(words, 0) + number
    return result


# Recording the invitations -----------------------------------------------------------

_TABLE = InvolvementInvitation.__table__
_COLUMNS = [
    "session_id",
    "channel",
    "member_id",
    "address",
    "send_status",
    "outcome",
    "reply",
    "support_request",
]


def _fixed(session_id: int, channel: ContactChannel) -> list[ColumnElement[object]]:
    return [literal(session_id), literal(channel.value)]


def _prepare_members(chosen: Selection, session_id: int) -> int:
    added = 0
    low, high = db.session.execute(
        select(func.min(Member.id), func.max(Member.id))
    ).one()
    if low is None:
        return 0
    for start in range(low, high + 1, CHUNK):
        # Channel by channel in order: a member already invited (by an earlier
        # channel, or by an earlier run) is never invited again.
        for channel in chosen.channels:
            members, why = recipients.member_reasons(
                channel, low=start, high=start + CHUNK
            )
            address = (
                null()
                if channel is ContactChannel.POST
                else recipients._address(channel)
            )
            rows = (
                select(
                    *_fixed(session_id, channel),
                    Member.id,
                    address,
                    literal(SendStatus.PENDING.value),
                    literal(""),
                    literal(Reply.NO_REPLY.value),
                    literal(""),
                )
                .select_from(members)
                .where(
                    Member.id >= start,
                    Member.id < start + CHUNK,
                    *recipients.criteria(chosen),
                    why.is_(None),
                    Member.id.not_in(
                        select(_TABLE.c.member_id).where(
                            _TABLE.c.session_id == session_id,
                            _TABLE.c.member_id >= start,
                            _TABLE.c.member_id < start + CHUNK,
                        )
                    ),
                )
            )
            result = db.session.execute(
                insert(_TABLE).from_select(_COLUMNS, rows).returning(_TABLE.c.id)
            )
            added += len(result.all())
    return added


def _prepare_contacts(chosen: Selection, session_id: int) -> int:
    contact_address, reason = recipients.contact_rows(chosen)
    already = (
        select(_TABLE.c.id)
        .where(
            _TABLE.c.session_id == session_id,
            or_(
                _TABLE.c.contact_id == AudienceContact.id,
                _TABLE.c.address == contact_address,
            ),
        )
        .exists()
    )
    rows = select(
        *_fixed(session_id, ContactChannel.EMAIL),
        AudienceContact.id,
        contact_address,
        literal(SendStatus.PENDING.value),
        literal(""),
        literal(Reply.NO_REPLY.value),
        literal(""),
    ).where(recipients.contacts_of(chosen), reason.is_(None), ~already)
    columns = ["contact_id" if c == "member_id" else c for c in _COLUMNS]
    result = db.session.execute(
        insert(_TABLE).from_select(columns, rows).returning(_TABLE.c.id)
    )
    return len(result.all())


def prepare_invitations(activity: InvolvementActivity, now: datetime) -> int:
    """Record one invitation per person per upcoming session; how many were added.

    Set-based (INSERT ... SELECT, members in chunks of ids), so nothing is loaded
    into memory; a re-run adds only those not yet invited. The activity is then
    "inviting"; the send-involvement job sends them.
    """
    if activity.cancelled_at is not None:
        raise Conflict("This activity is cancelled, so no one can be invited.")
    chosen = selection(activity)
    added = 0
    for session in upcoming_sessions(activity, now):
        if chosen.to_members and chosen.channels:
            added += _prepare_members(chosen, session.id)
        if recipients.wants_contacts(chosen):
            added += _prepare_contacts(chosen, session.id)
    activity.status = ActivityStatus.INVITING
    db.session.flush()
    return added


def invite(activity: InvolvementActivity, *, actor: User, now: datetime) -> int:
    """Invite the people the activity's criteria choose (the job sends); how many
    invitations were added."""
    if not activity.channels:
        raise ValidationError("Choose at least one channel: email, text or letter.")
    if not upcoming_sessions(activity, now):
        raise Conflict("This activity has no sessions still to come.")
    added = prepare_invitations(activity, now)
    record_event(
        actor,
        "invite",
        "involvement_activity",
        activity.id,
        f"{added} invitations",
        now=now,
    )
    return added


# Calling off -------------------------------------------------------------------------

#: The longest reason given for calling something off.
REASON_LIMIT = 500


def _reason(text: str) -> str:
    reason = " ".join(text.split())[:REASON_LIMIT]
    if not reason:
        raise ValidationError("Say why it is cancelled: the people invited are told.")
    return reason


def _drop_unsent(session_ids: list[int], now: datetime) -> int:
    """Invitations not yet sent to sessions now called off are never sent."""
    if not session_ids:
        return 0
    result = db.session.execute(
        update(InvolvementInvitation)
        .where(
            InvolvementInvitation.session_id.in_(session_ids),
            InvolvementInvitation.send_status == SendStatus.PENDING,
        )
        .values(
            send_status=SendStatus.SKIPPED,
            outcome="The session was cancelled before this was sent",
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def cancel_activity(
    activity: InvolvementActivity, reason: str, *, actor: User, now: datetime
) -> None:
    """Call the whole activity off; the job tells everyone invited."""
    if activity.cancelled_at is not None:
        raise Conflict("This activity is already cancelled.")
    activity.cancel_reason = _reason(reason)
    activity.cancelled_at = now
    activity.status = ActivityStatus.CANCELLED
    _drop_unsent([s.id for s in activity.sessions], now)
    record_event(actor, "cancel", "involvement_activity", activity.id, now=now)
    db.session.flush()


def cancel_session(
    session: InvolvementSession, reason: str, *, actor: User, now: datetime
) -> None:
    """Call one session off; the job tells everyone invited to it."""
    if session.cancelled_at is not None or session.activity.cancelled_at is not None:
        raise Conflict("This session is already cancelled.")
    if session.starts_at <= now:
        raise Conflict("This session has already started, so it cannot be cancelled.")
    session.cancel_reason = _reason(reason)
    session.cancelled_at = now
    _drop_unsent([session.id], now)
    record_event(
        actor,
        "cancel_session",
        "involvement_activity",
        session.activity_id,
        "one session",
        now=now,
    )
    db.session.flush()


# Reading -----------------------------------------------------------------------------


@dataclass
class SessionCounts:
    """How the invitations to one session stand."""

    session: InvolvementSession
    invited: int = 0
    coming: int = 0
    maybe: int = 0
    not_coming: int = 0
    waiting: int = 0
    not_replied: int = 0

    @property
    def places_left(self) -> int | None:
        capacity = self.session.activity.capacity
        return None if capacity is None else max(0, capacity - self.coming)


def session_counts(activity: InvolvementActivity) -> list[SessionCounts]:
    """Per session, how many were invited and how they replied (skipped not counted)."""
    by_session = {s.id: SessionCounts(s) for s in activity.sessions}
    if not by_session:
        return []
    rows = db.session.execute(
        select(
            InvolvementInvitation.session_id,
            InvolvementInvitation.reply,
            func.count(),
        )
        .where(
            InvolvementInvitation.session_id.in_(list(by_session)),
            InvolvementInvitation.send_status != SendStatus.SKIPPED,
        )
        .group_by(InvolvementInvitation.session_id, InvolvementInvitation.reply)
    )
    field_for = {
        Reply.ATTENDING: "coming",
        Reply.MAYBE: "maybe",
        Reply.NOT_ATTENDING: "not_coming",
        Reply.WAITING: "waiting",
        Reply.NO_REPLY: "not_replied",
    }
    for session_id, reply, number in rows:
        line = by_session[session_id]
        line.invited += number
        name = field_for[reply]
        setattr(line, name, getattr(line, name) + number)
    return list(by_session.values())


def session_invitations(session: InvolvementSession) -> list[InvolvementInvitation]:
    """Everyone invited to a session: coming, maybe, waiting (in order), not coming,
    not replied; each group by name."""
    order = {
        Reply.ATTENDING: 0,
        Reply.MAYBE: 1,
        Reply.WAITING: 2,
        Reply.NOT_ATTENDING: 3,
        Reply.NO_REPLY: 4,
    }
    found = list(
        db.session.scalars(
            select(InvolvementInvitation)
            .where(InvolvementInvitation.session_id == session.id)
            .order_by(InvolvementInvitation.id)
            .options(
                selectinload(InvolvementInvitation.member),
                selectinload(InvolvementInvitation.contact),
            )
        )
    )

    def place(invitation: InvolvementInvitation) -> tuple[int, float, str]:
        since = invitation.waiting_since if invitation.reply is Reply.WAITING else None
        return (
            order[invitation.reply],
            since.timestamp() if since else 0.0,
            person_name(invitation).lower(),
        )

    found.sort(key=place)
    return found


def person_name(invitation: InvolvementInvitation) -> str:
    """The invited person's name as recorded (a contact's, or a member's)."""
    if invitation.member is not None:
        return str(invitation.member.name or "Member with no name recorded")
    if invitation.contact is not None:
        return str(invitation.contact.name)
    return ""


EXPORT_COLUMNS = (
    "Session",
    "Name",
    "Member or contact",
    "Sent by",
    "Sent",
    "Reply",
    "Replied",
    "Place on the waiting list",
    "Support asked for",
)


def export_rows(
    activity: InvolvementActivity,
) -> tuple[tuple[str, ...], list[list[object]]]:
    """Everyone invited, per session, for a CSV or XLSX (written formula-safe)."""
    from engage.templating import format_datetime

    rows: list[list[object]] = []
    for session in activity.sessions:
        waiting_place = 0
        for invitation in session_invitations(session):
            place: object = ""
            if invitation.reply is Reply.WAITING:
                waiting_place += 1
                place = waiting_place
            rows.append(
                [
                    format_datetime(session.starts_at),
                    person_name(invitation),
                    "Member" if invitation.member_id else "Stakeholder contact",
                    invitation.channel.label.capitalize(),
                    invitation.send_status.label,
                    invitation.reply.label,
                    format_datetime(invitation.replied_at),
                    place,
                    invitation.support_request,
                ]
            )
    return EXPORT_COLUMNS, rows
