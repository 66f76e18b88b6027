"""The dashboard's involvement section: sessions held, attendances and people
involved, this period and the previous one like for like.

A provider like those in engage.dashboard.services, which lists it in ``SECTIONS``;
its figures come from engage.involvement.figures. Sessions held are what the team
put on; attendances and people involved are outtakes (what people did); activities
with a change recorded are outcomes. Each is its own figure, never added together.
"""

from __future__ import annotations

from engage.clock import utcnow
from engage.dashboard.periods import granularity
from engage.dashboard.sections import Cell
from engage.dashboard.sections import Chart
from engage.dashboard.sections import DataTable
from engage.dashboard.sections import Figure
from engage.dashboard.sections import Scope
from engage.dashboard.sections import Section
from engage.dashboard.sections import day_spans
from engage.involvement import figures
from engage.involvement.figures import PEOPLE_GROUPS
from engage.metrics.models import Stage


def involvement_section(scope: Scope) -> Section:
    """Involvement sessions held, attendances and people involved."""
    period, previous, pid = scope.period, scope.previous, scope.programme_id
    now = scope.now or utcnow()
    slots = scope.slots
    (sessions, attended), (sessions_before, attended_before), *per_slot = (
        figures.sessions_and_attendances(
            day_spans([period, previous, *slots]), now=now, programme_id=pid
        )
    )
    people, people_before = figures.people_involved_in(
        day_spans([period, previous]), now=now, programme_id=pid
    )
    outcomes, outcomes_before = figures.outcomes_recorded(
        day_spans([period, previous]), programme_id=pid
    )
    result = [
        Figure(
            "involvement_sessions",
            "Involvement sessions held",
            sessions,
            sessions_before,
            unit="sessions",
        ),
        Figure(
            "involvement_attendances",
            "Attendances at involvement sessions",
            attended,
            attended_before,
            unit="attendances",
            stage=Stage.OUTTAKE.value,
        ),
        Figure(
            "involvement_people",
            "People involved",
            sum(people.values()),
            sum(people_before.values()),
            unit="people",
            stage=Stage.OUTTAKE.value,
        ),
        Figure(
            "involvement_outcomes",
            "Involvement activities with a change recorded",
            outcomes,
            outcomes_before,
            unit="activities",
            stage=Stage.OUTCOME.value,
        ),
    ]
    now_kinds, before_kinds = figures.sessions_by_kind_in(
        day_spans([period, previous]), now=now, programme_id=pid
    )
    kind_rows: list[list[Cell]] = [
        [kind.label, held, before_kinds[kind][0], came, before_kinds[kind][1]]
        for kind, (held, came) in now_kinds.items()
    ]
    unit = "week" if granularity(period) == "week" else "month"
    tables = [
        DataTable(
            "involvement_by_kind",
            "Involvement sessions and attendances by kind of activity",
            [
                "Kind of activity",
                "Sessions this period",
                "Sessions in the previous period",
                "Attendances this period",
                "Attendances in the previous period",
            ],
            kind_rows,
            Chart(
                "bar",
                "Bar chart of attendances by kind of activity, this period and the "
                "previous one",
                (3, 4),
            ),
        ),
        DataTable(
            "involvement_trend",
            f"Involvement sessions held and attendances by {unit}",
            [unit.capitalize(), "Sessions held", "Attendances"],
            [
                [slot.label, held, came]
                for slot, (held, came) in zip(slots, per_slot, strict=True)
            ],
            Chart(
                "line",
                f"Line chart of attendances at involvement sessions by {unit}",
                (2,),
            ),
        ),
        DataTable(
            "involvement_people",
            "People involved by tier (each person once)",
            ["Who", "This period", "Previous period"],
            [[label, people[key], people_before[key]] for key, label in PEOPLE_GROUPS],
            Chart("bar", "Bar chart of people involved by tier", (1, 2)),
        ),
    ]
    notes = [
        "Sessions held are those that took place, not those called off. An "
        "attendance is one person at one session; people involved counts each "
        "person once however many sessions they came to, members by their tier "
        "now. Staff are not counted. Attendances and people are outtakes, never "
        "added to reach."
    ]
    return Section("involvement", "Involvement", result, tables, notes)
