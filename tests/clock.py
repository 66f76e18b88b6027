"""The suite's clock: run every test as if it were another moment (no time bombs).

``ENGAGE_TEST_CLOCK`` names a moment and the whole run (imports, fixtures, requests
served in this process) starts there, with time moving on as usual:

- ``month-end``: 30 September, 22:30 UTC (23:30 UK time: the last hour of a month
  and of a quarter);
- ``new-year``: 1 January, 00:15 UTC;
- ``spring-forward``: the last Sunday of March, 01:30 UTC (02:30 UK time, just after
  the clocks went forward an hour);
- ``fall-back``: the last Sunday of October, 00:30 UTC (01:30 UK time, in the hour
  that happens twice);
- or an ISO 8601 moment with its offset, such as ``2027-02-28T23:59:00+00:00``.

Named moments are the next such moment after the real date, so they lie ahead of
the real clock: Chromium, which keeps real time, then still accepts the cookies the
server sets. Processes a test starts (a scheduler, gunicorn) run on the same clock
through ``python_command``. ``make test-clocks`` runs the fast suite at each named
moment.
"""

from __future__ import annotations

import calendar
import os
import runpy
import sys
from collections.abc import Callable
from collections.abc import Sequence
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time

import time_machine

ENVIRONMENT_VARIABLE = "ENGAGE_TEST_CLOCK"


def _last_sunday(year: int, month: int) -> date:
    last = date(year, month, calendar.monthrange(year, month)[1])
    return date.fromordinal(last.toordinal() - (last.weekday() + 1) % 7)


def _month_end(year: int) -> datetime:
    return datetime(year, 9, 30, 22, 30, tzinfo=UTC)


def _new_year(year: int) -> datetime:
    return datetime(year, 1, 1, 0, 15, tzinfo=UTC)


def _spring_forward(year: int) -> datetime:
    return datetime.combine(_last_sunday(year, 3), time(1, 30), tzinfo=UTC)


def _fall_back(year: int) -> datetime:
    return datetime.combine(_last_sunday(year, 10), time(0, 30), tzinfo=UTC)


NAMED: dict[str, Callable[[int], datetime]] = {
    "month-end": _month_end,
    "new-year": _new_year,
    "spring-forward": _spring_forward,
    "fall-back": _fall_back,
}


def moment(name: str, *, after: datetime) -> datetime:
    """The moment a clock setting names: the next one after ``after`` if named."""
    if name in NAMED:
        make = NAMED[name]
        found = make(after.year)
        return found if found > after else make(after.year + 1)
    found = datetime.fromisoformat(name)
    if found.tzinfo is None:
        raise ValueError(f"{ENVIRONMENT_VARIABLE} needs a UTC offset: {name!r}")
    return found


_traveller: time_machine.travel | None = None


def start_from_environment() -> datetime | None:
    """Move the clock to the moment ``ENGAGE_TEST_CLOCK`` names (if it is set)."""
    global _traveller
    name = os.environ.get(ENVIRONMENT_VARIABLE, "").strip()
    if not name or _traveller is not None:
        return None
    destination = moment(name, after=datetime.now(UTC))
    _traveller = time_machine.travel(destination, tick=True)
    _traveller.start()
    return destination


def stop() -> None:
    """Put the real clock back."""
    global _traveller
    if _traveller is not None:
        _traveller.stop()
        _traveller = None


def python_command(*args: str) -> list[str]:
    """``python ARGS`` for a subprocess, starting at this process's "now" if moved.

    ``python_command("-m", "jobs")`` runs ``python -m tests.clock MOMENT -m jobs``
    while the clock is moved, so the child's clock reads what the test's does.
    """
    if _traveller is None:
        return [sys.executable, *args]
    now = datetime.now(UTC).isoformat()
    return [sys.executable, "-m", "tests.clock", now, *args]


def _run_module_from(moment_text: str, args: Sequence[str]) -> None:
    if len(args) < 2 or args[0] != "-m":
        raise SystemExit("usage: python -m tests.clock MOMENT -m MODULE [ARGS...]")
    time_machine.travel(datetime.fromisoformat(moment_text), tick=True).start()
    sys.argv = [args[1], *args[2:]]
    runpy.run_module(args[1], run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    _run_module_from(sys.argv[1], sys.argv[2:])
