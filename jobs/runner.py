"""The job runner: the one edge every job run goes through, and so where it commits.

A job is a ``JobSpec`` (engage.scheduling.services) naming ONE service, called as
``service(now=..., **kwargs)``; it may return an int (stored as ``{"count": n}``), a
mapping of counts, or None. ``run_job`` runs it whether the scheduler, the jobs
page's "Run now" (a request the active scheduler polls, ``run_requested``) or
``engage run-job`` started it: it commits the run row, calls the service, commits
its work once and records the outcome. Services never commit; this module does,
as views and CLI commands do for a request.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.exc import OperationalError

from engage.clock import utcnow
from engage.db import begin_write
from engage.errors import NotFound
from engage.extensions import db
from engage.scheduling.models import JobRequest
from engage.scheduling.models import JobRun
from engage.scheduling.models import RequestStatus
from engage.scheduling.models import RunOutcome
from engage.scheduling.models import RunTrigger
from engage.scheduling.services import JobSpec
from engage.scheduling.services import get_spec

log = logging.getLogger(__name__)

#: Tries of a job's work when SQLite reports a write conflict (the last takes the lock).
WRITE_ATTEMPTS = 3

ERROR_MAX_LENGTH = 500
_EMAIL = re.compile(r"[^\s<>@'\"]+@[^\s<>@'\"]+")
_LONG_NUMBER = re.compile(r"\+?\d[\d ]{7,}\d")


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
        run_id = run.id if run is not None else None
        # run_job read the run back in a transaction that the lease's heartbeat may
        # since have overtaken; on SQLite writing in it would fail at once with
        # "database is locked". End it and take the write lock first.
        db.session.rollback()
        begin_write(db.session())
        db.session.execute(
            update(JobRequest)
            .where(JobRequest.id == request_id)
            .values(status=RequestStatus.DONE, finished_at=utcnow(), run_id=run_id)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        ran += 1
    return ran
