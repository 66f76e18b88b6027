"""Counting rows in date or time ranges: one query, each row read once.

The dashboard counts the same rows for several ranges at once (the period, the
previous period and each week or month of its trend). Grouping by day reads every
row into a sort and then sums days in Python; a conditional count per range tests
every row against every range. :func:`counts_in_ranges` instead cuts the ranges
into pieces that do not overlap, counts each piece with its own index range scan
(a scalar subquery, so still one round trip) and adds the pieces up per range.

The features' figures modules (``engage/<feature>/figures.py``) count with it for
the dashboard's sections, and take its day bounds (:func:`day_ranges`,
:func:`start_of`).
"""

from __future__ import annotations

import calendar
import itertools
from collections.abc import Sequence
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from typing import Any
from typing import TypeVar

from sqlalchemy import ColumnElement
from sqlalchemy import func
from sqlalchemy import select

from engage.extensions import db

Bound = TypeVar("Bound", date, datetime)


def pieces_of(ranges: Sequence[tuple[Bound, Bound]]) -> list[tuple[Bound, Bound]]:
    """The half-open ranges ``[low, high)`` cut at every bound into pieces that do
    not overlap, in order; gaps that no range covers are left out."""
    bounds = sorted({bound for pair in ranges for bound in pair})
    return [
        (low, high)
        for low, high in itertools.pairwise(bounds)
        if any(start <= low and high <= end for start, end in ranges)
    ]


def counts_in_ranges(
    column: Any,
    ranges: Sequence[tuple[Bound, Bound]],
    *where: ColumnElement[bool],
    total: Any = None,
) -> list[int]:
    """Rows with ``low <= column < high`` for each ``(low, high)`` in ``ranges``.

    ``where`` narrows the rows counted (every range alike). Ranges may overlap or
    be empty; one query whatever their number. ``column`` should lead an index.
    With ``total`` (a column of counts, in a rollup), its sum instead of the rows.
    """
    return series_in_ranges(ranges, [(column, where)], total=total)[0]


def series_in_ranges(
    ranges: Sequence[tuple[Bound, Bound]],
    series: Sequence[tuple[Any, Sequence[ColumnElement[bool]]]],
    *,
    total: Any = None,
) -> list[list[int]]:
    """:func:`counts_in_ranges` for several ``(column, where)`` series at once (one
    per tone, or per join method…), in one query: ``result[s][r]`` counts the rows
    of series ``s`` in range ``r``."""
    pieces = pieces_of(ranges)
    if not pieces or not series:
        return [[0] * len(ranges) for _ in series]
    aggregate = func.count() if total is None else func.coalesce(func.sum(total), 0)
    row = db.session.execute(
        select(
            *(
                select(aggregate)
                .where(column >= low, column < high, *where)
                .scalar_subquery()
                for column, where in series
                for low, high in pieces
            )
        )
    ).one()
    counts = [int(n) for n in row]
    result = []
    for index in range(len(series)):
        mine = counts[index * len(pieces) : (index + 1) * len(pieces)]
        counted = list(zip(pieces, mine, strict=True))
        result.append(
            [
                sum(n for (low, high), n in counted if start <= low and high <= end)
                for start, end in ranges
            ]
        )
    return result


def day_ranges(spans: Sequence[tuple[date, date]]) -> list[tuple[date, date]]:
    """Ranges of days given by their first and last day (both inclusive) as the
    half-open ranges ``[first, day after last)`` that :func:`counts_in_ranges` takes."""
    return [(first, last + timedelta(days=1)) for first, last in spans]


def start_of(day: date) -> datetime:
    """The moment ``day`` begins in UTC: the figures' bound for a time column."""
    return datetime.combine(day, time.min, tzinfo=UTC)


def month_start(day: date) -> date:
    """The first day of the day's month."""
    return day.replace(day=1)


def month_end(day: date) -> date:
    """The last day of the day's month."""
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def whole_months(start: date, end: date) -> tuple[date, date] | None:
    """The whole calendar months within ``start``–``end`` (both inclusive), as the
    first day of the first of them and the first day of the month after the last
    (an exclusive bound); None if there is none."""
    first = start if start.day == 1 else month_start(month_end(start) + timedelta(1))
    after = end + timedelta(1)
    last = month_start(after) if after.day == 1 else month_start(end)
    if first >= last:
        return None
    return first, last
