"""The survey responses rollup: ``survey_response_days``, responses per survey and day.

The dashboard and the daily "survey responses" measure sum it over a range of days
instead of counting responses one by one (a county has hundreds of thousands). It
is a :class:`engage.rollups.CountRollup`: kept by the ORM's flushes (answering
online, staff entering paper or phone responses); the responses import, which
inserts with Core, adds what it inserted with :func:`count_imported`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import Connection

from engage.rollups import CountRollup
from engage.rollups import Slot
from engage.rollups import register
from engage.surveys.models import Response
from engage.surveys.models import ResponseDay


def _counts_of(response: Mapping[str, Any]) -> Iterable[Slot]:
    return [((response["survey_id"], response["submitted_on"]), "responses")]


RESPONSE_DAYS = register(
    CountRollup(
        table=ResponseDay,
        key=("survey_id", "day"),
        counts=("responses",),
        source=Response,
        watched=("survey_id", "submitted_on"),
        counts_of=_counts_of,
    )
)


def count_imported(
    connection: Connection, survey_id: int, days: Iterable[date]
) -> None:
    """Count responses inserted without the ORM: one per item of ``days``."""
    RESPONSE_DAYS.add(
        connection, Counter(((survey_id, day), "responses") for day in days)
    )
