"""Consent records and withdrawal: shared by the public pages and the staff pages."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING

from engage.audit.services import record_event
from engage.extensions import db
from engage.involvement.replies import give_up_places
from engage.membership.models import ConsentMethod
from engage.membership.models import ConsentRecord
from engage.membership.models import ContactChannel
from engage.membership.models import Member
from engage.membership.models import MemberStatus
from engage.organisation.services import fresh_consent_since
from engage.organisation.services import privacy_version_label

if TYPE_CHECKING:
    from engage.accounts.models import User

#: The exact words shown next to each consent box (their hash is stored too).
CONSENT_WORDING = {
    ContactChannel.EMAIL: "You may contact me by email about the membership scheme.",
    ContactChannel.SMS: "You may send me text messages about the membership scheme.",
    ContactChannel.PHONE: "You may phone me about the membership scheme.",
    ContactChannel.POST: "You may write to me by post about the membership scheme.",
}


def wording_version() -> str:
    """The privacy notice version in force plus a short hash of the consent wording.

    Stored with every consent record, so each keeps the version it was given under.
    """
    text = "\n".join(f"{c.value}:{CONSENT_WORDING[c]}" for c in ContactChannel)
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    return f"{privacy_version_label()}/{digest}"


def _latest(member: Member) -> dict[ContactChannel, ConsentRecord]:
    latest: dict[ContactChannel, ConsentRecord] = {}
    for record in sorted(member.consents, key=lambda r: (r.recorded_at, r.id or 0)):
        latest[record.channel] = record
    return latest


def current_consents(member: Member) -> dict[ContactChannel, bool]:
    """The latest consent for each channel (False when never given)."""
    latest = _latest(member)
    return {c: c in latest and latest[c].granted for c in ContactChannel}


def stale_consents(member: Member) -> list[ContactChannel]:
    """Channels consented to before a privacy notice that asked for fresh consent.

    They do not allow contact until the member agrees again.
    """
    since = fresh_consent_since()
    if since is None:
        return []
    return [
        channel
        for channel, record in _latest(member).items()
        if record.granted and record.recorded_at < since
    ]


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
    stale = stale_consents(member)
    # Agreeing again to a channel whose consent went stale is recorded too.
    changed = [
        c
        for c, granted in wanted.items()
        if current[c] != granted or (granted and c in stale)
    ]
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
    if member.status is not MemberStatus.ACTIVE:
        return False
    record = _latest(member).get(channel)
    if record is None or not record.granted:
        return False
    since = fresh_consent_since()
    return since is None or record.recorded_at >= since


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
    # Places at involvement sessions to come go to those waiting for them.
    give_up_places(member.id, now)
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
