"""Test-only job registries and services, for scheduler processes started by tests.

A test points ``ENGAGE_JOBS_REGISTRY`` at one of the tuples below.
"""

from __future__ import annotations

import time
from datetime import datetime

from engage.scheduling.services import JobSpec


def tick(*, now: datetime) -> dict[str, int]:
    """Does nothing but get recorded."""
    return {"ticks": 1}


def boom(*, now: datetime) -> None:
    """Always fails, with personal data in the message (which must not be kept)."""
    raise RuntimeError("could not reach pat@example.org on 07700 900123")


def hang(*, now: datetime) -> int:
    """Takes longer than its interval (a stalled fetch)."""
    time.sleep(2.5)
    return 1


#: Two schedulers, one job every 2 seconds (E5).
EVERY_TWO_SECONDS = (JobSpec("tick", "interval", {"seconds": 2}, f"{__name__}:tick"),)

#: An hourly job, for the catch-up after downtime.
HOURLY = (JobSpec("hourly", "interval", {"hours": 1}, f"{__name__}:tick"),)

#: A job that raises and one that hangs, every second (E3).
FAULTY = (
    JobSpec("boom", "interval", {"seconds": 1}, f"{__name__}:boom"),
    JobSpec("hang", "interval", {"seconds": 1}, f"{__name__}:hang"),
)

#: A job that only runs when asked (run-now).
ON_REQUEST = (
    JobSpec("quiet", "cron", {"month": 1, "day": 1, "hour": 3}, f"{__name__}:tick"),
)
