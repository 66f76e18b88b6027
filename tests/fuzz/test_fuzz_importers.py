"""Fuzz the CSV/XLSX reader and the import preview: any bytes → a table or a refusal.

A refusal is ``TableError`` from ``read_table`` and ``ImportPreview.file_error`` (or row
errors) from the preview; anything else escaping is a bug (a 500 on the upload page).
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engage.imports.services import ImportPreview
from engage.imports.services import preview_import
from engage.imports.tabular import Table
from engage.imports.tabular import TableError
from engage.imports.tabular import read_table
from engage.imports.tabular import write_xlsx
from tests.fuzz.conftest import FUZZ
from tests.fuzz.conftest import FUZZ_HEAVY
from tests.fuzz.conftest import FUZZ_WORKBOOK

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "imports"
AUDIENCES_CSV = (FIXTURES / "audiences-clean.csv").read_bytes()
ACTIONS_CSV = (
    b"action,channel,audiences,timescale,responsibility,measurement,status,due_date\n"
    b"Newsletter,Newsletter,All,Monthly,Comms,Opens,planned,2026-12-01\n"
)
AUDIENCES_XLSX = write_xlsx(
    ["audience", "group", "approach", "notes", "influence", "interest"],
    [
        ["GPs", "clinical", "manage", "=1+1", "4", "5"],
        ["Carers", "public", "", "", "", ""],
    ],
)


def _read(content: bytes, filename: str) -> Table | None:
    message = ""
    try:
        return read_table(io.BytesIO(content), filename)
    except TableError as error:
        message = error.message
    assert message  # a refusal always says why
    return None


def _mutate(data: st.DataObject, seed: bytes) -> bytes:
    """Flip, insert and delete bytes of a valid file (a cheap mutation fuzzer)."""
    content = bytearray(seed)
    for _ in range(data.draw(st.integers(1, 8), label="mutations")):
        where = data.draw(st.integers(0, len(content)), label="where")
        how = data.draw(st.sampled_from(["flip", "insert", "delete"]), label="how")
        byte = data.draw(st.integers(0, 255), label="byte")
        if how == "insert" or where >= len(content):
            content.insert(where, byte)
        elif how == "flip":
            content[where] = byte
        else:
            del content[where]
    return bytes(content)


@pytest.mark.pure
def test_workbook_claiming_a_newer_zip_version_is_refused() -> None:
    """Found by the fuzzer: zipfile raised NotImplementedError (a 500 on upload)."""
    content = bytearray(AUDIENCES_XLSX)
    central = content.index(b"PK\x01\x02")
    content[central + 6 : central + 8] = (64).to_bytes(2, "little")  # "version 6.4"
    assert _read(bytes(content), "newer.xlsx") is None


@pytest.mark.pure
@FUZZ
@given(st.binary(max_size=2048), st.sampled_from(["f.csv", "f.xlsx", "f.CSV"]))
def test_read_table_refuses_or_reads_any_bytes(content: bytes, filename: str) -> None:
    table = _read(content, filename)
    if table is not None:
        assert any(table.columns)
        assert all(
            isinstance(v, str) for row in table.rows for v in row.values.values()
        )


@pytest.mark.pure
@FUZZ
@given(st.data())
def test_read_table_survives_damaged_csv(data: st.DataObject) -> None:
    seed = data.draw(st.sampled_from([AUDIENCES_CSV, ACTIONS_CSV]), label="seed")
    _read(_mutate(data, seed), "damaged.csv")


@pytest.mark.pure
@FUZZ_WORKBOOK
@given(st.data())
def test_read_table_survives_damaged_xlsx(data: st.DataObject) -> None:
    _read(_mutate(data, AUDIENCES_XLSX), "damaged.xlsx")


@pytest.mark.pure
@FUZZ_WORKBOOK
@given(st.data())
def test_read_table_survives_workbooks_with_damaged_parts(data: st.DataObject) -> None:
    """A valid zip whose XML parts are damaged (the zip check alone passes)."""
    source = zipfile.ZipFile(io.BytesIO(AUDIENCES_XLSX))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            part = source.read(info.filename)
            if info.filename.endswith(".xml") and data.draw(st.booleans(), label="hit"):
                part = _mutate(data, part)
            target.writestr(info.filename, part)
    _read(out.getvalue(), "parts.xlsx")


CELL = st.text(max_size=30) | st.sampled_from(
    ["manage", "inform", "monitor", "public", "clinical", "5", "0", "-1", "=cmd|x", ""]
)


@FUZZ
@given(
    st.sampled_from(["audiences", "actions"]),
    st.lists(st.lists(CELL, min_size=0, max_size=8), min_size=1, max_size=6),
)
def test_preview_never_fails_on_rows_of_any_text(
    kind: str, rows: list[list[str]]
) -> None:
    header = {
        "audiences": [
            "audience",
            "group",
            "approach",
            "notes",
            "influence",
            "interest",
        ],
        "actions": [
            "action",
            "channel",
            "audiences",
            "timescale",
            "responsibility",
            "measurement",
            "status",
            "due_date",
            "recurrence",
            "owners",
        ],
    }[kind]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    preview = preview_import(kind, io.BytesIO(buffer.getvalue().encode()), "rows.csv")
    _check_preview(preview)


@FUZZ_HEAVY
@given(st.data(), st.sampled_from(["audiences", "actions"]))
def test_preview_never_fails_on_damaged_files(data: st.DataObject, kind: str) -> None:
    seed = data.draw(
        st.sampled_from([AUDIENCES_CSV, ACTIONS_CSV, AUDIENCES_XLSX]), label="seed"
    )
    name = "upload.xlsx" if seed is AUDIENCES_XLSX else "upload.csv"
    _check_preview(preview_import(kind, io.BytesIO(_mutate(data, seed)), name))


def _check_preview(preview: ImportPreview) -> None:
    if preview.file_error is not None:
        assert preview.rows == []
        return
    assert preview.rows_read >= 0
    assert all(error.row >= 2 for error in preview.errors)
