"""Dashboard services: the leads' headline figures, tables and trends for a period.

The dashboard is a list of *sections* (``SECTIONS``). Each section provider takes a
:class:`Scope` (period, programme, the acting user) and returns a :class:`Section` of
headline figures (with the previous period's value and, where one exists, a target)
and data tables, each optionally drawn as a chart. The dashboard page, the board
report, its workbook and the API summary all render the same sections, so a feature
adds its figures everywhere by adding one provider. Every figure is aggregated in the
database (GROUP BY or conditional counts), never row by row.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import joinedload, selectinload

from engage.accounts.models import Role
from engage.actions.models import Action, ActionStatus, Activity, Channel, ReachFigure
from engage.actions.services import ActionFilter, action_query
from engage.audiences.models import Approach, Programme
from engage.audiences.services import (
    contact_statuses,
    effective_approach,
    list_audiences,
)
from engage.dashboard.periods import Period, buckets, granularity
from engage.extensions import db
from engage.membership import figures as member_figures
from engage.membership import reports as member_reports
from engage.membership.models import MemberStatus, Tier

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

    @property
    def programme_id(self) -> int | None:
        return self.programme.id if self.programme else None

    @property
    def previous(self) -> Period:
        return self.period.previous()


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


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


# Actions ------------------------------------------------------------------------------


def _count(query: Select[Any]) -> int:
    return int(
        db.session.scalar(
            select(func.count()).select_from(query.order_by(None).subquery())
        )
        or 0
    )


def action_figures(
    period: Period, *, today: date, programme_id: int | None
) -> dict[str, int]:
    """Actions completed in the period, and open ones as of its end by state.

    *Overdue* and *unscheduled* are the action plan's own filters (engage.actions),
    applied on the period's last day (or today, if that is sooner). Actions added
    after the period are left out; status is the stored one.
    """
    as_of = period.as_of(today)
    added_by = Action.created_at < _start_of(as_of + timedelta(days=1))

    def _open(*, overdue: bool = False, unscheduled: bool = False) -> int:
        criteria = ActionFilter(
            programme_id=programme_id,
            include_closed=False,
            overdue=overdue,
            unscheduled=unscheduled,
        )
        return _count(action_query(criteria, today=as_of).where(added_by))

    done = ActionFilter(programme_id=programme_id, status=ActionStatus.DONE)
    completed = _count(
        action_query(done, today=as_of).where(
            Action.completed_at >= _start_of(period.start),
            Action.completed_at < _start_of(period.end + timedelta(days=1)),
        )
    )
    open_ = _open()
    overdue = _open(overdue=True)
    unscheduled = _open(unscheduled=True)
    return {
        "completed": completed,
        "on_track": open_ - overdue - unscheduled,
        "overdue": overdue,
        "unscheduled": unscheduled,
        "open": open_,
    }


def actions_section(scope: Scope) -> Section:
    """Actions completed, on track, overdue and unscheduled."""
    now = action_figures(
        scope.period, today=scope.today, programme_id=scope.programme_id
    )
    before = action_figures(
        scope.previous, today=scope.today, programme_id=scope.programme_id
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


def _activities_in(start: date, end: date, programme_id: int | None) -> Select[Any]:
    query = (
        select(Activity.id)
        .join(Action, Action.id == Activity.action_id)
        .where(Activity.occurred_on >= start, Activity.occurred_on <= end)
    )
    if programme_id is not None:
        query = query.where(Action.programme_id == programme_id)
    return query


def count_deliveries(start: date, end: date, programme_id: int | None) -> int:
    """Deliveries (activities) logged on days from ``start`` to ``end``."""
    return _count(_activities_in(start, end, programme_id))


def deliveries_by_day(
    start: date, end: date, programme_id: int | None
) -> dict[date, int]:
    """How many deliveries were logged on each day that had any."""
    query = (
        select(Activity.occurred_on, func.count())
        .join(Action, Action.id == Activity.action_id)
        .where(Activity.occurred_on >= start, Activity.occurred_on <= end)
        .group_by(Activity.occurred_on)
    )
    if programme_id is not None:
        query = query.where(Action.programme_id == programme_id)
    return {day: int(count) for day, count in db.session.execute(query)}


def reach_by_channel(
    start: date, end: date, programme_id: int | None
) -> list[tuple[str, int, dict[str, int]]]:
    """Per channel: deliveries, and the total of each reach figure label."""
    deliveries = (
        select(Channel.name, func.count(Activity.id))
        .join(Action, Action.channel_id == Channel.id)
        .join(Activity, Activity.action_id == Action.id)
        .where(Activity.occurred_on >= start, Activity.occurred_on <= end)
        .group_by(Channel.name)
    )
    totals = (
        select(Channel.name, func.lower(ReachFigure.label), func.sum(ReachFigure.value))
        .join(Action, Action.channel_id == Channel.id)
        .join(Activity, Activity.action_id == Action.id)
        .join(ReachFigure, ReachFigure.activity_id == Activity.id)
        .where(Activity.occurred_on >= start, Activity.occurred_on <= end)
        .group_by(Channel.name, func.lower(ReachFigure.label))
    )
    if programme_id is not None:
        deliveries = deliveries.where(Action.programme_id == programme_id)
        totals = totals.where(Action.programme_id == programme_id)
    figures: dict[str, dict[str, int]] = defaultdict(dict)
    for channel, label, total in db.session.execute(totals):
        figures[channel][label] = int(total or 0)
    return [
        (channel, int(count), figures.get(channel, {}))
        for channel, count in sorted(db.session.execute(deliveries))
    ]


def deliveries_section(scope: Scope) -> Section:
    """Deliveries logged, their trend, and reach figures by channel."""
    period, previous, pid = scope.period, scope.previous, scope.programme_id
    figures = [
        Figure(
            "deliveries",
            "Deliveries logged",
            count_deliveries(period.start, period.end, pid),
            count_deliveries(previous.start, previous.end, pid),
        )
    ]
    slots = buckets(period)
    per_day = deliveries_by_day(slots[0].start, slots[-1].end, pid)
    trend: list[list[Cell]] = [
        [
            slot.label,
            sum(n for day, n in per_day.items() if slot.start <= day <= slot.end),
        ]
        for slot in slots
    ]
    channels = reach_by_channel(period.start, period.end, pid)
    labels = sorted({label for _, _, totals in channels for label in totals})
    reach_rows: list[list[Cell]] = [
        [channel, count, *(totals.get(label, 0) for label in labels)]
        for channel, count, totals in channels
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
        total = sum(totals.get(label, 0) for _, _, totals in channels)
        figures.append(Figure(f"reach_{label}", f"Reach: {label}", total))
    return Section("deliveries", "Deliveries and reach", figures, tables)


# Audiences ----------------------------------------------------------------------------


def due_by_approach(
    as_of: date, programme_id: int | None
) -> dict[Approach, tuple[int, int]]:
    """Per approach: audiences due for contact on ``as_of``, and audiences in all."""
    audiences = [
        a
        for a in list_audiences()
        if a.created_at < _start_of(as_of + timedelta(days=1))
    ]
    statuses = contact_statuses(audiences, today=as_of, programme_id=programme_id)
    due: Counter[Approach] = Counter()
    total: Counter[Approach] = Counter()
    for audience in audiences:
        approach = effective_approach(audience, programme_id)
        total[approach] += 1
        if statuses[audience.id].is_due:
            due[approach] += 1
    return {a: (due[a], total[a]) for a in Approach}


def audiences_section(scope: Scope) -> Section:
    """Audiences due for contact, by approach, as of the period end."""
    now = due_by_approach(scope.period.as_of(scope.today), scope.programme_id)
    before = due_by_approach(scope.previous.as_of(scope.today), scope.programme_id)
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


def active_by_tier(day: date) -> dict[Tier, int]:
    """Active members in each tier at the end of ``day``."""
    on_day = member_figures.members_on(day)
    return {tier: on_day[tier][MemberStatus.ACTIVE] for tier in Tier}


def members_section(scope: Scope) -> Section:
    """Active members by tier, joins and withdrawals (aggregate counts only)."""
    period, previous = scope.period, scope.previous
    now = active_by_tier(period.as_of(scope.today))
    before = active_by_tier(previous.as_of(scope.today))
    joined, withdrawn = member_figures.count_joins_and_withdrawals(
        period.start, period.end
    )
    joined_before, withdrawn_before = member_figures.count_joins_and_withdrawals(
        previous.start, previous.end
    )
    figures = [
        Figure(
            "members_active", "Active members", sum(now.values()), sum(before.values())
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
    slots = buckets(period)
    growth = member_figures.joins_and_withdrawals(
        slots[0].start, slots[-1].end, period=granularity(period)
    )
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
            [
                [slot.label, row.joined, row.withdrawn]
                for slot, row in zip(slots, growth, strict=True)
            ],
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
    report = member_reports.equality_report(actor=actor, now=datetime.now(UTC))
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


#: The dashboard's sections, in page order. Every renderer (page, board report,
#: workbook, API summary) walks this list.
SECTIONS: list[SectionProvider] = [
    actions_section,
    deliveries_section,
    audiences_section,
    members_section,
    representativeness_section,
    # INTEGRATION (metrics branch): add the reach-by-channel metrics, media mentions and
    # tone providers here (figures with targets from Metric.target).
    # INTEGRATION (surveys/results branches): add survey responses and response rates.
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
