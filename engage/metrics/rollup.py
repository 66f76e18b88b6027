"""The metric rollups: ``metric_days`` and ``metric_months``, derived from observations.

``metric_days`` holds one value per metric and day, from the best source in
``RANKED`` order (manual, import, feed, system); ``metric_months`` sums each
calendar month of it (for flows) and keeps its latest day (for levels). The dashboard
and the reach report read them instead of ranking sources over every observation
of a period.

They are kept up to date in one place: an ``after_flush`` listener recomputes the
(metric, day) pairs of every observation added, changed or deleted through the ORM
(manual entry, imports, the media-coverage recount, reach from deliveries, metric
deletion). Writers that bypass the ORM (bulk inserts, such as the bench generator)
must call ``rebuild_metric_rollups()`` afterwards.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from collections.abc import Mapping
from datetime import date
from itertools import chain
from typing import Any

from sqlalchemy import Connection
from sqlalchemy import Date
from sqlalchemy import and_
from sqlalchemy import case
from sqlalchemy import cast
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from sqlalchemy import type_coerce
from sqlalchemy.orm import InstanceState
from sqlalchemy.orm import Session
from sqlalchemy.orm import UOWTransaction

from engage.dashboard.counting import month_end
from engage.dashboard.counting import month_start
from engage.extensions import db
from engage.metrics.models import MetricDay
from engage.metrics.models import MetricMonth
from engage.metrics.models import Observation
from engage.metrics.models import Source

#: Where two sources give a value for the same day, the first in this order wins
#: (the reach report and the dashboard read the rollups, so both follow it).
RANKED = (Source.MANUAL, Source.IMPORT, Source.FEED, Source.SYSTEM)
_CHUNK = 500


def best_value() -> Any:
    """A metric's day's value from its best source (in a GROUP BY metric and day).

    One observation per metric, day and source, so MAX picks it; COALESCE takes the
    first source in ``RANKED`` order that has one.
    """
    return func.coalesce(
        *(func.max(case((Observation.source == s, Observation.value))) for s in RANKED)
    )


def _chunks(items: list[date]) -> Iterable[list[date]]:
    for index in range(0, len(items), _CHUNK):
        yield items[index : index + _CHUNK]


def refresh(connection: Connection, touched: Mapping[int, Iterable[date]]) -> None:
    """Recompute the rollup rows of these metrics' days (and of their months)."""
    for metric_id, days_ in touched.items():
        days = sorted(set(days_))
        for chunk in _chunks(days):
            connection.execute(
                delete(MetricDay).where(
                    MetricDay.metric_id == metric_id, MetricDay.day.in_(chunk)
                )
            )
            connection.execute(
                insert(MetricDay).from_select(
                    ["metric_id", "day", "value"],
                    select(Observation.metric_id, Observation.observed_on, best_value())
                    .where(
                        Observation.metric_id == metric_id,
                        Observation.observed_on.in_(chunk),
                    )
                    .group_by(Observation.metric_id, Observation.observed_on),
                )
            )
        months = sorted({month_start(day) for day in days})
        connection.execute(
            delete(MetricMonth).where(
                MetricMonth.metric_id == metric_id, MetricMonth.month.in_(months)
            )
        )
        rows = connection.execute(
            select(MetricDay.day, MetricDay.value)
            .where(
                MetricDay.metric_id == metric_id,
                MetricDay.day >= months[0],
                MetricDay.day <= month_end(months[-1]),
            )
            .order_by(MetricDay.day)
        )
        wanted = set(months)
        summary: dict[date, dict[str, Any]] = {}
        for day, value in rows:
            month = month_start(day)
            if month not in wanted:
                continue
            held = summary.setdefault(month, {"total": 0.0})
            held["total"] += value
            held["last_day"], held["last_value"] = day, value
        if summary:
            connection.execute(
                insert(MetricMonth),
                [
                    {"metric_id": metric_id, "month": month, **held}
                    for month, held in sorted(summary.items())
                ],
            )


def _month_of(column: Any, dialect: str) -> Any:
    if dialect == "sqlite":
        # No CAST on SQLite: CAST(... AS DATE) gives a number there.
        return type_coerce(func.date(column, "start of month"), Date)
    return cast(func.date_trunc("month", column), Date)


def rebuild_metric_rollups(connection: Connection | None = None) -> dict[str, int]:
    """Recompute both rollups from every observation (after bulk inserts). Counts.

    Runs in ``db.session`` (flushed first), or on ``connection`` when given (the bench
    generator's engine connection); the caller commits.
    """
    run: Connection | Session
    if connection is None:
        db.session.flush()
        run, dialect = db.session(), db.session.get_bind().dialect.name
    else:
        run, dialect = connection, connection.dialect.name
    run.execute(delete(MetricMonth))
    run.execute(delete(MetricDay))
    run.execute(
        insert(MetricDay).from_select(
            ["metric_id", "day", "value"],
            select(
                Observation.metric_id, Observation.observed_on, best_value()
            ).group_by(Observation.metric_id, Observation.observed_on),
        )
    )
    month = _month_of(MetricDay.day, dialect)
    grouped = (
        select(
            MetricDay.metric_id.label("metric_id"),
            month.label("month"),
            func.sum(MetricDay.value).label("total"),
            func.max(MetricDay.day).label("last_day"),
        )
        .group_by(MetricDay.metric_id, month)
        .subquery()
    )
    run.execute(
        insert(MetricMonth).from_select(
            ["metric_id", "month", "total", "last_day", "last_value"],
            select(
                grouped.c.metric_id,
                grouped.c.month,
                grouped.c.total,
                grouped.c.last_day,
                MetricDay.value,
            ).join(
                MetricDay,
                and_(
                    MetricDay.metric_id == grouped.c.metric_id,
                    MetricDay.day == grouped.c.last_day,
                ),
            ),
        )
    )
    return {
        "days": run.scalar(select(func.count()).select_from(MetricDay)) or 0,
        "months": run.scalar(select(func.count()).select_from(MetricMonth)) or 0,
    }


def _touched(session: Session) -> dict[int, set[date]]:
    touched: dict[int, set[date]] = defaultdict(set)
    for item in chain(session.new, session.dirty, session.deleted):
        if not isinstance(item, Observation):
            continue
        state: InstanceState[Observation] = sa_inspect(item)
        metric_ids = [item.metric_id, *state.attrs.metric_id.history.deleted]
        days = [item.observed_on, *state.attrs.observed_on.history.deleted]
        for metric_id in metric_ids:
            if metric_id is not None:
                touched[metric_id].update(day for day in days if day is not None)
    return touched


def _after_flush(session: Session, _context: UOWTransaction) -> None:
    touched = _touched(session)
    if touched:
        refresh(session.connection(), touched)


def install() -> None:
    """Keep the rollups up to date on every flush (idempotent)."""
    from sqlalchemy import event

    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)


install()
