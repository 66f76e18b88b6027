"""Fuzz the formula neutraliser, alone and through CSV/XLSX round trips (C3)."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engage.imports.tabular import neutralise
from engage.imports.tabular import read_table
from engage.imports.tabular import restore
from engage.imports.tabular import unix_newlines
from engage.imports.tabular import write_table
from tests.fuzz.conftest import FUZZ
from tests.fuzz.conftest import FUZZ_HEAVY

#: Files and text only: the SQLite run alone runs these.
pytestmark = pytest.mark.pure

TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
# XLSX (XML) cannot hold most control characters; CSV cells hold any text but NUL.
CELL = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\x00")
    | st.sampled_from(["=", "+", "-", "@", "'", "\t", "\n", "\r"]),
    max_size=40,
)


@FUZZ
@given(st.one_of(st.none(), st.integers(), st.text(), CELL))
def test_neutralised_text_never_starts_a_formula_and_restores(value: object) -> None:
    text = neutralise(value)
    assert not text.startswith(TRIGGERS)
    assert restore(text) == ("" if value is None else str(value))


@FUZZ_HEAVY
@given(
    st.lists(st.tuples(CELL, CELL), min_size=1, max_size=8),
    st.sampled_from(["csv", "xlsx"]),
)
def test_exported_cells_read_back_as_written(
    rows: list[tuple[str, str]], fmt: str
) -> None:
    content = write_table(fmt, ["audience", "notes"], rows, title="Fuzz")
    table = read_table(io.BytesIO(content), f"export.{fmt}")
    # read_table undoes neutralise itself: the cells come back as written.
    read_back = [(row.values["audience"], row.values["notes"]) for row in table.rows]
    # Rows blank as written are skipped; line endings may become LF (as in workbooks).
    expected = [
        (unix_newlines(a), unix_newlines(b))
        for a, b in rows
        if neutralise(a).strip() or neutralise(b).strip()
    ]
    assert [(unix_newlines(a), unix_newlines(b)) for a, b in read_back] == expected
