"""Real scheduler processes on the test database (docs/security.md E5, E3 scheduling).

Each test starts ``python -m jobs`` subprocesses with a short lease (3 s), a fast
heartbeat and a test registry (tests/scheduling/sample_jobs.py), on SQLite or on
PostgreSQL when ENGAGE_TEST_DATABASE_URL is set. Waits poll the database.
"""

from __future__ import annotations

import itertools
import os
import pickle
import signal
import subprocess
import time
from collections.abc import Callable
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update

from engage.extensions import db
from engage.scheduling.models import JobRequest
from engage.scheduling.models import JobRun
from engage.scheduling.models import RequestStatus
from engage.scheduling.models import RunOutcome
from engage.scheduling.models import RunTrigger
from engage.scheduling.models import SchedulerLease
from engage.scheduling.models import apscheduler_jobs
from tests import clock
from tests.conftest import ROOT
from tests.conftest import wait_for as poll

pytestmark = pytest.mark.timeout(180)

LEASE_SECONDS = 3
SAMPLES = "tests.scheduling.sample_jobs"


def wait_for(
    predicate: Callable[[], Any],
    timeout: float,
    what: str,
    *,
    output: Callable[[], str] | None = None,
) -> Any:
    """Poll ``predicate``, reading fresh data each time, until it is truthy, or fail.

    ``output`` gives the schedulers' logs to show when it fails.
    """
    return poll(
        predicate, timeout, what, output=output, before_each=db.session.rollback
    )


def runs(job: str) -> list[JobRun]:
    db.session.rollback()
    query = select(JobRun).where(JobRun.job == job).order_by(JobRun.scheduled_for)
    return list(db.session.scalars(query))


class Schedulers:
    """Starts scheduler processes and makes sure they are gone afterwards."""

    def __init__(self, database_url: str, logs: Path) -> None:
        self.database_url = database_url
        self.logs = logs
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, registry: str) -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "ENGAGE_DATABASE_URL": self.database_url,
            "ENGAGE_SECRET_KEY": "test-secret-key",
            "ENGAGE_SQLITE_SYNCHRONOUS": "NORMAL",
            "ENGAGE_JOBS_REGISTRY": f"{SAMPLES}:{registry}",
            "ENGAGE_JOBS_LEASE_SECONDS": str(LEASE_SECONDS),
            "ENGAGE_JOBS_HEARTBEAT_SECONDS": "0.5",
            "ENGAGE_JOBS_POLL_SECONDS": "0.5",
        }
        with (self.logs / f"scheduler-{len(self.processes)}.log").open("wb") as log:
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                clock.python_command("-m", "jobs"),
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.processes.append(process)
        return process

    def stop(self, process: subprocess.Popen[bytes]) -> None:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def output(self) -> str:
        return "\n".join(p.read_text() for p in sorted(self.logs.glob("*.log")))


@pytest.fixture
def schedulers(database_url: str, tmp_path: Path) -> Iterator[Schedulers]:
    made = Schedulers(database_url, tmp_path)
    yield made
    for process in made.processes:
        made.stop(process)


def _active_pid() -> int | None:
    lease = db.session.get(SchedulerLease, "scheduler")
    if lease is None:
        return None
    return int(lease.holder.split(":")[1])


def test_two_schedulers_run_each_tick_once_and_a_standby_takes_over(
    schedulers: Schedulers,
) -> None:
    """E5: two processes, each 2-second tick runs exactly once; kill -9 the active
    one and the other takes over within the lease and keeps running the job."""
    first = schedulers.start("EVERY_TWO_SECONDS")
    second = schedulers.start("EVERY_TWO_SECONDS")
    wait_for(lambda: len(runs("tick")) >= 5, 60, "five ticks", output=schedulers.output)
    before = runs("tick")
    holders = {r.holder for r in before}
    assert len(holders) == 1, f"two schedulers ran jobs: {holders}"
    ticks = [r.scheduled_for for r in before]
    assert None not in ticks
    assert len(ticks) == len(set(ticks))  # no tick twice
    # All on the 2-second grid (a tick may be coalesced or skipped on a busy machine).
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(ticks)]
    assert all(gap > 0 and gap % 2 == 0 for gap in gaps), gaps
    assert [r for r in before if r.outcome is RunOutcome.OK]
    pid = _active_pid()
    assert pid in {first.pid, second.pid}
    survivor = second if pid == first.pid else first
    os.kill(pid, signal.SIGKILL)
    killed_at = time.monotonic()
    (holder,) = holders
    after = wait_for(
        lambda: [
            r for r in runs("tick") if r.holder != holder and r.outcome is RunOutcome.OK
        ],
        40,
        "the standby to take over",
        output=schedulers.output,
    )
    took = time.monotonic() - killed_at
    assert took < LEASE_SECONDS + 15, took
    assert _active_pid() == survivor.pid
    wait_for(
        lambda: len([r for r in runs("tick") if r.holder != holder]) >= 3,
        30,
        "the new scheduler to keep running the job",
        output=schedulers.output,
    )
    every = runs("tick")
    times = [r.scheduled_for for r in every]
    assert len(times) == len(set(times))  # still exactly one run per tick
    assert after[0].scheduled_for > before[-1].scheduled_for


def _stored_job(name: str) -> tuple[float, bytes] | None:
    row = db.session.execute(
        select(apscheduler_jobs.c.next_run_time, apscheduler_jobs.c.job_state).where(
            apscheduler_jobs.c.id == name
        )
    ).first()
    return None if row is None else (row[0], row[1])


def test_after_three_hours_down_coalescing_gives_one_catch_up_run(
    schedulers: Schedulers,
) -> None:
    """E5: the job store keeps the next run time; missed runs become one."""
    process = schedulers.start("HOURLY")
    wait_for(lambda: _stored_job("hourly"), 60, "the job in the job store")
    schedulers.stop(process)
    assert runs("hourly") == []
    # Three hours of downtime: the stored next run time is now 3 h in the past.
    _next_run, state_bytes = _stored_job("hourly")
    state = pickle.loads(state_bytes)  # noqa: S301 - our own job store
    missed = datetime.now(UTC) - timedelta(hours=3)
    state["next_run_time"] = missed.astimezone(state["next_run_time"].tzinfo)
    db.session.execute(
        update(apscheduler_jobs)
        .where(apscheduler_jobs.c.id == "hourly")
        .values(next_run_time=missed.timestamp(), job_state=pickle.dumps(state))
    )
    db.session.commit()
    schedulers.start("HOURLY")
    wait_for(
        lambda: [r for r in runs("hourly") if r.outcome is not RunOutcome.RUNNING],
        60,
        "the catch-up run",
    )
    wait_for(
        lambda: (_stored_job("hourly") or (0.0,))[0] > time.time(),
        30,
        "the next run to be rescheduled",
    )
    (run,) = runs("hourly")  # exactly one, not three
    assert run.outcome is RunOutcome.OK
    assert run.scheduled_for is not None
    assert run.scheduled_for > missed


def test_a_failing_or_hanging_job_does_not_wedge_the_next_run(
    schedulers: Schedulers,
) -> None:
    """E3 (scheduling): failures are recorded and the next tick still runs."""
    schedulers.start("FAULTY")
    wait_for(
        lambda: len([r for r in runs("boom") if r.outcome is RunOutcome.FAILED]) >= 3,
        60,
        "three failed runs",
    )
    wait_for(
        lambda: len([r for r in runs("hang") if r.outcome is RunOutcome.OK]) >= 2,
        60,
        "a run after a hung one",
    )
    failed = [r for r in runs("boom") if r.outcome is RunOutcome.FAILED]
    assert all(r.finished_at is not None for r in failed)
    assert all("pat@example.org" not in (r.error or "") for r in failed)
    assert all("07700" not in (r.error or "") for r in failed)
    hung = runs("hang")
    skipped = [r for r in hung if r.outcome is RunOutcome.SKIPPED]
    assert skipped, "ticks during a hung run are recorded as skipped"
    assert skipped[0].error == "The previous run was still going."
    done = [r for r in hung if r.outcome is RunOutcome.OK]
    assert done[-1].started_at > skipped[0].started_at


def test_run_now_is_picked_up_within_seconds(
    schedulers: Schedulers, client: FlaskClient, login, cast, app
) -> None:
    app.config["JOBS_REGISTRY"] = f"{SAMPLES}:ON_REQUEST"
    process = schedulers.start("ON_REQUEST")
    wait_for(lambda: _active_pid() == process.pid, 60, "the scheduler to start")
    login(cast["admin"])
    assert client.post("/jobs/quiet/run").status_code == 302
    asked = time.monotonic()
    request = wait_for(
        lambda: db.session.scalars(
            select(JobRequest).where(
                JobRequest.status.not_in([RequestStatus.QUEUED, RequestStatus.RUNNING])
            )
        ).first(),
        60,
        "the request to be run",
        output=schedulers.output,
    )
    assert request.status is RequestStatus.DONE, schedulers.output()
    assert time.monotonic() - asked < 30
    run = db.session.get(JobRun, request.run_id)
    assert run is not None
    assert (run.job, run.trigger, run.outcome) == (
        "quiet",
        RunTrigger.REQUEST,
        RunOutcome.OK,
    )
    assert db.session.scalar(select(func.count()).select_from(JobRun)) == 1
