"""The jobs page says when each job runs in plain words."""

from __future__ import annotations

import pytest

from engage.scheduling.services import describe_trigger
from jobs.definitions import JOBS


@pytest.mark.parametrize(
    ("trigger", "args", "words"),
    [
        ("cron", {"hour": 2, "minute": 0}, "Every day at 2am"),
        ("cron", {"hour": 2, "minute": 15}, "Every day at 2:15am"),
        ("cron", {"hour": 12, "minute": 0}, "Every day at midday"),
        ("cron", {"hour": 0, "minute": 0}, "Every day at midnight"),
        ("cron", {"hour": 18, "minute": 5}, "Every day at 6:05pm"),
        ("cron", {"minute": 35}, "Every hour at 35 minutes past"),
        ("cron", {"day_of_week": "mon", "hour": 6, "minute": 0}, "Every Monday at 6am"),
        (
            "cron",
            {"day": 1, "hour": 6, "minute": 30},
            "On the 1st of every month at 6:30am",
        ),
        (
            "cron",
            {"day": 22, "hour": 6, "minute": 30},
            "On the 22nd of every month at 6:30am",
        ),
        (
            "cron",
            {"day": 12, "hour": 6, "minute": 30},
            "On the 12th of every month at 6:30am",
        ),
        ("interval", {"minutes": 1}, "Every minute"),
        ("interval", {"minutes": 30}, "Every 30 minutes"),
        ("interval", {"seconds": 2}, "Every 2 seconds"),
        ("cron", {"hour": "*/3", "minute": 0}, "Cron: hour */3, minute 0"),
    ],
)
def test_triggers_in_words(trigger: str, args: dict[str, object], words: str) -> None:
    assert describe_trigger(trigger, args) == words


def test_every_job_of_engage_reads_as_words() -> None:
    for spec in JOBS:
        assert not spec.schedule.startswith(("Cron:", "Interval:")), spec.name
