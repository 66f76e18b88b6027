"""Membership models: members, consents, tokens, equality answers, lists and SARs."""

from __future__ import annotations

import enum
from datetime import date
from datetime import datetime

from sqlalchemy import Column
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import Numeric
from sqlalchemy import String
from sqlalchemy import Table
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy import false
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from engage.db import str_enum
from engage.extensions import db


class Tier(enum.StrEnum):
    """How involved a member wants to be."""

    GOLD = "gold"  #: active roles at meetings and focus groups
    SILVER = "silver"  #: surveys and consultations

    @property
    def label(self) -> str:
        return self.value.capitalize()


class MemberStatus(enum.StrEnum):
    """Where a member is in their membership."""

    PENDING = "pending"  #: joined online, email address not yet confirmed
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"
    ERASED = "erased"  #: personal data deleted; the row stays so counts stay true

    @property
    def label(self) -> str:
        return {"pending": "Pending confirmation"}.get(
            self.value, self.value.capitalize()
        )


class ContactChannel(enum.StrEnum):
    """A way we may contact a member, each with its own consent."""

    EMAIL = "email"
    SMS = "sms"
    PHONE = "phone"
    POST = "post"

    @property
    def label(self) -> str:
        return {"email": "email", "sms": "text message"}.get(self.value, self.value)

    @property
    def message(self) -> str:
        """What a mailing sends this way: "email", "text message", "letter"."""
        return "letter" if self is ContactChannel.POST else self.label


class ConsentMethod(enum.StrEnum):
    """How a consent was given or changed."""

    WEB_FORM = "web-form"
    SELF_SERVICE = "self-service"
    PHONE = "phone"
    PAPER = "paper"
    STAFF = "staff"
    #: The one-click unsubscribe link in a mailing (one channel only).
    UNSUBSCRIBE = "unsubscribe"
    #: Their email provider reported that they marked a mailing as spam.
    COMPLAINT = "complaint"

    @property
    def label(self) -> str:
        """How, in words ("Online form"), where staff read it."""
        return {
            "web-form": "Online form",
            "self-service": "Their manage link",
            "phone": "By phone",
            "paper": "Paper form",
            "staff": "By staff",
            "unsubscribe": "Unsubscribe link in a mailing",
            "complaint": "Marked a mailing as spam",
        }[self.value]


#: Ways a member can join without the web form (staff enter them).
STAFF_JOIN_METHODS = (ConsentMethod.PHONE, ConsentMethod.PAPER)


class SupportNeed(enum.StrEnum):
    """Communication support under the NHS Accessible Information Standard."""

    LARGE_PRINT = "large_print"
    EASY_READ = "easy_read"
    BSL = "bsl"
    BRAILLE = "braille"
    AUDIO = "audio"
    ADVOCATE = "advocate"
    HEARING_LOOP = "hearing_loop"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            "large_print": "Large print",
            "easy_read": "Easy read",
            "bsl": "British Sign Language (BSL) interpreter",
            "braille": "Braille",
            "audio": "Audio",
            "advocate": "Contact through a carer or advocate",
            "hearing_loop": "Hearing loop",
            "other": "Other",
        }[self.value]


class TokenPurpose(enum.StrEnum):
    """What a member's single-use token does (an emailed link, or the join step)."""

    CONFIRM = "confirm"
    MANAGE = "manage"
    #: Kept in the join session (never emailed): lets a new member answer the
    #: optional equality questions without the session naming them.
    EQUALITY = "equality"
    #: Emailed to a new address a member asked for; opening it applies the change.
    EMAIL_CHANGE = "email_change"


class Practice(db.Model):  # type: ignore[name-defined,misc]
    """A GP practice members can choose (admins keep the list)."""

    __tablename__ = "practices"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    code: Mapped[str] = mapped_column(String(20), default="")
    is_active: Mapped[bool] = mapped_column(default=True)


class Topic(db.Model):  # type: ignore[name-defined,misc]
    """A topic of interest members can choose (admins keep the list)."""

    __tablename__ = "topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    is_active: Mapped[bool] = mapped_column(default=True)


member_topics = Table(
    "member_topics",
    db.metadata,
    Column("member_id", ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
    Column("topic_id", ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_member_topics_topic_id", "topic_id"),
)


class Member(db.Model):  # type: ignore[name-defined,misc]
    """A PPI member. Personal fields are None once the member is erased."""

    __tablename__ = "members"
    __table_args__ = (
        Index("ix_members_status_tier", "status", "tier"),
        # The member list's filters in its newest-first order.
        Index("ix_members_status_tier_created_at", "status", "tier", "created_at"),
        Index("ix_members_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    #: Lower-cased; unique, so one email address is one member.
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    #: A new address the member asked for, applied once they open the link sent to it.
    pending_email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    address: Mapped[str | None] = mapped_column(Text)
    #: Normalised UK postcode ("SW1A 1AA").
    postcode: Mapped[str | None] = mapped_column(String(10))
    practice_id: Mapped[int | None] = mapped_column(
        ForeignKey("practices.id", ondelete="SET NULL"), index=True
    )
    #: They said their practice is not in our list (so the list may need it).
    practice_not_listed: Mapped[bool] = mapped_column(
        default=False, server_default=false()
    )
    tier: Mapped[Tier] = mapped_column(str_enum(Tier, length=30))
    status: Mapped[MemberStatus] = mapped_column(str_enum(MemberStatus, length=30))
    #: How they joined: web-form, phone or paper.
    joined_by: Mapped[ConsentMethod] = mapped_column(str_enum(ConsentMethod, length=30))
    support_other: Mapped[str | None] = mapped_column(String(500))
    is_champion: Mapped[bool] = mapped_column(default=False)
    #: Staff notes; personal data, erased with the member.
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    confirmed_at: Mapped[datetime | None]
    withdrawn_at: Mapped[datetime | None] = mapped_column(index=True)
    erased_at: Mapped[datetime | None]

    practice: Mapped[Practice | None] = relationship()
    topics = relationship("Topic", secondary=member_topics, order_by="Topic.name")
    support_needs: Mapped[list[MemberSupportNeed]] = relationship(
        cascade="all, delete-orphan"
    )
    consents: Mapped[list[ConsentRecord]] = relationship(
        back_populates="member",
        cascade="all, delete-orphan",
        order_by="ConsentRecord.recorded_at",
    )
    tokens: Mapped[list[MemberToken]] = relationship(cascade="all, delete-orphan")
    equality: Mapped[EqualityAnswers | None] = relationship(
        cascade="all, delete-orphan", uselist=False
    )

    @property
    def practice_words(self) -> str:
        """Their GP practice as people read it, or why there is none."""
        if self.practice is not None:
            return self.practice.name
        return "Not in our list" if self.practice_not_listed else "Not known"


class MemberSupportNeed(db.Model):  # type: ignore[name-defined,misc]
    """One communication support need of a member."""

    __tablename__ = "member_support_needs"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    need: Mapped[SupportNeed] = mapped_column(
        str_enum(SupportNeed, length=30), primary_key=True
    )


class ConsentRecord(db.Model):  # type: ignore[name-defined,misc]
    """One consent given or withdrawn, for one channel: an append-only history."""

    __tablename__ = "consent_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[ContactChannel] = mapped_column(str_enum(ContactChannel, length=30))
    granted: Mapped[bool]
    method: Mapped[ConsentMethod] = mapped_column(str_enum(ConsentMethod, length=30))
    #: The privacy notice version shown, and a hash of the exact consent wording.
    wording_version: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime]

    member: Mapped[Member] = relationship(back_populates="consents")


class MemberToken(db.Model):  # type: ignore[name-defined,misc]
    """A member's single-use, expiring emailed link; only its hash is stored."""

    __tablename__ = "member_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[TokenPurpose] = mapped_column(str_enum(TokenPurpose, length=30))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class EqualityAnswers(db.Model):  # type: ignore[name-defined,misc]
    """Optional equality-monitoring answers, kept apart; staff see only aggregates.

    Every answer may be None (not answered) or "prefer_not_to_say".
    """

    __tablename__ = "equality_answers"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    age_band: Mapped[str | None] = mapped_column(String(40))
    sex: Mapped[str | None] = mapped_column(String(40))
    gender_identity: Mapped[str | None] = mapped_column(String(40))
    ethnicity: Mapped[str | None] = mapped_column(String(80))
    disability: Mapped[str | None] = mapped_column(String(40))
    carer: Mapped[str | None] = mapped_column(String(40))
    recorded_at: Mapped[datetime]


class PopulationShare(db.Model):  # type: ignore[name-defined,misc]
    """The area's population profile that admins enter: percent per category value."""

    __tablename__ = "population_shares"
    __table_args__ = (UniqueConstraint("category", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(String(80))
    percent: Mapped[float] = mapped_column(Numeric(5, 2, asdecimal=False))


class SubjectAccessRequest(db.Model):  # type: ignore[name-defined,misc]
    """A subject access request in the SAR register (SECURITY D6, UK GDPR Art. 15)."""

    __tablename__ = "subject_access_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: None while the requester is not matched to a member.
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), index=True
    )
    #: How the requester is described ("Member by letter"); personal data, erased
    #: with the member.
    requester: Mapped[str] = mapped_column(String(200), default="")
    received_on: Mapped[date]
    #: One calendar month after ``received_on``, clamped to the month end.
    due_on: Mapped[date] = mapped_column(index=True)
    completed_on: Mapped[date | None]
    #: Free text that may name people: erased with the member.
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )

    member: Mapped[Member | None] = relationship()

    @property
    def is_open(self) -> bool:
        return self.completed_on is None


class MemberDay(db.Model):  # type: ignore[name-defined,misc]
    """Rollup: per tier and day, members' changes (engage.membership.rollup).

    ``starts`` and ``stops`` count members becoming active and ceasing to be (so
    the active members at the end of a day are the starts less the stops up to
    it); ``joined`` and ``withdrawn`` count joins and withdrawals. Derived from
    members only; never edited by hand.
    """

    __tablename__ = "member_days"

    tier: Mapped[Tier] = mapped_column(str_enum(Tier, length=30), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    starts: Mapped[int] = mapped_column(default=0)
    stops: Mapped[int] = mapped_column(default=0)
    joined: Mapped[int] = mapped_column(default=0)
    withdrawn: Mapped[int] = mapped_column(default=0)


# Keeps member_days up to date on every flush of members.
from engage.membership import rollup as _rollup  # noqa: E402,F401
