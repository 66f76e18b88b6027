"""The import engine: read a table, check every row, preview, then apply all or nothing.

One engine serves every kind of record (audiences, the action plan) and every edge
(the web pages, ``engage import`` and the demo data). What differs by kind lives in
``engage.<feature>.transfer``: its columns and an importer that reads, compares and
saves one row at a time.
"""

from __future__ import annotations

import enum
import io
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta
from typing import IO
from typing import TYPE_CHECKING
from typing import Any
from typing import Protocol

from sqlalchemy import delete
from sqlalchemy import select

from engage.audit.services import record_event
from engage.clock import local_day
from engage.errors import NotFound
from engage.errors import ValidationError
from engage.extensions import db
from engage.imports.models import PendingImport
from engage.imports.rows import RowInvalid
from engage.imports.tabular import MAX_ROWS
from engage.imports.tabular import Row
from engage.imports.tabular import Table
from engage.imports.tabular import TableError
from engage.imports.tabular import blank_columns
from engage.imports.tabular import copy_name
from engage.imports.tabular import mimetype
from engage.imports.tabular import normalise_column
from engage.imports.tabular import read_table
from engage.imports.tabular import row_count
from engage.imports.tabular import write_table

if TYPE_CHECKING:
    from engage.accounts.models import User

KINDS = ("audiences", "actions", "observations", "interactions")
#: Errors and notes kept for the preview (the counts are always complete).
MAX_LISTED = 200
#: Uploads waiting for confirmation are deleted after this long.
#: How long an upload waits for its confirmation (the purge job runs hourly).
PENDING_MAX_AGE = timedelta(hours=1)


class Importer(Protocol):
    """One import run of one kind: the lookups it loaded and how it handles a row.

    ``read_row`` returns a *draft* (the row's values, checked and resolved, with what
    the file leaves out taken from the existing record) or raises RowInvalid.
    """

    def read_row(self, values: Mapping[str, str], number: int) -> Any: ...

    def key(self, draft: Any) -> str: ...

    def find(self, draft: Any) -> Any: ...

    def changes(self, existing: Any, draft: Any) -> list[str]: ...

    def describe(self, draft: Any) -> str: ...

    def notes(self) -> list[str]: ...

    def save(
        self, existing: Any, draft: Any, *, actor: User | str, now: datetime
    ) -> None: ...


@dataclass(frozen=True)
class Kind:
    """What the engine needs to know about one kind of record."""

    name: str  #: "audiences" (in URLs and commands)
    entity: str  #: "audience" (in audit events and messages)
    label: str  #: "audiences" / "the action plan" (in headings)
    columns: tuple[str, ...]  #: exported, in this order
    required: tuple[str, ...]
    aliases: Mapping[str, str]  #: other header names → column
    help: Mapping[str, str]  #: column → what to write in it
    importer: Callable[[], Importer]
    export_rows: Callable[[], Sequence[Sequence[object]]]
    #: Where the pages go after an import ("<name>.index" when empty).
    index_endpoint: str = ""
    #: The preview's heading for a row's key ("Audience" / "Action" when empty).
    key_label: str = ""
    #: The preview's words for rows that change nothing ("Unchanged" when empty).
    unchanged_label: str = ""


def get_kind(name: str) -> Kind:
    """The kind called ``name`` (``audiences``, ``actions``…); NotFound otherwise."""
    # Imported here: the transfer modules build on this package (its RowReader), so
    # the engine loads them only when a kind is asked for.
    from engage.actions import transfer as actions
    from engage.audiences import transfer as audiences
    from engage.metrics import transfer as observations
    from engage.relationships import transfer as interactions

    kinds = {
        "audiences": Kind(
            "audiences",
            "audience",
            "audiences",
            audiences.COLUMNS,
            audiences.REQUIRED,
            audiences.ALIASES,
            audiences.HELP,
            audiences.AudienceImporter,
            audiences.export_rows,
        ),
        "actions": Kind(
            "actions",
            "action",
            "the action plan",
            actions.COLUMNS,
            actions.REQUIRED,
            actions.ALIASES,
            actions.HELP,
            actions.ActionImporter,
            actions.export_rows,
        ),
        "observations": Kind(
            "observations",
            "observation",
            "metric values",
            observations.COLUMNS,
            observations.REQUIRED,
            observations.ALIASES,
            observations.HELP,
            observations.ObservationImporter,
            observations.export_rows,
            index_endpoint="metrics.index",
            key_label="Metric value",
        ),
        "interactions": Kind(
            "interactions",
            "interaction",
            "the interaction log",
            interactions.COLUMNS,
            interactions.REQUIRED,
            interactions.ALIASES,
            interactions.HELP,
            interactions.InteractionImporter,
            interactions.export_rows,
            index_endpoint="interactions.index",
            key_label="Interaction",
            unchanged_label="Already imported",
        ),
    }
    if name not in kinds:
        raise NotFound("There is no such kind of import.")
    return kinds[name]


# Previews -----------------------------------------------------------------------------


class Outcome(enum.StrEnum):
    """What importing a row will do."""

    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class RowError:
    """A problem with one row (row 1 is the header)."""

    row: int
    message: str


@dataclass(frozen=True)
class PlannedRow:
    """A valid row and what importing it will do."""

    row: int
    key: str  #: the record's name or title as written
    outcome: Outcome
    changes: tuple[str, ...] = ()  #: columns that will change (updates)
    details: str = ""  #: a short description (new records)
    draft: Any = field(default=None, compare=False, repr=False)


@dataclass
class ImportPreview:
    """What an import would do: counts, rows to change, errors and notes."""

    kind: str
    filename: str
    rows_read: int = 0
    rows: list[PlannedRow] = field(default_factory=list)
    #: Row errors, the first MAX_LISTED of ``error_count``.
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    notes: list[str] = field(default_factory=list)
    #: Why the file as a whole cannot be used (unreadable, missing columns…).
    file_error: str | None = None

    @property
    def is_valid(self) -> bool:
        """True when the import can be applied."""
        return self.file_error is None and self.error_count == 0

    def count(self, outcome: Outcome) -> int:
        """How many rows have this outcome."""
        return sum(1 for row in self.rows if row.outcome is outcome)

    @property
    def created(self) -> int:
        return self.count(Outcome.CREATE)

    @property
    def updated(self) -> int:
        return self.count(Outcome.UPDATE)

    @property
    def unchanged(self) -> int:
        return self.count(Outcome.UNCHANGED)

    @property
    def to_change(self) -> list[PlannedRow]:
        """Rows that create or update a record, in file order."""
        return [row for row in self.rows if row.outcome is not Outcome.UNCHANGED]

    def summary(self) -> str:
        """``"3 created, 1 updated, 19 unchanged"`` (no personal data: audit-safe)."""
        return (
            f"{self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged"
        )

    def add_error(self, row: int, message: str) -> None:
        """Record a row error (only the first MAX_LISTED are kept for display)."""
        self.error_count += 1
        if len(self.errors) < MAX_LISTED:
            self.errors.append(RowError(row, message))


def preview_import(
    kind: str, source: IO[bytes], filename: str, *, max_rows: int = MAX_ROWS
) -> ImportPreview:
    """Read ``source`` and check every row, writing nothing; return the preview."""
    return _plan(get_kind(kind), source, filename, max_rows)[0]


def _plan(
    kind: Kind, source: IO[bytes], filename: str, max_rows: int
) -> tuple[ImportPreview, Importer | None]:
    preview = ImportPreview(kind.name, filename)
    try:
        table = read_table(source, filename, max_rows=max_rows)
    except TableError as error:
        preview.file_error = error.message
        return preview, None
    preview.rows_read = len(table.rows)
    preview.file_error = _check_columns(kind, table)
    if preview.file_error is not None:
        return preview, None
    ignored = sorted(set(table.columns) - set(kind.columns) - set(kind.aliases) - {""})
    if ignored:
        preview.notes.append("These columns are not used: " + ", ".join(ignored) + ".")
    importer = kind.importer()
    seen: dict[str, int] = {}
    for row in table.rows:
        planned = _plan_row(kind, importer, row, seen, preview)
        if planned is not None:
            preview.rows.append(planned)
    notes = importer.notes()
    preview.notes.extend(notes[:MAX_LISTED])
    if len(notes) > MAX_LISTED:
        preview.notes.append(f"…and {len(notes) - MAX_LISTED:,} more notes.")
    return preview, importer


def _check_columns(kind: Kind, table: Table) -> str | None:
    present = {kind.aliases.get(c, c) for c in table.columns}
    missing = [c for c in kind.required if c not in present]
    if missing:
        return (
            "The file has no "
            + ", ".join(f"“{c}”" for c in missing)
            + (" columns" if len(missing) > 1 else " column")
            + ". The first row must name the columns: "
            + ", ".join(kind.required)
            + "."
        )
    if not table.rows:
        return "The file has no rows to import under its column names."
    return None


def _plan_row(
    kind: Kind,
    importer: Importer,
    row: Row,
    seen: dict[str, int],
    preview: ImportPreview,
) -> PlannedRow | None:
    if row.extra_cells:
        preview.add_error(
            row.number,
            "The row has more cells than there are column names "
            "(is there a comma that should be inside quotes?).",
        )
        return None
    values = _canonical(kind, row.values)
    try:
        draft = importer.read_row(values, row.number)
    except RowInvalid as invalid:
        for message in invalid.messages:
            preview.add_error(row.number, message)
        return None
    key = importer.key(draft)
    # An importer may tell rows apart by more than the key it shows.
    identity = getattr(importer, "identity", None)
    folded = (identity(draft) if identity else key).strip().lower()
    if folded in seen:
        preview.add_error(
            row.number, f"Repeats the {kind.entity} “{key}” of row {seen[folded]}."
        )
        return None
    seen[folded] = row.number
    existing = importer.find(draft)
    if existing is None:
        return PlannedRow(
            row.number,
            key,
            Outcome.CREATE,
            details=importer.describe(draft),
            draft=draft,
        )
    changes = tuple(importer.changes(existing, draft))
    outcome = Outcome.UPDATE if changes else Outcome.UNCHANGED
    return PlannedRow(row.number, key, outcome, changes=changes, draft=draft)


def _canonical(kind: Kind, values: Mapping[str, str]) -> dict[str, str]:
    result = {kind.aliases[k]: v for k, v in values.items() if k in kind.aliases}
    result.update({k: v for k, v in values.items() if k not in kind.aliases})
    return result


# Applying -----------------------------------------------------------------------------


def apply_import(
    kind: str,
    source: IO[bytes],
    filename: str,
    *,
    actor: User | str,
    now: datetime,
    progress: Callable[[int], None] | None = None,
) -> ImportPreview:
    """Import ``source`` in one unit of work: every row, or nothing if any row is wrong.

    The file is checked again (the data may have changed since a preview). Records
    are created or updated through the features' services, which audit each change;
    one more event sums the import up. Flushes; the caller commits. ``progress`` is
    called with 1 after each row written (for a progress bar).
    """
    spec = get_kind(kind)
    preview, importer = _plan(spec, source, filename, MAX_ROWS)
    if not preview.is_valid or importer is None:
        raise ValidationError(refusal(preview))
    with db.session.begin_nested():  # a failure part-way undoes every row
        for planned in preview.to_change:
            existing = (
                importer.find(planned.draft)
                if planned.outcome is Outcome.UPDATE
                else None
            )
            importer.save(existing, planned.draft, actor=actor, now=now)
            if progress is not None:
                progress(1)
        record_event(
            actor,
            "import",
            spec.entity,
            None,
            f"import {kind}: {preview.summary()}",
            now=now,
        )
    return preview


def refusal(preview: ImportPreview) -> str:
    """Why nothing was imported: the file's problem, or how many rows are wrong."""
    if preview.file_error is not None:
        return f"Nothing was imported. {preview.file_error}"
    first = preview.errors[0]
    return (
        f"Nothing was imported: {preview.error_count:,} "
        f"problem{'s' if preview.error_count != 1 else ''} found, the first on row "
        f"{first.row}: {first.message}"
    )


# Pending imports (upload → preview → confirm) -----------------------------------------


def prepare_import(
    kind: str, filename: str, content: bytes, *, actor: User, now: datetime
) -> tuple[ImportPreview, PendingImport | None]:
    """Preview an upload and, if it can be applied and changes something, keep it.

    What is kept is a copy holding only the columns the import reads (see
    ``keep_pending``). Returns the preview and the pending import (or None).
    """
    purge_pending_imports(now=now)
    preview = preview_import(kind, io.BytesIO(content), filename)
    if not preview.is_valid or not preview.to_change:
        return preview, None
    spec = get_kind(kind)
    known = set(spec.columns) | set(spec.aliases)
    copy = blank_columns(content, filename, lambda c: normalise_column(c) in known)
    return preview, keep_pending(kind, filename, copy, actor=actor, now=now)


def keep_pending(
    kind: str, filename: str, copy: bytes, *, actor: User, now: datetime
) -> PendingImport:
    """Keep an upload's copy until it is confirmed, replacing the actor's earlier one.

    ``copy`` is the CSV ``blank_columns`` made of the file: columns the import does
    not read (a tool's email, name and IP address columns among them) are never
    stored. Kept uploads expire after PENDING_MAX_AGE.
    """
    db.session.execute(
        delete(PendingImport).where(
            PendingImport.user_id == actor.id, PendingImport.kind == kind
        )
    )
    pending = PendingImport(
        kind=kind,
        user_id=actor.id,
        filename=filename[:255],
        content=copy,
        created_at=now,
    )
    db.session.add(pending)
    db.session.flush()
    return pending


def pending_file(pending: PendingImport) -> tuple[IO[bytes], str]:
    """A kept upload's copy, and the name to read it by."""
    return io.BytesIO(pending.content), copy_name(pending.filename)


def get_pending_import(
    pending_id: int, *, kind: str, user: User, now: datetime
) -> PendingImport:
    """The user's own recent pending import of this kind, else NotFound."""
    pending = db.session.get(PendingImport, pending_id)
    if (
        pending is None
        or pending.user_id != user.id
        or pending.kind != kind
        or pending.created_at < now - PENDING_MAX_AGE
    ):
        raise NotFound(
            "That import has expired or does not exist. Upload the file again."
        )
    return pending


def confirm_import(
    pending: PendingImport, *, actor: User, now: datetime
) -> ImportPreview:
    """Apply a pending import (all or nothing) and delete it; return what was done."""
    source, name = pending_file(pending)
    preview = apply_import(pending.kind, source, name, actor=actor, now=now)
    db.session.delete(pending)
    db.session.flush()
    return preview


def purge_pending_imports(
    *, now: datetime, max_age: timedelta = PENDING_MAX_AGE
) -> int:
    """Delete pending imports older than ``max_age``; return how many."""
    stale = list(
        db.session.scalars(
            select(PendingImport.id).where(PendingImport.created_at < now - max_age)
        )
    )
    if stale:
        db.session.execute(delete(PendingImport).where(PendingImport.id.in_(stale)))
    return len(stale)


# Exports ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportFile:
    """An exported table, ready to send."""

    filename: str
    mimetype: str
    content: bytes
    rows: int


def export_table(
    kind: str, fmt: str, *, actor: User | str, now: datetime
) -> ExportFile:
    """Every active audience, or every action, as a formula-safe CSV or XLSX file.

    The columns are those the importer reads, so an export imports back unchanged.
    """
    spec = get_kind(kind)
    rows = spec.export_rows()
    content = write_table(fmt, spec.columns, rows, title=kind)
    record_event(
        actor,
        "export",
        spec.entity,
        None,
        f"export {kind}: {row_count(len(rows))} ({fmt})",
        now=now,
    )
    return ExportFile(
        f"{kind}-{local_day(now).isoformat()}.{fmt}", mimetype(fmt), content, len(rows)
    )
