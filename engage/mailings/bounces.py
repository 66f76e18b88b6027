"""Bounces and complaints: read the reports mail servers send back, and file them.

A mail server that cannot deliver a message sends a delivery status notification
(DSN, RFC 3464: ``multipart/report; report-type=delivery-status``) to the bounce
mailbox; a mailbox provider whose user marks a message as spam may send an abuse
report (ARF, RFC 5965: ``report-type=feedback-report``). Each is parsed here with
the standard library, matched to the copy of the mailing it is about, and filed
once: a hard bounce marks the copy bounced and the address undeliverable; a
complaint suppresses the address and withdraws a member's email consent; a refusal
(the receiving server's policy, or a full mailbox) marks the copy failed and leaves
the address alone; a soft bounce (4.x.x) is recorded and otherwise ignored (the
server tries again).

Anyone can write to the bounce mailbox, so a report is acted on only when it quotes
the Message-ID of a copy we sent (recorded before the hand-off, and unguessable); a
report that names only an address is recorded as unmatched and changes nothing.

The job that reads the mailbox over IMAP is jobs/bounces.py.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from email import message_from_bytes
from email import policy
from email.message import Message
from email.parser import HeaderParser
from email.utils import getaddresses

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from engage.audit.services import SYSTEM
from engage.audit.services import record_event
from engage.extensions import db
from engage.mailings.addresses import CHANNEL_WORDS
from engage.mailings.addresses import normalise_address
from engage.mailings.models import BounceReport
from engage.mailings.models import MailingRecipient
from engage.mailings.models import RecipientStatus
from engage.mailings.models import SuppressionReason
from engage.mailings.unsubscribe import suppress
from engage.membership.consent import record_consents
from engage.membership.models import ConsentMethod
from engage.membership.models import ContactChannel
from engage.membership.models import Member
from engage.membership.models import MemberStatus

HARD = "hard-bounce"
SOFT = "soft-bounce"
#: A permanent failure that says nothing against the address itself: the receiving
#: server's policy refused it (5.7.x) or the mailbox is full (5.2.2).
REFUSED = "refused"
COMPLAINT = "complaint"

_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")

#: Enhanced status codes (RFC 3463) in plain words; others by their class.
_STATUS_WORDS = {
    "5.1.1": "the address does not exist",
    "5.1.2": "the address's domain does not exist or takes no email",
    "5.1.3": "the address is not a valid email address",
    "5.1.6": "the mailbox has moved and left no forwarding address",
    "5.1.10": "the address's domain takes no email",
    "5.2.1": "the mailbox is closed",
    "5.2.2": "the mailbox is full",
    "5.4.4": "the address's domain could not be found",
    "5.7.1": "it refused the message",
}


@dataclass(frozen=True)
class Finding:
    """One recipient's outcome, as a report states it."""

    kind: str  #: HARD, SOFT, REFUSED or COMPLAINT
    address: str | None
    status: str = ""  #: the enhanced status code, e.g. "5.1.1" (never shown)
    detail: str = ""  #: in plain words, as staff read it


@dataclass(frozen=True)
class Report:
    """A bounce or complaint report, parsed."""

    #: The report's own Message-ID (or a hash of it when it has none): filed once.
    message_id: str
    findings: list[Finding]
    #: The Message-ID of the mailing's copy it is about, when the report quotes it.
    original_message_id: str | None = None
    #: The addresses the original was sent to (from its quoted headers).
    original_to: list[str] = field(default_factory=list)


def plain_detail(status: str) -> str:
    """What a status code means, as staff read it on the member's record."""
    words = _STATUS_WORDS.get(status)
    if words is None:
        if status.startswith("4"):
            words = "it could not take the message for now"
        elif status.startswith("5.7."):
            words = "it refused the message"
        else:
            words = "it would not take the message, permanently"
    return f"The receiving mail server said {words}"


def _clean_id(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    match = re.search(r"<([^<>\s]{1,250})>", value)
    if match:
        return match.group(1)
    if not value or any(c.isspace() for c in value):
        return None
    return value[:250]


def _address(value: object) -> str | None:
    """The address in a ``Final-Recipient: rfc822; a@b`` style field, normalised."""
    if not isinstance(value, str):
        return None
    value = value.split(";", 1)[-1].strip().strip("<>").strip()
    if "@" not in value or len(value) > 254 or any(c.isspace() for c in value):
        return None
    return normalise_address(ContactChannel.EMAIL, value)


def _to_addresses(original: Message) -> list[str]:
    """The addresses a quoted original was sent to, normalised."""
    return [
        normalise_address(ContactChannel.EMAIL, a)
        for _, a in getaddresses(original.get_all("To") or [])
        if "@" in a
    ]


def _report_type(message: Message) -> str | None:
    if message.get_content_type() != "multipart/report":
        return None
    report_type = message.get_param("report-type")
    return str(report_type).lower() if isinstance(report_type, str) else None


def _status_blocks(part: Message) -> list[Message]:
    """The field blocks of a ``message/delivery-status`` part (per message, then each
    recipient)."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [p for p in payload if isinstance(p, Message)]
    if isinstance(payload, str):
        # Some servers send it as text: parse each blank-line-separated block.
        text = payload.replace("\r\n", "\n")
        return [
            HeaderParser().parsestr(block.strip() + "\n")
            for block in re.split(r"\n\s*\n", text)
            if block.strip()
        ]
    return []


def _original_headers(message: Message) -> Message | None:
    """The quoted headers of the message the report is about, if included."""
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            payload = part.get_payload()
            if (
                isinstance(payload, list)
                and payload
                and isinstance(payload[0], Message)
            ):
                return payload[0]
        elif kind == "text/rfc822-headers":
            content = part.get_payload(decode=True)
            if isinstance(content, bytes):
                text = content.decode("utf-8", "replace")
                return HeaderParser().parsestr(text, headersonly=True)
    return None


def _kind(action: str, status: str) -> str:
    """HARD, REFUSED or SOFT for a DSN recipient's action and status code."""
    if action != "failed" or not status.startswith("5"):
        return SOFT
    if status == "5.2.2" or status.startswith("5.7."):
        return REFUSED
    return HARD


def _dsn_findings(message: Message) -> list[Finding]:
    findings = []
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        blocks = _status_blocks(part)
        for block in blocks[1:] if len(blocks) > 1 else blocks:
            action = str(block.get("Action", "")).strip().lower()
            match = _STATUS.search(str(block.get("Status", "")))
            if match is None or action not in ("failed", "delayed"):
                continue
            status = ".".join(match.groups())
            address = _address(block.get("Final-Recipient")) or _address(
                block.get("Original-Recipient")
            )
            findings.append(
                Finding(_kind(action, status), address, status, plain_detail(status))
            )
    return findings


def _arf_findings(message: Message, original: Message | None) -> list[Finding]:
    addresses: list[str] = []
    for part in message.walk():
        if part.get_content_type() != "message/feedback-report":
            continue
        for block in _status_blocks(part):
            for value in block.get_all("Original-Rcpt-To") or []:
                address = _address(value)
                if address:
                    addresses.append(address)
    if not addresses and original is not None:
        addresses = _to_addresses(original)
    detail = (
        "Reported one of our emails as spam (a complaint from their email provider)"
    )
    return [Finding(COMPLAINT, a, "", detail) for a in addresses[:10]] or [
        Finding(COMPLAINT, None, "", detail)
    ]


def parse_report(raw: bytes) -> Report | None:
    """The bounce or complaint report in a raw message, or None if it is not one."""
    message = message_from_bytes(raw, policy=policy.compat32)
    report_type = _report_type(message)
    if report_type not in ("delivery-status", "feedback-report"):
        return None
    original = _original_headers(message)
    if report_type == "delivery-status":
        findings = _dsn_findings(message)
    else:
        findings = _arf_findings(message, original)
    if not findings:
        return None
    own_id = _clean_id(message.get("Message-ID"))
    if own_id is None:
        own_id = "sha256:" + hashlib.sha256(raw).hexdigest()
    original_id = (
        _clean_id(original.get("Message-ID")) if original is not None else None
    )
    original_to = _to_addresses(original) if original is not None else []
    return Report(own_id[:280], findings, original_id, original_to)


# Filing ------------------------------------------------------------------------------


def once(
    message_id: str, kind: str, recipient_id: int | None, *, now: datetime
) -> bool:
    """Record that a report was read; False if it was already (nothing to do twice)."""
    message_id = message_id[:300]
    if db.session.scalar(
        select(BounceReport.id).where(BounceReport.message_id == message_id)
    ):
        return False
    try:
        with db.session.begin_nested():
            db.session.add(
                BounceReport(
                    message_id=message_id,
                    recipient_id=recipient_id,
                    kind=kind[:30],
                    received_at=now,
                )
            )
    except IntegrityError:
        return False  # read at the same moment by another run
    return True


def _by_message_id(message_id: str) -> MailingRecipient | None:
    candidates = {message_id, f"<{message_id}>"}
    return db.session.scalars(
        select(MailingRecipient)
        .where(
            MailingRecipient.provider_ref.in_(candidates),
            MailingRecipient.channel == ContactChannel.EMAIL,
        )
        .order_by(MailingRecipient.id.desc())
    ).first()


def match_recipient(report: Report, finding: Finding) -> MailingRecipient | None:
    """The copy a finding is about, by the Message-ID the report quotes; None when
    it quotes none of ours (an address alone proves nothing: anyone can write)."""
    if not report.original_message_id:
        return None
    recipient = _by_message_id(report.original_message_id)
    if recipient is not None and (
        finding.address is None
        or recipient.address is None
        or normalise_address(ContactChannel.EMAIL, recipient.address) == finding.address
        or len(report.findings) == 1
    ):
        return recipient
    return None


def _member(recipient: MailingRecipient) -> Member | None:
    if recipient.member_id is None:
        return None
    return db.session.get(Member, recipient.member_id)


def mark_bounced(recipient: MailingRecipient, detail: str, *, now: datetime) -> None:
    """A hard bounce: the copy bounced, and the address goes on the suppression list."""
    recipient.status = RecipientStatus.BOUNCED
    recipient.outcome_at = now
    recipient.outcome = detail[:300]
    member = _member(recipient)
    if member is not None and member.status is MemberStatus.ERASED:
        return  # keep no address of an erased member's
    if recipient.address:
        suppress(
            recipient.channel,
            recipient.address,
            SuppressionReason.BOUNCED,
            detail=detail,
            mailing_id=recipient.mailing_id,
            now=now,
        )
    record_event(
        SYSTEM,
        "bounce",
        "member" if member is not None else "audience_contact",
        recipient.member_id if member is not None else recipient.contact_id,
        f"{CHANNEL_WORDS[recipient.channel].address} undeliverable "
        f"(mailing {recipient.mailing_id})",
        now=now,
    )


def mark_refused(recipient: MailingRecipient, detail: str, *, now: datetime) -> None:
    """A refusal: the copy failed, with why; the address stays usable."""
    recipient.status = RecipientStatus.FAILED
    recipient.outcome_at = now
    recipient.outcome = detail[:300]


def mark_complained(recipient: MailingRecipient, detail: str, *, now: datetime) -> None:
    """A complaint: the address is suppressed, a member's email consent withdrawn."""
    member = _member(recipient)
    if member is not None and member.status is MemberStatus.ERASED:
        return
    if recipient.address:
        suppress(
            recipient.channel,
            recipient.address,
            SuppressionReason.COMPLAINED,
            detail=detail,
            mailing_id=recipient.mailing_id,
            now=now,
        )
    if member is not None:
        record_consents(
            member,
            {ContactChannel.EMAIL: False},
            method=ConsentMethod.COMPLAINT,
            now=now,
        )
        member.updated_at = now
    record_event(
        SYSTEM,
        "complaint",
        "member" if member is not None else "audience_contact",
        recipient.member_id if member is not None else recipient.contact_id,
        f"marked mailing {recipient.mailing_id} as spam; email stopped",
        now=now,
    )


def file_report(report: Report, *, now: datetime) -> str:
    """File a parsed report once; return what it was.

    One of ``"bounced"``, ``"complained"``, ``"failed"`` (refused: the copy failed,
    the address is kept), ``"soft"`` (recorded, nothing changed),
    ``"unmatched"`` (about no copy we know) or ``"duplicate"`` (filed before).
    """
    matched = [
        (finding, match_recipient(report, finding)) for finding in report.findings
    ]
    first = next((r for _, r in matched if r is not None), None)
    kinds = {f.kind for f, r in matched if r is not None}
    kind = next(
        (k for k in (COMPLAINT, HARD, REFUSED, SOFT) if k in kinds), "unmatched"
    )
    if not once(report.message_id, kind, first.id if first else None, now=now):
        return "duplicate"
    for finding, recipient in matched:
        if recipient is None:
            continue
        if finding.kind == HARD and recipient.status is not RecipientStatus.BOUNCED:
            mark_bounced(recipient, finding.detail, now=now)
        elif finding.kind == REFUSED and recipient.status not in (
            RecipientStatus.BOUNCED,
            RecipientStatus.FAILED,
        ):
            mark_refused(recipient, finding.detail, now=now)
        elif finding.kind == COMPLAINT:
            mark_complained(recipient, finding.detail, now=now)
    db.session.flush()
    return {
        COMPLAINT: "complained",
        HARD: "bounced",
        REFUSED: "failed",
        SOFT: "soft",
    }.get(kind, "unmatched")


def file_message(raw: bytes, *, now: datetime) -> str | None:
    """Parse and file one message from the bounce mailbox; None if not a report."""
    report = parse_report(raw)
    if report is None:
        return None
    return file_report(report, now=now)
