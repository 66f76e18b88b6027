"""The form an officer files a waiting email with."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms.validators import InputRequired

from engage.formtools import SelectField
from engage.formtools import parse_id
from engage.formtools import text


class FileCapturedForm(FlaskForm):  # type: ignore[misc]
    audience_id = SelectField(
        "Audience",
        validators=[InputRequired("Choose the audience it was with")],
        parse=parse_id,
    )
    new_contact_address = SelectField(
        "Add an address as a new contact of the audience (optional)",
        optional=True,
    )
    new_contact_name = text("The new contact's name", max_length=200)
