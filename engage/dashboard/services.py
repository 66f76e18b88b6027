"""Dashboard services: the leads' headline figures, tables and trends for a period.

The dashboard is a list of *sections* (``SECTIONS``). Each section provider takes a
:class:`Scope` (period, programme, the acting user) and returns a :class:`Section` of
headline figures (with the previous period's value and, where one exists, a target)
and data tables, each optionally drawn as a chart. The dashboard page, the board
report, its workbook and the API summary all render the same sections, so a feature
adds its figures everywhere by adding one provider. Every figure is aggregated in the
database (GROUP BY, conditional counts, or index range counts per piece of the period,
the previous period and the trend's weeks or months: engage.dashboard.counting),
never row by row.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from engage.accounts.models import Role
from engage.actions.deliveries import last_contact_dates_on
from engage.actions.models import Action, ActionStatus, Activity, Channel, ReachFigure
from engage.actions.services import (
    open_condition,
    overdue_condition,
    unscheduled_condition,
)
from engage.audiences.models import Approach, Audience, Programme, ProgrammeApproach
from engage.audiences.services import (
    contact_status,
    get_contact_intervals,
)
from engage.clock import utcnow
from engage.dashboard.counting import counts_in_ranges, series_in_ranges
from engage.dashboard.periods import Bucket, Period, PeriodKind, buckets, granularity
from engage.extensions import db
from engage.membership import figures as member_figures
from engage.membership import reports as member_reports
from engage.membership.models import Tier
from engage.metrics.models import (
    Mention,
    Metric,
    MetricDay,
    MetricKind,
    MetricMonth,
    ReportPeriod,
    Tone,
)
from engage.metrics.report import Period as ReportPeriod_
from engage.metrics.report import scaled_target, target_status
from engage.metrics.rollup import month_end, month_start
from engage.surveys import figures as survey_figures
from engage.surveys.models import ResponseDay, Survey, SurveyStatus

if TYPE_CHECKING:
    from engage.accounts.models import User

Cell = str | int | float | None


@dataclass(frozen=True)
class Scope:
    """What the dashboard is asked for."""

    period: Period
    today: date
    programme: Programme | None = None
    actor: User | None = None
    #: Representativeness (equality aggregates) is for admins, and never in the API.
    include_equality: bool = False
    #: When the figures are asked for (viewing the equality figures is audited).
    now: datetime | None = None

    @property
    def programme_id(self) -> int | None:
        return self.programme.id if self.programme else None

    @property
    def previous(self) -> Period:
        return self.period.previous()

    @property
    def slots(self) -> list[Bucket]:
        """The trend's weeks or months that have begun by ``today``: a month to
        come is left out, not drawn as a fall to nothing."""
        return [slot for slot in buckets(self.period) if slot.start <= self.today]


@dataclass(frozen=True)
class Figure:
    """A headline number with its value in the previous period (and a target)."""

    key: str
    label: str
    value: int
    previous: int | None = None
    #: Filled by features that have targets (metrics); None means no target.
    target: int | None = None
    #: True when a rise is bad news (overdue actions, audiences due for contact).
    lower_is_better: bool = False

    @property
    def change(self) -> int | None:
        return None if self.previous is None else self.value - self.previous

    @property
    def change_text(self) -> str:
        """ "up 3", "down 2" or "no change" against the previous period."""
        change = self.change
        if change is None:
            return ""
        if change == 0:
            return "no change"
        return f"{'up' if change > 0 else 'down'} {abs(change):,}"

    @property
    def target_met(self) -> bool | None:
        if self.target is None:
            return None
        if self.lower_is_better:
            return self.value <= self.target
        return self.value >= self.target


@dataclass(frozen=True)
class Chart:
    """How a table is drawn: ``bar`` or ``line``; series are columns 1… of the table."""

    kind: str
    label: str  #: the canvas's accessible name
    series: tuple[int, ...] = (1,)


@dataclass(frozen=True)
class DataTable:
    """A table of figures (always shown), optionally drawn as a chart too."""

    key: str
    caption: str
    columns: list[str]
    rows: list[list[Cell]]
    chart: Chart | None = None

    def body(self) -> list[tuple[Cell, list[tuple[bool, str]]]]:
        """Each row's heading, then its other cells as (numeric?, text) for the page.

        Numbers get thousands separators and None a dash; worked out here once, not
        with per-cell tests in the template (the metrics table has a row per metric).
        """
        return [(row[0], [_display(cell) for cell in row[1:]]) for row in self.rows]

    def chart_data(self) -> dict[str, Any] | None:
        """The chart's data for the page's ``data-chart`` attribute."""
        if self.chart is None or not self.rows:
            return None
        return {
            "type": self.chart.kind,
            "labels": [str(row[0]) for row in self.rows],
            "datasets": [
                {"label": self.columns[i], "data": [row[i] for row in self.rows]}
                for i in self.chart.series
            ],
        }


@dataclass
class Section:
    """One part of the dashboard: headline figures, then tables."""

    key: str
    title: str
    figures: list[Figure] = field(default_factory=list)
    tables: list[DataTable] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


SectionProvider = Callable[[Scope], Section | None]


def _display(cell: Cell) -> tuple[bool, str]:
    """A table cell as shown: (is it a number, its text)."""
    if cell is None:  # no figure: a dash, aligned with the numbers around it
        return True, "–"
    if isinstance(cell, float) and cell.is_integer():
        return True, f"{int(cell):,}"  # 2,579 rather than 2,579.0
    if isinstance(cell, int | float):
        return True, f"{cell:,}"
    return False, str(cell)


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _day_ranges(spans: Sequence[Period | Bucket]) -> list[tuple[date, date]]:
    """Each period or bucket (inclusive days) as a half-open range of days."""
    return [(span.start, span.end + timedelta(days=1)) for span in spans]


# Actions ------------------------------------------------------------------------------


def action_figures(
    periods_: Sequence[Period], *, today: date, programme_id: int | None
) -> list[dict[str, int]]:
    """For each period: actions completed in it, and open ones as of its end.

    *Overdue* and *unscheduled* are the action plan's own conditions
    (engage.actions.services), applied on the period's last day (or today, if that
    is sooner). Actions added after that day are left out; the status is the stored
    one. One query for all the periods.
    """
    columns = []
    for period in periods_:
        as_of = period.as_of(today)
        added = Action.created_at < _start_of(as_of + timedelta(days=1))
        completed = and_(
            Action.status == ActionStatus.DONE,
            Action.completed_at >= _start_of(period.start),
            Action.completed_at < _start_of(period.end + timedelta(days=1)),
        )
        columns += [
            func.count(case((completed, 1))),
            func.count(case((and_(added, open_condition()), 1))),
            func.count(case((and_(added, overdue_condition(as_of)), 1))),
            func.count(case((and_(added, unscheduled_condition()), 1))),
        ]
    query = select(*columns)
    if programme_id is not None:
        query = query.where(Action.programme_id == programme_id)
    row = db.session.execute(query).one()
    result = []
    for index in range(len(periods_)):
        done, open_, overdue, unscheduled = (
            int(v) for v in row[4 * index : 4 * index + 4]
        )
        result.append(
            {
                "completed": done,
                "on_track": open_ - overdue - unscheduled,
                "overdue": overdue,
                "unscheduled": unscheduled,
                "open": open_,
            }
        )
    return result


def actions_section(scope: Scope) -> Section:
    """Actions completed, on track, overdue and unscheduled."""
    now, before = action_figures(
        [scope.period, scope.previous],
        today=scope.today,
        programme_id=scope.programme_id,
    )
    labels = {
        "completed": ("Actions completed", False),
        "on_track": ("Actions on track", False),
        "overdue": ("Actions overdue", True),
        "unscheduled": ("Actions unscheduled", True),
    }
    figures = [
        Figure(f"actions_{key}", label, now[key], before[key], lower_is_better=worse)
        for key, (label, worse) in labels.items()
    ]
    table = DataTable(
        "actions_by_state",
        "Actions by state",
        ["State", "This period", "Previous period"],
        [
            [f.label.removeprefix("Actions ").capitalize(), f.value, f.previous]
            for f in figures
        ],
        Chart(
            "bar",
            "Bar chart of actions by state, this period and the previous one",
            (1, 2),
        ),
    )
    notes = [
        "Open actions are counted as they stood on "
        f"{scope.period.as_of(scope.today):%-d %B %Y}."
    ]
    return Section("actions", "Action plan", figures, [table], notes)


# Deliveries and reach -----------------------------------------------------------------


def count_deliveries(
    spans: Sequence[Period | Bucket], programme_id: int | None
) -> list[int]:
    """Deliveries (activities) logged in each span, in one query."""
    where = []
    if programme_id is not None:
        where.append(
            Activity.action_id.in_(
                select(Action.id).where(Action.programme_id == programme_id)
            )
        )
    return counts_in_ranges(Activity.occurred_on, _day_ranges(spans), *where)


def deliveries_by_channel(
    start: date, end: date, programme_id: int | None
) -> Counter[str]:
    """Deliveries logged on days from ``start`` to ``end``, per channel (name)."""
    query = (
        select(Action.channel_id, func.count())
        .select_from(Activity)
        .join(Action, Action.id == Activity.action_id)
        .where(Activity.occurred_on >= start, Activity.occurred_on <= end)
        .group_by(Action.channel_id)
    )
    if programme_id is not None:
        query = query.where(Action.programme_id == programme_id)
    names = _channel_names()
    result: Counter[str] = Counter()
    for channel_id, count in db.session.execute(query):
        result[names[channel_id]] += int(count)
    return result


def _channel_names() -> dict[int, str]:
    return {c.id: c.name for c in db.session.scalars(select(Channel))}


def reach_totals(
    start: date, end: date, programme_id: int | None
) -> dict[str, dict[str, int]]:
    """Per channel, the total of each reach figure label (lower-cased)."""
    label = func.lower(ReachFigure.label)
    query = (
        select(Action.channel_id, label, func.sum(ReachFigure.value))
        .select_from(Activity)
        .join(Action, Action.id == Activity.action_id)
        .join(ReachFigure, ReachFigure.activity_id == Activity.id)
        .where(Activity.occurred_on >= start, Activity.occurred_on <= end)
        .group_by(Action.channel_id, label)
    )
    if programme_id is not None:
        query = query.where(Action.programme_id == programme_id)
    names = _channel_names()
    totals: dict[str, dict[str, int]] = defaultdict(dict)
    for channel_id, name, total in db.session.execute(query):
        totals[names[channel_id]][name] = int(total or 0)
    return totals


def deliveries_section(scope: Scope) -> Section:
    """Deliveries logged, their trend, and reach figures by channel."""
    period, previous, pid = scope.period, scope.previous, scope.programme_id
    slots = scope.slots
    per_channel = deliveries_by_channel(period.start, period.end, pid)
    before, *per_slot = count_deliveries([previous, *slots], pid)
    figures = [
        Figure("deliveries", "Deliveries logged", sum(per_channel.values()), before)
    ]
    trend: list[list[Cell]] = [
        [slot.label, n] for slot, n in zip(slots, per_slot, strict=True)
    ]
    totals = reach_totals(period.start, period.end, pid)
    labels = sorted({label for by_label in totals.values() for label in by_label})
    reach_rows: list[list[Cell]] = [
        [channel, per_channel[channel], *(totals[channel].get(k, 0) for k in labels)]
        for channel in sorted(per_channel)
    ]
    unit = "week" if granularity(period) == "week" else "month"
    tables = [
        DataTable(
            "deliveries_trend",
            f"Deliveries logged by {unit}",
            [unit.capitalize(), "Deliveries"],
            trend,
            Chart("line", f"Line chart of deliveries logged by {unit}"),
        ),
        DataTable(
            "reach_by_channel",
            "Deliveries and reach figures by channel",
            ["Channel", "Deliveries", *(label.capitalize() for label in labels)],
            reach_rows,
            Chart("bar", "Bar chart of deliveries by channel"),
        ),
    ]
    for label in labels:
        total = sum(by_label.get(label, 0) for by_label in totals.values())
        figures.append(Figure(f"reach_{label}", f"Reach: {label}", total))
    return Section("deliveries", "Deliveries and reach", figures, tables)


# Audiences ----------------------------------------------------------------------------


def due_by_approach(
    days: Sequence[date], programme_id: int | None
) -> list[dict[Approach, tuple[int, int]]]:
    """For each day: per approach, audiences due for contact, and audiences in all.

    The audiences services' rule (contact_status) over the last delivery on or
    before each day, found for every audience and day in one grouped query.
    ``last_contact`` is None for contacts older than the longest interval, which
    leaves ``is_due`` unchanged (those audiences are due whatever the date).
    """
    intervals = get_contact_intervals()
    # Only contacts within the longest interval before a day can make an audience
    # "not due" that day, so older deliveries need not be read (their audiences are
    # due either way): for a year, the half-year between the two windows is skipped.
    last = last_contact_dates_on(None, list(days), window=max(intervals.values()))
    # Columns, not ORM objects: the approach for the programme is its override,
    # else the usual one (as audiences.services.effective_approach).
    override = (
        select(ProgrammeApproach.approach)
        .where(
            ProgrammeApproach.audience_id == Audience.id,
            ProgrammeApproach.programme_id == programme_id,
        )
        .scalar_subquery()
    )
    approach = (
        Audience.approach
        if programme_id is None
        else func.coalesce(override, Audience.approach)
    )
    audiences = db.session.execute(
        select(Audience.id, approach, Audience.created_at).where(
            Audience.archived_at.is_(None)
        )
    ).all()
    result = []
    for index, day in enumerate(days):
        due: Counter[Approach] = Counter()
        total: Counter[Approach] = Counter()
        cutoff = _start_of(day + timedelta(days=1))
        for audience_id, raw_approach, added_at in audiences:
            if added_at >= cutoff:
                continue
            chosen = Approach(raw_approach)
            total[chosen] += 1
            reached = last.get(audience_id, [None] * len(days))[index]
            if contact_status(reached, intervals[chosen], added_at, day).is_due:
                due[chosen] += 1
        result.append({a: (due[a], total[a]) for a in Approach})
    return result


def audiences_section(scope: Scope) -> Section:
    """Audiences due for contact, by approach, as of the period end."""
    now, before = due_by_approach(
        [scope.period.as_of(scope.today), scope.previous.as_of(scope.today)],
        scope.programme_id,
    )
    figures = [
        Figure(
            "audiences_due",
            "Audiences due for contact",
            sum(d for d, _ in now.values()),
            sum(d for d, _ in before.values()),
            lower_is_better=True,
        )
    ]
    rows: list[list[Cell]] = [
        [approach.label, due, total, before[approach][0]]
        for approach, (due, total) in now.items()
    ]
    table = DataTable(
        "audiences_due",
        "Audiences due for contact by approach",
        [
            "Approach",
            "Due for contact",
            "Audiences",
            "Due at the end of the previous period",
        ],
        rows,
        Chart("bar", "Bar chart of audiences due for contact by approach", (1, 2)),
    )
    return Section("audiences", "Audiences", figures, [table])


# Membership ---------------------------------------------------------------------------


def members_section(scope: Scope) -> Section:
    """Active members by tier, joins and withdrawals (aggregate counts only)."""
    period, previous = scope.period, scope.previous
    slots = scope.slots
    (now, before), moves = member_figures.member_counts(
        [period.as_of(scope.today), previous.as_of(scope.today)],
        [
            (period.start, period.end),
            (previous.start, previous.end),
            *((slot.start, slot.end) for slot in slots),
        ],
    )
    (joined, withdrawn), (joined_before, withdrawn_before) = moves[0], moves[1]
    figures = [
        Figure(
            "members_active",
            "Active members",
            sum(now.values()),
            sum(before.values()),
        ),
        *(
            Figure(
                f"members_{tier.value}",
                f"{tier.label} members",
                now[tier],
                before[tier],
            )
            for tier in Tier
        ),
        Figure("members_joined", "Members joined", joined, joined_before),
        Figure(
            "members_withdrawn",
            "Members withdrawn",
            withdrawn,
            withdrawn_before,
            lower_is_better=True,
        ),
    ]
    tables = [
        DataTable(
            "members_by_tier",
            "Active members by tier",
            ["Tier", "End of this period", "End of the previous period"],
            [[tier.label, now[tier], before[tier]] for tier in Tier],
            Chart("bar", "Bar chart of active members by tier", (1, 2)),
        ),
        DataTable(
            "members_growth",
            "Members joined and withdrawn",
            ["Period", "Joined", "Withdrawn"],
            [[slot.label, j, w] for slot, (j, w) in zip(slots, moves[2:], strict=True)],
            Chart("line", "Line chart of members joined and withdrawn", (1, 2)),
        ),
    ]
    return Section("members", "PPI membership", figures, tables)


def representativeness_section(scope: Scope) -> Section | None:
    """How active members compare with the population profile (admins only).

    Reuses the membership equality report, with its suppression of small counts;
    viewing it is audited there.
    """
    actor = scope.actor
    if not scope.include_equality or actor is None or not actor.has_role(Role.ADMIN):
        return None
    report = member_reports.equality_report(actor=actor, now=scope.now or utcnow())
    section = Section("representativeness", "Membership representativeness")
    if not report.shown:
        section.notes.append("There are too few active members to show this report.")
        return section
    for question in report.questions:
        rows: list[list[Cell]] = [
            [
                cell.label,
                cell.percent,
                cell.population_percent,
                cell.difference,
                cell.verdict,
            ]
            for cell in question.cells
            if cell.population_percent is not None and not cell.suppressed
        ]
        if rows:
            section.tables.append(
                DataTable(
                    f"representativeness_{question.field}",
                    question.text,
                    [
                        "Answer",
                        "Members (%)",
                        "Population (%)",
                        "Difference (points)",
                        "Verdict",
                    ],
                    rows,
                )
            )
    if not section.tables:
        section.notes.append("No population profile has been entered yet.")
    return section


# Reach metrics (observations) ---------------------------------------------------------


def _whole_months(start: date, end: date) -> tuple[date, date] | None:
    """The first day of the first and of the last whole month in ``start``–``end``."""
    first = start if start.day == 1 else month_start(month_end(start) + timedelta(1))
    after = end + timedelta(1)
    last = month_start(after) if after.day == 1 else month_start(end)
    # ``last`` is the first month NOT wholly inside (exclusive bound).
    if first >= last:
        return None
    return first, last


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

    months = _whole_months(start, end)
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


def channel_flows_by_day(start: date, end: date) -> list[tuple[int, date, float]]:
    """(channel id, day, flow metrics' total) for channel-linked flow metrics."""
    query = (
        select(Metric.channel_id, MetricDay.day, func.sum(MetricDay.value))
        .join(Metric, Metric.id == MetricDay.metric_id)
        .where(
            MetricDay.day >= start,
            MetricDay.day <= end,
            Metric.kind == MetricKind.FLOW,
            Metric.channel_id.is_not(None),
        )
        .group_by(Metric.channel_id, MetricDay.day)
    )
    rows = db.session.execute(query)
    return [(c, day, float(v)) for c, day, v in rows if c is not None]


def channel_flows_by_month(start: date, end: date) -> list[tuple[int, date, float]]:
    """(channel id, first of month, flow total) for the months of ``start``–``end``."""
    query = (
        select(Metric.channel_id, MetricMonth.month, func.sum(MetricMonth.total))
        .join(Metric, Metric.id == MetricMonth.metric_id)
        .where(
            MetricMonth.month >= month_start(start),
            MetricMonth.month <= end,
            Metric.kind == MetricKind.FLOW,
            Metric.channel_id.is_not(None),
        )
        .group_by(Metric.channel_id, MetricMonth.month)
    )
    rows = db.session.execute(query)
    return [(c, month, float(v)) for c, month, v in rows if c is not None]


def _report_period(period: Period) -> ReportPeriod_:
    """The dashboard period as the reach report's, for ``scaled_target``.

    A month is a month (a monthly target applies as it is); any other period is
    scaled by its days, as the reach report scales a week.
    """
    kind = ReportPeriod.MONTH if period.kind is PeriodKind.MONTH else ReportPeriod.WEEK
    return ReportPeriod_(kind, period.start, period.end)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


class _MetricRow(NamedTuple):
    """What the metrics section needs of a metric (a row, not an ORM object)."""

    id: int
    name: str
    unit: str
    kind: MetricKind
    higher_is_better: bool
    target_value: float | None
    target_period: Any
    channel: str | None


def _metrics_with_values(
    period: Period, previous: Period
) -> tuple[list[_MetricRow], dict[int, float], dict[int, float]]:
    """Every metric (rows: there can be a thousand), by name, and the values of
    those with data in the period and the previous one (as metric_values, both in
    the same query)."""
    now_columns = _value_columns(period.start, period.end)
    before_columns = _value_columns(previous.start, previous.end)
    rows = db.session.execute(
        select(
            Metric.id,
            Metric.name,
            Metric.unit,
            Metric.kind,
            Metric.higher_is_better,
            Metric.target_value,
            Metric.target_period,
            Channel.name.label("channel"),
            *now_columns,
            *before_columns,
        )
        .outerjoin(Channel, Channel.id == Metric.channel_id)
        .order_by(Metric.name, Metric.id)
    )
    metrics: list[_MetricRow] = []
    now: dict[int, float] = {}
    before: dict[int, float] = {}
    fields, split = len(_MetricRow._fields), len(_MetricRow._fields) + len(now_columns)
    for row in rows:
        metric = _MetricRow._make(row[:fields])
        metrics.append(metric)
        for values, parts in ((now, row[fields:split]), (before, row[split:])):
            value = _value(parts)
            if value is not None:
                values[metric.id] = value
    return metrics, now, before


def metrics_section(scope: Scope) -> Section:
    """Reach by channel and every metric against its target (from observations)."""
    period, previous = scope.period, scope.previous
    metrics, now, before = _metrics_with_values(period, previous)
    if not metrics:
        return Section(
            "metrics", "Reach metrics", notes=["No metrics have been set up yet."]
        )
    report_period = _report_period(period)
    target_rows: list[list[Cell]] = []
    met = with_target = 0
    for metric in metrics:
        value, prior = _round(now.get(metric.id)), _round(before.get(metric.id))
        target = scaled_target(
            {
                "kind": metric.kind.value,
                "target_value": metric.target_value,
                "target_period": metric.target_period,
            },
            report_period,
        )
        status = target_status(value, target, metric.higher_is_better)
        if target is not None:
            with_target += 1
            met += status == "met"
        change = None if value is None or prior is None else round(value - prior, 2)
        target_rows.append(
            [
                metric.name + (f" ({metric.unit})" if metric.unit else ""),
                "–" if metric.channel is None else metric.channel,
                value,
                prior,
                change,
                target,
                status,
            ]
        )
    slots = scope.slots
    first = min([period.start, *(slot.start for slot in slots)])
    last = max([period.end, *(slot.end for slot in slots)])
    names = _channel_names()
    per_channel: dict[str, dict[date, float]] = defaultdict(dict)
    # Month slots are whole calendar months: read them from the month rollup.
    by_slot = (
        channel_flows_by_day
        if granularity(period) == "week"
        else (channel_flows_by_month)
    )
    for channel_id, day, value in by_slot(first, last):
        per_channel[names[channel_id]][day] = value
    channel_now: dict[str, float] = defaultdict(float)
    channel_before: dict[str, float] = defaultdict(float)
    for metric in metrics:
        if metric.channel is None or metric.kind is not MetricKind.FLOW:
            continue
        channel_now[metric.channel] += now.get(metric.id, 0.0)
        channel_before[metric.channel] += before.get(metric.id, 0.0)
    channels = sorted(channel_now)
    figures = [
        Figure(
            f"metric_reach_{index}",
            f"Reach: {name}",
            round(channel_now[name]),
            round(channel_before[name]),
        )
        for index, name in enumerate(channels, start=1)
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
            "Reach by channel (flow metrics)",
            ["Channel", "This period", "Previous period", "Change"],
            [
                [
                    name,
                    round(channel_now[name], 2),
                    round(channel_before[name], 2),
                    round(channel_now[name] - channel_before[name], 2),
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
                "Channel",
                "This period",
                "Previous period",
                "Change",
                "Target",
                "Status",
            ],
            target_rows,
        ),
    ]
    notes = [
        "Flow metrics are summed over the period; for a level metric the latest "
        "value counts. Targets are scaled to the period as in the reach report."
    ]
    if with_target:
        notes.append(f"{met} of {with_target} metrics with a target met it.")
    if scope.programme is not None:
        notes.append("Metrics are for the whole organisation, not one programme.")
    return Section("metrics", "Reach metrics", figures, tables, notes)


# Media mentions -----------------------------------------------------------------------

TONES = ("positive", "neutral", "negative", "unset")


def mentions_by_tone(spans: Sequence[Period | Bucket]) -> dict[str, list[int]]:
    """Per tone (``unset`` when none), the mentions published in each span."""
    tone = {t: Mention.tone == Tone(t) for t in TONES if t != "unset"}
    tone["unset"] = Mention.tone.is_(None)
    counts = series_in_ranges(
        _day_ranges(spans), [(Mention.published_on, [tone[t]]) for t in TONES]
    )
    return dict(zip(TONES, counts, strict=True))


def mentions_section(scope: Scope) -> Section:
    """Media mentions published in the period, by tone, with their trend."""
    period, previous = scope.period, scope.previous
    slots = scope.slots
    by_tone = mentions_by_tone([period, previous, *slots])
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
            for tone in TONES
        ),
    ]
    unit = "week" if granularity(period) == "week" else "month"
    tables = [
        DataTable(
            "mentions_by_tone",
            "Media mentions by tone",
            ["Tone", "This period", "Previous period"],
            [[labels.get(t, t.capitalize()), now[t], before[t]] for t in TONES],
            Chart("bar", "Bar chart of media mentions by tone", (1, 2)),
        ),
        DataTable(
            "mentions_trend",
            f"Media mentions by {unit} and tone",
            [unit.capitalize(), *(labels.get(t, t.capitalize()) for t in TONES)],
            [
                [slot.label, *(by_tone[t][2 + index] for t in TONES)]
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


# Surveys ------------------------------------------------------------------------------


def surveys_open_in(start: date, end: date) -> Sequence[Any]:
    """Surveys open at some time from ``start`` to ``end``, by opening date: rows
    of their id and title (all the dashboard shows).

    A draft was never open. A survey opened without an opening date gets one when
    it opens (surveys.services.open_survey); one whose date was cleared later
    counts as open from its creation.
    """
    opened = func.coalesce(Survey.opens_at, Survey.created_at)
    return (
        db.session.execute(
            select(Survey.id, Survey.title)
            .where(
                Survey.status != SurveyStatus.DRAFT,
                opened < _start_of(end + timedelta(days=1)),
                or_(Survey.closes_at.is_(None), Survey.closes_at >= _start_of(start)),
            )
            .order_by(opened, Survey.id)
        )
    ).all()


def responses_by_survey(
    start: date, end: date, survey_ids: Sequence[int]
) -> dict[int, int]:
    """Responses received from ``start`` to ``end``, per survey of ``survey_ids``."""
    if not survey_ids:
        return {}
    query = (
        select(ResponseDay.survey_id, func.sum(ResponseDay.responses))
        .where(
            ResponseDay.survey_id.in_(list(survey_ids)),
            ResponseDay.day >= start,
            ResponseDay.day <= end,
        )
        .group_by(ResponseDay.survey_id)
    )
    return {int(s): int(n) for s, n in db.session.execute(query)}


def _rate(invited: int, answered: int) -> float | None:
    return None if not invited else round(100 * answered / invited, 1)


def surveys_section(scope: Scope) -> Section:
    """Survey responses in the period and response rates of the surveys open in it.

    The rate is survey_figures.response_rate's: invitations answered ÷ invitations
    (as they stand now), per survey and over every survey open in the period.
    """
    period, previous = scope.period, scope.previous
    slots = scope.slots
    responses_now, responses_before, *per_slot = counts_in_ranges(
        ResponseDay.day,
        _day_ranges([period, previous, *slots]),
        total=ResponseDay.responses,
    )
    open_now = surveys_open_in(period.start, period.end)
    open_before = surveys_open_in(previous.start, previous.end)
    counts = survey_figures.invitation_counts(
        sorted({s.id for s in open_now} | {s.id for s in open_before})
    )
    received = responses_by_survey(period.start, period.end, [s.id for s in open_now])

    def overall(surveys: Sequence[Any]) -> tuple[int, int]:
        invited = sum(counts.get(s.id, (0, 0))[0] for s in surveys)
        answered = sum(counts.get(s.id, (0, 0))[1] for s in surveys)
        return invited, answered

    rate_now, rate_before = _rate(*overall(open_now)), _rate(*overall(open_before))
    figures = [
        Figure("survey_responses", "Survey responses", responses_now, responses_before),
        Figure("surveys_open", "Surveys open", len(open_now), len(open_before)),
    ]
    if rate_now is not None:
        figures.append(
            Figure(
                "survey_response_rate",
                "Response rate of invitations (%)",
                round(rate_now),
                None if rate_before is None else round(rate_before),
            )
        )
    rows: list[list[Cell]] = []
    for survey in open_now:
        invited, answered = counts.get(survey.id, (0, 0))
        rows.append(
            [
                survey.title,
                received.get(survey.id, 0),
                invited,
                answered,
                _rate(invited, answered),
            ]
        )
    if open_now:
        invited, answered = overall(open_now)
        rows.append(
            [
                "All surveys open in the period",
                sum(received.get(s.id, 0) for s in open_now),
                invited,
                answered,
                rate_now,
            ]
        )
    unit = "week" if granularity(period) == "week" else "month"
    tables = [
        DataTable(
            "survey_responses_trend",
            f"Survey responses by {unit}",
            [unit.capitalize(), "Responses"],
            [[slot.label, n] for slot, n in zip(slots, per_slot, strict=True)],
            Chart("line", f"Line chart of survey responses by {unit}"),
        ),
        DataTable(
            "survey_response_rates",
            "Response rates of the surveys open in the period",
            [
                "Survey",
                "Responses in the period",
                "Invitations",
                "Invitations answered",
                "Response rate (%)",
            ],
            rows,
        ),
    ]
    notes = [
        "The response rate is invitations answered ÷ invitations sent, as they stand "
        "today; responses through a public link are not in it."
    ]
    if scope.programme is not None:
        notes.append("Surveys are for the whole organisation, not one programme.")
    return Section("surveys", "Surveys", figures, tables, notes)


#: The dashboard's sections, in page order. Every renderer (page, board report,
#: workbook, API summary) walks this list.
SECTIONS: list[SectionProvider] = [
    actions_section,
    deliveries_section,
    audiences_section,
    members_section,
    representativeness_section,
    metrics_section,
    mentions_section,
    surveys_section,
]


def build_dashboard(
    scope: Scope, providers: Sequence[SectionProvider] | None = None
) -> list[Section]:
    """Every section's figures for ``scope``."""
    sections = []
    for provider in providers if providers is not None else SECTIONS:
        section = provider(scope)
        if section is not None:
            sections.append(section)
    return sections


# Board report evidence log ------------------------------------------------------------


@dataclass(frozen=True)
class EvidenceItem:
    """One involvement activity for the board report's evidence log."""

    occurred_on: date
    action: str
    channel: str
    audiences: str
    description: str
    notes: str


def evidence_log(
    period: Period, *, programme_id: int | None = None
) -> list[EvidenceItem]:
    """The deliveries logged in the period, oldest first, with their action details."""
    query = (
        select(Activity)
        .join(Action, Action.id == Activity.action_id)
        .options(
            joinedload(Activity.action).joinedload(Action.channel),
            selectinload(Activity.audiences),
        )
        .where(Activity.occurred_on >= period.start, Activity.occurred_on <= period.end)
        .order_by(Activity.occurred_on, Activity.id)
    )
    if programme_id is not None:
        query = query.where(Action.programme_id == programme_id)
    return [
        EvidenceItem(
            activity.occurred_on,
            activity.action.title,
            activity.action.channel.name,
            ", ".join(a.name for a in activity.audiences),
            activity.description,
            activity.notes,
        )
        for activity in db.session.scalars(query)
    ]
