"""Audit forms: the filters on the admin audit list."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms.validators import Optional

from engage.audit.words import action_name
from engage.audit.words import record_type_name
from engage.formtools import DateField
from engage.formtools import SelectField
from engage.formtools import choices
from engage.formtools import parse_id


class AuditFilterForm(FlaskForm):  # type: ignore[misc]
    """Filters read from the query string (GET, so no CSRF token)."""

    class Meta:
        csrf = False

    actor = SelectField("Who", parse=parse_id)
    action = SelectField("What they did", default="")
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
        # Shown by plain names; the codes stay as the values in the address.
        named_actions = sorted(((a, action_name(a)) for a in actions), key=_by_name)
        named_types = sorted(
            ((t, record_type_name(t)) for t in entity_types), key=_by_name
        )
        self.action.choices = choices([("", "Anything"), *named_actions])
        self.entity_type.choices = choices([("", "Any record"), *named_types])


def _by_name(choice: tuple[str, str]) -> str:
    return choice[1].lower()
