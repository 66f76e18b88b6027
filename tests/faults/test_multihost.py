"""F8: two app hosts and two schedulers on one database; one of each killed under load.

Two gunicorn servers (two hosts, each its own process group with 2 workers) and two
scheduler processes (``python -m jobs``) share one PostgreSQL database (a copy of the
private cluster's, made for this test) and one Redis, which keeps the rate-limit counts
(``ENGAGE_MULTIHOST_REDIS_URL``, default ``redis://127.0.0.1:6379/3``, under a key
prefix of this run's own; skipped without Redis). Rate limits are on, and the app
trusts one proxy's ``X-Forwarded-For``.

locust (tests/faults/locust_multihost.py) sends visitors joining, respondents answering
a survey, officers opening their pages and leads the dashboard through a stand-in for
the load balancer, which health-checks ``/healthz`` and sends each request to the next
healthy host. While it runs, the first host's whole process group and the active
scheduler are killed with ``kill -9``. Requests the dead host was answering, or got
before its next failed health check, fail at the connection: they are counted as
dropped, as a browser would see them, not as errors.

Then: every join and survey answer that was acknowledged is in the database (and each
join's confirmation email was written, by the surviving host or the scheduler's
``deliver-mail``); nothing but the friendly 503 page came back as an error, and only
in the moments after the kill; the per-address join limit counts across both hosts and
outlives the dead one; the standby scheduler took over within its lease, and each tick
of the job ran exactly once, never two at a time.

Durations: ``ENGAGE_MULTIHOST_SECONDS`` (load, default 25; the kill comes at 40 % of
it) and ``ENGAGE_MULTIHOST_USERS`` (default 16). The test measures no latency, so it
runs side by side with the other fault tests.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.conftest import wait_for
from tests.faults.conftest import JOINED
from tests.faults.conftest import OFFICER_EMAIL
from tests.faults.conftest import OFFICER_PASSWORD
from tests.faults.conftest import ROOT
from tests.faults.conftest import VENV_BIN
from tests.faults.conftest import Browser
from tests.faults.conftest import PgCluster
from tests.faults.conftest import Report
from tests.faults.conftest import Server
from tests.faults.conftest import ServerFactory
from tests.faults.conftest import env_number
from tests.faults.conftest import locust_env
from tests.faults.conftest import prepare_database
from tests.faults.conftest import run
from tests.faults.conftest import server_env
from tests.faults.conftest import unique_email
from tests.faults.multihost_app import TICK_LOG_ENV

LOAD_SECONDS = int(env_number("ENGAGE_MULTIHOST_SECONDS", 25))
USERS = int(env_number("ENGAGE_MULTIHOST_USERS", 16))
REDIS_URL = os.environ.get("ENGAGE_MULTIHOST_REDIS_URL", "redis://127.0.0.1:6379/3")

pytestmark = [pytest.mark.slow, pytest.mark.timeout(LOAD_SECONDS + 300)]

LOCUSTFILE = Path(__file__).with_name("locust_multihost.py")
#: The schedulers' lease and heartbeat (production: 30 s and 10 s).
LEASE_SECONDS = 3
HEARTBEAT_SECONDS = 0.5
#: Joins per address per hour (the production default).
JOIN_LIMIT = 10
#: The one address the limit is tried from (a documentation address).
PROBE_ADDRESS = "192.0.2.10"
#: Joins from it before the kill, alternating between the hosts.
PROBE_BEFORE_KILL = 6
#: After the kill a friendly 503 may be seen for this long (nothing else, ever).
KILL_WINDOW_SECONDS = 10
#: How long after the kill the balancer may still send requests to the dead host
#: (it takes a host out after two failed checks, half a second apart).
DROP_WINDOW_SECONDS = 10


# The database and Redis ---------------------------------------------------------------


@dataclass
class OwnDatabase:
    """This test's own database in the private cluster."""

    cluster: PgCluster
    name: str

    @property
    def url(self) -> str:
        return (
            f"postgresql+psycopg://postgres@127.0.0.1:{self.cluster.port}/{self.name}"
        )

    def connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(
            host="127.0.0.1",
            port=self.cluster.port,
            user="postgres",
            dbname=self.name,
            autocommit=True,
        )


@pytest.fixture
def own_database(pg_cluster: PgCluster) -> OwnDatabase:
    """A copy of the cluster's migrated database (with its officer).

    It goes with the cluster at the end of the session (dropping it now would cost a
    checkpoint).
    """
    db = OwnDatabase(pg_cluster, f"multihost_{uuid.uuid4().hex[:10]}")
    copied = False
    for _ in range(20):  # the template must have no other sessions for a moment
        try:
            pg_cluster.psql(f"CREATE DATABASE {db.name} TEMPLATE engage")
        except subprocess.CalledProcessError:
            time.sleep(0.25)
        else:
            copied = True
            break
    if not copied:
        pg_cluster.psql(f"CREATE DATABASE {db.name}")
        prepare_database(db.url)
    # What earlier tests' schedulers left in the template.
    pg_cluster.psql(
        "TRUNCATE job_requests, job_runs, scheduler_lease, apscheduler_jobs",
        database=db.name,
    )
    return db


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A rate-limit key prefix of this run's own; its keys are deleted after."""
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    prefix = f"multihost-{uuid.uuid4().hex[:12]}"
    yield prefix
    for key in client.scan_iter(match=f"*{prefix}*"):
        client.delete(key)
    client.close()


def redis_keys(prefix: str) -> int:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2)
    with contextlib.closing(client):
        return sum(1 for _ in client.scan_iter(match=f"*{prefix}*"))


# Schedulers ---------------------------------------------------------------------------


class Schedulers:
    """``python -m jobs`` processes, each its own process group, killed at the end."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, env: dict[str, str]) -> subprocess.Popen[bytes]:
        path = self.logs / f"scheduler-{len(self.processes)}.log"
        with path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "jobs"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes.append(process)
        return process

    def by_pid(self, pid: int) -> subprocess.Popen[bytes]:
        return next(p for p in self.processes if p.pid == pid)

    def output(self) -> str:
        return "\n".join(
            p.read_text(errors="replace")[-3000:]
            for p in sorted(self.logs.glob("scheduler-*.log"))
        )


@pytest.fixture
def schedulers(tmp_path: Path) -> Iterator[Schedulers]:
    made = Schedulers(tmp_path)
    yield made
    for process in made.processes:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def lease_holder(conn: psycopg.Connection[Any]) -> str | None:
    row = conn.execute(
        "SELECT holder FROM scheduler_lease WHERE expires_at > now() AT TIME ZONE 'UTC'"
    ).fetchone()
    return str(row[0]) if row else None


def holder_pid(holder: str) -> int:
    """The process id in a lease holder's name (host:pid:suffix)."""
    return int(holder.split(":")[1])


# The rate-limit probe -----------------------------------------------------------------


def probe_joins(hosts: list[Server], count: int) -> list[tuple[str, str]]:
    """Join ``count`` times from PROBE_ADDRESS, the hosts in turn.

    (``"joined"`` or the status, email) for each.
    """
    answers = []
    for n in range(count):
        browser = Browser(
            hosts[n % len(hosts)].url, headers={"X-Forwarded-For": PROBE_ADDRESS}
        )
        email = unique_email("mh-probe")
        status, text = browser.join(email)
        answers.append(
            ("joined" if status == 200 and JOINED in text else str(status), email)
        )
    return answers


# The test -----------------------------------------------------------------------------


def test_two_hosts_and_two_schedulers_survive_losing_one_of_each(
    redis_prefix: str,
    own_database: OwnDatabase,
    schedulers: Schedulers,
    start_server: ServerFactory,
    tmp_path: Path,
    report: Report,
) -> None:
    app_env = {
        "ENGAGE_RATELIMIT_ENABLED": "true",
        "ENGAGE_RATELIMIT_STORAGE_URI": REDIS_URL,
        "ENGAGE_RATELIMIT_KEY_PREFIX": redis_prefix,
        "ENGAGE_PROXY_FIX_X_FOR": "1",
        "ENGAGE_MEMBERSHIP_JOIN_LIMIT": f"{JOIN_LIMIT} per hour",
    }
    tick_log = tmp_path / "ticks.log"
    tick_log.touch()
    scheduler_env = server_env(
        own_database.url,
        **app_env,
        ENGAGE_JOBS_REGISTRY="tests.faults.multihost_app:JOBS",
        ENGAGE_JOBS_LEASE_SECONDS=str(LEASE_SECONDS),
        ENGAGE_JOBS_HEARTBEAT_SECONDS=str(HEARTBEAT_SECONDS),
        ENGAGE_JOBS_POLL_SECONDS="0.5",
        **{TICK_LOG_ENV: str(tick_log)},
    )
    for _ in range(2):
        schedulers.start(scheduler_env)
    with ThreadPoolExecutor(3) as pool:
        # The lead and the survey are added while the hosts start.
        prepared = pool.submit(
            run,
            [sys.executable, "-m", "tests.faults.multihost_app"],
            cwd=ROOT,
            env=server_env(own_database.url),
            input=OFFICER_PASSWORD + "\n",
            text=True,
        )
        hosts = list(
            pool.map(
                lambda _: start_server(own_database.url, workers=2, **app_env), [0, 1]
            )
        )
        added = prepared.result()
    assert added.returncode == 0, added.stderr
    needs = {**json.loads(added.stdout), "officer_email": OFFICER_EMAIL}
    conn = own_database.connect()
    first_holder = wait_for(
        lambda: lease_holder(conn),
        60,
        "a scheduler to take the lease",
        output=schedulers.output,
    )
    wait_for(
        lambda: conn.execute("SELECT count(*) FROM job_runs").fetchone()[0],
        30,
        "the first tick",
        output=schedulers.output,
    )
    probe = probe_joins(hosts, PROBE_BEFORE_KILL)

    records_path = tmp_path / "records.jsonl"
    locust_log = tmp_path / "locust.log"
    with locust_log.open("wb") as log:
        locust = subprocess.Popen(  # noqa: S603 - our fixed locust command
            [
                str(VENV_BIN / "locust"),
                "--locustfile",
                str(LOCUSTFILE),
                "--headless",
                "--users",
                str(USERS),
                "--spawn-rate",
                str(USERS),
                "--run-time",
                f"{LOAD_SECONDS}s",
                "--stop-timeout",
                "5",
                "--only-summary",
                "--loglevel",
                "WARNING",
            ],
            cwd=tmp_path,
            env={
                **locust_env(),
                "MULTIHOST_HOSTS": ",".join(h.url for h in hosts),
                "MULTIHOST_NEEDS": json.dumps(needs),
                "MULTIHOST_PASSWORD": OFFICER_PASSWORD,
                "MULTIHOST_RECORDS": str(records_path),
            },
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        time.sleep(LOAD_SECONDS * 0.4)
        # The kill: the first host's master and workers, and the active scheduler.
        killed_holder = lease_holder(conn) or first_holder
        killed_at = time.time()
        os.killpg(schedulers.by_pid(holder_pid(killed_holder)).pid, signal.SIGKILL)
        hosts[0].kill()
        probe += probe_joins(hosts[1:], JOIN_LIMIT - PROBE_BEFORE_KILL + 1)
        new_holder: str = wait_for(
            lambda: (h := lease_holder(conn)) and h != killed_holder and h,
            LEASE_SECONDS + 30,
            "the standby to take the lease",
            output=schedulers.output,
        )
        locust.wait(timeout=LOAD_SECONDS + 60)
    finally:
        if locust.poll() is None:
            locust.kill()
            locust.wait()
    # The joins the dead host's mail threads did not get to are the scheduler's now.
    wait_for(
        lambda: conn.execute("SELECT count(*) = 0 FROM mail_requests").fetchone()[0],
        30,
        "the emails asked for to be written",
        output=schedulers.output,
    )
    survivor = schedulers.by_pid(holder_pid(new_holder))
    os.killpg(survivor.pid, signal.SIGKILL)  # no more ticks while the runs are read
    survivor.wait(timeout=30)

    assert records_path.exists(), locust_log.read_text(errors="replace")[-3000:]
    records = [json.loads(line) for line in records_path.read_text().splitlines()]
    requests = [r for r in records if r["kind"] != "health"]
    by_outcome: dict[str, int] = {}
    for r in requests:
        by_outcome[r["outcome"]] = by_outcome.get(r["outcome"], 0) + 1
    acked = {
        kind: {
            r["key"] for r in requests if r["kind"] == kind and r["outcome"] == "ack"
        }
        for kind in ("POST /join", "POST /s/…")
    }
    probe_acked = {email for answer, email in probe if answer == "joined"}
    members = {row[0] for row in conn.execute("SELECT email FROM members")}
    mailed = {row[0] for row in conn.execute("SELECT to_address FROM outbox_messages")}
    answers = {
        row[0]
        for row in conn.execute(
            "SELECT text FROM survey_answers WHERE text LIKE 'mh-%'"
        )
    }
    runs = conn.execute(
        "SELECT scheduled_for, started_at, outcome, holder FROM job_runs "
        "WHERE job = 'tick' ORDER BY scheduled_for"
    ).fetchall()
    ticks = [line.split() for line in tick_log.read_text().splitlines()]
    conn.close()

    dropped = [r for r in requests if r["outcome"] == "dropped"]
    unavailable = [r for r in requests if r["outcome"] == "unavailable"]
    holders = [holder for *_, holder in runs]
    switches = sum(1 for a, b in itertools.pairwise(holders) if a != b)
    first_new_run = next(
        (started for _, started, _, holder in runs if holder == new_holder), None
    )
    takeover_s = (
        (_aware(first_new_run) - datetime.fromtimestamp(killed_at, UTC)).total_seconds()
        if first_new_run is not None
        else None
    )
    report(
        seconds=LOAD_SECONDS,
        users=USERS,
        requests=len(requests),
        outcomes=dict(sorted(by_outcome.items())),
        joins_acknowledged=len(acked["POST /join"]) + len(probe_acked),
        joins_stored=len((acked["POST /join"] | probe_acked) & members),
        answers_acknowledged=len(acked["POST /s/…"]),
        answers_stored=len(acked["POST /s/…"] & answers),
        unavailable_503=len(unavailable),
        dropped=len(dropped),
        last_drop_after_kill_s=(
            f"{max(r['t'] for r in dropped) - killed_at:.1f}" if dropped else None
        ),
        probe=[answer for answer, _ in probe],
        takeover_s=f"{takeover_s:.1f}" if takeover_s is not None else None,
        tick_runs=len(runs),
        tick_runs_by_killed=holders.count(killed_holder),
        tick_runs_by_standby=holders.count(new_holder),
    )

    bad = [r for r in requests if r["outcome"] == "bad"]
    assert not bad, (bad[:3], hosts[1].log[-3000:])
    # Only the friendly 503, and only just after the kill.
    assert all(
        killed_at <= r["t"] <= killed_at + KILL_WINDOW_SECONDS for r in unavailable
    ), unavailable[:3]
    # Requests were dropped only by the dead host, until the balancer took it out.
    assert all(r["host"] == hosts[0].url for r in dropped), dropped[:3]
    assert all(
        killed_at <= r["t"] <= killed_at + DROP_WINDOW_SECONDS for r in dropped
    ), dropped[:3]
    # Both hosts served before the kill; every kind of request worked before and after.
    served = {
        r["host"] for r in requests if r["t"] < killed_at and r["outcome"] == "ack"
    }
    assert served == {h.url for h in hosts}
    for kind in ("POST /join", "POST /s/…", "GET /members/", "GET /dashboard/"):
        worked = [
            r["t"] for r in requests if r["kind"] == kind and r["outcome"] == "ack"
        ]
        assert min(worked, default=killed_at) < killed_at < max(worked, default=0), kind

    # Every acknowledged write is stored, and every join's email was written.
    assert acked["POST /join"] | probe_acked <= members
    assert acked["POST /join"] | probe_acked <= mailed
    assert acked["POST /s/…"] <= answers

    # The join limit counted across both hosts, and outlived the one that died.
    assert [answer for answer, _ in probe] == ["joined"] * JOIN_LIMIT + ["429"]
    assert redis_keys(redis_prefix) > 0, "no rate-limit counts in Redis"

    # One scheduler at a time: the killed one until the kill, then the standby.
    assert holder_pid(killed_holder) != holder_pid(new_holder)
    assert holders[0] == killed_holder
    assert holders[-1] == new_holder
    assert switches == 1, holders
    assert len({scheduled for scheduled, *_ in runs}) == len(runs)
    assert takeover_s is not None
    assert takeover_s <= LEASE_SECONDS + 6
    # Each run of the job happened once, in the scheduler that recorded it, and no
    # two ran at the same time.
    started = {(_aware(s), holder_pid(h)): outcome for _, s, outcome, h in runs}
    seen = [(datetime.fromisoformat(now), int(pid)) for pid, now, *_ in ticks]
    assert len(set(seen)) == len(seen), "a run of the job was done twice"
    assert all(key in started for key in seen), "a run nobody recorded"
    assert {k for k, outcome in started.items() if outcome == "ok"} <= set(seen)
    spans = sorted((float(began), float(ended)) for *_, began, ended in ticks)
    assert all(b[0] >= a[1] for a, b in itertools.pairwise(spans))

    # The surviving host never stopped: the same master and workers throughout.
    assert hosts[1].process.poll() is None
    assert "Traceback" not in hosts[1].log, hosts[1].log[-3000:]


def _aware(moment: datetime) -> datetime:
    """A timestamp read from the database (UTC, stored without a zone) as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
