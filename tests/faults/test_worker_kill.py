"""F2: kill -9 a gunicorn worker during a burst of 200 sign-ups; clients retry.

No client may see success without a row, and retried sign-ups must not create
duplicates: the email column is unique and a second /join for a known address answers
with the same page without adding a member (engage.membership.registration).
"""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from tests.faults.conftest import Browser
from tests.faults.conftest import Database
from tests.faults.conftest import Outcomes
from tests.faults.conftest import Report
from tests.faults.conftest import Server
from tests.faults.conftest import ServerFactory
from tests.faults.conftest import classify
from tests.faults.conftest import unique_email

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

BURST = 200
CLIENTS = 20
ATTEMPTS = 30


def _sign_up(server: Server, emails: list[str], outcomes: Outcomes) -> None:
    for email in emails:
        browser = Browser(server.url, timeout=20)
        for _ in range(ATTEMPTS):
            try:
                status, text = browser.join(email)
            except OSError:
                # Connection refused or dropped by the killed worker: start again.
                outcomes.drop()
                browser = Browser(server.url, timeout=20)
                time.sleep(0.1)
                continue
            if classify(outcomes, email, status, text):
                break
            time.sleep(0.2)


def test_worker_killed_during_join_burst(
    database: Database, start_server: ServerFactory, report: Report
) -> None:
    server = start_server(database.url, workers=2)
    emails = [unique_email("f2") for _ in range(BURST)]
    outcomes = Outcomes()
    clients = [
        threading.Thread(target=_sign_up, args=(server, emails[i::CLIENTS], outcomes))
        for i in range(CLIENTS)
    ]
    for client in clients:
        client.start()
    # Kill a busy worker once the burst is well under way.
    deadline = time.monotonic() + 60
    while len(outcomes.acknowledged) < BURST // 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    victim = server.worker_pids()[0]
    os.kill(victim, signal.SIGKILL)
    killed_at = len(outcomes.acknowledged)
    for client in clients:
        client.join(timeout=180)
    assert not any(c.is_alive() for c in clients)

    members = database.members()
    lost = outcomes.acknowledged - set(members)
    # The master notices the dead worker and boots a new one.
    respawn_deadline = time.monotonic() + 30
    while time.monotonic() < respawn_deadline:
        workers = server.worker_pids()
        if len(workers) == 2 and victim not in workers:
            break
        time.sleep(0.1)
    report(
        engine=database.kind,
        burst=BURST,
        killed_after_acks=killed_at,
        acknowledged=len(outcomes.acknowledged),
        rows=len(members),
        lost=len(lost),
        duplicates=database.duplicates(),
        dropped_and_retried=outcomes.dropped,
        statuses=dict(sorted(outcomes.statuses.items())),
    )
    assert not lost
    assert not outcomes.bad_pages, outcomes.bad_pages[:3]
    assert outcomes.acknowledged == set(emails), "every client succeeded in the end"
    assert set(members) == set(emails)
    assert database.duplicates() == 0
    assert min(members.values()) >= 1, "a member without consent records"
    assert server.process.poll() is None, "the master died"
    workers = server.worker_pids()
    assert len(workers) == 2, "the worker was not respawned"
    assert victim not in workers
