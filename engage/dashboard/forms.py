"""Dashboard forms: the period and programme filters (GET forms, so no CSRF), and
the board report's commentary.

A period is chosen from menus, never typed: a kind (month, quarter, year or custom
dates) and, for the first three, a menu of the periods of that kind by name ("Q4
2026 (October to December, to date)"). Each menu's values are the ``period`` query
values (``2026-07``, ``2026-Q3``, ``2026``) that bookmarks and the API use.
"""

from __future__ import annotations

import contextlib
from datetime import date
from typing import Any

from flask_wtf import FlaskForm
from wtforms.validators import Optional

from engage.dashboard import periods
from engage.dashboard.commentary import MAX_COMMENTARY
from engage.dashboard.periods import PeriodKind
from engage.errors import ValidationError
from engage.formtools import DateField
from engage.formtools import RadioField
from engage.formtools import SelectField
from engage.formtools import choices
from engage.formtools import enum_parser
from engage.formtools import parse_id
from engage.formtools import text

#: The kinds of period chosen from a menu (each menu is the form field of that name).
MENU_KINDS = (PeriodKind.MONTH, PeriodKind.QUARTER, PeriodKind.YEAR)


def _menu_field(kind: str) -> Any:
    message = f"Choose a {kind} from the list"
    return SelectField(
        f"Which {kind}",
        optional=True,
        invalid_choice_message=message,
        invalid_value_message=message,
    )


def fill_menu(field: Any, kind: PeriodKind, today: date) -> None:
    """Offer ``field`` the periods of ``kind`` by name, keeping a bookmarked one.

    A sent value written another way ("2026-q3") is read as the period it names.
    """
    asked = field.data if isinstance(field.data, str) else None
    field.choices = choices(
        (period.value, period.label)
        for period in periods.menu(kind, today, asked=asked)
    )
    # Not a period at all: the field says so when it is validated.
    if asked:
        with contextlib.suppress(ValidationError):
            field.data = periods.parse_period(kind.value, asked, today=today).value


class DashboardFilterForm(FlaskForm):  # type: ignore[misc]
    """Which period and programme the dashboard shows."""

    class Meta:
        csrf = False

    period = RadioField(
        "Period",
        choices=choices([(k.value, k.label) for k in PeriodKind]),
        default=PeriodKind.QUARTER,
        parse=enum_parser(PeriodKind),
        optional=True,
    )
    month = _menu_field("month")
    quarter = _menu_field("quarter")
    year = _menu_field("year")
    start = DateField("From", called="The start date", validators=[Optional()])
    end = DateField("To", called="The end date", validators=[Optional()])
    programme = SelectField("Programme", parse=parse_id)

    def __init__(
        self,
        *args: Any,
        programmes: list[tuple[int, str]],
        today: date,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.programme.choices = choices([("", "All programmes"), *programmes])
        for kind in MENU_KINDS:
            fill_menu(self[kind.value], kind, today)

    @property
    def kind(self) -> PeriodKind:
        """The kind of period chosen (a quarter when none, or none that exists)."""
        return self.period.data or PeriodKind.QUARTER

    def validate_choice(self) -> bool:
        """Validate, keeping only the errors of the fields the chosen kind uses."""
        self.validate()
        used = {"period", "programme"} | (
            {"start", "end"} if self.kind is PeriodKind.CUSTOM else {self.kind.value}
        )
        for name, field in self._fields.items():
            if name not in used:
                field.errors = []
        return not any(field.errors for field in self)


class BoardReportForm(FlaskForm):  # type: ignore[misc]
    """Which quarter the board report shows, from a menu."""

    class Meta:
        csrf = False

    quarter = _menu_field("quarter")

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fill_menu(self.quarter, PeriodKind.QUARTER, today)


class CommentaryForm(FlaskForm):  # type: ignore[misc]
    """The lead's commentary on a quarter's board report."""

    body = text(
        "Commentary",
        description=f"Up to {MAX_COMMENTARY:,} characters. Leave a blank line "
        "between paragraphs.",
        max_length=MAX_COMMENTARY,
        lines=True,
        trim=True,
    )
