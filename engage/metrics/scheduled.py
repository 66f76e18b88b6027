"""The scheduled jobs' entry points for measures of reach.

The job wrapper calls each as ``service(now=..., **kwargs)``; these work out the day in
the scheduler's time zone (``ENGAGE_JOBS_TIMEZONE``) and call the services, which flush
and leave the commit to the wrapper.
"""

from __future__ import annotations

from datetime import date
from datetime import datetime
from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import current_app

from engage.metrics.reach import send_reach_report
from engage.metrics.services import observations_from_activities
from engage.metrics.system import compute_system_metrics


def local_date(now: datetime) -> date:
    """The calendar day ``now`` falls on where the organisation is."""
    return now.astimezone(ZoneInfo(current_app.config["JOBS_TIMEZONE"])).date()


def nightly_metrics(now: datetime) -> dict[str, int]:
    """Yesterday's system metrics, and every delivery's reach figures as observations.

    Both upsert, so a second run (or a catch-up after downtime) changes nothing.
    """
    counts = compute_system_metrics(local_date(now) - timedelta(days=1), now=now)
    counts.update(observations_from_activities(now=now))
    return counts


def reach_report(now: datetime, period: str) -> dict[str, int]:
    """Make and email the reach report for the last whole week or month, once."""
    return send_reach_report(period, local_date(now), now=now)
