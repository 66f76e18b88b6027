"""Mailing models: newsletters composed in Engage, who each went to, and what happened.

A mailing is written once (Markdown) and sent by email, text message or letter to
the members and stakeholder contacts it was addressed to. Each person and channel has
one ``MailingRecipient`` row, written before anything is handed to a mail server or
GOV.UK Notify, so a mailing reaches each of them at most once.
"""

from __future__ import annotations

import enum
from datetime import date
from datetime import datetime

from sqlalchemy import Column
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import Table
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from engage.actions.models import Action
from engage.audiences.models import Audience
from engage.db import TimestampMixin
from engage.db import str_enum
from engage.extensions import db
from engage.membership.models import ContactChannel
from engage.membership.models import SupportNeed
from engage.membership.models import Tier

#: The channels a mailing can go out on (phone calls are not mailings).
MAILING_CHANNELS = (ContactChannel.EMAIL, ContactChannel.SMS, ContactChannel.POST)


class MailingStatus(enum.StrEnum):
    """Where a mailing is, from draft to sent."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"  #: the scheduler process starts it at ``scheduled_for``
    SENDING = "sending"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    SENT = "sent"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class RecipientStatus(enum.StrEnum):
    """What happened to one person's copy of a mailing."""

    PENDING = "pending"  #: waiting for its batch
    #: Claimed and handed to the mail server or Notify; the outcome is not yet on
    #: file. A copy left here by a sender that died is never sent again by itself.
    SENDING = "sending"
    SENT = "sent"  #: accepted by the mail server or Notify
    DELIVERED = "delivered"  #: Notify's receipt says it arrived
    BOUNCED = "bounced"  #: the address does not exist (a hard bounce)
    FAILED = "failed"  #: could not be sent (temporary failures, retries used up)
    #: Not sent: consent was withdrawn, or the address found undeliverable,
    #: between choosing the recipients and their batch.
    SKIPPED = "skipped"
    PRINTED = "printed"  #: a letter, in a printed batch

    @property
    def label(self) -> str:
        return {
            "sending": "Handed over, outcome not known",
            "skipped": "Not sent",
            "printed": "Printed for post",
        }.get(self.value, self.value.capitalize())


class SuppressionReason(enum.StrEnum):
    """Why an address is never sent to."""

    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"  #: a hard bounce: the address does not exist
    COMPLAINED = "complained"  #: marked as spam

    @property
    def label(self) -> str:
        return {
            "unsubscribed": "Unsubscribed",
            "bounced": "Undeliverable (the address does not exist)",
            "complained": "Reported our email as spam",
        }[self.value]


mailing_audiences = Table(
    "mailing_audiences",
    db.metadata,
    Column(
        "mailing_id",
        ForeignKey("mailings.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "audience_id",
        ForeignKey("audiences.id", ondelete="CASCADE"),
        primary_key=True,
    ),
)


class MailingTemplate(TimestampMixin, db.Model):  # type: ignore[name-defined,misc]
    """A saved starting point: the PPI newsletter, the GP bulletin, and so on."""

    __tablename__ = "mailing_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text, default="")


class Mailing(TimestampMixin, db.Model):  # type: ignore[name-defined,misc]
    """One newsletter or bulletin: its words, who it is for, and how far it has got."""

    __tablename__ = "mailings"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(200))
    #: Markdown: headings, lists, links, images (alt text required).
    body: Mapped[str] = mapped_column(Text, default="")
    #: Optional easy-read version, printed for members who need easy read.
    easy_read_body: Mapped[str] = mapped_column(Text, default="")
    #: The text message sent to members who chose texts (a link to the web copy
    #: is added when the mailing is published).
    sms_text: Mapped[str] = mapped_column(String(612), default="")
    template_id: Mapped[int | None] = mapped_column(
        ForeignKey("mailing_templates.id", ondelete="SET NULL")
    )
    #: The action in the plan this mailing delivers; its delivery is logged there.
    action_id: Mapped[int | None] = mapped_column(
        ForeignKey("actions.id", ondelete="SET NULL"), index=True
    )
    #: The delivery logged on the action for this mailing (its figures follow).
    activity_id: Mapped[int | None] = mapped_column(
        ForeignKey("activities.id", ondelete="SET NULL")
    )
    status: Mapped[MailingStatus] = mapped_column(
        str_enum(MailingStatus), default=MailingStatus.DRAFT, index=True
    )

    # Channels
    by_email: Mapped[bool] = mapped_column(default=True)
    by_sms: Mapped[bool] = mapped_column(default=False)
    by_post: Mapped[bool] = mapped_column(default=False)

    # Who it is for: members matching every criterion given (None means any),
    # and/or the contacts of the chosen audiences.
    to_members: Mapped[bool] = mapped_column(default=True)
    tier: Mapped[Tier | None] = mapped_column(str_enum(Tier, length=30))
    topic_id: Mapped[int | None] = mapped_column(
        ForeignKey("topics.id", ondelete="SET NULL")
    )
    practice_id: Mapped[int | None] = mapped_column(
        ForeignKey("practices.id", ondelete="SET NULL")
    )
    support_need: Mapped[SupportNeed | None] = mapped_column(
        str_enum(SupportNeed, length=30)
    )
    joined_from: Mapped[date | None]
    joined_to: Mapped[date | None]
    audiences: Mapped[list[Audience]] = relationship(secondary=mailing_audiences)

    scheduled_for: Mapped[datetime | None] = mapped_column(index=True)
    #: When the recipients were chosen and recorded (the send's first step).
    prepared_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    #: Whether opens and clicks are counted for this mailing (the organisation's
    #: setting when the send began; off unless the organisation turns it on).
    tracking: Mapped[bool] = mapped_column(default=False)
    #: Published mailings have a public "view in a browser" page at this slug.
    archive_slug: Mapped[str | None] = mapped_column(String(40), unique=True)
    published_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )

    template: Mapped[MailingTemplate | None] = relationship()
    action: Mapped[Action | None] = relationship()

    @property
    def channels(self) -> list[ContactChannel]:
        """The channels chosen for this mailing, in a fixed order."""
        chosen = {
            ContactChannel.EMAIL: self.by_email,
            ContactChannel.SMS: self.by_sms,
            ContactChannel.POST: self.by_post,
        }
        return [c for c in MAILING_CHANNELS if chosen[c]]


class MailingRecipient(db.Model):  # type: ignore[name-defined,misc]
    """One person's copy of a mailing on one channel: recorded before it is sent.

    Exactly one of ``member_id`` and ``contact_id`` is set. Erasing a member deletes
    their rows (their history goes with them); the mailing's totals are kept on the
    logged delivery.
    """

    __tablename__ = "mailing_recipients"
    __table_args__ = (
        # Named: the naming convention would give both the same name.
        UniqueConstraint(
            "mailing_id", "channel", "member_id", name="uq_mailing_recipients_member"
        ),
        UniqueConstraint(
            "mailing_id", "channel", "contact_id", name="uq_mailing_recipients_contact"
        ),
        Index("ix_mailing_recipients_mailing_status", "mailing_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mailing_id: Mapped[int] = mapped_column(
        ForeignKey("mailings.id", ondelete="CASCADE")
    )
    channel: Mapped[ContactChannel] = mapped_column(str_enum(ContactChannel, length=30))
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("audience_contacts.id", ondelete="CASCADE"), index=True
    )
    #: The email address or phone number used (None for letters: the address is
    #: read from the member's record when the batch is printed).
    address: Mapped[str | None] = mapped_column(String(254))
    status: Mapped[RecipientStatus] = mapped_column(
        str_enum(RecipientStatus), default=RecipientStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    #: A copy refused for now waits until then before another try.
    retry_after: Mapped[datetime | None]
    #: The mail server's Message-ID or Notify's notification id.
    provider_ref: Mapped[str | None] = mapped_column(String(100), index=True)
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    #: When the outcome (delivered, bounced, failed, not sent) was recorded, and why,
    #: in plain words.
    outcome_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(String(300), default="")
    opened_at: Mapped[datetime | None]
    clicked_at: Mapped[datetime | None]
    unsubscribed_at: Mapped[datetime | None]

    mailing: Mapped[Mailing] = relationship()


class MailingLink(db.Model):  # type: ignore[name-defined,misc]
    """A link in a mailing's body: only these are followed (never an open redirect)."""

    __tablename__ = "mailing_links"
    __table_args__ = (UniqueConstraint("mailing_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mailing_id: Mapped[int] = mapped_column(
        ForeignKey("mailings.id", ondelete="CASCADE")
    )
    position: Mapped[int]
    url: Mapped[str] = mapped_column(Text)
    clicks: Mapped[int] = mapped_column(default=0)


class Suppression(db.Model):  # type: ignore[name-defined,misc]
    """An address never sent to again: unsubscribed, bounced or complained.

    Members who unsubscribe have their consent for the channel withdrawn instead
    (kept in their consent history); this list covers stakeholder contacts, and
    every address found undeliverable.
    """

    __tablename__ = "suppressions"
    __table_args__ = (UniqueConstraint("channel", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[ContactChannel] = mapped_column(str_enum(ContactChannel, length=30))
    #: Lower-case email address, or the phone number as stored.
    address: Mapped[str] = mapped_column(String(254))
    reason: Mapped[SuppressionReason] = mapped_column(str_enum(SuppressionReason))
    #: What the mail server or Notify said, in plain words.
    detail: Mapped[str] = mapped_column(String(300), default="")
    mailing_id: Mapped[int | None] = mapped_column(
        ForeignKey("mailings.id", ondelete="SET NULL")
    )
    recorded_at: Mapped[datetime]


class BounceReport(db.Model):  # type: ignore[name-defined,misc]
    """A bounce or complaint report already read, so a re-run files nothing twice."""

    __tablename__ = "bounce_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The report's own Message-ID (or Notify's notification id and status).
    message_id: Mapped[str] = mapped_column(String(300), unique=True)
    recipient_id: Mapped[int | None] = mapped_column(
        ForeignKey("mailing_recipients.id", ondelete="SET NULL")
    )
    kind: Mapped[str] = mapped_column(String(30))
    received_at: Mapped[datetime]
