"""Metrics forms: metric definitions, observations, feeds, mention tone and filters."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from engage.formtools import (
    DateField,
    FloatField,
    RadioField,
    SelectField,
    choices,
    enum_parser,
    parse_id,
    strip,
)
from engage.metrics.models import MetricKind, ReportPeriod, TargetPeriod, Tone

KIND_CHOICES = choices((k.value, k.label) for k in MetricKind)
TARGET_PERIOD_CHOICES = choices(
    [("", "No target"), *((p.value, f"Per {p.value}") for p in TargetPeriod)]
)
TONE_CHOICES = choices([*((t.value, t.label) for t in Tone), ("", "Not set")])


class MetricForm(FlaskForm):  # type: ignore[misc]
    key = StringField(
        "Key",
        description="A short stable name for imports, e.g. newsletter-readers.",
        filters=[strip],
        validators=[InputRequired("Enter a key"), Length(max=100)],
    )
    name = StringField(
        "Name",
        filters=[strip],
        validators=[InputRequired("Enter a name"), Length(max=200)],
    )
    unit = StringField(
        "Unit",
        description="For example readers, visits, followers.",
        filters=[strip],
        validators=[Length(max=50)],
    )
    description = TextAreaField("Description", validators=[Length(max=5000)])
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


class ObservationForm(FlaskForm):  # type: ignore[misc]
    observed_on = DateField("Date", validators=[InputRequired("Enter the date")])
    value = FloatField("Value", validators=[InputRequired("Enter a number")])
    note = StringField("Note", filters=[strip], validators=[Length(max=500)])


class FeedForm(FlaskForm):  # type: ignore[misc]
    name = StringField(
        "Name",
        filters=[strip],
        validators=[InputRequired("Enter a name"), Length(max=200)],
    )
    url = StringField(
        "Feed address",
        description="The RSS or Atom address, starting https:// or http://.",
        filters=[strip],
        validators=[InputRequired("Enter the feed address"), Length(max=2000)],
    )
    phrases = TextAreaField(
        "Phrases to watch",
        description="One a line, e.g. the organisation's name. Matched as whole "
        "phrases, in any case. Leave empty to record every entry.",
        validators=[Length(max=5000)],
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
