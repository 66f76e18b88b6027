"""Reading other survey tools' exports: Google Forms, Microsoft Forms and SurveyMonkey.

A file is read as a grid of text (``engage.imports.tabular.read_grid``), its tool is
recognised from its header, and each question column is matched to a question of
the survey by its text (the officer can change the matching). The tools' own
columns for who answered (email, name, IP address…) are dropped, never stored.

- Google Forms: "Timestamp", then one column per question; ticked options of a
  multiple-choice question are joined with ", ".
- Microsoft Forms: "ID", "Start time", "Completion time", "Email", "Name", then the
  questions; ticked options joined with ";" (with a trailing ";").
- SurveyMonkey: two header rows, the question, then "Response" or an option label;
  a multiple-choice question has one column per option.

A date written like 05/03/2024 is read by the whole column: a first number over 12
means day first, a second one over 12 month first (both: the file is refused).
SurveyMonkey always writes month first; otherwise, when every day is 12 or less, the
file cannot tell and the officer says (``ToolExport.dayfirst`` is None).
"""

from __future__ import annotations

import enum
import hashlib
import re
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from engage.imports.tabular import TableError
from engage.surveys.models import LIKERT_LABELS
from engage.surveys.models import Question
from engage.surveys.models import QuestionKind

#: The longest answers kept, by kind (longer ones are refused, not cut).
MAX_TEXT = {QuestionKind.SHORT_TEXT: 1_000, QuestionKind.LONG_TEXT: 10_000}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_DATE = re.compile(r"^\s*(\d{1,4})[/.-](\d{1,2})[/.-](\d{1,4})")
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?\s*([AaPp][Mm])?")


class Tool(enum.StrEnum):
    """The tools whose exports can be imported."""

    GOOGLE = "google"
    MICROSOFT = "microsoft"
    SURVEYMONKEY = "surveymonkey"

    @property
    def label(self) -> str:
        return {
            "google": "Google Forms",
            "microsoft": "Microsoft Forms",
            "surveymonkey": "SurveyMonkey",
        }[self.value]


#: Each tool's own columns (folded): (respondent id, completion date, others dropped).
_META: dict[Tool, tuple[str | None, str, frozenset[str]]] = {
    Tool.GOOGLE: (
        None,
        "timestamp",
        frozenset({"email address", "username", "score", "total score"}),
    ),
    Tool.MICROSOFT: (
        "id",
        "completion time",
        frozenset(
            {
                "start time",
                "email",
                "name",
                "last modified time",
                "total points",
                "quiz feedback",
            }
        ),
    ),
    Tool.SURVEYMONKEY: (
        "respondent id",
        "end date",
        frozenset(
            {
                "collector id",
                "start date",
                "ip address",
                "email address",
                "first name",
                "last name",
            }
        ),
    ),
}


def fold(text: str) -> str:
    """Text as compared: case, spacing, curly quotes and a trailing ``*`` ignored."""
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    text = text.replace("\u201c", '"').replace("\u201d", '"')
    return " ".join(text.strip().rstrip("*").split()).casefold()


@dataclass(frozen=True)
class SourceColumn:
    """A question in the file: its heading, and its cells as (index, option)."""

    key: str  #: "c<index>", stable for one file
    heading: str
    cells: tuple[tuple[int, str], ...]

    @property
    def per_option(self) -> bool:
        """One column per option (SurveyMonkey's multiple choice)."""
        return len(self.cells) > 1


@dataclass(frozen=True)
class ToolRow:
    """One respondent's row."""

    number: int  #: as the spreadsheet shows it
    respondent: str  #: the tool's respondent id, or ""
    when: str  #: the completion time as written
    cells: list[str]


@dataclass(frozen=True)
class ToolExport:
    """A recognised export: its tool, question columns, dropped columns and rows."""

    tool: Tool
    columns: list[SourceColumn]
    dropped: list[str]
    rows: list[ToolRow]
    #: Whether 05/03/2024 is 5 March in this file; None if it cannot tell.
    dayfirst: bool | None


def detect_tool(header: Sequence[str]) -> Tool:
    """Which tool wrote a file with this first row; TableError if none."""
    folded = [fold(cell) for cell in header]
    if "respondent id" in folded and "collector id" in folded:
        return Tool.SURVEYMONKEY
    if {"id", "start time", "completion time"} <= set(folded):
        return Tool.MICROSOFT
    if folded and folded[0] == "timestamp":
        return Tool.GOOGLE
    raise TableError(
        "This file is not recognised as an export of Google Forms (first column "
        "“Timestamp”), Microsoft Forms (columns “ID”, “Start time”, “Completion "
        "time”) or SurveyMonkey (columns “Respondent ID”, “Collector ID”)."
    )


def parse_export(grid: Sequence[tuple[int, list[str]]]) -> ToolExport:
    """Recognise the tool and split the grid into question columns and rows."""
    header = grid[0][1]
    tool = detect_tool(header)
    respondent_name, when_name, _ = _META[tool]
    folded = [fold(cell) for cell in header]
    body = list(grid[1:])
    options: list[str] = []
    if tool is Tool.SURVEYMONKEY:
        if not body:
            raise TableError("The file has no second header row (SurveyMonkey).")
        options = body[0][1]
        body = body[1:]
    if not body:
        raise TableError("The file has no rows to import under its column names.")
    width = max(len(header), *(len(cells) for _, cells in body))
    cells_of = [(n, [*cells, *[""] * (width - len(cells))]) for n, cells in body]
    meta = {name: folded.index(name) for name in (respondent_name, when_name) if name}
    if when_name not in meta:
        raise TableError(f"The file has no “{when_name}” column.")
    dropped = [header[i] for i, name in enumerate(folded) if _personal(tool, name)]
    skip = set(meta.values()) | {
        i for i, name in enumerate(folded) if _personal(tool, name)
    }
    columns = _columns(header, options, skip, width)
    rows = [
        ToolRow(
            number,
            cells[meta[respondent_name]].strip() if respondent_name else "",
            cells[meta[when_name]],
            cells,
        )
        for number, cells in cells_of
    ]
    return ToolExport(
        tool, columns, dropped, rows, date_order(tool, [r.when for r in rows])
    )


def _personal(tool: Tool, folded_name: str) -> bool:
    """Whether a column is one of the tool's own about who answered."""
    return folded_name in _META[tool][2] or folded_name.startswith("custom data")


def answer_column(tool: Tool) -> Callable[[str], bool]:
    """Whether a column (by name) of the tool's export is kept.

    Every column is, but the tool's own about who answered (email, name, IP…).
    """
    return lambda name: not _personal(tool, fold(name))


def header_rows(tool: Tool) -> int:
    """How many rows of the tool's export name the columns."""
    return 2 if tool is Tool.SURVEYMONKEY else 1


def _columns(
    header: Sequence[str], options: Sequence[str], skip: set[int], width: int
) -> list[SourceColumn]:
    columns: list[SourceColumn] = []
    for index in range(width):
        if index in skip:
            continue
        heading = header[index].strip() if index < len(header) else ""
        option = options[index].strip() if index < len(options) else ""
        if option.casefold() in ("response", "open-ended response"):
            option = ""
        if not heading and columns and option:
            # A SurveyMonkey option column: part of the question before it.
            last = columns[-1]
            columns[-1] = SourceColumn(
                last.key, last.heading, (*last.cells, (index, option))
            )
            continue
        if not heading:
            continue
        columns.append(SourceColumn(f"c{index}", heading, ((index, option),)))
    return columns


def date_order(tool: Tool, values: Sequence[str]) -> bool | None:
    """Whether a column's dates are day first, judged on all of them; None if unsure.

    Raises TableError if some are clearly day first and others month first.
    """
    day_first = month_first = ambiguous = False
    for value in values:
        match = _DATE.match(value)
        if match is None or len(match.group(1)) == 4:  # ISO: not ambiguous
            continue
        first, second = int(match.group(1)), int(match.group(2))
        day_first |= first > 12
        month_first |= second > 12
        ambiguous |= first <= 12 and second <= 12 and first != second
    if day_first and month_first:
        raise TableError(
            "The completion dates are written in two orders (some day first, some "
            "month first): export the file again."
        )
    if day_first or month_first:
        return day_first
    if not ambiguous:
        return True  # nothing to decide
    return False if tool is Tool.SURVEYMONKEY else None


def ambiguous_date(values: Sequence[str]) -> str | None:
    """The first date of a column that reads either way (for the question asked)."""
    for value in values:
        match = _DATE.match(value)
        if (
            match
            and len(match.group(1)) < 4
            and int(match.group(1)) != int(match.group(2))
        ):
            return value.strip()
    return None


def parse_day(text: str, *, dayfirst: bool) -> date | None:
    """The day of a timestamp written by a tool (time and zone ignored), or None."""
    match = _DATE.match(text)
    if not match:
        return None
    first, second, third = (int(part) for part in match.groups())
    if len(match.group(1)) == 4:
        year, month, day = first, second, third
    else:
        day, month = (first, second) if dayfirst else (second, first)
        year = third + 2000 if third < 100 else third
    try:
        return date(year, month, day)
    except ValueError:
        return None


def canonical_moment(text: str, *, dayfirst: bool) -> str:
    """A timestamp written as ISO (``2024-03-05T10:22:13``), whatever its layout.

    So that the same export saved as CSV and as XLSX gives the same row keys.
    """
    day = parse_day(text, dayfirst=dayfirst)
    if day is None:
        return text.strip()
    clock = _TIME.search(text[_DATE.match(text).end() :])  # type: ignore[union-attr]
    if clock is None:
        return day.isoformat()
    hour, minute = int(clock.group(1)), int(clock.group(2))
    second = int(clock.group(3) or 0)
    meridiem = (clock.group(4) or "").lower()
    if meridiem == "pm" and hour < 12:
        hour += 12
    elif meridiem == "am" and hour == 12:
        hour = 0
    return f"{day.isoformat()}T{hour:02d}:{minute:02d}:{second:02d}"


def auto_map(
    columns: Sequence[SourceColumn], questions: Sequence[Question]
) -> dict[str, int | None]:
    """Match each column to the question with the same text (each question once)."""
    by_text = {fold(q.text): q.id for q in questions}
    used: set[int] = set()
    mapping: dict[str, int | None] = {}
    for column in columns:
        question_id = by_text.get(fold(column.heading))
        if question_id in used:
            question_id = None
        if question_id is not None:
            used.add(question_id)
        mapping[column.key] = question_id
    return mapping


def row_key(
    tool: Tool, row: ToolRow, columns: Sequence[SourceColumn], *, dayfirst: bool
) -> str:
    """The row's external key: the tool's respondent id, or a hash of its answers."""
    if row.respondent:
        return f"{tool.value}:{row.respondent}"
    when = canonical_moment(row.when, dayfirst=dayfirst)
    cells = [when] + [row.cells[i].strip() for c in columns for i, _ in c.cells]
    digest = hashlib.sha256("\x1f".join(cells).encode("utf-8")).hexdigest()
    return f"{tool.value}:#{digest[:40]}"


# Reading answers ---------------------------------------------------------------------

#: (question id, text, number, choice id): one Answer row.
AnswerValues = tuple[int, str | None, float | None, int | None]


def read_answers(
    tool: Tool, row: ToolRow, column: SourceColumn, question: Question
) -> tuple[list[AnswerValues], list[str]]:
    """A column's answers in one row as Answer values, and any problems found."""
    if column.per_option:
        ticked = [option for i, option in column.cells if row.cells[i].strip()]
        if not ticked:
            return [], []
        return _choices(question, ticked, column.heading)
    written = row.cells[column.cells[0][0]].strip()
    if not written:
        return [], []  # blanks stay blank
    if _CONTROL.search(written):
        return [], [f"“{column.heading}”: the answer holds control characters."]
    kind = question.kind
    if kind is QuestionKind.MULTIPLE_CHOICE:
        separator = ";" if tool is Tool.MICROSOFT else ", "
        labels, unknown = split_choices(
            written.rstrip(";"), [c.label for c in question.choices], separator
        )
        if unknown:
            return [], [_not_an_option(column.heading, unknown[0])]
        return _choices(question, labels, column.heading)
    if kind is QuestionKind.SINGLE_CHOICE:
        return _choices(question, [written], column.heading)
    if kind.is_text:
        if len(written) > MAX_TEXT[kind]:
            return [], [
                f"“{column.heading}”: the answer is longer than "
                f"{MAX_TEXT[kind]:,} characters."
            ]
        return [(question.id, written, None, None)], []
    return _number(question, written, column.heading)


def _choices(
    question: Question, labels: Sequence[str], heading: str
) -> tuple[list[AnswerValues], list[str]]:
    by_label = {fold(c.label): c.id for c in question.choices}
    answers: list[AnswerValues] = []
    for label in labels:
        choice_id = by_label.get(fold(label))
        if choice_id is None:
            return [], [_not_an_option(heading, label)]
        if all(a[3] != choice_id for a in answers):
            answers.append((question.id, None, None, choice_id))
    if question.kind is QuestionKind.SINGLE_CHOICE and len(answers) > 1:
        return [], [f"“{heading}”: only one option may be chosen."]
    return answers, []


def _not_an_option(heading: str, written: str) -> str:
    return f"“{heading}”: “{written[:100]}” is not one of the question’s options."


def _number(
    question: Question, written: str, heading: str
) -> tuple[list[AnswerValues], list[str]]:
    kind = question.kind
    if kind in LIKERT_LABELS:
        labels = [fold(label) for label in LIKERT_LABELS[kind]]
        if fold(written) in labels:
            point = float(labels.index(fold(written)) + 1)
            return [(question.id, None, point, None)], []
        low, high = 1.0, 5.0
    elif kind is QuestionKind.RATING_0_10:
        low, high = 0.0, 10.0
    else:
        low = question.min_value if question.min_value is not None else float("-inf")
        high = question.max_value if question.max_value is not None else float("inf")
    try:
        number = float(written.replace(",", ""))
    except ValueError:
        number = float("nan")
    whole = kind is not QuestionKind.NUMBER
    if (
        number != number
        or not low <= number <= high
        or (whole and not number.is_integer())
    ):
        return [], [
            f"“{heading}”: “{written[:100]}” is not an answer to it: "
            f"{_answers_allowed(question)}."
        ]
    return [(question.id, None, number, None)], []


def _answers_allowed(question: Question) -> str:
    """What a number or scale question takes, in words."""
    kind = question.kind
    if kind in LIKERT_LABELS:
        labels = LIKERT_LABELS[kind]
        return "the answers are " + ", ".join(labels[:-1]) + f" or {labels[-1]}"
    if kind is QuestionKind.RATING_0_10:
        return "the answer is a whole number from 0 to 10"
    low, high = question.min_value, question.max_value
    if low is not None and high is not None:
        return f"the answer is a number from {low:g} to {high:g}"
    if low is not None:
        return f"the answer is a number of at least {low:g}"
    if high is not None:
        return f"the answer is a number of at most {high:g}"
    return "the answer is a number"


def split_choices(
    text: str, labels: Sequence[str], separator: str
) -> tuple[list[str], list[str]]:
    """Split ticked options joined by ``separator``, allowing it inside an option.

    Returns the options found and the parts that match no option.
    """
    known = {fold(label): label for label in labels}
    parts = text.split(separator)
    found: list[str] = []
    unknown: list[str] = []
    start = 0
    while start < len(parts):
        for end in range(len(parts), start, -1):
            candidate = fold(separator.join(parts[start:end]))
            if candidate in known:
                found.append(known[candidate])
                start = end
                break
        else:
            if parts[start].strip():
                unknown.append(parts[start].strip())
            start += 1
    return found, unknown


def check_mapping(
    mapping: Mapping[str, int | None], columns: Sequence[SourceColumn]
) -> list[str]:
    """Problems with a mapping: a question chosen for two columns."""
    seen: dict[int, str] = {}
    problems = []
    headings = {c.key: c.heading for c in columns}
    for key, question_id in mapping.items():
        if question_id is None:
            continue
        if question_id in seen:
            problems.append(
                f"“{headings.get(key, key)}” and “{seen[question_id]}” are both "
                "matched to the same question."
            )
        seen[question_id] = headings.get(key, key)
    return problems
