"""F3: PostgreSQL restarted under load (fast restart, then an immediate stop).

The cluster is a private one made by the ``pg_cluster`` fixture (initdb in a temp
directory, own port): the machine's shared PostgreSQL is never touched. Failing
requests must get the friendly 503 page, the app must recover within 10 s without being
restarted (``pool_pre_ping``), and no registration may be half-written.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from dataclasses import field

import pytest

from tests.faults.conftest import FAULT_SECONDS
from tests.faults.conftest import UNAVAILABLE
from tests.faults.conftest import Browser
from tests.faults.conftest import Outcomes
from tests.faults.conftest import PgCluster
from tests.faults.conftest import Report
from tests.faults.conftest import Server
from tests.faults.conftest import ServerFactory
from tests.faults.conftest import classify
from tests.faults.conftest import pg_duplicates
from tests.faults.conftest import pg_members
from tests.faults.conftest import pg_reset
from tests.faults.conftest import unique_email

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

CLIENTS = 8
RECOVERY_SECONDS = 10
DOWN_SECONDS = 2


@dataclass
class Timeline:
    """When each request ended, and whether it succeeded."""

    answers: list[tuple[float, bool]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, ok: bool) -> None:
        with self.lock:
            self.answers.append((time.monotonic(), ok))

    def first_success_after(self, moment: float) -> float | None:
        with self.lock:
            times = [t for t, ok in self.answers if ok and t >= moment]
        return min(times) - moment if times else None


def _join_loop(
    server: Server, outcomes: Outcomes, timeline: Timeline, stop: threading.Event
) -> None:
    browser = Browser(server.url, timeout=20)
    while not stop.is_set():
        email = unique_email("f3")
        try:
            status, text = browser.join(email)
        except OSError:
            # A failed form fetch (503) or a dropped connection: a new visitor.
            outcomes.drop()
            browser = Browser(server.url, timeout=20)
            time.sleep(0.05)
            continue
        ok = classify(outcomes, email, status, text)
        timeline.add(ok)
        if not ok:
            time.sleep(0.05)


def _staff_loop(
    browser: Browser, outcomes: Outcomes, timeline: Timeline, stop: threading.Event
) -> None:
    while not stop.is_set():
        try:
            status, text = browser.get("/members/?q=sam")
        except OSError:
            outcomes.drop()
            time.sleep(0.05)
            continue
        outcomes.saw(status)
        if status == 200 and "<h1" in text:
            timeline.add(True)
            continue
        if not (status == 503 and UNAVAILABLE in text and "Traceback" not in text):
            outcomes.bad(f"staff list HTTP {status}: {text}")
        timeline.add(False)
        time.sleep(0.05)


def test_postgres_restart_under_load(
    pg_cluster: PgCluster, start_server: ServerFactory, report: Report
) -> None:
    pg_reset(pg_cluster)
    server = start_server(pg_cluster.url, workers=2)
    workers_before = server.worker_pids()
    outcomes, timeline, stop = Outcomes(), Timeline(), threading.Event()
    threads = [
        threading.Thread(target=_join_loop, args=(server, outcomes, timeline, stop))
        for _ in range(CLIENTS)
    ]
    staff = Browser(server.url, timeout=20)
    staff.login()  # before the faults: signing in is slow on purpose (argon2)
    threads.append(
        threading.Thread(target=_staff_loop, args=(staff, outcomes, timeline, stop))
    )
    for thread in threads:
        thread.start()
    try:
        time.sleep(FAULT_SECONDS)
        pg_cluster.pg_ctl("restart", "-m", "fast")
        after_restart = time.monotonic()
        time.sleep(FAULT_SECONDS)
        pg_cluster.pg_ctl("stop", "-m", "immediate")
        time.sleep(DOWN_SECONDS)
        pg_cluster.pg_ctl("start")
        after_crash = time.monotonic()
        deadline = after_crash + RECOVERY_SECONDS + 5
        while (
            timeline.first_success_after(after_crash) is None
            and time.monotonic() < deadline
        ):
            time.sleep(0.1)
        time.sleep(1)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads)

    members = pg_members(pg_cluster)
    lost = outcomes.acknowledged - set(members)
    recovery_restart = timeline.first_success_after(after_restart)
    recovery_crash = timeline.first_success_after(after_crash)
    report(
        acknowledged=len(outcomes.acknowledged),
        rows=len(members),
        lost=len(lost),
        statuses=dict(sorted(outcomes.statuses.items())),
        dropped=outcomes.dropped,
        recovery_after_restart_s=f"{recovery_restart:.2f}"
        if recovery_restart
        else None,
        recovery_after_immediate_stop_s=(
            f"{recovery_crash:.2f}" if recovery_crash else None
        ),
    )
    assert not outcomes.bad_pages, (outcomes.bad_pages[:2], server.log[-6000:])
    assert outcomes.statuses.get(503), "the database outage was never seen"
    assert recovery_restart is not None
    assert recovery_restart <= RECOVERY_SECONDS
    assert recovery_crash is not None
    assert recovery_crash <= RECOVERY_SECONDS
    assert not lost
    assert pg_duplicates(pg_cluster) == 0
    # One transaction per request: no member without its consent records.
    assert min(members.values()) >= 1
    # Recovered without a restart: the same master and workers throughout.
    assert server.process.poll() is None
    assert server.worker_pids() == workers_before
