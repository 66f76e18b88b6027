"""Who a mailing goes to: matching members and contacts whose consent allows it.

The rule for members is ``engage.membership.consent.may_contact`` (an active member
whose latest consent for the channel is given, and given since the last privacy
notice that asked for fresh consent). Choosing among tens of thousands of members is
done here in SQL with the same rule (the tests check both agree); answering "why is
this person not included?" for one member uses ``may_contact`` itself.

Join dates are compared with ``Member.created_at`` (when the member joined, whether
online, by phone or on paper), as UK calendar days.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta

from sqlalchemy import ColumnElement
from sqlalchemy import FromClause
from sqlalchemy import Subquery
from sqlalchemy import case
from sqlalchemy import exists
from sqlalchemy import false
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import literal
from sqlalchemy import null
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import aliased

from engage.accounts.models import User
from engage.audiences.models import AudienceContact
from engage.audit.services import record_event
from engage.clock import start_of_day
from engage.extensions import db
from engage.mailings.addresses import CHANNEL_WORDS
from engage.mailings.addresses import find_suppression
from engage.mailings.addresses import normalise_address
from engage.mailings.addresses import normalised_sql
from engage.mailings.addresses import suppressed_sql
from engage.mailings.models import Mailing
from engage.mailings.models import MailingRecipient
from engage.mailings.models import RecipientStatus
from engage.mailings.models import Suppression
from engage.mailings.models import SuppressionReason
from engage.membership.consent import current_consents
from engage.membership.consent import may_contact
from engage.membership.models import ConsentRecord
from engage.membership.models import ContactChannel
from engage.membership.models import Member
from engage.membership.models import MemberStatus
from engage.membership.models import MemberSupportNeed
from engage.membership.models import Practice
from engage.membership.models import SupportNeed
from engage.membership.models import Tier
from engage.membership.models import Topic
from engage.membership.models import member_topics
from engage.organisation.services import fresh_consent_since
from engage.templating import format_date

#: Members are chosen and recorded this many ids at a time (bounded memory).
CHUNK = 5000

#: Why a matching member is left out of one channel (the reason codes of the SQL).
LEFT_OUT = {
    "erased": "Their details have been erased",
    "withdrawn": "They have withdrawn from the membership",
    "pending": "They have not confirmed their membership yet",
    "no_consent": "They have not agreed to {messages}",
    "stale_consent": "They agreed to {messages} before the privacy notice that asked "
    "everyone to agree again, and have not agreed since",
    "no_address": "We have no {address} for them",
    "suppressed": "Their {address} is on the do-not-send list (unsubscribed, "
    "undeliverable or reported as spam)",
}
#: Why an audience contact is left out (email only).
CONTACT_LEFT_OUT = {
    "no_address": "Stakeholder contacts with no email address",
    "suppressed": (
        "Stakeholder contacts whose email address is on the do-not-send list"
    ),
    "duplicate": "Stakeholder contacts whose email address already gets it",
    "member_said_no": (
        "Stakeholder contacts whose email address is a member's who has said no "
        "to emails"
    ),
}


def _words(template: str, channel: ContactChannel) -> str:
    words = CHANNEL_WORDS[channel]
    return template.format(messages=words.messages, address=words.address)


def left_out_words(code: str, channel: ContactChannel) -> str:
    """A ``LEFT_OUT`` reason code in plain words, for ``channel``."""
    return _words(LEFT_OUT[code], channel)


# The SQL rule ------------------------------------------------------------------------


def _address(channel: ContactChannel) -> ColumnElement[str | None]:
    """The member's address for ``channel`` (normalised, as it is recorded)."""
    if channel is ContactChannel.EMAIL:
        return normalised_sql(channel, Member.email)
    if channel is ContactChannel.SMS:
        return normalised_sql(channel, Member.phone)
    return Member.address  # type: ignore[return-value]


def address_sql(channel: ContactChannel) -> ColumnElement[str | None]:
    """SQL: a member's address for ``channel``, as a recipient records it."""
    return _address(channel)


def _latest_consent(
    channel: ContactChannel,
    low: int | None,
    high: int | None,
    *,
    name: str | None = None,
) -> Subquery:
    """Each member's latest consent record for ``channel`` (members ``low``..``high``).

    "Latest" as ``consent._latest`` has it: the last by time, then by id.
    """
    position = (
        func.row_number()
        .over(
            partition_by=ConsentRecord.member_id,
            order_by=(ConsentRecord.recorded_at.desc(), ConsentRecord.id.desc()),
        )
        .label("position")
    )
    records = select(
        ConsentRecord.member_id,
        ConsentRecord.granted,
        ConsentRecord.recorded_at,
        position,
    ).where(ConsentRecord.channel == channel)
    if low is not None:
        records = records.where(ConsentRecord.member_id >= low)
    if high is not None:
        records = records.where(ConsentRecord.member_id < high)
    ranked = records.subquery()
    return (
        select(ranked.c.member_id, ranked.c.granted, ranked.c.recorded_at)
        .where(ranked.c.position == 1)
        .subquery(name or f"latest_{channel.value}")
    )


#: The reasons that are ``consent.may_contact`` saying no.
NOT_ALLOWED = ("erased", "withdrawn", "pending", "no_consent", "stale_consent")


def _reason(
    channel: ContactChannel, latest: Subquery, since: datetime | None
) -> ColumnElement[str | None]:
    """Why a member (joined to their ``latest`` consent) gets nothing on ``channel``."""
    address = _address(channel)
    granted = latest.c.granted.is_(True)
    whens: list[tuple[ColumnElement[bool], str]] = [
        (Member.status == MemberStatus.ERASED, "erased"),
        (Member.status == MemberStatus.WITHDRAWN, "withdrawn"),
        (Member.status != MemberStatus.ACTIVE, "pending"),
        (or_(latest.c.member_id.is_(None), ~granted), "no_consent"),
    ]
    if since is not None:
        whens.append((latest.c.recorded_at < since, "stale_consent"))
    whens += [
        (or_(address.is_(None), address == ""), "no_address"),
        (suppressed_sql(channel, address), "suppressed"),
    ]
    return case(*whens, else_=null())


def member_reasons(
    channel: ContactChannel, *, low: int | None = None, high: int | None = None
) -> tuple[FromClause, ColumnElement[str | None]]:
    """SQL: members (with their latest consent) and why each gets nothing on
    ``channel`` (a ``LEFT_OUT`` code), or NULL for those who get it.

    A code in ``NOT_ALLOWED`` is exactly ``consent.may_contact`` being false.
    ``low`` and ``high`` bound the member ids looked at (a chunk).
    """
    members, reasons = member_reasons_by_channel([channel], low=low, high=high)
    return members, reasons[channel]


def member_reasons_by_channel(
    channels: Sequence[ContactChannel],
    *,
    low: int | None = None,
    high: int | None = None,
) -> tuple[FromClause, dict[ContactChannel, ColumnElement[str | None]]]:
    """``member_reasons`` for several channels at once: one FROM (members joined to
    their latest consent for each channel) and each channel's reason."""
    since = fresh_consent_since()
    members: FromClause = Member.__table__
    reasons = {}
    for channel in channels:
        latest = _latest_consent(channel, low, high)
        members = members.outerjoin(latest, latest.c.member_id == Member.id)
        reasons[channel] = _reason(channel, latest, since)
    return members, reasons


@dataclass(frozen=True)
class Selection:
    """Who something is sent to: the criteria a mailing and an involvement activity
    share (None: any), the audiences whose contacts get it, and the channels."""

    to_members: bool
    channels: tuple[ContactChannel, ...]
    audience_ids: tuple[int, ...] = ()
    tier: Tier | None = None
    topic_id: int | None = None
    practice_id: int | None = None
    support_need: SupportNeed | None = None
    joined_from: date | None = None
    joined_to: date | None = None

    @property
    def by_email(self) -> bool:
        return ContactChannel.EMAIL in self.channels


def selection_of(mailing: Mailing) -> Selection:
    """A mailing's criteria, audiences and channels."""
    return Selection(
        to_members=mailing.to_members,
        channels=tuple(mailing.channels),
        audience_ids=tuple(audience.id for audience in mailing.audiences),
        tier=mailing.tier,
        topic_id=mailing.topic_id,
        practice_id=mailing.practice_id,
        support_need=mailing.support_need,
        joined_from=mailing.joined_from,
        joined_to=mailing.joined_to,
    )


def criteria(selection: Selection) -> list[ColumnElement[bool]]:
    """SQL: the selection's filters on members (none given: every member)."""
    conditions: list[ColumnElement[bool]] = []
    if selection.tier is not None:
        conditions.append(Member.tier == selection.tier)
    if selection.topic_id is not None:
        conditions.append(
            exists().where(
                member_topics.c.member_id == Member.id,
                member_topics.c.topic_id == selection.topic_id,
            )
        )
    if selection.practice_id is not None:
        conditions.append(Member.practice_id == selection.practice_id)
    if selection.support_need is not None:
        conditions.append(
            exists().where(
                MemberSupportNeed.member_id == Member.id,
                MemberSupportNeed.need == selection.support_need,
            )
        )
    if selection.joined_from is not None:
        conditions.append(
            Member.created_at >= start_of_day(selection.joined_from).astimezone(UTC)
        )
    if selection.joined_to is not None:
        end = start_of_day(selection.joined_to + timedelta(days=1)).astimezone(UTC)
        conditions.append(Member.created_at < end)
    return conditions


def _member_channels(selection: Selection) -> list[ContactChannel]:
    return list(selection.channels) if selection.to_members else []


def _contact_refusals(
    address: ColumnElement[str | None],
) -> list[tuple[ColumnElement[bool], str]]:
    """SQL: the reasons (``CONTACT_LEFT_OUT`` codes) nothing may go to a contact's
    ``address`` whatever else they are sent, in the order they are given."""
    # A member who unsubscribed (or otherwise said no to emails) must not go on
    # getting them at the same address as a stakeholder contact.
    said_no = _latest_consent(ContactChannel.EMAIL, None, None, name="said_no")
    member_said_no = exists(
        select(said_no.c.member_id)
        .join(Member, Member.id == said_no.c.member_id)
        .where(
            _address(ContactChannel.EMAIL) == address,
            said_no.c.granted.is_(False),
        )
    )
    return [
        (
            or_(
                AudienceContact.email.is_(None), func.trim(AudienceContact.email) == ""
            ),
            "no_address",
        ),
        (suppressed_sql(ContactChannel.EMAIL, address), "suppressed"),
        (member_said_no, "member_said_no"),
    ]


def contact_rows(
    selection: Selection,
) -> tuple[ColumnElement[str | None], ColumnElement[str | None]]:
    """SQL: (a contact's address, why it is left out — a ``CONTACT_LEFT_OUT`` code —
    or NULL), for the contacts of the selection's audiences (by email)."""
    address = normalised_sql(ContactChannel.EMAIL, AudienceContact.email)
    other = aliased(AudienceContact)
    earlier = exists().where(
        other.audience_id.in_(selection.audience_ids),
        normalised_sql(ContactChannel.EMAIL, other.email) == address,
        other.id < AudienceContact.id,
    )
    member_gets_it: ColumnElement[bool] = false()
    if ContactChannel.EMAIL in _member_channels(selection):
        members, why = member_reasons(ContactChannel.EMAIL)
        member_gets_it = exists(
            select(Member.id)
            .select_from(members)
            .where(
                _address(ContactChannel.EMAIL) == address,
                *criteria(selection),
                why.is_(None),
            )
        )
    reason = case(
        *_contact_refusals(address),
        (or_(earlier, member_gets_it), "duplicate"),
        else_=null(),
    )
    return address, reason


def contacts_now(
    contact_ids: Sequence[int],
) -> dict[int, tuple[str | None, str | None]]:
    """Each contact's email address as it is now, and why nothing may be sent to it
    now (a ``CONTACT_LEFT_OUT`` code, or None): the rule that chose them, re-checked
    before each later message (an address that was a duplicate stays chosen)."""
    address = normalised_sql(ContactChannel.EMAIL, AudienceContact.email)
    reason = case(*_contact_refusals(address), else_=null())
    rows = db.session.execute(
        select(AudienceContact.id, address, reason).where(
            AudienceContact.id.in_(list(contact_ids))
        )
    )
    return {row[0]: (row[1], row[2]) for row in rows}


def contacts_of(selection: Selection) -> ColumnElement[bool]:
    """SQL: a contact belongs to one of the selection's audiences."""
    return AudienceContact.audience_id.in_(selection.audience_ids)


def wants_contacts(selection: Selection) -> bool:
    """Whether the selection goes to audience contacts (by email) at all."""
    return selection.by_email and bool(selection.audience_ids)


# Counts ------------------------------------------------------------------------------


@dataclass
class ChannelCount:
    """How many would receive a mailing on one channel, and who is left out, why."""

    channel: ContactChannel
    members: int = 0
    contacts: int = 0
    #: Plain-word reason -> how many left out for it.
    left_out: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.members + self.contacts


@dataclass
class Counts:
    """The counts before sending: members matched, and per channel who gets it."""

    matched_members: int
    channels: list[ChannelCount]


def counts(mailing: Mailing) -> Counts:
    """Per channel, how many would receive ``mailing`` and why the others would not."""
    selection = selection_of(mailing)
    matched = 0
    if mailing.to_members:
        matched = (
            db.session.scalar(
                select(func.count()).select_from(Member).where(*criteria(selection))
            )
            or 0
        )
    result = []
    for channel in mailing.channels:
        line = ChannelCount(channel)
        if channel in _member_channels(selection):
            members, why = member_reasons(channel)
            reason = why.label("reason")
            rows = db.session.execute(
                select(reason, func.count())
                .select_from(members)
                .where(*criteria(selection))
                .group_by(reason)
            )
            for code, number in rows:
                if code is None:
                    line.members = number
                else:
                    label = _words(LEFT_OUT[code], channel)
                    line.left_out[label] = line.left_out.get(label, 0) + number
        if channel is ContactChannel.EMAIL and wants_contacts(selection):
            _, contact_reason = contact_rows(selection)
            labelled = contact_reason.label("reason")
            rows = db.session.execute(
                select(labelled, func.count())
                .select_from(AudienceContact)
                .where(contacts_of(selection))
                .group_by(labelled)
            )
            for code, number in rows:
                if code is None:
                    line.contacts = number
                else:
                    line.left_out[CONTACT_LEFT_OUT[code]] = number
        result.append(line)
    return Counts(matched_members=matched, channels=result)


# Why not -----------------------------------------------------------------------------


def find_members(name: str, *, limit: int = 20) -> list[Member]:
    """Members whose name contains ``name`` (case ignored), for the "why not" lookup."""
    wanted = name.strip()[:200]
    if not wanted:
        return []
    pattern = (
        "%" + wanted.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    )
    query = (
        select(Member)
        .where(Member.name.ilike(pattern, escape="\\"))
        .order_by(Member.name, Member.id)
        .limit(limit)
    )
    return list(db.session.scalars(query))


def _criteria_reasons(mailing: Mailing, member: Member) -> list[str]:
    reasons = []
    if mailing.tier is not None and member.tier != mailing.tier:
        reasons.append(
            f"They are {member.tier.label}; "
            f"this mailing is for {mailing.tier.label} members"
        )
    if mailing.topic_id is not None and mailing.topic_id not in {
        t.id for t in member.topics
    }:
        topic = db.session.get(Topic, mailing.topic_id)
        reasons.append(
            f"They have not chosen the topic {topic.name if topic else 'chosen'}, "
            "which this mailing is for"
        )
    if mailing.practice_id is not None and member.practice_id != mailing.practice_id:
        practice = db.session.get(Practice, mailing.practice_id)
        theirs = member.practice.name if member.practice else "not recorded"
        reasons.append(
            f"Their GP practice is {theirs}; this mailing is for members at "
            f"{practice.name if practice else 'another practice'}"
        )
    if mailing.support_need is not None and mailing.support_need not in {
        n.need for n in member.support_needs
    }:
        reasons.append(
            "They have not told us they need "
            f"{mailing.support_need.label.lower()}, which this mailing is for"
        )
    joined = member.created_at
    if mailing.joined_from is not None and joined < start_of_day(mailing.joined_from):
        reasons.append(
            f"They joined on {format_date(joined)}; this mailing is for members who "
            f"joined on or after {format_date(mailing.joined_from)}"
        )
    if mailing.joined_to is not None and joined >= start_of_day(
        mailing.joined_to + timedelta(days=1)
    ):
        reasons.append(
            f"They joined on {format_date(joined)}; this mailing is for members who "
            f"joined on or before {format_date(mailing.joined_to)}"
        )
    return reasons


def _status_reason(member: Member) -> str | None:
    if member.status is MemberStatus.ERASED:
        return "Their details have been erased"
    if member.status is MemberStatus.WITHDRAWN:
        when = f" on {format_date(member.withdrawn_at)}" if member.withdrawn_at else ""
        return f"They withdrew from the membership{when}"
    if member.status is MemberStatus.PENDING:
        return "They have not confirmed their membership yet"
    return None


def member_address(member: Member, channel: ContactChannel) -> str | None:
    """The member's address for ``channel`` as a mailing records it (None: none)."""
    if channel is ContactChannel.POST:
        return member.address or None
    raw = member.email if channel is ContactChannel.EMAIL else member.phone
    return normalise_address(channel, raw or "") or None


def suppression_words(channel: ContactChannel, entry: Suppression) -> str:
    """Why an address is not sent to, in plain words."""
    address = CHANNEL_WORDS[channel].address
    if entry.reason is SuppressionReason.BOUNCED:
        detail = f": {entry.detail}" if entry.detail else ""
        return f"Their {address} is undeliverable{detail}"
    if entry.reason is SuppressionReason.COMPLAINED:
        return "They reported our email as spam"
    messages = CHANNEL_WORDS[channel].messages
    return f"They unsubscribed from {messages} sent to this {address}"


def channel_reason(member: Member, channel: ContactChannel) -> str | None:
    """Why an active, matching member gets nothing on ``channel`` (None: they do)."""
    messages = CHANNEL_WORDS[channel].messages
    address_words = CHANNEL_WORDS[channel].address
    if not may_contact(member, channel):
        if current_consents(member)[channel]:
            return (
                f"They agreed to {messages} before the latest privacy notice asked "
                "everyone to agree again, and have not agreed since"
            )
        return f"They have not agreed to {messages}"
    address = member_address(member, channel)
    if address is None:
        return f"We have no {address_words} for them"
    entry = find_suppression(channel, address)
    if entry is not None:
        return suppression_words(channel, entry)
    return None


def why_not(mailing: Mailing, member: Member) -> list[str]:
    """Why ``member`` would not receive ``mailing``, in plain words ([] if they would).

    A member who gets it on at least one of its channels is included.
    """
    if not mailing.to_members:
        return ["This mailing is for stakeholder contacts only, not members"]
    if not mailing.channels:
        return ["No channel (email, text or letter) is chosen for this mailing yet"]
    status = _status_reason(member)
    if status is not None:
        return [status]
    reasons = _criteria_reasons(mailing, member)
    if reasons:
        return reasons
    per_channel = [channel_reason(member, channel) for channel in mailing.channels]
    if any(reason is None for reason in per_channel):
        return []
    return [reason for reason in per_channel if reason is not None]


def why_not_lookup(
    mailing: Mailing, name: str, *, actor: User, now: datetime
) -> list[tuple[Member, list[str]]]:
    """The members whose name contains ``name``, each with why they would not
    receive ``mailing`` ([] if they would); each member shown is audited as viewed,
    as opening their record is."""
    answers = [(found, why_not(mailing, found)) for found in find_members(name)]
    for found, _ in answers:
        record_event(
            actor,
            "view",
            "member",
            found.id,
            f"shown in the recipients look-up of mailing {mailing.id}",
            now=now,
        )
    return answers


def included_channels(mailing: Mailing, member: Member) -> list[ContactChannel]:
    """The channels on which ``member`` would receive ``mailing``."""
    if (
        not mailing.to_members
        or _status_reason(member)
        or _criteria_reasons(mailing, member)
    ):
        return []
    return [c for c in mailing.channels if channel_reason(member, c) is None]


# Recording the recipients ------------------------------------------------------------


def prepare(mailing: Mailing, now: datetime) -> int:
    """Record one pending recipient per person and channel; how many were added.

    Members are chosen in chunks of ids, each written by one INSERT ... SELECT, so
    no member is loaded into memory; a re-run adds only those not yet recorded.
    """
    selection = selection_of(mailing)
    added = 0
    table = MailingRecipient.__table__
    columns = [
        "mailing_id",
        "channel",
        "member_id",
        "address",
        "status",
        "attempts",
        "outcome",
    ]
    if _member_channels(selection):
        low, high = db.session.execute(
            select(func.min(Member.id), func.max(Member.id))
        ).one()
        for channel in _member_channels(selection):
            if low is None:
                break
            address: ColumnElement[str | None] | None = (
                None if channel is ContactChannel.POST else _address(channel)
            )
            for start in range(low, high + 1, CHUNK):
                members, why = member_reasons(channel, low=start, high=start + CHUNK)
                chosen = (
                    select(
                        literal(mailing.id),
                        literal(channel.value),
                        Member.id,
                        address if address is not None else null(),
                        literal(RecipientStatus.PENDING.value),
                        literal(0),
                        literal(""),
                    )
                    .select_from(members)
                    .where(
                        Member.id >= start,
                        Member.id < start + CHUNK,
                        *criteria(selection),
                        why.is_(None),
                        # NOT IN a bounded list: a hashed look-up whatever the
                        # planner's statistics say (a re-run adds nothing twice).
                        Member.id.not_in(
                            select(table.c.member_id).where(
                                table.c.mailing_id == mailing.id,
                                table.c.channel == channel.value,
                                table.c.member_id >= start,
                                table.c.member_id < start + CHUNK,
                            )
                        ),
                    )
                )
                result = db.session.execute(
                    insert(table).from_select(columns, chosen).returning(table.c.id)
                )
                added += len(result.all())
    if wants_contacts(selection):
        contact_address, reason = contact_rows(selection)
        already = exists().where(
            table.c.mailing_id == mailing.id,
            table.c.channel == ContactChannel.EMAIL.value,
            or_(
                table.c.contact_id == AudienceContact.id,
                table.c.address == contact_address,
            ),
        )
        chosen = select(
            literal(mailing.id),
            literal(ContactChannel.EMAIL.value),
            AudienceContact.id,
            contact_address,
            literal(RecipientStatus.PENDING.value),
            literal(0),
            literal(""),
        ).where(contacts_of(selection), reason.is_(None), ~already)
        contact_columns = ["contact_id" if c == "member_id" else c for c in columns]
        result = db.session.execute(
            insert(table).from_select(contact_columns, chosen).returning(table.c.id)
        )
        added += len(result.all())
    if mailing.prepared_at is None:
        mailing.prepared_at = now
    db.session.flush()
    return added
