"""The scheduler process: one active APScheduler, the others on standby.

Every process started (``python -m jobs``, ``engage jobs``, ``make jobs``) competes
for a lease row in the database (jobs/lease.py). The holder runs an
APScheduler 3 ``BlockingScheduler`` whose job store is the app database, and a
heartbeat thread renews the lease every ``JOBS_HEARTBEAT_SECONDS``; the others
retry as often. If the holder dies its lease expires after ``JOBS_LEASE_SECONDS``
and a standby takes over, with the job store's next run times (``coalesce`` turns
the runs missed meanwhile into one). A holder that cannot renew stops its
scheduler at once. Each tick is also recorded with a unique (job, time), so even
two schedulers in the moment of a take-over cannot run one tick twice.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from types import FrameType
from typing import Any

from apscheduler.events import EVENT_JOB_MAX_INSTANCES
from apscheduler.events import EVENT_JOB_MISSED
from apscheduler.events import EVENT_SCHEDULER_STARTED
from apscheduler.executors.base import run_job as apscheduler_run_job
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask

from engage.clock import utcnow
from engage.errors import NotFound
from engage.extensions import db
from engage.scheduling import services
from engage.scheduling.models import JOBSTORE_TABLE
from engage.scheduling.models import RunTrigger
from jobs import lease
from jobs import runner

log = logging.getLogger("engage.jobs")  # under "engage": the configured handler

#: The function every stored job calls, by name (APScheduler pickles references).
JOB_FUNCTION = "jobs.scheduler:run_scheduled"
_TRIGGERS: dict[str, Any] = {
    "cron": CronTrigger,
    "interval": IntervalTrigger,
    "date": DateTrigger,
}


@dataclass
class _Process:
    app: Flask | None = None
    holder: str = ""


_process = _Process()
_tick = threading.local()


def run_scheduled(name: str) -> None:
    """The stored job: run ``name`` through the one wrapper, for this tick."""
    from engage import create_app

    app = _process.app or create_app()
    scheduled_for: datetime | None = getattr(_tick, "scheduled_for", None)
    with app.app_context():
        try:
            spec = services.get_spec(name)
        except NotFound:
            log.error("job %s is no longer in the registry", name)
            return
        if _process.holder and not lease.holds_lease(_process.holder, now=utcnow()):
            log.warning("job %s not run: this scheduler lost its lease", name)
            return
        runner.run_job(
            spec,
            trigger=RunTrigger.SCHEDULE,
            scheduled_for=scheduled_for,
            holder=_process.holder,
        )


def _run_with_tick(job: Any, alias: str, run_times: list[datetime], name: str) -> Any:
    _tick.scheduled_for = run_times[-1].astimezone(UTC)
    try:
        return apscheduler_run_job(job, alias, run_times, name)
    finally:
        _tick.scheduled_for = None


class TickExecutor(ThreadPoolExecutor):  # type: ignore[misc]
    """A thread pool that tells each run which tick it is for (to record it)."""

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        def callback(future: Any) -> None:
            error = future.exception()
            if error is not None:
                self._run_job_error(job.id, error, error.__traceback__)
            else:
                self._run_job_success(job.id, future.result())

        future = self._pool.submit(
            _run_with_tick, job, job._jobstore_alias, run_times, self._logger.name
        )
        future.add_done_callback(callback)


def new_holder_id() -> str:
    """This process's name in the lease: host, pid and a random suffix."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def _trigger(spec: services.JobSpec, timezone: str) -> Any:
    return _TRIGGERS[spec.trigger](timezone=timezone, **dict(spec.trigger_args))


def _add_jobs(
    scheduler: BlockingScheduler, store: SQLAlchemyJobStore, app: Flask
) -> None:
    """Put the registry in the job store, keeping the next run time of a job whose
    schedule is unchanged (so a run missed while no scheduler was up still happens)."""
    timezone = app.config["JOBS_TIMEZONE"]
    with app.app_context():
        specs = services.registry()
    names = {spec.name for spec in specs}
    for stored in store.get_all_jobs():
        if stored.id not in names:
            store.remove_job(stored.id)
    for spec in specs:
        trigger = _trigger(spec, timezone)
        options: dict[str, Any] = {}
        stored = store.lookup_job(spec.name)
        if stored is not None and str(stored.trigger) == str(trigger):
            options["next_run_time"] = stored.next_run_time
        scheduler.add_job(
            JOB_FUNCTION,
            trigger,
            args=(spec.name,),
            id=spec.name,
            name=spec.name,
            jobstore="default",
            replace_existing=True,
            misfire_grace_time=spec.misfire_grace_seconds,
            **options,
        )


def _poll_requests() -> None:
    app = _process.app
    if app is None:
        return
    with app.app_context():
        runner.run_requested(holder=_process.holder)


def _on_not_run(event: Any) -> None:
    app = _process.app
    if app is None or event.jobstore != "default":
        return
    if event.code == EVENT_JOB_MAX_INSTANCES:
        when, reason = (
            event.scheduled_run_times[-1],
            "The previous run was still going.",
        )
    else:
        when, reason = event.scheduled_run_time, "Started too late (missed)."
    with app.app_context():
        runner.record_skipped(
            event.job_id,
            scheduled_for=when.astimezone(UTC),
            reason=reason,
            holder=_process.holder,
        )


def build_scheduler(app: Flask) -> BlockingScheduler:
    """The APScheduler for the active process, jobs loaded but not started."""
    config = app.config
    with app.app_context():
        store = SQLAlchemyJobStore(engine=db.engine, tablename=JOBSTORE_TABLE)
    scheduler = BlockingScheduler(
        jobstores={"default": store, "internal": MemoryJobStore()},
        executors={"default": TickExecutor(int(config["JOBS_WORKERS"]))},
        job_defaults={"coalesce": True, "max_instances": 1},
        timezone=config["JOBS_TIMEZONE"],
    )
    store.start(scheduler, "default")  # to read the stored jobs before starting
    _add_jobs(scheduler, store, app)
    scheduler.add_job(
        _poll_requests,
        "interval",
        seconds=float(config["JOBS_POLL_SECONDS"]),
        id="_poll-requests",
        jobstore="internal",
        misfire_grace_time=60,
    )
    scheduler.add_listener(_on_not_run, EVENT_JOB_MAX_INSTANCES | EVENT_JOB_MISSED)
    return scheduler


def _heartbeat(app: Flask, scheduler: BlockingScheduler, stop: threading.Event) -> None:
    """Renew the lease until told to stop or the lease is lost; then stop jobs."""
    ttl = timedelta(seconds=float(app.config["JOBS_LEASE_SECONDS"]))
    interval = float(app.config["JOBS_HEARTBEAT_SECONDS"])
    renewed = utcnow()
    while not stop.wait(interval):
        try:
            with app.app_context():
                if not lease.renew_lease(_process.holder, ttl=ttl, now=utcnow()):
                    log.error("scheduler lost its lease; stopping its jobs")
                    break
            renewed = utcnow()
        except Exception:  # the database is away: carry on while the lease lasts
            log.exception("scheduler heartbeat failed")
            if utcnow() - renewed >= ttl:
                break
    scheduler.shutdown(wait=False)


def serve(app: Flask, stop: threading.Event) -> None:
    """Run the scheduler while we hold the lease (returns when stopped or lost)."""
    scheduler = build_scheduler(app)
    with app.app_context():
        closed = runner.close_abandoned_runs(holder=_process.holder, now=utcnow())
    if closed:
        log.warning("%d runs of a stopped scheduler marked as failed", closed)
    beat = threading.Thread(
        target=_heartbeat, args=(app, scheduler, stop), name="engage-lease"
    )

    def _started(event: Any) -> None:
        beat.start()  # once running, so the heartbeat can always shut it down

    scheduler.add_listener(_started, EVENT_SCHEDULER_STARTED)
    log.info("scheduler %s active", _process.holder)
    scheduler.start()  # blocks until the heartbeat shuts it down
    beat.join()
    if not stop.is_set():
        log.info("scheduler %s back on standby", _process.holder)


def _try_acquire(app: Flask, ttl: timedelta) -> bool:
    try:
        with app.app_context():
            return lease.acquire_lease(_process.holder, ttl=ttl, now=utcnow())
    except Exception:  # the database is away: stay on standby and retry
        log.exception("scheduler could not reach the database")
        return False


def run(app: Flask, *, stop: threading.Event | None = None) -> None:
    """Compete for the lease; serve while holding it; until ``stop`` is set."""
    stop = stop or threading.Event()
    _process.app = app
    _process.holder = new_holder_id()
    ttl = timedelta(seconds=float(app.config["JOBS_LEASE_SECONDS"]))
    wait = float(app.config["JOBS_HEARTBEAT_SECONDS"])
    announced = False
    while not stop.is_set():
        if _try_acquire(app, ttl):
            announced = False
            serve(app, stop)
            continue
        if not announced:
            log.info("scheduler %s on standby", _process.holder)
            announced = True
        stop.wait(wait)
    with app.app_context():
        lease.release_lease(_process.holder, now=utcnow())
    log.info("scheduler %s stopped", _process.holder)


def main(app: Flask | None = None) -> int:
    """Entry point of ``python -m jobs`` and ``engage jobs``: stop on SIGTERM/SIGINT."""
    from engage import create_app

    app = app or create_app()
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    run(app, stop=stop)
    return 0
