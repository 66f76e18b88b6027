"""Importing survey responses from other tools' exports: preview, map, apply.

The same engine pieces as the other imports (``engage.imports``: the preview, pending
uploads, all or nothing, audit), with what responses need on top: the survey they
belong to, the tool's file layout (``tool_exports``) and the matching of the file's
columns to the survey's questions. Every response gets an external key (the tool's
respondent id, or a hash of the row), so importing the same file again adds nothing.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime
from typing import IO
from typing import TYPE_CHECKING

from sqlalchemy import insert
from sqlalchemy import select

from engage.audit.services import record_event
from engage.errors import ValidationError
from engage.extensions import db
from engage.imports.models import PendingImport
from engage.imports.services import MAX_LISTED
from engage.imports.services import ImportPreview
from engage.imports.services import Outcome
from engage.imports.services import PlannedRow
from engage.imports.services import get_pending_import
from engage.imports.services import keep_pending
from engage.imports.services import pending_file
from engage.imports.services import purge_pending_imports
from engage.imports.services import refusal
from engage.imports.tabular import MAX_ROWS
from engage.imports.tabular import TableError
from engage.imports.tabular import blank_columns
from engage.imports.tabular import read_grid
from engage.surveys.models import Answer
from engage.surveys.models import Question
from engage.surveys.models import Response
from engage.surveys.models import ResponseSource
from engage.surveys.models import Survey
from engage.surveys.models import SurveyStatus
from engage.surveys.results.tool_exports import AnswerValues
from engage.surveys.results.tool_exports import SourceColumn
from engage.surveys.results.tool_exports import Tool
from engage.surveys.results.tool_exports import ToolExport
from engage.surveys.results.tool_exports import ToolRow
from engage.surveys.results.tool_exports import ambiguous_date
from engage.surveys.results.tool_exports import answer_column
from engage.surveys.results.tool_exports import auto_map
from engage.surveys.results.tool_exports import check_mapping
from engage.surveys.results.tool_exports import header_rows
from engage.surveys.results.tool_exports import parse_day
from engage.surveys.results.tool_exports import parse_export
from engage.surveys.results.tool_exports import read_answers
from engage.surveys.results.tool_exports import row_key
from engage.surveys.rollup import count_imported
from engage.templating import format_date

if TYPE_CHECKING:
    from engage.accounts.models import User

#: Rows written per INSERT batch.
BATCH = 1_000


def pending_kind(survey_id: int) -> str:
    """The PendingImport kind of a survey's response imports."""
    return f"responses:{survey_id}"


@dataclass(frozen=True)
class ResponseDraft:
    """One row ready to save: its key, day and answers."""

    external_key: str
    submitted_on: date
    answers: list[AnswerValues]


@dataclass
class ResponsesPreview(ImportPreview):
    """An import preview with the tool, the file's columns and their matching."""

    tool: str = ""
    tool_key: str = ""  #: the Tool's value
    #: A date of the file that reads either way, when the file cannot tell its
    #: order and the officer is asked ("" when the file can tell).
    date_example: str = ""
    #: Whether the dates are read day first (None: not known, nothing planned).
    day_first: bool | None = None
    columns: list[SourceColumn] = field(default_factory=list)
    mapping: dict[str, int | None] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)

    def date_readings(self) -> tuple[str, str]:
        """``date_example`` read day first and month first, as people write dates."""
        return tuple(  # type: ignore[return-value]
            format_date(parse_day(self.date_example, dayfirst=order))
            for order in (True, False)
        )

    def summary(self) -> str:
        """``"12 added, 3 already imported"`` (no personal data: audit-safe)."""
        return f"{self.created} added, {self.unchanged} already imported"


def preview_responses(
    survey: Survey,
    source: IO[bytes],
    filename: str,
    *,
    mapping: Mapping[str, int | None] | None = None,
    day_first: bool | None = None,
    max_rows: int = MAX_ROWS,
) -> ResponsesPreview:
    """Read an export and check every row against the survey, writing nothing.

    Without a ``mapping`` the columns are matched to questions by their text. When
    the file's dates could be read either way, ``day_first`` says how (else the
    survey's last answer; else the preview asks, and plans nothing).
    """
    preview = ResponsesPreview(pending_kind(survey.id), filename)
    if survey.status is SurveyStatus.DRAFT:
        # A draft's questions may still change, and answers to a changed or removed
        # question would be lost.
        preview.file_error = (
            "Open the survey before importing responses: its questions are fixed "
            "once it opens, so no imported answer can be lost. (Close it straight "
            "after if it should not take answers of its own.)"
        )
        return preview
    try:
        export = parse_export(read_grid(source, filename, max_rows=max_rows + 2))
    except TableError as error:
        preview.file_error = error.message
        return preview
    preview.tool = export.tool.label
    preview.tool_key = export.tool.value
    preview.columns = export.columns
    preview.dropped = export.dropped
    preview.rows_read = len(export.rows)
    preview.day_first = export.dayfirst
    if export.dayfirst is None:
        preview.date_example = ambiguous_date([r.when for r in export.rows]) or ""
        preview.day_first = (
            day_first if day_first is not None else survey.import_day_first
        )
    questions = {q.id: q for q in survey.questions}
    chosen = auto_map(export.columns, survey.questions) if mapping is None else mapping
    preview.mapping = {
        c.key: chosen.get(c.key) if chosen.get(c.key) in questions else None
        for c in export.columns
    }
    problems = check_mapping(preview.mapping, export.columns)
    if problems:
        preview.file_error = " ".join(problems)
        return preview
    if not any(preview.mapping.values()):
        preview.file_error = "No column is matched to a question of this survey."
        return preview
    if preview.day_first is None:
        preview.file_error = (
            f"Say how the dates are written: “{preview.date_example}” could be "
            "either day first or month first, and no date in the file tells."
        )
        return preview
    _plan_rows(export, preview, questions, survey.id, preview.day_first)
    return preview


def _plan_rows(
    export: ToolExport,
    preview: ResponsesPreview,
    questions: Mapping[int, Question],
    survey_id: int,
    day_first: bool,
) -> None:
    mapped = [
        (c, questions[q]) for c in export.columns if (q := preview.mapping[c.key])
    ]
    unmatched = [c.heading for c in export.columns if not preview.mapping[c.key]]
    if unmatched:
        preview.notes.append(
            "These columns are not imported: " + ", ".join(unmatched) + "."
        )
    if export.dropped:
        preview.notes.append(
            "These columns of the tool are never stored: "
            + ", ".join(export.dropped)
            + "."
        )
    existing = set(
        db.session.scalars(
            select(Response.external_key).where(
                Response.survey_id == survey_id, Response.external_key.is_not(None)
            )
        )
    )
    seen: dict[str, int] = {}
    for row in export.rows:
        answers, problems = _read_row(export, row, mapped)
        day = parse_day(row.when, dayfirst=day_first)
        if day is None:
            problems.append(f"“{row.when[:40]}” is not a date the import can read.")
        key = row_key(export.tool, row, [c for c, _ in mapped], dayfirst=day_first)
        if key in seen:
            problems.append(f"Repeats the response of row {seen[key]}.")
        for message in problems:
            preview.add_error(row.number, message)
        if problems or day is None:
            continue
        seen[key] = row.number
        outcome = Outcome.UNCHANGED if key in existing else Outcome.CREATE
        draft = ResponseDraft(key, day, answers)
        described = f"{day.isoformat()}: {len(answers)} answers"
        preview.rows.append(PlannedRow(row.number, key, outcome, (), described, draft))
    if preview.error_count > MAX_LISTED:
        preview.notes.append(f"Only the first {MAX_LISTED} problems are listed.")


def _read_row(
    export: ToolExport, row: ToolRow, mapped: list[tuple[SourceColumn, Question]]
) -> tuple[list[AnswerValues], list[str]]:
    """One row's answers to the mapped questions, and what is wrong with them."""
    problems: list[str] = []
    answers: list[AnswerValues] = []
    for column, question in mapped:
        found, wrong = read_answers(export.tool, row, column, question)
        answers.extend(found)
        problems.extend(wrong)
    if not answers and not problems:
        # A response that answers nothing would count as a respondent.
        problems.append("Answers none of the survey's questions, so it is not added.")
    return answers, problems


def apply_responses(
    survey: Survey,
    source: IO[bytes],
    filename: str,
    *,
    mapping: Mapping[str, int | None] | None,
    actor: User | str,
    now: datetime,
    day_first: bool | None = None,
    progress: Callable[[int], None] | None = None,
) -> ResponsesPreview:
    """Import the new responses in one unit of work: all of them, or none.

    A date order given for a file that cannot tell its own is remembered by the
    survey. Flushes; the caller commits. Raises ValidationError if any row is wrong.
    """
    preview = preview_responses(
        survey, source, filename, mapping=mapping, day_first=day_first
    )
    if not preview.is_valid:
        raise ValidationError(refusal(preview))
    if preview.date_example:
        survey.import_day_first = preview.day_first
    actor_id = None if isinstance(actor, str) else actor.id
    new = [row.draft for row in preview.rows if row.outcome is Outcome.CREATE]
    with db.session.begin_nested():  # a failure part-way undoes every row
        for start in range(0, len(new), BATCH):
            _save(survey.id, new[start : start + BATCH], actor_id)
            if progress is not None:
                progress(len(new[start : start + BATCH]))
        record_event(
            actor,
            "import",
            "survey_response",
            survey.id,
            f"import responses ({preview.tool}): {preview.summary()}",
            now=now,
        )
    return preview


def _save(survey_id: int, drafts: list[ResponseDraft], actor_id: int | None) -> None:
    ids = dict(
        db.session.execute(
            insert(Response).returning(Response.external_key, Response.id),
            [
                {
                    "survey_id": survey_id,
                    "submitted_on": d.submitted_on,
                    "source": ResponseSource.IMPORT,
                    "external_key": d.external_key,
                    "entered_by_id": actor_id,
                }
                for d in drafts
            ],
        ).all()
    )
    answers = [
        {
            "response_id": ids[d.external_key],
            "question_id": question_id,
            "text": text,
            "number": number,
            "choice_id": choice_id,
        }
        for d in drafts
        for question_id, text, number, choice_id in d.answers
    ]
    if answers:
        db.session.execute(insert(Answer), answers)
    # Core inserts skip the ORM hook that keeps the dashboard's rollup up to date.
    count_imported(db.session.connection(), survey_id, (d.submitted_on for d in drafts))


# Upload → preview → confirm ---------------------------------------------------------


def prepare_responses(
    survey: Survey,
    filename: str,
    content: bytes,
    *,
    mapping: Mapping[str, int | None] | None = None,
    actor: User,
    now: datetime,
) -> tuple[ResponsesPreview, PendingImport | None]:
    """Preview an upload and keep a copy without the tool's columns of who answered.

    The copy (``keep_pending``) replaces the actor's earlier upload for the survey;
    it is kept if the file was read, whatever its problems, so that the matching of
    columns can be changed on the preview.
    """
    purge_pending_imports(now=now)
    preview = preview_responses(survey, io.BytesIO(content), filename, mapping=mapping)
    if preview.file_error is not None and not preview.columns:
        return preview, None
    tool = Tool(preview.tool_key)
    copy = blank_columns(
        content, filename, answer_column(tool), header_rows=header_rows(tool)
    )
    pending = keep_pending(
        pending_kind(survey.id), filename, copy, actor=actor, now=now
    )
    return preview, pending


def get_pending_responses(
    survey: Survey, pending_id: int, *, user: User, now: datetime
) -> PendingImport:
    """The user's own recent upload for this survey, else NotFound."""
    return get_pending_import(
        pending_id, kind=pending_kind(survey.id), user=user, now=now
    )


def recheck_responses(
    survey: Survey,
    pending: PendingImport,
    mapping: Mapping[str, int | None],
    *,
    day_first: bool | None = None,
) -> ResponsesPreview:
    """The preview of a kept upload with another matching (and date order)."""
    source, name = pending_file(pending)
    return preview_responses(survey, source, name, mapping=mapping, day_first=day_first)


def confirm_responses(
    survey: Survey,
    pending: PendingImport,
    mapping: Mapping[str, int | None],
    *,
    actor: User,
    now: datetime,
    day_first: bool | None = None,
) -> ResponsesPreview:
    """Apply a kept upload with this mapping (all or nothing) and delete it."""
    source, name = pending_file(pending)
    preview = apply_responses(
        survey,
        source,
        name,
        mapping=mapping,
        actor=actor,
        now=now,
        day_first=day_first,
    )
    db.session.delete(pending)
    db.session.flush()
    return preview
