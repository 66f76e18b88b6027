"""Audit forms: the filters on the admin audit list."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms.validators import Optional

from engage.formtools import DateField
from engage.formtools import SelectField
from engage.formtools import choices
from engage.formtools import parse_id


class AuditFilterForm(FlaskForm):  # type: ignore[misc]
    """Filters read from the query string (GET, so no CSRF token)."""

    class Meta:
        csrf = False

    actor = SelectField("Who", parse=parse_id)
    action = SelectField("Action", default="")
    entity_type = SelectField("Record type", default="")
    date_from = DateField("From", called="The first date", validators=[Optional()])
    date_to = DateField("To", called="The last date", validators=[Optional()])

    def __init__(
        self,
        *args: Any,
        actors: list[tuple[int, str]],
        actions: list[str],
        entity_types: list[str],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.actor.choices = choices([("", "Anyone"), *actors])
        self.action.choices = choices([("", "Any action"), *((a, a) for a in actions)])
        self.entity_type.choices = choices(
            [("", "Any type"), *((t, t) for t in entity_types)]
        )
