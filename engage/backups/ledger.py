"""The erasure ledger: member ids erased or purged, kept outside every backup.

A backup taken before an erasure still holds the member's personal data. Restoring it
must not bring them back, so each erasure appends one line to a file that is NOT in the
database (``ENGAGE_ERASURE_LEDGER``, default ``instance/erasures.log``) and ``engage
restore`` re-applies every line. A line holds only the member id, what was done, the
reason category and the time: nothing that identifies a person.

Lines are written only after the erasing transaction commits (a rolled-back erasure
must not be re-applied to a member who was never erased), one ``O_APPEND`` write each,
so several workers can share the file.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

_QUEUE = "engage_erasure_ledger"
ERASE = "erase"
PURGE = "purge"


@dataclass(frozen=True)
class LedgerEntry:
    """One erasure: which member row, what was done, why and when."""

    member_id: int
    action: str
    reason: str
    at: str


def ledger_path() -> Path:
    """Where this app's ledger lives (outside the database and its backups)."""
    return Path(current_app.config["ERASURE_LEDGER"])


def queue_entry(
    session: Session, member_id: int, *, action: str, reason: str, now: datetime
) -> None:
    """Append an entry for ``member_id`` once ``session`` commits."""
    entry = LedgerEntry(member_id, action, reason, now.isoformat())
    session.info.setdefault(_QUEUE, []).append((str(ledger_path()), entry))


def discard_queued(session: Session) -> None:
    """Forget entries queued in ``session`` (re-applied erasures are already listed)."""
    session.info.pop(_QUEUE, None)


def append(path: Path, entries: list[LedgerEntry]) -> None:
    """Append ``entries`` to the ledger file (created with mode 0600 if missing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for entry in entries:
            line = json.dumps(entry.__dict__, sort_keys=True) + "\n"
            os.write(fd, line.encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def read(path: Path) -> list[LedgerEntry]:
    """Every entry in the ledger, oldest first (a missing file is an empty ledger)."""
    if not path.exists():
        return []
    entries = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data: dict[str, Any] = json.loads(line)
            entries.append(
                LedgerEntry(
                    int(data["member_id"]),
                    str(data["action"]),
                    str(data.get("reason", "")),
                    str(data.get("at", "")),
                )
            )
        except (ValueError, KeyError, TypeError):
            log.error("erasure ledger line %d is unreadable; skipped", number)
    return entries


@event.listens_for(Session, "after_commit")
def _write_queued(session: Session) -> None:
    queued: list[tuple[str, LedgerEntry]] = session.info.pop(_QUEUE, [])
    by_path: dict[str, list[LedgerEntry]] = {}
    for path, entry in queued:
        by_path.setdefault(path, []).append(entry)
    for path, entries in by_path.items():
        try:
            append(Path(path), entries)
        except OSError:
            # The erasure stands; a restore from an older backup would not redo it.
            log.exception("could not write %d erasure ledger entries", len(entries))


@event.listens_for(Session, "after_rollback")
def _forget_queued(session: Session) -> None:
    session.info.pop(_QUEUE, None)
