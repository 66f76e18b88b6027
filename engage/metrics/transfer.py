"""Metric values as table rows: the columns the observations importer reads and writes.

Imported values have the source ``import``: one per metric and date, so importing the
same file again changes nothing, and a corrected file updates the values it changes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from datetime import datetime

from sqlalchemy import select

from engage.accounts.models import User
from engage.clock import today
from engage.extensions import db
from engage.imports.rows import RowReader
from engage.imports.tabular import same_text
from engage.metrics.models import Metric
from engage.metrics.models import Observation
from engage.metrics.models import Source
from engage.metrics.services import upsert_observation
from engage.templating import format_date

COLUMNS = ("metric", "date", "value", "note")
REQUIRED = ("metric", "date", "value")
ALIASES = {"metric key": "metric", "key": "metric", "on": "date"}
HELP = {
    "metric": "The metric's key, as shown on the metrics page (e.g. web-visits).",
    "date": "The date the value is for, written like 31/10/2026 or 2026-10-31.",
    "value": "A number, e.g. 1250 or 12.5.",
    "note": "Where the figure came from (optional).",
}


@dataclass(frozen=True)
class ObservationDraft:
    """One checked row."""

    metric: Metric
    observed_on: date
    value: float
    note: str


class ObservationImporter:
    """One import of metric values: metrics and imported values looked up once."""

    def __init__(self) -> None:
        self._metrics = {m.key.lower(): m for m in db.session.scalars(select(Metric))}
        self._existing = {
            (o.metric_id, o.observed_on): o
            for o in db.session.scalars(
                select(Observation).where(Observation.source == Source.IMPORT)
            )
        }

    def read_row(self, values: Mapping[str, str], number: int) -> ObservationDraft:
        cells = RowReader(values)
        key = cells.text(
            "metric", label="the metric key", max_length=100, required=True
        )
        metric = self._metrics.get(key.lower()) if key else None
        if key and metric is None:
            cells.problem(f"There is no metric with the key “{key}”.")
        day = cells.day("date", label="date")
        if not values.get("date", "").strip():
            cells.problem("Enter the date.")
        elif day is not None and day > today():
            # As a value entered by hand: nothing is observed before its day.
            cells.problem("The date cannot be in the future.")
        value = _number(cells)
        note = cells.text("note", label="the note", max_length=500)
        cells.check()
        return ObservationDraft(
            cells.given(metric), cells.given(day), cells.given(value), note
        )

    def key(self, draft: ObservationDraft) -> str:
        """The row as the preview names it: the metric and the day."""
        return f"{draft.metric.name}, {format_date(draft.observed_on)}"

    def identity(self, draft: ObservationDraft) -> str:
        """What tells rows apart: one value per metric (by its key) and day."""
        return f"{draft.metric.key} {draft.observed_on.isoformat()}"

    def find(self, draft: ObservationDraft) -> Observation | None:
        return self._existing.get((draft.metric.id, draft.observed_on))

    def changes(self, existing: Observation, draft: ObservationDraft) -> list[str]:
        changed = []
        if existing.value != draft.value:
            changed.append("value")
        if not same_text(existing.note, draft.note):
            changed.append("note")
        return changed

    def describe(self, draft: ObservationDraft) -> str:
        return (
            f"{draft.metric.name} on {format_date(draft.observed_on)}: {draft.value:g}"
        )

    def notes(self) -> list[str]:
        return []

    def save(
        self,
        existing: Observation | None,
        draft: ObservationDraft,
        *,
        actor: User | str,
        now: datetime,
    ) -> None:
        observation, _changed = upsert_observation(
            draft.metric,
            draft.observed_on,
            draft.value,
            source=Source.IMPORT,
            note=draft.note,
            actor=actor if isinstance(actor, User) else None,
            now=now,
        )
        self._existing[(draft.metric.id, draft.observed_on)] = observation


def _number(cells: RowReader) -> float | None:
    written = cells.values.get("value", "").strip().replace(",", "")
    if not written:
        cells.problem("Enter the value.")
        return None
    try:
        value = float(written)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        cells.problem(f"The value must be a number, not “{written}”.")
        return None
    return value


def export_rows() -> list[list[object]]:
    """Every imported or hand-entered value, by metric and date, in COLUMNS order.

    Values are numbers, whole where they are whole, never rounded ("1.23457e+06"
    would bring back 1,234,570).
    """
    rows = db.session.execute(
        select(Metric.key, Observation)
        .join(Observation, Observation.metric_id == Metric.id)
        .where(Observation.source.in_([Source.IMPORT, Source.MANUAL]))
        .order_by(Metric.key, Observation.observed_on, Observation.source)
    ).all()
    seen: set[tuple[str, date]] = set()
    result: list[list[object]] = []
    for key, observation in rows:
        if (key, observation.observed_on) in seen:
            continue  # the import's value comes first; a manual one for the day is kept
        seen.add((key, observation.observed_on))
        result.append(
            [
                key,
                observation.observed_on.isoformat(),
                _exported(observation.value),
                observation.note,
            ]
        )
    return result


def _exported(value: float) -> int | float:
    return int(value) if value.is_integer() else value
