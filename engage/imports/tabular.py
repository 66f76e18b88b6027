"""Reading and writing tables (CSV and XLSX): sniffed, capped and formula-safe."""

from __future__ import annotations

import codecs
import csv
import io
import json
import math
import re
import subprocess  # nosec B404 - the workbook reader, our own script
import sys
import zipfile
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime
from pathlib import Path
from pathlib import PurePath
from typing import IO
from typing import Any
from typing import TypeVar

import openpyxl  # type: ignore[import-untyped]
from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]

from engage.errors import ValidationError

#: The most data rows one file may hold; larger files are refused, not loaded.
MAX_ROWS = 50_000
#: The most bytes an .xlsx may expand to (its parts are compressed; guards zip bombs).
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
#: The most cells a workbook's sheet may have (50,000 rows of 20 columns), and how
#: long reading it may take: a workbook is read by a process of its own
#: (``xlsx_reader``), stopped at either limit.
MAX_CELLS = 1_000_000
XLSX_SECONDS = 20
#: Spreadsheet programs run a cell starting with one of these as a formula
#: (OWASP "CSV injection"; docs/security.md C3).
FORMULA_TRIGGERS = frozenset({"=", "+", "-", "@", "\t", "\r"})
#: Starts that get the quote: a workbook stores a carriage return as a line feed, so a
#: leading line feed is quoted too, or "\r=1" could not be told apart when read back.
_QUOTED_STARTS = FORMULA_TRIGGERS | {"\n"}
FORMATS = ("csv", "xlsx")

CSV_MIMETYPE = "text/csv; charset=utf-8"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_SNIFF_BYTES = 8192
_SAVE_AS = "Save your spreadsheet as “CSV UTF-8” or as an Excel workbook (.xlsx)."
_TOO_COMPLEX = (
    "This file is too large or too complex to read: a workbook may have up to "
    f"{MAX_ROWS:,} rows and {MAX_CELLS:,} cells in all. Split it into smaller files, "
    "or save it as CSV UTF-8."
)
_NOT_XLSX = (
    "This file is not an Excel workbook (.xlsx). If it is password-protected or an "
    "old .xls file, save it again as an .xlsx workbook or as CSV UTF-8."
)
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"PK\x03\x04", "a ZIP archive or an Excel workbook"),
    (b"%PDF", "a PDF document"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\xd0\xcf\x11\xe0", "an old Office file (.xls or .doc)"),
)
#: C0 control bytes that never occur in a text CSV (tab, line ends, form feed and
#: DOS end-of-file are allowed).
_BINARY_BYTES = frozenset(range(32)) - {9, 10, 12, 13, 26}
#: The same characters, looked for in every cell of every file (PostgreSQL cannot
#: store a NUL, and none of them belongs in a name or an answer).
_CONTROL = re.compile(
    "[" + "".join(re.escape(chr(b)) for b in sorted(_BINARY_BYTES)) + "]"
)
_READER = Path(__file__).with_name("xlsx_reader.py")
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
#: What a sheet tab's name may not hold (Excel's rule, which openpyxl enforces).
_SHEET_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\\x00-\x1f]")
_T = TypeVar("_T")


class TableError(ValidationError):
    """The file cannot be read as a table; the message says why and what to do."""


@dataclass(frozen=True)
class Row:
    """One data row: its number as a spreadsheet shows it (the header is row 1)."""

    number: int
    values: dict[str, str]
    #: Non-empty cells beyond the named columns (often an unquoted comma).
    extra_cells: int = 0


@dataclass(frozen=True)
class Table:
    """The normalised column names and the non-blank data rows of a file."""

    columns: tuple[str, ...]
    rows: list[Row] = field(default_factory=list)


def file_format(filename: str) -> str:
    """``csv`` or ``xlsx`` from a file name's extension, else TableError."""
    suffix = PurePath(filename).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise TableError(
            "The file must be a CSV file (.csv) or an Excel workbook (.xlsx)."
        )
    return suffix


def normalise_column(name: str) -> str:
    """``" Start date "`` → ``"start_date"``: how header cells are matched."""
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def read_table(source: IO[bytes], filename: str, *, max_rows: int = MAX_ROWS) -> Table:
    """Read a CSV or XLSX file (chosen by its extension) into rows of text.

    The content is checked against the extension, CSV is streamed (so a huge file is
    refused after ``max_rows`` rows without loading it), and cells written formula-safe
    by ``neutralise`` are read back as they were. Raises TableError with a message for
    the user when the file cannot be read.
    """
    return _read(source, filename, lambda lines: _table(lines, max_rows))


def read_grid(
    source: IO[bytes], filename: str, *, max_rows: int = MAX_ROWS
) -> list[tuple[int, list[str]]]:
    """Read every non-blank line of a CSV or XLSX file as (row number, cells).

    For files whose header is not one row of column names (SurveyMonkey's exports
    have two). The same checks and limits as ``read_table``; ``max_rows`` counts
    the header rows too.
    """
    return _read(source, filename, lambda lines: _grid(lines, max_rows))


def _read(
    source: IO[bytes],
    filename: str,
    build: Callable[[Iterator[tuple[int, list[str]]]], _T],
) -> _T:
    if file_format(filename) == "xlsx":
        return _read_xlsx(source, build)
    return _read_csv(source, build)


def _table(lines: Iterator[tuple[int, list[str]]], max_rows: int) -> Table:
    lines = _checked(lines)
    header = next(lines, None)
    if header is None:
        raise TableError("The file is empty.")
    columns = _columns(header[1])
    return Table(columns, _collect(columns, lines, max_rows))


def _grid(
    lines: Iterator[tuple[int, list[str]]], max_rows: int
) -> list[tuple[int, list[str]]]:
    grid: list[tuple[int, list[str]]] = []
    for number, cells in _checked(lines):
        if not any(cell.strip() for cell in cells):
            continue
        if len(grid) >= max_rows:
            raise TableError(
                f"The file has more than {max_rows:,} rows. "
                "Split it into smaller files."
            )
        grid.append((number, [restore(cell) for cell in cells]))
    if not grid:
        raise TableError("The file is empty.")
    return grid


def blank_columns(
    content: bytes, filename: str, keep: Callable[[str], bool], *, header_rows: int = 1
) -> bytes:
    """A CSV copy of a file with only the columns ``keep`` accepts filled in.

    The header rows stay whole (a tool is recognised by its column names) and every
    row keeps its number (the copy's error messages name the same rows); a column
    is judged by its name in the first row. Raises TableError as ``read_grid``.
    """
    grid = read_grid(io.BytesIO(content), filename, max_rows=MAX_ROWS + header_rows)
    kept = {i for i, name in enumerate(grid[0][1]) if keep(name)}
    rows: list[list[str]] = []
    for position, (number, cells) in enumerate(grid):
        rows.extend([] for _ in range(number - 1 - len(rows)))
        if position >= header_rows:
            cells = [cell if i in kept else "" for i, cell in enumerate(cells)]
        rows.append(cells)
    return write_csv(rows[0], rows[1:])


def copy_name(filename: str) -> str:
    """The name a ``blank_columns`` copy of ``filename`` is read by (it is CSV)."""
    return f"{PurePath(filename).stem or 'upload'}.csv"


# Reading CSV --------------------------------------------------------------------------


def _read_csv(
    source: IO[bytes], build: Callable[[Iterator[tuple[int, list[str]]]], _T]
) -> _T:
    head = source.read(_SNIFF_BYTES)
    _check_text(head)
    for encoding in ("utf-8-sig", "cp1252"):
        # A UTF-8 byte-order mark before bad UTF-8 is still not part of the text.
        source.seek(
            3 if encoding == "cp1252" and head.startswith(codecs.BOM_UTF8) else 0
        )
        text = io.TextIOWrapper(source, encoding=encoding, newline="")
        try:
            return _parse_csv(text, build, delimiter=_delimiter(head))
        except UnicodeDecodeError:
            continue
        finally:
            text.detach()  # leave the caller's file open
    raise TableError(f"The file’s text encoding is not recognised. {_SAVE_AS}")


def _check_text(head: bytes) -> None:
    if not head.strip():
        raise TableError("The file is empty.")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise TableError(f"The file is saved as UTF-16 (“Unicode Text”). {_SAVE_AS}")
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            raise TableError(
                f"This is not a CSV file: it looks like {kind}. {_SAVE_AS}"
            )
    if any(byte in _BINARY_BYTES for byte in head):
        raise TableError(f"This is not a CSV file: it holds binary data. {_SAVE_AS}")


def _delimiter(head: bytes) -> str:
    """What separates the columns: a comma, unless the first line has none and has
    semicolons (as Excel saves CSV where the comma is the decimal mark) or tabs."""
    first = head.split(b"\n", 1)[0]
    if b"," not in first:
        for other in (b";", b"\t"):
            if other in first:
                return other.decode()
    return ","


def _parse_csv(
    text: IO[str],
    build: Callable[[Iterator[tuple[int, list[str]]]], _T],
    *,
    delimiter: str = ",",
) -> _T:
    reader = csv.reader(text, delimiter=delimiter)
    try:
        return build(enumerate(reader, start=1))
    except csv.Error as error:
        if "field larger than field limit" in str(error):
            # The csv module's own words, for a cell longer than it reads.
            raise TableError(
                f"Row {reader.line_num} has a cell of more than "
                f"{csv.field_size_limit():,} characters, more than any column can "
                "hold. Shorten it and upload the file again."
            ) from error
        raise TableError(
            f"Row {reader.line_num} could not be read as CSV: {_csv_problem(error)}. "
            f"{_SAVE_AS}"
        ) from error


def _csv_problem(error: csv.Error) -> str:
    """The csv module's complaint in plain words, where we know it."""
    text = str(error)
    if "new-line character seen in unquoted field" in text:
        return "a line break falls inside a cell that is not in quotes"
    return text


# Reading XLSX -------------------------------------------------------------------------


def _read_xlsx(
    source: IO[bytes], build: Callable[[Iterator[tuple[int, list[str]]]], _T]
) -> _T:
    _check_workbook(source)
    lines = _workbook_lines(source.read())
    try:
        return build(_rows(lines))
    except TableError as error:
        if error.message == "The file is empty.":
            raise TableError("The first worksheet is empty.") from error
        raise


def _workbook_lines(data: bytes) -> list[str]:
    """The JSON lines ``xlsx_reader`` writes for a workbook, within the time limit."""
    try:
        # Our own script, run by this interpreter, on bytes: no shell, no user input
        # in the command line.
        done = subprocess.run(  # noqa: S603  # nosec B603
            [sys.executable, "-I", str(_READER), str(MAX_CELLS)],
            input=data,
            capture_output=True,
            timeout=XLSX_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise TableError(_TOO_COMPLEX) from error
    lines = done.stdout.decode("utf-8").splitlines()
    try:
        ending = json.loads(lines[-1]) if lines else {}
        how = ending["end"] if lines else "crashed"
    except (ValueError, KeyError, TypeError):
        how, ending = "crashed", {}
    if how == "ok":
        return lines[:-1]
    if how == "unsaved-formulas":
        raise TableError(_unsaved_formulas(ending.get("cells", [])))
    if how == "no-sheet":
        raise TableError("The workbook has no worksheet.")
    if how == "not-xlsx":
        raise TableError(_NOT_XLSX)
    # too-large, or the process was stopped (out of memory)
    raise TableError(_TOO_COMPLEX)


def _unsaved_formulas(cells: list[str]) -> str:
    """Why a workbook whose formulas have no saved result is refused."""
    named = ", ".join(str(cell) for cell in cells)
    where = f"Cell {named} holds" if len(cells) == 1 else f"Cells {named} hold"
    return (
        f"{where} a formula whose result is not saved in the file, so it would be "
        "read as empty. Open the workbook in Excel or LibreOffice, save it, and "
        "upload it again (or paste the values in place of the formulas)."
    )


def _rows(lines: list[str]) -> Iterator[tuple[int, list[str]]]:
    for line in lines:
        number, cells = json.loads(line)
        yield int(number), [str(cell) for cell in cells]


def _check_workbook(source: IO[bytes]) -> None:
    try:
        with zipfile.ZipFile(source) as archive:
            names = set(archive.namelist())
            unzipped = sum(info.file_size for info in archive.infolist())
    # NotImplementedError: a damaged header claiming a newer zip version (fuzzing).
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as error:
        raise TableError(_NOT_XLSX) from error
    if "xl/workbook.xml" not in names:
        raise TableError(_NOT_XLSX)
    if unzipped > MAX_UNZIPPED_BYTES:
        raise TableError(_TOO_COMPLEX)
    source.seek(0)


# Shared reading -----------------------------------------------------------------------


def _checked(
    lines: Iterator[tuple[int, list[str]]],
) -> Iterator[tuple[int, list[str]]]:
    """The lines, refusing the file at the first cell with a control character."""
    for number, cells in lines:
        if any(_CONTROL.search(cell) for cell in cells):
            raise TableError(
                f"Row {number:,} holds a control character (such as a NUL byte), "
                f"which text never has: the file may be damaged. {_SAVE_AS}"
            )
        yield number, cells


def _columns(header: Sequence[str]) -> tuple[str, ...]:
    columns = tuple(normalise_column(cell) for cell in header)
    if not any(columns):
        raise TableError("The first row must hold the column names.")
    named = [c for c in columns if c]
    for name in named:
        if named.count(name) > 1:
            raise TableError(f"The column “{name}” appears more than once.")
    return columns


def _collect(
    columns: tuple[str, ...], lines: Iterator[tuple[int, list[str]]], max_rows: int
) -> list[Row]:
    rows: list[Row] = []
    for number, cells in lines:
        if not any(cell.strip() for cell in cells):
            continue  # blank lines between blocks are common in spreadsheets
        if len(rows) >= max_rows:
            raise TableError(
                f"The file has more than {max_rows:,} rows. "
                "Split it into smaller files."
            )
        values = {
            name: restore(cell)
            for name, cell in zip(columns, cells, strict=False)
            if name
        }
        extra = sum(
            1
            for index, cell in enumerate(cells)
            if cell.strip() and (index >= len(columns) or not columns[index])
        )
        rows.append(Row(number, values, extra))
    return rows


# Formula safety -----------------------------------------------------------------------


def neutralise(value: object) -> str:
    """Text for an exported cell that no spreadsheet will run as a formula.

    A cell starting with ``= + - @``, a tab or a carriage return (or a line feed)
    gets a leading ``'`` (docs/security.md C3). So that ``restore`` can undo it exactly,
    text that already starts with quotes followed by such a character gets one more.
    """
    text = "" if value is None else str(value)
    if text.lstrip("'")[:1] in _QUOTED_STARTS:
        return "'" + text
    return text


def restore(text: str) -> str:
    """Undo ``neutralise`` on an imported cell (other text is returned unchanged)."""
    if text.startswith("'") and text[1:].lstrip("'")[:1] in _QUOTED_STARTS:
        return text[1:]
    return text


def same_text(first: str, second: str) -> bool:
    """Equal apart from line endings (forms send CRLF; workbooks keep only LF)."""
    return unix_newlines(first) == unix_newlines(second)


def unix_newlines(text: str) -> str:
    """Every CRLF and CR turned into LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


# Writing ------------------------------------------------------------------------------


def write_csv(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """A formula-safe CSV (RFC 4180 quoting, CRLF) in UTF-8 with a BOM for Excel."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise(c) for c in columns])
    for row in rows:
        writer.writerow([_csv_cell(value) for value in row])
    return buffer.getvalue().encode("utf-8-sig")


def _csv_cell(value: object) -> str:
    # A number Engage worked out is written as it is: "-16.7" is a number to a
    # spreadsheet, not a formula, and "'-16.7" would be text it cannot add up.
    return str(value) if _is_number(value) else neutralise(value)


def _is_number(value: object) -> bool:
    """A finite int or float (not a truth value): a cell that is a number."""
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


def write_xlsx(
    columns: Sequence[str], rows: Iterable[Sequence[object]], *, title: str = "Sheet1"
) -> bytes:
    """A formula-safe workbook: numbers are stored as numbers, days as dates,
    everything else as text, never as a formula."""
    return write_workbook([(title, columns, rows)])


def write_workbook(
    sheets: Iterable[tuple[str, Sequence[str], Iterable[Sequence[object]]]],
) -> bytes:
    r"""A formula-safe workbook of several sheets, each (title, columns, rows).

    Titles are made fit for a sheet tab: at most 31 characters, none of ``[]:*?/\``,
    and different from every earlier tab (a number is added).
    """
    workbook = openpyxl.Workbook(write_only=True)
    used: set[str] = set()
    for title, columns, rows in sheets:
        sheet = workbook.create_sheet(_sheet_title(title, used))
        sheet.append([_text_cell(sheet, c) for c in columns])
        for row in rows:
            sheet.append([_cell(sheet, value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _sheet_title(title: str, used: set[str]) -> str:
    plain = " ".join(_SHEET_TITLE_FORBIDDEN.sub(" ", title).split()).strip("'")
    plain = plain or "Sheet"
    candidate, number = plain[:31], 2
    while candidate.lower() in used:  # tab names are compared ignoring case
        suffix = f" {number}"
        candidate, number = plain[: 31 - len(suffix)] + suffix, number + 1
    used.add(candidate.lower())
    return candidate


def _cell(sheet: Any, value: object) -> Any:
    """Numbers stay numbers and days are dates (neither can be a formula); everything
    else is text."""
    if _is_number(value):
        return WriteOnlyCell(sheet, value=value)
    if isinstance(value, date) and not isinstance(value, datetime):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "DD/MM/YYYY"
        return cell
    return _text_cell(sheet, value)


def _text_cell(sheet: Any, value: object) -> Any:
    # XML 1.0 cannot hold most control characters (openpyxl would refuse them), and
    # reading it back turns every carriage return into a line feed.
    text = unix_newlines(_ILLEGAL_XML.sub("", neutralise(value)))
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"  # openpyxl guesses "f" for "=…" and "e" for "#N/A"
    return cell


def write_table(
    fmt: str, columns: Sequence[str], rows: Iterable[Sequence[object]], *, title: str
) -> bytes:
    """Write ``rows`` as ``csv`` or ``xlsx``."""
    if fmt == "xlsx":
        return write_xlsx(columns, rows, title=title)
    if fmt == "csv":
        return write_csv(columns, rows)
    raise ValueError(f"unknown table format: {fmt!r}")


def row_count(rows: int) -> str:
    """How many rows a download holds, in words: "1 row", "2,400 rows"."""
    return "1 row" if rows == 1 else f"{rows:,} rows"


def mimetype(fmt: str) -> str:
    """The Content-Type of a table format."""
    return XLSX_MIMETYPE if fmt == "xlsx" else CSV_MIMETYPE
