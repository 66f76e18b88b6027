"""Admin forms: the organisation's details and a notice's next version."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import StringField
from wtforms import SubmitField
from wtforms.validators import Email
from wtforms.validators import Length
from wtforms.validators import Optional
from wtforms.validators import Regexp
from wtforms.validators import ValidationError as FormError

from engage.formtools import strip
from engage.formtools import text
from engage.membership.validators import normalise_phone
from engage.organisation.services import MAX_NOTICE_LENGTH


class OrganisationForm(FlaskForm):  # type: ignore[misc]
    def validate_phone(self, field: Any) -> None:
        # Kept as typed (spaces and all), but it must be a number people can ring.
        if field.data and normalise_phone(field.data) is None:
            raise FormError("Enter a phone number, like 0113 496 0000")

    name = text(
        "Name",
        description="In full, as on your letters, e.g. NHS Northshire Integrated "
        "Care Board.",
        max_length=200,
        required="Enter the organisation's name",
    )
    short_name = text(
        "Short name",
        description="Shown at the top of public pages, e.g. Northshire ICB.",
        max_length=60,
        required="Enter a short name",
    )
    address = text(
        "Postal address",
        description="Each line of the address on a line of its own.",
        max_length=500,
        lines=True,
        trim=True,
    )
    email = StringField(
        "Contact email address",
        filters=[strip],
        validators=[
            Optional(),
            Email("Enter an email address like name@example.org"),
            Length(max=254),
        ],
    )
    phone = text(
        "Contact phone number",
        description="As the public should dial it, e.g. 0113 496 0000.",
        max_length=40,
    )
    website = StringField(
        "Website",
        filters=[strip],
        validators=[
            Optional(),
            Regexp(
                r"^https?://[^\s<>\"]+$",
                message="Enter an address starting with https://",
            ),
            Length(max=500),
        ],
    )
    data_controller = text(
        "Data controller",
        description="Who decides how members' information is used; usually the "
        "organisation itself.",
        max_length=200,
    )
    dpo_contact = text(
        "How to contact the data protection officer",
        max_length=1000,
        lines=True,
        trim=True,
    )
    ico_registration = StringField(
        "ICO registration number",
        description="From the Information Commissioner's register, e.g. ZB123456.",
        filters=[strip],
        validators=[
            Optional(),
            Regexp(r"^[A-Za-z0-9]{6,12}$", message="Enter 6 to 12 letters and digits"),
        ],
    )
    lawful_basis = text(
        "Lawful basis for the membership scheme",
        description="In plain words; shown in the privacy notice.",
        max_length=2000,
        lines=True,
        trim=True,
    )
    mailing_tracking = BooleanField(
        "Count opens and clicks of our mailings",
        description="Only tick this if the people you write to have agreed to it. "
        "Counting opens puts an invisible image in each email, and counting clicks "
        "gives each person their own links. Under the Privacy and Electronic "
        "Communications Regulations (PECR), the Information Commissioner's Office "
        "says this needs their consent, so Engage leaves it off unless you have "
        "that consent. Mailings already sent keep the choice made when they were "
        "sent.",
    )


class NoticeForm(FlaskForm):  # type: ignore[misc]
    body = text(
        "Text",
        description="Markdown: ## for a heading, - for a list item, a blank line "
        "between paragraphs, [words](https://…) for a link.",
        max_length=MAX_NOTICE_LENGTH,
        required="Enter the text",
        lines=True,
    )
    fresh_consent = BooleanField(
        "This change needs members' fresh consent",
        description="Tick only if the change alters what members agreed to (for "
        "example, a new purpose). Until a member agrees again, Engage will not "
        "contact them. Otherwise members are not asked again.",
    )
    preview = SubmitField("Preview")
    publish = SubmitField("Publish a new version")
