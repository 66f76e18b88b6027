"""Dashboard services: each section's headline figures, tables and trends, and the
dashboard they make up.

The dashboard is a list of *sections* (``SECTIONS``). Each section provider takes a
:class:`~engage.dashboard.sections.Scope` (period, programme, the acting user) and
returns a :class:`~engage.dashboard.sections.Section` of headline figures (with the
previous period's value and, where one exists, a target) and data tables, each
optionally drawn as a chart. The dashboard page, the board report, its workbook and
the API summary all render the same sections, so a feature adds its figures
everywhere by adding one provider (the reach metrics and media mentions providers
are in engage.dashboard.reach_sections). The figures come from each feature's
``figures.py``, aggregated in the database (GROUP BY, conditional counts, rollups, or
index range counts per piece of the period, the previous period and the trend's
weeks or months: engage.dashboard.counting), never row by row; the providers lay
them out.

The sections are queried side by side, each on a connection of its own
(engage.side_by_side): a provider only reads (one that writes goes in ``WRITING``)
and takes what it needs from its scope, never from the request.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from datetime import datetime
from datetime import timedelta
from functools import partial
from typing import Any

from engage.accounts.models import Role
from engage.actions import figures as action_figures
from engage.audiences import figures as audience_figures
from engage.clock import start_of_day
from engage.clock import utcnow
from engage.dashboard.disclosure import suppressed_surveys_section
from engage.dashboard.involvement_sections import involvement_section
from engage.dashboard.periods import granularity
from engage.dashboard.reach_sections import mentions_section
from engage.dashboard.reach_sections import metrics_section
from engage.dashboard.sections import Cell
from engage.dashboard.sections import Chart
from engage.dashboard.sections import DataTable
from engage.dashboard.sections import Figure
from engage.dashboard.sections import Scope
from engage.dashboard.sections import Section
from engage.dashboard.sections import SectionProvider
from engage.dashboard.sections import day_spans
from engage.involvement.participation import active_in_last_year
from engage.membership import figures as member_figures
from engage.membership import reports as member_reports
from engage.membership.models import Tier
from engage.metrics.models import Stage
from engage.metrics.numbers import rate
from engage.metrics.stages import ChannelMeasures
from engage.metrics.stages import LabelSetting
from engage.metrics.stages import label_settings
from engage.metrics.stages import measure_channels
from engage.metrics.stages import rate_pairs
from engage.side_by_side import loaded_here
from engage.side_by_side import read_side_by_side
from engage.surveys import figures as survey_figures
from engage.surveys.disclosure import suppresses

# Actions ------------------------------------------------------------------------------


def actions_section(scope: Scope) -> Section:
    """Actions completed, on track, overdue and unscheduled."""
    now, before = action_figures.action_figures(
        [
            (period.start, period.end, period.as_of(scope.today))
            for period in (scope.period, scope.previous)
        ],
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


def deliveries_section(scope: Scope) -> Section:
    """Deliveries logged, their trend, and reach figures by channel."""
    period, previous, pid = scope.period, scope.previous, scope.programme_id
    slots = scope.slots
    # The period's reach first: the deliveries by channel are then counted from the
    # sums it read.
    measures, measures_before = _delivery_measures(scope)
    per_channel = action_figures.deliveries_by_channel(period.start, period.end, pid)
    before, *per_slot = action_figures.count_deliveries(
        day_spans([previous, *slots]), pid
    )
    figures = [
        Figure("deliveries", "Deliveries logged", sum(per_channel.values()), before)
    ]
    trend: list[list[Cell]] = [
        [slot.label, n] for slot, n in zip(slots, per_slot, strict=True)
    ]
    units = sorted({unit for m in measures for unit in m.reach})
    rate_labels = sorted({label for m in measures for label in m.rates})
    by_channel = {m.channel: m for m in measures}
    reach_rows: list[list[Cell]] = []
    for channel in sorted(set(per_channel) | set(by_channel)):
        mine = by_channel.get(channel)
        reach_rows.append(
            [
                channel,
                per_channel[channel],
                *(mine.reach.get(u) if mine else None for u in units),
                *(
                    mine.rates[label].value if mine and label in mine.rates else None
                    for label in rate_labels
                ),
            ]
        )
    names = {
        label: next(m.rates[label] for m in measures if label in m.rates)
        for label in rate_labels
    }
    stage_rows: list[list[Cell]] = [
        [
            m.channel,
            setting.label.capitalize(),
            setting.stage.label,
            count,
            m.rates[label].denominator if label in m.rates else None,
            m.rates[label].value if label in m.rates else None,
        ]
        for m in measures
        for label, (setting, count) in m.counts.items()
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
            "Deliveries and reach by channel (outputs only)",
            [
                "Channel",
                "Deliveries",
                *(f"Reach: {u}" for u in units),
                *(f"{names[label].name} (%)" for label in rate_labels),
            ],
            reach_rows,
            Chart("bar", "Bar chart of deliveries by channel"),
            percent_columns=tuple(
                range(2 + len(units), 2 + len(units) + len(rate_labels))
            ),
        ),
    ]
    if stage_rows:
        tables.append(
            DataTable(
                "figures_by_stage",
                "Other delivery figures by stage (not reach)",
                ["Channel", "Figure", "Stage", "Count", "Of output", "Rate (%)"],
                stage_rows,
                percent_columns=(5,),
            )
        )
    # Each figure is compared with the period before only where that period has
    # one: a unit, rate or count it never recorded has no previous value (not 0).
    for u in units:
        figures.append(
            Figure(
                f"reach_{u}",
                f"Reach: {u}",
                _reach_of(measures, u) or 0,
                _reach_of(measures_before, u),
                unit=u,
                stage=Stage.OUTPUT.value,
            )
        )
    for label in rate_labels:
        figures.append(
            Figure(
                f"rate_{label}",
                f"{names[label].name} ({label} ÷ {names[label].of_unit})",
                _rate_of(measures, label) or 0.0,
                _rate_of(measures_before, label),
                unit="%",
                stage=names[label].stage.value,
            )
        )
    counts_before = _counts_alone(measures_before)
    for label, (setting, count) in _counts_alone(measures).items():
        # Where some channels show the label as a rate, this count is of the others.
        rate_name = names[label].name.lower() if label in names else ""
        article = "an" if rate_name[:1] in set("aeiou") else "a"
        others = f" on channels without {article} {rate_name}" if rate_name else ""
        figures.append(
            Figure(
                f"count_{label}",
                f"{label.capitalize()}{others} "
                f"({setting.stage.label.lower()}, not reach)",
                count,
                counts_before[label][1] if label in counts_before else None,
                unit=setting.unit,
                stage=setting.stage.value,
            )
        )
    notes = [
        "Reach counts outputs only (recipients, impressions, visits…), each unit on "
        "its own. Opens and clicks are rates of the recipients of the same "
        "deliveries (on a channel without recipients recorded they are counted on "
        "their own); other figures are counted by their stage, never added to reach."
    ]
    return Section("deliveries", "Deliveries and reach", figures, tables, notes)


def _delivery_measures(
    scope: Scope,
) -> tuple[list[ChannelMeasures], list[ChannelMeasures]]:
    """Each channel's reach by unit, rates and other counts in the period, and in the
    period before (like for like), each query counting both at once."""
    spans, pid = day_spans([scope.period, scope.previous]), scope.programme_id
    totals = action_figures.reach_totals(spans, pid)
    settings = label_settings(
        {label for span in totals for t in span.values() for label in t}
    )
    paired: list[dict[tuple[str, str], tuple[int, int]]] = [{} for _ in spans]
    for label, outputs in rate_pairs(settings).items():
        found = action_figures.paired_totals(spans, pid, label, outputs)
        for index, pairs in enumerate(found):
            for channel, pair in pairs.items():
                paired[index][(channel, label)] = pair
    now, before = (
        measure_channels(span_totals, settings, span_paired)
        for span_totals, span_paired in zip(totals, paired, strict=True)
    )
    return now, before


def _reach_of(measures: Sequence[ChannelMeasures], unit: str) -> int | None:
    """The reach in ``unit`` over every channel; None if none recorded it."""
    found = [m.reach[unit] for m in measures if unit in m.reach]
    return sum(found) if found else None


def _rate_of(measures: Sequence[ChannelMeasures], label: str) -> float | None:
    """A rate over every channel's deliveries that record both of its figures."""
    pairs = [m.rates[label] for m in measures if label in m.rates]
    whole = sum(p.denominator for p in pairs)
    return rate(sum(p.numerator for p in pairs), whole) if whole else None


def _counts_alone(
    measures: Sequence[ChannelMeasures],
) -> dict[str, tuple[LabelSetting, int]]:
    """Figures other than reach that no rate covers, totalled by label: shown as
    counts labelled with their stage."""
    result: dict[str, tuple[LabelSetting, int]] = {}
    for m in measures:
        for label, (setting, count) in m.counts.items():
            if label in m.rates:
                continue
            held = result.get(label)
            result[label] = (setting, count + (held[1] if held else 0))
    return dict(sorted(result.items()))


# Audiences ----------------------------------------------------------------------------


def audiences_section(scope: Scope) -> Section:
    """Audiences due for contact, by approach, as of the period end."""
    now, before = audience_figures.due_by_approach(
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
            f"Due {scope.previous_state_words}",
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
        day_spans([period, previous, *slots]),
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
        Figure(
            "members_involved",
            "Members active in involvement (last 12 months)",
            active_in_last_year(_day_end(period.as_of(scope.today), scope)),
            active_in_last_year(_day_end(previous.as_of(scope.today), scope)),
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
            ["Tier", *scope.state_headings],
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
    notes = [
        "Members active in involvement: members who came to at least one "
        "involvement session (a meeting, focus group, workshop or event) in the 12 "
        "months up to the end of the period."
    ]
    return Section("members", "PPI membership", figures, tables, notes)


def _day_end(day: date, scope: Scope) -> datetime:
    """The end of a UK day, or now when that day is today."""
    return min(scope.now or utcnow(), start_of_day(day + timedelta(days=1)))


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


# Surveys ------------------------------------------------------------------------------


def _rate(invited: int, answered: int) -> float | None:
    return None if not invited else round(100 * answered / invited, 1)


def surveys_section(scope: Scope) -> Section:
    """Survey responses in the period and response rates of the surveys open in it.

    The rate is survey_figures.response_rate's: invitations answered ÷ invitations
    (as they stand now), per survey and over every survey open in the period. Outside
    the staff dashboard (the board report, the API) a survey's small counts are
    suppressed, by engage.surveys.disclosure's rule.
    """
    period, previous = scope.period, scope.previous
    slots = scope.slots
    responses_now, responses_before, *per_slot = survey_figures.responses_in(
        day_spans([period, previous, *slots])
    )
    open_now = survey_figures.surveys_open_in(period.start, period.end)
    open_before = survey_figures.surveys_open_in(previous.start, previous.end)
    counts = survey_figures.invitation_counts(
        sorted({s.id for s in open_now} | {s.id for s in open_before})
    )
    received = survey_figures.responses_by_survey(
        period.start, period.end, [s.id for s in open_now]
    )

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
    section = Section("surveys", "Surveys", figures, tables, notes)
    if suppresses(scope.purpose, scope.actor):
        return suppressed_surveys_section(section)
    return section


#: The dashboard's sections, in page order. Every renderer (page, board report,
#: workbook, API summary) walks this list.
SECTIONS: list[SectionProvider] = [
    actions_section,
    deliveries_section,
    audiences_section,
    members_section,
    involvement_section,
    representativeness_section,
    metrics_section,
    mentions_section,
    surveys_section,
]


#: Sections that write (viewing the equality figures is audited): they run in the
#: request's own session, after the others.
WRITING: frozenset[SectionProvider] = frozenset({representativeness_section})


def build_dashboard(
    scope: Scope, providers: Sequence[SectionProvider] | None = None
) -> list[Section]:
    """Every section's figures for ``scope``.

    The sections only read (but those in ``WRITING``), each on its own: they are
    queried side by side (engage.side_by_side), each from what was committed.
    """
    chosen = list(providers if providers is not None else SECTIONS)
    loaded_here(scope.actor, scope.programme)
    reading = [provider for provider in chosen if provider not in WRITING]
    found = dict(
        zip(
            reading,
            read_side_by_side([partial(provider, scope) for provider in reading]),
            strict=True,
        )
    )
    sections = []
    for provider in chosen:
        section = found[provider] if provider in found else provider(scope)
        if section is not None:
            sections.append(section)
    return sections
