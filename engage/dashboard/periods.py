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


class ToDateLabel(str):
    """A trend point's label ("Dec 2026 (to date)") for a week or month not yet over.

    Its count is the days so far, so a chart draws it apart (a hollow point of its
    own) rather than as a fall; the data table shows the words. A ``str``, so tables,
    the API and the workbook take it as any other label.
    """

    __slots__ = ()


TO_DATE = "to date"


@dataclass(frozen=True)
class Period:
    """A reporting period: ``start`` to ``end``, both inclusive.

    ``end`` is the last day counted. A period that has not finished, seen on a day
    within it (:meth:`on`), is counted *to date*: ``end`` is that day, ``whole_end``
    the day the whole month, quarter, year or chosen range ends, and ``to_date`` is
    true. Its :meth:`previous` is the same number of days of the period before, not
    the whole of it (a part: ``whole_end`` set, ``to_date`` false).
    """

    kind: PeriodKind
    start: date
    end: date
    #: The end of the whole period when only part of it is counted.
    whole_end: date | None = None
    #: Counted up to today because it has not finished.
    to_date: bool = False

    @property
    def days(self) -> int:
        """The days counted."""
        return (self.end - self.start).days + 1

    @property
    def partial(self) -> bool:
        """Only part of the period is counted (to date, or the same days before)."""
        return self.whole_end is not None

    @property
    def whole(self) -> Period:
        """The whole month, quarter, year or chosen range."""
        if self.whole_end is None:
            return self
        return Period(self.kind, self.start, self.whole_end)

    @property
    def value(self) -> str:
        """The period as the ``period`` query value (``2026-Q3``, ``2026-07``…)."""
        if self.kind is PeriodKind.MONTH:
            return f"{self.start:%Y-%m}"
        if self.kind is PeriodKind.QUARTER:
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        if self.kind is PeriodKind.YEAR:
            return str(self.start.year)
        return f"{self.start.isoformat()}..{self.whole.end.isoformat()}"

    @property
    def name(self) -> str:
        """The whole period's short name: "July 2026", "Q3 2026", "2026"."""
        if self.kind is PeriodKind.MONTH:
            return f"{self.start:%B %Y}"
        if self.kind is PeriodKind.QUARTER:
            return f"Q{(self.start.month - 1) // 3 + 1} {self.start.year}"
        if self.kind is PeriodKind.YEAR:
            return str(self.start.year)
        return f"{_day(self.start)} to {_day(self.whole.end)}"

    @property
    def label(self) -> str:
        """Words for headings and menus: "July 2026", "Q3 2026 (July to
        September)", "Q4 2026 (October to December, to date)"; the same days of
        a period before, by their dates ("1 July to 5 September 2026")."""
        if self.partial and not self.to_date:
            return self.dates
        whole = self.whole
        suffix = f", {TO_DATE}" if self.to_date else ""
        if self.kind is PeriodKind.QUARTER:
            return f"{self.name} ({whole.start:%B} to {whole.end:%B}{suffix})"
        if self.to_date:
            return f"{self.name} ({TO_DATE})"
        return self.name

    @property
    def dates(self) -> str:
        """The days counted, in words: "1 July to 5 September 2026"."""
        return date_range(self.start, self.end)

    def on(self, today: date) -> Period:
        """The period as seen on ``today``: to date if it has begun and not finished."""
        if self.partial or not self.start <= today < self.end:
            return self
        return Period(self.kind, self.start, today, whole_end=self.end, to_date=True)

    def first_days(self, days: int) -> Period:
        """The first ``days`` days of this (whole) period, at most all of it."""
        whole = self.whole
        end = min(whole.start + timedelta(days=days - 1), whole.end)
        if end >= whole.end:
            return whole
        return Period(self.kind, whole.start, end, whole_end=whole.end)

    def previous(self) -> Period:
        """The period before: the month, quarter or year before, or as many days.

        For a period counted to date, the same number of days of the period before
        (at most the whole of it: a shorter month ends at its own end).
        """
        whole = self.whole
        if whole.kind is PeriodKind.CUSTOM:
            before = Period(
                whole.kind,
                whole.start - timedelta(days=whole.days),
                whole.start - timedelta(days=1),
            )
        else:
            months = {PeriodKind.MONTH: 1, PeriodKind.QUARTER: 3, PeriodKind.YEAR: 12}[
                whole.kind
            ]
            before = Period(
                whole.kind,
                _add_months(whole.start, -months),
                whole.start - timedelta(days=1),
            )
        return before.first_days(self.days) if self.partial else before

    def as_of(self, today: date) -> date:
        """The day figures "as of the period end" are taken on (never after today)."""
        return min(self.end, today)

    def comparison(self, previous: Period) -> str:
        """What is compared with what, in words, for the top of a page."""
        if not self.to_date:
            return f"Figures for {self.label}, compared with {previous.label}."
        before = previous.whole
        if previous.partial:
            first = "day" if previous.days == 1 else _days(previous.days)
            of = f"the first {first} of {before.name}"
        elif previous.days < self.days:
            of = f"the whole of {before.name}, which is shorter"
        else:
            of = f"the whole of {before.name}"
        return (
            f"Figures for {self.name} {TO_DATE}, {self.dates} ({_days(self.days)}), "
            f"compared with {previous.dates}: {of}."
        )


def _days(days: int) -> str:
    return "1 day" if days == 1 else f"{days} days"


def date_range(first: date, last: date) -> str:
    """Two days in words, the year and month said once where they are the same:
    "1 to 6 December 2026", "1 July to 5 September 2026", "1 December 2026 to
    6 January 2027"."""
    if first == last:
        return _day(first)
    if first.year != last.year:
        return f"{_day(first)} to {_day(last)}"
    if first.month != last.month:
        return f"{first.day} {first:%B} to {_day(last)}"
    return f"{first.day} to {_day(last)}"


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
    """One point of a trend chart: a whole week or month (``to_date`` when it has
    not finished, its label then saying so)."""

    label: str
    start: date
    end: date
    to_date: bool = False

    def on(self, today: date) -> Bucket:
        """The bucket as seen on ``today``: labelled "to date" if not yet over."""
        if self.to_date or not self.start <= today < self.end:
            return self
        return Bucket(
            ToDateLabel(f"{self.label} ({TO_DATE})"), self.start, self.end, True
        )


def granularity(period: Period) -> str:
    """``week`` for periods of up to about two months, otherwise ``month`` (by the
    whole period's length, so a quarter to date is still drawn by month)."""
    return "week" if period.whole.days <= 62 else "month"


def buckets(period: Period) -> list[Bucket]:
    """The whole ISO weeks or calendar months that cover the days ``period``
    counts, in order."""
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


#: How many months, quarters and years the period menus offer, newest first.
MENU_LENGTHS = {PeriodKind.MONTH: 24, PeriodKind.QUARTER: 16, PeriodKind.YEAR: 8}


def menu(kind: PeriodKind, today: date, *, asked: str | None = None) -> list[Period]:
    """The months, quarters or years a person can choose, newest first: the one
    holding ``today`` (to date), then those before it. ``asked`` (a ``period``
    query value, as a bookmark keeps it) is added in its place when it is a valid
    period outside the menu that has begun (a period still to come has no figures);
    anything else in it is left out."""
    latest = current(kind, today)
    found = [latest]
    for _ in range(MENU_LENGTHS[kind] - 1):
        found.append(found[-1].previous())
    if asked:
        try:
            extra = parse_period(kind.value, asked, today=today)
        except ValidationError:
            extra = None
        if extra is not None and extra.start <= today and extra not in found:
            found = sorted([*found, extra], key=lambda p: p.start, reverse=True)
    return [period.on(today) for period in found]
