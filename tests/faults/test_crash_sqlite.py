"""F1: kill -9 during writes on SQLite in WAL mode loses no acknowledged sign-up.

The server runs with the production default ``SQLITE_SYNCHRONOUS = "FULL"``
(engage/config.py): each COMMIT is fsynced before /join answers, so acknowledged
sign-ups survive power loss as well as the process crash tested here (``NORMAL`` would
survive a process crash but could lose the last commits on power loss).
"""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import pytest

from tests.faults.conftest import FAULT_SECONDS
from tests.faults.conftest import Browser
from tests.faults.conftest import Outcomes
from tests.faults.conftest import Report
from tests.faults.conftest import Server
from tests.faults.conftest import ServerFactory
from tests.faults.conftest import classify
from tests.faults.conftest import integrity_check
from tests.faults.conftest import sqlite_duplicates
from tests.faults.conftest import sqlite_members
from tests.faults.conftest import unique_email

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

ROUNDS = 3
CLIENTS = 8


def _write_until_killed(server: Server, outcomes: Outcomes, prefix: str) -> None:
    browser = Browser(server.url, timeout=15)
    while True:
        email = unique_email(prefix)
        try:
            status, text = browser.join(email)
        except OSError:
            outcomes.drop()  # the server is gone: this sign-up may or may not be in
            return
        classify(outcomes, email, status, text)


def test_kill_9_during_writes_loses_no_acknowledged_member(
    sqlite_db: tuple[str, Path], start_server: ServerFactory, report: Report
) -> None:
    url, path = sqlite_db
    outcomes = Outcomes()
    for round_number in range(ROUNDS):
        # Each round starts on the database the previous crash left (hot WAL).
        server = start_server(url, workers=2)
        clients = [
            threading.Thread(
                target=_write_until_killed,
                args=(server, outcomes, f"f1r{round_number}c{i}"),
            )
            for i in range(CLIENTS)
        ]
        for client in clients:
            client.start()
        time.sleep(random.uniform(FAULT_SECONDS / 2, FAULT_SECONDS * 1.5))
        server.kill()
        for client in clients:
            client.join(timeout=60)
        assert not any(c.is_alive() for c in clients)

    members = sqlite_members(path)
    lost = outcomes.acknowledged - set(members)
    report(
        acknowledged=len(outcomes.acknowledged),
        rows=len(members),
        lost=len(lost),
        unacknowledged_rows=len(set(members) - outcomes.acknowledged),
        dropped_requests=outcomes.dropped,
        kills=ROUNDS,
        synchronous="FULL",
    )
    assert integrity_check(path) == "ok"
    assert outcomes.acknowledged, "no sign-up was acknowledged before the kills"
    assert not lost
    assert not outcomes.bad_pages, outcomes.bad_pages[:3]
    assert sqlite_duplicates(path) == 0
    # One transaction per request: every member came with its consent records.
    assert set(members.values()) == {members[next(iter(outcomes.acknowledged))]}
    assert min(members.values()) >= 1
