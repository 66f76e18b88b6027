"""Database base class, naming convention, time helpers and SQLite settings."""

from __future__ import annotations

import enum
import itertools
import sqlite3
import time
from datetime import UTC
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy import Engine
from sqlalchemy import Enum
from sqlalchemy import MetaData
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import Session
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import registry
from sqlalchemy.types import TypeDecorator

from engage.clock import utcnow

#: Stable constraint names, so Alembic migrations name the same thing on every engine.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as naive UTC and always read back as an aware UTC datetime.

    SQLite has no time zones and PostgreSQL's ``timestamp with time zone`` would
    behave differently; storing naive UTC keeps both engines identical.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(
        self, value: datetime | None, dialect: Any
    ) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use engage.clock.utcnow()")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(
        self, value: datetime | None, dialect: Any
    ) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def str_enum(cls: type[enum.Enum], *, length: int = 20) -> Enum:
    """A column type storing an enum's values as plain strings (no database enum type).

    Adding a member later needs no migration, and SQLite and PostgreSQL behave alike.
    """
    return Enum(
        cls,
        native_enum=False,
        length=length,
        values_callable=lambda e: [m.value for m in e],
    )


class Base(DeclarativeBase):
    """Declarative base for every Engage model."""

    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


class TimestampMixin:
    """Created/updated timestamps, set by callables (never a value frozen at import)."""

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


#: Filled from app config before the first connection (see ``configure_sqlite``).
_sqlite_settings: dict[str, Any] = {"busy_timeout_ms": 5000, "synchronous": "FULL"}


def configure_sqlite(*, busy_timeout_ms: int, synchronous: str) -> None:
    """Set the pragmas applied to every new SQLite connection."""
    if synchronous.upper() not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
        raise ValueError(f"unknown SQLite synchronous mode: {synchronous!r}")
    _sqlite_settings.update(
        busy_timeout_ms=busy_timeout_ms, synchronous=synchronous.upper()
    )


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # SQLAlchemy's "begin" hook below emits BEGIN itself (pysqlite's is deferred).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {int(_sqlite_settings['busy_timeout_ms'])}")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute(f"PRAGMA synchronous = {_sqlite_settings['synchronous']}")
    cursor.close()


#: Execution option asking for ``BEGIN IMMEDIATE`` on SQLite (see ``begin_write``).
SQLITE_IMMEDIATE = "engage_sqlite_immediate"


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(conn: Connection) -> None:
    if conn.dialect.name != "sqlite":
        return
    # A unit of work that will write takes the write lock up front (BEGIN IMMEDIATE), so
    # a read-then-write transaction waits on busy_timeout instead of failing with
    # "database is locked" when another writer committed in between (Django 5.1 and
    # Rails 7.1 made the same choice). Reads stay deferred: in WAL mode they never
    # block writers.
    if conn.get_execution_options().get(SQLITE_IMMEDIATE, False):
        _begin_immediate(conn)
    else:
        conn.exec_driver_sql("BEGIN")


def is_busy(error: BaseException | None) -> bool:
    """Whether ``error`` is SQLite's "database is locked" (SQLITE_BUSY or a variant).

    The driver gives extended codes, such as SQLITE_BUSY_RECOVERY while another
    connection replays the WAL after a crash; the low byte is the primary code.
    """
    code = getattr(error, "sqlite_errorcode", None)
    return isinstance(code, int) and code & 0xFF == sqlite3.SQLITE_BUSY


#: Waits between tries for the SQLite write lock: short at first, then capped.
_LOCK_WAITS = (0.0002, 0.0005, 0.001, 0.002)


def _begin_immediate(conn: Connection) -> None:
    """``BEGIN IMMEDIATE``, waiting for the write lock in steps of at most 2 ms.

    SQLite's own busy handler sleeps 1, 2, 5, 10, 15, 20, 25 … ms between tries, so a
    writer queued behind a 5 ms transaction often sleeps on for tens of milliseconds
    after the lock is free; with several web workers that idles them and cuts the
    throughput of a write-heavy page such as /join. Trying again in small steps, up to
    the same busy time-out, takes the lock soon after it is released. The first and
    last tries go through SQLAlchemy (so a time-out still raises its OperationalError,
    shown as a 503 page); the ones between are cheap calls on the driver.
    """
    raw = conn.connection.dbapi_connection
    if not isinstance(raw, sqlite3.Connection):  # pragma: no cover - pysqlite only
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        return
    timeout_ms = int(_sqlite_settings["busy_timeout_ms"])
    deadline = time.monotonic() + timeout_ms / 1000
    raw.execute("PRAGMA busy_timeout = 0")
    try:
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            return
        except OperationalError as error:
            if not is_busy(error.orig):
                raise
        for wait in itertools.chain(_LOCK_WAITS, itertools.repeat(_LOCK_WAITS[-1])):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            time.sleep(min(wait, left))
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if not is_busy(error):
                    raise
        conn.exec_driver_sql("BEGIN IMMEDIATE")  # the last try: raises if still busy
    finally:
        raw.execute(f"PRAGMA busy_timeout = {timeout_ms}")


def begin_write(session: Session) -> None:
    """Start the session's transaction as a write transaction (no-op if one is open)."""
    if not session.in_transaction():
        session.connection(execution_options={SQLITE_IMMEDIATE: True})


def write_after_read(session: Session) -> None:
    """Go from a request's read phase (look-ups, checks) on to its write phase.

    On SQLite the read transaction ends first, so that the database-wide write lock
    is taken for the writes alone (``begin_write``) and concurrent requests queue
    only for each other's writes. PostgreSQL locks rows, not the database, so there
    the transaction simply goes on: ending it would only cost a round trip, and
    another to check the pooled connection when the writes take it again.
    """
    if session.get_bind().dialect.name == "sqlite":
        session.rollback()
    begin_write(session)


def added_once(session: Session, row: object) -> bool:
    """Add ``row`` and write it at once, in a savepoint; False, with nothing written,
    when a unique constraint says it is there already (another request, the same
    form sent twice at once, got there first)."""
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        return False
    return True


def first_write_refused(session: Session, row: object) -> IntegrityError | None:
    """Add ``row`` as its write transaction's first write and write it at once; the
    error when a constraint refuses it (a unique one: another request got there
    first), with that transaction rolled back and a new write transaction begun.

    ``added_once`` without its savepoint, two statements fewer, for a busy insert
    that is a request's first write (its read phase over, see ``write_after_read``).
    Nothing may have been written before it in the transaction: a refused insert
    ends the whole transaction on PostgreSQL, so that is what is rolled back.
    """
    session.add(row)
    try:
        session.flush()
    except IntegrityError as error:
        session.rollback()
        begin_write(session)
        return error
    return None
