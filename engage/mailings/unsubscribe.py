"""Unsubscribing from mailings, and the list of addresses never sent to again.

A member who unsubscribes withdraws consent for that one channel (recorded in their
consent history; the membership goes on). A stakeholder contact has no consent
record, so their address is put on the suppression list instead. Bounces and
complaints (engage.mailings.bounces, engage.mailings.receipts) use the same list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from engage.audit.services import PUBLIC
from engage.audit.services import record_event
from engage.extensions import db
from engage.mailings.addresses import CHANNEL_WORDS
from engage.mailings.addresses import find_suppression
from engage.mailings.addresses import normalise_address
from engage.mailings.models import MailingRecipient
from engage.mailings.models import Suppression
from engage.mailings.models import SuppressionReason
from engage.membership.consent import current_consents
from engage.membership.consent import record_consents
from engage.membership.models import ConsentMethod
from engage.membership.models import ContactChannel
from engage.membership.models import Member
from engage.membership.models import MemberStatus
from engage.organisation.services import identity

#: A bounce or complaint outranks an unsubscribe on file for the same address:
#: staff then see that the address is undeliverable, not merely unsubscribed.
_RANK = {
    SuppressionReason.UNSUBSCRIBED: 0,
    SuppressionReason.COMPLAINED: 1,
    SuppressionReason.BOUNCED: 2,
}


def suppress(
    channel: ContactChannel,
    address: str,
    reason: SuppressionReason,
    *,
    detail: str = "",
    mailing_id: int | None = None,
    now: datetime,
) -> Suppression:
    """Put an address on the suppression list (once; a later bounce outranks).

    Safe to call for an address already listed: the existing entry is kept, or
    updated when the new reason is weightier (an unsubscribed address that later
    bounces is shown as undeliverable).
    """
    address = normalise_address(channel, address)[:254]
    existing = find_suppression(channel, address)
    if existing is None:
        entry = Suppression(
            channel=channel,
            address=address,
            reason=reason,
            detail=detail[:300],
            mailing_id=mailing_id,
            recorded_at=now,
        )
        try:
            with db.session.begin_nested():
                db.session.add(entry)
        except IntegrityError:
            # Listed at the same moment by another request or job.
            existing = find_suppression(channel, address)
            if existing is None:
                raise
        else:
            return entry
    if _RANK[reason] > _RANK[existing.reason]:
        existing.reason = reason
        existing.detail = detail[:300]
        existing.mailing_id = mailing_id
        existing.recorded_at = now
        db.session.flush()
    return existing


@dataclass(frozen=True)
class UnsubscribePage:
    """What the unsubscribe page says: whose mail stops, and are they a member."""

    channel_words: str
    organisation: str
    is_member: bool
    done: bool
    #: Whether the member has agreed to be contacted in another way than this one.
    other_ways: bool = False


def usable(recipient: MailingRecipient | None) -> MailingRecipient | None:
    """The recipient an unsubscribe link may act for, or None (the link does not work).

    A member since erased has nothing left to unsubscribe: their link works no more.
    """
    if recipient is None:
        return None
    if recipient.member_id is not None:
        member = db.session.get(Member, recipient.member_id)
        if member is None or member.status is MemberStatus.ERASED:
            return None
    elif recipient.contact_id is None:
        return None
    return recipient


def describe(recipient: MailingRecipient) -> UnsubscribePage:
    """The unsubscribe page's words for one recipient."""
    member = (
        db.session.get(Member, recipient.member_id)
        if recipient.member_id is not None
        else None
    )
    other_ways = member is not None and any(
        granted
        for channel, granted in current_consents(member).items()
        if channel.value != recipient.channel.value
    )
    return UnsubscribePage(
        channel_words=CHANNEL_WORDS[recipient.channel].messages,
        organisation=identity().name,
        is_member=member is not None,
        done=recipient.unsubscribed_at is not None,
        other_ways=other_ways,
    )


def unsubscribe(recipient: MailingRecipient, *, one_click: bool, now: datetime) -> bool:
    """Stop ``recipient``'s channel: True if this changed anything.

    A member's consent for that channel only is withdrawn (their consent history
    shows it; the membership stays as it is); a stakeholder contact's address is
    suppressed. A second call changes nothing.
    """
    if recipient.unsubscribed_at is not None or usable(recipient) is None:
        return False
    recipient.unsubscribed_at = now
    how = "one-click" if one_click else "unsubscribe page"
    member = (
        None
        if recipient.member_id is None
        else db.session.get(Member, recipient.member_id)
    )
    if member is not None:
        changed = record_consents(
            member,
            {recipient.channel: False},
            method=ConsentMethod.UNSUBSCRIBE,
            now=now,
        )
        member.updated_at = now
        record_event(
            PUBLIC,
            "unsubscribe",
            "member",
            member.id,
            f"withdrew consent to {CHANNEL_WORDS[recipient.channel].messages} from "
            f"mailing "
            f"{recipient.mailing_id} ({how})"
            + ("" if changed else "; it was already withdrawn"),
            now=now,
        )
    else:
        if recipient.address:
            suppress(
                recipient.channel,
                recipient.address,
                SuppressionReason.UNSUBSCRIBED,
                detail="Unsubscribed with the link in a mailing",
                mailing_id=recipient.mailing_id,
                now=now,
            )
        record_event(
            PUBLIC,
            "unsubscribe",
            "audience_contact",
            recipient.contact_id,
            f"unsubscribed from {CHANNEL_WORDS[recipient.channel].messages} (mailing "
            f"{recipient.mailing_id}, {how})",
            now=now,
        )
    db.session.flush()
    return True


@dataclass(frozen=True)
class Undeliverable:
    """An address of a member's that we cannot or may not send to, for staff."""

    channel: ContactChannel
    address: str
    reason: SuppressionReason
    detail: str
    recorded_at: datetime

    @property
    def what(self) -> str:
        """Which of the member's details this is, in plain words."""
        return CHANNEL_WORDS[self.channel].address.capitalize()


def undeliverable_for(member: Member) -> list[Undeliverable]:
    """The member's email address and phone number entries on the suppression list.

    Matched against their details as they are now and the addresses their mailings
    were sent to, oldest entry first.
    """
    wanted: set[tuple[ContactChannel, str]] = set()
    if member.email:
        wanted.add(
            (
                ContactChannel.EMAIL,
                normalise_address(ContactChannel.EMAIL, member.email),
            )
        )
    if member.phone:
        wanted.add(
            (ContactChannel.SMS, normalise_address(ContactChannel.SMS, member.phone))
        )
    if member.id is not None:
        used = db.session.execute(
            select(MailingRecipient.channel, MailingRecipient.address)
            .where(
                MailingRecipient.member_id == member.id,
                MailingRecipient.address.is_not(None),
            )
            .distinct()
        )
        for channel, address in used:
            if address:
                wanted.add((channel, normalise_address(channel, address)))
    if not wanted:
        return []
    addresses = {address for _, address in wanted}
    rows = db.session.scalars(
        select(Suppression)
        .where(Suppression.address.in_(addresses))
        .order_by(Suppression.recorded_at, Suppression.id)
    )
    return [
        Undeliverable(s.channel, s.address, s.reason, s.detail, s.recorded_at)
        for s in rows
        if (s.channel, s.address) in wanted
    ]
