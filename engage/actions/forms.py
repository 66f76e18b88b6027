"""Action plan forms: actions, deliveries, objectives, channels and plan filters."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import FieldList
from wtforms import Form as BaseForm
from wtforms import FormField
from wtforms import StringField
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import NumberRange
from wtforms.validators import Optional
from wtforms.validators import ValidationError as FormValidationError

from engage.actions.models import ActionStatus
from engage.actions.models import Recurrence
from engage.actions.services import SortKey
from engage.formtools import MAX_INT
from engage.formtools import DateField
from engage.formtools import IntegerField
from engage.formtools import MultiCheckboxField
from engage.formtools import OpenedAt
from engage.formtools import RadioField
from engage.formtools import SelectField
from engage.formtools import choices
from engage.formtools import enum_parser
from engage.formtools import parse_id
from engage.formtools import strip
from engage.formtools import text

RECURRENCE_CHOICES = choices((r.value, r.label) for r in Recurrence)
STATUS_CHOICES = choices((s.value, s.label) for s in ActionStatus)


class ActionForm(FlaskForm):  # type: ignore[misc]
    opened_at = OpenedAt()
    title = text("Action", max_length=300, required="Enter what the action is")
    channel_id = SelectField(
        "Channel", validators=[InputRequired("Choose a channel")], parse=parse_id
    )
    all_audiences = BooleanField("Aimed at every audience")
    audience_ids = MultiCheckboxField("Audiences", parse=parse_id)
    audience_note = text(
        "Other audiences, as written",
        description="Audiences not on the map, for example Stakeholders.",
        max_length=500,
    )
    objective_id = SelectField("Objective", parse=parse_id)
    programme_id = SelectField("Programme", parse=parse_id)
    owner_ids = MultiCheckboxField(
        "Owners", description="Staff who deliver the action.", parse=parse_id
    )
    responsibility = text(
        "Responsibility outside Engage",
        description="Roles or teams without an Engage account, e.g. Provider "
        "communications team.",
        max_length=500,
    )
    start_date = DateField("Start date", validators=[Optional()])
    due_date = DateField("Due date", validators=[Optional()])
    timescale = text(
        "Timescale as written",
        description='When there is no exact date yet, e.g. "TBC" or "Autumn 2012".',
        max_length=200,
    )
    recurrence = RadioField(
        "Repeats",
        choices=RECURRENCE_CHOICES,
        default=Recurrence.NONE,
        parse=enum_parser(Recurrence),
    )
    status = SelectField(
        "Status",
        choices=STATUS_CHOICES,
        default=ActionStatus.PLANNED,
        parse=enum_parser(ActionStatus),
    )
    success_measure = text(
        "Success measure",
        description="How you will know it worked.",
        max_length=5000,
        lines=True,
    )

    def __init__(
        self,
        *args: Any,
        channels: list[tuple[int, str]],
        audiences: list[tuple[int, str]],
        objectives: list[tuple[int, str]],
        programmes: list[tuple[int, str]],
        owners: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.channel_id.choices = choices([("", "Choose a channel"), *channels])
        self.audience_ids.choices = choices(audiences)
        self.objective_id.choices = choices([("", "None"), *objectives])
        self.programme_id.choices = choices([("", "None"), *programmes])
        self.owner_ids.choices = choices(owners)

    def validate_due_date(self, field: Any) -> None:
        if field.data and self.start_date.data and field.data < self.start_date.data:
            raise FormValidationError("The due date must be on or after the start date")


class FigureForm(BaseForm):  # type: ignore[misc]
    """One reach figure; blank rows are ignored."""

    measure = StringField(
        "What was counted", filters=[strip], validators=[Optional(), Length(max=100)]
    )
    number = IntegerField("Number", validators=[Optional(), NumberRange(min=0)])

    def validate(self, extra_validators: Any = None) -> bool:
        # Both fields are optional on their own (so Optional() stops their chains);
        # the pair is checked here. Each box has one message, naming its row's figure
        # (the error summary lists every row's).
        valid: bool = super().validate(extra_validators)
        if self.number.errors:
            self.number.errors = [self._number_problem()]
        elif self.measure.data and self.number.data is None:
            self.number.errors = [f"Enter a number for {self.measure.data}"]
            valid = False
        if self.number.data is not None and not self.measure.data:
            self.measure.errors = [f"Say what the number {self.number.data:,} counts"]
            valid = False
        return valid

    def _number_problem(self) -> str:
        """What is wrong with the number typed, in words."""
        what = (
            f"The number for {self.measure.data}" if self.measure.data else "The number"
        )
        try:
            number = int((self.number.raw_data or [""])[0].strip())
        except ValueError:
            return f"{what} must be a whole number, like 412"
        if number < 0:
            return f"{what} must be 0 or more"
        return f"{what} must be {MAX_INT:,} or less"


class DeliveryForm(FlaskForm):  # type: ignore[misc]
    occurred_on = DateField(
        "Date delivered", validators=[InputRequired("Enter the date it happened")]
    )
    description = text(
        "What happened",
        description="For example: March GP newsletter sent.",
        max_length=500,
        required="Say what happened",
    )
    audience_ids = MultiCheckboxField("Audiences reached", parse=parse_id)
    figures = FieldList(FormField(FigureForm), min_entries=4, max_entries=10)
    notes = text("Notes", max_length=5000, lines=True)
    complete = BooleanField("This completes the action")

    def __init__(
        self, *args: Any, audiences: list[tuple[int, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.audience_ids.choices = choices(audiences)


class StatusForm(FlaskForm):  # type: ignore[misc]
    status = SelectField(
        "Status",
        choices=STATUS_CHOICES,
        validators=[InputRequired()],
        parse=enum_parser(ActionStatus),
    )


class ObjectiveForm(FlaskForm):  # type: ignore[misc]
    title = text("Objective", max_length=200, required="Enter the objective")
    message = text("Key message", max_length=5000, lines=True)
    desired_outcome = text("Desired outcome", max_length=5000, lines=True)
    responsible = text("Responsible", max_length=200)
    due_date = DateField("Due date", validators=[Optional()])


class ChannelForm(FlaskForm):  # type: ignore[misc]
    name = text("Channel name", max_length=100, required="Enter a name")
    is_active = BooleanField("Offer this channel for new actions", default=True)


SORT_CHOICES = choices(
    [
        (SortKey.DUE.value, "Next due date"),
        (SortKey.TITLE.value, "Action"),
        (SortKey.STATUS.value, "Status"),
        (SortKey.CHANNEL.value, "Channel"),
    ]
)


class PlanFilterForm(FlaskForm):  # type: ignore[misc]
    """The plan's filters, read from the query string (GET, so no CSRF token)."""

    class Meta:
        csrf = False

    q = StringField("Search", validators=[Optional(), Length(max=200)])
    owner = SelectField("Owner", parse=parse_id)
    status = SelectField("Status", parse=enum_parser(ActionStatus))
    channel = SelectField("Channel", parse=parse_id)
    audience = SelectField("Audience", parse=parse_id)
    programme = SelectField("Programme", parse=parse_id)
    due_from = DateField(
        "Due from", called="The first due date", validators=[Optional()]
    )
    due_to = DateField("Due by", called="The last due date", validators=[Optional()])
    overdue = BooleanField("Only overdue actions")
    unscheduled = BooleanField("Only unscheduled actions")
    sort = SelectField(
        "Sort by",
        choices=SORT_CHOICES,
        default=SortKey.DUE,
        parse=enum_parser(SortKey),
        optional=True,
    )
    order = RadioField(
        "Order",
        choices=choices([("asc", "Ascending"), ("desc", "Descending")]),
        default="asc",
        optional=True,
    )

    def __init__(
        self,
        *args: Any,
        owners: list[tuple[int, str]],
        channels: list[tuple[int, str]],
        audiences: list[tuple[int, str]],
        programmes: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.owner.choices = choices([("", "Anyone"), *owners])
        self.status.choices = choices(
            [("", "Any status"), *((s.value, s.label) for s in ActionStatus)]
        )
        self.channel.choices = choices([("", "Any channel"), *channels])
        self.audience.choices = choices([("", "Any audience"), *audiences])
        self.programme.choices = choices([("", "Any programme"), *programmes])
