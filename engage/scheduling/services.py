"""Scheduling services: the job registry, recorded runs, run-now requests, the lease.

A job is a ``JobSpec`` naming ONE service (``"module:function"``), called as
``service(now=..., **kwargs)``; it may return an int (stored as ``{"count": n}``),
a mapping of counts, or None. ``run_job`` is the one wrapper every run goes
through, whether the scheduler, the "Run now" button or ``engage run-job`` started
it: it records the run, calls the service, commits once and records the outcome.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from werkzeug.utils import import_string

from engage.accounts.models import User
from engage.audit.services import record_event
from engage.clock import utcnow
from engage.db import begin_write
from engage.errors import NotFound
from engage.extensions import db
from engage.scheduling.models import (
    JobRequest,
    JobRun,
    RequestStatus,
    RunOutcome,
    RunTrigger,
    SchedulerLease,
    apscheduler_jobs,
)

log = logging.getLogger(__name__)

#: Tries of a job's work when SQLite reports a write conflict (the last takes the lock).
WRITE_ATTEMPTS = 3

LEASE_NAME = "scheduler"
ERROR_MAX_LENGTH = 500
_EMAIL = re.compile(r"[^\s<>@'\"]+@[^\s<>@'\"]+")
_LONG_NUMBER = re.compile(r"\+?\d[\d ]{7,}\d")


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


def describe_error(error: BaseException) -> str:
    """The error for the runs table: class and message, no addresses, truncated."""
    text = f"{type(error).__name__}: {error}"
    text = _LONG_NUMBER.sub("[number]", _EMAIL.sub("[address]", text))
    return text[:ERROR_MAX_LENGTH]


def _counts(result: object) -> dict[str, Any]:
    if result is None:
        return {}
    if isinstance(result, bool) or not isinstance(result, int | Mapping):
        return {"result": str(result)[:100]}
    if isinstance(result, int):
        return {"count": result}
    return {str(key): value for key, value in result.items()}


def run_job(
    spec: JobSpec,
    *,
    trigger: RunTrigger,
    scheduled_for: datetime | None = None,
    holder: str = "",
    clock: Callable[[], datetime] = utcnow,
) -> JobRun | None:
    """Run one job and record it; None if this tick's run was already taken.

    The run row is committed first (with ``scheduled_for`` unique per job, so two
    schedulers can never both run one tick), then the service runs and its work is
    committed once; a failure rolls the work back and is recorded as failed.
    """
    started = clock()
    # The caller may have read (the lease) in a transaction that another writer has
    # since overtaken; on SQLite writing in it would fail at once with "database is
    # locked". End it and take the write lock for the run row.
    db.session.rollback()
    begin_write(db.session())
    run = JobRun(
        job=spec.name,
        trigger=trigger,
        scheduled_for=scheduled_for,
        started_at=started,
        outcome=RunOutcome.RUNNING,
        counts={},
        holder=holder[:100],
    )
    db.session.add(run)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        log.info("job %s: tick %s already run", spec.name, scheduled_for)
        return None
    run_id = run.id
    message: str | None = None
    for attempt in range(1, WRITE_ATTEMPTS + 1):
        try:
            if attempt == WRITE_ATTEMPTS:
                # Last try: take the write lock first, so no other writer can get in
                # between this job's reads and its writes.
                begin_write(db.session())
            result = spec.resolve()(now=started, **spec.kwargs)
            db.session.commit()
        except Exception as error:  # every failure is recorded, never raised
            db.session.rollback()
            if attempt < WRITE_ATTEMPTS and _write_conflict(error):
                log.info("job %s: another writer got in first; trying again", spec.name)
                continue
            outcome, counts = RunOutcome.FAILED, {}
            message = describe_error(error)
            log.error("job %s failed: %s", spec.name, message)
        else:
            outcome, counts = RunOutcome.OK, _counts(result)
            log.info("job %s done: %s", spec.name, counts)
        break
    db.session.execute(
        update(JobRun)
        .where(JobRun.id == run_id)
        .values(finished_at=clock(), outcome=outcome, counts=counts, error=message)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return db.session.get(JobRun, run_id)


def _write_conflict(error: Exception) -> bool:
    """SQLite refused to turn this job's read transaction into a write transaction.

    In WAL mode, when another connection (a web request, the mail sender, another
    job) has committed since this transaction began reading, the upgrade fails at
    once with SQLITE_BUSY instead of waiting; the work is rolled back and redone.
    """
    orig = getattr(error, "orig", None)
    return isinstance(error, OperationalError) and str(
        getattr(orig, "sqlite_errorname", "")
    ).startswith("SQLITE_BUSY")


def record_skipped(
    name: str, *, scheduled_for: datetime, reason: str, holder: str = ""
) -> None:
    """Record a tick the scheduler did not run (the previous run still going)."""
    now = utcnow()
    db.session.add(
        JobRun(
            job=name,
            trigger=RunTrigger.SCHEDULE,
            scheduled_for=scheduled_for,
            started_at=now,
            finished_at=now,
            outcome=RunOutcome.SKIPPED,
            counts={},
            error=reason[:ERROR_MAX_LENGTH],
            holder=holder[:100],
        )
    )
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()


def close_abandoned_runs(*, holder: str, now: datetime) -> int:
    """Mark runs left "running" by a scheduler that died as failed; how many."""
    result = db.session.execute(
        update(JobRun)
        .where(
            JobRun.outcome == RunOutcome.RUNNING,
            JobRun.holder != holder,
            JobRun.trigger != RunTrigger.CLI,
        )
        .values(
            outcome=RunOutcome.FAILED,
            finished_at=now,
            error="The scheduler stopped during this run.",
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


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


def run_requested(*, holder: str) -> int:
    """Claim each queued request (a conditional UPDATE) and run it; how many ran."""
    queued = list(
        db.session.execute(
            select(JobRequest.id, JobRequest.job)
            .where(JobRequest.status == RequestStatus.QUEUED)
            .order_by(JobRequest.id)
        )
    )
    db.session.commit()
    ran = 0
    for request_id, name in queued:
        claimed = db.session.execute(
            update(JobRequest)
            .where(
                JobRequest.id == request_id,
                JobRequest.status == RequestStatus.QUEUED,
            )
            .values(status=RequestStatus.RUNNING, started_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        if getattr(claimed, "rowcount", 0) != 1:
            continue
        try:
            spec = get_spec(name)
        except NotFound:
            run = None  # the job was removed from the registry since
        else:
            run = run_job(spec, trigger=RunTrigger.REQUEST, holder=holder)
        db.session.execute(
            update(JobRequest)
            .where(JobRequest.id == request_id)
            .values(
                status=RequestStatus.DONE,
                finished_at=utcnow(),
                run_id=run.id if run is not None else None,
            )
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        ran += 1
    return ran


# The lease: one active scheduler -------------------------------------------------


def acquire_lease(holder: str, *, ttl: timedelta, now: datetime) -> bool:
    """Take (or keep) the lease if it is free, expired or already ours."""
    result = db.session.execute(
        update(SchedulerLease)
        .where(
            SchedulerLease.name == LEASE_NAME,
            (SchedulerLease.holder == holder) | (SchedulerLease.expires_at < now),
        )
        .values(holder=holder, acquired_at=now, renewed_at=now, expires_at=now + ttl)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) == 1:
        db.session.commit()
        return True
    db.session.rollback()
    exists = db.session.scalar(
        select(SchedulerLease.name).where(SchedulerLease.name == LEASE_NAME)
    )
    if exists is not None:
        db.session.rollback()
        return False
    try:  # the very first scheduler: whoever inserts the row first holds it
        db.session.execute(
            insert(SchedulerLease).values(
                name=LEASE_NAME,
                holder=holder,
                acquired_at=now,
                renewed_at=now,
                expires_at=now + ttl,
            )
        )
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return False
    return True


def renew_lease(holder: str, *, ttl: timedelta, now: datetime) -> bool:
    """Extend our lease (the heartbeat); False if another scheduler has taken it."""
    result = db.session.execute(
        update(SchedulerLease)
        .where(SchedulerLease.name == LEASE_NAME, SchedulerLease.holder == holder)
        .values(renewed_at=now, expires_at=now + ttl)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return getattr(result, "rowcount", 0) == 1


def release_lease(holder: str, *, now: datetime) -> None:
    """Give the lease up at once (a clean shutdown), so a standby takes over."""
    db.session.execute(
        update(SchedulerLease)
        .where(SchedulerLease.name == LEASE_NAME, SchedulerLease.holder == holder)
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def holds_lease(holder: str, *, now: datetime) -> bool:
    """Whether ``holder`` has the unexpired lease."""
    lease = db.session.get(SchedulerLease, LEASE_NAME)
    return bool(lease and lease.holder == holder and lease.expires_at >= now)


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
