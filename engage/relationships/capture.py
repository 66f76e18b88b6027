"""Emails copied to the capture mailbox: filed as draft interactions, or held.

Staff copy (Bcc) the capture mailbox on emails with stakeholders; the read-capture
job (jobs/capture.py, the edge) hands each message here. It is keyed by its
Message-ID (a digest of its bytes when it has none) and read once only. When the
sender is a member of staff and every other address is a contact of one audience
or more, or the sender is a contact writing to a member of staff, it is filed as a
draft interaction for that member of staff to confirm. Anything else (an unknown
address, an address shared by contacts of different audiences, a sender who is
neither) waits in the review list with the reason in words, so nothing is filed
against the wrong audience silently. An officer then files it against an audience
or dismisses it (its words are then cleared; only its key is kept).

Attachments are kept when they are of the types an interaction's files may be
(told by their bytes, engage/uploads.py), at most 5 MB each and 5 a message; the
others are named in the reason. Nothing here commits.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import io
import re
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta
from email.message import EmailMessage
from email.utils import getaddresses
from email.utils import parsedate_to_datetime
from typing import IO

from sqlalchemy import Select
from sqlalchemy import func
from sqlalchemy import select

from engage import uploads
from engage.accounts.models import User
from engage.audiences.models import Audience
from engage.audiences.models import AudienceContact
from engage.audiences.services import add_contact
from engage.audit.services import record_event
from engage.clock import local_day
from engage.errors import Conflict
from engage.errors import ValidationError
from engage.extensions import db
from engage.metrics.feeds import html_to_text
from engage.relationships.log import ATTACHMENT_TYPES
from engage.relationships.log import MAX_ATTACHMENT_BYTES
from engage.relationships.log import MAX_ATTACHMENTS
from engage.relationships.models import CapturedMessage
from engage.relationships.models import CaptureStatus
from engage.relationships.models import Direction
from engage.relationships.models import Interaction
from engage.relationships.models import InteractionAttachment
from engage.relationships.models import InteractionKind
from engage.relationships.models import InteractionStatus
from engage.relationships.services import MAX_SUMMARY
from engage.relationships.services import InteractionData
from engage.relationships.services import record_interaction

#: Who files what the job reads, in the audit trail.
ACTOR = "read-capture job"
#: Addresses read from one message's To and Cc at most (a mailing list's worth).
MAX_ADDRESSES = 100
MAX_KEY = 998
MAX_SUBJECT = 300
NO_SUBJECT = "Email with no subject"
#: The kinds of file kept, in words, for the reason a file was not kept.
_TYPE_NAMES = uploads.type_names(ATTACHMENT_TYPES)

FILED = "filed"
WAITING = "waiting"
DUPLICATE = "duplicate"


@dataclass(frozen=True)
class Attachment:
    """A file found in a message: kept (with its checked type) or refused."""

    filename: str
    data: bytes
    content_type: str = ""
    #: Why it was not kept, in words naming the file.
    refused: str = ""


@dataclass(frozen=True)
class ParsedMessage:
    """What the capture reads of one email."""

    key: str
    sender: str
    #: To then Cc, lower case, each once, in order.
    recipients: tuple[str, ...]
    subject: str
    body: str
    sent_at: datetime | None
    attachments: tuple[Attachment, ...] = ()


@dataclass
class Match:
    """Who a message's addresses are: staff, contacts, and what stops it filing."""

    staff: dict[str, User] = field(default_factory=dict)
    contacts: list[AudienceContact] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


# Reading a message ----------------------------------------------------------------


def _addresses(message: EmailMessage, *names: str) -> list[str]:
    values: list[str] = []
    for name in names:
        values.extend(str(value) for value in message.get_all(name, []))
    found: list[str] = []
    for _display, address in getaddresses(values):
        address = address.strip().lower()
        if "@" in address and len(address) <= 254 and address not in found:
            found.append(address)
    return found[:MAX_ADDRESSES]


def _body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError, AssertionError):
        return ""
    if not isinstance(content, str):
        return ""
    if part.get_content_subtype() == "html":
        content = html_to_text(content)
    return content.replace("\r\n", "\n").replace("\x00", "").strip()[:MAX_SUMMARY]


@dataclass
class _Part:
    """A file found in a message, offered to the upload check as an upload is."""

    filename: str | None
    stream: IO[bytes]


def _attachments(message: EmailMessage) -> tuple[Attachment, ...]:
    """The message's files: each checked as an interaction's files are
    (``engage/uploads.py``), at most MAX_ATTACHMENTS kept. Pictures shown inside the
    message (a signature's logo: inline, with a Content-ID) are not files."""
    found: list[Attachment] = []
    kept = 0
    for part in message.walk():
        if part.is_multipart():
            continue
        disposition = part.get_content_disposition()
        name = part.get_filename()
        if disposition == "inline" and part.get("content-id"):
            continue
        if disposition != "attachment" and not (disposition == "inline" and name):
            continue
        # The name as sent, for the reason: no folders or control characters.
        base = re.split(r"[\\/]", name or "")[-1]
        shown = " ".join("".join(c for c in base if c.isprintable()).split())[:100]
        shown = shown or "a file"
        if kept >= MAX_ATTACHMENTS:
            found.append(
                Attachment(
                    shown, b"", refused=f"{shown}: more than {MAX_ATTACHMENTS} files"
                )
            )
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        try:
            checked = uploads.read_upload(
                _Part(name, io.BytesIO(data)),
                types=ATTACHMENT_TYPES,
                max_bytes=MAX_ATTACHMENT_BYTES,
                called="A file",
                stem="attachment",
                wrong_type_advice="",
                too_large_advice="",
            )
        except ValidationError as refusal:
            found.append(
                Attachment(shown, b"", refused=str(refusal).strip().rstrip("."))
            )
            continue
        kept += 1
        found.append(Attachment(checked.filename, checked.data, checked.content_type))
    return tuple(found)


def _sent_at(message: EmailMessage) -> datetime | None:
    value = message.get("date")
    if value is None:
        return None
    try:
        sent = parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError):
        return None
    return sent if sent.tzinfo is not None else None


def _printable(text: str) -> str:
    """One line of printable characters (no NUL or other control characters, which
    PostgreSQL refuses in text)."""
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


def message_key(message: EmailMessage, raw: bytes) -> str:
    """The message's Message-ID, or a digest of its bytes when it has none."""
    message_id = _printable(str(message.get("message-id") or ""))
    if message_id:
        return message_id[:MAX_KEY]
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def parse_message(raw: bytes) -> ParsedMessage:
    """Read one email (the standard library's parser, default policy)."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    if not isinstance(message, EmailMessage):  # the default policy's class; never
        message = EmailMessage()
    senders = _addresses(message, "from")
    subject = _printable(str(message.get("subject") or ""))[:MAX_SUBJECT]
    return ParsedMessage(
        key=message_key(message, raw),
        sender=senders[0] if senders else "",
        recipients=tuple(_addresses(message, "to", "cc")),
        subject=subject,
        body=_body(message),
        sent_at=_sent_at(message),
        attachments=_attachments(message),
    )


# Matching addresses ---------------------------------------------------------------


def _staff(addresses: Iterable[str]) -> dict[str, User]:
    wanted = sorted(set(addresses))
    if not wanted:
        return {}
    users = db.session.scalars(
        select(User).where(User.is_active.is_(True), func.lower(User.email).in_(wanted))
    )
    return {user.email.lower(): user for user in users}


def _contacts(addresses: Iterable[str]) -> dict[str, list[AudienceContact]]:
    wanted = sorted(set(addresses))
    found: dict[str, list[AudienceContact]] = {}
    if not wanted:
        return found
    rows = db.session.scalars(
        select(AudienceContact)
        .join(Audience, Audience.id == AudienceContact.audience_id)
        .where(
            Audience.archived_at.is_(None),
            func.lower(AudienceContact.email).in_(wanted),
        )
        .order_by(AudienceContact.id)
    )
    for contact in rows:
        found.setdefault(contact.email.lower(), []).append(contact)
    return found


def match(sender: str, recipients: Sequence[str], *, ignore: str = "") -> Match:
    """Staff and contacts among the addresses, and why it cannot be filed, if so."""
    addresses = [a for a in (sender, *recipients) if a and a != ignore]
    addresses = list(dict.fromkeys(addresses))
    result = Match(staff=_staff(addresses))
    others = [a for a in addresses if a not in result.staff]
    known = _contacts(others)
    for address in others:
        contacts = known.get(address, [])
        if not contacts:
            result.problems.append(f"not a known contact or member of staff: {address}")
        elif len({c.audience_id for c in contacts}) > 1:
            names = ", ".join(sorted({c.audience.name for c in contacts}))
            result.problems.append(
                f"the address {address} belongs to contacts of more than one "
                f"audience ({names}): choose the audience"
            )
        else:
            result.contacts.extend(contacts)
    return result


def _direction(
    sender: str, recipients: Sequence[str], found: Match
) -> tuple[Direction, User] | str:
    """Outbound from a member of staff, or inbound to one; otherwise why not."""
    if sender in found.staff:
        return Direction.OUTBOUND, found.staff[sender]
    if not sender:
        return "it has no sender address"
    to_staff = [found.staff[a] for a in recipients if a in found.staff]
    if not to_staff:
        return "no member of staff sent it or was among its recipients"
    return Direction.INBOUND, to_staff[0]


# Filing ---------------------------------------------------------------------------


def already_read(key: str) -> bool:
    """True if a message with this key was captured (or filed) before."""
    captured = db.session.scalar(
        select(CapturedMessage.id).where(CapturedMessage.message_key == key)
    )
    filed = db.session.scalar(
        select(Interaction.id).where(Interaction.source_key == key)
    )
    return captured is not None or filed is not None


def _occurred_on(parsed: ParsedMessage, now: datetime) -> datetime:
    sent = parsed.sent_at
    if sent is None or sent > now + timedelta(days=1):
        return now
    return sent


def _keep(
    attachments: Iterable[Attachment],
    *,
    now: datetime,
    interaction: Interaction | None = None,
    captured: CapturedMessage | None = None,
) -> list[str]:
    """Store the files that passed; the refused ones in words."""
    refused = []
    for item in attachments:
        if item.refused:
            refused.append(item.refused)
            continue
        db.session.add(
            InteractionAttachment(
                interaction_id=interaction.id if interaction else None,
                captured_id=captured.id if captured else None,
                filename=item.filename,
                content_type=item.content_type,
                size=len(item.data),
                data=item.data,
                uploaded_at=now,
            )
        )
    return refused


def file_message(raw: bytes, *, now: datetime, ignore: str = "") -> str:
    """File one email from the capture mailbox: ``filed``, ``waiting`` or
    ``duplicate`` (read before). ``ignore`` is the capture mailbox's own address."""
    parsed = parse_message(raw)
    if already_read(parsed.key):
        return DUPLICATE
    ignore = ignore.strip().lower()
    recipients = [a for a in parsed.recipients if a != ignore]
    found = match(parsed.sender, recipients, ignore=ignore)
    direction = _direction(parsed.sender, recipients, found)
    problems = list(found.problems)
    if isinstance(direction, str):
        problems.insert(0, direction)
    elif not found.contacts and not problems:
        problems.append("no stakeholder contact was among its addresses")
    captured = CapturedMessage(
        message_key=parsed.key,
        received_at=now,
        sent_at=_occurred_on(parsed, now),
        sender=parsed.sender[:254],
        recipients="\n".join(parsed.recipients),
        subject=parsed.subject,
    )
    if problems or isinstance(direction, str):
        captured.status = CaptureStatus.WAITING
        captured.body = parsed.body
        db.session.add(captured)
        db.session.flush()
        refused = _keep(parsed.attachments, now=now, captured=captured)
        captured.reason = _reason(problems, refused)
        db.session.flush()
        record_event(
            ACTOR,
            "create",
            "captured_message",
            captured.id,
            "waiting for review",
            now=now,
        )
        return WAITING
    kind, owner = direction
    staff = [owner, *(u for u in found.staff.values() if u.id != owner.id)]
    contacts = {c.id: c for c in found.contacts}
    interaction = record_interaction(
        InteractionData(
            kind=InteractionKind.EMAIL,
            direction=kind,
            occurred_on=local_day(_occurred_on(parsed, now)),
            subject=parsed.subject or NO_SUBJECT,
            summary=parsed.body,
            sentiment=None,
            audience_ids=tuple(sorted({c.audience_id for c in contacts.values()})),
            contact_ids=tuple(sorted(contacts)),
            staff_ids=tuple(sorted({u.id for u in staff})),
        ),
        actor=ACTOR,
        now=now,
        owner=owner,
        status=InteractionStatus.DRAFT,
        source_key=parsed.key,
    )
    captured.status = CaptureStatus.FILED
    captured.interaction_id = interaction.id
    _forget_words(captured)
    db.session.add(captured)
    db.session.flush()
    captured.reason = _reason(
        [], _keep(parsed.attachments, now=now, interaction=interaction)
    )
    db.session.flush()
    record_event(
        ACTOR,
        "create",
        "captured_message",
        captured.id,
        f"filed as draft interaction {interaction.id}",
        now=now,
    )
    return FILED


def _reason(problems: Sequence[str], refused: Sequence[str]) -> str:
    lines = [p[0].upper() + p[1:] for p in problems]
    if refused:
        lines.append("Files not kept: " + "; ".join(refused))
    return "\n".join(lines)


# The review list ------------------------------------------------------------------


#: Oldest first: the order messages wait for review in, and the keys their pages follow.
OLDEST_FIRST = (CapturedMessage.received_at.asc(), CapturedMessage.id.asc())


def waiting_query() -> Select[tuple[CapturedMessage]]:
    """Messages waiting for review, oldest first."""
    return (
        select(CapturedMessage)
        .where(CapturedMessage.status == CaptureStatus.WAITING)
        .order_by(*OLDEST_FIRST)
    )


def waiting_count() -> int:
    return int(
        db.session.scalar(
            select(func.count(CapturedMessage.id)).where(
                CapturedMessage.status == CaptureStatus.WAITING
            )
        )
        or 0
    )


def drafts_owned(user: User) -> int:
    """Draft interactions ``user`` is asked to confirm."""
    return int(
        db.session.scalar(
            select(func.count(Interaction.id)).where(
                Interaction.status == InteractionStatus.DRAFT,
                Interaction.owner_id == user.id,
            )
        )
        or 0
    )


def unknown_addresses(message: CapturedMessage) -> list[str]:
    """The message's addresses that are neither staff nor any audience's contact."""
    addresses = [message.sender, *message.recipients.split("\n")]
    addresses = [a for a in dict.fromkeys(addresses) if a]
    staff = _staff(addresses)
    known = _contacts(a for a in addresses if a not in staff)
    return [a for a in addresses if a not in staff and a not in known]


def _undecided(message: CapturedMessage) -> None:
    if message.status is not CaptureStatus.WAITING:
        raise Conflict(
            f"This email has already been decided ({message.status.label.lower()})."
        )


def file_waiting(
    message: CapturedMessage,
    audience: Audience,
    *,
    actor: User,
    now: datetime,
    new_contact_address: str = "",
    new_contact_name: str = "",
) -> Interaction:
    """File a waiting email against ``audience`` as a draft interaction.

    Optionally add one of its unknown addresses as a new contact of the audience
    first. The draft is owned by the sender when the sender is staff, otherwise by
    the officer deciding; its files move to it.
    """
    _undecided(message)
    if audience.archived_at is not None:
        raise ValidationError("Choose an audience on the map.")
    address = new_contact_address.strip().lower()
    name = new_contact_name.strip()
    if address or name:
        if address not in unknown_addresses(message):
            raise ValidationError("Choose the address to add from the list.")
        if not name:
            raise ValidationError("Enter the new contact's name.")
        if len(name) > 200:
            raise ValidationError("The name must be 200 characters or fewer.")
        add_contact(
            audience, name=name, role="", email=address, phone="", actor=actor, now=now
        )
    recipients = [a for a in message.recipients.split("\n") if a]
    addresses = [a for a in dict.fromkeys([message.sender, *recipients]) if a]
    staff = _staff(addresses)
    contacts = list(
        db.session.scalars(
            select(AudienceContact).where(
                AudienceContact.audience_id == audience.id,
                func.lower(AudienceContact.email).in_(addresses),
            )
        )
    )
    sender_staff = staff.get(message.sender)
    owner = sender_staff or actor
    direction = Direction.OUTBOUND if sender_staff else Direction.INBOUND
    interaction = record_interaction(
        InteractionData(
            kind=InteractionKind.EMAIL,
            direction=direction,
            occurred_on=local_day(message.sent_at or message.received_at),
            subject=message.subject or NO_SUBJECT,
            summary=message.body,
            sentiment=None,
            audience_ids=(audience.id,),
            contact_ids=tuple(sorted(c.id for c in contacts)),
            staff_ids=tuple(sorted({u.id for u in staff.values()})),
        ),
        actor=actor,
        now=now,
        owner=owner,
        status=InteractionStatus.DRAFT,
        source_key=message.message_key,
    )
    for attachment in message.attachments:
        attachment.interaction_id = interaction.id
        attachment.captured_id = None
    message.status = CaptureStatus.FILED
    message.interaction_id = interaction.id
    message.decided_by_id = actor.id
    message.decided_at = now
    _forget_words(message)
    db.session.flush()
    record_event(
        actor,
        "file",
        "captured_message",
        message.id,
        f"filed as draft interaction {interaction.id}",
        now=now,
    )
    return interaction


def _forget_words(message: CapturedMessage) -> None:
    """Once decided, an email's addresses and words are not kept here: a filed one's
    live in its interaction; only its key stays, so it is never read again."""
    message.sender = ""
    message.recipients = ""
    message.subject = ""
    message.body = ""


def dismiss(message: CapturedMessage, *, actor: User, now: datetime) -> None:
    """Not an interaction: clear its words and files, keep only its key."""
    _undecided(message)
    for attachment in list(message.attachments):
        db.session.delete(attachment)
    message.status = CaptureStatus.DISMISSED
    _forget_words(message)
    message.reason = ""
    message.decided_by_id = actor.id
    message.decided_at = now
    db.session.flush()
    record_event(actor, "dismiss", "captured_message", message.id, "", now=now)
