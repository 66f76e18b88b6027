"""Relationship models: the log of interactions with audiences and what follows.

An *interaction* is one conversation or exchange with one or more audiences (and
named contacts in them): a meeting, call, letter, email, event conversation or
social-media exchange. It records who was there, what was said (a summary), the
*themes* raised (an admin-managed list of issues) and how it went (sentiment). A
confirmed interaction counts as contact for the audience's cadence, as a delivery
does; a *draft* (one filed from the capture mailbox) does not until its owner
confirms it. A *commitment* is a promise made to an audience, with an owner and a
due date. An audience's *health* is scored each night from its contact, sentiment
and commitments, and kept day by day as its history.
"""

from __future__ import annotations

import enum
from datetime import date
from datetime import datetime
from itertools import chain

from sqlalchemy import Boolean
from sqlalchemy import CheckConstraint
from sqlalchemy import Column
from sqlalchemy import Date
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import LargeBinary
from sqlalchemy import String
from sqlalchemy import Table
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy import event
from sqlalchemy import false
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import update
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import Session
from sqlalchemy.orm import UOWTransaction
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship
from sqlalchemy.orm.state import InstanceState

from engage.accounts.models import User
from engage.actions.models import Action
from engage.audiences.models import Audience
from engage.audiences.models import AudienceContact
from engage.db import TimestampMixin
from engage.db import str_enum
from engage.extensions import db
from engage.surveys.models import Finding


class InteractionKind(enum.StrEnum):
    """How the exchange took place."""

    MEETING = "meeting"
    CALL = "call"
    LETTER = "letter"
    EMAIL = "email"
    EVENT = "event"
    SOCIAL = "social"

    @property
    def label(self) -> str:
        return {
            "meeting": "Meeting",
            "call": "Call",
            "letter": "Letter",
            "email": "Email",
            "event": "Conversation at an event",
            "social": "Social media exchange",
        }[self.value]


class Direction(enum.StrEnum):
    """Who started the exchange."""

    OUTBOUND = "outbound"
    INBOUND = "inbound"

    @property
    def label(self) -> str:
        return {
            "outbound": "We contacted them",
            "inbound": "They contacted us",
        }[self.value]


class Sentiment(enum.StrEnum):
    """How the exchange went, as the person who logged it judged."""

    POSITIVE = "positive"
    NEUTRAL = "neutral"
    NEGATIVE = "negative"
    MIXED = "mixed"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class InteractionStatus(enum.StrEnum):
    """A draft (filed from email, waiting for its owner) or confirmed."""

    DRAFT = "draft"
    CONFIRMED = "confirmed"

    @property
    def label(self) -> str:
        return {"draft": "Draft, to confirm", "confirmed": "Confirmed"}[self.value]


theme_actions = Table(
    "relationship_theme_actions",
    db.metadata,
    Column(
        "theme_id",
        ForeignKey("relationship_themes.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "action_id",
        ForeignKey("actions.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)

theme_findings = Table(
    "relationship_theme_findings",
    db.metadata,
    Column(
        "theme_id",
        ForeignKey("relationship_themes.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "finding_id",
        ForeignKey("survey_findings.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)


class Theme(TimestampMixin, db.Model):  # type: ignore[name-defined,misc]
    """An issue stakeholders raise, e.g. "Stroke services review" (an admins' list)."""

    __tablename__ = "relationship_themes"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    is_active: Mapped[bool] = mapped_column(default=True)

    actions: Mapped[list[Action]] = relationship(
        secondary=theme_actions, order_by=lambda: Action.title
    )
    findings: Mapped[list[Finding]] = relationship(secondary=theme_findings)


interaction_audiences = Table(
    "interaction_audiences",
    db.metadata,
    Column(
        "interaction_id",
        ForeignKey("interactions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "audience_id",
        ForeignKey("audiences.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    # Copies of the interaction's day, sentiment and whether it is confirmed, kept by
    # the flush listener below, so that last contact, health and themes are counted
    # from this table's indexes alone (100,000s of interactions).
    Column("occurred_on", Date),
    Column("sentiment", str_enum(Sentiment), nullable=True),
    Column("confirmed", Boolean, nullable=False, server_default=false()),
    Index(
        "ix_interaction_audiences_audience_contact",
        "audience_id",
        "confirmed",
        "occurred_on",
    ),
    Index(
        "ix_interaction_audiences_period",
        "confirmed",
        "occurred_on",
        "audience_id",
        "sentiment",
        "interaction_id",
    ),
)

interaction_contacts = Table(
    "interaction_contacts",
    db.metadata,
    Column(
        "interaction_id",
        ForeignKey("interactions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "contact_id",
        ForeignKey("audience_contacts.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)

interaction_staff = Table(
    "interaction_staff",
    db.metadata,
    Column(
        "interaction_id",
        ForeignKey("interactions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "user_id",
        ForeignKey("users.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)

interaction_themes = Table(
    "interaction_themes",
    db.metadata,
    Column(
        "interaction_id",
        ForeignKey("interactions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "theme_id",
        ForeignKey("relationship_themes.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    # Copies kept by the flush listener below, as on interaction_audiences.
    Column("occurred_on", Date),
    Column("sentiment", str_enum(Sentiment), nullable=True),
    Column("confirmed", Boolean, nullable=False, server_default=false()),
    Index("ix_interaction_themes_theme_raised", "theme_id", "confirmed", "occurred_on"),
    Index(
        "ix_interaction_themes_period",
        "confirmed",
        "occurred_on",
        "theme_id",
        "sentiment",
        "interaction_id",
    ),
)


class Interaction(TimestampMixin, db.Model):  # type: ignore[name-defined,misc]
    """One exchange with one or more audiences."""

    __tablename__ = "interactions"
    __table_args__ = (
        Index("ix_interactions_status_occurred_on", "status", "occurred_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[InteractionKind] = mapped_column(str_enum(InteractionKind))
    direction: Mapped[Direction] = mapped_column(str_enum(Direction))
    #: The day it took place (a UK date).
    occurred_on: Mapped[date] = mapped_column(index=True)
    #: A short heading: the meeting's name or the email's subject.
    subject: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    #: None only on a draft that has not been judged yet.
    sentiment: Mapped[Sentiment | None] = mapped_column(str_enum(Sentiment))
    status: Mapped[InteractionStatus] = mapped_column(
        str_enum(InteractionStatus), default=InteractionStatus.CONFIRMED
    )
    #: Who logged it, or for a draft from email the member of staff who sent it
    #: (who is asked to confirm it).
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    #: The Message-ID of the email it was filed from, so it is never filed twice;
    #: or the key of the imported row it came from.
    source_key: Mapped[str | None] = mapped_column(String(998), unique=True)

    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    audiences: Mapped[list[Audience]] = relationship(
        secondary=interaction_audiences, order_by=lambda: Audience.name
    )
    contacts: Mapped[list[AudienceContact]] = relationship(
        secondary=interaction_contacts, order_by=lambda: AudienceContact.name
    )
    staff: Mapped[list[User]] = relationship(
        secondary=interaction_staff, order_by=lambda: User.name
    )
    themes: Mapped[list[Theme]] = relationship(
        secondary=interaction_themes, order_by=lambda: Theme.name
    )
    attachments: Mapped[list[InteractionAttachment]] = relationship(
        back_populates="interaction",
        cascade="all, delete-orphan",
        order_by=lambda: InteractionAttachment.id,
    )
    commitments: Mapped[list[Commitment]] = relationship(
        back_populates="interaction", order_by=lambda: Commitment.due_on
    )

    @property
    def is_draft(self) -> bool:
        return self.status is InteractionStatus.DRAFT


class InteractionAttachment(db.Model):  # type: ignore[name-defined,misc]
    """A file kept with an interaction or with a captured email waiting for review."""

    __tablename__ = "interaction_attachments"
    __table_args__ = (
        CheckConstraint(
            "interaction_id IS NOT NULL OR captured_id IS NOT NULL",
            name="has_owner",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    interaction_id: Mapped[int | None] = mapped_column(
        ForeignKey("interactions.id", ondelete="CASCADE"), index=True
    )
    captured_id: Mapped[int | None] = mapped_column(
        ForeignKey("captured_messages.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    #: Read only when the file is downloaded, not with every list of files.
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    uploaded_at: Mapped[datetime]

    interaction: Mapped[Interaction | None] = relationship(back_populates="attachments")


class CommitmentStatus(enum.StrEnum):
    """Where a promise stands."""

    OPEN = "open"
    DONE = "done"
    DROPPED = "dropped"

    @property
    def label(self) -> str:
        return {"open": "Open", "done": "Done", "dropped": "Dropped"}[self.value]


class Commitment(TimestampMixin, db.Model):  # type: ignore[name-defined,misc]
    """A promise made to an audience: "we will send the review papers by 10 January"."""

    __tablename__ = "commitments"
    __table_args__ = (
        Index("ix_commitments_status_due_on", "status", "due_on"),
        Index("ix_commitments_owner_status", "owner_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    description: Mapped[str] = mapped_column(Text)
    audience_id: Mapped[int] = mapped_column(
        ForeignKey("audiences.id", ondelete="CASCADE"), index=True
    )
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    due_on: Mapped[date]
    status: Mapped[CommitmentStatus] = mapped_column(
        str_enum(CommitmentStatus), default=CommitmentStatus.OPEN
    )
    #: The day it was done or dropped (a UK date).
    closed_on: Mapped[date | None]
    interaction_id: Mapped[int | None] = mapped_column(
        ForeignKey("interactions.id", ondelete="SET NULL"), index=True
    )

    audience: Mapped[Audience] = relationship()
    owner: Mapped[User | None] = relationship()
    interaction: Mapped[Interaction | None] = relationship(back_populates="commitments")

    def is_overdue(self, today: date) -> bool:
        return self.status is CommitmentStatus.OPEN and self.due_on < today


class HealthBand(enum.StrEnum):
    """A relationship's health in words, from its score."""

    GOOD = "good"
    FAIR = "fair"
    POOR = "poor"

    @property
    def label(self) -> str:
        return {"good": "Good", "fair": "Needs attention", "poor": "At risk"}[
            self.value
        ]


class AudienceHealth(db.Model):  # type: ignore[name-defined,misc]
    """An audience's relationship health on one day: the nightly job's history."""

    __tablename__ = "audience_health"
    __table_args__ = (
        UniqueConstraint("audience_id", "day"),
        CheckConstraint("score BETWEEN 0 AND 100", name="score_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    audience_id: Mapped[int] = mapped_column(
        ForeignKey("audiences.id", ondelete="CASCADE")
    )
    #: The UK day it was scored for.
    day: Mapped[date] = mapped_column(index=True)
    score: Mapped[int]
    band: Mapped[HealthBand] = mapped_column(str_enum(HealthBand))
    #: The reasons, one per line, in the words shown to people.
    reasons: Mapped[str] = mapped_column(Text, default="")
    computed_at: Mapped[datetime]


class LinkKind(enum.StrEnum):
    """How one stakeholder stands to another."""

    MEMBER_OF = "member_of"
    REPORTS_TO = "reports_to"
    FUNDED_BY = "funded_by"
    PART_OF = "part_of"
    PARTNER_OF = "partner_of"

    @property
    def label(self) -> str:
        return {
            "member_of": "is a member of",
            "reports_to": "reports to",
            "funded_by": "is funded by",
            "part_of": "is part of",
            "partner_of": "works in partnership with",
        }[self.value]


class AudienceLink(db.Model):  # type: ignore[name-defined,misc]
    """ "<from> is a member of <to>": a relationship between two stakeholders."""

    __tablename__ = "audience_links"
    __table_args__ = (
        UniqueConstraint("from_audience_id", "to_audience_id", "kind"),
        CheckConstraint("from_audience_id <> to_audience_id", name="not_itself"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    from_audience_id: Mapped[int] = mapped_column(
        ForeignKey("audiences.id", ondelete="CASCADE"), index=True
    )
    to_audience_id: Mapped[int] = mapped_column(
        ForeignKey("audiences.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[LinkKind] = mapped_column(str_enum(LinkKind))
    note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime]

    from_audience: Mapped[Audience] = relationship(foreign_keys=[from_audience_id])
    to_audience: Mapped[Audience] = relationship(foreign_keys=[to_audience_id])


class CaptureStatus(enum.StrEnum):
    """What became of an email read from the capture mailbox."""

    #: Filed as a draft interaction for its sender to confirm.
    FILED = "filed"
    #: An address in it is not known, or it could go to more than one audience:
    #: it waits in the review list.
    WAITING = "waiting"
    #: A person decided it is not an interaction.
    DISMISSED = "dismissed"

    @property
    def label(self) -> str:
        return {
            "filed": "Filed as a draft",
            "waiting": "Waiting for review",
            "dismissed": "Dismissed",
        }[self.value]


class CapturedMessage(db.Model):  # type: ignore[name-defined,misc]
    """An email read from the capture mailbox (staff copy it in, by Bcc)."""

    __tablename__ = "captured_messages"
    __table_args__ = (Index("ix_captured_messages_status", "status", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The email's Message-ID (or a digest of it when it has none): read once only.
    message_key: Mapped[str] = mapped_column(String(998), unique=True)
    received_at: Mapped[datetime]
    #: When it was sent (its Date header), or read when it does not say or says a
    #: time to come: the day an interaction filed from it took place.
    sent_at: Mapped[datetime | None]
    sender: Mapped[str] = mapped_column(String(254))
    #: Every To and Cc address, lower case, one per line.
    recipients: Mapped[str] = mapped_column(Text, default="")
    subject: Mapped[str] = mapped_column(String(300), default="")
    #: The plain-text body, cut to a bounded length.
    body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[CaptureStatus] = mapped_column(str_enum(CaptureStatus))
    #: Why it waits, in words ("not a known contact: a@b.org").
    reason: Mapped[str] = mapped_column(Text, default="")
    interaction_id: Mapped[int | None] = mapped_column(
        ForeignKey("interactions.id", ondelete="SET NULL"), index=True
    )
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    decided_at: Mapped[datetime | None]

    interaction: Mapped[Interaction | None] = relationship()
    attachments: Mapped[list[InteractionAttachment]] = relationship(
        foreign_keys=[InteractionAttachment.captured_id],
        order_by=lambda: InteractionAttachment.id,
    )


# Keeping the copies on the link tables ------------------------------------------------

#: The interaction's columns copied onto its rows in the link tables.
_COPIED = ("occurred_on", "sentiment", "status")
_LINKS = (interaction_audiences, interaction_themes)


def _after_flush(session: Session, _context: UOWTransaction) -> None:
    """After the ORM writes an interaction or its links, copy its day, sentiment and
    status onto its link rows (the links are written in the same flush, before)."""
    changed: list[Interaction] = []
    for item in chain(session.new, session.dirty):
        if not isinstance(item, Interaction):
            continue
        state: InstanceState[Interaction] = sa_inspect(item)
        if item in session.new or any(
            state.attrs[name].history.has_changes()
            for name in (*_COPIED, "audiences", "themes")
        ):
            changed.append(item)
    if not changed:
        return
    connection = session.connection()
    for item in changed:
        for link in _LINKS:
            connection.execute(
                update(link)
                .where(link.c.interaction_id == item.id)
                .values(
                    occurred_on=item.occurred_on,
                    sentiment=item.sentiment,
                    confirmed=item.status is InteractionStatus.CONFIRMED,
                )
            )


if not event.contains(Session, "after_flush", _after_flush):
    event.listen(Session, "after_flush", _after_flush)
