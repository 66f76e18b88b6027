"""Dashboard periods: months, quarters, years, custom ranges and trend buckets."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import date
from datetime import timedelta

from engage.errors import ValidationError

#: The longest custom range the dashboard accepts (about five years).
MAX_DAYS = 5 * 366


class PeriodKind(enum.StrEnum):
    """How a reporting period is chosen."""

    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    CUSTOM = "custom"

    @property
    def label(self) -> str:
        return {"custom": "Custom dates"}.get(self.value, self.value.capitalize())


def _month_end(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    """A reporting period: ``start`` to ``end``, both inclusive."""

    kind: PeriodKind
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def value(self) -> str:
        """The period as the ``period`` query value (``2026-Q3``, ``2026-07``…)."""
        if self.kind is PeriodKind.MONTH:
            return f"{self.start:%Y-%m}"
        if self.kind is PeriodKind.QUARTER:
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        if self.kind is PeriodKind.YEAR:
            return str(self.start.year)
        return f"{self.start.isoformat()}..{self.end.isoformat()}"

    @property
    def label(self) -> str:
        """Words for headings: "July 2026", "Q3 2026 (July to September)"."""
        if self.kind is PeriodKind.MONTH:
            return f"{self.start:%B %Y}"
        if self.kind is PeriodKind.QUARTER:
            quarter = (self.start.month - 1) // 3 + 1
            return f"Q{quarter} {self.start.year} ({self.start:%B} to {self.end:%B})"
        if self.kind is PeriodKind.YEAR:
            return str(self.start.year)
        return f"{_day(self.start)} to {_day(self.end)}"

    def previous(self) -> Period:
        """The period before: the month, quarter or year before, or as many days."""
        if self.kind is PeriodKind.CUSTOM:
            return Period(
                self.kind,
                self.start - timedelta(days=self.days),
                self.start - timedelta(days=1),
            )
        months = {PeriodKind.MONTH: 1, PeriodKind.QUARTER: 3, PeriodKind.YEAR: 12}[
            self.kind
        ]
        start = _add_months(self.start, -months)
        return Period(self.kind, start, self.start - timedelta(days=1))

    def as_of(self, today: date) -> date:
        """The day figures "as of the period end" are taken on (never after today)."""
        return min(self.end, today)


def _day(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def month(year: int, month_: int) -> Period:
    """The calendar month."""
    start = date(year, month_, 1)
    return Period(PeriodKind.MONTH, start, _month_end(start))


def quarter(year: int, number: int) -> Period:
    """The calendar quarter (Q1 is January to March)."""
    start = date(year, 3 * (number - 1) + 1, 1)
    return Period(PeriodKind.QUARTER, start, _month_end(_add_months(start, 2)))


def year(year_: int) -> Period:
    """The calendar year."""
    return Period(PeriodKind.YEAR, date(year_, 1, 1), date(year_, 12, 31))


def current(kind: PeriodKind, today: date) -> Period:
    """The month, quarter or year holding ``today``."""
    if kind is PeriodKind.MONTH:
        return month(today.year, today.month)
    if kind is PeriodKind.YEAR:
        return year(today.year)
    return quarter(today.year, (today.month - 1) // 3 + 1)


_PATTERNS = {
    PeriodKind.MONTH: re.compile(r"(\d{4})-(\d{2})"),
    PeriodKind.QUARTER: re.compile(r"(\d{4})-[Qq]([1-4])"),
    PeriodKind.YEAR: re.compile(r"(\d{4})"),
}


def parse_period(
    kind: str | None,
    value: str | None = None,
    *,
    start: date | None = None,
    end: date | None = None,
    today: date,
) -> Period:
    """The period a request asks for; the current quarter when it asks for none.

    ``value`` is ``2026-07`` (month), ``2026-Q3`` (quarter) or ``2026`` (year) and
    defaults to the one holding ``today``; a custom period needs ``start`` and
    ``end``. Raises ValidationError for anything else.
    """
    try:
        chosen = PeriodKind(kind or PeriodKind.QUARTER.value)
    except ValueError:
        raise ValidationError(
            "Choose a month, quarter, year or custom dates."
        ) from None
    if chosen is PeriodKind.CUSTOM:
        return custom(start, end)
    if not value:
        return current(chosen, today)
    match = _PATTERNS[chosen].fullmatch(value.strip())
    if match is None:
        raise ValidationError(f"The {chosen.value} is not in the expected form.")
    number = int(match.group(1))
    if not 1900 <= number <= 2200:
        raise ValidationError("Choose a year between 1900 and 2200.")
    if chosen is PeriodKind.YEAR:
        return year(number)
    part = int(match.group(2))
    if chosen is PeriodKind.QUARTER:
        return quarter(number, part)
    if not 1 <= part <= 12:
        raise ValidationError("A month is 01 to 12.")
    return month(number, part)


def custom(start: date | None, end: date | None) -> Period:
    """A custom period from ``start`` to ``end`` inclusive."""
    if start is None or end is None:
        raise ValidationError("Enter both the start and the end date.")
    if end < start:
        raise ValidationError("The end date must be on or after the start date.")
    if (end - start).days >= MAX_DAYS:
        raise ValidationError("Choose a period of five years or less.")
    if start.year < 1900 or end.year > 2200:
        raise ValidationError("Choose dates between 1900 and 2200.")
    return Period(PeriodKind.CUSTOM, start, end)


@dataclass(frozen=True)
class Bucket:
    """One point of a trend chart: a whole week or month."""

    label: str
    start: date
    end: date


def granularity(period: Period) -> str:
    """``week`` for periods of up to about two months, otherwise ``month``."""
    return "week" if period.days <= 62 else "month"


def buckets(period: Period) -> list[Bucket]:
    """The whole ISO weeks or calendar months that cover ``period``, in order."""
    result = []
    if granularity(period) == "week":
        current_ = period.start - timedelta(days=period.start.weekday())
        while current_ <= period.end:
            last = current_ + timedelta(days=6)
            result.append(Bucket(f"w/c {_day(current_)}", current_, last))
            current_ = last + timedelta(days=1)
        return result
    current_ = period.start.replace(day=1)
    while current_ <= period.end:
        result.append(Bucket(f"{current_:%b %Y}", current_, _month_end(current_)))
        current_ = _add_months(current_, 1)
    return result
