"""Mailing forms: a mailing's words, channels and readers, and saved templates."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms.validators import InputRequired
from wtforms.validators import Optional
from wtforms.validators import ValidationError

from engage.formtools import DateField
from engage.formtools import MultiCheckboxField
from engage.formtools import OpenedAt
from engage.formtools import RadioField
from engage.formtools import RequiredElsewhere
from engage.formtools import SelectField
from engage.formtools import choices
from engage.formtools import enum_parser
from engage.formtools import parse_id
from engage.formtools import text
from engage.mailings.compose import problems
from engage.mailings.services import MAX_SMS_LENGTH
from engage.membership.models import ContactChannel
from engage.membership.models import SupportNeed
from engage.membership.models import Tier

#: The longest body a mailing or template may have.
MAX_BODY_LENGTH = 50_000

BODY_HELP = (
    "Write in Markdown. Start a line with ## for a heading and - for a list item. "
    "A link: [link text](https://www.example.nhs.uk). An image needs a description: "
    "![What the picture shows](https://www.example.nhs.uk/picture.jpg). "
    "The subject is the email's main heading."
)

CHANNEL_CHOICES = choices(
    (channel.value, channel.message.capitalize())
    for channel in (ContactChannel.EMAIL, ContactChannel.SMS, ContactChannel.POST)
)
YES_NO = choices([("yes", "Yes"), ("no", "No")])


def _yes(value: object) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if value in ("yes", "no"):
        return value == "yes"
    raise ValueError("not yes or no")


def _markdown_problems(form: Any, field: Any) -> None:
    found = problems(field.data or "")
    if found:
        raise ValidationError(found[0])


class MailingForm(FlaskForm):  # type: ignore[misc]
    opened_at = OpenedAt()
    subject = text("Subject", max_length=200, required="Enter a subject")
    body = text(
        "Message",
        max_length=MAX_BODY_LENGTH,
        required="Write the message",
        description=BODY_HELP,
        lines=True,
    )
    easy_read_body = text(
        "Easy read version",
        max_length=MAX_BODY_LENGTH,
        description="Printed for members who asked for easy read. Markdown, as above.",
        lines=True,
    )
    sms_text = text(
        "Text message wording",
        max_length=MAX_SMS_LENGTH,
        description=(
            f"For members who chose text messages, up to {MAX_SMS_LENGTH} characters. "
            "A link to the web copy is added once the mailing is published."
        ),
        lines=True,
    )
    action_id = SelectField(
        "The action in the plan it delivers",
        description="Its delivery is logged on that action.",
        parse=parse_id,
    )
    channels = MultiCheckboxField(
        "How to send it",
        description="Each person gets it only by the ways they agreed to.",
        choices=CHANNEL_CHOICES,
        parse=enum_parser(ContactChannel),
        # validate_channels asks for one: the label does not say "(optional)".
        validators=[RequiredElsewhere()],
    )
    to_members = RadioField(
        "Send it to PPI members?",
        choices=YES_NO,
        validators=[InputRequired("Say whether it goes to PPI members")],
        parse=_yes,
    )
    tier = SelectField(
        "Tier",
        choices=choices([("", "Any tier"), *((t.value, t.label) for t in Tier)]),
        parse=enum_parser(Tier),
    )
    topic_id = SelectField("Topic of interest", parse=parse_id)
    practice_id = SelectField("GP practice", parse=parse_id)
    support_need = SelectField(
        "Communication support need",
        choices=choices(
            [("", "Any (or none)"), *((s.value, s.label) for s in SupportNeed)]
        ),
        parse=enum_parser(SupportNeed),
    )
    joined_from = DateField(
        "Joined on or after", called="The first join date", validators=[Optional()]
    )
    joined_to = DateField(
        "Joined on or before", called="The last join date", validators=[Optional()]
    )
    audience_ids = MultiCheckboxField(
        "Stakeholder audiences",
        description="Their contacts with an email address or phone number.",
        parse=parse_id,
    )

    def __init__(
        self,
        *args: Any,
        actions: list[tuple[int, str]],
        topics: list[tuple[int, str]],
        practices: list[tuple[int, str]],
        audiences: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.action_id.choices = choices([("", "Not linked to an action"), *actions])
        self.topic_id.choices = choices([("", "Any topic"), *topics])
        self.practice_id.choices = choices([("", "Any GP practice"), *practices])
        self.audience_ids.choices = choices(audiences)

    def validate_body(self, field: Any) -> None:
        _markdown_problems(self, field)

    def validate_easy_read_body(self, field: Any) -> None:
        _markdown_problems(self, field)

    def validate_channels(self, field: Any) -> None:
        if not field.data:
            raise ValidationError("Choose at least one way to send it")

    def validate_audience_ids(self, field: Any) -> None:
        if self.to_members.data is False and not field.data:
            raise ValidationError(
                "Choose at least one audience, or send it to PPI members"
            )

    def validate_joined_to(self, field: Any) -> None:
        start = self.joined_from.data
        if start and field.data and field.data < start:
            raise ValidationError(
                "The last join date must be the same as or after the first"
            )


class TemplateForm(FlaskForm):  # type: ignore[misc]
    name = text("Name", max_length=100, required="Enter the template's name")
    subject = text("Subject", max_length=200)
    body = text(
        "Message", max_length=MAX_BODY_LENGTH, description=BODY_HELP, lines=True
    )

    def validate_body(self, field: Any) -> None:
        _markdown_problems(self, field)
