"""Survey results with pandas: counts, scales, scores, cross-tabs, response rates.

The answers of a survey are read with a few SQL queries into DataFrames (in chunks,
so a survey of 100,000 responses stays quick) and summarised here; templates get
plain dataclasses, never a DataFrame.

Percentages are of the respondents who answered the question. Small numbers are
suppressed as in the equality report (docs/security.md B3 and D8, and
``engage.membership.reports.suppressed_values``): a count of 1 to 4 is shown as
"fewer than 5", with a second cell hidden where a total would let it be worked
out; a question, segment or result with fewer than 5 respondents is not shown.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.sql import ClauseElement

from engage.audit.services import record_event
from engage.extensions import db
from engage.membership.equality import QUESTIONS_BY_FIELD, SUPPRESS_BELOW
from engage.membership.models import (
    EqualityAnswers,
    Member,
    Practice,
    Tier,
    Topic,
    member_topics,
)
from engage.membership.reports import suppressed_values
from engage.surveys.models import (
    LIKERT_LABELS,
    Answer,
    Invitation,
    Question,
    QuestionKind,
    Response,
    Survey,
    response_topics,
)

if TYPE_CHECKING:
    from engage.accounts.models import User

#: Rows fetched from the database at a time.
CHUNK_ROWS = 50_000
NOT_KNOWN = "Not known"
HIDDEN = "fewer than 5"
#: Segments a result can be filtered or cross-tabulated by.
SEGMENTS = ("tier", "practice", "topic")
EQUALITY_PREFIX = "equality:"
_TOTAL = "\x00total"  #: the cross-tab grid's row of column totals
RATING_SCALE = tuple(range(11))


# Shapes handed to templates -----------------------------------------------------------


@dataclass(frozen=True)
class Count:
    """One option of a question (or one segment): its count and share, or hidden."""

    label: str
    count: int | None  #: None when suppressed
    percent: float | None

    @property
    def suppressed(self) -> bool:
        return self.count is None

    @property
    def shown_count(self) -> str:
        return HIDDEN if self.count is None else f"{self.count:,}"

    @property
    def shown_percent(self) -> str:
        return "" if self.percent is None else f"{self.percent:.1f}%"


@dataclass(frozen=True)
class NumberSummary:
    """Summary statistics of a number question."""

    n: int
    mean: float
    median: float
    minimum: float
    maximum: float
    lower_quartile: float
    upper_quartile: float


@dataclass(frozen=True)
class QuestionResult:
    """The result of one question; ``shown`` is False under 5 respondents."""

    id: int
    position: int
    text: str
    kind: str
    answered: int
    shown: bool
    counts: list[Count] = field(default_factory=list)
    mean: float | None = None  #: Likert scales (1 to 5)
    net_score: float | None = None  #: 0 to 10 ratings: promoters minus detractors
    summary: NumberSummary | None = None  #: number questions

    @property
    def is_text(self) -> bool:
        return self.kind in (QuestionKind.SHORT_TEXT, QuestionKind.LONG_TEXT)

    @property
    def chart(self) -> dict[str, Any] | None:
        """Labels and values for a bar chart (suppressed counts as gaps); None
        when it would have no bar (every count 0 or suppressed: the table says so)."""
        if not self.shown or not any(c.count for c in self.counts):
            return None
        return {
            "labels": [c.label for c in self.counts],
            "values": [c.count for c in self.counts],
            "title": self.text,
        }


@dataclass(frozen=True)
class Filters:
    """Which responses a result covers (None: every one)."""

    tier: str | None = None
    practice_id: int | None = None
    topic_id: int | None = None

    @property
    def active(self) -> bool:
        return any(v is not None for v in (self.tier, self.practice_id, self.topic_id))


@dataclass(frozen=True)
class SurveyResults:
    """Every question's result for the responses the filters select."""

    respondents: int
    shown: bool
    questions: list[QuestionResult]


@dataclass(frozen=True)
class CrossTab:
    """A question's options (rows) by segment (columns); hidden cells are None."""

    question: str
    segment: str
    columns: list[Count]  #: each segment's respondents who answered
    rows: list[tuple[str, list[Count]]]  #: option → one cell per column
    shown: bool


@dataclass(frozen=True)
class RateRow:
    """The response rate of one segment of the invited members."""

    label: str
    invited: int
    answered: int | None  #: None when suppressed

    @property
    def rate(self) -> float | None:
        if self.answered is None or not self.invited:
            return None
        return round(100 * self.answered / self.invited, 1)


@dataclass(frozen=True)
class ResponseRate:
    """Invitations answered ÷ invitations: overall, per segment and day by day."""

    invited: int
    answered: int
    segments: dict[str, list[RateRow]]
    #: (day, responses that day, invitations answered so far, rate so far or None)
    by_day: list[tuple[date, int, int, float | None]]

    @property
    def rate(self) -> float | None:
        return round(100 * self.answered / self.invited, 1) if self.invited else None


# Loading ------------------------------------------------------------------------------


@dataclass
class Frames:
    """A survey's responses, their topics and their answers as DataFrames."""

    responses: Any  #: id, submitted_on, source, tier, practice_id, member_id
    topics: Any  #: response_id, topic_id
    answers: Any  #: response_id, question_id, number, choice_id, text

    def only(self, filters: Filters) -> Frames:
        """The frames restricted to the responses ``filters`` select."""
        if not filters.active:
            return self
        keep = self.responses
        if filters.tier is not None:
            keep = keep[keep["tier"] == filters.tier]
        if filters.practice_id is not None:
            keep = keep[keep["practice_id"] == filters.practice_id]
        if filters.topic_id is not None:
            with_topic = self.topics.loc[
                self.topics["topic_id"] == filters.topic_id, "response_id"
            ]
            keep = keep[keep["id"].isin(with_topic)]
        ids = keep["id"]
        return Frames(
            keep,
            self.topics[self.topics["response_id"].isin(ids)],
            self.answers[self.answers["response_id"].isin(ids)],
        )


def _frame(statement: ClauseElement, columns: Sequence[str]) -> Any:
    """Run a query and read its rows into a DataFrame, ``CHUNK_ROWS`` at a time.

    The rows come straight from the driver's cursor: building SQLAlchemy rows for
    a few hundred thousand answers would take most of the time. Values are the
    driver's own (dates may be ISO text on SQLite); callers convert what they use.
    """
    connection = db.session.connection()
    compiled: Any = statement.compile(dialect=connection.dialect)
    params: Any = compiled.params
    if compiled.positional:
        params = tuple(compiled.params[name] for name in compiled.positiontup or ())
    cursor = connection.connection.cursor()
    try:
        cursor.execute(str(compiled), params)
        chunks = []
        while rows := cursor.fetchmany(CHUNK_ROWS):
            chunks.append(pd.DataFrame.from_records(rows, columns=list(columns)))
    finally:
        cursor.close()
    if not chunks:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    return pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]


def _days(values: Any) -> Any:
    """Dates (or ISO text, or timestamps) as ``datetime.date`` objects."""
    if not len(values):
        return values
    return pd.to_datetime(values.map(str), format="ISO8601").dt.date


def load_frames(survey_id: int, *, with_text: bool = False) -> Frames:
    """Read a survey's responses and answers (free text only if ``with_text``)."""
    responses = _frame(
        select(
            Response.id,
            Response.submitted_on,
            Response.source,
            Response.tier,
            Response.practice_id,
            Response.member_id,
        )
        .where(Response.survey_id == survey_id)
        .order_by(Response.id),
        ("id", "submitted_on", "source", "tier", "practice_id", "member_id"),
    )
    responses["submitted_on"] = _days(responses["submitted_on"])
    topics = _frame(
        select(response_topics.c.response_id, response_topics.c.topic_id)
        .join(Response, Response.id == response_topics.c.response_id)
        .where(Response.survey_id == survey_id),
        ("response_id", "topic_id"),
    )
    text_column = Answer.text if with_text else Answer.id.is_(None)
    answers = _frame(
        select(
            Answer.response_id,
            Answer.question_id,
            Answer.number,
            Answer.choice_id,
            text_column,
        )
        .join(Response, Response.id == Answer.response_id)
        .where(Response.survey_id == survey_id),
        ("response_id", "question_id", "number", "choice_id", "text"),
    )
    answers["number"] = pd.to_numeric(answers["number"], errors="coerce")
    return Frames(responses, topics, answers)


# Per-question results -----------------------------------------------------------------


def _percent(count: int, total: int) -> float:
    return round(100 * count / total, 1) if total else 0.0


def counted(
    labelled: Iterable[tuple[Hashable, str]], counts: Mapping[Any, int], total: int
) -> list[Count]:
    """One Count per option, with small counts suppressed (see the module docstring)."""
    options = list(labelled)
    values = {key: int(counts.get(key, 0)) for key, _ in options}
    hidden = suppressed_values(values)
    return [
        Count(label, None, None)
        if key in hidden
        else Count(label, values[key], _percent(values[key], total))
        for key, label in options
    ]


def options(question: Question) -> list[tuple[Hashable, str]]:
    """A question's answer options as (stored value, label): choices or scale points."""
    kind = question.kind
    if kind in (QuestionKind.SINGLE_CHOICE, QuestionKind.MULTIPLE_CHOICE):
        return [(choice.id, choice.label) for choice in question.choices]
    if kind in LIKERT_LABELS:
        return [(float(i + 1), label) for i, label in enumerate(LIKERT_LABELS[kind])]
    if kind is QuestionKind.RATING_0_10:
        return [(float(i), str(i)) for i in RATING_SCALE]
    return []


def _stored(question: Question) -> str:
    return "choice_id" if question.kind.has_choices else "number"


def question_result(question: Question, answers: Any) -> QuestionResult:
    """The result of one question from its answer rows."""
    mine = answers[answers["question_id"] == question.id]
    answered = int(mine["response_id"].nunique())
    base: dict[str, Any] = {
        "id": question.id,
        "position": question.position,
        "text": question.text,
        "kind": question.kind.value,
        "answered": answered,
    }
    if answered < SUPPRESS_BELOW:
        return QuestionResult(**base, shown=False)
    if question.kind.is_text:
        return QuestionResult(**base, shown=True)
    numbers = mine["number"].dropna()
    if question.kind is QuestionKind.NUMBER:
        return QuestionResult(**base, shown=True, summary=number_summary(numbers))
    counts = mine[_stored(question)].value_counts().to_dict()
    result = QuestionResult(
        **base, shown=True, counts=counted(options(question), counts, answered)
    )
    if question.kind.is_likert:
        return _with(result, mean=round(float(numbers.mean()), 2))
    if question.kind is QuestionKind.RATING_0_10:
        return _with(result, net_score=net_score(numbers))
    return result


def _with(result: QuestionResult, **changes: Any) -> QuestionResult:
    return QuestionResult(**{**result.__dict__, **changes})


def net_score(ratings: Any) -> float:
    """Promoters (9–10) minus detractors (0–6), as a percentage of the ratings."""
    total = len(ratings)
    if not total:
        return 0.0
    promoters = int((ratings >= 9).sum())
    detractors = int((ratings <= 6).sum())
    return round(100 * (promoters - detractors) / total, 1)


def number_summary(numbers: Any) -> NumberSummary:
    """n, mean, median, extremes and quartiles (linear interpolation)."""
    quartiles = numbers.quantile([0.25, 0.5, 0.75]).tolist()
    return NumberSummary(
        n=len(numbers),
        mean=round(float(numbers.mean()), 2),
        median=round(float(quartiles[1]), 2),
        minimum=float(numbers.min()),
        maximum=float(numbers.max()),
        lower_quartile=round(float(quartiles[0]), 2),
        upper_quartile=round(float(quartiles[2]), 2),
    )


def summary_results(survey: Survey) -> SurveyResults:
    """``build_results`` over all of a survey's responses, counted in the database.

    The same figures as ``build_results(survey.questions, load_frames(survey.id))``
    without reading every answer: one GROUP BY over (question, choice, number) and one
    count of the people who answered each question, both from covering indexes on
    ``survey_answers`` (the unfiltered results page of a 100,000-response survey).
    """
    questions = survey.questions
    respondents = int(
        db.session.scalar(
            select(func.count())
            .select_from(Response)
            .where(Response.survey_id == survey.id)
        )
        or 0
    )
    if respondents < SUPPRESS_BELOW:
        return SurveyResults(respondents, False, [])
    ids = [q.id for q in questions]
    answered: dict[int, int] = {
        question_id: int(count)
        for question_id, count in db.session.execute(
            select(Answer.question_id, func.count(Answer.response_id.distinct()))
            .where(Answer.question_id.in_(ids))
            .group_by(Answer.question_id)
        )
    }
    values: dict[int, list[tuple[Any, Any, int]]] = {}
    for question_id, choice_id, number, count in db.session.execute(
        select(Answer.question_id, Answer.choice_id, Answer.number, func.count())
        .where(Answer.question_id.in_(ids))
        .group_by(Answer.question_id, Answer.choice_id, Answer.number)
    ):
        values.setdefault(question_id, []).append((choice_id, number, int(count)))
    return SurveyResults(
        respondents,
        True,
        [
            _counted_result(q, answered.get(q.id, 0), values.get(q.id, []))
            for q in questions
        ],
    )


def _counted_result(
    question: Question, answered: int, rows: list[tuple[Any, Any, int]]
) -> QuestionResult:
    """``question_result`` from (choice id, number, count) rows."""
    base: dict[str, Any] = {
        "id": question.id,
        "position": question.position,
        "text": question.text,
        "kind": question.kind.value,
        "answered": answered,
    }
    if answered < SUPPRESS_BELOW:
        return QuestionResult(**base, shown=False)
    if question.kind.is_text:
        return QuestionResult(**base, shown=True)
    numbered = [(float(number), n) for _, number, n in rows if number is not None]
    numbers = pd.Series(
        np.repeat([v for v, _ in numbered], [n for _, n in numbered]), dtype=float
    )
    if question.kind is QuestionKind.NUMBER:
        return QuestionResult(**base, shown=True, summary=number_summary(numbers))
    counts: dict[Any, int] = {}
    for choice_id, number, n in rows:
        key = choice_id if question.kind.has_choices else number
        if key is not None:
            counts[key] = counts.get(key, 0) + n
    result = QuestionResult(
        **base, shown=True, counts=counted(options(question), counts, answered)
    )
    if question.kind.is_likert:
        return _with(result, mean=round(float(numbers.mean()), 2))
    if question.kind is QuestionKind.RATING_0_10:
        return _with(result, net_score=net_score(numbers))
    return result


def build_results(questions: Sequence[Question], frames: Frames) -> SurveyResults:
    """Every question's result, or nothing shown under 5 respondents."""
    respondents = len(frames.responses)
    if respondents < SUPPRESS_BELOW:
        return SurveyResults(respondents, False, [])
    return SurveyResults(
        respondents, True, [question_result(q, frames.answers) for q in questions]
    )


# Free text ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TextPage:
    """One page of a question's free-text answers."""

    answers: list[str]
    total: int  #: matching answers
    page: int
    pages: int
    shown: bool  #: False under 5 respondents

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def text_answers(
    question: Question,
    frames: Frames,
    *,
    search: str = "",
    page: int = 1,
    per_page: int = 50,
) -> TextPage:
    """The free-text answers of a question, newest first, matching ``search``."""
    mine = frames.answers[frames.answers["question_id"] == question.id]
    if mine["response_id"].nunique() < SUPPRESS_BELOW:
        return TextPage([], 0, 1, 1, False)
    texts = mine.sort_values("response_id", ascending=False)["text"].dropna()
    texts = texts[texts.str.strip() != ""]
    if search.strip():
        texts = texts[texts.str.contains(search.strip(), case=False, regex=False)]
    total = len(texts)
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    start = (page - 1) * per_page
    return TextPage(
        [str(t) for t in texts.iloc[start : start + per_page]], total, page, pages, True
    )


# Segments and cross-tabulation --------------------------------------------------------


def segment_labels(segment: str) -> dict[Any, str]:
    """Value → label for a segment's values (``NOT_KNOWN`` is added by callers)."""
    if segment == "tier":
        return {t.value: t.value.capitalize() for t in Tier}
    if segment == "practice":
        return {p.id: p.name for p in db.session.scalars(select(Practice))}
    if segment == "topic":
        return {t.id: t.name for t in db.session.scalars(select(Topic))}
    question = QUESTIONS_BY_FIELD[segment.removeprefix(EQUALITY_PREFIX)]
    return dict(question.answers)


def segment_of_responses(segment: str, frames: Frames) -> Any:
    """A frame of (response_id, value) pairs: a response's segment value(s)."""
    responses = frames.responses
    if segment in ("tier", "practice"):
        column = "tier" if segment == "tier" else "practice_id"
        values = responses[column].map(lambda v: None if pd.isna(v) else v)
        return pd.DataFrame({"response_id": responses["id"], "value": values})
    if segment == "topic":
        pairs = frames.topics.rename(columns={"topic_id": "value"})
        without = responses.loc[~responses["id"].isin(pairs["response_id"]), "id"]
        return pd.concat(
            [pairs, pd.DataFrame({"response_id": without, "value": None})],
            ignore_index=True,
        )
    return _equality_of_responses(segment.removeprefix(EQUALITY_PREFIX), responses)


def _equality_of_responses(field_name: str, responses: Any) -> Any:
    member_ids = [int(m) for m in responses["member_id"].dropna().unique()]
    column = getattr(EqualityAnswers, field_name)
    found: dict[int, str | None] = {}
    for start in range(0, len(member_ids), 1000):
        found.update(
            db.session.execute(
                select(EqualityAnswers.member_id, column).where(
                    EqualityAnswers.member_id.in_(member_ids[start : start + 1000])
                )
            ).all()
        )
    values = responses["member_id"].map(
        lambda m: None if pd.isna(m) else found.get(int(m))
    )
    return pd.DataFrame({"response_id": responses["id"], "value": values})


def suppress_grid(
    counts: Mapping[tuple[Any, Any], int], *, already: Iterable[tuple[Any, Any]] = ()
) -> set[tuple[Any, Any]]:
    """Cells to hide in a table whose rows and columns both have totals shown.

    Primary and secondary suppression along each column, then each row, repeated
    until nothing changes, so no hidden cell can be worked out from a total.
    ``already`` are cells hidden for another reason (a whole small segment).
    """
    rows = {r for r, _ in counts}
    columns = {c for _, c in counts}
    lines = [[(r, c) for c in columns] for r in rows]
    lines += [[(r, c) for r in rows] for c in columns]
    hidden = set(already)
    changed = True
    while changed:
        changed = False
        for line in lines:
            new = suppressed_values(
                {cell: counts[cell] for cell in line},
                already=[cell for cell in line if cell in hidden],
            )
            if new - hidden:
                hidden |= new
                changed = True
    return hidden


def cross_tab(
    question: Question, segment: str, frames: Frames, labels: Mapping[Any, str]
) -> CrossTab:
    """A question's answers by segment, with small cells suppressed both ways."""
    opts = options(question)
    mine = frames.answers.loc[
        frames.answers["question_id"] == question.id, ["response_id", _stored(question)]
    ].rename(columns={_stored(question): "option"})
    pairs = mine.merge(segment_of_responses(segment, frames), on="response_id")
    pairs["value"] = pairs["value"].map(
        lambda v: NOT_KNOWN if v is None or pd.isna(v) else v
    )
    keys = [k for k in labels if k in set(pairs["value"])]
    if NOT_KNOWN in set(pairs["value"]):
        keys.append(NOT_KNOWN)
    answered = pairs.groupby("value")["response_id"].nunique().to_dict()
    table = pairs.groupby(["option", "value"]).size().to_dict()
    # The grid has a row of each column's total: small segments are hidden whole,
    # and rows and columns (totals included) are then settled together.
    small = {k for k in keys if answered.get(k, 0) < SUPPRESS_BELOW}
    grid = {(o, k): int(table.get((o, k), 0)) for o, _ in opts for k in keys}
    grid.update({(_TOTAL, k): int(answered.get(k, 0)) for k in keys})
    hidden = suppress_grid(
        grid, already={(o, k) for o in [_TOTAL, *(o for o, _ in opts)] for k in small}
    )
    columns = [
        Count(
            labels.get(k, str(k)) if k != NOT_KNOWN else NOT_KNOWN,
            None if (_TOTAL, k) in hidden else grid[(_TOTAL, k)],
            None,
        )
        for k in keys
    ]
    rows = [
        (
            label,
            [
                Count(columns[i].label, None, None)
                if (o, k) in hidden
                else Count(
                    columns[i].label, grid[(o, k)], _percent(grid[(o, k)], answered[k])
                )
                for i, k in enumerate(keys)
            ],
        )
        for o, label in opts
    ]
    shown = len(frames.responses) >= SUPPRESS_BELOW and bool(keys)
    return CrossTab(question.text, segment, columns, rows, shown)


def record_equality_view(
    survey_id: int, segment: str, *, actor: User | str, now: datetime
) -> None:
    """Audit that an admin saw a survey's answers by an equality question (B3)."""
    record_event(
        actor,
        "view",
        "survey_equality",
        survey_id,
        f"survey answers by {segment.removeprefix(EQUALITY_PREFIX)} viewed",
        now=now,
    )


# Response rate ------------------------------------------------------------------------


def response_rate(survey: Survey) -> ResponseRate:
    """Invitations answered ÷ invitations: overall, by tier, practice, topic and day."""
    invitations = _frame(
        select(
            Invitation.id,
            Invitation.answered_at,
            Member.tier,
            Member.practice_id,
            Invitation.member_id,
        )
        .outerjoin(Member, Member.id == Invitation.member_id)
        .where(Invitation.survey_id == survey.id),
        ("id", "answered_at", "tier", "practice_id", "member_id"),
    )
    invitations["answered"] = invitations["answered_at"].notna()
    invited = len(invitations)
    answered = int(invitations["answered"].sum())
    segments = {
        "tier": _rate_rows(invitations, "tier", segment_labels("tier")),
        "practice": _rate_rows(invitations, "practice_id", segment_labels("practice")),
        "topic": _topic_rate_rows(invitations),
    }
    return ResponseRate(invited, answered, segments, _by_day(survey.id, invitations))


def _rate_rows(
    invitations: Any, column: str, labels: Mapping[Any, str]
) -> list[RateRow]:
    values = invitations[column].map(
        lambda v: NOT_KNOWN if v is None or pd.isna(v) else v
    )
    grouped = invitations.assign(value=values).groupby("value")["answered"]
    invited = grouped.size().to_dict()
    answered = {k: int(v) for k, v in grouped.sum().to_dict().items()}
    return _rows(invited, answered, labels)


def _rows(
    invited: Mapping[Any, int], answered: Mapping[Any, int], labels: Mapping[Any, str]
) -> list[RateRow]:
    hidden = suppressed_values(answered)
    keys = [k for k in labels if k in invited] + (
        [NOT_KNOWN] if NOT_KNOWN in invited else []
    )
    return [
        RateRow(
            labels.get(k, NOT_KNOWN),
            int(invited[k]),
            None if k in hidden else int(answered.get(k, 0)),
        )
        for k in keys
    ]


def _topic_rate_rows(invitations: Any) -> list[RateRow]:
    member_ids = [int(m) for m in invitations["member_id"].dropna().unique()]
    pairs: list[tuple[int, int]] = []
    for start in range(0, len(member_ids), 1000):
        pairs.extend(
            db.session.execute(
                select(member_topics.c.member_id, member_topics.c.topic_id).where(
                    member_topics.c.member_id.in_(member_ids[start : start + 1000])
                )
            ).all()
        )
    topics = pd.DataFrame(pairs, columns=["member_id", "topic_id"])
    merged = invitations.merge(topics, on="member_id", how="inner")
    grouped = merged.groupby("topic_id")["answered"]
    invited = grouped.size().to_dict()
    answered = {k: int(v) for k, v in grouped.sum().to_dict().items()}
    return _rows(invited, answered, segment_labels("topic"))


def _by_day(
    survey_id: int, invitations: Any
) -> list[tuple[date, int, int, float | None]]:
    responses = _frame(
        select(Response.submitted_on).where(Response.survey_id == survey_id),
        ("day",),
    )
    per_day = responses.assign(day=_days(responses["day"])).groupby("day").size()
    per_day = per_day.to_dict()
    answered_days = _days(invitations.loc[invitations["answered"], "answered_at"])
    answered_per_day = answered_days.value_counts().to_dict()
    invited = len(invitations)
    so_far = 0
    days = []
    for day in sorted(set(per_day) | set(answered_per_day)):
        so_far += int(answered_per_day.get(day, 0))
        rate = round(100 * so_far / invited, 1) if invited else None
        days.append((day, int(per_day.get(day, 0)), so_far, rate))
    return days
