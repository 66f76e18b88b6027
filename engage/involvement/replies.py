"""Replies to invitations, the waiting list for full sessions, and support requests.

A session has ``activity.capacity`` places (None: no limit). Saying "coming" takes a
place if one is free; when every place is taken the person goes on the waiting list
(reply WAITING, ``waiting_since``). Whoever gives up a place (says "not coming" or
"maybe") frees it, and the first on the list, by ``waiting_since`` then id, is
given it (reply ATTENDING, ``place_offered_at``; the sender tells them and sets
``place_told_at``). Staff who raise the capacity call :func:`fill_freed_places`.

Each change locks the session's row first (``SELECT … FOR UPDATE`` on PostgreSQL;
SQLite lets one writer in at a time), so two replies at once never give more places
than there are. Services here never commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from datetime import timedelta

from sqlalchemy import func
from sqlalchemy import select

from engage.audit.services import PUBLIC
from engage.audit.services import record_event
from engage.db import begin_write
from engage.errors import ValidationError
from engage.extensions import db
from engage.involvement.models import ActivityStatus
from engage.involvement.models import InvolvementInvitation
from engage.involvement.models import InvolvementSession
from engage.involvement.models import Reply
from engage.membership.models import MemberStatus
from engage.membership.models import MemberSupportNeed
from engage.membership.models import SupportNeed

#: The answers a person may give (WAITING and NO_REPLY are Engage's to set).
ANSWERS = (Reply.ATTENDING, Reply.MAYBE, Reply.NOT_ATTENDING)
#: The longest a support request may be, in the person's words.
SUPPORT_WORDS_MAX = 300

CANCELLED = "This session has been cancelled, so replies are closed."
STARTED = "This session has already started, so replies are closed."
HELD = "This session has taken place, so replies are closed."


class RepliesClosed(ValidationError):
    """The session is cancelled or has started: no more replies or requests."""


def usable(invitation: InvolvementInvitation | None) -> InvolvementInvitation | None:
    """The invitation if its private link still works, else None.

    A member who has left the scheme or been erased, or whose record is gone, has
    no working link: their pages answer as any unknown address does.
    """
    if invitation is None:
        return None
    if invitation.member_id is not None:
        member = invitation.member
        if member is None or member.status not in (
            MemberStatus.ACTIVE,
            MemberStatus.PENDING,
        ):
            return None
        if member.erased_at is not None or member.withdrawn_at is not None:
            return None
    elif invitation.contact is None:
        return None
    return invitation


def is_cancelled(session: InvolvementSession) -> bool:
    """Whether ``session``, or its whole activity, has been cancelled."""
    return (
        session.cancelled_at is not None
        or session.activity.status == ActivityStatus.CANCELLED
    )


def closed_reason(session: InvolvementSession, now: datetime) -> str | None:
    """Why replies to ``session`` are closed, in words, or None while they are open."""
    if is_cancelled(session):
        return CANCELLED
    if session.starts_at <= now:
        ends = session.starts_at + timedelta(minutes=session.activity.duration_minutes)
        return HELD if ends <= now else STARTED
    return None


def _lock(session_id: int) -> InvolvementSession:
    """The session, its row locked until the transaction ends (see the module)."""
    begin_write(db.session())
    db.session.flush()
    locked: InvolvementSession | None = db.session.scalar(
        select(InvolvementSession)
        .where(InvolvementSession.id == session_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if locked is None:  # pragma: no cover - deleted between the link and the lock
        raise ValidationError("This session no longer exists.")
    return locked


def attending_count(session: InvolvementSession) -> int:
    """How many places at ``session`` are taken (people who said they are coming)."""
    return int(
        db.session.scalar(
            select(func.count())
            .select_from(InvolvementInvitation)
            .where(
                InvolvementInvitation.session_id == session.id,
                InvolvementInvitation.reply == Reply.ATTENDING,
            )
        )
        or 0
    )


def places_left(session: InvolvementSession) -> int | None:
    """Free places at ``session`` (None: no limit)."""
    capacity = session.activity.capacity
    if capacity is None:
        return None
    return max(capacity - attending_count(session), 0)


def waiting_list(session: InvolvementSession) -> list[InvolvementInvitation]:
    """Who is waiting for a place at ``session``, first in line first."""
    return list(
        db.session.scalars(
            select(InvolvementInvitation)
            .where(
                InvolvementInvitation.session_id == session.id,
                InvolvementInvitation.reply == Reply.WAITING,
            )
            .order_by(
                InvolvementInvitation.waiting_since.asc(),
                InvolvementInvitation.id.asc(),
            )
            .execution_options(populate_existing=True)
        )
    )


def waiting_position(invitation: InvolvementInvitation) -> int | None:
    """Where ``invitation`` is on its session's waiting list (1 = next), or None."""
    if invitation.reply != Reply.WAITING:
        return None
    for position, waiting in enumerate(waiting_list(invitation.session), start=1):
        if waiting.id == invitation.id:
            return position
    return None  # pragma: no cover - the reply says it is waiting


def _fill(session: InvolvementSession, now: datetime) -> list[InvolvementInvitation]:
    """Give free places to the waiting list in order (the session already locked)."""
    if closed_reason(session, now) is not None:
        return []
    free = places_left(session)
    waiting = waiting_list(session)
    given = waiting if free is None else waiting[:free]
    for invitation in given:
        invitation.reply = Reply.ATTENDING
        invitation.place_offered_at = now
        invitation.place_told_at = None
    db.session.flush()
    return given


def fill_freed_places(
    session: InvolvementSession, now: datetime
) -> list[InvolvementInvitation]:
    """Give ``session``'s free places to those waiting, in order; return those given.

    Call it after raising an activity's capacity (for each of its sessions). Each
    one given a place has ``place_offered_at`` set and ``place_told_at`` cleared, for
    the sender to tell them. A cancelled or started session gives no places.
    """
    return _fill(_lock(session.id), now)


def give_up_places(member_id: int, now: datetime) -> None:
    """A member who leaves the scheme gives up their places, and their places in
    line, at sessions to come; the places go to those waiting, in order."""
    held = db.session.scalars(
        select(InvolvementInvitation)
        .join(InvolvementSession)
        .where(
            InvolvementInvitation.member_id == member_id,
            InvolvementInvitation.reply.in_((Reply.ATTENDING, Reply.WAITING)),
            InvolvementSession.starts_at > now,
        )
    ).all()
    for invitation in held:
        session = _lock(invitation.session_id)
        invitation.reply = Reply.NOT_ATTENDING
        db.session.flush()
        _fill(session, now)


def reply(
    invitation: InvolvementInvitation, answer: Reply, now: datetime
) -> InvolvementInvitation:
    """Record ``answer`` to ``invitation``; return it with the reply Engage gave.

    "Coming" to a full session puts the person on the waiting list (keeping their
    place in it if they were already there). Giving up a place frees it for the
    first person waiting. Raises :class:`RepliesClosed` for a cancelled or started
    session, ValidationError for an answer people cannot give.
    """
    if answer not in ANSWERS:
        raise ValidationError("Select whether you are coming")
    session = _lock(invitation.session_id)
    reason = closed_reason(session, now)
    if reason is not None:
        raise RepliesClosed(reason)
    db.session.refresh(invitation)  # its reply as now committed, under the lock
    # First make sure no place is free while someone waits, so that a new "coming"
    # never jumps the queue.
    _fill(session, now)
    previous = invitation.reply
    invitation.replied_at = now
    if answer == Reply.ATTENDING:
        if previous in (Reply.ATTENDING, Reply.WAITING):
            db.session.flush()
            return invitation
        if places_left(session) == 0:
            invitation.reply = Reply.WAITING
            invitation.waiting_since = now
        else:
            invitation.reply = Reply.ATTENDING
        db.session.flush()
        return invitation
    invitation.reply = answer
    if previous == Reply.ATTENDING:
        # Their place, offered from the waiting list or not, is given up.
        invitation.place_offered_at = None
        invitation.place_told_at = None
    db.session.flush()
    if previous == Reply.ATTENDING:
        _fill(session, now)
    return invitation


def _needs_words(needs: Iterable[SupportNeed]) -> str:
    return ", ".join(need.label for need in needs)


def request_support(
    invitation: InvolvementInvitation,
    needs: list[SupportNeed],
    words: str,
    now: datetime,
) -> InvolvementInvitation:
    """Record the support someone asks for at a session, and remember their needs.

    The request (the needs ticked and their own words) replaces any earlier one on
    the invitation. A member's Accessible Information Standard needs gain the ones
    ticked (never duplicated, never removed here); a contact has no such record, so
    theirs stays on the invitation.
    """
    words = (words or "").strip()
    chosen = list(dict.fromkeys(SupportNeed(need) for need in needs))
    if not chosen and not words:
        raise ValidationError("Select the support you need, or tell us in the box")
    if len(words) > SUPPORT_WORDS_MAX:
        raise ValidationError(
            f"What you need must be {SUPPORT_WORDS_MAX} characters or fewer"
        )
    session = invitation.session
    reason = closed_reason(session, now)
    if reason is not None:
        raise RepliesClosed(reason)
    listed = _needs_words(chosen)
    text = ". ".join(part for part in (listed, words) if part)
    invitation.support_request = text[:500]
    added = 0
    member = invitation.member if invitation.member_id is not None else None
    if member is not None:
        have = {n.need for n in member.support_needs}
        for need in chosen:
            if need not in have:
                member.support_needs.append(
                    MemberSupportNeed(member_id=member.id, need=need)
                )
                added += 1
    db.session.flush()
    summary = (
        f"Support asked for through the private link: {len(chosen)} kind(s) ticked"
    )
    if member is not None:
        summary += f", {added} new to the member's communication needs"
    record_event(
        PUBLIC,
        "support_request",
        "involvement_invitation",
        invitation.id,
        summary,
        now=now,
    )
    return invitation
