"""GOV.UK Notify delivery receipts: what became of each email and text it sent.

Notify POSTs a receipt to our callback address once a notification has its final
status. Each receipt is filed once (by Notify's id and the status) against the copy
it is about, found by the notification id Notify gave when we sent it (kept as the
copy's ``provider_ref``) or by our own reference (the copy's id).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select

from engage.extensions import db
from engage.mailings.bounces import mark_bounced
from engage.mailings.bounces import once
from engage.mailings.models import MailingRecipient
from engage.mailings.models import RecipientStatus
from engage.membership.models import ContactChannel

DELIVERED = "delivered"
PERMANENT_FAILURE = "permanent-failure"
TEMPORARY_FAILURE = "temporary-failure"
TECHNICAL_FAILURE = "technical-failure"
STATUSES = (DELIVERED, PERMANENT_FAILURE, TEMPORARY_FAILURE, TECHNICAL_FAILURE)

#: What each failure means, in plain words, by channel.
_WORDS = {
    (PERMANENT_FAILURE, ContactChannel.EMAIL): (
        "GOV.UK Notify said the email address does not exist or cannot take email"
    ),
    (PERMANENT_FAILURE, ContactChannel.SMS): (
        "GOV.UK Notify said the phone number does not exist or cannot take text "
        "messages"
    ),
    (TEMPORARY_FAILURE, ContactChannel.EMAIL): (
        "GOV.UK Notify could not deliver it for a while (the inbox may be full); "
        "it has stopped trying"
    ),
    (TEMPORARY_FAILURE, ContactChannel.SMS): (
        "GOV.UK Notify could not deliver it for a while (the phone may be off); "
        "it has stopped trying"
    ),
}
_TECHNICAL = "GOV.UK Notify had a technical problem and did not send it"


class BadReceipt(ValueError):
    """The receipt is not one Notify would send (a field missing or malformed)."""


def _text(payload: Mapping[str, Any], name: str) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or not 0 < len(value) <= 100:
        raise BadReceipt(f"{name} must be a string of at most 100 characters")
    return value


def _recipient(notification_id: str, reference: str | None) -> MailingRecipient | None:
    recipient = db.session.scalars(
        select(MailingRecipient)
        .where(MailingRecipient.provider_ref == notification_id)
        .order_by(MailingRecipient.id)
    ).first()
    if recipient is not None:
        return recipient
    if reference is None or not reference.isdigit() or len(reference) > 18:
        return None
    recipient = db.session.get(MailingRecipient, int(reference))
    if recipient is None or recipient.provider_ref not in (None, notification_id):
        return None
    return recipient


def record_receipt(payload: Mapping[str, Any], *, now: datetime) -> str:
    """File one Notify receipt; return what was done.

    ``"delivered"``, ``"bounced"``, ``"failed"``, ``"ignored"`` (a status that is not
    final), ``"unmatched"`` (no copy of ours) or ``"duplicate"`` (filed before).
    Raises :class:`BadReceipt` for a body Notify would not send.
    """
    notification_id = _text(payload, "id")
    status = _text(payload, "status")
    reference = (
        None if payload.get("reference") is None else _text(payload, "reference")
    )
    if status not in STATUSES:
        return "ignored"
    recipient = _recipient(notification_id, reference)
    if not once(
        f"notify:{notification_id}:{status}",
        status,
        recipient.id if recipient is not None else None,
        now=now,
    ):
        return "duplicate"
    if recipient is None:
        return "unmatched"
    if recipient.provider_ref is None:
        recipient.provider_ref = notification_id
    if recipient.status is RecipientStatus.BOUNCED:
        return "bounced"  # an address found undeliverable stays so
    if status == DELIVERED:
        recipient.status = RecipientStatus.DELIVERED
        recipient.outcome_at = now
        recipient.outcome = ""
        outcome = "delivered"
    elif status == PERMANENT_FAILURE:
        mark_bounced(
            recipient,
            _WORDS.get(
                (status, recipient.channel), _WORDS[(status, ContactChannel.EMAIL)]
            ),
            now=now,
        )
        outcome = "bounced"
    else:
        recipient.status = RecipientStatus.FAILED
        recipient.outcome_at = now
        recipient.outcome = _WORDS.get((status, recipient.channel), _TECHNICAL)
        outcome = "failed"
    db.session.flush()
    return outcome
