"""The survey responses rollup always equals a count of the responses."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date

from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import select

from engage.clock import utcnow
from engage.extensions import db
from engage.surveys.figures import responses_per_day
from engage.surveys.models import Response
from engage.surveys.models import ResponseDay
from engage.surveys.models import ResponseSource
from engage.surveys.results.importing import apply_responses
from engage.surveys.rollup import RESPONSE_DAYS

from .helpers import add_response
from .helpers import make_survey
from .test_import import FIXTURES

DAY = date(2024, 3, 15)


def _expected() -> Counter[tuple[int, date]]:
    rows = db.session.execute(
        select(Response.survey_id, Response.submitted_on, func.count()).group_by(
            Response.survey_id, Response.submitted_on
        )
    )
    return Counter({(s, d): int(n) for s, d, n in rows})


def _stored() -> Counter[tuple[int, date]]:
    db.session.flush()
    rows = db.session.execute(select(*ResponseDay.__table__.c))
    return Counter({(r.survey_id, r.day): r.responses for r in rows})


def test_responses_added_through_the_orm_are_counted_per_survey_and_day() -> None:
    first, second = make_survey(), make_survey(title="Second")
    for survey, day in [
        (first, DAY),
        (first, DAY),
        (second, DAY),
        (first, date(2024, 3, 16)),
    ]:
        add_response(survey, {}, day=day)
    assert _stored() == _expected()
    assert _stored() == {
        (first.id, DAY): 2,
        (first.id, date(2024, 3, 16)): 1,
        (second.id, DAY): 1,
    }
    assert responses_per_day(None, DAY, date(2024, 3, 17)) == [
        (DAY, 3),
        (date(2024, 3, 16), 1),
        (date(2024, 3, 17), 0),
    ]
    assert responses_per_day(second.id, DAY, DAY) == [(DAY, 1)]


def test_moving_and_deleting_responses_takes_them_off_their_old_day() -> None:
    survey = make_survey()
    moved = add_response(survey, {}, day=DAY)
    gone = add_response(survey, {}, day=date(2024, 3, 16))
    add_response(survey, {}, day=date(2024, 3, 16))
    moved.submitted_on = date(2024, 3, 20)
    db.session.delete(gone)
    db.session.commit()
    assert (
        _stored()
        == _expected()
        == {
            (survey.id, date(2024, 3, 16)): 1,
            (survey.id, date(2024, 3, 20)): 1,
        }
    )
    # A day left with no responses has no row.
    assert (
        db.session.scalar(
            select(func.count()).select_from(ResponseDay).where(ResponseDay.day == DAY)
        )
        == 0
    )


def test_imported_responses_are_counted_and_a_reimport_adds_nothing() -> None:
    survey = make_survey()
    add_response(survey, {}, day=DAY)
    for _ in range(2):
        with (FIXTURES / "google.csv").open("rb") as source:
            apply_responses(
                survey, source, "google.csv", mapping=None, actor="test", now=utcnow()
            )
        db.session.commit()
    assert sum(_stored().values()) == 7
    assert _stored() == _expected()


def test_rebuild_counts_responses_inserted_without_the_orm() -> None:
    survey = make_survey()
    add_response(survey, {}, day=DAY)
    db.session.execute(
        insert(Response),
        [
            {
                "survey_id": survey.id,
                "submitted_on": day,
                "source": ResponseSource.PAPER,
            }
            for day in (DAY, DAY, date(2024, 4, 1))
        ],
    )
    assert _stored() == {(survey.id, DAY): 1}
    assert RESPONSE_DAYS.rebuild(db.session.connection()) == 2
    assert (
        _stored()
        == _expected()
        == {(survey.id, DAY): 3, (survey.id, date(2024, 4, 1)): 1}
    )


def test_two_writers_counting_the_same_day_at_once_both_count() -> None:
    survey = make_survey()
    db.session.commit()
    key = {((survey.id, DAY), "responses"): 1}
    engine = db.engine
    first = engine.connect()
    first.begin()
    RESPONSE_DAYS.add(first, key)
    errors: list[BaseException] = []

    def second() -> None:
        try:
            with engine.begin() as connection:  # waits for the first to commit
                RESPONSE_DAYS.add(connection, key)
        except BaseException as error:  # reported below
            errors.append(error)

    thread = threading.Thread(target=second)
    thread.start()
    thread.join(0.3)
    first.commit()
    first.close()
    thread.join(10)
    assert not thread.is_alive()
    assert errors == []
    db.session.commit()  # a new read snapshot (SQLite)
    assert _stored() == {(survey.id, DAY): 2}
