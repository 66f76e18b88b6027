"""The dashboard's survey figures with small counts suppressed, for the board report
and the API (the rule is engage.surveys.disclosure's)."""

from __future__ import annotations

from dataclasses import replace

from engage.dashboard.sections import DataTable
from engage.dashboard.sections import Figure
from engage.dashboard.sections import Section
from engage.surveys.disclosure import HIDDEN
from engage.surveys.disclosure import SUPPRESS_BELOW
from engage.surveys.disclosure import hide_small_counts


def suppressed_surveys_section(section: Section) -> Section:
    """The surveys section with its counts of 1 to 4 suppressed (the board report
    and the API, by engage.surveys.disclosure's rule).

    Each survey's responses and invitations answered show as "fewer than 5", with a
    second count (or the total row) hidden where the total would give one away,
    and the rate worked out from a hidden count; so do the trend's small counts. A
    headline figure of 1 to 4 is left out, with a note saying so, as is the
    response rate when the invitations answered are hidden; a previous period's
    figure of 1 to 4 is not compared.
    """
    tables: list[DataTable] = []
    for table in section.tables:
        rows = table.rows
        if table.key == "survey_response_rates" and rows:
            rows = hide_small_counts(rows, 1, total_last=True)
            rows = hide_small_counts(rows, 3, with_columns=(4,), total_last=True)
        elif table.key == "survey_responses_trend":
            rows = hide_small_counts(rows, 1)
        tables.append(replace(table, rows=rows))
    rates = next((t.rows for t in tables if t.key == "survey_response_rates"), [])
    answered_hidden = bool(rates) and rates[-1][3] == HIDDEN
    figures: list[Figure] = []
    notes = list(section.notes)
    for figure in section.figures:
        if figure.key == "survey_responses" and _small(figure.value):
            notes.insert(0, f"{figure.label}: {HIDDEN} in the period.")
            continue
        if figure.key == "survey_response_rate" and answered_hidden:
            notes.insert(0, f"{figure.label}: not shown, as {HIDDEN} answered.")
            continue
        if figure.key == "survey_responses" and _small(figure.previous):
            figure = replace(figure, previous=None)
        figures.append(figure)
    return Section(section.key, section.title, figures, tables, notes)


def _small(count: float | None) -> bool:
    return count is not None and 0 < count < SUPPRESS_BELOW
