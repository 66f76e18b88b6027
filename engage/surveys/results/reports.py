"""Survey results with pandas: each question's counts, scales, scores and free text.

A survey's answers are read into DataFrames (``frames``) and summarised here, or
counted in the database when the results cover every response; ``segments`` breaks
them down by segment. Templates get plain dataclasses, never a DataFrame.

Percentages are of the respondents who answered the question. Whether small
numbers are suppressed is decided for the viewer and purpose by
``engage.surveys.disclosure.suppresses`` and passed in as ``suppress``: when it is,
a count of 1 to 4 is shown as "fewer than 5", with a second cell hidden where a
total would let it be worked out (``engage.membership.reports.suppressed_values``,
docs/security.md B3 and D8), and a question with fewer than 5 answers is not
shown. A result with fewer than 5 respondents is never shown.
"""

from __future__ import annotations

from collections.abc import Hashable
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Select
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import text as sql_text

from engage.extensions import db
from engage.membership.equality import SUPPRESS_BELOW
from engage.membership.reports import hidden_words
from engage.membership.reports import suppressed_values
from engage.surveys.disclosure import HIDDEN
from engage.surveys.models import HAS_WORDS_SQL
from engage.surveys.models import LIKERT_LABELS
from engage.surveys.models import Answer
from engage.surveys.models import Question
from engage.surveys.models import QuestionKind
from engage.surveys.models import Response
from engage.surveys.models import Survey
from engage.surveys.results.frames import Filters
from engage.surveys.results.frames import Frames
from engage.surveys.results.frames import load_frames
from engage.surveys.services import count_responses

RATING_SCALE = tuple(range(11))


# Shapes handed to templates -----------------------------------------------------------


@dataclass(frozen=True)
class Count:
    """One option of a question (or one segment): its count and share, or hidden."""

    label: str
    count: int | None  #: None when suppressed
    percent: float | None
    #: How a suppressed count reads ("fewer than 5", or "not shown").
    hidden_as: str = HIDDEN

    @property
    def suppressed(self) -> bool:
        return self.count is None

    @property
    def shown_count(self) -> str:
        return self.hidden_as if self.count is None else f"{self.count:,}"

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
    #: The mean or net score is left out, as it would give a hidden count away.
    scale_figure_hidden: bool = False
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
class SurveyResults:
    """Every question's result for the responses the filters select."""

    respondents: int
    shown: bool
    questions: list[QuestionResult]
    #: True when small counts are suppressed (see engage.surveys.disclosure).
    suppressed: bool = True


# Per-question results -----------------------------------------------------------------


def percent_of(count: int, total: int) -> float:
    """``count`` as a percentage of ``total``, to one decimal place (0 if none)."""
    return round(100 * count / total, 1) if total else 0.0


def counted(
    labelled: Iterable[tuple[Hashable, str]],
    counts: Mapping[Any, int],
    total: int,
    *,
    suppress: bool = True,
) -> list[Count]:
    """One Count per option, with small counts suppressed when ``suppress``."""
    options = list(labelled)
    values = {key: int(counts.get(key, 0)) for key, _ in options}
    hidden = suppressed_values(values) if suppress else set()
    return [
        Count(label, None, None, hidden_words(values[key]))
        if key in hidden
        else Count(label, values[key], percent_of(values[key], total))
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


def stored_column(question: Question) -> str:
    """The answer column holding a question's options: ``choice_id`` or ``number``."""
    return "choice_id" if question.kind.has_choices else "number"


def question_result(
    question: Question, answers: Any, *, suppress: bool = True
) -> QuestionResult:
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
    if answered < minimum_answers(suppress=suppress):
        return QuestionResult(**base, shown=False)
    if question.kind.is_text:
        return QuestionResult(**base, shown=True)
    numbers = mine["number"].dropna()
    if question.kind is QuestionKind.NUMBER:
        return QuestionResult(**base, shown=True, summary=number_summary(numbers))
    counts = mine[stored_column(question)].value_counts().to_dict()
    result = QuestionResult(
        **base,
        shown=True,
        counts=counted(options(question), counts, answered, suppress=suppress),
    )
    return _with_scale_figure(result, question, numbers)


def _with_scale_figure(
    result: QuestionResult, question: Question, numbers: Any
) -> QuestionResult:
    """A Likert scale's mean, or a 0 to 10 rating's net score, unless one of its
    counts is hidden: with the counts shown and the number who answered, either
    would give the hidden ones away (two hidden counts and a mean are two equations
    in two unknowns)."""
    scale = question.kind.is_likert or question.kind is QuestionKind.RATING_0_10
    if scale and any(count.suppressed for count in result.counts):
        return _with(result, scale_figure_hidden=True)
    if question.kind.is_likert:
        return _with(result, mean=round(float(numbers.mean()), 2))
    if question.kind is QuestionKind.RATING_0_10:
        return _with(result, net_score=net_score(numbers))
    return result


def minimum_answers(*, suppress: bool) -> int:
    """The answers a question needs to be shown: 5 when suppressed, else 1."""
    return SUPPRESS_BELOW if suppress else 1


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


def summary_results(survey: Survey, *, suppress: bool = True) -> SurveyResults:
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
        return SurveyResults(respondents, False, [], suppress)
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
            _counted_result(
                q, answered.get(q.id, 0), values.get(q.id, []), suppress=suppress
            )
            for q in questions
        ],
        suppress,
    )


def _counted_result(
    question: Question,
    answered: int,
    rows: list[tuple[Any, Any, int]],
    *,
    suppress: bool,
) -> QuestionResult:
    """``question_result`` from (choice id, number, count) rows."""
    base: dict[str, Any] = {
        "id": question.id,
        "position": question.position,
        "text": question.text,
        "kind": question.kind.value,
        "answered": answered,
    }
    if answered < minimum_answers(suppress=suppress):
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
        **base,
        shown=True,
        counts=counted(options(question), counts, answered, suppress=suppress),
    )
    return _with_scale_figure(result, question, numbers)


def build_results(
    questions: Sequence[Question], frames: Frames, *, suppress: bool = True
) -> SurveyResults:
    """Every question's result, or nothing shown under 5 respondents."""
    respondents = len(frames.responses)
    if respondents < SUPPRESS_BELOW:
        return SurveyResults(respondents, False, [], suppress)
    return SurveyResults(
        respondents,
        True,
        [question_result(q, frames.answers, suppress=suppress) for q in questions],
        suppress,
    )


def results_for(survey: Survey, filters: Filters, *, suppress: bool) -> SurveyResults:
    """The results of the responses ``filters`` select, for a page or a download.

    Every response is counted in the database; a filtered selection is read into
    frames. The figures are the same either way.
    """
    if not filters.active:
        return summary_results(survey, suppress=suppress)
    frames = load_frames(survey.id).only(filters)
    return build_results(survey.questions, frames, suppress=suppress)


# Free text ----------------------------------------------------------------------------


#: The free-text answers' order, newest response first: the keys their pages follow.
TEXT_ANSWER_ORDER = (Answer.response_id.desc(), Answer.id.desc())


def text_answer_query(question: Question, *, search: str = "") -> Select[Any]:
    """The free-text answers of a question, newest first, containing ``search``.

    Free text is for the survey's team only (``engage.surveys.disclosure``): show it
    once the survey has 5 responses (``shows_free_text``), however many answered
    this question.
    """
    query = (
        select(Answer.text)
        .where(Answer.question_id == question.id, sql_text(HAS_WORDS_SQL))
        .order_by(*TEXT_ANSWER_ORDER)
    )
    term = search.strip().lower()
    if term:
        query = query.where(func.lower(Answer.text).contains(term, autoescape=True))
    return query


def shows_free_text(survey: Survey) -> bool:
    """Whether a survey has the responses its free text needs to be shown."""
    return count_responses(survey) >= SUPPRESS_BELOW
