"""Reach reports: a period against the one before, per metric and channel (pandas).

pandas lives only here. ``compute_reach`` takes plain rows and returns plain
JSON-ready data; ``reach_rows`` gathers those rows from the database.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from datetime import timedelta
from typing import Any

import pandas as pd
from sqlalchemy import select

from engage.actions.models import Action
from engage.actions.models import Activity
from engage.actions.models import Channel
from engage.actions.models import ReachFigure
from engage.extensions import db
from engage.imports.tabular import write_workbook
from engage.metrics.figures import metric_values
from engage.metrics.models import Feed
from engage.metrics.models import Mention
from engage.metrics.models import Metric
from engage.metrics.models import MetricKind
from engage.metrics.models import ReportPeriod
from engage.metrics.models import Stage
from engage.metrics.models import TargetPeriod
from engage.metrics.numbers import percent
from engage.metrics.numbers import quantity
from engage.metrics.stages import LabelSetting
from engage.metrics.stages import label_settings
from engage.metrics.stages import measure_deliveries

#: Nominal days in a target's period, to scale a flow target to the report's period.
TARGET_DAYS = {
    TargetPeriod.MONTH: 365.25 / 12,
    TargetPeriod.QUARTER: 365.25 / 4,
    TargetPeriod.YEAR: 365.25,
}


@dataclass(frozen=True)
class Period:
    """A report period: a week (Monday to Sunday) or a calendar month."""

    kind: ReportPeriod
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period just before this one."""
        return period_containing(self.kind, self.start - timedelta(days=1))

    @property
    def label(self) -> str:
        if self.kind is ReportPeriod.MONTH:
            return self.start.strftime("%B %Y")
        return f"Week of {self.start.day} {self.start.strftime('%B %Y')}"


def period_containing(kind: ReportPeriod, day: date) -> Period:
    """The week or month that holds ``day``."""
    if kind is ReportPeriod.WEEK:
        start = day - timedelta(days=day.weekday())
        return Period(kind, start, start + timedelta(days=6))
    last = calendar.monthrange(day.year, day.month)[1]
    return Period(kind, day.replace(day=1), day.replace(day=last))


def last_complete_period(kind: ReportPeriod, today: date) -> Period:
    """The latest whole week or month before ``today``."""
    return period_containing(kind, today).previous()


# Gathering rows ---------------------------------------------------------------------


def reach_rows(period: Period) -> dict[str, Any]:
    """Metrics and their values, mentions and deliveries: this period and the last."""
    first = period.previous().start
    metrics = [
        {
            "id": m.id,
            "key": m.key,
            "name": m.name,
            "unit": m.unit,
            "stage": m.stage.value,
            "kind": m.kind.value,
            "higher_is_better": m.higher_is_better,
            "target_value": m.target_value,
            "target_period": m.target_period.value if m.target_period else None,
            "channel": channel or "",
        }
        for m, channel in db.session.execute(
            select(Metric, Channel.name)
            .outerjoin(Channel, Channel.id == Metric.channel_id)
            .order_by(Metric.name, Metric.id)
        )
    ]
    mentions = [
        {
            "day": m.published_on.isoformat(),
            "feed": feed,
            "title": m.title,
            "link": m.link or "",
            "tone": m.tone.value if m.tone else "unset",
        }
        for m, feed in db.session.execute(
            select(Mention, Feed.name)
            .join(Feed, Feed.id == Mention.feed_id)
            .where(
                Mention.published_on >= period.start, Mention.published_on <= period.end
            )
            .order_by(Mention.published_on, Mention.id)
        ).all()
    ]
    activities = db.session.execute(
        select(
            Activity.id,
            Activity.occurred_on,
            Activity.description,
            Action.title,
            Channel.name,
        )
        .join(Action, Action.id == Activity.action_id)
        .join(Channel, Channel.id == Action.channel_id)
        .where(Activity.occurred_on >= period.start, Activity.occurred_on <= period.end)
        .order_by(Activity.occurred_on, Activity.id)
    ).all()
    # Plain rows, not ORM objects: a busy month logs thousands of deliveries.
    figures: dict[int, list[list[Any]]] = {}
    for activity_id, label, value in db.session.execute(
        select(ReachFigure.activity_id, ReachFigure.label, ReachFigure.value)
        .join(Activity, Activity.id == ReachFigure.activity_id)
        .where(Activity.occurred_on >= period.start, Activity.occurred_on <= period.end)
        .order_by(ReachFigure.id)
    ):
        figures.setdefault(activity_id, []).append([label, value])
    deliveries = [
        {
            "day": day.isoformat(),
            "action": title,
            "channel": channel,
            "description": description,
            "figures": "; ".join(f"{label} {value}" for label, value in pairs),
            "figure_list": pairs,
        }
        for activity_id, day, description, title, channel in activities
        for pairs in [figures.get(activity_id, [])]
    ]
    labels = label_settings(
        str(pair[0]) for d in deliveries for pair in d["figure_list"]
    )
    return {
        "metrics": metrics,
        # Each metric's value in the period and in the one before (one value a day
        # from the best source; flows summed, levels the latest), read from the
        # metric rollups rather than from every observation.
        "values": [
            metric_values(period.start, period.end),
            metric_values(first, period.previous().end),
        ],
        "mentions": mentions,
        "deliveries": deliveries,
        "labels": [
            {
                "label": s.label,
                "stage": s.stage.value,
                "unit": s.unit,
                "rate_of": s.rate_of,
            }
            for s in labels.values()
        ],
    }


# Computing --------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else round(float(value), 2)


def _change(current: float | None, previous: float | None) -> dict[str, Any]:
    if current is None or previous is None:
        return {"change": None, "change_pct": None}
    change = round(current - previous, 2)
    pct = None if previous == 0 else round(change / previous * 100, 1)
    return {"change": change, "change_pct": pct}


def scaled_target(metric: dict[str, Any], period: Period) -> float | None:
    """The target for the period: a flow target scaled by days; a level target as is."""
    if metric["target_value"] is None or metric["target_period"] is None:
        return None
    target = float(metric["target_value"])
    target_period = TargetPeriod(metric["target_period"])
    if metric["kind"] == MetricKind.LEVEL.value:
        return target
    if period.kind is ReportPeriod.MONTH and target_period is TargetPeriod.MONTH:
        return target
    return round(target * period.days / TARGET_DAYS[target_period], 2)


def target_status(value: float | None, target: float | None, higher: bool) -> str:
    """``met``, ``not met``, ``no target`` or ``no data``."""
    if target is None:
        return "no target"
    if value is None:
        return "no data"
    return "met" if (value >= target if higher else value <= target) else "not met"


def compute_reach(rows: dict[str, Any], period: Period) -> dict[str, Any]:
    """The report's figures from ``reach_rows`` output (pure: no database)."""
    previous = period.previous()
    current, before = rows["values"]
    table = []
    for metric in rows["metrics"]:  # plain dicts: pandas would turn None to NaN
        value = _number(current.get(metric["id"]))
        prior = _number(before.get(metric["id"]))
        target = scaled_target(metric, period)
        table.append(
            {
                "key": metric["key"],
                "name": metric["name"],
                "unit": metric["unit"],
                "stage": metric.get("stage", Stage.OUTPUT.value),
                "kind": metric["kind"],
                "channel": metric["channel"],
                "value": value,
                "previous": prior,
                **_change(value, prior),
                "target": target,
                "status": target_status(
                    value, target, bool(metric["higher_is_better"])
                ),
            }
        )
    return {
        "period": period.kind.value,
        "label": period.label,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "previous_start": previous.start.isoformat(),
        "previous_end": previous.end.isoformat(),
        "metrics": table,
        "channels": _channels(table, rows["deliveries"]),
        "rates": _rates(rows),
        "mentions": _mentions(rows["mentions"]),
        "deliveries": rows["deliveries"],
    }


def _channels(
    table: list[dict[str, Any]], deliveries: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Per channel and unit: output (reach) flow metrics summed, and the number of
    deliveries logged. Other stages, and different units, are never added in."""
    flows = pd.DataFrame(
        [
            m
            for m in table
            if m["channel"]
            and m["kind"] == MetricKind.FLOW.value
            and m["stage"] == Stage.OUTPUT.value
        ],
        columns=["channel", "unit", "value", "previous"],
    )
    sums = flows.groupby(["channel", "unit"])[["value", "previous"]].sum(min_count=1)
    counts = pd.Series([d["channel"] for d in deliveries], dtype="object")
    delivered = counts.value_counts().to_dict() if len(counts) else {}
    keys = sorted(set(sums.index) | {(name, "") for name in delivered})
    shown = {name for name, unit in keys if unit}
    result = []
    for name, unit in keys:
        if not unit and name in shown:
            continue  # its deliveries are on its reach row
        value = prior = None
        if (name, unit) in sums.index:
            value = _number(sums["value"].get((name, unit)))
            prior = _number(sums["previous"].get((name, unit)))
        result.append(
            {
                "channel": name,
                "unit": unit,
                "value": value,
                "previous": prior,
                **_change(value, prior),
                "deliveries": int(delivered.get(name, 0)),
            }
        )
    return result


def _rates(rows: dict[str, Any]) -> list[dict[str, Any]]:
    """Per channel, each outtake as a rate of its output over the deliveries that
    record both (opens ÷ recipients), else its count labelled with its stage."""
    settings = {
        item["label"]: LabelSetting(
            item["label"], Stage(item["stage"]), item["unit"], item["rate_of"]
        )
        for item in rows.get("labels", [])
    }
    measures = measure_deliveries(
        (
            (
                d["channel"],
                [(label, value) for label, value in d.get("figure_list", [])],
            )
            for d in rows["deliveries"]
        ),
        settings,
    )
    result = []
    for m in measures:
        for label, (setting, count) in m.counts.items():
            found = m.rates.get(label)
            result.append(
                {
                    "channel": m.channel,
                    "label": label,
                    "name": found.name if found else label.capitalize(),
                    "stage": setting.stage.value,
                    "count": count,
                    "of": found.denominator if found else None,
                    "of_unit": setting.rate_of if found else "",
                    "rate": found.value if found else None,
                }
            )
    return result


def _mentions(mentions: list[dict[str, Any]]) -> dict[str, Any]:
    tones = pd.Series([m["tone"] for m in mentions], dtype="object")
    counts = tones.value_counts().to_dict() if len(tones) else {}
    return {
        "total": len(mentions),
        "counts": {
            tone: int(counts.get(tone, 0))
            for tone in ("positive", "neutral", "negative", "unset")
        },
        "items": mentions,
    }


# Exporting --------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def report_xlsx(figures: dict[str, Any]) -> bytes:
    """The report as a formula-safe workbook, one sheet per table."""
    metric_columns = [
        "metric",
        "stage",
        "unit",
        "channel",
        "value",
        "previous",
        "change",
        "change %",
        "target",
        "status",
    ]
    metric_rows = [
        [
            m["name"],
            m.get("stage", ""),
            m["unit"],
            m["channel"],
            *(_cell(m[k]) for k in ("value", "previous", "change", "change_pct")),
            "" if m["target"] is None else quantity(m["target"], m["unit"]),
            m["status"],
        ]
        for m in figures["metrics"]
    ]
    channel_rows = [
        [
            c["channel"],
            c.get("unit", ""),
            _cell(c["value"]),
            _cell(c["previous"]),
            _cell(c["change"]),
            _cell(c["change_pct"]),
            str(c["deliveries"]),
        ]
        for c in figures["channels"]
    ]
    mention_rows = [
        [m["day"], m["feed"], m["title"], m["link"], m["tone"]]
        for m in figures["mentions"]["items"]
    ]
    delivery_rows = [
        [d["day"], d["action"], d["channel"], d["description"], d["figures"]]
        for d in figures["deliveries"]
    ]
    return write_workbook(
        [
            ("Metrics", metric_columns, metric_rows),
            (
                "Channels",
                [
                    "channel",
                    "reach unit",
                    "reach",
                    "previous",
                    "change",
                    "change %",
                    "deliveries",
                ],
                channel_rows,
            ),
            (
                "Rates",
                ["channel", "figure", "stage", "count", "of output", "rate"],
                [
                    [
                        r["channel"],
                        r["name"],
                        r["stage"],
                        _cell(r["count"]),
                        ""
                        if r["of"] is None
                        else f"{r['of']:,} {r['of_unit']}".strip(),
                        percent(r["rate"]) if r["rate"] is not None else "",
                    ]
                    for r in figures.get("rates", [])
                ],
            ),
            ("Mentions", ["date", "feed", "title", "link", "tone"], mention_rows),
            (
                "Deliveries",
                ["date", "action", "channel", "description", "figures"],
                delivery_rows,
            ),
        ]
    )
