"""Which messages about involvement activities are due, to whom, and recording each.

The send-involvement job (jobs/involvement.py) is the edge: it asks for a batch of
one kind of message on one channel, re-checks consent and the do-not-send list for
the batch (the same SQL as mailings), claims each message and commits the claim
before handing it over (so it is sent at most once), then records the outcome.

What is due:

- an invitation not yet sent, to a session not called off and not started;
- a reminder 7 days and 1 day before a session, to those coming or who said maybe
  (a late one is still sent once if the session has not started; once the day
  reminder is due the week one is not sent as well — the day one stands for both);
- "a place has come free and it is yours", to someone given a freed place and not
  yet told;
- a change, to everyone who replied, when the session's time or place changed
  after they were sent the invitation or last told;
- a cancellation (of the session or the whole activity), to everyone sent an
  invitation, whether they replied or not.

Letters are not sent by the job: the letters page lists those due for printing
(reminders are not sent by letter: they would arrive too late). Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy import and_
from sqlalchemy import case
from sqlalchemy import func
from sqlalchemy import literal
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import selectinload

from engage.db import UTCDateTime
from engage.extensions import db
from engage.involvement.messages import Notice
from engage.involvement.models import InvolvementActivity
from engage.involvement.models import InvolvementInvitation
from engage.involvement.models import InvolvementSession
from engage.involvement.models import Reply
from engage.involvement.models import SendStatus
from engage.mailings import recipients
from engage.mailings.addresses import find_suppression
from engage.mailings.models import Suppression
from engage.membership.models import ContactChannel
from engage.membership.models import Member

I = InvolvementInvitation  # noqa: E741 - the one table every query here reads
S = InvolvementSession
A = InvolvementActivity

WEEK = timedelta(days=7)
DAY = timedelta(days=1)
#: The messages that go by letter (printed), the rest only by email and text.
BY_LETTER = (Notice.CANCELLATION, Notice.CHANGE, Notice.PLACE, Notice.INVITATION)

_cancelled_moment = func.coalesce(S.cancelled_at, A.cancelled_at)
_not_called_off = and_(S.cancelled_at.is_(None), A.cancelled_at.is_(None))


def _conditions(kind: Notice, now: datetime) -> list[ColumnElement[bool]]:
    """SQL: an invitation is due a message of ``kind`` at ``now``."""
    ahead = S.starts_at > now
    sent = I.send_status == SendStatus.SENT
    if kind is Notice.INVITATION:
        return [I.send_status == SendStatus.PENDING, _not_called_off, ahead]
    if kind is Notice.CANCELLATION:
        return [
            sent,
            ahead,
            _cancelled_moment.is_not(None),
            or_(I.told_of_change_at.is_(None), I.told_of_change_at < _cancelled_moment),
        ]
    if kind is Notice.CHANGE:
        return [
            sent,
            ahead,
            _not_called_off,
            I.reply != Reply.NO_REPLY,
            S.changed_at.is_not(None),
            S.changed_at > func.coalesce(I.told_of_change_at, I.sent_at),
        ]
    if kind is Notice.PLACE:
        return [
            sent,
            ahead,
            _not_called_off,
            I.reply == Reply.ATTENDING,
            I.place_offered_at.is_not(None),
            I.place_told_at.is_(None),
        ]
    coming = I.reply.in_((Reply.ATTENDING, Reply.MAYBE))
    if kind is Notice.REMINDER_WEEK:
        return [
            sent,
            coming,
            _not_called_off,
            I.reminded_week_at.is_(None),
            S.starts_at <= now + WEEK,
            S.starts_at > now + DAY,
        ]
    return [
        sent,
        coming,
        _not_called_off,
        I.reminded_day_at.is_(None),
        S.starts_at <= now + DAY,
        ahead,
    ]


def due(
    kind: Notice,
    channel: ContactChannel,
    now: datetime,
    *,
    size: int,
    after: int = 0,
    activity_id: int | None = None,
) -> list[int]:
    """The ids of the next ``size`` invitations due a message of ``kind`` by
    ``channel`` (ids above ``after``, in order)."""
    query = (
        select(I.id)
        .join(S, S.id == I.session_id)
        .join(A, A.id == S.activity_id)
        .where(I.channel == channel, I.id > after, *_conditions(kind, now))
        .order_by(I.id)
        .limit(size)
    )
    if activity_id is not None:
        query = query.where(S.activity_id == activity_id)
    return list(db.session.scalars(query))


def load(ids: Sequence[int]) -> list[InvolvementInvitation]:
    """The invitations with their session, activity and person, in id order."""
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(I)
            .where(I.id.in_(list(ids)))
            .options(
                selectinload(I.session).selectinload(S.activity),
                selectinload(I.member),
                selectinload(I.contact),
            )
            .order_by(I.id)
        )
    )


# Consent and the do-not-send list ---------------------------------------------------


#: Why nothing may go to a stakeholder contact now (``recipients.contacts_now``).
_CONTACT_WORDS = {
    "no_address": "We have no email address for them",
    "suppressed": "Their email address is on the do-not-send list",
    "member_said_no": "A member with their email address has said no to emails",
}


@dataclass(frozen=True)
class Checked:
    """One invitation after its re-check: the address to use, or why not."""

    invitation_id: int
    address: str | None
    reason: str | None


def recheck(batch: Sequence[InvolvementInvitation]) -> dict[int, Checked]:
    """Each invitation's current address (a member's as it is now), or why nothing
    may go to them now (consent, status, the do-not-send list), by the SQL rule."""
    checked: dict[int, Checked] = {}
    for channel in {item.channel for item in batch}:
        ours = [item for item in batch if item.channel is channel]
        member_ids = [item.member_id for item in ours if item.member_id is not None]
        found: dict[int, str | None] = {}
        if member_ids:
            members, why = recipients.member_reasons(channel)
            found = dict(
                db.session.execute(
                    select(Member.id, why)
                    .select_from(members)
                    .where(Member.id.in_(member_ids))
                ).all()
            )
        contact_ids = [item.contact_id for item in ours if item.contact_id is not None]
        contacts = recipients.contacts_now(contact_ids) if contact_ids else {}
        for item in ours:
            address: str | None = None
            if item.contact_id is not None:
                address, code = contacts.get(item.contact_id, (None, "no_address"))
                if code is not None:
                    checked[item.id] = Checked(item.id, None, _CONTACT_WORDS[code])
                    continue
            elif item.member_id is not None:
                code = found.get(item.member_id, "erased")
                if code is not None:
                    reason = recipients.left_out_words(code, channel)
                    checked[item.id] = Checked(item.id, None, reason)
                    continue
                address = (
                    recipients.member_address(item.member, channel)
                    if item.member is not None
                    else None
                )
            entry: Suppression | None = find_suppression(channel, address)
            if entry is not None:
                reason = recipients.suppression_words(channel, entry)
                checked[item.id] = Checked(item.id, None, reason)
            elif channel is not ContactChannel.POST and not address:
                words = recipients.left_out_words("no_address", channel)
                checked[item.id] = Checked(item.id, None, words)
            else:
                checked[item.id] = Checked(item.id, address, None)
    return checked


def skip(invitation_id: int, reason: str) -> None:
    """An invitation not yet sent that may not be sent now: never sent."""
    db.session.execute(
        update(I)
        .where(I.id == invitation_id, I.send_status == SendStatus.PENDING)
        .values(send_status=SendStatus.SKIPPED, outcome=reason[:300])
        .execution_options(synchronize_session=False)
    )


def skip_unsendable(now: datetime) -> int:
    """Invitations still waiting for sessions called off or started: never sent."""
    stale = select(I.id).join(S, S.id == I.session_id).join(A, A.id == S.activity_id)
    stale = stale.where(
        I.send_status == SendStatus.PENDING,
        or_(~_not_called_off, S.starts_at <= now),
    )
    ids = list(db.session.scalars(stale))
    for invitation_id in ids:
        skip(invitation_id, "The session was cancelled or had begun before it was sent")
    return len(ids)


# Claims and outcomes -----------------------------------------------------------------

_MARK = {
    Notice.REMINDER_WEEK: "reminded_week_at",
    Notice.REMINDER_DAY: "reminded_day_at",
    Notice.PLACE: "place_told_at",
    Notice.CHANGE: "told_of_change_at",
    Notice.CANCELLATION: "told_of_change_at",
}


def claim(
    kind: Notice,
    invitation_id: int,
    now: datetime,
    *,
    address: str | None,
    provider_ref: str | None = None,
) -> bool:
    """Take a message for its hand-off (recorded as sent; the edge commits this
    before the hand-off, so it is never sent twice); False if it is no longer due."""
    conditions = [I.id == invitation_id]
    values: dict[str, Any] = {}
    if kind is Notice.INVITATION:
        conditions.append(I.send_status == SendStatus.PENDING)
        values = {
            "send_status": SendStatus.SENT,
            "sent_at": now,
            "outcome": "Handed over; not yet confirmed",
            "provider_ref": provider_ref,
        }
        if address is not None:
            values["address"] = address[:254]
    else:
        column = getattr(I, _MARK[kind])
        if kind in (Notice.CHANGE, Notice.CANCELLATION):
            moment = (
                select(S.changed_at if kind is Notice.CHANGE else _cancelled_moment)
                .join(A, A.id == S.activity_id)
                .where(S.id == I.session_id)
            )
            changed = moment.scalar_subquery()
            conditions.append(or_(column.is_(None), column < changed))
            # Told as of the change itself at least (a clock a little behind the
            # web process's must not make it due again).
            told = literal(now, UTCDateTime())
            values = {_MARK[kind]: case((changed > told, changed), else_=told)}
        else:
            conditions.append(column.is_(None))
            values = {_MARK[kind]: now}
        if kind is Notice.REMINDER_DAY:
            # The day reminder stands for a week one not sent in time.
            values["reminded_week_at"] = func.coalesce(I.reminded_week_at, now)
    result = db.session.execute(
        update(I)
        .where(*conditions)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1


def mark_sent(kind: Notice, invitation_id: int, provider_ref: str) -> None:
    """The mail server or Notify accepted it."""
    if kind is Notice.INVITATION:
        db.session.execute(
            update(I)
            .where(I.id == invitation_id)
            .values(provider_ref=provider_ref[:100], outcome="")
            .execution_options(synchronize_session=False)
        )


def mark_failed(
    kind: Notice, invitation_id: int, reason: str, *, how: str, was: Any = None
) -> None:
    """Record a failed hand-off. ``how``: "unavailable" (nothing was taken: it is
    due again; ``was`` is the mark's value before the claim), "unknown" (it may
    have gone: left as sent, never tried again) or "failed" (refused)."""
    values: dict[str, Any]
    if kind is Notice.INVITATION:
        values = {"outcome": reason[:300]}
        if how == "unavailable":
            values.update(send_status=SendStatus.PENDING, sent_at=None)
        elif how == "failed":
            values["send_status"] = SendStatus.FAILED
    else:
        values = {"outcome": f"{kind.label}: {reason}"[:300]}
        if how == "unavailable":
            values[_MARK[kind]] = was
    db.session.execute(
        update(I)
        .where(I.id == invitation_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def mark_value(kind: Notice, invitation: InvolvementInvitation) -> Any:
    """The claim's column as it was (to put back if nothing was handed over)."""
    return None if kind is Notice.INVITATION else getattr(invitation, _MARK[kind])
