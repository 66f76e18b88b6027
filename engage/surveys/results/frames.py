"""A survey's responses and answers read into DataFrames, and the filters on them.

The answers of a survey are read with a few SQL queries into DataFrames (in chunks, so
a survey of 100,000 responses stays quick), for ``reports`` and ``segments`` to
summarise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.sql import ClauseElement

from engage.extensions import db
from engage.surveys.models import Answer
from engage.surveys.models import Response
from engage.surveys.models import response_topics

#: Rows fetched from the database at a time.
CHUNK_ROWS = 50_000


@dataclass(frozen=True)
class Filters:
    """Which responses a result covers (None: every one)."""

    tier: str | None = None
    practice_id: int | None = None
    topic_id: int | None = None

    @property
    def active(self) -> bool:
        return any(v is not None for v in (self.tier, self.practice_id, self.topic_id))


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


def read_frame(statement: ClauseElement, columns: Sequence[str]) -> Any:
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


def as_days(values: Any) -> Any:
    """Dates (or ISO text, or timestamps) as ``datetime.date`` objects."""
    if not len(values):
        return values
    return pd.to_datetime(values.map(str), format="ISO8601").dt.date


def load_frames(survey_id: int, *, with_text: bool = False) -> Frames:
    """Read a survey's responses and answers (free text only if ``with_text``)."""
    responses = read_frame(
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
    responses["submitted_on"] = as_days(responses["submitted_on"])
    topics = read_frame(
        select(response_topics.c.response_id, response_topics.c.topic_id)
        .join(Response, Response.id == response_topics.c.response_id)
        .where(Response.survey_id == survey_id),
        ("response_id", "topic_id"),
    )
    text_column = Answer.text if with_text else Answer.id.is_(None)
    answers = read_frame(
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
