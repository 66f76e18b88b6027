"""The date filters people read: NHS style, UK time, whatever form the date is in."""

from __future__ import annotations

from datetime import UTC
from datetime import date
from datetime import datetime

from engage.templating import format_date
from engage.templating import format_datetime


def test_dates_in_nhs_style_from_dates_moments_and_iso_text() -> None:
    assert format_date(date(2026, 12, 2)) == "2 December 2026"
    # 23:30 UTC on 31 May is already 1 June in the UK (BST).
    assert format_date(datetime(2026, 5, 31, 23, 30, tzinfo=UTC)) == "1 June 2026"
    # Figures kept as JSON (a reach report's) hold their dates as ISO text.
    assert format_date("2026-10-01") == "1 October 2026"
    assert format_date("Autumn 2012") == "Autumn 2012"
    assert format_date(None) == ""


def test_moments_in_uk_time() -> None:
    assert format_datetime(datetime(2026, 3, 3, 14, 5, tzinfo=UTC)) == (
        "3 March 2026 at 2:05pm"
    )
    assert format_datetime(datetime(2026, 7, 1, 11, 0, tzinfo=UTC)) == (
        "1 July 2026 at midday"
    )
