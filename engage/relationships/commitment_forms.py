"""Commitment forms: adding or changing one, its status buttons, the filters."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms.validators import InputRequired
from wtforms.validators import Optional
from wtforms.validators import ValidationError as FormValidationError

from engage.formtools import DateField
from engage.formtools import OpenedAt
from engage.formtools import SelectField
from engage.formtools import choices
from engage.formtools import enum_parser
from engage.formtools import parse_id
from engage.formtools import text
from engage.relationships.commitments import MAX_DESCRIPTION
from engage.relationships.commitments import StatusFilter

#: The owner filter's value for the signed-in user.
MINE = "mine"


class CommitmentForm(FlaskForm):  # type: ignore[misc]
    opened_at = OpenedAt()
    description = text(
        "What was promised",
        description="For example: we will send the stroke review papers.",
        max_length=MAX_DESCRIPTION,
        required="Say what was promised",
        lines=True,
    )
    audience_id = SelectField(
        "To which audience",
        validators=[InputRequired("Choose the audience it was made to")],
        parse=parse_id,
    )
    owner_id = SelectField(
        "Owner",
        description="Who on the team will see it done.",
        validators=[InputRequired("Choose who owns the commitment")],
        parse=parse_id,
    )
    due_on = DateField(
        "Due date", validators=[InputRequired("Enter the date it is due")]
    )
    interaction_id = SelectField("Made at", parse=parse_id, optional=True)

    def __init__(
        self,
        *args: Any,
        audiences: list[tuple[int, str]],
        owners: list[tuple[int, str]],
        interactions: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.audience_id.choices = choices([("", "Choose an audience"), *audiences])
        self.owner_id.choices = choices([("", "Choose an owner"), *owners])
        self.interaction_id.choices = choices(
            [("", "Not from a logged interaction"), *interactions]
        )


class StatusChangeForm(FlaskForm):  # type: ignore[misc]
    """The done, dropped and reopen buttons (each sends its own ``status_change``)."""

    status_change = SelectField(
        "Change",
        choices=choices(
            [("done", "Mark as done"), ("dropped", "Drop"), ("reopen", "Reopen")]
        ),
        validators=[InputRequired()],
    )


def parse_owner(value: object) -> int | str | None:
    """The owner filter: "mine", an id, or None for anyone."""
    if value == MINE:
        return MINE
    return parse_id(value)


class RegisterFilterForm(FlaskForm):  # type: ignore[misc]
    """The register's filters, read from the query string (GET, so no CSRF token)."""

    class Meta:
        csrf = False

    status = SelectField(
        "Status",
        choices=choices((s.value, s.label) for s in StatusFilter),
        default=StatusFilter.OPEN,
        parse=enum_parser(StatusFilter),
        optional=True,
    )
    audience = SelectField("Audience", parse=parse_id)
    owner = SelectField("Owner", parse=parse_owner)
    due_from = DateField(
        "Due from", called="The first due date", validators=[Optional()]
    )
    due_to = DateField("Due by", called="The last due date", validators=[Optional()])

    def __init__(
        self,
        *args: Any,
        audiences: list[tuple[int, str]],
        owners: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.audience.choices = choices([("", "Any audience"), *audiences])
        self.owner.choices = choices([("", "Anyone"), (MINE, "Me"), *owners])

    def validate_due_to(self, field: Any) -> None:
        if field.data and self.due_from.data and field.data < self.due_from.data:
            raise FormValidationError("The last due date must be after the first")
