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

    def resolve(self) -> Callable[..., Any]:
        """The service function."""
        if callable(self.service):
            return self.service
        return import_string(self.service.replace(":", "."))  # type: ignore[no-any-return]

    @property
    def schedule(self) -> str:
        """The trigger in words for the jobs page ("cron hour=2 minute=15")."""
        args = " ".join(f"{key}={value}" for key, value in self.trigger_args.items())
        return f"{self.trigger} {args}".strip()


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
