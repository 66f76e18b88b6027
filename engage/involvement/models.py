"""Involvement models: activities Gold members take part in, from invitation to payment.

An *involvement activity* (a meeting, focus group, reference group, co-design workshop
or public event) has one or more *sessions* (a reference group meets as a series).
Each person asked to a session has one *invitation*, whose signed id is their private
link to reply, ask for support, add it to their calendar and claim expenses. Who came
is the session's *attendance*; what they are paid back is an *expense claim*.

These are not the action plan's "activities" (table ``activities``, the deliveries
logged on an action): in code and in the database these are always "involvement".
"""

from __future__ import annotations

import enum
from datetime import date
from datetime import datetime
from decimal import ROUND_HALF_UP
from decimal import Decimal

from sqlalchemy import CheckConstraint
from sqlalchemy import Column
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import LargeBinary
from sqlalchemy import Numeric
from sqlalchemy import String
from sqlalchemy import Table
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from engage.actions.models import Action
from engage.actions.models import Recurrence
from engage.audiences.models import Audience
from engage.db import TimestampMixin
from engage.db import str_enum
from engage.extensions import db
from engage.membership.models import ContactChannel
from engage.membership.models import SupportNeed
from engage.membership.models import Tier


class ActivityKind(enum.StrEnum):
    """The kinds of involvement activity."""

    MEETING = "meeting"
    FOCUS_GROUP = "focus_group"
    #: A standing group with its own members and a series of meetings.
    REFERENCE_GROUP = "reference_group"
    CO_DESIGN = "co_design"
    PUBLIC_EVENT = "public_event"

    @property
    def label(self) -> str:
        return {
            "meeting": "Meeting",
            "focus_group": "Focus group",
            "reference_group": "Reference group",
            "co_design": "Co-design workshop",
            "public_event": "Public event",
        }[self.value]


class ActivityStatus(enum.StrEnum):
    """Where an activity is: being planned, invitations out, or called off."""

    DRAFT = "draft"
    INVITING = "inviting"  #: invitations have been sent
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return {
            "draft": "Draft",
            "inviting": "Invitations sent",
            "cancelled": "Cancelled",
        }[self.value]


class Reply(enum.StrEnum):
    """A person's answer to an invitation."""

    NO_REPLY = "no_reply"
    ATTENDING = "attending"
    MAYBE = "maybe"
    NOT_ATTENDING = "not_attending"
    #: Said yes when every place was taken: offered the next place that frees up, in
    #: the order they replied (``InvolvementInvitation.waiting_since``).
    WAITING = "waiting"

    @property
    def label(self) -> str:
        return {
            "no_reply": "Not replied",
            "attending": "Coming",
            "maybe": "Maybe",
            "not_attending": "Not coming",
            "waiting": "On the waiting list",
        }[self.value]


class SendStatus(enum.StrEnum):
    """Whether an invitation has been sent (at most once, like a mailing's copy)."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    #: Not sent: consent withdrawn, or the address undeliverable, before its turn.
    SKIPPED = "skipped"

    @property
    def label(self) -> str:
        return {
            "pending": "Waiting to be sent",
            "sent": "Sent",
            "failed": "Could not be sent",
            "skipped": "Not sent",
        }[self.value]


class ClaimStatus(enum.StrEnum):
    """Where an expense claim is."""

    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    #: Included in an export for finance (approved, and sent on to be paid).
    EXPORTED = "exported"

    @property
    def label(self) -> str:
        return {
            "submitted": "Waiting for approval",
            "approved": "Approved",
            "rejected": "Not approved",
            "exported": "Sent to finance",
        }[self.value]


activity_audiences = Table(
    "involvement_activity_audiences",
    db.metadata,
    Column(
        "activity_id",
        ForeignKey("involvement_activities.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "audience_id",
        ForeignKey("audiences.id", ondelete="CASCADE"),
        primary_key=True,
    ),
)

#: "You said, we did" findings an activity's outcome is linked to.
activity_findings = Table(
    "involvement_activity_findings",
    db.metadata,
    Column(
        "activity_id",
        ForeignKey("involvement_activities.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "finding_id",
        ForeignKey("survey_findings.id", ondelete="CASCADE"),
        primary_key=True,
    ),
)

#: Actions in the plan that changed because of what an activity heard.
activity_changed_actions = Table(
    "involvement_activity_actions",
    db.metadata,
    Column(
        "activity_id",
        ForeignKey("involvement_activities.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "action_id",
        ForeignKey("actions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
)


class InvolvementRate(TimestampMixin, db.Model):  # type: ignore[name-defined,misc]
    """A level of involvement and what the organisation pays for a session at it.

    Levels as in NHS England's payment and reimbursement policy for patient and
    public voice partners: expenses at every level, an involvement payment only at
    the levels the organisation sets one for.
    """

    __tablename__ = "involvement_rates"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    #: The involvement payment for one session, in pence (0: expenses only).
    session_pence: Mapped[int] = mapped_column(default=0)
    position: Mapped[int] = mapped_column(default=0)
    is_active: Mapped[bool] = mapped_column(default=True)


class InvolvementActivity(TimestampMixin, db.Model):  # type: ignore[name-defined,misc]
    """A meeting, focus group, reference group, workshop or event to take part in."""

    __tablename__ = "involvement_activities"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ActivityKind] = mapped_column(str_enum(ActivityKind, length=30))
    title: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(Text, default="")
    #: What will happen (the agenda), in plain text.
    programme: Mapped[str] = mapped_column(Text, default="")
    #: The action in the plan this activity delivers.
    action_id: Mapped[int | None] = mapped_column(
        ForeignKey("actions.id", ondelete="SET NULL"), index=True
    )
    #: The involvement level, which sets the payment for a session.
    rate_id: Mapped[int | None] = mapped_column(
        ForeignKey("involvement_rates.id", ondelete="SET NULL")
    )
    status: Mapped[ActivityStatus] = mapped_column(
        str_enum(ActivityStatus), default=ActivityStatus.DRAFT, index=True
    )

    # When: the sessions; a series repeats the first one's time at this interval.
    recurrence: Mapped[Recurrence] = mapped_column(
        str_enum(Recurrence), default=Recurrence.NONE
    )
    duration_minutes: Mapped[int] = mapped_column(default=90)

    # Where: a venue, an online link, or both.
    venue_name: Mapped[str] = mapped_column(String(200), default="")
    venue_address: Mapped[str] = mapped_column(Text, default="")
    #: None: not known.
    step_free: Mapped[bool | None]
    hearing_loop: Mapped[bool | None]
    parking: Mapped[str] = mapped_column(String(300), default="")
    public_transport: Mapped[str] = mapped_column(String(300), default="")
    accessibility_notes: Mapped[str] = mapped_column(Text, default="")
    online_link: Mapped[str] = mapped_column(String(500), default="")
    #: Places at each session (None: no limit).
    capacity: Mapped[int | None]

    # Support offered to those who come.
    offers_interpreters: Mapped[bool] = mapped_column(default=False)
    offers_bsl: Mapped[bool] = mapped_column(default=False)
    offers_travel: Mapped[bool] = mapped_column(default=False)
    offers_carers: Mapped[bool] = mapped_column(default=False)
    support_notes: Mapped[str] = mapped_column(String(500), default="")

    # Who is invited: members matching every criterion given (None: any), and/or
    # the contacts of the chosen audiences; by the channels chosen.
    to_members: Mapped[bool] = mapped_column(default=True)
    tier: Mapped[Tier | None] = mapped_column(
        str_enum(Tier, length=30), default=Tier.GOLD
    )
    topic_id: Mapped[int | None] = mapped_column(
        ForeignKey("topics.id", ondelete="SET NULL")
    )
    practice_id: Mapped[int | None] = mapped_column(
        ForeignKey("practices.id", ondelete="SET NULL")
    )
    support_need: Mapped[SupportNeed | None] = mapped_column(
        str_enum(SupportNeed, length=30)
    )
    audiences: Mapped[list[Audience]] = relationship(
        secondary=activity_audiences, order_by="Audience.name"
    )
    by_email: Mapped[bool] = mapped_column(default=True)
    by_sms: Mapped[bool] = mapped_column(default=False)
    by_post: Mapped[bool] = mapped_column(default=False)

    cancelled_at: Mapped[datetime | None]
    cancel_reason: Mapped[str] = mapped_column(String(500), default="")

    # Evidence of involvement
    what_we_heard: Mapped[str] = mapped_column(Text, default="")
    what_changed: Mapped[str] = mapped_column(Text, default="")
    outcome_recorded_at: Mapped[datetime | None]
    findings = relationship(
        "Finding", secondary=activity_findings, order_by="Finding.id"
    )
    changed_actions: Mapped[list[Action]] = relationship(
        secondary=activity_changed_actions, order_by="Action.id"
    )

    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )

    action: Mapped[Action | None] = relationship(foreign_keys=[action_id])
    rate: Mapped[InvolvementRate | None] = relationship()
    sessions: Mapped[list[InvolvementSession]] = relationship(
        back_populates="activity",
        cascade="all, delete-orphan",
        order_by="InvolvementSession.starts_at",
    )

    @property
    def channels(self) -> list[ContactChannel]:
        """The channels chosen for the invitations, in a fixed order."""
        chosen = {
            ContactChannel.EMAIL: self.by_email,
            ContactChannel.SMS: self.by_sms,
            ContactChannel.POST: self.by_post,
        }
        return [channel for channel, on in chosen.items() if on]


class InvolvementSession(db.Model):  # type: ignore[name-defined,misc]
    """One meeting of an activity: a date and time (stored in UTC, shown in UK time)."""

    __tablename__ = "involvement_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(
        ForeignKey("involvement_activities.id", ondelete="CASCADE"), index=True
    )
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime]
    cancelled_at: Mapped[datetime | None]
    #: Why this one session was called off (told to those invited).
    cancel_reason: Mapped[str] = mapped_column(String(500), default="")
    #: When its time or place last changed after invitations went out (everyone who
    #: replied is told).
    changed_at: Mapped[datetime | None]
    #: The delivery logged on the plan's action once attendance is recorded.
    delivery_id: Mapped[int | None] = mapped_column(
        ForeignKey("activities.id", ondelete="SET NULL")
    )

    activity: Mapped[InvolvementActivity] = relationship(back_populates="sessions")
    invitations: Mapped[list[InvolvementInvitation]] = relationship(
        back_populates="session", cascade="all, delete-orphan", passive_deletes=True
    )


class InvolvementInvitation(db.Model):  # type: ignore[name-defined,misc]
    """One person asked to one session; its signed id is their private reply link.

    Exactly one of ``member_id`` and ``contact_id`` is set. Erasing a member deletes
    their invitations, attendance and claims.
    """

    __tablename__ = "involvement_invitations"
    __table_args__ = (
        UniqueConstraint("session_id", "member_id", name="uq_invitations_member"),
        UniqueConstraint("session_id", "contact_id", name="uq_invitations_contact"),
        Index("ix_involvement_invitations_session_reply", "session_id", "reply"),
        CheckConstraint(
            "(member_id IS NULL) <> (contact_id IS NULL)", name="one_person"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("involvement_sessions.id", ondelete="CASCADE")
    )
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("audience_contacts.id", ondelete="CASCADE"), index=True
    )
    #: The channel it goes by and the address used (None for letters).
    channel: Mapped[ContactChannel] = mapped_column(str_enum(ContactChannel, length=30))
    address: Mapped[str | None] = mapped_column(String(254))
    send_status: Mapped[SendStatus] = mapped_column(
        str_enum(SendStatus), default=SendStatus.PENDING, index=True
    )
    sent_at: Mapped[datetime | None]
    #: The mail server's Message-ID or Notify's notification id.
    provider_ref: Mapped[str | None] = mapped_column(String(100))
    outcome: Mapped[str] = mapped_column(String(300), default="")

    reply: Mapped[Reply] = mapped_column(str_enum(Reply), default=Reply.NO_REPLY)
    replied_at: Mapped[datetime | None]
    #: Place in the waiting list: the time they asked for a place that was full.
    waiting_since: Mapped[datetime | None]
    #: When a freed place was given to them from the waiting list, and when they
    #: were told (the sender tells everyone given a place and not yet told).
    place_offered_at: Mapped[datetime | None]
    place_told_at: Mapped[datetime | None]
    #: Support they asked for at this session, in their words ("a hearing loop").
    support_request: Mapped[str] = mapped_column(String(500), default="")
    reminded_week_at: Mapped[datetime | None]
    reminded_day_at: Mapped[datetime | None]
    #: When they were last told of a change or cancellation.
    told_of_change_at: Mapped[datetime | None]

    session: Mapped[InvolvementSession] = relationship(back_populates="invitations")
    member = relationship("Member")
    contact = relationship("AudienceContact")


class Attendance(db.Model):  # type: ignore[name-defined,misc]
    """Someone who came to a session: a member, a contact, a staff user or a guest.

    Exactly one of ``member_id``, ``contact_id``, ``user_id`` and ``guest_name`` is
    set (a guest is someone not on Engage's records, named as they gave it).
    """

    __tablename__ = "involvement_attendances"
    __table_args__ = (
        UniqueConstraint("session_id", "member_id", name="uq_attendances_member"),
        UniqueConstraint("session_id", "contact_id", name="uq_attendances_contact"),
        UniqueConstraint("session_id", "user_id", name="uq_attendances_user"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("involvement_sessions.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("audience_contacts.id", ondelete="CASCADE")
    )
    #: A member of staff who attended.
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE")
    )
    guest_name: Mapped[str] = mapped_column(String(200), default="")
    recorded_at: Mapped[datetime]
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )

    session: Mapped[InvolvementSession] = relationship()
    member = relationship("Member")
    contact = relationship("AudienceContact")
    user = relationship("User", foreign_keys=[user_id])


class ExpenseClaim(db.Model):  # type: ignore[name-defined,misc]
    """A member's claim for one session: the involvement payment and their expenses.

    Amounts are whole pence. Mileage is paid at the organisation's rate per mile as
    it was when the claim was made (``mileage_rate_pence``).
    """

    __tablename__ = "involvement_claims"
    __table_args__ = (
        UniqueConstraint("session_id", "member_id", name="uq_claims_member"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("involvement_sessions.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[ClaimStatus] = mapped_column(
        str_enum(ClaimStatus), default=ClaimStatus.SUBMITTED, index=True
    )
    payment_pence: Mapped[int] = mapped_column(default=0)
    miles: Mapped[float] = mapped_column(Numeric(7, 1, asdecimal=False), default=0)
    mileage_rate_pence: Mapped[int] = mapped_column(default=0)
    fares_pence: Mapped[int] = mapped_column(default=0)
    carer_pence: Mapped[int] = mapped_column(default=0)
    details: Mapped[str] = mapped_column(Text, default="")
    #: The member of staff who entered it (None: the member, through their link).
    entered_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    submitted_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    decision_note: Mapped[str] = mapped_column(String(500), default="")
    exported_at: Mapped[datetime | None]

    session: Mapped[InvolvementSession] = relationship()
    member = relationship("Member")
    receipts: Mapped[list[ClaimReceipt]] = relationship(
        back_populates="claim",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="ClaimReceipt.id",
    )

    @property
    def mileage_pence(self) -> int:
        """Mileage at the rate recorded with the claim, to the nearest penny (halves
        up, in exact decimal arithmetic: 12.5 miles at 45p is 563p)."""
        exact = Decimal(str(self.miles or 0)) * self.mileage_rate_pence
        return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))

    @property
    def mileage_words(self) -> str:
        """How the mileage was worked out ("12.5 miles at 45p a mile"), or "" when
        no miles were claimed."""
        miles = Decimal(str(self.miles or 0))
        if not miles:
            return ""
        shown = f"{miles:f}".removesuffix(".0")
        unit = "mile" if miles == 1 else "miles"
        return f"{shown} {unit} at {self.mileage_rate_pence}p a mile"

    @property
    def total_pence(self) -> int:
        """Payment and expenses together (all in pence)."""
        return (
            self.payment_pence
            + self.mileage_pence
            + self.fares_pence
            + self.carer_pence
        )


class ClaimReceipt(db.Model):  # type: ignore[name-defined,misc]
    """A receipt uploaded with a claim (a PDF or picture, checked for type and size)."""

    __tablename__ = "involvement_receipts"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(
        ForeignKey("involvement_claims.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_at: Mapped[datetime]

    claim: Mapped[ExpenseClaim] = relationship(back_populates="receipts")


class InvolvementDay(db.Model):  # type: ignore[name-defined,misc]
    """Rollup: per UK day and kind of activity, the sessions starting that day that
    are not called off (nor their activity), and their attendances by people
    involved (engage.involvement.rollup). Derived only; never edited by hand."""

    __tablename__ = "involvement_days"

    day: Mapped[date] = mapped_column(primary_key=True)
    kind: Mapped[ActivityKind] = mapped_column(
        str_enum(ActivityKind, length=30), primary_key=True
    )
    sessions: Mapped[int] = mapped_column(default=0)
    attendances: Mapped[int] = mapped_column(default=0)


# Keeps involvement_days up to date on every flush of sessions and attendance.
from engage.involvement import rollup as _rollup  # noqa: E402,F401
