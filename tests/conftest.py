"""Shared fixtures: one app and schema per run, a clean database for every test."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete
from sqlalchemy import exists
from sqlalchemy import func
from sqlalchemy import literal
from sqlalchemy import select
from sqlalchemy import union_all

from engage import create_app
from engage.db import begin_write
from engage.extensions import db
from engage.extensions import limiter
from engage.mail.delivery import wait_for_deliveries
from engage.organisation.services import forget_identity
from tests import clock
from tests import factories


def _worker_database(url: str) -> str:
    """The database this process tests on: under pytest-xdist, one per worker.

    ``…/test`` becomes ``…/test_gw0`` for worker gw0, made on first use (the
    server's ``test`` database stays the base), so workers never share rows.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not url or not worker:
        return url
    from sqlalchemy import create_engine
    from sqlalchemy import text

    base, name = url.rsplit("/", 1)
    own = f"{name}_{worker}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": own}
        )
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{own}"'))
    admin.dispose()
    return f"{base}/{own}"


DATABASE_URL = _worker_database(os.environ.get("ENGAGE_TEST_DATABASE_URL") or "")


#: Where ENGAGE_TEST_CLOCK started the run (tests/clock.py), if it is set.
_CLOCK = pytest.StashKey[datetime | None]()


def pytest_configure(config: pytest.Config) -> None:
    # Before any test module is imported, so module-level dates move too.
    config.stash[_CLOCK] = clock.start_from_environment()
    _cheap_password_hashing()


#: The longest tests (the walker's, a minute or more each; then the browser
#: journeys): started first, so that across several processes they run beside the
#: rest rather than after it, alone, at the end of the run.
_LONGEST_FIRST = ("tests/test_walker.py", "tests/browser/")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        for place, prefix in enumerate(_LONGEST_FIRST):
            if item.nodeid.startswith(prefix):
                return place
        return len(_LONGEST_FIRST)

    items.sort(key=rank)  # stable: the order within each group stays


def _cheap_password_hashing() -> None:
    """argon2id with the smallest cost, in this process only (not in the servers
    the fault and deployment tests start): a sign-in costs ~1 ms instead of ~100,
    and the suite signs in hundreds of times. The hashes are still argon2id."""
    from argon2 import PasswordHasher

    from engage.accounts import passwords

    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    passwords._DUMMY_HASH = passwords._hasher.hash("engage-dummy-password-for-timing")


def pytest_unconfigure(config: pytest.Config) -> None:
    clock.stop()


def pytest_report_header(config: pytest.Config) -> str:
    started = config.stash.get(_CLOCK, None)
    if started is None:
        return "clock: real time"
    return (
        f"clock: {clock.ENVIRONMENT_VARIABLE} starts the run at "
        f"{started:%A %d %B %Y %H:%M} UTC"
    )


def pytest_terminal_summary(terminalreporter: Any) -> None:
    # Figures tests record with record_property: the walker's ("walker", …) and the
    # load and fault tests' ("figures", …), shown after the run. They travel with
    # the reports, so a run in several processes (-n) shows them too.
    recorded: dict[str, list[str]] = {"walker": [], "figures": []}
    for report in terminalreporter.getreports("passed") + terminalreporter.getreports(
        "failed"
    ):
        for name, value in getattr(report, "user_properties", ()):
            if name in recorded and report.when == "call":
                recorded[name].append(str(value))
    for line in recorded["walker"]:
        terminalreporter.write_line(f"walker: {line}")
    if recorded["figures"]:
        terminalreporter.section("load and fault test figures")
        for line in recorded["figures"]:
            terminalreporter.write_line(line)


#: Files the app writes outside the database (erasure ledger, backups) go here.
TEST_FILES = Path(tempfile.mkdtemp(prefix="engage-test-files-"))


def make_test_config(database_url: str) -> dict[str, Any]:
    """The configuration every test app uses (tests may change app.config in place)."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        # Durability is tested by the fault tests (their servers keep the defaults);
        # the unit suite needs speed.
        "SQLITE_SYNCHRONOUS": "NORMAL",
        "POSTGRESQL_SYNCHRONOUS_COMMIT": "off",
        "BASE_URL": "http://engage.test",
        "ERASURE_LEDGER": str(TEST_FILES / "erasures.log"),
        "BACKUP_DIR": str(TEST_FILES / "backups"),
    }


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    if DATABASE_URL:
        return DATABASE_URL
    # A file, not :memory:, so live-server threads and the test share one database.
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'engage-test.sqlite'}"


class IsolatedClient(FlaskClient):
    """A test client whose every request gets its own app context, as in production.

    Flask reuses an app context that is already pushed (the test's own), which would
    share ``g`` (Flask-Login's cached user) and the database session between the test
    and its requests.

    The test's own session is committed before each request (ending its read snapshot,
    which on SQLite would otherwise make its next write fail) and expired afterwards, so
    the test reads what the request wrote.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        db.session.commit()
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        db.session.expire_all()
        return response


@pytest.fixture(scope="session")
def app(database_url: str) -> Iterator[Flask]:
    app = create_app(make_test_config(database_url))
    app.test_client_class = IsolatedClient
    with app.app_context():
        db.drop_all()
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()
    shutil.rmtree(TEST_FILES, ignore_errors=True)


#: What an app built by ``make_app`` changes on the global limiter.
_LIMITER_STATE = (
    "_storage",
    "_limiter",
    "_storage_dead",
    "_fallback_storage",
    "_fallback_limiter",
)


@pytest.fixture
def make_app(database_url: str) -> Iterator[Callable[..., Flask]]:
    """Build extra apps (production settings, a second worker); close their pools."""
    made: list[Flask] = []
    # Flask-Limiter keeps its storage (and whether it has fallen back to counting in
    # memory) on the one global instance: put ours back after.
    saved_limiter = {name: getattr(limiter, name, None) for name in _LIMITER_STATE}

    def _make(config: dict[str, Any] | None = None, **overrides: Any) -> Flask:
        built = create_app(
            config
            if config is not None
            else {**make_test_config(database_url), **overrides}
        )
        made.append(built)
        return built

    yield _make
    # The test's own session lends itself to whichever app is current: an object it
    # loaded lazily while a built app's context was pushed holds a connection from
    # that app's pool. Hand it back before the pool goes, or it is left open.
    db.session.close()
    for built in made:
        with built.app_context():
            db.session.remove()
            for engine in db.engines.values():
                engine.dispose()
    for name, value in saved_limiter.items():
        setattr(limiter, name, value)


@pytest.fixture(autouse=True)
def _app_context(app: Flask) -> Iterator[None]:
    """Each test runs in an app context, with a clean database and config afterwards."""
    saved_config = dict(app.config)
    with app.app_context():
        yield
        # Background mail senders write to the outbox: let them finish before cleaning.
        wait_for_deliveries()
        db.session.rollback()
        _empty_tables()
        db.session.commit()
        db.session.remove()
    app.config.clear()
    app.config.update(saved_config)
    limiter.reset()
    with app.app_context():
        forget_identity()  # the next test's organisation may differ


def _empty_tables() -> None:
    """Delete every row, children first: one query finds the tables a test filled
    (most fill a handful of the ninety-odd), then only those are emptied. On
    PostgreSQL the deletes go as one statement list in one round trip."""
    tables = list(reversed(db.metadata.sorted_tables))
    # The write lock first (on SQLite): a read that turns into a write fails at
    # once, without waiting, if another connection wrote in between.
    begin_write(db.session())
    filled = db.session.scalars(
        union_all(
            *(
                select(literal(place)).where(exists(select(literal(1)).select_from(t)))
                for place, t in enumerate(tables)
            )
        )
    ).all()
    tables = [tables[place] for place in sorted(filled)]
    if not tables:
        return
    if db.engine.dialect.name == "postgresql":
        db.session.connection().exec_driver_sql(
            # The names are our own tables' (the models'), not input.
            "; ".join(f'DELETE FROM "{table.name}"' for table in tables)  # noqa: S608
        )
        return
    for table in tables:
        db.session.execute(delete(table))


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def login(client: FlaskClient) -> Callable[..., Any]:
    """Sign a user in through the real login form (and code step, if they have one)."""

    def _login(user: Any, password: str = factories.DEFAULT_PASSWORD) -> Any:
        # Completes the two-factor step for users who have it (all admins).
        response = factories.sign_in(client, user, password)
        assert response.status_code == 302, "login failed"
        return response

    return _login


@pytest.fixture
def cast() -> dict[str, Any]:
    """One active user per role and a deactivated officer (a cast, as Healthchecks)."""
    return {
        "admin": factories.UserFactory(role="admin", name="Alice Admin"),
        "officer": factories.UserFactory(role="officer", name="Owen Officer"),
        "lead": factories.UserFactory(role="lead", name="Lena Lead"),
        "inactive": factories.UserFactory(
            role="officer", is_active=False, name="Ian Inactive"
        ),
    }


#: The demo data set as each table's rows, once this process has loaded it.
_demo_snapshot: Any = None


@pytest.fixture
def demo(app: Flask) -> None:
    """The demo data set (``engage.demo``), loaded once in each test process and put
    back, row for row, for each test that asks: loading it takes seconds, putting it
    back a fraction of one. Ask for it before anything that adds rows (``cast``).
    Tests of loading itself call ``load_demo``."""
    from engage.accounts.models import User
    from engage.clock import utcnow
    from engage.demo import load_demo
    from tests import walker

    global _demo_snapshot
    if db.session.scalar(select(func.count()).select_from(User)):
        pytest.fail("ask for `demo` before fixtures that add rows, such as `cast`")
    if _demo_snapshot is None:
        load_demo(now=utcnow())
        _demo_snapshot = walker.Snapshot()
    else:
        _demo_snapshot.restore(whole=True)


@pytest.fixture
def outbox() -> Callable[[], list[Any]]:
    """Read the mail outbox (no SMTP server configured in tests by default)."""
    from engage.mail.services import list_outbox

    def _read() -> list[Any]:
        # E-mails asked for by address are written after the response, by a thread.
        wait_for_deliveries()
        db.session.rollback()
        return list(reversed(list_outbox()))

    return _read


ROOT = Path(__file__).resolve().parent.parent


def wait_for(
    predicate: Callable[[], Any],
    timeout: float,
    what: str,
    *,
    output: Callable[[], str] | None = None,
    before_each: Callable[[], object] | None = None,
) -> Any:
    """Poll ``predicate`` until it is truthy and return its value, or fail the test.

    ``before_each`` runs before every try (a rollback, to read a new snapshot);
    ``output`` gives the logs to show when it fails (of the processes waited for).
    """
    deadline = time.monotonic() + timeout
    while True:
        if before_each is not None:
            before_each()
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            logs = f"\n{output()}" if output is not None else ""
            pytest.fail(f"timed out after {timeout} s waiting for {what}{logs}")
        time.sleep(0.2)


def without_request_values(text: str) -> str:
    """A page with what differs on every request blanked out: the CSP nonce, the
    CSRF token and the seconds left before a signed-in page signs out."""
    import re

    text = re.sub(r'nonce="[^"]+"', 'nonce=""', text)
    text = re.sub(r'name="csrf_token"[^>]*value="[^"]+"', 'name="csrf_token"', text)
    return re.sub(r'data-seconds-left="\d+"', 'data-seconds-left=""', text)


def comparable(response: Any, *replace: str) -> str:
    """A response body with per-request values blanked out (see
    ``without_request_values``), and each of ``replace`` too."""
    text = without_request_values(response.get_data(as_text=True))
    for value in replace:
        text = text.replace(value, "X")
    return text


class _SmtpHandler:
    """An aiosmtpd handler keeping each received message."""

    def __init__(self) -> None:
        self.received: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        from email import message_from_bytes
        from email import policy

        self.received.append(
            message_from_bytes(envelope.content, policy=policy.default)
        )
        return "250 Message accepted for delivery"


class _SmtpSink:
    """The messages a test SMTP server received.

    Mail leaves after commit in a background thread: reading ``messages`` first waits
    (with a time-out) for the senders started so far.
    """

    def __init__(self, handler: _SmtpHandler) -> None:
        self.handler = handler

    @property
    def messages(self) -> list[Any]:
        wait_for_deliveries(timeout=30)
        return self.handler.received


@pytest.fixture
def smtp_server(app: Flask) -> Iterator[_SmtpSink]:
    """A real SMTP server on loopback; the app is pointed at it for this test."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = _SmtpHandler()
    sink = _SmtpSink(handler)
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{port}"
    try:
        yield sink
    finally:
        wait_for_deliveries()
        controller.stop()
