"""What was sent to each member: their record, their subject access data, erasure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import joinedload

from engage.extensions import db
from engage.mailings.addresses import CHANNEL_WORDS
from engage.mailings.models import BounceReport
from engage.mailings.models import MailingRecipient
from engage.mailings.models import RecipientStatus

if TYPE_CHECKING:
    from engage.membership.models import Member

#: What happened to a copy, in plain words.
OUTCOME_WORDS = {
    RecipientStatus.PENDING: "Waiting to be sent",
    RecipientStatus.SENDING: "Handed over; what happened is not known",
    RecipientStatus.SENT: "Sent",
    RecipientStatus.DELIVERED: "Delivered",
    RecipientStatus.BOUNCED: "Bounced: the address does not exist",
    RecipientStatus.FAILED: "Not sent: it could not be delivered",
    RecipientStatus.SKIPPED: "Not sent",
    RecipientStatus.PRINTED: "Printed and posted",
}


@dataclass(frozen=True)
class SentToMember:
    """One mailing sent (or meant) to a member on one channel."""

    mailing_id: int
    subject: str
    channel: str
    #: When it was sent, else when it was recorded for sending.
    when: datetime | None
    what_happened: str
    #: The copy's status code (kept in the subject access data).
    status: str
    #: The email address or phone number it went to (None for a letter).
    address: str | None = None
    sent_at: datetime | None = None
    #: When what happened (delivered, bounced, failed, not sent) was recorded.
    outcome_at: datetime | None = None
    opened_at: datetime | None = None
    clicked_at: datetime | None = None
    unsubscribed_at: datetime | None = None


def _lower_first(words: str) -> str:
    return words[:1].lower() + words[1:]


def _what_happened(row: MailingRecipient) -> str:
    words = OUTCOME_WORDS.get(row.status, row.status.label)
    if row.status is RecipientStatus.SKIPPED and row.outcome:
        words = f"Not sent: {row.outcome}"
    elif row.status is RecipientStatus.BOUNCED and row.outcome:
        words = f"Bounced: {_lower_first(row.outcome)}"
    elif row.status is RecipientStatus.FAILED and row.outcome:
        words = f"Not delivered: {_lower_first(row.outcome)}"
    if row.unsubscribed_at is not None:
        words += "; they unsubscribed with its link"
    return words


def sent_to_member(member: Member) -> list[SentToMember]:
    """The mailings sent to a member, newest first, each with what happened."""
    rows = db.session.scalars(
        select(MailingRecipient)
        .options(joinedload(MailingRecipient.mailing))
        .where(MailingRecipient.member_id == member.id)
        .order_by(MailingRecipient.id.desc())
    )
    result = [
        SentToMember(
            mailing_id=row.mailing_id,
            subject=row.mailing.subject,
            channel=CHANNEL_WORDS[row.channel].name,
            when=row.sent_at or row.mailing.started_at or row.mailing.prepared_at,
            what_happened=_what_happened(row),
            status=row.status.value,
            address=row.address,
            sent_at=row.sent_at,
            outcome_at=row.outcome_at,
            opened_at=row.opened_at,
            clicked_at=row.clicked_at,
            unsubscribed_at=row.unsubscribed_at,
        )
        for row in rows
    ]
    return sorted(
        result, key=lambda r: r.when.timestamp() if r.when else 0.0, reverse=True
    )


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def member_mailing_data(member: Member) -> dict[str, Any]:
    """The mailings sent to a member, JSON-ready, for subject access exports.

    Everything kept about each copy: where it went, what happened and when, and
    (where the organisation counts them) when it was opened and a link clicked.
    """
    return {
        "mailings_sent": [
            {
                "subject": row.subject,
                "channel": row.channel,
                "address": row.address,
                "when": _iso(row.when),
                "sent_at": _iso(row.sent_at),
                "status": row.status,
                "what_happened": row.what_happened,
                "outcome_at": _iso(row.outcome_at),
                "opened_at": _iso(row.opened_at),
                "clicked_at": _iso(row.clicked_at),
                "unsubscribed_at": _iso(row.unsubscribed_at),
            }
            for row in sent_to_member(member)
        ]
    }


def forget_member(member: Member) -> None:
    """Erasure: delete the member's copies of every mailing (their history).

    Each mailing's totals stay on the delivery logged on its action, which are never
    lowered. Suppressions are kept on purpose: an address that bounced or
    unsubscribed must never be mailed again, even if the person is imported anew;
    a suppression holds only the address and why, nothing else about them.
    """
    ids = select(MailingRecipient.id).where(MailingRecipient.member_id == member.id)
    db.session.execute(
        update(BounceReport)
        .where(BounceReport.recipient_id.in_(ids))
        .values(recipient_id=None)
    )
    db.session.execute(
        delete(MailingRecipient).where(MailingRecipient.member_id == member.id)
    )
