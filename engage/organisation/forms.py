"""Admin forms: the organisation's details and a notice's next version."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, SubmitField, TextAreaField
from wtforms.validators import Email, InputRequired, Length, Optional, Regexp

from engage.formtools import strip
from engage.organisation.services import MAX_NOTICE_LENGTH


class OrganisationForm(FlaskForm):  # type: ignore[misc]
    name = StringField(
        "Name",
        description="In full, as on your letters, e.g. NHS Northshire Integrated "
        "Care Board.",
        filters=[strip],
        validators=[InputRequired("Enter the organisation's name"), Length(max=200)],
    )
    short_name = StringField(
        "Short name",
        description="Shown at the top of public pages, e.g. Northshire ICB.",
        filters=[strip],
        validators=[InputRequired("Enter a short name"), Length(max=60)],
    )
    address = TextAreaField(
        "Postal address (optional)",
        description="One line of the address a line.",
        filters=[strip],
        validators=[Length(max=500)],
    )
    email = StringField(
        "Contact e-mail address (optional)",
        filters=[strip],
        validators=[
            Optional(),
            Email("Enter an e-mail address like name@example.org"),
            Length(max=254),
        ],
    )
    phone = StringField(
        "Contact phone number (optional)",
        filters=[strip],
        validators=[Length(max=40)],
    )
    website = StringField(
        "Website (optional)",
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
    data_controller = StringField(
        "Data controller (optional)",
        description="Who decides how members' information is used; usually the "
        "organisation itself.",
        filters=[strip],
        validators=[Length(max=200)],
    )
    dpo_contact = TextAreaField(
        "How to contact the data protection officer (optional)",
        filters=[strip],
        validators=[Length(max=1000)],
    )
    ico_registration = StringField(
        "ICO registration number (optional)",
        description="From the Information Commissioner's register, e.g. ZB123456.",
        filters=[strip],
        validators=[
            Optional(),
            Regexp(r"^[A-Za-z0-9]{6,12}$", message="Enter 6 to 12 letters and digits"),
        ],
    )
    lawful_basis = TextAreaField(
        "Lawful basis for the membership scheme (optional)",
        description="In plain words; shown in the privacy notice.",
        filters=[strip],
        validators=[Length(max=2000)],
    )


class NoticeForm(FlaskForm):  # type: ignore[misc]
    body = TextAreaField(
        "Text",
        description="Markdown: ## for a heading, - for a list item, a blank line "
        "between paragraphs, [words](https://…) for a link.",
        validators=[
            InputRequired("Enter the text"),
            Length(max=MAX_NOTICE_LENGTH),
        ],
    )
    fresh_consent = BooleanField(
        "This change needs members' fresh consent",
        description="Tick only if the change alters what members agreed to (for "
        "example, a new purpose). Until a member agrees again, Engage will not "
        "contact them. Otherwise members are not asked again.",
    )
    preview = SubmitField("Preview")
    publish = SubmitField("Publish a new version")
