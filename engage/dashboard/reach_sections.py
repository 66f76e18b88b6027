"""Dashboard sections on reach: reach by channel and every metric against its
target (from observations), and media mentions by tone (from media monitoring).

Providers like those in engage.dashboard.services, which lists them in ``SECTIONS``;
their figures come from engage.metrics.figures.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date

from engage.actions import figures as action_figures
from engage.dashboard.periods import Period
from engage.dashboard.periods import PeriodKind
from engage.dashboard.periods import granularity
from engage.dashboard.sections import Cell
from engage.dashboard.sections import Chart
from engage.dashboard.sections import DataTable
from engage.dashboard.sections import Figure
from engage.dashboard.sections import Scope
from engage.dashboard.sections import Section
from engage.dashboard.sections import day_spans
from engage.metrics import figures as metric_figures
from engage.metrics.figures import MetricRow
from engage.metrics.models import MetricKind
from engage.metrics.models import ReportPeriod
from engage.metrics.models import Stage
from engage.metrics.numbers import STATUS_WORDS
from engage.metrics.numbers import quantity
from engage.metrics.numbers import sensible
from engage.metrics.report import Period as ReportPeriod_
from engage.metrics.report import scaled_target
from engage.metrics.report import target_status

# Reach metrics (observations) ---------------------------------------------------------


def _report_period(period: Period) -> ReportPeriod_:
    """The dashboard period as the reach report's, for ``scaled_target``.

    A whole month is a month (a monthly target applies as it is); any other period,
    and a month to date, is scaled by its days, as the reach report scales a week.
    """
    whole_month = period.kind is PeriodKind.MONTH and not period.partial
    kind = ReportPeriod.MONTH if whole_month else ReportPeriod.WEEK
    return ReportPeriod_(kind, period.start, period.end)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _reach_name(channel: str, unit: str) -> str:
    """ "Newsletter (recipients)": a channel's reach in one unit."""
    return f"{channel} ({unit})" if unit else channel


def _against_targets(
    metrics: list[metric_figures.MetricRow],
    now: dict[int, float],
    before: dict[int, float],
    report_period: ReportPeriod_,
) -> tuple[list[list[Cell]], dict[tuple[int, int], str], int]:
    """The rows of the targets table, their targets as text, and how many met.

    Only metrics with a target are set against one: a county has a thousand
    metrics, and the metrics page lists them all.
    """
    rows: list[list[Cell]] = []
    texts: dict[tuple[int, int], str] = {}
    met = 0
    for metric in metrics:
        target = scaled_target(
            {
                "kind": metric.kind.value,
                "target_value": metric.target_value,
                "target_period": metric.target_period,
            },
            report_period,
        )
        if target is None:
            continue
        value, prior = _round(now.get(metric.id)), _round(before.get(metric.id))
        status = target_status(value, target, metric.higher_is_better)
        met += status == "met"
        target = sensible(target)
        texts[(len(rows), 6)] = quantity(target, metric.unit)
        change = None if value is None or prior is None else round(value - prior, 2)
        rows.append(
            [
                metric.name,
                metric.stage.label,
                "–" if metric.channel is None else metric.channel,
                value,
                prior,
                change,
                target,
                STATUS_WORDS[status],
            ]
        )
    return rows, texts, met


def _channel_reach(
    metrics: Sequence[MetricRow], now: dict[int, float], before: dict[int, float]
) -> tuple[dict[str, float], dict[str, float], dict[str, str]]:
    """Each channel's reach (its output flow metrics, by unit) this period and the
    period before, and each one's unit.

    A channel's reach in a period is the sum of its metrics that have data then;
    with none, it has no figure for that period (not a reach of 0).
    """
    channel_now: dict[str, float] = {}
    channel_before: dict[str, float] = {}
    units: dict[str, str] = {}
    for metric in metrics:
        if (
            metric.channel is None
            or metric.kind is not MetricKind.FLOW
            or metric.stage is not Stage.OUTPUT
        ):
            continue
        name = _reach_name(metric.channel, metric.unit)
        units[name] = metric.unit
        for values, totals in ((now, channel_now), (before, channel_before)):
            if metric.id in values:
                totals[name] = totals.get(name, 0.0) + values[metric.id]
    return channel_now, channel_before, units


def _rounded(value: float | None, digits: int | None = None) -> float | None:
    """``value`` rounded (to whole numbers unless ``digits``), None kept as None."""
    if value is None:
        return None
    return round(value, digits) if digits is not None else round(value)


def metrics_section(scope: Scope) -> Section:
    """Reach by channel and each metric with a target against it (from observations).

    Reach is output-stage flow metrics only, a channel's each unit on its own:
    figures of different stages or units are never added together.
    """
    period, previous = scope.period, scope.previous
    metrics, now, before = metric_figures.metrics_with_values(
        (period.start, period.end), (previous.start, previous.end)
    )
    total = metric_figures.metric_count()
    if not total:
        return Section(
            "metrics", "Reach metrics", notes=["No metrics have been set up yet."]
        )
    target_rows, target_texts, met = _against_targets(
        metrics, now, before, _report_period(period)
    )
    with_target = len(target_rows)
    slots = scope.slots
    first = min([period.start, *(slot.start for slot in slots)])
    last = max([period.end, *(slot.end for slot in slots)])
    names = action_figures.channel_names()
    per_channel: dict[str, dict[date, float]] = defaultdict(dict)
    # Month slots are whole calendar months: read them from the month rollup.
    by_slot = (
        metric_figures.channel_flows_by_day
        if granularity(period) == "week"
        else (metric_figures.channel_flows_by_month)
    )
    for channel_id, unit_, day, value in by_slot(first, last):
        per_channel[_reach_name(names[channel_id], unit_)][day] = value
    channel_now, channel_before, units = _channel_reach(metrics, now, before)
    channels = sorted(set(channel_now) | set(channel_before))
    figures = [
        Figure(
            f"metric_reach_{index}",
            f"Reach: {name}",
            round(channel_now[name]),
            _rounded(channel_before.get(name)),
            unit=units[name],
            stage=Stage.OUTPUT.value,
        )
        for index, name in enumerate(channels, start=1)
        if name in channel_now
    ]
    if with_target:
        figures.append(
            Figure("metrics_on_target", "Metrics meeting their target", met, None)
        )
    unit = "week" if granularity(period) == "week" else "month"
    trend: list[list[Cell]] = [
        [
            slot.label,
            *(
                round(
                    sum(
                        v
                        for day, v in per_channel[name].items()
                        if slot.start <= day <= slot.end
                    ),
                    2,
                )
                for name in channels
            ),
        ]
        for slot in slots
    ]
    tables = [
        DataTable(
            "metrics_by_channel",
            "Reach by channel (output metrics, each unit on its own)",
            ["Channel (unit)", "This period", "Previous period", "Change"],
            [
                [
                    name,
                    _rounded(channel_now.get(name), 2),
                    _rounded(channel_before.get(name), 2),
                    (
                        round(channel_now[name] - channel_before[name], 2)
                        if name in channel_now and name in channel_before
                        else None
                    ),
                ]
                for name in channels
            ],
            Chart(
                "bar",
                "Bar chart of reach by channel, this period and the previous one",
                (1, 2),
            ),
        ),
        DataTable(
            "metrics_trend",
            f"Reach by channel by {unit}",
            [unit.capitalize(), *channels],
            trend if channels else [],
            Chart(
                "line",
                f"Line chart of reach by channel by {unit}",
                tuple(range(1, len(channels) + 1)),
            ),
        ),
        DataTable(
            "metrics_targets",
            "Metrics against their targets",
            [
                "Metric",
                "Stage",
                "Channel",
                "This period",
                "Previous period",
                "Change",
                "Target",
                "Status",
            ],
            target_rows,
            texts=target_texts,
        ),
    ]
    notes = [
        "Reach counts output metrics only (recipients, visits, readers…), each unit "
        "on its own; other stages are never added to it. Flow metrics are summed "
        "over the period; for a level metric the latest value counts. Targets are "
        "scaled to the period as in the reach report and shown in the metric's unit."
    ]
    if with_target:
        notes.append(f"{met} of {with_target} metrics with a target met it.")
    if without_target := total - with_target:
        notes.append(
            f"{without_target:,} "
            + ("metric has" if without_target == 1 else "metrics have")
            + " no target, so no line against targets."
        )
    if scope.programme is not None:
        notes.append("Metrics are for the whole organisation, not one programme.")
    return Section("metrics", "Reach metrics", figures, tables, notes)


# Media mentions -----------------------------------------------------------------------


def mentions_section(scope: Scope) -> Section:
    """Media mentions published in the period, by tone, with their trend."""
    period, previous = scope.period, scope.previous
    slots = scope.slots
    by_tone = metric_figures.mentions_by_tone(day_spans([period, previous, *slots]))
    now = {tone: counts[0] for tone, counts in by_tone.items()}
    before = {tone: counts[1] for tone, counts in by_tone.items()}
    labels = {"unset": "Tone not set"}
    figures = [
        Figure("mentions", "Media mentions", sum(now.values()), sum(before.values())),
        *(
            Figure(
                f"mentions_{tone}",
                f"Mentions: {labels.get(tone, tone).lower()}",
                now[tone],
                before[tone],
                lower_is_better=tone == "negative",
            )
            for tone in metric_figures.TONES
        ),
    ]
    unit = "week" if granularity(period) == "week" else "month"
    tables = [
        DataTable(
            "mentions_by_tone",
            "Media mentions by tone",
            ["Tone", "This period", "Previous period"],
            [
                [labels.get(t, t.capitalize()), now[t], before[t]]
                for t in metric_figures.TONES
            ],
            Chart("bar", "Bar chart of media mentions by tone", (1, 2)),
        ),
        DataTable(
            "mentions_trend",
            f"Media mentions by {unit} and tone",
            [
                unit.capitalize(),
                *(labels.get(t, t.capitalize()) for t in metric_figures.TONES),
            ],
            [
                [slot.label, *(by_tone[t][2 + index] for t in metric_figures.TONES)]
                for index, slot in enumerate(slots)
            ],
            Chart(
                "line", f"Line chart of media mentions by {unit} and tone", (1, 2, 3, 4)
            ),
        ),
    ]
    notes = (
        ["Media mentions are for the whole organisation, not one programme."]
        if scope.programme is not None
        else []
    )
    return Section("mentions", "Media mentions", figures, tables, notes)
