"""Dashboard forms: the period and programme filters (a GET form, so no CSRF), and
the board report's commentary."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length
from wtforms.validators import Optional

from engage.dashboard.commentary import MAX_COMMENTARY
from engage.dashboard.periods import PeriodKind
from engage.formtools import DateField
from engage.formtools import SelectField
from engage.formtools import choices
from engage.formtools import enum_parser
from engage.formtools import parse_id
from engage.formtools import text


class DashboardFilterForm(FlaskForm):  # type: ignore[misc]
    """Which period and programme the dashboard shows."""

    class Meta:
        csrf = False

    period = SelectField(
        "Period",
        choices=choices([(k.value, k.label) for k in PeriodKind]),
        default=PeriodKind.QUARTER,
        parse=enum_parser(PeriodKind),
        optional=True,
    )
    value = StringField(
        "Which month, quarter or year",
        description="For example 2026-07, 2026-Q3 or 2026. Empty: the current one.",
        validators=[Optional(), Length(max=20)],
    )
    start = DateField("Custom dates: from", validators=[Optional()])
    end = DateField("Custom dates: to", validators=[Optional()])
    programme = SelectField("Programme", parse=parse_id)

    def __init__(
        self, *args: Any, programmes: list[tuple[int, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.programme.choices = choices([("", "All programmes"), *programmes])


class CommentaryForm(FlaskForm):  # type: ignore[misc]
    """The lead's commentary on a quarter's board report."""

    body = text(
        "Commentary (optional)",
        description=f"Up to {MAX_COMMENTARY:,} characters. Leave a blank line "
        "between paragraphs.",
        max_length=MAX_COMMENTARY,
        lines=True,
        trim=True,
    )
