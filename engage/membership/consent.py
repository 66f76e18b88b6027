"""Consent records and withdrawal: shared by the public pages and the staff pages."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING

from engage.audit.services import record_event
from engage.extensions import db
from engage.membership.models import (
    ConsentMethod,
    ConsentRecord,
    ContactChannel,
    Member,
    MemberStatus,
)

if TYPE_CHECKING:
    from engage.accounts.models import User

#: Bump when the privacy notice or consent wording changes; stored with every consent.
PRIVACY_NOTICE_VERSION = "2026-11"

#: The exact words shown next to each consent box (their hash is stored too).
CONSENT_WORDING = {
    ContactChannel.EMAIL: "You may contact me by email about the membership scheme.",
    ContactChannel.SMS: "You may send me text messages about the membership scheme.",
    ContactChannel.PHONE: "You may phone me about the membership scheme.",
    ContactChannel.POST: "You may write to me by post about the membership scheme.",
}


def wording_version() -> str:
    """The privacy notice version plus a short hash of the consent wording shown."""
    text = "\n".join(f"{c.value}:{CONSENT_WORDING[c]}" for c in ContactChannel)
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    return f"{PRIVACY_NOTICE_VERSION}/{digest}"


def current_consents(member: Member) -> dict[ContactChannel, bool]:
    """The latest consent for each channel (False when never given)."""
    latest: dict[ContactChannel, bool] = dict.fromkeys(ContactChannel, False)
    for record in sorted(member.consents, key=lambda r: (r.recorded_at, r.id or 0)):
        latest[record.channel] = record.granted
    return latest


def record_consents(
    member: Member,
    wanted: dict[ContactChannel, bool],
    *,
    method: ConsentMethod,
    now: datetime,
) -> list[ContactChannel]:
    """Append a consent record for each channel whose consent changes; return them.

    The records are written with ``member`` at the next flush.
    """
    current = current_consents(member)
    changed = [c for c, granted in wanted.items() if current[c] != granted]
    version = wording_version()
    for channel in changed:
        member.consents.append(
            ConsentRecord(
                channel=channel,
                granted=wanted[channel],
                method=method,
                wording_version=version,
                recorded_at=now,
            )
        )
    return changed


def may_contact(member: Member, channel: ContactChannel) -> bool:
    """Whether we may contact an active member through ``channel`` now."""
    return member.status is MemberStatus.ACTIVE and current_consents(member)[channel]


def withdraw_member(
    member: Member,
    *,
    method: ConsentMethod,
    actor: User | str,
    now: datetime,
) -> None:
    """Withdraw a member at once: every consent is withdrawn and nothing more is sent.

    Their record stays (for the retention period) so the withdrawal is on file.
    """
    if member.status in (MemberStatus.WITHDRAWN, MemberStatus.ERASED):
        return
    record_consents(
        member, dict.fromkeys(ContactChannel, False), method=method, now=now
    )
    previous = member.status
    member.status = MemberStatus.WITHDRAWN
    member.withdrawn_at = now
    member.updated_at = now
    db.session.flush()
    record_event(
        actor,
        "withdraw",
        "member",
        member.id,
        f"{previous.value}→withdrawn ({method.value})",
        now=now,
    )
