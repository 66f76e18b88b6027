"""Recurrence arithmetic and reading written timescales."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engage.actions.models import Recurrence
from engage.actions.schedule import add_months
from engage.actions.schedule import next_due_after
from engage.actions.schedule import occurrences
from engage.actions.schedule import parse_timescale


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 11, 15), 2, date(2027, 1, 15)),
        (date(2026, 3, 31), 6, date(2026, 9, 30)),
    ],
)
def test_add_months_clamps_to_month_end(
    start: date, months: int, expected: date
) -> None:
    assert add_months(start, months) == expected


def test_monthly_delivery_advances_to_the_next_month() -> None:
    assert next_due_after(
        date(2026, 3, 1), Recurrence.MONTHLY, date(2026, 3, 3)
    ) == date(2026, 4, 1)


def test_late_delivery_skips_missed_occurrences() -> None:
    # Due 1 March, delivered 20 May: next due is 1 June, not 1 April.
    assert next_due_after(
        date(2026, 3, 1), Recurrence.MONTHLY, date(2026, 5, 20)
    ) == date(2026, 6, 1)


def test_early_delivery_counts_for_the_due_occurrence() -> None:
    # Sent a few days before it was due: the next one is due a cycle later.
    assert next_due_after(
        date(2026, 11, 29), Recurrence.MONTHLY, date(2026, 11, 26)
    ) == date(2026, 12, 29)


def test_delivery_more_than_a_cycle_early_is_an_extra() -> None:
    assert next_due_after(
        date(2026, 3, 10), Recurrence.MONTHLY, date(2026, 1, 20)
    ) == date(2026, 3, 10)


def test_one_off_action_keeps_its_due_date() -> None:
    assert next_due_after(date(2026, 3, 1), Recurrence.NONE, date(2026, 3, 3)) == date(
        2026, 3, 1
    )


def test_undated_recurring_action_gets_a_date_from_its_delivery() -> None:
    assert next_due_after(None, Recurrence.WEEKLY, date(2026, 3, 3)) == date(
        2026, 3, 10
    )


@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 1, 1)),
    st.sampled_from(
        [r for r in Recurrence if r not in (Recurrence.NONE, Recurrence.ONGOING)]
    ),
    st.integers(min_value=0, max_value=800),
)
def test_next_due_is_always_after_the_delivery(
    due: date, recurrence: Recurrence, late: int
) -> None:
    delivered = date.fromordinal(due.toordinal() + late)
    assert next_due_after(due, recurrence, delivered) > delivered


def test_occurrences_of_a_monthly_action() -> None:
    days = occurrences(date(2026, 1, 10), Recurrence.MONTHLY, date(2026, 4, 30))
    assert days == [
        date(2026, 1, 10),
        date(2026, 2, 10),
        date(2026, 3, 10),
        date(2026, 4, 10),
    ]


# Month ends: each occurrence keeps the anchor day, clamped only in short months.


def test_monthly_from_the_31st_keeps_the_month_end() -> None:
    days = occurrences(date(2026, 1, 31), Recurrence.MONTHLY, date(2026, 6, 30))
    assert days == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
        date(2026, 5, 31),
        date(2026, 6, 30),
    ]


def test_annual_from_29_february_returns_to_it_in_leap_years() -> None:
    # Chosen semantics: a fixed anchor day of 29, so 28 Feb in common years and
    # 29 Feb again in the next leap year (not stuck on the 28th).
    days = occurrences(date(2028, 2, 29), Recurrence.ANNUALLY, date(2032, 12, 31))
    assert days == [
        date(2028, 2, 29),
        date(2029, 2, 28),
        date(2030, 2, 28),
        date(2031, 2, 28),
        date(2032, 2, 29),
    ]


def test_quarterly_from_31_august_keeps_the_month_end() -> None:
    days = occurrences(date(2026, 8, 31), Recurrence.QUARTERLY, date(2028, 5, 31))
    assert days == [
        date(2026, 8, 31),
        date(2026, 11, 30),
        date(2027, 2, 28),
        date(2027, 5, 31),
        date(2027, 8, 31),
        date(2027, 11, 30),
        date(2028, 2, 29),
        date(2028, 5, 31),
    ]


def test_occurrences_from_a_clamped_date_use_the_anchor_day() -> None:
    days = occurrences(
        date(2026, 2, 28), Recurrence.MONTHLY, date(2026, 4, 30), anchor_day=31
    )
    assert days == [date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)]


def test_weekly_occurrences_ignore_the_anchor_day() -> None:
    days = occurrences(
        date(2026, 1, 31), Recurrence.WEEKLY, date(2026, 2, 14), anchor_day=31
    )
    assert days == [date(2026, 1, 31), date(2026, 2, 7), date(2026, 2, 14)]


def test_next_due_keeps_the_31st_after_deliveries_in_short_months() -> None:
    due = date(2026, 1, 31)
    seen = []
    for delivered in (date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31)):
        next_due = next_due_after(due, Recurrence.MONTHLY, delivered, anchor_day=31)
        assert next_due is not None
        due = next_due
        seen.append(due)
    assert seen == [date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)]


def test_next_due_from_a_clamped_date_defaults_to_its_own_day() -> None:
    # Without an anchor day the current due date's day is kept (28 Feb → 28 Mar).
    assert next_due_after(
        date(2026, 2, 28), Recurrence.MONTHLY, date(2026, 2, 28)
    ) == date(2026, 3, 28)


def test_late_delivery_from_a_clamped_date_skips_to_the_anchor_day() -> None:
    assert next_due_after(
        date(2026, 2, 28), Recurrence.MONTHLY, date(2026, 5, 2), anchor_day=31
    ) == date(2026, 5, 31)


@pytest.mark.parametrize(
    ("text", "recurrence", "start", "due"),
    [
        ("Monthly", Recurrence.MONTHLY, None, None),
        ("Bi-monthly", Recurrence.BIMONTHLY, None, None),
        ("Bi-annually", Recurrence.BIANNUALLY, None, None),
        ("On-going", Recurrence.ONGOING, None, None),
        ("On-going (monthly)", Recurrence.MONTHLY, None, None),
        ("On-going (quarterly per practice)", Recurrence.QUARTERLY, None, None),
        ("July 2012", Recurrence.NONE, None, date(2012, 7, 31)),
        ("Launch 13 June 2012; on-going", Recurrence.ONGOING, date(2012, 6, 13), None),
        (
            "September 2012 then bi-annually",
            Recurrence.BIANNUALLY,
            None,
            date(2012, 9, 30),
        ),
        ("TBC", Recurrence.NONE, None, None),
        ("Autumn 2012", Recurrence.NONE, None, None),
    ],
)
def test_parse_timescale_reads_the_reference_plan(
    text: str, recurrence: Recurrence, start: date | None, due: date | None
) -> None:
    parsed = parse_timescale(text)
    assert (parsed.recurrence, parsed.start_date, parsed.due_date) == (
        recurrence,
        start,
        due,
    )
    assert parsed.text == text
