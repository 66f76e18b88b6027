"""Survey exports: the results (for the team, or for publication) and the raw responses.

The results download shows what the same viewer sees on screen for the same
purpose (``engage.surveys.disclosure``): the team's real counts, or, in the
download for publication, small counts suppressed as on the public page.

Both go through ``engage.imports.tabular`` (formula-safe CSV and XLSX, docs/security.md
C3) and are audited. Neither holds members' personal data: responses are numbered,
never named, and the raw export of an anonymous survey has no tier or practice.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from typing import Any

import pandas as pd

from engage.audit.services import record_event
from engage.clock import local_day
from engage.imports.services import ExportFile
from engage.imports.tabular import mimetype
from engage.imports.tabular import row_count
from engage.imports.tabular import write_table
from engage.membership.equality import SUPPRESS_BELOW
from engage.membership.models import Tier
from engage.surveys.models import LIKERT_LABELS
from engage.surveys.models import QuestionKind
from engage.surveys.models import ResponseSource
from engage.surveys.models import Survey
from engage.surveys.results.frames import Frames
from engage.surveys.results.frames import load_frames
from engage.surveys.results.reports import SurveyResults
from engage.surveys.results.segments import segment_labels

if TYPE_CHECKING:
    from engage.accounts.models import User

RESULT_COLUMNS = ("Question number", "Question", "Answer", "Count", "Percent")
SCALE_FIGURE_HIDDEN = (
    "Mean or net score not shown: with the counts shown, it would give away the "
    "hidden ones"
)


def results_rows(results: SurveyResults) -> list[list[object]]:
    """The results table as rows: one per option or statistic of each question."""
    if not results.shown:
        return [["", "Fewer than 5 responses: the results are not shown.", "", "", ""]]
    rows: list[list[object]] = [["", "Responses", "", results.respondents, ""]]
    for q in results.questions:
        head = [q.position, q.text]
        if not q.shown:
            rows.append([*head, _not_shown(results), "", ""])
            continue
        rows.append([*head, "Answered", q.answered, ""])
        # Numbers stay numbers (a negative net score is not text to guard).
        rows.extend(
            [
                *head,
                c.label,
                c.hidden_as if c.count is None else c.count,
                c.shown_percent,
            ]
            for c in q.counts
        )
        if q.mean is not None:
            rows.append([*head, "Mean (1 to 5)", q.mean, ""])
        if q.net_score is not None:
            rows.append([*head, "Net score", round(q.net_score, 1), ""])
        if q.scale_figure_hidden:
            rows.append([*head, SCALE_FIGURE_HIDDEN, "", ""])
        if q.summary is not None:
            s = q.summary
            for label, value in (
                ("Mean", s.mean),
                ("Median", s.median),
                ("Minimum", s.minimum),
                ("Lower quartile", s.lower_quartile),
                ("Upper quartile", s.upper_quartile),
                ("Maximum", s.maximum),
            ):
                rows.append([*head, label, value, ""])
    return rows


def _not_shown(results: SurveyResults) -> str:
    if results.suppressed:
        return "Fewer than 5 answers: not shown"
    return "Nobody answered this question"


def export_results(
    survey: Survey,
    results: SurveyResults,
    fmt: str,
    *,
    actor: User | str,
    now: datetime,
    for_publication: bool = False,
) -> ExportFile:
    """The results as CSV or XLSX, as ``results`` were built for the viewer and
    purpose (real counts for the team; small counts suppressed for publication);
    audited."""
    rows = results_rows(results)
    content = write_table(fmt, RESULT_COLUMNS, rows, title="Results")
    kind = "for publication" if for_publication else "for the team"
    record_event(
        actor,
        "export",
        "survey_results",
        survey.id,
        f"export survey results {kind}: {results.respondents} responses ({fmt})",
        now=now,
    )
    name = "results-for-publication" if for_publication else "results"
    return ExportFile(
        f"survey-{survey.id}-{name}-{local_day(now).isoformat()}.{fmt}",
        mimetype(fmt),
        content,
        len(rows),
    )


def response_table(
    survey: Survey, frames: Frames
) -> tuple[list[str], list[list[object]]]:
    """One row per response: number, day, source, segments (named surveys), answers."""
    questions = list(survey.questions)
    labels = _display_values(survey, frames.answers)
    segments = not survey.anonymous
    columns = ["Response", "Submitted on", "Source"]
    if segments:
        columns += ["Tier", "GP practice"]
    columns += [f"{q.position}. {q.text}" for q in questions]
    wide = (
        labels.groupby(["response_id", "question_id"])["shown"].agg("; ".join).unstack()
        if len(labels)
        else pd.DataFrame()
    )
    practices = segment_labels("practice") if segments else {}
    rows: list[list[object]] = []
    for record in frames.responses.itertuples(index=False):
        answers = wide.loc[record.id] if record.id in wide.index else None
        # Words and a real date, as the results page shows them.
        row: list[object] = [
            record.id,
            record.submitted_on,
            ResponseSource(getattr(record.source, "value", record.source)).label,
        ]
        if segments:
            row += [
                Tier(record.tier).label if record.tier else "",
                ""
                if pd.isna(record.practice_id)
                else practices.get(int(record.practice_id), ""),
            ]
        row += [_cell(answers, q.id) for q in questions]
        rows.append(row)
    return columns, rows


def _cell(answers: Any, question_id: int) -> str:
    if answers is None or question_id not in answers.index:
        return ""
    value = answers[question_id]
    return (
        ""
        if value is None or (isinstance(value, float) and pd.isna(value))
        else str(value)
    )


def _display_values(survey: Survey, answers: Any) -> Any:
    choice_labels = {c.id: c.label for q in survey.questions for c in q.choices}
    kinds = {q.id: q.kind for q in survey.questions}

    def shown(row: Any) -> str:
        kind = kinds.get(row.question_id)
        if kind is None:
            return ""
        if kind.has_choices:
            return choice_labels.get(int(row.choice_id), "")
        if kind.is_text:
            return "" if row.text is None else str(row.text)
        if kind in LIKERT_LABELS and not pd.isna(row.number):
            return LIKERT_LABELS[kind][int(row.number) - 1]
        if pd.isna(row.number):
            return ""
        return (
            f"{row.number:g}" if kind is QuestionKind.NUMBER else str(int(row.number))
        )

    if not len(answers):
        return answers.assign(shown=pd.Series(dtype=object))
    values = [shown(row) for row in answers.itertuples(index=False)]
    return answers.assign(shown=values)


def export_responses(
    survey: Survey, fmt: str, *, actor: User | str, now: datetime
) -> ExportFile:
    """Every response with its answers as CSV or XLSX (no member data); audited."""
    frames = load_frames(survey.id, with_text=True)
    columns, rows = response_table(survey, frames)
    if len(rows) < SUPPRESS_BELOW:
        rows = []  # fewer than 5 responses: nothing is released (docs/security.md D8)
    content = write_table(fmt, columns, rows, title="Responses")
    record_event(
        actor,
        "export",
        "survey_response",
        survey.id,
        f"export survey responses: {row_count(len(rows))} ({fmt})",
        now=now,
    )
    return ExportFile(
        f"survey-{survey.id}-responses-{local_day(now).isoformat()}.{fmt}",
        mimetype(fmt),
        content,
        len(rows),
    )
