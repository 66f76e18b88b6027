"""Sending a mailing: scheduling, starting, pausing, and each copy's claim and outcome.

Services only (nothing here commits): the send-mailings job (jobs/mailings.py) is the
edge that claims each copy and commits the claim before handing it over, then
records the outcome, so a sender killed mid-send leaves the copy marked "handed
over, outcome not known" and it is never sent again by itself (at most once).
Letters are recorded with the rest but printed, not sent, so they are left alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from flask import current_app
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update

from engage.accounts.models import User
from engage.audit.services import record_event
from engage.errors import Conflict
from engage.errors import ValidationError
from engage.extensions import db
from engage.mailings import links
from engage.mailings import recipients
from engage.mailings import reconcile
from engage.mailings import tracking
from engage.mailings import transports
from engage.mailings.compose import RenderedEmail
from engage.mailings.compose import render_email
from engage.mailings.measurement import record_delivery
from engage.mailings.models import Mailing
from engage.mailings.models import MailingRecipient
from engage.mailings.models import MailingStatus
from engage.mailings.models import RecipientStatus
from engage.mailings.models import Suppression
from engage.membership.models import ContactChannel
from engage.membership.models import Member
from engage.organisation.services import mailing_tracking_on
from engage.templating import format_datetime

#: The channels sent by the job (letters are printed).
SENT_CHANNELS = (ContactChannel.EMAIL, ContactChannel.SMS)
#: Copies that were handed over (whatever happened after).
HANDED_OVER = (RecipientStatus.SENT, RecipientStatus.DELIVERED, RecipientStatus.BOUNCED)


def _sent_channels(mailing: Mailing) -> list[ContactChannel]:
    return [c for c in mailing.channels if c in SENT_CHANNELS]


def _require(mailing: Mailing, *allowed: MailingStatus, doing: str) -> None:
    if mailing.status not in allowed:
        raise Conflict(
            f"This mailing is {mailing.status.label.lower()}, so it cannot be {doing}."
        )


def _move(
    mailing: Mailing,
    allowed: tuple[MailingStatus, ...],
    to: MailingStatus,
    *,
    doing: str,
    **values: object,
) -> None:
    """Change the mailing's status only if it is still in ``allowed`` in the database.

    The web process and the send-mailings job both change a mailing's status: the
    conditional UPDATE means a cancel or pause made meanwhile is never overwritten.
    """
    _require(mailing, *allowed, doing=doing)
    result = db.session.execute(
        update(Mailing)
        .where(Mailing.id == mailing.id, Mailing.status.in_(allowed))
        .values(status=to, **values)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(mailing)
    if int(getattr(result, "rowcount", 0) or 0) != 1:
        raise Conflict(
            f"This mailing changed while you were looking, so it cannot be {doing}. "
            "Look at it again."
        )


def _check_ready(mailing: Mailing) -> None:
    if not mailing.channels:
        raise ValidationError("Choose at least one channel: email, text or letter.")
    if not mailing.subject.strip():
        raise ValidationError("Give the mailing a subject.")
    if any(ord(ch) < 32 for ch in mailing.subject):
        raise ValidationError("The subject must be one line: edit it before sending.")
    if mailing.by_sms and not mailing.sms_text.strip():
        raise ValidationError("Write the text message before sending by text.")
    for channel in _sent_channels(mailing):
        problem = transports.missing_setup(channel)
        if problem is not None:
            raise Conflict(f"{channel.message.capitalize()}s cannot be sent: {problem}")


# Scheduling, starting, pausing -------------------------------------------------------


def time_problem(when: datetime, *, now: datetime) -> str | None:
    """What is wrong with ``when`` as the time to send a mailing (None: nothing)."""
    return "Choose a time in the future." if when <= now else None


def schedule(mailing: Mailing, when: datetime, *, actor: User, now: datetime) -> None:
    """Send ``mailing`` at ``when`` (the send-mailings job starts it)."""
    _require(mailing, MailingStatus.DRAFT, MailingStatus.SCHEDULED, doing="scheduled")
    problem = time_problem(when, now=now)
    if problem:
        raise ValidationError(problem)
    _check_ready(mailing)
    _move(
        mailing,
        (MailingStatus.DRAFT, MailingStatus.SCHEDULED),
        MailingStatus.SCHEDULED,
        doing="scheduled",
        scheduled_for=when,
    )
    record_event(
        actor,
        "schedule_mailing",
        "mailing",
        mailing.id,
        "for " + format_datetime(when),
        now=now,
    )


def _start(
    mailing: Mailing, now: datetime, *, allowed: tuple[MailingStatus, ...]
) -> int:
    # The organisation's choice when the send begins holds for the whole mailing.
    tracking_on = mailing_tracking_on()
    _move(
        mailing,
        allowed,
        MailingStatus.SENDING,
        doing="sent",
        tracking=tracking_on,
        started_at=mailing.started_at or now,
    )
    if tracking_on:
        tracking.record_links(mailing)
    return recipients.prepare(mailing, now)


def send_now(mailing: Mailing, *, actor: User, now: datetime) -> int:
    """Start sending ``mailing`` now: record its recipients; the job sends the batches.

    Returns how many copies were recorded.
    """
    _require(mailing, MailingStatus.DRAFT, MailingStatus.SCHEDULED, doing="sent now")
    _check_ready(mailing)
    added = _start(mailing, now, allowed=(MailingStatus.DRAFT, MailingStatus.SCHEDULED))
    record_event(
        actor, "send_mailing", "mailing", mailing.id, f"{added} copies", now=now
    )
    return added


def start_due(now: datetime) -> int:
    """Start every scheduled mailing whose time has come; how many were started."""
    due = db.session.scalars(
        select(Mailing)
        .where(Mailing.status == MailingStatus.SCHEDULED, Mailing.scheduled_for <= now)
        .order_by(Mailing.scheduled_for, Mailing.id)
    ).all()
    started = 0
    for mailing in due:
        try:
            added = _start(mailing, now, allowed=(MailingStatus.SCHEDULED,))
        except Conflict:
            continue  # cancelled or changed meanwhile
        started += 1
        record_event(
            "system", "send_mailing", "mailing", mailing.id, f"{added} copies", now=now
        )
    return started


def pause(mailing: Mailing, *, actor: User, now: datetime) -> None:
    """Stop sending after the batch in hand; ``resume`` goes on."""
    _move(mailing, (MailingStatus.SENDING,), MailingStatus.PAUSED, doing="paused")
    record_event(actor, "pause_mailing", "mailing", mailing.id, now=now)


def resume(mailing: Mailing, *, actor: User, now: datetime) -> None:
    """Go on sending a paused mailing."""
    _require(mailing, MailingStatus.PAUSED, doing="resumed")
    _check_ready(mailing)
    _move(mailing, (MailingStatus.PAUSED,), MailingStatus.SENDING, doing="resumed")
    record_event(actor, "resume_mailing", "mailing", mailing.id, now=now)


def cancel(mailing: Mailing, *, actor: User, now: datetime) -> int:
    """Cancel a scheduled, sending or paused mailing; copies not yet sent never are.

    Returns how many waiting copies were cancelled.
    """
    _move(
        mailing,
        (MailingStatus.SCHEDULED, MailingStatus.SENDING, MailingStatus.PAUSED),
        MailingStatus.CANCELLED,
        doing="cancelled",
        finished_at=now,
    )
    result = db.session.execute(
        update(MailingRecipient)
        .where(
            MailingRecipient.mailing_id == mailing.id,
            MailingRecipient.status == RecipientStatus.PENDING,
        )
        .values(
            status=RecipientStatus.SKIPPED,
            outcome="The mailing was cancelled before this was sent",
            outcome_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    dropped = int(getattr(result, "rowcount", 0) or 0)
    record_event(
        actor, "cancel_mailing", "mailing", mailing.id, f"{dropped} not sent", now=now
    )
    return dropped


def sending_mailings() -> list[int]:
    """The ids of mailings being sent, oldest start first."""
    return list(
        db.session.scalars(
            select(Mailing.id)
            .where(Mailing.status == MailingStatus.SENDING)
            .order_by(Mailing.started_at, Mailing.id)
        )
    )


# Batches -----------------------------------------------------------------------------


def _skip(recipient_id: int, reason: str, now: datetime) -> None:
    db.session.execute(
        update(MailingRecipient)
        .where(
            MailingRecipient.id == recipient_id,
            MailingRecipient.status == RecipientStatus.PENDING,
        )
        .values(status=RecipientStatus.SKIPPED, outcome=reason[:300], outcome_at=now)
        .execution_options(synchronize_session=False)
    )


def _readdress(
    rows: list[Any], channel: ContactChannel, *, skipped: set[int]
) -> list[Any]:
    """``rows`` with each member who changed their address since the send began
    sent to the new one (updated on the copy too, so the checks after judge it)."""
    member_ids = [
        row.member_id
        for row in rows
        if row.member_id is not None and row.id not in skipped
    ]
    if not member_ids:
        return rows
    current = {
        member.id: recipients.member_address(member, channel)
        for member in db.session.scalars(
            select(Member).where(Member.id.in_(member_ids))
        )
    }
    updated = []
    for row in rows:
        address = current.get(row.member_id)
        if row.id not in skipped and address and address != row.address:
            db.session.execute(
                update(MailingRecipient)
                .where(
                    MailingRecipient.id == row.id,
                    MailingRecipient.status == RecipientStatus.PENDING,
                )
                .values(address=address)
                .execution_options(synchronize_session=False)
            )
            row = SimpleNamespace(**{**row._asdict(), "address": address})
        updated.append(row)
    return updated


def recheck(recipient_ids: Iterable[int], now: datetime) -> int:
    """Skip waiting copies no longer allowed (consent withdrawn, address suppressed,
    member withdrawn) with the reason in plain words; how many were skipped."""
    rows = db.session.execute(
        select(
            MailingRecipient.id,
            MailingRecipient.channel,
            MailingRecipient.member_id,
            MailingRecipient.address,
        ).where(
            MailingRecipient.id.in_(list(recipient_ids)),
            MailingRecipient.status == RecipientStatus.PENDING,
        )
    ).all()
    reasons: dict[int, str] = {}
    for channel in {row.channel for row in rows}:
        ours = [row for row in rows if row.channel == channel]
        member_ids = [row.member_id for row in ours if row.member_id is not None]
        if member_ids:
            members, why = recipients.member_reasons(channel)
            found = dict(
                db.session.execute(
                    select(Member.id, why)
                    .select_from(members)
                    .where(Member.id.in_(member_ids))
                ).all()
            )
            for row in ours:
                if row.member_id is None:
                    continue
                code = found.get(row.member_id, "erased")
                if code is not None:
                    reasons[row.id] = recipients.left_out_words(code, channel)
            ours = _readdress(ours, channel, skipped=set(reasons))
        addresses = {row.address for row in ours if row.address}
        if addresses:
            blocked = {
                entry.address: entry
                for entry in db.session.scalars(
                    select(Suppression).where(
                        Suppression.channel == channel,
                        Suppression.address.in_(addresses),
                    )
                )
            }
            for row in ours:
                entry = blocked.get(row.address or "")
                if entry is not None and row.id not in reasons:
                    reasons[row.id] = recipients.suppression_words(channel, entry)
    for recipient_id, reason in reasons.items():
        _skip(recipient_id, reason, now)
    return len(reasons)


def next_batch(mailing: Mailing, *, size: int, now: datetime) -> list[int]:
    """The next waiting copies to send (re-checked first), fewest attempts first."""
    candidates = list(
        db.session.scalars(
            select(MailingRecipient.id)
            .where(
                MailingRecipient.mailing_id == mailing.id,
                MailingRecipient.status == RecipientStatus.PENDING,
                MailingRecipient.channel.in_(SENT_CHANNELS),
                or_(
                    MailingRecipient.retry_after.is_(None),
                    MailingRecipient.retry_after <= now,
                ),
            )
            .order_by(MailingRecipient.attempts, MailingRecipient.id)
            .limit(size)
        )
    )
    if not candidates:
        return []
    recheck(candidates, now)
    return list(
        db.session.scalars(
            select(MailingRecipient.id)
            .where(
                MailingRecipient.id.in_(candidates),
                MailingRecipient.status == RecipientStatus.PENDING,
            )
            .order_by(MailingRecipient.attempts, MailingRecipient.id)
        )
    )


def claim(recipient_id: int, now: datetime, *, provider_ref: str | None = None) -> bool:
    """Take a waiting copy for its hand-off; False if it is not waiting any more.

    The edge commits the claim before the hand-off.
    """
    values: dict[str, object] = {
        "status": RecipientStatus.SENDING,
        "claimed_at": now,
        "attempts": MailingRecipient.attempts + 1,
    }
    if provider_ref is not None:
        values["provider_ref"] = provider_ref
    result = db.session.execute(
        update(MailingRecipient)
        .where(
            MailingRecipient.id == recipient_id,
            MailingRecipient.status == RecipientStatus.PENDING,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1


def _settle(recipient_id: int, **values: object) -> None:
    db.session.execute(
        update(MailingRecipient)
        .where(
            MailingRecipient.id == recipient_id,
            MailingRecipient.status == RecipientStatus.SENDING,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def mark_sent(recipient_id: int, provider_ref: str, now: datetime) -> None:
    """The copy was accepted by the mail server or Notify."""
    _settle(
        recipient_id,
        status=RecipientStatus.SENT,
        provider_ref=provider_ref[:100],
        sent_at=now,
        outcome="",
    )


#: How long a copy refused for now waits before each further try.
RETRY_WAITS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15))
#: How long a run waits before trying an unavailable mail server or Notify again.
PROVIDER_WAIT = timedelta(minutes=1)


def mark_failed(recipient_id: int, error: transports.SendError, now: datetime) -> str:
    """Record a failed hand-off; what became of the copy: "unknown" (left as handed
    over), "unavailable" (the provider took nothing: waits, its try not counted),
    "retry" (waits, then is tried again) or "failed"."""
    if isinstance(error, transports.OutcomeUnknown):
        # Left as handed over: it may have gone, so it is never sent again.
        _settle(recipient_id, outcome=error.reason)
        return "unknown"
    if isinstance(error, transports.ProviderUnavailable):
        _settle(
            recipient_id,
            status=RecipientStatus.PENDING,
            attempts=MailingRecipient.attempts - 1,
            retry_after=now + PROVIDER_WAIT,
            outcome=error.reason,
        )
        return "unavailable"
    attempts = (
        db.session.scalar(
            select(MailingRecipient.attempts).where(MailingRecipient.id == recipient_id)
        )
        or 0
    )
    limit = int(current_app.config["MAILING_MAX_ATTEMPTS"])
    if isinstance(error, transports.TemporaryFailure) and attempts < limit:
        wait = RETRY_WAITS[min(attempts, len(RETRY_WAITS)) - 1]
        _settle(
            recipient_id,
            status=RecipientStatus.PENDING,
            retry_after=now + wait,
            outcome=error.reason,
        )
        return "retry"
    _settle(
        recipient_id,
        status=RecipientStatus.FAILED,
        outcome=error.reason,
        outcome_at=now,
    )
    return "failed"


def finish_if_done(mailing: Mailing, now: datetime) -> bool:
    """Mark ``mailing`` sent once no email or text is waiting (nor any copy handed to
    Notify still to be looked up); True if it is."""
    waiting = db.session.scalar(
        select(func.count())
        .select_from(MailingRecipient)
        .where(
            MailingRecipient.mailing_id == mailing.id,
            MailingRecipient.status == RecipientStatus.PENDING,
            MailingRecipient.channel.in_(SENT_CHANNELS),
        )
    )
    if waiting or mailing.status is not MailingStatus.SENDING:
        return False
    if reconcile.awaiting_lookup(mailing.id, now):
        return False  # copies handed to Notify are still to be looked up
    try:
        _move(
            mailing,
            (MailingStatus.SENDING,),
            MailingStatus.SENT,
            doing="finished",
            finished_at=now,
        )
    except Conflict:
        return False  # paused or cancelled meanwhile
    record_event("system", "mailing_sent", "mailing", mailing.id, now=now)
    _finished(mailing, now)
    return True


def _finished(mailing: Mailing, now: datetime) -> None:
    """A mailing has just been sent: log its delivery on the plan's action."""
    record_delivery(mailing, now=now)


# Each copy ---------------------------------------------------------------------------


def sms_text(mailing: Mailing, unsubscribe_url: str) -> str:
    """The text message: the mailing's words, its web copy and how to unsubscribe."""
    parts = [mailing.sms_text.strip()]
    if mailing.published_at is not None and mailing.archive_slug:
        parts.append(f"Read it online: {links.web_copy_url(mailing.archive_slug)}")
    parts.append(f"To stop these texts: {unsubscribe_url}")
    return "\n\n".join(parts)


#: Stands in for each person's unsubscribe link in a mailing's shared rendering.
_UNSUBSCRIBE_HOLE = "https://engage.invalid/unsubscribe-link"


def shared_rendering(mailing: Mailing) -> RenderedEmail | None:
    """The email of a mailing sent without tracking, rendered once for a batch:
    people's copies differ only by their unsubscribe link (None with tracking on)."""
    if mailing.tracking:
        return None
    return render_email(mailing, unsubscribe_url=_UNSUBSCRIBE_HOLE)


def outgoing(
    mailing: Mailing,
    recipient: MailingRecipient,
    *,
    message_id: str,
    shared: RenderedEmail | None = None,
) -> transports.OutgoingEmail | transports.OutgoingText:
    """One person's copy, written out for its hand-off (from ``shared_rendering``'s
    email when given)."""
    unsubscribe = links.unsubscribe_url(recipient.id)
    address = recipient.address or ""
    if recipient.channel is ContactChannel.SMS:
        return transports.OutgoingText(
            recipient_id=recipient.id,
            phone=address,
            text=sms_text(mailing, unsubscribe),
        )
    if mailing.tracking:
        rendered = render_email(
            mailing,
            unsubscribe_url=unsubscribe,
            link_for=tracking.link_for(mailing, recipient.id),
            open_pixel_url=links.open_pixel_url(recipient.id),
        )
    elif shared is not None:
        rendered = RenderedEmail(
            subject=shared.subject,
            html=shared.html.replace(_UNSUBSCRIBE_HOLE, unsubscribe),
            text=shared.text.replace(_UNSUBSCRIBE_HOLE, unsubscribe),
        )
    else:
        rendered = render_email(mailing, unsubscribe_url=unsubscribe)
    return transports.OutgoingEmail(
        recipient_id=recipient.id,
        address=address,
        subject=rendered.subject,
        html=rendered.html,
        text=rendered.text,
        unsubscribe_url=unsubscribe,
        message_id=message_id,
    )


# Progress ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    """How far a mailing's emails and texts have got (letters counted apart)."""

    total: int
    sent: int
    waiting: int
    unknown: int
    failed: int
    skipped: int
    letters: int

    @property
    def done(self) -> int:
        return self.sent + self.unknown + self.failed + self.skipped

    @property
    def percent(self) -> int:
        return 100 if not self.total else int(100 * self.done / self.total)


def progress(mailing: Mailing) -> Progress:
    """Counts of a mailing's copies by what became of them."""
    rows = db.session.execute(
        select(MailingRecipient.channel, MailingRecipient.status, func.count())
        .where(MailingRecipient.mailing_id == mailing.id)
        .group_by(MailingRecipient.channel, MailingRecipient.status)
    ).all()
    by_status: dict[RecipientStatus, int] = {}
    letters = 0
    for channel, status, number in rows:
        if channel is ContactChannel.POST:
            letters += number
        else:
            by_status[status] = by_status.get(status, 0) + number
    return Progress(
        total=sum(by_status.values()),
        sent=sum(by_status.get(s, 0) for s in HANDED_OVER),
        waiting=by_status.get(RecipientStatus.PENDING, 0),
        unknown=by_status.get(RecipientStatus.SENDING, 0),
        failed=by_status.get(RecipientStatus.FAILED, 0),
        skipped=by_status.get(RecipientStatus.SKIPPED, 0),
        letters=letters,
    )
