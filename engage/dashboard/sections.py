"""Dashboard sections: what is asked for (the scope), and the headline figures,
tables and charts every section is made of.

The dashboard page, the board report, its workbook and the API summary all render
these; the sections' providers are in engage.dashboard.services.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime
from typing import TYPE_CHECKING
from typing import Any

from engage.dashboard.periods import Bucket
from engage.dashboard.periods import Period
from engage.dashboard.periods import ToDateLabel
from engage.dashboard.periods import buckets
from engage.dashboard.periods import date_range
from engage.surveys.disclosure import Purpose

if TYPE_CHECKING:
    from engage.accounts.models import User
    from engage.audiences.models import Programme

Cell = str | int | float | None


@dataclass(frozen=True)
class Scope:
    """What the dashboard is asked for.

    A period that has not finished by ``today`` is counted to date (see
    :meth:`Period.on`), and compared with the same number of days of the one before.
    """

    period: Period
    today: date
    programme: Programme | None = None
    actor: User | None = None
    #: Representativeness (equality aggregates) is for admins, and never in the API.
    include_equality: bool = False
    #: When the figures are asked for (viewing the equality figures is audited).
    now: datetime | None = None
    #: What the figures are for: the staff dashboard shows the team's real survey
    #: counts; the board report and the API suppress small ones (see
    #: engage.surveys.disclosure).
    purpose: Purpose = Purpose.PUBLICATION

    def __post_init__(self) -> None:
        object.__setattr__(self, "period", self.period.on(self.today))

    @property
    def programme_id(self) -> int | None:
        return self.programme.id if self.programme else None

    @property
    def previous(self) -> Period:
        return self.period.previous()

    @property
    def comparison(self) -> str:
        """What is compared with what, in words ("Figures for Q4 2026 to date, …")."""
        return self.period.comparison(self.previous)

    @property
    def previous_words(self) -> str:
        """The comparison in a headline figure's change: "on the previous period"."""
        previous = self.previous
        if not self.period.to_date:
            return "on the previous period"
        if previous.partial:
            first = "day" if previous.days == 1 else f"{previous.days:,} days"
            return f"on the first {first} of {previous.whole.name}"
        return f"on {previous.label}"

    @property
    def state_headings(self) -> tuple[str, str]:
        """Column headings for figures taken on a day of each period (members as
        they stood…): its last day, or today and the same day of the one before."""
        if not self.period.to_date:
            return "End of this period", "End of the previous period"
        return f"On {date_range(self.today, self.today)} (today)", (
            f"On {date_range(self.previous.end, self.previous.end)}"
        )

    @property
    def previous_state_words(self) -> str:
        """When the previous period's such figures are taken, in words."""
        if not self.period.to_date:
            return "at the end of the previous period"
        return f"on {date_range(self.previous.end, self.previous.end)}"

    @property
    def slots(self) -> list[Bucket]:
        """The trend's weeks or months that have begun by ``today``: a month to
        come is left out, not drawn as a fall to nothing, and the one under way is
        labelled "to date" (and drawn apart) rather than read as a fall."""
        return [
            slot.on(self.today)
            for slot in buckets(self.period)
            if slot.start <= self.today
        ]


@dataclass(frozen=True)
class Figure:
    """A headline number with its value in the previous period (and a target).

    ``unit`` says what is counted ("recipients"); ``%`` makes it a rate, shown with
    one decimal place ("45.6%"). ``stage`` is its place in the evaluation framework
    (engage.metrics.models.Stage), where the figure has one.
    """

    key: str
    label: str
    value: int | float
    previous: int | float | None = None
    #: Filled by features that have targets (metrics); None means no target.
    target: int | None = None
    #: True when a rise is bad news (overdue actions, audiences due for contact).
    lower_is_better: bool = False
    unit: str = ""
    stage: str = ""

    @property
    def is_rate(self) -> bool:
        return self.unit == "%"

    def _text(self, value: float) -> str:
        return f"{value:.1f}%" if self.is_rate else f"{value:,}"

    @property
    def display(self) -> str:
        """The value as shown: "412", "45.6%"."""
        return self._text(self.value)

    @property
    def display_previous(self) -> str:
        return "" if self.previous is None else self._text(self.previous)

    @property
    def change(self) -> int | float | None:
        if self.previous is None:
            return None
        change = self.value - self.previous
        return round(change, 1) if self.is_rate else change

    @property
    def change_text(self) -> str:
        """ "up 3", "down 2", "up 1.5 points" or "no change" against the previous
        period."""
        change = self.change
        if change is None:
            return ""
        if change == 0:
            return "no change"
        size = f"{abs(change):.1f} points" if self.is_rate else f"{abs(change):,}"
        return f"{'up' if change > 0 else 'down'} {size}"

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
    #: Columns (by index) holding rates in per cent, shown as "45.6%".
    percent_columns: tuple[int, ...] = ()
    #: Cells shown as other text than their value, by (row, column): a target in
    #: its metric's unit ("4,534 readers"). The rows keep the plain numbers.
    texts: dict[tuple[int, int], str] = field(default_factory=dict)

    def body(self) -> list[tuple[Cell, list[tuple[bool, str]]]]:
        """Each row's heading, then its other cells as (numeric?, text) for the page.

        Numbers get thousands separators and None a dash; worked out here once, not
        with per-cell tests in the template (the metrics table has a row per metric).
        """
        return [
            (
                row[0],
                [self._cell(r, c, cell) for c, cell in enumerate(row[1:], start=1)],
            )
            for r, row in enumerate(self.rows)
        ]

    def _cell(self, row: int, column: int, cell: Cell) -> tuple[bool, str]:
        if (row, column) in self.texts:
            return True, self.texts[(row, column)]
        if column in self.percent_columns and isinstance(cell, int | float):
            return True, f"{cell:.1f}%"
        return _display(cell)

    def chart_data(self) -> dict[str, Any] | None:
        """The chart's data for the page's ``data-chart`` attribute.

        ``to_date`` lists the rows (points) of a week or month not yet over, which
        the chart draws apart so that a part does not read as a fall.
        """
        if self.chart is None or not self.rows:
            return None
        return {
            "type": self.chart.kind,
            "labels": [str(row[0]) for row in self.rows],
            "datasets": [
                {"label": self.columns[i], "data": [row[i] for row in self.rows]}
                for i in self.chart.series
            ],
            "to_date": [
                index
                for index, row in enumerate(self.rows)
                if isinstance(row[0], ToDateLabel)
            ],
        }

    @property
    def to_date_note(self) -> str:
        """Words under a trend whose last week or month is not yet over."""
        partial = [str(row[0]) for row in self.rows if isinstance(row[0], ToDateLabel)]
        if not partial:
            return ""
        unit = "week" if partial[-1].startswith("w/c") else "month"
        return f"{partial[-1]} counts only the days so far, not the whole {unit}."


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


def day_spans(spans: Sequence[Period | Bucket]) -> list[tuple[date, date]]:
    """Each period or bucket as its first and last day, as the figures take them."""
    return [(span.start, span.end) for span in spans]
