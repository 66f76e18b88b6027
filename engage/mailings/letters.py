"""Letters for members who chose post: printable batches by format, and the post list.

Each member's letter is printed in the format their Accessible Information Standard
needs call for: standard print, large print or easy read. Braille and audio are not
printed here: the post list asks for them to be arranged. Letters are printed in
batches of at most ``BATCH_SIZE``; a batch is the waiting letters of one format
whose recipient ids run from its first to its last, so a batch downloaded, printed
and then marked as posted is the same letters throughout, whatever happens to the
others meanwhile. Consent to letters is checked again whenever a batch is made:
anyone who withdrew since is left out, and marked as not sent when the batch is
marked as posted.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime

from flask import render_template
from sqlalchemy import ColumnElement
from sqlalchemy import and_
from sqlalchemy import exists
from sqlalchemy import func
from sqlalchemy import not_
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from engage.accounts.models import User
from engage.audit.services import record_event
from engage.clock import local_day
from engage.errors import EngageError
from engage.errors import NotFound
from engage.extensions import db
from engage.imports.tabular import mimetype
from engage.imports.tabular import write_table
from engage.mailings.compose import letter_markup
from engage.mailings.models import Mailing
from engage.mailings.models import MailingRecipient
from engage.mailings.models import RecipientStatus
from engage.membership.consent import may_contact
from engage.membership.models import ContactChannel
from engage.membership.models import Member
from engage.membership.models import MemberStatus
from engage.membership.models import MemberSupportNeed
from engage.membership.models import SupportNeed
from engage.organisation.services import identity
from engage.pdf import STYLESHEETS
from engage.pdf import html_pdf

#: The most letters in one PDF: memory and time stay bounded whatever the list.
#: A batch of 100 takes under ten seconds on a busy server; WeasyPrint's time grows
#: faster than the batch (500 letters took well over a minute).
BATCH_SIZE = 100
#: How long one batch's PDF may take.
PDF_SECONDS = 120.0
STYLESHEET = STYLESHEETS / "letters-pdf.css"
#: Members are read in chunks of this many while the post list is written.
_CHUNK = 500


class LetterFormat(enum.StrEnum):
    """How one member's letter is made, from their communication support needs."""

    STANDARD = "standard"
    LARGE_PRINT = "large_print"
    EASY_READ = "easy_read"
    BRAILLE = "braille"
    AUDIO = "audio"

    @property
    def label(self) -> str:
        return {
            "standard": "Standard print",
            "large_print": "Large print",
            "easy_read": "Easy read",
            "braille": "Arrange in braille",
            "audio": "Arrange in audio",
        }[self.value]

    @property
    def printed(self) -> bool:
        """Whether Engage prints this format (braille and audio are arranged)."""
        return self in PRINTED_FORMATS


PRINTED_FORMATS = (
    LetterFormat.STANDARD,
    LetterFormat.LARGE_PRINT,
    LetterFormat.EASY_READ,
)

#: The needs that choose a format, the strongest first: a member who reads braille
#: gets braille even if large print is on their record too.
_FORMAT_NEEDS = (
    (SupportNeed.BRAILLE, LetterFormat.BRAILLE),
    (SupportNeed.AUDIO, LetterFormat.AUDIO),
    (SupportNeed.EASY_READ, LetterFormat.EASY_READ),
    (SupportNeed.LARGE_PRINT, LetterFormat.LARGE_PRINT),
)
_NEED_OF = {fmt: need for need, fmt in _FORMAT_NEEDS}


def letter_format(needs: Sequence[SupportNeed] | set[SupportNeed]) -> LetterFormat:
    """The format of a letter for a member with these support needs."""
    for need, fmt in _FORMAT_NEEDS:
        if need in needs:
            return fmt
    return LetterFormat.STANDARD


def _has(need: SupportNeed) -> ColumnElement[bool]:
    return exists().where(
        MemberSupportNeed.member_id == MailingRecipient.member_id,
        MemberSupportNeed.need == need,
    )


def _format_clause(fmt: LetterFormat) -> ColumnElement[bool]:
    """SQL for "this recipient's letter is in ``fmt``", matching ``letter_format``."""
    stronger: list[ColumnElement[bool]] = []
    for need, each in _FORMAT_NEEDS:
        if each is fmt:
            return and_(_has(need), *(not_(c) for c in stronger))
        stronger.append(_has(need))
    return and_(*(not_(c) for c in stronger))


def _waiting(mailing: Mailing) -> list[ColumnElement[bool]]:
    """The letters of ``mailing`` still to be printed."""
    return [
        MailingRecipient.mailing_id == mailing.id,
        MailingRecipient.channel == ContactChannel.POST,
        MailingRecipient.member_id.is_not(None),
        MailingRecipient.status == RecipientStatus.PENDING,
    ]


@dataclass(frozen=True)
class LetterBatch:
    """One printable batch: the waiting letters of a format, ids first to last."""

    format: LetterFormat
    number: int
    of: int
    first_id: int
    last_id: int
    size: int

    @property
    def label(self) -> str:
        return f"Batch {self.number} of {self.of}"


@dataclass(frozen=True)
class LetterSummary:
    """The letters of one mailing: how many wait in each format, and their batches."""

    waiting: dict[LetterFormat, int]
    batches: dict[LetterFormat, list[LetterBatch]]
    printed: int
    not_sent: int
    #: Members who need easy read wait, but the mailing has no easy-read version.
    easy_read_missing: bool

    @property
    def total_waiting(self) -> int:
        return sum(self.waiting.values())

    @property
    def total(self) -> int:
        return self.total_waiting + self.printed + self.not_sent


def _chunks(ids: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _waiting_ids(mailing: Mailing, fmt: LetterFormat) -> list[int]:
    return list(
        db.session.scalars(
            select(MailingRecipient.id)
            .where(*_waiting(mailing), _format_clause(fmt))
            .order_by(MailingRecipient.id)
        )
    )


def letter_summary(mailing: Mailing, *, batch_size: int = BATCH_SIZE) -> LetterSummary:
    """How many letters wait in each format, their batches, and those done."""
    waiting: dict[LetterFormat, int] = {}
    batches: dict[LetterFormat, list[LetterBatch]] = {}
    for fmt in LetterFormat:
        ids = _waiting_ids(mailing, fmt)
        waiting[fmt] = len(ids)
        if not fmt.printed or (
            fmt is LetterFormat.EASY_READ and not _has_easy_read(mailing)
        ):
            continue
        chunks = list(_chunks(ids, batch_size))
        batches[fmt] = [
            LetterBatch(fmt, n, len(chunks), chunk[0], chunk[-1], len(chunk))
            for n, chunk in enumerate(chunks, start=1)
        ]
    done = dict(
        db.session.execute(
            select(MailingRecipient.status, func.count())
            .where(
                MailingRecipient.mailing_id == mailing.id,
                MailingRecipient.channel == ContactChannel.POST,
                MailingRecipient.status.in_(
                    (RecipientStatus.PRINTED, RecipientStatus.SKIPPED)
                ),
            )
            .group_by(MailingRecipient.status)
        ).all()
    )
    return LetterSummary(
        waiting=waiting,
        batches=batches,
        printed=done.get(RecipientStatus.PRINTED, 0),
        not_sent=done.get(RecipientStatus.SKIPPED, 0),
        easy_read_missing=waiting[LetterFormat.EASY_READ] > 0
        and not _has_easy_read(mailing),
    )


def letters_waiting(mailing: Mailing) -> int:
    """How many of ``mailing``'s letters are still to be printed (every format)."""
    return db.session.scalar(select(func.count()).where(*_waiting(mailing))) or 0


def _has_easy_read(mailing: Mailing) -> bool:
    return bool(mailing.easy_read_body.strip())


def printable(mailing: Mailing, fmt: LetterFormat) -> bool:
    """Whether Engage prints ``fmt`` letters of ``mailing`` (easy read needs its
    easy-read version)."""
    return fmt.printed and (
        fmt is not LetterFormat.EASY_READ or _has_easy_read(mailing)
    )


# One batch --------------------------------------------------------------------------


@dataclass(frozen=True)
class Letter:
    """One member's letter in a batch."""

    recipient: MailingRecipient
    member: Member

    @property
    def address_lines(self) -> list[str]:
        """The address block: name, address lines, postcode."""
        lines = [line.strip() for line in (self.member.address or "").splitlines()]
        return [
            self.member.name or "",
            *(line for line in lines if line),
            self.member.postcode or "",
        ]


@dataclass(frozen=True)
class LeftOut:
    """A letter not printed, and why (in plain words)."""

    recipient: MailingRecipient
    reason: str


@dataclass
class BatchLetters:
    """The letters of one batch to print, and those left out when it was made."""

    format: LetterFormat
    letters: list[Letter] = field(default_factory=list)
    left_out: list[LeftOut] = field(default_factory=list)


def why_not_posted(member: Member) -> str | None:
    """Why ``member`` is not sent a letter now, or None if they may be."""
    if member.status is not MemberStatus.ACTIVE:
        return "the member has left the scheme"
    if not may_contact(member, ContactChannel.POST):
        return "the member no longer agrees to letters"
    if not (member.address or "").strip() or not (member.postcode or "").strip():
        return "no postal address on the member's record"
    return None


def _members_of(
    where: Sequence[ColumnElement[bool]], *, limit: int | None = None
) -> list[tuple[MailingRecipient, Member]]:
    query = (
        select(MailingRecipient, Member)
        .join(Member, Member.id == MailingRecipient.member_id)
        .where(*where)
        .order_by(MailingRecipient.id)
        .options(selectinload(Member.consents), selectinload(Member.support_needs))
    )
    if limit is not None:
        query = query.limit(limit)
    return [(r, m) for r, m in db.session.execute(query)]


def batch_letters(
    mailing: Mailing,
    fmt: LetterFormat,
    first_id: int,
    last_id: int,
    *,
    batch_size: int = BATCH_SIZE,
) -> BatchLetters:
    """The waiting letters of ``fmt`` with ids from ``first_id`` to ``last_id`` (at
    most ``batch_size``), consent checked again now. NotFound for a batch that is
    not printed here, or has nothing left to print."""
    if not fmt.printed or (
        fmt is LetterFormat.EASY_READ and not _has_easy_read(mailing)
    ):
        raise NotFound("No such batch of letters")
    found = BatchLetters(fmt)
    rows = _members_of(
        [
            *_waiting(mailing),
            _format_clause(fmt),
            MailingRecipient.id >= first_id,
            MailingRecipient.id <= last_id,
        ],
        limit=batch_size,
    )
    if not rows:
        raise NotFound("No letters waiting in this batch")
    for recipient, member in rows:
        reason = why_not_posted(member)
        if reason is None:
            found.letters.append(Letter(recipient, member))
        else:
            found.left_out.append(LeftOut(recipient, reason))
    return found


def long_date(day: date) -> str:
    """A date in words, the UK way: "7 July 2026"."""
    return f"{day.day} {day:%B %Y}"


def letters_html(
    mailing: Mailing, batch: BatchLetters, *, label: str, today: date
) -> str:
    """The HTML of a batch's letters, one to a page, for the PDF writer."""
    easy_read = batch.format is LetterFormat.EASY_READ
    return render_template(
        "mailings/letters_pdf.html",
        mailing=mailing,
        batch=batch,
        label=label,
        organisation=identity(),
        date_in_words=long_date(today),
        body=letter_markup(mailing.easy_read_body if easy_read else mailing.body),
    )


def _batch_words(
    mailing: Mailing, fmt: LetterFormat, first_id: int, last_id: int, count: int
) -> str:
    """A batch as the letters page names it ("batch 2 of 3"), never by its ids."""
    for batch in letter_summary(mailing).batches.get(fmt, []):
        if (batch.first_id, batch.last_id) == (first_id, last_id):
            return f"{fmt.label} letters, batch {batch.number} of {batch.of}"
    return f"{fmt.label} letters, {count:,} " + ("letter" if count == 1 else "letters")


def letters_pdf(
    mailing: Mailing,
    fmt: LetterFormat,
    first_id: int,
    last_id: int,
    *,
    actor: User,
    now: datetime,
    seconds: float = PDF_SECONDS,
) -> tuple[bytes, BatchLetters]:
    """The PDF of one batch (and the batch), its download audited.

    Raises NotFound for no such batch, PdfError when the PDF cannot be made, and
    ``NothingToPrint`` when everyone in the batch was left out.
    """
    batch = batch_letters(mailing, fmt, first_id, last_id)
    if not batch.letters:
        raise NothingToPrint(
            "Nobody in this batch can be sent a letter now: mark the batch as "
            "posted to record why."
        )
    label = _batch_words(mailing, fmt, first_id, last_id, len(batch.letters))
    html = letters_html(mailing, batch, label=label, today=local_day(now))
    document = html_pdf(
        html,
        stylesheet=STYLESHEET,
        seconds=seconds,
        advice="Try again in a few minutes, or use the post list.",
    )
    record_event(
        actor,
        "export",
        "mailing",
        mailing.id,
        f"letters printed (PDF): {len(batch.letters)} in {fmt.label.lower()}, "
        f"{len(batch.left_out)} left out",
        now=now,
    )
    return document, batch


class NothingToPrint(EngageError):
    """A batch whose members were all left out."""


# Marking a batch as posted ----------------------------------------------------------


@dataclass(frozen=True)
class Posted:
    """What marking a batch as posted did."""

    printed: int
    not_sent: int


def mark_posted(
    mailing: Mailing,
    fmt: LetterFormat,
    first_id: int,
    last_id: int,
    *,
    actor: User,
    now: datetime,
) -> Posted:
    """Mark a batch's letters as printed for post, and those left out as not sent.

    Consent is checked again: anyone who withdrew since the batch was printed is
    marked as not sent, with the reason. Marking a batch a second time changes
    nothing (its letters are no longer waiting).
    """
    try:
        batch = batch_letters(mailing, fmt, first_id, last_id)
    except NotFound:
        return Posted(0, 0)
    outcome = f"Printed for post on {long_date(local_day(now))}"
    for letter in batch.letters:
        letter.recipient.status = RecipientStatus.PRINTED
        letter.recipient.outcome_at = now
        letter.recipient.outcome = outcome
    for left in batch.left_out:
        left.recipient.status = RecipientStatus.SKIPPED
        left.recipient.outcome_at = now
        left.recipient.outcome = f"Not printed: {left.reason}"[:300]
    record_event(
        actor,
        "update",
        "mailing",
        mailing.id,
        f"letters marked as posted: {len(batch.letters)} printed in "
        f"{fmt.label.lower()}, {len(batch.left_out)} not sent",
        now=now,
    )
    return Posted(len(batch.letters), len(batch.left_out))


# The post list ----------------------------------------------------------------------

POST_LIST_COLUMNS = ("Name", "Address", "Postcode", "Format", "Notes")


@dataclass(frozen=True)
class PostList:
    """The post list, ready to send."""

    filename: str
    mimetype: str
    content: bytes
    rows: int


_OTHER_NEEDS = (SupportNeed.BSL, SupportNeed.ADVOCATE, SupportNeed.OTHER)


def _notes(member: Member, fmt: LetterFormat, batch: LetterBatch | None) -> str:
    notes: list[str] = []
    if batch is not None:
        notes.append(f"{batch.label} of {fmt.label.lower()} letters")
    elif fmt is LetterFormat.EASY_READ:
        notes.append("No easy-read version written yet: no letter printed")
    else:
        notes.append("Not printed by Engage")
    needs = {n.need for n in member.support_needs}
    for need in _OTHER_NEEDS:
        if need in needs:
            label = need.label
            if need is SupportNeed.OTHER and member.support_other:
                label = f"Other: {member.support_other.strip()[:200]}"
            notes.append(label)
    return "; ".join(notes)


def post_list(
    mailing: Mailing, fmt_out: str, *, actor: User, now: datetime
) -> PostList:
    """Every letter waiting, one row each (formula-safe CSV or XLSX), audited.

    Members who may no longer be written to are left out (consent checked now).
    """
    summary = letter_summary(mailing)
    rows: list[tuple[str, str, str, str, str]] = []
    left_out = 0
    for fmt in LetterFormat:
        ranges = summary.batches.get(fmt, [])
        for ids in _chunks(_waiting_ids(mailing, fmt), _CHUNK):
            for recipient, member in _members_of([MailingRecipient.id.in_(ids)]):
                if why_not_posted(member) is not None:
                    left_out += 1
                    continue
                batch = next(
                    (b for b in ranges if b.first_id <= recipient.id <= b.last_id),
                    None,
                )
                rows.append(
                    (
                        member.name or "",
                        ", ".join(
                            line.strip()
                            for line in (member.address or "").splitlines()
                            if line.strip()
                        ),
                        member.postcode or "",
                        fmt.label,
                        _notes(member, fmt, batch),
                    )
                )
    content = write_table(fmt_out, POST_LIST_COLUMNS, rows, title="Post list")
    record_event(
        actor,
        "export",
        "mailing",
        mailing.id,
        f"post list ({fmt_out}): {len(rows)} letters, {left_out} left out",
        now=now,
    )
    return PostList(
        f"post-list-mailing-{mailing.id}-{local_day(now).isoformat()}.{fmt_out}",
        mimetype(fmt_out),
        content,
        len(rows),
    )


def get_mailing(mailing_id: int) -> Mailing:
    """The mailing with ``mailing_id``, or NotFound."""
    mailing = db.session.get(Mailing, mailing_id)
    if mailing is None:
        raise NotFound("No such mailing")
    return mailing
