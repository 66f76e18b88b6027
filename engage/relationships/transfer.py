"""The interaction log as table rows: the columns imported and exported.

An import only adds interactions. Each row is keyed: ``import:`` and its reference
(the other tool's id) when the file has one, else ``sha256:`` and a digest of the
row's values. A row whose key is already saved, or whose values are those of an
interaction already logged on that day, is "already imported": importing the same
file twice, or an export back, adds nothing.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import timedelta
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from engage.accounts.models import User
from engage.audiences.models import Audience
from engage.audiences.models import AudienceContact
from engage.clock import today
from engage.extensions import db
from engage.imports.rows import RowReader
from engage.imports.rows import parse_day
from engage.imports.tabular import unix_newlines
from engage.relationships.models import Direction
from engage.relationships.models import Interaction
from engage.relationships.models import InteractionKind
from engage.relationships.models import InteractionStatus
from engage.relationships.models import Sentiment
from engage.relationships.models import Theme
from engage.relationships.services import MAX_SUMMARY
from engage.relationships.services import InteractionData
from engage.relationships.services import record_interaction
from engage.templating import format_date

COLUMNS = (
    "date",
    "kind",
    "direction",
    "audiences",
    "contacts",
    "heading",
    "summary",
    "themes",
    "sentiment",
    "staff",
    "reference",
)
REQUIRED = ("date", "kind", "direction", "audiences", "heading", "sentiment")
ALIASES = {
    "occurred_on": "date",
    "type": "kind",
    "audience": "audiences",
    "contact": "contacts",
    "subject": "heading",
    "theme": "themes",
    "id": "reference",
    "ref": "reference",
}
#: What to write in each column (shown on the upload page).
HELP = {
    "date": "The day it took place, written like 2026-07-31 (or 31/07/2026).",
    "kind": "Meeting, call, letter, email, event or social media.",
    "direction": "“We contacted them” (outbound) or “They contacted us” (inbound).",
    "audiences": "The names of one or more audiences on the map, separated by “;”.",
    "contacts": "Optional: names of contacts of those audiences, separated by “;”.",
    "heading": "A short heading: the meeting’s name or the email’s subject.",
    "summary": "Optional: what was said.",
    "themes": "Optional: names of themes in use, separated by “;”.",
    "sentiment": "How it went: positive, neutral, negative or mixed.",
    "staff": "Optional: email addresses of the staff who took part, separated by “;”.",
    "reference": "Optional: the interaction’s id in the tool it comes from. A row "
    "with a reference already imported is not added again.",
}

E = TypeVar("E")

#: The longest reference kept (the key must fit the interaction's source key).
MAX_REFERENCE = 200

_KINDS = {
    "meeting": InteractionKind.MEETING,
    "call": InteractionKind.CALL,
    "phone": InteractionKind.CALL,
    "phonecall": InteractionKind.CALL,
    "telephone": InteractionKind.CALL,
    "telephonecall": InteractionKind.CALL,
    "letter": InteractionKind.LETTER,
    "email": InteractionKind.EMAIL,
    "event": InteractionKind.EVENT,
    "eventconversation": InteractionKind.EVENT,
    "social": InteractionKind.SOCIAL,
    "socialmedia": InteractionKind.SOCIAL,
}
_DIRECTIONS = {
    "outbound": Direction.OUTBOUND,
    "out": Direction.OUTBOUND,
    "inbound": Direction.INBOUND,
    "in": Direction.INBOUND,
}


def _fold(text: str) -> str:
    """Lower case with spaces, hyphens and underscores dropped: "Email" → "email"."""
    return re.sub(r"[\s\-_]+", "", text.strip().lower())


def _name(text: str) -> str:
    """A name as matched: lower case, single spaces, no spaces around ";"."""
    return re.sub(r"\s*;\s*", ";", " ".join(text.lower().split()))


for _kind in InteractionKind:
    _KINDS[_fold(_kind.label)] = _kind
    _KINDS[_fold(_kind.value)] = _kind
for _direction in Direction:
    _DIRECTIONS[_fold(_direction.label)] = _direction


@dataclass(frozen=True)
class InteractionDraft:
    """One checked row: what will be recorded and the key it is recorded under."""

    data: InteractionData
    reference: str
    digest: str
    audience_names: tuple[str, ...]

    @property
    def source_key(self) -> str:
        return f"import:{self.reference}" if self.reference else f"sha256:{self.digest}"


def digest(data: InteractionData) -> str:
    """A digest of an interaction's values, the same for a row and what it saved."""
    parts = [
        data.occurred_on.isoformat(),
        data.kind.value,
        data.direction.value,
        " ".join(data.subject.split()),
        unix_newlines(data.summary).strip(),
        data.sentiment.value if data.sentiment else "",
        ",".join(str(i) for i in sorted(set(data.audience_ids))),
        ",".join(str(i) for i in sorted(set(data.contact_ids))),
        ",".join(str(i) for i in sorted(set(data.theme_ids))),
        ",".join(str(i) for i in sorted(set(data.staff_ids))),
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _saved_data(interaction: Interaction) -> InteractionData:
    return InteractionData(
        kind=interaction.kind,
        direction=interaction.direction,
        occurred_on=interaction.occurred_on,
        subject=interaction.subject,
        summary=interaction.summary,
        sentiment=interaction.sentiment,
        audience_ids=tuple(a.id for a in interaction.audiences),
        contact_ids=tuple(c.id for c in interaction.contacts),
        staff_ids=tuple(u.id for u in interaction.staff),
        theme_ids=tuple(t.id for t in interaction.themes),
    )


def _split(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(";") if part.strip()]


def _match_names(cell: str, known: Iterable[str]) -> tuple[list[str], list[str]]:
    """Names written in ``cell``, separated by ";", matched to ``known`` (folded).

    A name that itself holds a ";" ("Police; prisons and probation") is matched
    whole, the longest run of parts first. Returns (matched keys, names unknown).
    """
    names = set(known)
    parts = _split(cell)
    matched: list[str] = []
    unknown: list[str] = []
    start = 0
    while start < len(parts):
        for end in range(len(parts), start, -1):
            candidate = _name(";".join(parts[start:end]))
            if candidate in names:
                matched.append(candidate)
                start = end
                break
        else:
            unknown.append(parts[start])
            start += 1
    return matched, unknown


def _quoted(names: list[str]) -> str:
    return ", ".join(f"“{n}”" for n in names)


class InteractionImporter:
    """One import of the interaction log: names, keys and staff looked up once."""

    def __init__(self) -> None:
        self._today = today()
        self._audiences = {
            _name(a.name): a for a in db.session.scalars(select(Audience))
        }
        self._contacts: dict[int, dict[str, list[AudienceContact]]] = {}
        for contact in db.session.scalars(select(AudienceContact)):
            by_name = self._contacts.setdefault(contact.audience_id, {})
            by_name.setdefault(_name(contact.name), []).append(contact)
        self._themes = {
            _name(t.name): t
            for t in db.session.scalars(select(Theme).where(Theme.is_active))
        }
        self._users = {u.email.lower(): u for u in db.session.scalars(select(User))}
        self._keys: dict[str, int] = {
            key: interaction_id
            for interaction_id, key in db.session.execute(
                select(Interaction.id, Interaction.source_key).where(
                    Interaction.source_key.is_not(None)
                )
            )
            if key is not None
        }
        #: The digests of the interactions logged on each day read so far.
        self._days: dict[date, dict[str, Interaction]] = {}

    def read_row(self, values: Mapping[str, str], number: int) -> InteractionDraft:
        """Check one row and resolve its names to records."""
        cells = RowReader(values)
        day = self._date(cells, values.get("date", ""))
        kind = self._lookup(
            cells,
            values.get("kind", ""),
            _KINDS,
            "Kind",
            "meeting, call, letter, email, event or social media",
        )
        direction = self._lookup(
            cells,
            values.get("direction", ""),
            _DIRECTIONS,
            "Direction",
            "“we contacted them” or “they contacted us”",
        )
        sentiment = self._lookup(
            cells,
            values.get("sentiment", ""),
            {_fold(s.value): s for s in Sentiment},
            "Sentiment",
            "positive, neutral, negative or mixed",
        )
        heading = cells.text(
            "heading",
            label="a heading (the Heading column)",
            max_length=300,
            required=True,
        )
        summary = cells.text(
            "summary", label="the summary", max_length=MAX_SUMMARY, strip=False
        )
        reference = cells.text(
            "reference", label="the reference", max_length=MAX_REFERENCE
        )
        audiences = self._audiences_of(cells, values.get("audiences", ""))
        contacts = self._contacts_of(cells, values.get("contacts", ""), audiences)
        themes = self._themes_of(cells, values.get("themes", ""))
        staff = self._staff_of(cells, values.get("staff", ""))
        cells.check()
        data = InteractionData(
            kind=cells.given(kind),
            direction=cells.given(direction),
            occurred_on=cells.given(day),
            subject=heading,
            summary=unix_newlines(summary).strip(),
            sentiment=cells.given(sentiment),
            audience_ids=tuple(a.id for a in audiences),
            contact_ids=tuple(c.id for c in contacts),
            staff_ids=tuple(u.id for u in staff),
            theme_ids=tuple(t.id for t in themes),
        )
        return InteractionDraft(
            data, reference, digest(data), tuple(a.name for a in audiences)
        )

    def _date(self, cells: RowReader, written: str) -> date | None:
        written = written.strip()
        if not written:
            cells.problem("Date: enter the day it took place.")
            return None
        day = parse_day(written)
        if day is None:
            cells.problem(
                f"Date: write it like 31/07/2026 or 2026-07-31, not “{written}”."
            )
            return None
        if day > self._today + timedelta(days=1):
            cells.problem(f"Date: {format_date(day)} is in the future.")
            return None
        return day

    @staticmethod
    def _lookup(
        cells: RowReader,
        written: str,
        choices: Mapping[str, E],
        column: str,
        listing: str,
    ) -> E | None:
        if not written.strip():
            cells.problem(f"{column}: enter {listing}.")
            return None
        found = choices.get(_fold(written))
        if found is None:
            cells.problem(f"{column}: write {listing}, not “{written.strip()}”.")
        return found

    def _audiences_of(self, cells: RowReader, cell: str) -> list[Audience]:
        matched, unknown = _match_names(cell, self._audiences)
        if unknown:
            cells.problem(
                "Audiences: there is no audience called " + _quoted(unknown) + "."
            )
        elif not matched:
            cells.problem("Audiences: enter the name of at least one audience.")
        chosen: dict[int, Audience] = {}
        for key in matched:
            audience = self._audiences[key]
            chosen[audience.id] = audience
        return list(chosen.values())

    def _contacts_of(
        self, cells: RowReader, cell: str, audiences: list[Audience]
    ) -> list[AudienceContact]:
        known: dict[str, list[AudienceContact]] = {}
        for audience in audiences:
            for key, contacts in self._contacts.get(audience.id, {}).items():
                known.setdefault(key, []).extend(contacts)
        matched, unknown = _match_names(cell, known)
        if unknown:
            cells.problem(
                "Contacts: "
                + _quoted(unknown)
                + (" is not a contact" if len(unknown) == 1 else " are not contacts")
                + " of the row’s audiences."
            )
        chosen: dict[int, AudienceContact] = {}
        for key in matched:
            if len(known[key]) > 1:
                cells.problem(
                    f"Contacts: more than one contact of the row’s audiences is "
                    f"called “{known[key][0].name}”."
                )
                continue
            chosen[known[key][0].id] = known[key][0]
        return list(chosen.values())

    def _themes_of(self, cells: RowReader, cell: str) -> list[Theme]:
        matched, unknown = _match_names(cell, self._themes)
        if unknown:
            cells.problem(
                "Themes: there is no theme in use called " + _quoted(unknown) + "."
            )
        return list({self._themes[k].id: self._themes[k] for k in matched}.values())

    def _staff_of(self, cells: RowReader, cell: str) -> list[User]:
        staff: dict[int, User] = {}
        for email in _split(cell):
            user = self._users.get(email.lower())
            if user is None:
                cells.problem(
                    f"Staff: there is no staff user with the email “{email}”."
                )
            else:
                staff[user.id] = user
        return list(staff.values())

    def key(self, draft: InteractionDraft) -> str:
        label = f"{format_date(draft.data.occurred_on)}: {draft.data.subject}"
        return f"{label} ({draft.reference})" if draft.reference else label

    def identity(self, draft: InteractionDraft) -> str:
        """What makes two rows of a file the same interaction."""
        return draft.source_key

    def find(self, draft: InteractionDraft) -> Interaction | None:
        """The interaction this row already is (by its key or its values), or None."""
        interaction_id = self._keys.get(draft.source_key)
        if interaction_id is not None:
            return db.session.get(Interaction, interaction_id)
        return self._logged_on(draft.data.occurred_on).get(draft.digest)

    def _logged_on(self, day: date) -> dict[str, Interaction]:
        if day not in self._days:
            self._days[day] = {
                digest(_saved_data(i)): i
                for i in db.session.scalars(
                    select(Interaction)
                    .where(Interaction.occurred_on == day)
                    .options(
                        selectinload(Interaction.audiences),
                        selectinload(Interaction.contacts),
                        selectinload(Interaction.staff),
                        selectinload(Interaction.themes),
                    )
                )
            }
        return self._days[day]

    def changes(self, existing: Interaction, draft: InteractionDraft) -> list[str]:
        """Nothing: an imported interaction is never changed by importing again."""
        return []

    def describe(self, draft: InteractionDraft) -> str:
        data = draft.data
        return (
            f"{data.kind.label} with {'; '.join(draft.audience_names)}, "
            f"{(data.sentiment.label if data.sentiment else '').lower()}"
        )

    def notes(self) -> list[str]:
        return []

    def save(
        self,
        existing: Interaction | None,
        draft: InteractionDraft,
        *,
        actor: User | str,
        now: datetime,
    ) -> None:
        if existing is not None:
            return
        interaction = record_interaction(
            draft.data,
            actor=actor,
            now=now,
            status=InteractionStatus.CONFIRMED,
            source_key=draft.source_key,
        )
        self._keys[draft.source_key] = interaction.id


def export_rows() -> list[list[str]]:
    """Every confirmed interaction, oldest first, in COLUMNS order."""
    interactions = db.session.scalars(
        select(Interaction)
        .where(Interaction.status == InteractionStatus.CONFIRMED)
        .options(
            selectinload(Interaction.audiences),
            selectinload(Interaction.contacts),
            selectinload(Interaction.staff),
            selectinload(Interaction.themes),
        )
        .order_by(Interaction.occurred_on, Interaction.id)
    )
    rows = []
    for item in interactions:
        key = item.source_key or ""
        rows.append(
            [
                item.occurred_on.isoformat(),
                item.kind.label,
                item.direction.label,
                "; ".join(a.name for a in item.audiences),
                "; ".join(c.name for c in item.contacts),
                item.subject,
                item.summary,
                "; ".join(t.name for t in item.themes),
                item.sentiment.label if item.sentiment else "",
                "; ".join(u.email for u in item.staff),
                key.removeprefix("import:") if key.startswith("import:") else "",
            ]
        )
    return rows
