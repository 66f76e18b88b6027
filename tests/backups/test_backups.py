"""Backup and restore drill on the test engine, SQLite or PostgreSQL (security F6).

The backup is taken from the test database and restored into a separate, empty
database (a new SQLite file, or ``<test database>_restore`` on PostgreSQL).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine
from sqlalchemy import select
from sqlalchemy import text

from engage.backups import database as backups
from engage.backups import ledger
from engage.clock import utcnow
from engage.errors import ValidationError
from engage.extensions import db
from engage.membership.models import Member
from engage.membership.models import MemberStatus
from engage.membership.models import Tier
from engage.membership.services import ErasureReason
from engage.membership.services import erase_member
from tests.conftest import DATABASE_URL
from tests.conftest import make_test_config
from tests.factories import ActionFactory
from tests.factories import AudienceFactory
from tests.factories import MemberFactory

NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


@pytest.fixture
def ledger_file(app: Flask, tmp_path: Path) -> Path:
    path = tmp_path / "ledger" / "erasures.log"
    app.config["ERASURE_LEDGER"] = str(path)
    return path


@pytest.fixture
def empty_database(tmp_path: Path) -> Iterator[str]:
    """The URL of a new, empty database of the same engine as the test database."""
    if not DATABASE_URL:
        yield f"sqlite:///{tmp_path / 'restored.sqlite'}"
        return
    base, name = DATABASE_URL.rsplit("/", 1)
    admin = create_engine(DATABASE_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}_restore"'))
        conn.execute(text(f'CREATE DATABASE "{name}_restore"'))
    yield f"{base}/{name}_restore"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}_restore" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def target(
    make_app: Callable[..., Flask], empty_database: str, ledger_file: Path
) -> Flask:
    config = make_test_config(empty_database)
    config["ERASURE_LEDGER"] = str(ledger_file)
    return make_app(config)


def _backup_path(tmp_path: Path) -> Path:
    return tmp_path / ("backup.dump" if DATABASE_URL else "backup.sqlite")


def _seed(cast: dict[str, Any]) -> None:
    AudienceFactory.create_batch(3)
    ActionFactory.create_batch(2)
    for name, email in [
        ("Ann Other", "ann.other@example.org"),
        ("Bo Keeper", "bo.keeper@example.org"),
    ]:
        MemberFactory(
            name=name,
            email=email,
            phone="07700 900123",
            postcode="LS1 4AP",
            tier=Tier.GOLD,
            created_at=NOW,
        )


def test_restore_drill_matches_counts_and_checksums(
    app: Flask,
    target: Flask,
    cast: dict[str, Any],
    tmp_path: Path,
    ledger_file: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _seed(cast)
    made = backups.backup(_backup_path(tmp_path), now=NOW)
    manifest = json.loads(made.manifest_path.read_text())
    assert manifest["tables"]["users"]["rows"] == 4
    assert manifest["tables"]["members"]["rows"] == 2
    assert manifest["tables"]["audiences"]["rows"] >= 3
    with db.engine.connect() as conn:
        assert backups.table_checksums(conn) == manifest["tables"]

    with target.app_context():
        result = backups.restore(made.path, now=NOW)
        with db.engine.connect() as conn:
            restored = backups.table_checksums(conn)
        emails = set(db.session.scalars(select(Member.email)))
    assert result.tables_checked == len(manifest["tables"])
    assert result.erasures_reapplied == 0
    # The restore's own audit event is the only change after the manifest was checked.
    assert {k: v for k, v in restored.items() if k != "audit_events"} == {
        k: v for k, v in manifest["tables"].items() if k != "audit_events"
    }
    assert (
        restored["audit_events"]["rows"]
        == manifest["tables"]["audit_events"]["rows"] + 1
    )
    assert emails == {"ann.other@example.org", "bo.keeper@example.org"}
    with capsys.disabled():
        print(
            f"\n[F6 drill {manifest['engine']}] backup {made.seconds:.3f} s, "
            f"restore {result.seconds:.3f} s, {len(manifest['tables'])} tables"
        )


def test_member_erased_after_the_backup_stays_erased_after_restore(
    app: Flask, target: Flask, cast: dict[str, Any], tmp_path: Path, ledger_file: Path
) -> None:
    _seed(cast)
    made = backups.backup(_backup_path(tmp_path), now=NOW)
    member = db.session.scalar(
        select(Member).where(Member.email == "ann.other@example.org")
    )
    assert member is not None
    erase_member(
        member, actor=cast["admin"], reason=ErasureReason.MEMBER_REQUEST, now=NOW
    )
    db.session.commit()
    line = ledger_file.read_text()
    assert json.loads(line) == {
        "action": "erase",
        "at": NOW.isoformat(),
        "member_id": member.id,
        "reason": "member_request",
    }
    assert "ann" not in line.lower()
    assert "0770" not in line

    with target.app_context():
        result = backups.restore(made.path, now=NOW)
        restored = db.session.get(Member, member.id)
        assert restored is not None
        assert restored.status is MemberStatus.ERASED
        assert (restored.name, restored.email, restored.phone) == (None, None, None)
        others = db.session.scalars(select(Member.email)).all()
    assert result.erasures_reapplied == 1
    assert "bo.keeper@example.org" in others
    # Re-applying does not add the erasure to the ledger a second time.
    assert len(ledger_file.read_text().splitlines()) == 1


def test_rolled_back_erasure_is_not_in_the_ledger(
    cast: dict[str, Any], ledger_file: Path
) -> None:
    member = MemberFactory(
        name="Cy Rollback", email="cy@example.org", tier=Tier.GOLD, created_at=NOW
    )
    erase_member(member, actor="system", reason=ErasureReason.DECEASED, now=NOW)
    db.session.rollback()
    db.session.commit()
    assert not ledger_file.exists()


def test_restore_refuses_a_backup_that_does_not_match_its_manifest(
    app: Flask, target: Flask, cast: dict[str, Any], tmp_path: Path
) -> None:
    made = backups.backup(_backup_path(tmp_path), now=NOW)
    manifest = json.loads(made.manifest_path.read_text())
    manifest["tables"]["users"]["rows"] = 5
    made.manifest_path.write_text(json.dumps(manifest))
    with target.app_context(), pytest.raises(ValidationError, match="users: 4 rows"):
        backups.restore(made.path, now=NOW)
    with made.path.open("ab") as handle:
        handle.write(b"tampered")
    with target.app_context(), pytest.raises(ValidationError, match="does not match"):
        backups.restore(made.path, now=NOW)
    made.manifest_path.unlink()
    with target.app_context(), pytest.raises(ValidationError, match="No manifest"):
        backups.restore(made.path, now=NOW)


def test_backup_and_restore_commands(
    app: Flask, target: Flask, cast: dict[str, Any], tmp_path: Path
) -> None:
    path = _backup_path(tmp_path)
    made = app.test_cli_runner().invoke(args=["backup", "--output", str(path)])
    assert made.exit_code == 0, made.output
    assert "Backup written to" in made.output
    again = app.test_cli_runner().invoke(args=["backup", "--output", str(path)])
    assert again.exit_code != 0
    assert "already exists" in again.output
    refused = target.test_cli_runner().invoke(args=["restore", str(path)], input="n\n")
    assert refused.exit_code != 0
    restored = target.test_cli_runner().invoke(args=["restore", str(path), "--yes"])
    assert restored.exit_code == 0, restored.output
    assert "tables match the manifest" in restored.output
    assert "restore time" in restored.output


def test_backup_without_output_expires_old_backups(
    app: Flask, cast: dict[str, Any], tmp_path: Path
) -> None:
    app.config["BACKUP_DIR"] = str(tmp_path / "backups")
    app.config["BACKUP_RETENTION_DAYS"] = 30
    forty_days_ago = utcnow() - timedelta(days=40)
    old = backups.backup(backups.default_backup_path(forty_days_ago), now=NOW)
    # Not named by Engage: left alone, whatever its age.
    other = tmp_path / "backups" / "engage-notes.txt"
    other.write_text("kept")
    os.utime(other, (0, 0))
    result = app.test_cli_runner().invoke(args=["backup"])
    assert result.exit_code == 0, result.output
    assert "Expired backups deleted: 1." in result.output
    assert not old.path.exists()
    assert not old.manifest_path.exists()
    assert other.exists()
    assert len(list((tmp_path / "backups").glob("engage-*"))) == 3  # new + manifest


def test_ledger_skips_unreadable_lines(tmp_path: Path) -> None:
    path = tmp_path / "erasures.log"
    path.write_text('{"member_id": 3, "action": "erase"}\nnot json\n\n')
    assert [e.member_id for e in ledger.read(path)] == [3]
