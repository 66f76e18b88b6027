"""Backups for SQLite (online backup API) and PostgreSQL (pg_dump, pg_restore).

This is the machinery of the ``engage backup`` and ``engage restore`` commands, and an
edge like them, not a service: it works below the session. A backup reads through its
own connections (and on PostgreSQL pg_dump's snapshot); a restore discards the session
and the engine's connections, replaces the database under them, and then commits its
own audit event and re-applied erasures once, after the data is verified. No caller's
transaction could span either.

Each backup gets a manifest next to it (``<backup>.manifest.json``): the engine, the
file's SHA-256, the migration revision and, per table, the row count and a SHA-256 over
its rows in primary-key order. The manifest is computed from exactly what was backed
up: from the backup file itself on SQLite, and inside the same snapshot that pg_dump
reads on PostgreSQL (``pg_export_snapshot``). A restore checks the file against the
manifest, restores, checks every table's count and checksum again, and only then
re-applies the erasure ledger so erased members stay erased (docs/security.md F6, D5).

``subprocess`` runs only pg_dump and pg_restore, with an argument list (no shell) built
from our own database URL: bandit's B404/B603 are reviewed and marked ``nosec``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import subprocess  # nosec B404
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import Connection
from sqlalchemy import create_engine
from sqlalchemy import inspect
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.engine import make_url

from engage.audit.services import record_event
from engage.backups import ledger
from engage.errors import ValidationError
from engage.extensions import db

log = logging.getLogger(__name__)

MANIFEST_SUFFIX = ".manifest.json"
#: The UTC time in a backup's file name, e.g. engage-20261126T030000Z.sqlite.
_STAMP = "%Y%m%dT%H%M%SZ"
TableSums = dict[str, dict[str, Any]]


@dataclass
class BackupResult:
    """What ``backup`` wrote and how long it took."""

    path: Path
    manifest_path: Path
    tables: TableSums
    seconds: float


@dataclass
class RestoreResult:
    """What ``restore`` did: tables checked, erasures re-applied, time taken."""

    path: Path
    tables_checked: int
    erasures_reapplied: int
    seconds: float
    mismatches: list[str] = field(default_factory=list)


# Checksums ---------------------------------------------------------------------------


def _canonical(value: Any) -> str:
    """One text form per value, the same whichever engine returned it."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    if isinstance(value, float):
        return repr(value)
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def table_checksums(conn: Connection) -> TableSums:
    """Row count and SHA-256 of the rows (in primary-key order) of every model table."""
    sums: TableSums = {}
    present = set(inspect(conn).get_table_names())
    for table in db.metadata.sorted_tables:
        if table.name not in present:
            continue
        order = list(table.primary_key.columns) or list(table.columns)
        digest = hashlib.sha256()
        rows = 0
        for row in conn.execute(select(table).order_by(*order)):
            digest.update("\t".join(_canonical(v) for v in row).encode() + b"\n")
            rows += 1
        sums[table.name] = {"rows": rows, "sha256": digest.hexdigest()}
    return sums


def _revision(conn: Connection) -> str | None:
    if "alembic_version" not in inspect(conn).get_table_names():
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def manifest_path_for(path: Path) -> Path:
    """Where the manifest of the backup at ``path`` lives."""
    return path.with_name(path.name + MANIFEST_SUFFIX)


# Backup ------------------------------------------------------------------------------


def _engine_name(url: URL) -> str:
    backend = url.get_backend_name()
    if backend not in {"sqlite", "postgresql"}:
        raise ValidationError(f"Backups support SQLite and PostgreSQL, not {backend}.")
    return backend


def default_backup_path(now: datetime) -> Path:
    """``BACKUP_DIR/engage-<UTC time>.<sqlite|dump>`` for the configured database."""
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    suffix = "sqlite" if _engine_name(url) == "sqlite" else "dump"
    stamp = now.strftime(_STAMP)
    return Path(current_app.config["BACKUP_DIR"]) / f"engage-{stamp}.{suffix}"


def _backup_time(path: Path) -> datetime | None:
    """When a backup named by ``default_backup_path`` was taken (None if not one)."""
    stamp = path.name.removeprefix("engage-").split(".", 1)[0]
    try:
        return datetime.strptime(stamp, _STAMP).replace(tzinfo=UTC)
    except ValueError:
        return None


def backup(output: Path, *, now: datetime) -> BackupResult:
    """Back the configured database up to ``output`` and write its manifest."""
    started = time.monotonic()
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    engine_name = _engine_name(url)
    output.parent.mkdir(parents=True, exist_ok=True)
    if output.exists():
        raise ValidationError(f"{output} already exists; choose another file.")
    partial = output.with_name(output.name + ".partial")
    if engine_name == "sqlite":
        _sqlite_backup(url, partial)
        tables, revision = _sqlite_sums(partial)
    else:
        tables, revision = _pg_backup(url, partial)
    os.replace(partial, output)  # never leave a half-written file under the real name
    seconds = time.monotonic() - started
    manifest = {
        "engine": engine_name,
        "created_at": now.isoformat(),
        "file": output.name,
        "file_sha256": file_sha256(output),
        "alembic_revision": revision,
        "seconds": round(seconds, 3),
        "tables": tables,
    }
    manifest_path = manifest_path_for(output)
    manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    log.info(
        "backup written: %s tables, %.2f s", len(tables), seconds
    )  # the path may name the host: not logged
    return BackupResult(output, manifest_path, tables, seconds)


def _sqlite_file(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise ValidationError("An in-memory SQLite database cannot be backed up.")
    return Path(url.database)


def _sqlite_backup(url: URL, target: Path) -> None:
    source = sqlite3.connect(_sqlite_file(url))
    try:
        dest = sqlite3.connect(target)
        try:
            source.backup(dest)  # consistent even while the app writes
        finally:
            dest.close()
    finally:
        source.close()


@contextmanager
def _connect(url: str | URL) -> Iterator[Connection]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def _sqlite_sums(path: Path) -> tuple[TableSums, str | None]:
    with _connect(f"sqlite:///{path}") as conn:
        return table_checksums(conn), _revision(conn)


def _pg_args(url: URL) -> tuple[list[str], dict[str, str]]:
    args = []
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    args += ["--dbname", url.database or "postgres"]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return args, env


def _run(command: list[str], env: dict[str, str]) -> None:
    # Fixed programs (pg_dump, pg_restore); the arguments come from our own config.
    result = subprocess.run(  # noqa: S603  # nosec B603
        command, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise ValidationError(
            f"{command[0]} failed ({result.returncode}): {result.stderr.strip()[:500]}"
        )


def _pg_backup(url: URL, target: Path) -> tuple[TableSums, str | None]:
    """pg_dump and the manifest read the same snapshot, so they always agree."""
    args, env = _pg_args(url)
    with _connect(url) as conn:
        conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        _run(
            [
                "pg_dump",
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--snapshot={snapshot}",
                f"--file={target}",
                *args,
            ],
            env,
        )
        sums, revision = table_checksums(conn), _revision(conn)
        conn.rollback()
    return sums, revision


def prune_backups(*, now: datetime) -> int:
    """Delete backups (and manifests) in BACKUP_DIR older than the retention period."""
    folder = Path(current_app.config["BACKUP_DIR"])
    if not folder.is_dir():
        return 0
    cutoff = now - timedelta(days=int(current_app.config["BACKUP_RETENTION_DAYS"]))
    removed = 0
    for path in folder.glob("engage-*"):
        if path.name.endswith(MANIFEST_SUFFIX) or not path.is_file():
            continue
        # The time in the name is Engage's own clock (the file's is the system's);
        # a file not named by Engage is never deleted.
        taken = _backup_time(path)
        if taken is not None and taken < cutoff:
            path.unlink()
            manifest_path_for(path).unlink(missing_ok=True)
            removed += 1
    return removed


# Restore -----------------------------------------------------------------------------


def read_manifest(path: Path) -> dict[str, Any]:
    """The manifest of the backup at ``path``; checks the file's SHA-256 against it."""
    manifest_path = manifest_path_for(path)
    if not manifest_path.exists():
        raise ValidationError(f"No manifest next to the backup ({manifest_path.name}).")
    manifest: dict[str, Any] = json.loads(manifest_path.read_text())
    if file_sha256(path) != manifest.get("file_sha256"):
        raise ValidationError("The backup file does not match its manifest.")
    return manifest


def restore(path: Path, *, now: datetime) -> RestoreResult:
    """Replace the configured database with the backup at ``path``, verify, re-erase.

    The session is discarded first; the re-applied erasures and the audit event are
    committed here, once the restored tables match the manifest. Raises
    ValidationError (and re-applies nothing) if they do not.
    """
    started = time.monotonic()
    manifest = read_manifest(path)
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    engine_name = _engine_name(url)
    if manifest["engine"] != engine_name:
        raise ValidationError(
            f"This is a {manifest['engine']} backup; the database is {engine_name}."
        )
    db.session.remove()
    db.engine.dispose()  # no pooled connection may outlive the old database
    if engine_name == "sqlite":
        _sqlite_restore(path, _sqlite_file(url))
    else:
        args, env = _pg_args(url)
        _run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--exit-on-error",
                *args,
                str(path),
            ],
            env,
        )
    with _connect(url) as conn:
        restored = table_checksums(conn)
    mismatches = _compare(manifest["tables"], restored)
    if mismatches:
        raise ValidationError(
            "Restored data does not match the manifest: " + "; ".join(mismatches)
        )
    reapplied = reapply_erasures(now=now)
    seconds = time.monotonic() - started
    record_event(
        "cli",
        "restore",
        "database",
        None,
        f"backup of {manifest['created_at']}; {len(restored)} tables verified; "
        f"{reapplied} erasures re-applied; {seconds:.2f} s",
        now=now,
    )
    db.session.commit()
    log.info("restore verified: %d tables, %.2f s", len(restored), seconds)
    return RestoreResult(path, len(restored), reapplied, seconds)


def _sqlite_restore(backup_path: Path, database: Path) -> None:
    source = sqlite3.connect(backup_path)
    try:
        dest = sqlite3.connect(database)
        try:
            source.backup(dest)
        finally:
            dest.close()
    finally:
        source.close()


def _compare(expected: TableSums, actual: TableSums) -> list[str]:
    problems = []
    for name, want in sorted(expected.items()):
        got = actual.get(name)
        if got is None:
            problems.append(f"{name}: missing")
        elif got != want:
            problems.append(f"{name}: {got['rows']} rows, expected {want['rows']}")
    return problems


def reapply_erasures(*, now: datetime) -> int:
    """Erase (or delete) again every member in the ledger who is back; the count."""
    from engage.membership.models import Member
    from engage.membership.models import MemberStatus
    from engage.membership.services import ErasureReason
    from engage.membership.services import erase_member

    done = 0
    for entry in ledger.read(ledger.ledger_path()):
        member = db.session.get(Member, entry.member_id)
        if member is None:
            continue
        if entry.action == ledger.PURGE:
            db.session.delete(member)
        elif member.status is not MemberStatus.ERASED:
            try:
                reason = ErasureReason(entry.reason)
            except ValueError:
                reason = ErasureReason.MEMBER_REQUEST
            erase_member(member, actor="system", reason=reason, now=now)
        else:
            continue
        done += 1
    db.session.flush()
    # Re-applied erasures are already in the ledger: do not write them twice.
    ledger.discard_queued(db.session())
    return done
