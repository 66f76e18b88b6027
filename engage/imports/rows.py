"""Reading one row of an import: each cell parsed and checked, every problem collected.

The features' importers (``engage.<feature>.transfer``) read their rows with
``RowReader``; a row they cannot use raises ``RowInvalid``, whose problems the engine
(``engage.imports.services``) lists on the preview against the row's number.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from collections.abc import Sequence
from datetime import date
from datetime import datetime
from typing import TypeVar


class RowInvalid(Exception):
    """Raised by an importer for a row it cannot use, with every problem found."""

    def __init__(self, messages: Sequence[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = list(messages)


E = TypeVar("E", bound=enum.Enum)
T = TypeVar("T")


class RowReader:
    """Reads one row's cells, collecting every problem instead of stopping at one."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = values
        self.problems: list[str] = []

    def has(self, column: str) -> bool:
        """True when the file has this column (even if this row leaves it blank)."""
        return column in self.values

    def problem(self, message: str) -> None:
        """Note a problem with the row."""
        self.problems.append(message)

    def text(
        self,
        column: str,
        *,
        label: str,
        max_length: int,
        required: bool = False,
        strip: bool = True,
    ) -> str:
        """The cell's text (trimmed unless ``strip`` is False); checks blank and length.

        Free text such as notes is kept exactly as written, so that an export imports
        back unchanged.
        """
        value = self.values.get(column, "")
        value = value.strip() if strip else value
        if required and not value.strip():
            self.problem(f"Enter {label}.")
        elif len(value) > max_length:
            self.problem(
                f"{label[:1].upper()}{label[1:]} must be {max_length:,} characters "
                "or fewer."
            )
        return value

    def choice(
        self, column: str, choices: type[E], *, label: str, required: bool = False
    ) -> E | None:
        """One of an enum's values (case, spaces and hyphens ignored); None if blank."""
        written = self.values.get(column, "").strip()
        if not written:
            if required:
                self.problem(f"Enter the {label} ({_listing(choices)}).")
            return None
        wanted = _folded(written)
        for member in choices:
            if _folded(str(member.value)) == wanted:
                return member
        self.problem(
            f"The {label} must be one of {_listing(choices)}, not “{written}”."
        )
        return None

    def whole_number(
        self, column: str, *, label: str, low: int, high: int
    ) -> int | None:
        """A whole number from ``low`` to ``high``; None if blank."""
        written = self.values.get(column, "").strip()
        if not written:
            return None
        try:
            number = int(written)
        except ValueError:
            number = None
        if number is None or not low <= number <= high:
            self.problem(
                f"The {label} must be a whole number from {low} to {high}, "
                f"not “{written}”."
            )
            return None
        return number

    def day(self, column: str, *, label: str) -> date | None:
        """A date written as 31/07/2026 or 2026-07-31; None if blank."""
        written = self.values.get(column, "").strip()
        if not written:
            return None
        day = parse_day(written)
        if day is None:
            self.problem(
                f"The {label} must be a date written like 31/07/2026 or 2026-07-31, "
                f"not “{written}”."
            )
        return day

    def check(self) -> None:
        """Raise RowInvalid if any problem was noted."""
        if self.problems:
            raise RowInvalid(self.problems)

    def given(self, value: T | None) -> T:
        """A required value read above (its absence was noted as a problem)."""
        if value is None:
            raise RowInvalid(self.problems or ["A required value is missing."])
        return value


def parse_day(written: str) -> date | None:
    """The day in a cell: 31/07/2026 (as people in the UK write it), 2026-07-31, or
    the date of a date and time (2026-07-31 09:30, as a workbook's cell reads)."""
    written = written.strip()
    if len(written) >= 10 and written[4:5] == "-" and written[10:11] in ("", " ", "T"):
        try:
            return date.fromisoformat(written[:10])
        except ValueError:
            return None
    try:
        return datetime.strptime(written, "%d/%m/%Y").date()
    except ValueError:
        return None


def _folded(text: str) -> str:
    return "_".join(text.strip().lower().replace("-", " ").split())


def _listing(choices: type[enum.Enum]) -> str:
    """The values a cell may hold, as they may be written ("in progress")."""
    return ", ".join(str(member.value).replace("_", " ") for member in choices)
