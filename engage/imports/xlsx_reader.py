"""Reading an Excel workbook's first sheet as rows of text, in a process of its own.

``engage.imports.tabular`` runs this file as a script (``python -I xlsx_reader.py
MAX_CELLS``) with the workbook on standard input, and kills it after a time limit: a
workbook built to be slow or to expand enormously (a zip of identical rows, no
dimension, nothing past the row limit) then costs a short-lived process, never a web
worker. The script limits its own memory, stops after ``MAX_CELLS`` cells, and
writes one JSON line per row, ``[row number, [cell text, …]]``, then a last line
saying how it ended: ``{"end": "ok"}``, or ``too-large``, ``not-xlsx``, ``no-sheet``,
or ``unsaved-formulas`` (with ``"cells"``, the first of them: formulas whose result
the file does not hold, which would otherwise read as empty cells).

It imports nothing from Engage (the package would take longer to load than most
workbooks take to read); ``cell_text`` is shared with the rest of the importer.
"""

from __future__ import annotations

import io
import json
import sys
from datetime import date
from datetime import datetime
from datetime import time
from typing import IO
from typing import Any

#: The most memory the reading process may take (address space, bytes).
MEMORY_LIMIT = 2 * 1024 * 1024 * 1024
#: How many cells of formulas without a saved result are named.
UNSAVED_NAMED = 3


def cell_text(value: object) -> str:
    """A workbook cell's value as the text a CSV export of it would hold."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        if value.time() == time.min:
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


class _TooManyCells(Exception):
    pass


class _CountedCells(io.RawIOBase):
    """A sheet's XML, refused once more than ``limit`` cell elements have come by."""

    def __init__(self, raw: IO[bytes], limit: int) -> None:
        super().__init__()
        self.raw, self.limit, self.cells = raw, limit, 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.cells += data.count(b"<c>") + data.count(b"<c ") + data.count(b"<c/>")
        if self.cells > self.limit:
            raise _TooManyCells
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self.raw.close()
        super().close()


def _end(out: IO[str], how: str) -> int:
    out.write(json.dumps({"end": how}) + "\n")
    return 0


def read(data: bytes, max_cells: int, out: IO[str]) -> int:
    """Write the first sheet's rows to ``out`` as JSON lines, then how it ended."""
    import openpyxl  # type: ignore[import-untyped]
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet  # type: ignore[import-untyped]

    # openpyxl reads each sheet's XML from this stream, first when it opens the
    # workbook (looking for the sheet's size: through the whole sheet when it has no
    # <dimension>), then for its rows. Count the cells as they arrive, so that a sheet
    # of too many is refused before they are parsed. (A private method, replaced in
    # this short-lived process only; the count by rows below remains.)
    opened = ReadOnlyWorksheet._get_source
    ReadOnlyWorksheet._get_source = lambda sheet: _CountedCells(
        opened(sheet), max_cells
    )
    unsaved = _note_unsaved_formulas()
    try:
        workbook = openpyxl.load_workbook(
            io.BytesIO(data), read_only=True, data_only=True
        )
    except (MemoryError, _TooManyCells):
        return _end(out, "too-large")
    except Exception:  # openpyxl raises many kinds for a damaged file
        return _end(out, "not-xlsx")
    if not workbook.worksheets:
        return _end(out, "no-sheet")
    cells = 0
    try:
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        for number, row in enumerate(rows, start=1):
            cells += len(row)
            if cells > max_cells:
                return _end(out, "too-large")
            out.write(json.dumps([number, [cell_text(v) for v in row]]) + "\n")
    except (MemoryError, _TooManyCells):
        return _end(out, "too-large")
    except Exception:  # malformed parts surface only while reading rows
        return _end(out, "not-xlsx")
    if unsaved:
        out.write(json.dumps({"end": "unsaved-formulas", "cells": unsaved}) + "\n")
        return 0
    return _end(out, "ok")


def _note_unsaved_formulas() -> list[str]:
    """The cells (up to ``UNSAVED_NAMED``, by reference) read from now on that hold
    a formula but no saved result.

    A workbook saved by Excel or LibreOffice holds each formula's last result, which
    is what is read; one written by a program often holds formulas alone, and such
    a cell would read as empty. (openpyxl's cell parser, wrapped in this short-lived
    process only.)
    """
    from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]
    from openpyxl.worksheet import _reader  # type: ignore[import-untyped]

    unsaved: list[str] = []
    parse_cell = _reader.WorkSheetParser.parse_cell

    def noting(parser: Any, element: Any) -> dict[str, Any]:
        cell: dict[str, Any] = parse_cell(parser, element)
        # No result, or an empty one where only text may be empty ("str": a
        # formula whose result is empty text).
        if (
            len(unsaved) < UNSAVED_NAMED
            and element.find(_reader.FORMULA_TAG) is not None
            and not element.findtext(_reader.VALUE_TAG)
            and element.get("t") != "str"
        ):
            unsaved.append(f"{get_column_letter(cell['column'])}{cell['row']}")
        return cell

    _reader.WorkSheetParser.parse_cell = noting
    return unsaved


def main() -> int:
    """Read the workbook on standard input (see the module's docstring)."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    max_cells = int(sys.argv[1])
    return read(sys.stdin.buffer.read(), max_cells, sys.stdout)


if __name__ == "__main__":
    sys.exit(main())
