"""The one clock: every view, job and service takes "now" from here (tests move it).

Engage stores and compares moments in UTC. People live by the UK calendar, so
"today", and the day a moment falls on, are days in Europe/London (GMT or BST): at
23:30 UTC on 31 May it is already 1 June.
"""

from __future__ import annotations

from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time
from zoneinfo import ZoneInfo
from zoneinfo import ZoneInfoNotFoundError

try:
    #: The organisation's time zone: days, deadlines and wall-clock times are its own.
    LOCAL_ZONE: ZoneInfo | None = ZoneInfo("Europe/London")
except ZoneInfoNotFoundError:  # pragma: no cover - a system without tzdata
    LOCAL_ZONE = None


def utcnow() -> datetime:
    """The current moment as an aware UTC datetime."""
    return datetime.now(UTC)


def today() -> date:
    """Today's date in the UK."""
    return local_day(utcnow())


def local_day(moment: datetime) -> date:
    """The UK calendar day an aware datetime falls on."""
    return to_local(moment).date()


def to_local(moment: datetime) -> datetime:
    """An aware datetime in UK time, for display and for form defaults."""
    return moment.astimezone(LOCAL_ZONE or UTC)


def start_of_day(day: date) -> datetime:
    """The moment a UK calendar day starts, as an aware datetime."""
    return datetime.combine(day, time(), tzinfo=LOCAL_ZONE or UTC)


def local_to_utc(day: date, wall_clock: time) -> datetime:
    """A UK date and wall-clock time as an aware UTC datetime."""
    return datetime.combine(day, wall_clock, tzinfo=LOCAL_ZONE or UTC).astimezone(UTC)
