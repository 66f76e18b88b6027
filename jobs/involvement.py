"""The send-involvement job: invitations, reminders, freed places, changes and
cancellations of involvement activities, by email and text.

Each run sends, for up to ``MAILING_RUN_SECONDS``, batch by batch (each batch in its
own transactions): cancellations first, then changes, freed places, invitations and
reminders. Consent and the do-not-send list are checked again before each batch
(engage.involvement.notices.recheck, the mailings' SQL rule); each message is
claimed and the claim committed before it is handed to the mail server or GOV.UK
Notify, then its outcome committed, so a run killed midway never sends anything
twice (at most once). Letters are printed from the activity's letters page.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from datetime import datetime

from flask import current_app

from engage.clock import utcnow
from engage.extensions import db
from engage.involvement import messages
from engage.involvement import notices
from engage.involvement.messages import Notice
from engage.involvement.models import InvolvementInvitation
from engage.mailings import transports
from engage.membership.models import ContactChannel
from jobs.mailings import Pacer

log = logging.getLogger(__name__)

#: The channels the job sends (letters are printed).
SENT_CHANNELS = (ContactChannel.EMAIL, ContactChannel.SMS)

Outgoing = transports.OutgoingEmail | transports.OutgoingText


def send_involvement(now: datetime) -> dict[str, int]:
    """Send every message about involvement activities that is due, in batches."""
    config = current_app.config
    deadline = time.monotonic() + float(config["MAILING_RUN_SECONDS"])
    size = max(1, int(config["MAILING_BATCH_SIZE"]))
    pacer = Pacer(float(config["MAILING_RATE"]))
    counts: Counter[str] = Counter()
    counts["skipped"] += notices.skip_unsendable(now)
    db.session.commit()
    for kind in Notice:
        for channel in SENT_CHANNELS:
            after = 0
            while time.monotonic() < deadline and not counts["unavailable"]:
                ids = notices.due(kind, channel, now, size=size, after=after)
                if not ids:
                    break
                after = ids[-1]
                counts.update(_send_batch(kind, channel, ids, deadline, pacer))
    db.session.commit()
    return {key: value for key, value in counts.items() if value}


def _send_batch(
    kind: Notice,
    channel: ContactChannel,
    ids: list[int],
    deadline: float,
    pacer: Pacer,
) -> Counter[str]:
    """Re-check one batch, write its messages, then claim and hand over each."""
    counts: Counter[str] = Counter()
    batch = notices.load(ids)
    checked = notices.recheck(batch)
    ready: list[tuple[int, Outgoing, str | None, object]] = []
    for invitation in batch:
        verdict = checked[invitation.id]
        if verdict.reason is not None:
            if kind is Notice.INVITATION:
                notices.skip(invitation.id, verdict.reason)
                counts["skipped"] += 1
            else:
                counts["not allowed"] += 1  # due again if consent is given again
            continue
        ready.append(
            (
                invitation.id,
                _outgoing(kind, invitation, verdict.address or ""),
                verdict.address,
                notices.mark_value(kind, invitation),
            )
        )
    db.session.commit()
    if not ready:
        return counts
    try:
        transport = transports.open_transport(channel)
    except transports.NotConfigured as error:
        log.warning("involvement %s by %s: %s", kind.value, channel.value, error)
        counts["not set up"] += len(ready)
        return counts
    try:
        for invitation_id, copy, address, was in ready:
            if time.monotonic() >= deadline:
                break
            outcome = _send_one(
                kind, invitation_id, copy, address, was, transport, pacer
            )
            counts[outcome] += 1
            if outcome == "unavailable":
                break
    finally:
        db.session.commit()
        transport.close()
    return counts


def _outgoing(
    kind: Notice, invitation: InvolvementInvitation, address: str
) -> Outgoing:
    reference = f"involvement-{invitation.id}-{kind.value}"
    if invitation.channel is ContactChannel.SMS:
        return transports.OutgoingText(
            recipient_id=invitation.id,
            phone=address,
            text=messages.sms_text(kind, invitation),
            reference=reference,
        )
    message = messages.compose(kind, invitation)
    smtp = transports.email_provider() == transports.SMTP
    return transports.OutgoingEmail(
        recipient_id=invitation.id,
        address=address,
        subject=message.subject,
        html=message.html,
        text=message.text,
        unsubscribe_url="",
        message_id=transports.new_message_id() if smtp else "",
        reference=reference,
    )


def _send_one(
    kind: Notice,
    invitation_id: int,
    copy: Outgoing,
    address: str | None,
    was: object,
    transport: transports.Transport,
    pacer: Pacer,
) -> str:
    """Claim, commit, hand over, record: what became of the message."""
    message_id = None
    if isinstance(copy, transports.OutgoingEmail):
        message_id = copy.message_id or None
    if not notices.claim(
        kind, invitation_id, utcnow(), address=address, provider_ref=message_id
    ):
        return "taken"  # sent meanwhile, or no longer due
    db.session.commit()  # the claim is on file before the hand-off
    pacer.wait()
    try:
        if isinstance(copy, transports.OutgoingText):
            reference = transport.send_text(copy)
        else:
            reference = transport.send_email(copy)
    except transports.SendError as error:
        how = "failed"
        if isinstance(error, transports.ProviderUnavailable):
            how = "unavailable"
        elif isinstance(error, transports.OutcomeUnknown):
            how = "unknown"
        notices.mark_failed(kind, invitation_id, error.reason, how=how, was=was)
        return how
    except Exception:
        log.exception("involvement message %s: error in its hand-off", invitation_id)
        notices.mark_failed(
            kind,
            invitation_id,
            "Something went wrong while handing it over",
            how="unknown",
        )
        return "unknown"
    notices.mark_sent(kind, invitation_id, reference)
    return "sent"
