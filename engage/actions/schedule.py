"""Dates of the action plan: recurrence arithmetic and reading written timescales.

Pure functions (no database), so they are easy to test and reuse.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from datetime import timedelta

from engage.actions.models import Recurrence

#: Months added per step for calendar-month recurrences.
_MONTHS = {
    Recurrence.MONTHLY: 1,
    Recurrence.BIMONTHLY: 2,
    Recurrence.QUARTERLY: 3,
    Recurrence.BIANNUALLY: 6,
    Recurrence.ANNUALLY: 12,
}


def add_months(day: date, months: int, anchor_day: int | None = None) -> date:
    """Add calendar months, clamping to the month end (31 Jan + 1 → 28/29 Feb).

    ``anchor_day`` is the intended day of the month (default: ``day``'s own), so a
    date already clamped in a short month finds its day again: 28 Feb with anchor
    day 31, plus one month, is 31 March.
    """
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    wanted = day.day if anchor_day is None else anchor_day
    return date(year, month, min(wanted, calendar.monthrange(year, month)[1]))


def step(
    day: date,
    recurrence: Recurrence,
    times: int = 1,
    *,
    anchor_day: int | None = None,
) -> date | None:
    """The occurrence ``times`` cycles after ``day`` (before it if negative).

    Calendar-month cycles keep ``anchor_day`` (default: ``day``'s day of the month),
    clamped to each month's length; weekly ones ignore it. None for actions that do
    not repeat on a cycle (one-off and ongoing).
    """
    if recurrence is Recurrence.WEEKLY:
        return day + timedelta(days=7 * times)
    if recurrence in _MONTHS:
        return add_months(day, _MONTHS[recurrence] * times, anchor_day)
    return None


def next_due_after(
    current: date | None,
    recurrence: Recurrence,
    delivered: date,
    *,
    anchor_day: int | None = None,
) -> date | None:
    """The next due date once a delivery on ``delivered`` has been logged.

    A delivery within one cycle before the due date, or any time after it, is that
    occurrence: the action moves to its first occurrence after the delivery (sent on
    26 November, due 29 November, monthly → due 29 December). A delivery more than a
    cycle ahead of schedule is an extra one and changes nothing. An action that does
    not repeat keeps its due date (it is completed, not advanced).

    Calendar-month cycles keep ``anchor_day`` (default: ``current``'s day, else the
    delivery's), so a due date clamped in a short month does not drift: due 28 Feb
    with anchor day 31, delivered 28 Feb, monthly → due 31 March.
    """
    if current is None:
        return step(delivered, recurrence, anchor_day=anchor_day)
    anchor = current.day if anchor_day is None else anchor_day
    if step(current, recurrence, anchor_day=anchor) is None:
        return current
    previous = step(current, recurrence, -1, anchor_day=anchor)
    if previous is not None and delivered <= previous:
        return current
    times = 1
    upcoming = step(current, recurrence, times, anchor_day=anchor) or current
    while upcoming <= delivered:
        times += 1
        upcoming = step(current, recurrence, times, anchor_day=anchor) or upcoming
    return upcoming


def occurrences(
    first: date,
    recurrence: Recurrence,
    until: date,
    *,
    anchor_day: int | None = None,
) -> list[date]:
    """Due dates from ``first`` to ``until`` inclusive (just ``first`` for one-offs).

    Each later date is counted from ``first`` (not from the one before), keeping
    ``anchor_day`` (default: ``first``'s day): 31 Jan monthly → 28 Feb, 31 Mar, 30 Apr.
    A 29 February anchor gives 28 February in common years and 29 February again in
    leap years.
    """
    anchor = first.day if anchor_day is None else anchor_day
    dates: list[date] = []
    current: date | None = first
    times = 0
    while current is not None and current <= until and len(dates) < 1000:
        dates.append(current)
        times += 1
        current = step(first, recurrence, times, anchor_day=anchor)
    return dates


@dataclass(frozen=True)
class Timescale:
    """What a written timescale ("Monthly", "July 2012", "TBC") means."""

    text: str
    recurrence: Recurrence = Recurrence.NONE
    start_date: date | None = None
    due_date: date | None = None


_RECURRENCE_WORDS = [
    (r"\bbi-?monthly\b|every two months", Recurrence.BIMONTHLY),
    (
        r"\bbi-?annual(?:ly)?\b|twice a year|half-?yearly|six-?monthly",
        Recurrence.BIANNUALLY,
    ),
    (r"\bquarterly\b", Recurrence.QUARTERLY),
    (r"\bmonthly\b", Recurrence.MONTHLY),
    (r"\bweekly\b", Recurrence.WEEKLY),
    (r"\bannual(?:ly)?\b|\byearly\b", Recurrence.ANNUALLY),
    (r"\bon-?going\b|\bcontinuous\b", Recurrence.ONGOING),
]
_MONTH_NAMES = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTH_NAMES.update(
    {name.lower(): i for i, name in enumerate(calendar.month_abbr) if name}
)
_DAY_MONTH_YEAR = re.compile(r"\b(\d{1,2})\s+([A-Za-z]+)\s+(\d{4})\b")
_MONTH_YEAR = re.compile(r"\b([A-Za-z]+)\s+(\d{4})\b")


def parse_timescale(text: str) -> Timescale:
    """Read a plan's timescale column.

    Recognises a recurrence word (monthly, bi-annually, on-going…), a day ("13 June
    2012") or a month ("July 2012", due on its last day). "Launch … ; on-going" gives a
    start date; a date followed by "then bi-annually" is the first due date of the
    cycle. Anything else ("TBC", "Autumn 2012") is kept as written and the action is
    unscheduled.
    """
    cleaned = " ".join(text.split())
    lowered = cleaned.lower()
    recurrence = Recurrence.NONE
    for pattern, found in _RECURRENCE_WORDS:
        if re.search(pattern, lowered):
            recurrence = found
            break
    day = _first_date(cleaned)
    if day is None:
        return Timescale(cleaned, recurrence)
    if (
        lowered.startswith(("launch", "start", "from"))
        and recurrence is Recurrence.ONGOING
    ):
        return Timescale(cleaned, recurrence, start_date=day)
    return Timescale(cleaned, recurrence, due_date=day)


def _first_date(text: str) -> date | None:
    for match in _DAY_MONTH_YEAR.finditer(text):
        month = _MONTH_NAMES.get(match.group(2).lower())
        if month:
            try:
                return date(int(match.group(3)), month, int(match.group(1)))
            except ValueError:
                continue
    for match in _MONTH_YEAR.finditer(text):
        month = _MONTH_NAMES.get(match.group(1).lower())
        if month:
            year = int(match.group(2))
            return date(year, month, calendar.monthrange(year, month)[1])
    return None
