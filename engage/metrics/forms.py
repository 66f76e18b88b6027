"""Metrics forms: metric definitions, observations, feeds, mention tone and filters."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms.validators import InputRequired
from wtforms.validators import Optional
from wtforms.validators import ValidationError as WTFormsValidationError

from engage.formtools import DateField
from engage.formtools import FloatField
from engage.formtools import OpenedAt
from engage.formtools import RadioField
from engage.formtools import SelectField
from engage.formtools import choices
from engage.formtools import enum_parser
from engage.formtools import parse_id
from engage.formtools import text
from engage.metrics.models import MetricKind
from engage.metrics.models import ReportPeriod
from engage.metrics.models import Stage
from engage.metrics.models import TargetPeriod
from engage.metrics.models import Tone

KIND_CHOICES = choices((k.value, k.label) for k in MetricKind)
STAGE_CHOICES = choices((s.value, f"{s.label}: {s.hint}") for s in Stage)
TARGET_PERIOD_CHOICES = choices(
    [("", "No target"), *((p.value, f"Per {p.value}") for p in TargetPeriod)]
)
TONE_CHOICES = choices([*((t.value, t.label) for t in Tone), ("", "Not set")])


class MetricForm(FlaskForm):  # type: ignore[misc]
    opened_at = OpenedAt()
    key = text(
        "Key",
        description="A short stable name for imports, e.g. newsletter-readers.",
        max_length=100,
        required="Enter a key",
    )
    name = text("Name", max_length=200, required="Enter a name")
    unit = text(
        "Unit",
        description="What one is: readers, visits, followers. Targets are shown in "
        "it, and only metrics of the same unit and stage are ever added together.",
        max_length=50,
        required="Enter the unit, for example readers",
    )
    stage = RadioField(
        "Stage",
        description="Its place in the Government Communication Service evaluation "
        "framework. Only outputs count as reach.",
        choices=STAGE_CHOICES,
        default=Stage.OUTPUT.value,
        validators=[InputRequired("Choose the stage")],
        parse=enum_parser(Stage),
    )
    description = text("Description", max_length=5000, lines=True)
    kind = RadioField(
        "Kind",
        choices=KIND_CHOICES,
        validators=[InputRequired("Choose the kind")],
        parse=enum_parser(MetricKind),
    )
    higher_is_better = BooleanField("Higher is better", default=True)
    target_value = FloatField("Target", validators=[Optional()])
    target_period = SelectField(
        "Target period",
        choices=TARGET_PERIOD_CHOICES,
        parse=enum_parser(TargetPeriod),
    )
    channel_id = SelectField("Channel", parse=parse_id)
    action_id = SelectField("Action", parse=parse_id)


class ReachLabelForm(FlaskForm):  # type: ignore[misc]
    label = text(
        "Label",
        description="As officers type it with a delivery's reach figures, e.g. opens.",
        max_length=100,
        required="Enter the label",
    )
    stage = RadioField(
        "Stage",
        choices=STAGE_CHOICES,
        validators=[InputRequired("Choose the stage")],
        parse=enum_parser(Stage),
    )
    unit = text(
        "Unit",
        description="What one is, e.g. recipients. Figures are added together only "
        "when their stage and unit are the same.",
        max_length=50,
        required="Enter the unit, for example recipients",
    )
    rate_of = SelectField(
        "Show as a rate of",
        description="An outtake such as opens is shown as a percentage of this "
        "output, over the deliveries that record both.",
        optional=True,
    )

    def validate_rate_of(self, field: Any) -> None:
        if field.data and self.stage.data is Stage.OUTPUT:
            raise WTFormsValidationError(
                "An output is reach, not a rate: choose “Not a rate”"
            )


class ObservationForm(FlaskForm):  # type: ignore[misc]
    observed_on = DateField("Date", validators=[InputRequired("Enter the date")])
    value = FloatField("Value", validators=[InputRequired("Enter a number")])
    note = text("Note", max_length=500)


class FeedForm(FlaskForm):  # type: ignore[misc]
    name = text("Name", max_length=200, required="Enter a name")
    url = text(
        "Feed address",
        description="The RSS or Atom address, starting https:// or http://.",
        max_length=2000,
        required="Enter the feed address",
    )
    phrases = text(
        "Phrases to watch",
        description="One a line, e.g. the organisation's name. Matched as whole "
        "phrases, in any case. Leave empty to record every entry.",
        max_length=5000,
        lines=True,
    )
    active = BooleanField("Poll this feed", default=True)


class ToneForm(FlaskForm):  # type: ignore[misc]
    tone = SelectField("Tone", choices=TONE_CHOICES, parse=enum_parser(Tone))


class ReportForm(FlaskForm):  # type: ignore[misc]
    period = RadioField(
        "Period",
        choices=choices((p.value, f"Last whole {p.value}") for p in ReportPeriod),
        default=ReportPeriod.MONTH,
        validators=[InputRequired("Choose a period")],
        parse=enum_parser(ReportPeriod),
    )


class MentionDatesForm(FlaskForm):  # type: ignore[misc]
    """The dates of the mentions filter, read from the query string (no CSRF).

    Sent as ``from`` and ``to`` (their boxes ``from-day``…), as links have always
    had them.
    """

    class Meta:
        csrf = False

    start = DateField(
        "From", called="The first date", name="from", validators=[Optional()]
    )
    end = DateField("To", called="The last date", name="to", validators=[Optional()])
