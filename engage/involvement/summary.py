"""The yearly "How we involved people" summary: words and figures an organisation can
put in its annual report on the duty to involve.

For a calendar year (the current one to date): activities by kind, sessions held,
attendances, different people involved by tier, and for each activity what we heard,
what changed, and the findings and actions linked. Figures from
engage.involvement.figures, so they agree with the dashboard and the board report.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime
from typing import Any

from engage.clock import local_day
from engage.dashboard.periods import date_range
from engage.involvement import figures
from engage.involvement.figures import PEOPLE_GROUPS
from engage.involvement.figures import KindFigures
from engage.involvement.models import ActivityKind
from engage.involvement.models import InvolvementActivity

TO_DATE = "(to date)"


@dataclass(frozen=True)
class SummaryYear:
    """A year the summary can be for: the whole year, or this year to date."""

    year: int
    first: date
    last: date
    to_date: bool

    @property
    def label(self) -> str:
        """ "2025", or "2026 (to date)"."""
        return f"{self.year} {TO_DATE}" if self.to_date else str(self.year)

    @property
    def dates(self) -> str:
        return date_range(self.first, self.last)


def summary_year(year: int, today: date) -> SummaryYear:
    """The year as the summary counts it: to ``today`` if it has not ended."""
    last = date(year, 12, 31)
    to_date = date(year, 1, 1) <= today < last
    return SummaryYear(year, date(year, 1, 1), today if to_date else last, to_date)


def year_choices(today: date, now: datetime) -> list[SummaryYear]:
    """This year to date, then each earlier year in which a session was held."""
    years = {
        today.year,
        *(y for y in figures.years_with_sessions(now) if y <= today.year),
    }
    return [summary_year(y, today) for y in sorted(years, reverse=True)]


@dataclass
class ActivityLine:
    """One activity's part in the year."""

    activity: InvolvementActivity
    first_day: date
    last_day: date
    sessions: int = 0
    attendances: int = 0
    people: int = 0

    @property
    def dates(self) -> str:
        return date_range(self.first_day, self.last_day)

    @property
    def findings(self) -> list[Any]:
        return list(self.activity.findings)

    @property
    def changed_actions(self) -> list[Any]:
        return list(self.activity.changed_actions)


@dataclass
class Summary:
    """Everything the summary page, its download and its printout show."""

    year: SummaryYear
    sessions: int
    attendances: int
    people: dict[str, int]
    kinds: list[KindFigures]
    activities: list[ActivityLine] = field(default_factory=list)

    @property
    def people_total(self) -> int:
        """Different people involved: the groups do not overlap, so they add up."""
        return sum(self.people.values())

    @property
    def people_rows(self) -> list[tuple[str, int]]:
        return [(label, self.people[key]) for key, label in PEOPLE_GROUPS]

    @property
    def activity_count(self) -> int:
        return len(self.activities)

    @property
    def with_outcome(self) -> list[ActivityLine]:
        return [line for line in self.activities if line.activity.what_changed]

    @property
    def sentence(self) -> str:
        """The year in one paragraph of plain words."""
        when = (
            f"So far in {self.year.year}"
            if self.year.to_date
            else (f"In {self.year.year}")
        )
        if not self.sessions:
            return f"{when} we held no involvement sessions."
        kinds = [
            f"{k.activities} {_plural(k.kind.label.lower(), k.activities)}"
            for k in self.kinds
            if k.activities
        ]
        text = (
            f"{when} we held {_count(self.sessions, 'involvement session')} "
            f"({_joined(kinds)}). People came {_count(self.attendances, 'time')} "
            f"in all: {_count(self.people_total, 'person', 'different people')}"
        )
        gold = self.people["gold"]
        if gold:
            text += f", {gold:,} of them Gold members of our involvement scheme"
        text += "."
        changed = len(self.with_outcome)
        if changed:
            text += (
                f" {_count(changed, 'activity', 'activities')} led to a change we "
                "can point to; each is described below."
            )
        return text


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def _plural(noun: str, n: int) -> str:
    """Every kind's name takes an "s" ("focus groups", "co-design workshops")."""
    return noun if n == 1 else noun + "s"


def _joined(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def build_summary(year: SummaryYear, *, now: datetime) -> Summary:
    """The summary of the sessions held in ``year`` (before ``now``)."""
    [(sessions, attendances)] = figures.sessions_and_attendances(
        [(year.first, year.last)], now=now
    )
    people = figures.people_involved(year.first, year.last, now=now)
    kinds = figures.by_kind(year.first, year.last, now=now)
    lines: dict[int, ActivityLine] = {}
    for held in figures.held_sessions(year.first, year.last, now=now):
        day = local_day(held.session.starts_at)
        line = lines.get(held.activity.id)
        if line is None:
            line = lines[held.activity.id] = ActivityLine(held.activity, day, day)
        line.last_day = day
        line.sessions += 1
        line.attendances += held.attended or 0
    for line in lines.values():
        line.people = sum(
            figures.people_involved(
                year.first, year.last, now=now, activity_id=line.activity.id
            ).values()
        )
    ordered = sorted(
        lines.values(),
        key=lambda line: (
            list(ActivityKind).index(line.activity.kind),
            line.first_day,
            line.activity.title,
        ),
    )
    return Summary(
        year=year,
        sessions=sessions,
        attendances=attendances,
        people=people,
        kinds=list(kinds.values()),
        activities=ordered,
    )


#: The download's columns: one row per activity.
COLUMNS = (
    "Kind of activity",
    "Activity",
    "Dates",
    "Sessions held",
    "Attendances",
    "Different people",
    "What we heard",
    "What changed",
    "You said, we did",
    "Actions that changed",
    "Action it delivered",
)


def summary_rows(summary: Summary) -> list[list[object]]:
    """The download's rows: each activity, then the year's totals."""
    rows: list[list[object]] = []
    for line in summary.activities:
        activity = line.activity
        rows.append(
            [
                activity.kind.label,
                activity.title,
                line.dates,
                line.sessions,
                line.attendances,
                line.people,
                activity.what_we_heard,
                activity.what_changed,
                "; ".join(
                    f"{f.survey.title}: {f.theme}"
                    + (f" (we did: {f.we_did})" if f.we_did else "")
                    for f in line.findings
                ),
                "; ".join(a.title for a in line.changed_actions),
                activity.action.title if activity.action else "",
            ]
        )
    rows.append(
        [
            "All activities",
            f"{summary.activity_count:,} activities",
            summary.year.dates,
            summary.sessions,
            summary.attendances,
            summary.people_total,
            "",
            "",
            "",
            "",
            "",
        ]
    )
    return rows


def by_kind_table(summary: Summary) -> list[tuple[str, int, int, int]]:
    """Kinds with a session held: (kind, activities, sessions, attendances)."""
    return [
        (k.kind.label, k.activities, k.sessions, k.attendances)
        for k in summary.kinds
        if k.activities
    ]
