"""Settling copies handed to GOV.UK Notify whose outcome is not known, by asking Notify.

A sender killed (or cut off) mid-hand-off leaves its copy "handed over, outcome not
known". Over SMTP nothing can tell whether it went, so it is never sent again (at
most once). Notify keeps each notification's ``reference`` (the copy's id), so once
such a copy is old enough that no sender can still be waiting on it, Notify is
asked: found, it was sent (with Notify's id); not found, Notify never accepted it,
so it goes back to waiting and is sent (exactly once). Notify lists only the last
seven days' notifications, so older copies stay "outcome not known".

Services only: the send-mailings job commits around the look-ups, which are made
with no transaction open.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from datetime import timedelta

from flask import current_app
from sqlalchemy import ColumnElement
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update

from engage.extensions import db
from engage.mailings import transports
from engage.mailings.models import MailingRecipient
from engage.mailings.models import RecipientStatus
from engage.membership.models import ContactChannel

#: Notify lists notifications this far back (it keeps seven days; a day to spare).
LOOKUP_WINDOW = timedelta(days=6)
#: Copies looked up at most per call (the rest at the next batch).
LOOKUP_LIMIT = 200
#: What staff read on a copy Notify never received, sent again.
NEVER_RECEIVED = "GOV.UK Notify had not received it, so it was sent again"


def notify_set_up() -> bool:
    """Copies can be looked up (a Notify API key is configured)."""
    return bool(current_app.config.get("NOTIFY_API_KEY"))


def _unsettled(mailing_id: int, now: datetime) -> list[ColumnElement[bool]]:
    """Copies of ``mailing_id`` handed to Notify whose outcome is not known.

    An SMTP copy has its Message-ID recorded with its claim; a copy handed to
    Notify gets its reference only from Notify's answer, so it has none.
    """
    return [
        MailingRecipient.mailing_id == mailing_id,
        MailingRecipient.status == RecipientStatus.SENDING,
        MailingRecipient.provider_ref.is_(None),
        MailingRecipient.channel.in_((ContactChannel.EMAIL, ContactChannel.SMS)),
        MailingRecipient.claimed_at >= now - LOOKUP_WINDOW,
    ]


def awaiting_lookup(mailing_id: int, now: datetime) -> int:
    """How many of the mailing's copies are still to be looked up in Notify."""
    if not notify_set_up():
        return 0
    return int(
        db.session.scalar(
            select(func.count())
            .select_from(MailingRecipient)
            .where(*_unsettled(mailing_id, now))
        )
        or 0
    )


def due_for_lookup(mailing_id: int, now: datetime) -> list[int]:
    """Copies left "outcome not known" long enough that no sender waits on them."""
    if not notify_set_up():
        return []
    after = timedelta(seconds=float(current_app.config["MAILING_LOOKUP_AFTER_SECONDS"]))
    return list(
        db.session.scalars(
            select(MailingRecipient.id)
            .where(
                *_unsettled(mailing_id, now),
                MailingRecipient.claimed_at <= now - after,
            )
            .order_by(MailingRecipient.id)
            .limit(LOOKUP_LIMIT)
        )
    )


def look_up(recipient_ids: list[int]) -> dict[int, str | None]:
    """Ask Notify about each copy: its notification id, or None if it has none.

    Copies whose look-up fails are left out (still not known). No database access.
    """
    found: dict[int, str | None] = {}
    try:
        client = transports.open_notify()
    except transports.NotConfigured:
        return found
    try:
        for recipient_id in recipient_ids:
            try:
                found[recipient_id] = client.find(str(recipient_id))
            except transports.SendError:
                continue
    finally:
        client.close()
    return found


def settle(found: dict[int, str | None], now: datetime) -> Counter[str]:
    """Record what Notify said: sent (with its id), or waiting to be sent again."""
    counts: Counter[str] = Counter()
    for recipient_id, notification_id in found.items():
        unsettled = (
            MailingRecipient.id == recipient_id,
            MailingRecipient.status == RecipientStatus.SENDING,
            MailingRecipient.provider_ref.is_(None),
        )
        if notification_id is not None:
            values: dict[str, object] = {
                "status": RecipientStatus.SENT,
                "provider_ref": notification_id,
                "sent_at": now,
                "outcome": "",
            }
            key = "found_in_notify"
        else:
            values = {"status": RecipientStatus.PENDING, "outcome": NEVER_RECEIVED}
            key = "not_in_notify"
        result = db.session.execute(
            update(MailingRecipient)
            .where(*unsettled)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        counts[key] += int(getattr(result, "rowcount", 0) or 0)
    return counts
