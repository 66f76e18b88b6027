"""Scheduling services: the job registry, run-now requests and what the jobs page reads.

A job is a ``JobSpec`` naming ONE service (``"module:function"``), called as
``service(now=..., **kwargs)`` by the job runner (jobs/runner.py), which commits. These
services never commit: ``request_run`` only adds a request for the caller to commit,
and the rest read the runs, the requests and the scheduler's lease (held through
jobs/lease.py).
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import select
from werkzeug.utils import import_string

from engage.accounts.models import User
from engage.audit.services import record_event
from engage.errors import NotFound
from engage.extensions import db
from engage.scheduling.models import JobRequest
from engage.scheduling.models import JobRun
from engage.scheduling.models import RequestStatus
from engage.scheduling.models import SchedulerLease
from engage.scheduling.models import apscheduler_jobs

#: The one row of the scheduler lease (taken and renewed in jobs/lease.py).
LEASE_NAME = "scheduler"


@dataclass(frozen=True)
class JobSpec:
    """One scheduled job: its name, APScheduler trigger and the service it runs."""

    name: str
    trigger: str  # "cron", "interval" or "date"
    trigger_args: Mapping[str, Any]
    service: str | Callable[..., Any]  # "package.module:function"
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""
    #: How late a run may still start (a catch-up after downtime); None: always.
    misfire_grace_seconds: int | None = 6 * 3600
    #: What it does, in a few words, where people read ("Send emails"); ``name``
    #: is for the command line.
    title: str = ""

    @property
    def words(self) -> str:
        """Its title, or its name if it has none."""
        return self.title or self.name

    def resolve(self) -> Callable[..., Any]:
        """The service function."""
        if callable(self.service):
            return self.service
        return import_string(self.service.replace(":", "."))  # type: ignore[no-any-return]

    @property
    def schedule(self) -> str:
        """When the job runs, in words for the jobs page ("Every day at 2:15am")."""
        return describe_trigger(self.trigger, self.trigger_args)


_DAYS = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}
_UNITS = ("weeks", "days", "hours", "minutes", "seconds")


def _clock(hour: int, minute: int) -> str:
    """``2:15am``, ``7am``, ``midday``, ``midnight`` (the NHS style)."""
    if minute == 0 and hour in (0, 12):
        return "midnight" if hour == 0 else "midday"
    twelve = hour % 12 or 12
    suffix = "am" if hour < 12 else "pm"
    return f"{twelve}{f':{minute:02d}' if minute else ''}{suffix}"


def _ordinal(day: int) -> str:
    suffix = (
        "th"
        if 10 <= day % 100 <= 20
        else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    )
    return f"{day}{suffix}"


def describe_trigger(trigger: str, args: Mapping[str, Any]) -> str:
    """A job's trigger in plain words (UK time); the raw settings if unusual."""
    if trigger == "interval":
        parts = [(unit, int(args[unit])) for unit in _UNITS if args.get(unit)]
        if len(parts) == 1 and len(args) == 1:
            unit, count = parts[0]
            return f"Every {unit[:-1]}" if count == 1 else f"Every {count} {unit}"
    if trigger == "cron" and set(args) <= {"day", "day_of_week", "hour", "minute"}:
        minute = args.get("minute")
        if isinstance(minute, int) and set(args) == {"minute"}:
            return f"Every hour at {minute} minutes past"
        hour = args.get("hour")
        if isinstance(hour, int) and isinstance(minute, int):
            at = _clock(hour, minute)
            day, weekday = args.get("day"), args.get("day_of_week")
            if day is None and weekday is None:
                return f"Every day at {at}"
            if isinstance(weekday, str) and weekday in _DAYS and day is None:
                return f"Every {_DAYS[weekday]} at {at}"
            if isinstance(day, int) and weekday is None:
                return f"On the {_ordinal(day)} of every month at {at}"
    settings = ", ".join(f"{key} {value}" for key, value in args.items())
    return f"{trigger.capitalize()}: {settings}"


def registry() -> tuple[JobSpec, ...]:
    """The jobs of this deployment (``JOBS_REGISTRY``, jobs.definitions:JOBS)."""
    specs = import_string(current_app.config["JOBS_REGISTRY"].replace(":", "."))
    return tuple(specs)


def get_spec(name: str) -> JobSpec:
    """The job called ``name``; NotFound lists the known names."""
    specs = registry()
    for spec in specs:
        if spec.name == name:
            return spec
    known = ", ".join(spec.name for spec in specs)
    raise NotFound(f"No job called {name!r}. Jobs: {known}.")


# Run-now requests -------------------------------------------------------------------


def request_run(name: str, *, actor: User, now: datetime) -> JobRequest:
    """Ask the active scheduler to run ``name`` soon (the "Run now" button)."""
    spec = get_spec(name)
    request = JobRequest(
        job=spec.name,
        requested_by_id=actor.id,
        requested_at=now,
        status=RequestStatus.QUEUED,
    )
    db.session.add(request)
    record_event(actor, "request_job_run", "job", None, spec.name, now=now)
    return request


def pending_requests() -> list[JobRequest]:
    """Requests not yet done, oldest first."""
    query = (
        select(JobRequest)
        .where(JobRequest.status != RequestStatus.DONE)
        .order_by(JobRequest.id)
    )
    return list(db.session.scalars(query))


# The lease (read only) -----------------------------------------------------------


def current_lease() -> SchedulerLease | None:
    """The lease row, if any scheduler ever ran."""
    return db.session.get(SchedulerLease, LEASE_NAME)


def heartbeat_age(*, now: datetime) -> float | None:
    """Seconds since the active scheduler last renewed its lease; None if never."""
    renewed = db.session.scalar(
        select(SchedulerLease.renewed_at).where(SchedulerLease.name == LEASE_NAME)
    )
    return None if renewed is None else round((now - renewed).total_seconds(), 1)


# The jobs page ------------------------------------------------------------------


def next_run_times() -> dict[str, datetime | None]:
    """Each job's next run time, as the scheduler's job store has it."""
    rows = db.session.execute(
        select(apscheduler_jobs.c.id, apscheduler_jobs.c.next_run_time)
    )
    return {
        str(job_id): None
        if timestamp is None
        else datetime.fromtimestamp(float(timestamp), UTC)
        for job_id, timestamp in rows
    }


def recent_runs(name: str, *, limit: int = 5) -> list[JobRun]:
    """The job's latest runs, newest first."""
    query = (
        select(JobRun)
        .where(JobRun.job == name)
        .order_by(JobRun.started_at.desc(), JobRun.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))
