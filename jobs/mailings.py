"""The send-mailings job: an edge that commits each copy's claim before its hand-off.

Each run starts the scheduled mailings that are due, then sends the mailings being
sent in throttled batches for up to ``MAILING_RUN_SECONDS``, leaving the rest to
the next run. Each copy is claimed and committed before it is handed to the mail
server or GOV.UK Notify, and its outcome committed after, so a run killed midway
leaves at most the copies in hand marked "handed over, outcome not known": they are
never sent again by themselves, except that copies handed to GOV.UK Notify are
looked up in Notify by their reference before a batch once they are a minute old
(engage.mailings.reconcile): found, they were sent; not found, they are sent.
Consent and suppressions are checked again before each batch, so an unsubscribe
takes effect before the next one.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from datetime import datetime
from typing import TypeVar

from flask import current_app
from sqlalchemy import select

from engage.clock import utcnow
from engage.extensions import db
from engage.mailings import reconcile
from engage.mailings import sending
from engage.mailings import transports
from engage.mailings.compose import RenderedEmail
from engage.mailings.models import Mailing
from engage.mailings.models import MailingRecipient
from engage.mailings.models import MailingStatus
from engage.membership.models import ContactChannel

log = logging.getLogger(__name__)

_Row = TypeVar("_Row", Mailing, MailingRecipient)


class Pacer:
    """Keeps hand-offs to at most ``rate`` a second."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.next_at = time.monotonic()

    def wait(self) -> None:
        now = time.monotonic()
        if self.next_at > now:
            time.sleep(self.next_at - now)
        self.next_at = max(self.next_at, now) + self.interval


def send_mailings(now: datetime) -> dict[str, int]:
    """Start the mailings due, then send batches until the run's time is up."""
    config = current_app.config
    deadline = time.monotonic() + float(config["MAILING_RUN_SECONDS"])
    counts: Counter[str] = Counter()
    counts["started"] = sending.start_due(now)
    db.session.commit()
    pacer = Pacer(float(config["MAILING_RATE"]))
    for mailing_id in sending.sending_mailings():
        db.session.commit()
        counts.update(send_mailing(mailing_id, deadline=deadline, pacer=pacer))
        if time.monotonic() >= deadline or counts["unavailable"]:
            break
    return dict(counts)


def send_mailing(
    mailing_id: int, *, deadline: float, pacer: Pacer | None = None
) -> Counter[str]:
    """Send one mailing's batches until it is done, paused or the time is up."""
    config = current_app.config
    size = max(1, int(config["MAILING_BATCH_SIZE"]))
    pacer = pacer or Pacer(float(config["MAILING_RATE"]))
    counts: Counter[str] = Counter()
    while time.monotonic() < deadline:
        mailing = db.session.get(Mailing, mailing_id)
        if mailing is None or mailing.status is not MailingStatus.SENDING:
            break  # paused or cancelled: stop before the next batch
        counts.update(_look_up_unknown(mailing_id))
        batch = sending.next_batch(mailing, size=size, now=utcnow())
        db.session.commit()
        if not batch:
            if sending.finish_if_done(mailing, utcnow()):
                counts["finished"] += 1
            db.session.commit()
            break
        for channel in (ContactChannel.EMAIL, ContactChannel.SMS):
            ours = list(
                db.session.scalars(
                    select(MailingRecipient.id)
                    .where(
                        MailingRecipient.id.in_(batch),
                        MailingRecipient.channel == channel,
                    )
                    .order_by(MailingRecipient.id)
                )
            )
            db.session.commit()
            if ours:
                counts.update(_send_batch(mailing_id, channel, ours, deadline, pacer))
        if counts["unavailable"]:
            break  # the mail server or Notify takes nothing now: the next run tries
    return counts


def _look_up_unknown(mailing_id: int) -> Counter[str]:
    """Settle copies left "outcome not known" at Notify by asking Notify about them."""
    due = reconcile.due_for_lookup(mailing_id, utcnow())
    db.session.commit()  # no transaction open while Notify is asked
    if not due:
        return Counter()
    counts = reconcile.settle(reconcile.look_up(due), utcnow())
    db.session.commit()
    return counts


def _send_batch(
    mailing_id: int,
    channel: ContactChannel,
    batch: list[int],
    deadline: float,
    pacer: Pacer,
) -> Counter[str]:
    """Send one batch of one channel over one connection."""
    counts: Counter[str] = Counter()
    # The mailing and the batch's copies are read once, as copies outside the
    # session, so the commit after each claim does not read them again.
    found = db.session.get(Mailing, mailing_id)
    if found is None:
        return counts
    try:
        transport = transports.open_transport(channel)
    except transports.NotConfigured as error:
        for recipient_id in batch:
            if sending.claim(recipient_id, utcnow()):
                counts[sending.mark_failed(recipient_id, error, utcnow())] += 1
        db.session.commit()
        return counts
    mailing = _snapshot(found)
    copies = {
        r.id: _snapshot(r)
        for r in db.session.scalars(
            select(MailingRecipient).where(MailingRecipient.id.in_(batch))
        )
    }
    shared = sending.shared_rendering(mailing)
    try:
        for recipient_id in batch:
            if time.monotonic() >= deadline:
                break
            recipient = copies.get(recipient_id)
            if recipient is None:
                continue
            outcome = _send_one(mailing, recipient, transport, pacer, shared)
            counts[outcome] += 1
            if outcome == "unavailable":
                break  # the provider takes nothing now: the next run tries again
    finally:
        db.session.commit()  # the last copy's outcome
        transport.close()
    return counts


def _snapshot(row: _Row) -> _Row:
    """A copy of a row's columns that belongs to no session (commits leave it be)."""
    columns = type(row).__table__.columns
    return type(row)(**{c.key: getattr(row, c.key) for c in columns})


def _send_one(
    mailing: Mailing,
    recipient: MailingRecipient,
    transport: transports.Transport,
    pacer: Pacer,
    shared: RenderedEmail | None = None,
) -> str:
    """Claim, commit, hand over, record: what became of the copy.

    The outcome is committed with the next copy's claim (or at the end of the
    batch): either way before anything more is handed over, so a sender killed at
    any point leaves at most the one copy in hand "outcome not known".
    """
    smtp = (
        recipient.channel is ContactChannel.EMAIL
        and transports.email_provider() == transports.SMTP
    )
    message_id = transports.new_message_id() if smtp else None
    copy = sending.outgoing(
        mailing, recipient, message_id=message_id or "", shared=shared
    )
    if not sending.claim(recipient.id, utcnow(), provider_ref=message_id):
        return "taken"  # someone else has it, or it was skipped meanwhile
    db.session.commit()  # the claim is on file before the hand-off
    pacer.wait()
    try:
        if isinstance(copy, transports.OutgoingText):
            reference = transport.send_text(copy)
        else:
            reference = transport.send_email(copy)
    except transports.SendError as error:
        outcome = sending.mark_failed(recipient.id, error, utcnow())
    except Exception:
        log.exception("mailing copy %s: unexpected error in its hand-off", recipient.id)
        unknown = transports.OutcomeUnknown(
            "Something went wrong while handing it over"
        )
        outcome = sending.mark_failed(recipient.id, unknown, utcnow())
    else:
        sending.mark_sent(recipient.id, reference, utcnow())
        outcome = "sent"
    return outcome
