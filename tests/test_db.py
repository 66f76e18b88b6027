"""SQLite write transactions: ``begin_write`` waits for the write lock in small steps.

These run on a file of their own (not the suite's database) because they hold the
write lock from a second, raw connection; the last, on the suite's database, shows
where a read phase ends on each engine (``write_after_read``).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy import create_engine
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from engage import db as engage_db
from engage.db import begin_write
from engage.db import write_after_read
from engage.extensions import db


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Iterator[tuple[Engine, Path]]:
    path = tmp_path / "lock.sqlite"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
    yield engine, path
    engine.dispose()


def _hold_write_lock(path: Path, seconds: float, held: threading.Event) -> None:
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO t (v) VALUES ('other')")
    held.set()
    time.sleep(seconds)
    other.execute("COMMIT")
    other.close()


def _busy_timeout(session: Session) -> int:
    return int(session.execute(text("PRAGMA busy_timeout")).scalar_one())


def test_begin_write_waits_for_another_writer_then_writes(
    sqlite_file: tuple[Engine, Path],
) -> None:
    engine, path = sqlite_file
    held = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(path, 0.3, held))
    holder.start()
    held.wait(5)
    started = time.monotonic()
    with Session(engine) as session:
        begin_write(session)
        waited = time.monotonic() - started
        # The other writer's row is visible: this transaction began after its commit.
        assert session.execute(text("SELECT v FROM t")).scalars().all() == ["other"]
        session.execute(text("INSERT INTO t (v) VALUES ('mine')"))
        session.commit()
        # The connection's own busy time-out is back for later statements.
        assert _busy_timeout(session) == engage_db._sqlite_settings["busy_timeout_ms"]
    holder.join()
    assert waited >= 0.2
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 2


def test_begin_write_gives_up_after_the_busy_timeout(
    sqlite_file: tuple[Engine, Path],
) -> None:
    engine, path = sqlite_file
    settings = dict(engage_db._sqlite_settings)
    engage_db.configure_sqlite(busy_timeout_ms=200, synchronous="FULL")
    held = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(path, 1.5, held))
    holder.start()
    held.wait(5)
    try:
        with Session(engine) as session:
            started = time.monotonic()
            with pytest.raises(OperationalError, match="locked"):
                begin_write(session)
            waited = time.monotonic() - started
            session.rollback()
            assert 0.2 <= waited < 1.4  # gave up before the other writer finished
            assert _busy_timeout(session) == 200
    finally:
        engage_db.configure_sqlite(**settings)
        holder.join()


def test_is_busy_knows_sqlite_busy_and_its_extended_codes() -> None:
    def error(code: int) -> sqlite3.OperationalError:
        failure = sqlite3.OperationalError("database is locked")
        failure.sqlite_errorcode = code
        return failure

    assert engage_db.is_busy(error(sqlite3.SQLITE_BUSY))
    assert engage_db.is_busy(error(261))  # SQLITE_BUSY_RECOVERY: WAL replay
    assert engage_db.is_busy(error(773))  # SQLITE_BUSY_TIMEOUT
    assert not engage_db.is_busy(error(sqlite3.SQLITE_ERROR))
    assert not engage_db.is_busy(error(sqlite3.SQLITE_LOCKED))
    assert not engage_db.is_busy(sqlite3.OperationalError("no such table"))
    assert not engage_db.is_busy(None)


def test_write_after_read_ends_the_read_on_sqlite_only() -> None:
    # On the suite's database (either engine): SQLite begins the writes afresh, so
    # its write lock is held for them alone; PostgreSQL goes on in the same
    # transaction (no rollback, no second check-out of a pooled connection).
    session = db.session()
    session.execute(text("SELECT 1"))
    reading = session.connection()
    write_after_read(session)
    assert session.in_transaction()
    same = session.connection() is reading
    assert same is (db.engine.dialect.name != "sqlite")
    session.rollback()


def test_postgresql_plans_are_not_compiled_just_in_time() -> None:
    """JIT compiling slowed the dashboard's grouped queries for no gain."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("a PostgreSQL setting")
    assert db.session.execute(text("SHOW jit")).scalar() == "off"
    # The test configuration's synchronous_commit rides along with it.
    assert db.session.execute(text("SHOW synchronous_commit")).scalar() == "off"
