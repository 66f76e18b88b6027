"""F4: the SQLite database on a 512 KB tmpfs fills up.

/join must answer 503 "try again later" (SQLite raises "database or disk is full" and
rolls back; engage.http maps every OperationalError to 503), earlier sign-ups must be
intact and the integrity check ok. Exports: the CSV is built in memory, but the XLSX
writer (openpyxl's write-only mode) writes its sheet to a temporary file first, so
the server's TMPDIR is put on the same full tmpfs; both must answer with the 503
page (engage.http maps ENOSPC to 503), never a truncated file.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest

from tests.faults.conftest import (
    UNAVAILABLE,
    Browser,
    Outcomes,
    Report,
    ServerFactory,
    classify,
    integrity_check,
    prepare_database,
    run,
    sqlite_duplicates,
    sqlite_members,
    unique_email,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

MAX_SIGN_UPS = 2000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 512 KB tmpfs (needs root); unmounted at teardown."""
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    try:
        run(
            [
                "/usr/bin/mount",
                "-t",
                "tmpfs",
                "-o",
                "size=512k",
                "tmpfs",
                str(mount_point),
            ],
            check=True,
        )
    except (OSError, subprocess.CalledProcessError) as error:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {error}")
    yield mount_point
    run(["/usr/bin/umount", "-l", str(mount_point)], check=False)


def test_full_disk_gives_503_and_keeps_earlier_data(
    small_disk: Path, tmp_path: Path, start_server: ServerFactory, report: Report
) -> None:
    # Migrate on the normal disk, then move the database (352 KB of schema) onto the
    # small one: the rest of the 512 KB is all the WAL and new rows get.
    made = tmp_path / "made.sqlite"
    prepare_database(f"sqlite:///{made}")
    path = small_disk / "engage.sqlite"
    shutil.copyfile(made, path)
    temp_dir = small_disk / "tmp"
    temp_dir.mkdir()
    server = start_server(f"sqlite:///{path}", workers=2, TMPDIR=str(temp_dir))
    staff = Browser(server.url)
    staff.login()
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
    xlsx_status, xlsx = _export(staff, "xlsx")
    csv_status, csv = _export(staff, "csv")
    server.kill()

    # Read the files as the crash left them, on a disk with room for WAL recovery.
    copy = tmp_path / "after.sqlite"
    shutil.copyfile(path, copy)
    if Path(f"{path}-wal").exists():
        shutil.copyfile(f"{path}-wal", f"{copy}-wal")
    members = sqlite_members(copy)
    lost = outcomes.acknowledged - set(members)
    report(
        acknowledged_before_full=len(outcomes.acknowledged),
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
    assert outcomes.acknowledged, "nothing was written before the disk filled"
    assert not lost
    assert sqlite_duplicates(copy) == 0
    assert min(members.values()) >= 1
    # Exports on a full disk: an error page, never a (truncated) file.
    assert xlsx_status == 503
    assert UNAVAILABLE.encode() in xlsx
    assert csv_status == 503
    assert UNAVAILABLE.encode() in csv
    openpyxl.load_workbook(io.BytesIO(before_full))  # the control export was whole


def _export(browser: Browser, fmt: str) -> tuple[int, bytes]:
    status, text = browser.request_bytes(f"/members/export.{fmt}")
    return status, text
