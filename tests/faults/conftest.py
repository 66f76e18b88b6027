"""Load and fault tests (docs/security.md F1–F5): real servers, real kills, real disks.

Every test here is marked ``slow`` (``make test-slow``). Servers are gunicorn
subprocesses bound to 127.0.0.1 port 0, each in its own process group so a fixture can
kill the whole group (``kill -9``) even when the test fails. Clients are plain
``urllib`` sessions with their own cookies: they fetch the join form once and send its
CSRF token, as a browser does, so the server runs with production CSRF settings. Only
rate limits are switched off (``ENGAGE_RATELIMIT_ENABLED=false``): the tests send far
more sign-ups from one address than the per-hour limit allows.

Durations come from the environment so CI stays in budget and a longer soak run is one
variable away: ``ENGAGE_LOAD_SECONDS`` (F5, default 120), ``ENGAGE_LOAD_USERS``
(default 50) and ``ENGAGE_FAULT_SECONDS`` (load before each kill in F1–F3, default 4).
"""

from __future__ import annotations

import contextlib
import http.client
import http.cookiejar
import itertools
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
SECRET_KEY = "fault-tests-secret-key-" + "x" * 20
OFFICER_EMAIL = "officer@example.com"
OFFICER_PASSWORD = "correct horse battery staple"
PG_BIN = Path(os.environ.get("ENGAGE_PG_BIN", "/usr/lib/postgresql/15/bin"))
RUNUSER = shutil.which("runuser") or "/usr/sbin/runuser"

#: The page a successful public sign-up ends on (shown only after COMMIT).
JOINED = "<h1>Check your email</h1>"
#: The friendly 503 page (engage.http.ERROR_PAGES).
UNAVAILABLE = "Sorry, the service is unavailable"


def env_number(name: str, default: float) -> float:
    """A duration or count from the environment (CI keeps the defaults)."""
    value = os.environ.get(name)
    return float(value) if value else default


FAULT_SECONDS = env_number("ENGAGE_FAULT_SECONDS", 4)


# Figures ------------------------------------------------------------------------------

#: ``report(acknowledged=…, lost=…)``: print a test's figures (see ``report``).
Report = Callable[..., None]


@pytest.fixture
def report(request: pytest.FixtureRequest) -> Report:
    """Record a test's figures; they are printed at the end of the run (and now).

    They go with the test's report (``user_properties``, printed by the summary in
    tests/conftest.py), so a run in several processes (``-n``) prints them too.
    """

    def _report(**figures: Any) -> None:
        text = ", ".join(f"{k}={v}" for k, v in figures.items())
        line = f"{request.node.name}: {text}"
        request.node.user_properties.append(("figures", line))
        print(f"\n[figures] {line}", flush=True)

    return _report


# Databases ----------------------------------------------------------------------------


def server_env(database_url: str, **extra: str) -> dict[str, str]:
    """Environment for the app under test (production-like, rate limits off)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("ENGAGE_") and k != "TMPDIR"
    }
    env.update(
        ENGAGE_DATABASE_URL=database_url,
        ENGAGE_SECRET_KEY=SECRET_KEY,
        ENGAGE_RATELIMIT_ENABLED="false",
        ENGAGE_BASE_URL="http://127.0.0.1",
        ENGAGE_LOG_LEVEL="WARNING",
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.update(extra)
    return env


def locust_env() -> dict[str, str]:
    """The environment for locust: no ENGAGE_* settings of the test run leak in."""
    return {k: v for k, v in os.environ.items() if not k.startswith("ENGAGE_")}


def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[Any]:
    """Run a fixed command built by these tests (no outside input)."""
    return subprocess.run(command, capture_output=True, **kwargs)  # noqa: S603


def prepare_database(database_url: str) -> None:
    """Migrate ``database_url`` to head and add one officer (the real CLI)."""
    env = server_env(database_url)
    flask = [str(VENV_BIN / "flask"), "--app", "wsgi"]
    run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True)
    run(
        [*flask, "create-user", OFFICER_EMAIL, "--role", "officer", "--password-stdin"],
        cwd=ROOT,
        env=env,
        input=OFFICER_PASSWORD + "\n",
        text=True,
        check=True,
    )


def sqlite_members(path: Path) -> dict[str, int]:
    """Email → number of consent records, read straight from the database file."""
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT m.email, (SELECT count(*) FROM consent_records c "
            "WHERE c.member_id = m.id) FROM members m"
        ).fetchall()
    return {email: int(consents) for email, consents in rows}


def sqlite_duplicates(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(
            conn.execute(
                "SELECT count(*) - count(DISTINCT email) FROM members"
            ).fetchone()[0]
        )


def integrity_check(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


@pytest.fixture
def sqlite_db(tmp_path: Path) -> tuple[str, Path]:
    """A migrated SQLite database file (WAL mode is set on every connection)."""
    path = tmp_path / "engage.sqlite"
    url = f"sqlite:///{path}"
    prepare_database(url)
    return url, path


# Servers ------------------------------------------------------------------------------


@dataclass
class Server:
    """A gunicorn process group serving Engage on loopback."""

    process: subprocess.Popen[bytes]
    log_path: Path
    url: str = ""

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def worker_pids(self) -> list[int]:
        """The master's live worker processes."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[1]) == self.process.pid and fields[0] != "Z":
                found.append(int(entry.name))
        return sorted(found)

    def stop(self) -> None:
        """Shut down gracefully (SIGTERM); SQLite checkpoints the WAL on last close."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=60)

    def kill(self) -> None:
        """kill -9 the master and its workers at once (a crash, not a shutdown)."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        # Orphaned workers (if any survived the group kill) die on their own: wait.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _group_alive(self.process.pid):
            time.sleep(0.05)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


ServerFactory = Callable[..., Server]


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[ServerFactory]:
    """Start gunicorn servers; every one is killed at teardown, pass or fail."""
    started: list[Server] = []
    counter = itertools.count()

    def _start(
        database_url: str, *, workers: int = 2, timeout: int = 30, **env: str
    ) -> Server:
        log_path = tmp_path / f"gunicorn-{next(counter)}.log"
        command = [
            str(VENV_BIN / "gunicorn"),
            "--bind",
            "127.0.0.1:0",
            "--workers",
            str(workers),
            "--timeout",
            str(timeout),
            "--graceful-timeout",
            "5",
            "--no-control-socket",
            "--worker-tmp-dir",
            str(tmp_path),
            "--chdir",
            str(ROOT),
            "wsgi:app",
        ]
        with log_path.open("wb") as log:
            # cwd is the temp dir, so a gunicorn.conf.py in the checkout is not read:
            # these tests set every option they rely on.
            process = subprocess.Popen(  # noqa: S603 - our fixed gunicorn command
                command,
                cwd=tmp_path,
                env=server_env(database_url, **env),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        server = Server(process, log_path)
        started.append(server)
        deadline = time.monotonic() + 60
        while not server.url:
            match = re.search(r"Listening at: (http://127\.0\.0\.1:\d+)", server.log)
            if match:
                server.url = match.group(1)
            elif process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start:\n{server.log}")
            else:
                time.sleep(0.05)
        wait_until_serving(server, workers=workers)
        return server

    yield _start
    for server in started:
        server.kill()


def wait_until_serving(server: Server, *, workers: int, limit: float = 60) -> None:
    """Wait until every worker has booted and a page is served."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{server.log}")
        if len(server.worker_pids()) >= workers:
            try:
                status, _ = Browser(server.url).get("/join")
            except OSError:
                status = 0
            if status == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not serve within {limit} s:\n{server.log}")


# Clients ------------------------------------------------------------------------------

_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Browser:
    """One visitor: a cookie jar, no redirects followed, a timeout on every request.

    ``headers`` go with every request (``X-Forwarded-For``: where a proxy says the
    visitor is).
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 30,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.base_url = base_url
        self.timeout = timeout
        self.headers = dict(headers or {})
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect()
        )
        self.csrf_token = ""

    def request(self, path: str, data: dict[str, Any] | None = None) -> tuple[int, str]:
        """(status, body); raises OSError when the connection fails or drops."""
        status, content = self.request_bytes(path, data)
        return status, content.decode("utf-8", "replace")

    def request_bytes(
        self, path: str, data: dict[str, Any] | None = None
    ) -> tuple[int, bytes]:
        """(status, raw body); raises OSError when the connection fails or drops."""
        body = None
        if data is not None:
            body = urllib.parse.urlencode(data, doseq=True).encode()
        req = urllib.request.Request(  # noqa: S310 - loopback test server
            self.base_url + path, data=body, headers=self.headers
        )
        try:
            with self.opener.open(req, timeout=self.timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.read()
        except http.client.HTTPException as error:
            # The server died mid-answer (IncompleteRead, BadStatusLine): a drop.
            raise ConnectionError(str(error)) from error

    def get(self, path: str) -> tuple[int, str]:
        return self.request(path)

    def fetch_token(self, path: str = "/join") -> None:
        """Open a form page and keep its CSRF token (and the session cookie)."""
        status, text = self.get(path)
        match = _CSRF.search(text)
        if status != 200 or not match:
            raise OSError(f"no form on {path} (HTTP {status})")
        self.csrf_token = match.group(1)

    def join(self, email: str, *, name: str = "Sam Jones") -> tuple[int, str]:
        """Send the public join form (email consent only)."""
        if not self.csrf_token:
            self.fetch_token()
        return self.request("/join", join_form(email, self.csrf_token, name=name))

    def login(
        self, email: str = OFFICER_EMAIL, password: str = OFFICER_PASSWORD
    ) -> None:
        self.fetch_token("/login")
        status, _ = self.request(
            "/login",
            {"email": email, "password": password, "csrf_token": self.csrf_token},
        )
        if status != 302:
            raise AssertionError(f"officer login failed (HTTP {status})")


def join_form(
    email: str, csrf_token: str, *, name: str = "Sam Jones"
) -> dict[str, Any]:
    return {
        "csrf_token": csrf_token,
        "name": name,
        "email": email,
        "phone": "",
        "address": "",
        "postcode": "LS1 4AP",
        "practice": "",
        "tier": "silver",
        "consents": ["email"],
        "support_other": "",
        "website": "",
    }


@dataclass
class Outcomes:
    """What the clients saw, shared between client threads."""

    acknowledged: set[str] = field(default_factory=set)
    statuses: dict[int, int] = field(default_factory=dict)
    dropped: int = 0
    bad_pages: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def saw(self, status: int) -> None:
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1

    def ack(self, email: str) -> None:
        with self.lock:
            self.acknowledged.add(email)

    def drop(self) -> None:
        with self.lock:
            self.dropped += 1

    def bad(self, text: str) -> None:
        with self.lock:
            self.bad_pages.append(text[:2000])


def classify(outcomes: Outcomes, email: str, status: int, text: str) -> bool:
    """Record one /join answer; True when it acknowledged the sign-up.

    Anything but the success page or the friendly 503 page is kept as a bad page.
    """
    outcomes.saw(status)
    if status == 200 and JOINED in text:
        outcomes.ack(email)
        return True
    if status == 503 and UNAVAILABLE in text and "Traceback" not in text:
        return False
    outcomes.bad(f"HTTP {status}: {text}")
    return False


_EMAILS = itertools.count()


def unique_email(prefix: str) -> str:
    return f"{prefix}-{os.getpid()}-{next(_EMAILS)}@example.com"


# PostgreSQL ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PgCluster:
    """A throwaway PostgreSQL cluster owned by this test run (never the shared one)."""

    data_dir: Path
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/engage"

    def pg_ctl(
        self, *args: str, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        options = (
            f"-p {self.port} -k {self.data_dir.parent} "
            "-c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=40"
        )
        return run(
            [
                RUNUSER,
                "-u",
                "postgres",
                "--",
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_path),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                *args,
            ],
            check=check,
            text=True,
        )

    def psql(self, sql: str, database: str = "postgres") -> str:
        result = run(
            [
                str(PG_BIN / "psql"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                database,
                "-At",
                "-c",
                sql,
            ],
            check=True,
            text=True,
        )
        return str(result.stdout)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """initdb + pg_ctl start a private cluster on a free loopback port."""
    if not (PG_BIN / "initdb").exists():
        pytest.skip(f"PostgreSQL server binaries not found in {PG_BIN}")
    if shutil.which("runuser") is None or os.geteuid() != 0:
        pytest.skip("needs root and runuser to run initdb as the postgres user")
    base = Path(tempfile.mkdtemp(prefix="engage-faults-pg-"))
    shutil.chown(base, "postgres", "postgres")
    cluster = PgCluster(base / "data", free_port(), base / "postgres.log")
    try:
        run(
            [
                RUNUSER,
                "-u",
                "postgres",
                "--",
                str(PG_BIN / "initdb"),
                "-D",
                str(cluster.data_dir),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
            ],
            check=True,
        )
        cluster.pg_ctl("start")
        cluster.psql("CREATE DATABASE engage")
        prepare_database(cluster.url)
        yield cluster
    finally:
        cluster.pg_ctl("stop", "-m", "immediate", check=False)
        shutil.rmtree(base, ignore_errors=True)


def pg_members(cluster: PgCluster) -> dict[str, int]:
    """Email → number of consent records, read with psql."""
    out = cluster.psql(
        "SELECT m.email, (SELECT count(*) FROM consent_records c "
        "WHERE c.member_id = m.id) FROM members m",
        database="engage",
    )
    counts: dict[str, int] = {}
    for line in out.splitlines():
        email, consents = line.split("|")
        counts[email] = int(consents)
    return counts


def pg_duplicates(cluster: PgCluster) -> int:
    out = cluster.psql(
        "SELECT count(*) - count(DISTINCT email) FROM members", database="engage"
    )
    return int(out.strip())


def pg_reset(cluster: PgCluster) -> None:
    """Empty the member tables between tests that share the cluster."""
    cluster.psql(
        "TRUNCATE members, outbox_messages, audit_events RESTART IDENTITY CASCADE",
        database="engage",
    )


# Either engine ------------------------------------------------------------------------


@dataclass
class Database:
    """A database the server under test writes to, and how to read it back."""

    kind: str
    url: str
    members: Callable[[], dict[str, int]]
    duplicates: Callable[[], int]


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Database:
    """A migrated, empty database on SQLite (temp file) or the private PG cluster."""
    if request.param == "sqlite":
        path = tmp_path / "engage.sqlite"
        url = f"sqlite:///{path}"
        prepare_database(url)
        return Database(
            "sqlite", url, lambda: sqlite_members(path), lambda: sqlite_duplicates(path)
        )
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    pg_reset(cluster)
    return Database(
        "postgresql",
        cluster.url,
        lambda: pg_members(cluster),
        lambda: pg_duplicates(cluster),
    )
