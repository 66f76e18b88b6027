"""Reach figures: metric values over a range of days, flows by channel, mentions.

Metric values follow the reach report's rules (engage.metrics.report) and are read
from the ``metric_days`` and ``metric_months`` rollups (engage.metrics.rollup);
mentions are counted per range with engage.dashboard.counting. Ranges of days are
given by their first and last day, both inclusive.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from datetime import timedelta
from typing import Any
from typing import NamedTuple

from sqlalchemy import and_
from sqlalchemy import case
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select

from engage.actions.models import Channel
from engage.dashboard.counting import day_ranges
from engage.dashboard.counting import month_start
from engage.dashboard.counting import series_in_ranges
from engage.dashboard.counting import whole_months
from engage.extensions import db
from engage.metrics.models import Mention
from engage.metrics.models import Metric
from engage.metrics.models import MetricDay
from engage.metrics.models import MetricKind
from engage.metrics.models import MetricMonth
from engage.metrics.models import Stage
from engage.metrics.models import Tone

#: The tones mentions are counted under; ``unset`` is a mention with none.
TONES = ("positive", "neutral", "negative", "unset")


def _value_columns(start: date, end: date) -> list[Any]:
    """Columns, correlated to ``Metric``, that make up its value from start to end.

    For a flow metric, the sums of its whole months (``metric_months``) and of the
    days of the partial months at the edges (``metric_days``), each None when it
    has no data; for a level metric, its latest day's value. Each is a lookup along
    the rollup's primary key (metric, month or day), so a metric costs a few index
    steps whatever the number of metrics.
    """
    is_flow, is_level = Metric.kind == MetricKind.FLOW, Metric.kind == MetricKind.LEVEL

    def days(low: date, high: date) -> Any:
        return (
            select(func.sum(MetricDay.value))
            .where(
                MetricDay.metric_id == Metric.id,
                MetricDay.day >= low,
                MetricDay.day <= high,
            )
            .scalar_subquery()
        )

    months = whole_months(start, end)
    if months is None:
        flows = [days(start, end)]
    else:
        first, last = months
        flows = [
            select(func.sum(MetricMonth.total))
            .where(
                MetricMonth.metric_id == Metric.id,
                MetricMonth.month >= first,
                MetricMonth.month < last,
            )
            .scalar_subquery()
        ]
        if start < first:
            flows.append(days(start, first - timedelta(days=1)))
        if last <= end:
            flows.append(days(last, end))
    latest = (
        select(MetricDay.value)
        .where(
            MetricDay.metric_id == Metric.id,
            MetricDay.day >= start,
            MetricDay.day <= end,
        )
        .order_by(MetricDay.day.desc())
        .limit(1)
        .scalar_subquery()
    )
    # CASE: the database looks up only what the metric's kind needs.
    return [*(case((is_flow, flow)) for flow in flows), case((is_level, latest))]


def _value(parts: Sequence[Any]) -> float | None:
    """A metric's value from the ``_value_columns`` of its row (None: no data)."""
    present = [float(part) for part in parts if part is not None]
    return sum(present) if present else None


def metric_values(start: date, end: date) -> dict[int, float]:
    """Each metric's value from ``start`` to ``end``: flows summed, levels the latest.

    The reach report's rules (engage.metrics.report): one value per metric and day
    from the best-ranked source (the ``metric_days`` rollup); a flow metric's days
    are summed (whole months read from the ``metric_months`` rollup), a level
    metric's latest day counts. Metrics without data are left out.
    """
    values = {}
    for metric_id, *parts in db.session.execute(
        select(Metric.id, *_value_columns(start, end))
    ):
        value = _value(parts)
        if value is not None:
            values[int(metric_id)] = value
    return values


def channel_flows_by_day(start: date, end: date) -> list[tuple[int, str, date, float]]:
    """(channel id, unit, day, total) of channel-linked output flow metrics: reach,
    each unit on its own."""
    query = (
        select(Metric.channel_id, Metric.unit, MetricDay.day, func.sum(MetricDay.value))
        .join(Metric, Metric.id == MetricDay.metric_id)
        .where(
            MetricDay.day >= start,
            MetricDay.day <= end,
            Metric.kind == MetricKind.FLOW,
            Metric.stage == Stage.OUTPUT,
            Metric.channel_id.is_not(None),
        )
        .group_by(Metric.channel_id, Metric.unit, MetricDay.day)
    )
    rows = db.session.execute(query)
    return [(c, u, day, float(v)) for c, u, day, v in rows if c is not None]


def channel_flows_by_month(
    start: date, end: date
) -> list[tuple[int, str, date, float]]:
    """(channel id, unit, first of month, total) of output flow metrics for the
    months of ``start``–``end``."""
    query = (
        select(
            Metric.channel_id,
            Metric.unit,
            MetricMonth.month,
            func.sum(MetricMonth.total),
        )
        .join(Metric, Metric.id == MetricMonth.metric_id)
        .where(
            MetricMonth.month >= month_start(start),
            MetricMonth.month <= end,
            Metric.kind == MetricKind.FLOW,
            Metric.stage == Stage.OUTPUT,
            Metric.channel_id.is_not(None),
        )
        .group_by(Metric.channel_id, Metric.unit, MetricMonth.month)
    )
    rows = db.session.execute(query)
    return [(c, u, month, float(v)) for c, u, month, v in rows if c is not None]


class MetricRow(NamedTuple):
    """What the dashboard needs of a metric (a row, not an ORM object)."""

    id: int
    name: str
    unit: str
    stage: Stage
    kind: MetricKind
    higher_is_better: bool
    target_value: float | None
    target_period: Any
    channel: str | None


def metrics_with_values(
    period: tuple[date, date], previous: tuple[date, date]
) -> tuple[list[MetricRow], dict[int, float], dict[int, float]]:
    """The metrics the dashboard shows (those with a target, and the output flows
    of a channel, its reach), by name, and the values of those with data in the
    range ``period`` and the range ``previous`` (first and last day; as
    metric_values, both in the same query). A county has a thousand metrics."""
    now_columns = _value_columns(*period)
    before_columns = _value_columns(*previous)
    rows = db.session.execute(
        select(
            Metric.id,
            Metric.name,
            Metric.unit,
            Metric.stage,
            Metric.kind,
            Metric.higher_is_better,
            Metric.target_value,
            Metric.target_period,
            Channel.name.label("channel"),
            *now_columns,
            *before_columns,
        )
        .outerjoin(Channel, Channel.id == Metric.channel_id)
        .where(
            or_(
                Metric.target_value.is_not(None),
                and_(
                    Metric.kind == MetricKind.FLOW,
                    Metric.stage == Stage.OUTPUT,
                    Metric.channel_id.is_not(None),
                ),
            )
        )
        .order_by(Metric.name, Metric.id)
    )
    metrics: list[MetricRow] = []
    now: dict[int, float] = {}
    before: dict[int, float] = {}
    fields, split = len(MetricRow._fields), len(MetricRow._fields) + len(now_columns)
    for row in rows:
        metric = MetricRow._make(row[:fields])
        metrics.append(metric)
        for values, parts in ((now, row[fields:split]), (before, row[split:])):
            value = _value(parts)
            if value is not None:
                values[metric.id] = value
    return metrics, now, before


def metric_count() -> int:
    """How many metrics there are."""
    return int(db.session.scalar(select(func.count()).select_from(Metric)) or 0)


def mentions_by_tone(ranges: Sequence[tuple[date, date]]) -> dict[str, list[int]]:
    """Per tone (``unset`` when none), the mentions published in each range of days."""
    tone = {t: Mention.tone == Tone(t) for t in TONES if t != "unset"}
    tone["unset"] = Mention.tone.is_(None)
    counts = series_in_ranges(
        day_ranges(ranges), [(Mention.published_on, [tone[t]]) for t in TONES]
    )
    return dict(zip(TONES, counts, strict=True))
