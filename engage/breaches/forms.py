"""Breach forms: one form to record or update a breach; times in UK local time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_wtf import FlaskForm
from wtforms import TimeField
from wtforms.validators import InputRequired
from wtforms.validators import NumberRange
from wtforms.validators import Optional

from engage.breaches.models import Breach
from engage.clock import local_to_utc
from engage.clock import to_local
from engage.formtools import MAX_INT
from engage.formtools import DateField
from engage.formtools import IntegerField
from engage.formtools import text

LOCAL_HINT = "UK time (GMT or BST, as on a clock in England), 24-hour, e.g. 14:30."
#: Pairs of (date field, time field) read as one moment.
MOMENTS = {
    "discovered_at": ("discovered_on", "discovered_time"),
    "reported_to_ico_at": ("reported_on", "reported_time"),
    "closed_at": ("closed_on", "closed_time"),
}


class BreachForm(FlaskForm):  # type: ignore[misc]
    title = text(
        "Title",
        description="A short name, without naming anyone affected.",
        max_length=300,
        required="Enter a title",
    )
    description = text(
        "What happened",
        max_length=20000,
        required="Describe what happened",
        lines=True,
        trim=True,
    )
    discovered_on = DateField(
        "Date discovered",
        validators=[InputRequired("Enter the date the breach was discovered")],
    )
    discovered_time = TimeField(
        "Time discovered",
        description=LOCAL_HINT,
        validators=[InputRequired("Enter the time the breach was discovered")],
    )
    people_affected = IntegerField(
        "People affected (approximate)",
        validators=[
            Optional(),
            NumberRange(min=0, max=MAX_INT, message="Enter a number of people"),
        ],
        render_kw={"inputmode": "numeric"},
    )
    data_categories = text(
        "Categories of data",
        description="For example: names, email addresses, equality data.",
        max_length=500,
    )
    actions_taken = text(
        "Containment and actions taken", max_length=20000, lines=True, trim=True
    )
    reported_on = DateField("Date reported to the ICO", validators=[Optional()])
    reported_time = TimeField(
        "Time reported to the ICO", description=LOCAL_HINT, validators=[Optional()]
    )
    ico_reference = text("ICO reference", max_length=100)
    closed_on = DateField("Date closed", validators=[Optional()])
    closed_time = TimeField(
        "Time closed", description=LOCAL_HINT, validators=[Optional()]
    )

    def validate(self, extra_validators: Any = None) -> bool:
        valid: bool = super().validate(extra_validators)
        # Optional() stops a field's own validators, so pairs are checked here.
        for day, clock in list(MOMENTS.values())[1:]:
            if (self[day].data is None) != (self[clock].data is None) and not (
                self[day].errors or self[clock].errors
            ):
                self[day].errors = ["Enter both the date and the time, or neither"]
                valid = False
        return valid

    def values(self) -> dict[str, object]:
        """The service's values: local date + time pairs become aware UTC datetimes."""
        values: dict[str, object] = {
            "title": self.title.data,
            "description": self.description.data or "",
            "people_affected": self.people_affected.data,
            "data_categories": self.data_categories.data or "",
            "actions_taken": self.actions_taken.data or "",
            "ico_reference": self.ico_reference.data or "",
        }
        for name, (day, clock) in MOMENTS.items():
            day_value, clock_value = self[day].data, self[clock].data
            values[name] = (
                local_to_utc(day_value, clock_value)
                if day_value is not None and clock_value is not None
                else None
            )
        return values

    def fill(self, breach: Breach) -> None:
        """Set the fields from ``breach`` (times shown in UK local time)."""
        for name in (
            "title",
            "description",
            "people_affected",
            "data_categories",
            "actions_taken",
            "ico_reference",
        ):
            self[name].data = getattr(breach, name)
        for name, (day, clock) in MOMENTS.items():
            moment: datetime | None = getattr(breach, name)
            if moment is not None:
                local = to_local(moment)
                self[day].data, self[clock].data = local.date(), local.time()
