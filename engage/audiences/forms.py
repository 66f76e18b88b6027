"""Audience forms: audiences, contacts, programmes, overrides and contact intervals."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import EmailField
from wtforms import StringField
from wtforms import TelField
from wtforms.validators import Email
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import NumberRange
from wtforms.validators import Optional

from engage.audiences.models import Approach
from engage.audiences.models import AudienceGroup
from engage.formtools import IntegerField
from engage.formtools import OpenedAt
from engage.formtools import RadioField
from engage.formtools import SelectField
from engage.formtools import choices
from engage.formtools import enum_parser
from engage.formtools import parse_id
from engage.formtools import strip
from engage.formtools import text

GROUP_CHOICES = choices((g.value, g.label) for g in AudienceGroup)
APPROACH_CHOICES = choices(
    [
        (
            Approach.MANAGE.value,
            "Manage – key stakeholders, fully engaged and consulted",
        ),
        (Approach.INFORM.value, "Inform – kept informed; influence may need raising"),
        (
            Approach.MONITOR.value,
            "Monitor – watched for communication and engagement need",
        ),
    ]
)
SCORE_CHOICES = choices((str(i), str(i)) for i in range(1, 6))


class AudienceForm(FlaskForm):  # type: ignore[misc]
    opened_at = OpenedAt()
    name = text("Name", max_length=200, required="Enter the audience's name")
    group = SelectField(
        "Group",
        choices=GROUP_CHOICES,
        validators=[InputRequired()],
        parse=enum_parser(AudienceGroup),
    )
    influence = RadioField(
        "Influence",
        description="1 means little influence over our work, 5 means decisive.",
        choices=SCORE_CHOICES,
        validators=[InputRequired("Choose an influence score from 1 to 5")],
        parse=int,
    )
    interest = RadioField(
        "Interest",
        description="1 means little interest in our work, 5 means very keen.",
        choices=SCORE_CHOICES,
        validators=[InputRequired("Choose an interest score from 1 to 5")],
        parse=int,
    )
    approach = RadioField(
        "Approach",
        description="The grid suggests an approach from the scores; you decide.",
        choices=APPROACH_CHOICES,
        validators=[InputRequired("Choose an approach")],
        parse=enum_parser(Approach),
    )
    owner_id = SelectField("Relationship owner", parse=parse_id)
    notes = text("Notes", max_length=5000, lines=True)

    def __init__(
        self, *args: Any, owners: list[tuple[int, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.owner_id.choices = choices([("", "No owner"), *owners])


class ContactForm(FlaskForm):  # type: ignore[misc]
    name = text("Name", max_length=200, required="Enter the contact's name")
    role = text("Role", max_length=200)
    email = EmailField(
        "Email address",
        filters=[strip],
        validators=[
            Optional(),
            Email(
                "Enter an email address in the correct format, like name@example.nhs.uk"
            ),
            Length(max=254),
        ],
    )
    phone = TelField("Phone", filters=[strip], validators=[Length(max=40)])


class ProgrammeForm(FlaskForm):  # type: ignore[misc]
    name = text("Name", max_length=200, required="Enter the programme's name")
    description = text("Description", max_length=5000, lines=True)
    is_active = BooleanField("Programme is active", default=True)


class OverrideForm(FlaskForm):  # type: ignore[misc]
    programme_id = SelectField(
        "Programme", validators=[InputRequired("Choose a programme")], parse=parse_id
    )
    approach = RadioField(
        "Approach for this programme",
        choices=APPROACH_CHOICES,
        validators=[InputRequired("Choose an approach")],
        parse=enum_parser(Approach),
    )
    rationale = text(
        "Why", max_length=2000, required="Say why the approach differs", lines=True
    )

    def __init__(
        self, *args: Any, programmes: list[tuple[int, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.programme_id.choices = choices([("", "Choose a programme"), *programmes])


class AudienceFilterForm(FlaskForm):  # type: ignore[misc]
    """Filters from the query string (GET, so no CSRF token)."""

    class Meta:
        csrf = False

    q = StringField("Search", validators=[Optional(), Length(max=200)])
    group = SelectField(
        "Group",
        choices=choices(
            [("", "Any group"), *((g.value, g.label) for g in AudienceGroup)]
        ),
        parse=enum_parser(AudienceGroup),
    )
    approach = SelectField(
        "Approach",
        choices=choices(
            [("", "Any approach"), *((a.value, a.label) for a in Approach)]
        ),
        parse=enum_parser(Approach),
    )
    due = BooleanField("Only those due for contact")
    archived = BooleanField("Include archived audiences")


class ContactIntervalForm(FlaskForm):  # type: ignore[misc]
    manage = IntegerField(
        "Manage (days)",
        validators=[InputRequired("Enter a number of days"), NumberRange(1, 3650)],
    )
    inform = IntegerField(
        "Inform (days)",
        validators=[InputRequired("Enter a number of days"), NumberRange(1, 3650)],
    )
    monitor = IntegerField(
        "Monitor (days)",
        validators=[InputRequired("Enter a number of days"), NumberRange(1, 3650)],
    )


class MapFilterForm(FlaskForm):  # type: ignore[misc]
    class Meta:
        csrf = False

    programme = SelectField("Programme", parse=parse_id)
    colour = RadioField(
        "Colour by",
        choices=choices([("approach", "Approach"), ("health", "Relationship health")]),
        default="approach",
        optional=True,
    )

    def __init__(
        self, *args: Any, programmes: list[tuple[int, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.programme.choices = choices(
            [("", "All work (usual approaches)"), *programmes]
        )
