"""A survey of 100,000 responses: the results match a plain-Python calculation."""

from __future__ import annotations

import random
import statistics
import time
from collections import Counter
from collections import defaultdict
from datetime import date
from datetime import timedelta

from sqlalchemy import insert

from engage.extensions import db
from engage.membership.models import Practice
from engage.surveys.models import Answer
from engage.surveys.models import QuestionKind
from engage.surveys.models import Response
from engage.surveys.models import ResponseSource
from engage.surveys.results import reports
from engage.surveys.results import segments
from engage.surveys.results.frames import load_frames

from .helpers import make_survey
from .helpers import question

RESPONSES = 100_000
Q = QuestionKind


def _answer(
    response: int,
    question: int,
    *,
    choice: int | None = None,
    number: float | None = None,
) -> dict:
    return {
        "response_id": response,
        "question_id": question,
        "choice_id": choice,
        "number": number,
        "text": None,
    }


def _bulk_insert(table, rows: list[dict]) -> None:
    """Core executemany (no ORM per row); COPY on PostgreSQL, where psycopg's
    executemany sends the rows one by one."""
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        for start in range(0, len(rows), 50_000):
            connection.execute(insert(table), rows[start : start + 50_000])
        return
    names = list(rows[0])
    cursor = connection.connection.driver_connection.cursor()
    with cursor.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([getattr(v, "value", v) for v in row.values()])
    cursor.close()


def _generate(survey, practices: list[int]) -> dict:
    """Insert the responses with core executemany; return what was inserted."""
    rng = random.Random(20120401)
    single = [c.id for c in question(survey, Q.SINGLE_CHOICE).choices]
    multi = [c.id for c in question(survey, Q.MULTIPLE_CHOICE).choices]
    ids = {q.kind: q.id for q in survey.questions}
    data: dict = defaultdict(list)
    responses, answers = [], []
    for number in range(1, RESPONSES + 1):
        # Practice 0 to 4 are common; the last practice has only 3 responses.
        practice = practices[-1] if number <= 3 else practices[number % 5]
        responses.append(
            {
                "id": number,
                "survey_id": survey.id,
                "submitted_on": date(2024, 3, 1) + timedelta(days=number % 30),
                "source": ResponseSource.WEB,
                "tier": "gold" if number % 4 == 0 else "silver",
                "practice_id": practice,
            }
        )
        data["practice"].append(practice)
        if rng.random() < 0.95:
            choice = rng.choices(single, weights=(60, 39.99, 0.01))[0]
            answers.append(_answer(number, ids[Q.SINGLE_CHOICE], choice=choice))
            data["single"].append((number, practice, choice))
        ticked = [c for c in multi if rng.random() < 0.4]
        for choice in ticked:
            answers.append(_answer(number, ids[Q.MULTIPLE_CHOICE], choice=choice))
        if ticked:
            data["multi"].append(ticked)
        if rng.random() < 0.9:
            likert = rng.randint(1, 5)
            answers.append(
                _answer(number, ids[Q.LIKERT_AGREEMENT], number=float(likert))
            )
            data["likert"].append(likert)
        rating = rng.randint(0, 10)
        answers.append(_answer(number, ids[Q.RATING_0_10], number=float(rating)))
        data["rating"].append(rating)
        if rng.random() < 0.8:
            value = round(rng.uniform(0, 100), 1)
            answers.append(_answer(number, ids[Q.NUMBER], number=value))
            data["number"].append(value)
    _bulk_insert(Response.__table__, responses)
    _bulk_insert(Answer.__table__, answers)
    db.session.commit()
    return data


def test_results_of_100000_responses_match_an_independent_calculation() -> None:
    survey = make_survey()
    practice_rows = [Practice(name=f"Practice {i}", code=f"P{i}") for i in range(6)]
    db.session.add_all(practice_rows)
    db.session.commit()
    practices = [p.id for p in practice_rows]
    data = _generate(survey, practices)

    started = time.perf_counter()
    frames = load_frames(survey.id)
    results = reports.build_results(survey.questions, frames)
    by = {q.id: q for q in results.questions}
    crosstab = segments.cross_tab(
        question(survey, Q.SINGLE_CHOICE),
        "practice",
        frames,
        segments.segment_labels("practice"),
    )
    # Seconds, for the record (-s shows it); a shared machine makes a limit flaky.
    print(
        f"results of {RESPONSES:,} responses in {time.perf_counter() - started:.1f} s"
    )

    assert results.respondents == RESPONSES
    # The results page's database counts give the same figures.
    assert reports.summary_results(survey) == results
    # Single choice: counts and percentages of those answering; the rare option
    # (about 10 of 95,000) is not suppressed as it is 5 or more... unless it is not.
    single_q = question(survey, Q.SINGLE_CHOICE)
    single = Counter(choice for _, _, choice in data["single"])
    answered = len(data["single"])
    result = by[single_q.id]
    assert result.answered == answered
    for choice, count in zip(single_q.choices, result.counts, strict=True):
        expected = single[choice.id]
        if 0 < expected < 5:
            assert count.count is None
        else:
            assert count.count == expected
            assert count.percent == round(100 * expected / answered, 1)
    # Multiple choice: percentages of the respondents who ticked anything.
    multi_q = question(survey, Q.MULTIPLE_CHOICE)
    ticked = Counter(c for row in data["multi"] for c in row)
    result = by[multi_q.id]
    assert result.answered == len(data["multi"])
    for choice, count in zip(multi_q.choices, result.counts, strict=True):
        assert count.count == ticked[choice.id]
        assert count.percent == round(100 * ticked[choice.id] / len(data["multi"]), 1)
    # Likert: distribution and mean.
    result = by[question(survey, Q.LIKERT_AGREEMENT).id]
    likert = Counter(data["likert"])
    assert [c.count for c in result.counts] == [likert[p] for p in range(1, 6)]
    assert result.mean == round(statistics.fmean(data["likert"]), 2)
    # 0–10: distribution and net score.
    result = by[question(survey, Q.RATING_0_10).id]
    ratings = Counter(data["rating"])
    assert [c.count for c in result.counts] == [ratings[p] for p in range(11)]
    promoters = sum(1 for r in data["rating"] if r >= 9)
    detractors = sum(1 for r in data["rating"] if r <= 6)
    assert result.net_score == round(
        100 * (promoters - detractors) / len(data["rating"]), 1
    )
    # Number: n, mean, median, extremes, quartiles.
    summary = by[question(survey, Q.NUMBER).id].summary
    numbers = data["number"]
    lower, median, upper = statistics.quantiles(numbers, n=4, method="inclusive")
    assert summary is not None
    assert summary.n == len(numbers)
    assert summary.mean == round(statistics.fmean(numbers), 2)
    assert summary.median == round(statistics.median(numbers), 2) == round(median, 2)
    assert (summary.minimum, summary.maximum) == (min(numbers), max(numbers))
    assert (summary.lower_quartile, summary.upper_quartile) == (
        round(lower, 2),
        round(upper, 2),
    )

    _check_crosstab(crosstab, data, single_q, practices)


def _check_crosstab(crosstab, data, single_q, practices) -> None:
    """The cross-tab by practice against Counter, and its suppression rules."""
    cells = Counter((choice, practice) for _, practice, choice in data["single"])
    per_practice = Counter(practice for _, practice, _ in data["single"])
    labels = [c.label for c in single_q.choices]
    assert [c.label for c in crosstab.columns] == [f"Practice {i}" for i in range(6)]
    hidden = set()
    totals = {}
    for column, practice in zip(crosstab.columns, practices, strict=True):
        totals[("total", practice)] = per_practice[practice]
        if column.count is None:
            hidden.add(("total", practice))
        else:
            assert column.count == per_practice[practice] >= 5
    assert ("total", practices[-1]) in hidden  # the practice with 3 responses
    for (label, row), choice in zip(crosstab.rows, single_q.choices, strict=True):
        assert label in labels
        for cell, practice in zip(row, practices, strict=True):
            expected = cells[(choice.id, practice)]
            if cell.count is None:
                hidden.add((choice.id, practice))
            else:
                assert expected == 0 or expected >= 5
                assert cell.count == expected
                assert cell.percent == round(100 * expected / per_practice[practice], 1)
    # Every small cell is hidden, and no row or column (the totals included) has a
    # lone hidden cell, or hidden cells adding up to under 5, that a total gives away.
    assert {k for k, n in cells.items() if 0 < n < 5} <= hidden
    cells.update(totals)
    for line in (
        [[(c.id, p) for p in practices] for c in single_q.choices]
        + [[(c.id, p) for c in single_q.choices] + [("total", p)] for p in practices]
        + [[("total", p) for p in practices]]
    ):
        mine = [cell for cell in line if cell in hidden]
        if mine and any(cells[c] for c in line if c not in hidden):
            assert len(mine) >= 2
            assert sum(cells[c] for c in mine) >= 5
