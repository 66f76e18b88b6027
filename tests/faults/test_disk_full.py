"""F4: the SQLite database on a small tmpfs (its own size and 448 KB more) fills up.

/join must answer 503 "try again later" (SQLite raises "database or disk is full" and
rolls back; engage.http maps every OperationalError to 503), earlier sign-ups must be
intact and the integrity check ok. Exports: the CSV is built in memory, but the XLSX
writer (openpyxl's write-only mode) writes its sheet to a temporary file first, so
the server's TMPDIR is put on the same full tmpfs; the XLSX must answer with the 503
page (engage.http maps ENOSPC to 503) and the CSV with 503 or a whole file, never a
truncated one. (Python's tempfile picks its directory on first use and skips one it
cannot write to, so a worker started on a full disk would quietly use /tmp instead.)
"""

from __future__ import annotations

import io
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import openpyxl
import pytest

from tests.faults.conftest import JOINED
from tests.faults.conftest import UNAVAILABLE
from tests.faults.conftest import Browser
from tests.faults.conftest import Outcomes
from tests.faults.conftest import Report
from tests.faults.conftest import ServerFactory
from tests.faults.conftest import classify
from tests.faults.conftest import integrity_check
from tests.faults.conftest import prepare_database
from tests.faults.conftest import run
from tests.faults.conftest import sqlite_duplicates
from tests.faults.conftest import sqlite_members
from tests.faults.conftest import unique_email

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

MAX_SIGN_UPS = 2000
EARLIER_MEMBERS = 20
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


#: Room on the small disk beyond the database as it moves there: all the WAL and new
#: rows get. The disk is sized from the database, so it fills up the same way however
#: many tables the schema has.
ROOM = 448 * 1024


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Callable[[int], Path]]:
    """Mounts a tmpfs of (at least) the given bytes (needs root); unmounted at
    teardown."""
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    mounted: list[Path] = []

    def mount(size: int) -> Path:
        try:
            run(
                [
                    "/usr/bin/mount",
                    "-t",
                    "tmpfs",
                    "-o",
                    f"size={-(-size // 4096) * 4}k",
                    "tmpfs",
                    str(mount_point),
                ],
                check=True,
            )
        except (OSError, subprocess.CalledProcessError) as error:
            pytest.skip(f"cannot mount a tmpfs here (needs root): {error}")
        mounted.append(mount_point)
        return mount_point

    yield mount
    for point in mounted:
        run(["/usr/bin/umount", "-l", str(point)], check=False)


def test_full_disk_gives_503_and_keeps_earlier_data(
    small_disk: Callable[[int], Path],
    tmp_path: Path,
    start_server: ServerFactory,
    report: Report,
) -> None:
    # Earlier data: members who joined (and an officer who signed in) on a roomy disk.
    made = tmp_path / "made.sqlite"
    prepare_database(f"sqlite:///{made}")
    roomy = start_server(f"sqlite:///{made}", workers=1)
    staff = Browser(roomy.url)
    staff.login()
    earlier = [unique_email("f4-earlier") for _ in range(EARLIER_MEMBERS)]
    for email in earlier:
        status, text = Browser(roomy.url).join(email)
        assert status == 200
        assert JOINED in text
    roomy.stop()
    # Fold the WAL into the file (a stopped worker need not have checkpointed it).
    with closing(sqlite3.connect(made)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert len(sqlite_members(made)) == EARLIER_MEMBERS
    # Then the database (its schema and indexes, and those members) moves onto a
    # disk with ROOM to spare: all the WAL and new rows get.
    disk = small_disk(made.stat().st_size + ROOM)
    path = disk / "engage.sqlite"
    shutil.copyfile(made, path)
    temp_dir = disk / "tmp"
    temp_dir.mkdir()
    # One worker, so the export below fixes the temporary directory of the one
    # process that serves every request.
    server = start_server(f"sqlite:///{path}", workers=1, TMPDIR=str(temp_dir))
    staff.base_url = server.url  # the officer's session cookie stays valid
    # A first export while there is room. It also fixes the worker's temporary
    # directory: Python's tempfile picks it on first use and would skip a full one.
    status, before_full = _export(staff, "xlsx")
    assert status == 200

    visitor = Browser(server.url)
    outcomes = Outcomes()
    full_at = None
    for attempt in range(MAX_SIGN_UPS):
        email = unique_email("f4")
        status, text = visitor.join(email)
        if not classify(outcomes, email, status, text):
            full_at = attempt
            break
    assert full_at is not None, "the disk never filled up"
    # Still full: every further sign-up gets the same friendly answer.
    after = [visitor.join(unique_email("f4-late")) for _ in range(5)]
    still_serving, _ = visitor.get("/join")
    # A small write may still fit where a sign-up did not: take the last bytes too.
    _fill(disk / "filler")
    xlsx_status, xlsx = _export(staff, "xlsx")
    csv_status, csv = _export(staff, "csv")
    server.kill()

    # Read the files as the crash left them, on a disk with room for WAL recovery.
    copy = tmp_path / "after.sqlite"
    shutil.copyfile(path, copy)
    if Path(f"{path}-wal").exists():
        shutil.copyfile(f"{path}-wal", f"{copy}-wal")
    members = sqlite_members(copy)
    lost = (outcomes.acknowledged | set(earlier)) - set(members)
    report(
        earlier_members=len(earlier),
        acknowledged_on_small_disk=len(outcomes.acknowledged),
        rows=len(members),
        lost=len(lost),
        statuses=dict(sorted(outcomes.statuses.items())),
        later_statuses=[s for s, _ in after],
        xlsx_export=xlsx_status,
        csv_export=csv_status,
        xlsx_bytes_before_full=len(before_full),
    )
    assert not outcomes.bad_pages, (outcomes.bad_pages[:1], server.log[-4000:])
    assert outcomes.statuses.get(503) == 1
    for status, text in after:
        assert status == 503
        assert UNAVAILABLE in text
        assert "Try again" in text
    assert still_serving == 200, "reading pages must still work on a full disk"
    assert integrity_check(copy) == "ok"
    assert not lost
    assert sqlite_duplicates(copy) == 0
    assert min(members.values()) >= 1
    # Exports on a full disk: an error page, never a truncated file. The Excel file
    # needs a temporary file, so it fails; the CSV is built in memory and its audit
    # record may still fit in the WAL (SQLite reuses it after a checkpoint), so it
    # is either refused or whole.
    openpyxl.load_workbook(io.BytesIO(before_full))  # the control export was whole
    assert xlsx_status == 503
    assert UNAVAILABLE.encode() in xlsx
    if csv_status == 200:
        assert csv.startswith(b"\xef\xbb\xbf")
        assert csv.endswith(b"\r\n")
    else:
        assert csv_status == 503
        assert UNAVAILABLE.encode() in csv


def _fill(path: Path) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while os.write(fd, b"\0" * 4096):
            pass
    except OSError:
        pass  # no space left: the point
    finally:
        os.close(fd)


def _export(browser: Browser, fmt: str) -> tuple[int, bytes]:
    status, text = browser.request_bytes(f"/members/export.{fmt}")
    return status, text
