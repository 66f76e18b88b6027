"""Forms for logging an interaction and filtering the list of interactions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms.validators import InputRequired
from wtforms.validators import ValidationError as FormError

from engage.clock import today
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
from engage.relationships.log import MAX_ATTACHMENT_BYTES
from engage.relationships.log import MAX_ATTACHMENTS
from engage.relationships.models import Direction
from engage.relationships.models import InteractionKind
from engage.relationships.models import InteractionStatus
from engage.relationships.models import Sentiment
from engage.relationships.services import MAX_SUMMARY


class InteractionForm(FlaskForm):  # type: ignore[misc]
    """Log or change an interaction; the choices are set by the view."""

    opened_at = OpenedAt()

    kind = RadioField(
        "How did it take place?",
        choices=choices((k.value, k.label) for k in InteractionKind),
        parse=enum_parser(InteractionKind),
        validators=[InputRequired("Select how it took place")],
    )
    direction = RadioField(
        "Who made contact?",
        choices=choices((d.value, d.label) for d in Direction),
        parse=enum_parser(Direction),
        validators=[InputRequired("Select who made contact")],
    )
    occurred_on = DateField(
        "Date",
        called="The date",
        validators=[InputRequired("Enter the date it took place")],
    )
    subject = text(
        "Heading",
        max_length=300,
        required="Enter a short heading for the interaction",
        description="For example, the meeting's name or the email's subject.",
    )
    summary = text("Summary", max_length=MAX_SUMMARY, lines=True)
    audiences = MultiCheckboxField(
        "Audiences",
        parse=parse_id,
        validators=[InputRequired("Choose at least one audience")],
    )
    contacts = MultiCheckboxField(
        "Contacts",
        parse=parse_id,
        description="The contacts of the audiences chosen.",
    )
    staff = MultiCheckboxField("Staff present", parse=parse_id)
    themes = MultiCheckboxField("Themes raised", parse=parse_id)
    # Needed to log it, but not to save a draft (validate_sentiment): never
    # "(optional)".
    sentiment = RadioField(
        "How did it go?",
        validators=[RequiredElsewhere()],
        choices=choices((s.value, s.label) for s in Sentiment),
        parse=enum_parser(Sentiment),
        optional=True,
    )
    attachments = MultipleFileField(
        "Attachments",
        description=f"Up to {MAX_ATTACHMENTS} files: PDF, Word, Excel, JPEG, PNG or "
        f"plain text, each up to {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB and "
        "20 MB in all at one time.",
    )
    remove_attachments = MultiCheckboxField("Remove attachments", parse=parse_id)

    #: Whether a sentiment must be given (not when a draft is saved as a draft).
    needs_sentiment = True

    def set_choices(
        self,
        *,
        audiences: Iterable[tuple[int, str]],
        contacts: Iterable[tuple[int, str]],
        staff: Iterable[tuple[int, str]],
        themes: Iterable[tuple[int, str]],
        attachments: Iterable[tuple[int, str]] = (),
    ) -> None:
        self.audiences.choices = choices(audiences)
        self.contacts.choices = choices(contacts)
        self.staff.choices = choices(staff)
        self.themes.choices = choices(themes)
        self.remove_attachments.choices = choices(attachments)

    def validate_occurred_on(self, field: Any) -> None:
        if field.data is not None and field.data > today():
            raise FormError("The date must be today or in the past")

    def validate_sentiment(self, field: Any) -> None:
        if self.needs_sentiment and field.data is None:
            raise FormError("Select how it went")

    @property
    def uploads(self) -> list[Any]:
        """The files chosen (an empty file box sends a part with no name)."""
        return [f for f in (self.attachments.data or []) if getattr(f, "filename", "")]


class DeleteForm(FlaskForm):  # type: ignore[misc]
    """Confirm deleting an interaction (the CSRF token only)."""


_ANY = ("", "Any")
#: The "Logged by" filter's value for the signed-in user.
MINE = "mine"


def _logged_by(value: object) -> str | None:
    """The "Logged by" filter: MINE, or None for anyone, chosen or left out."""
    if value is None or value == "":
        return None
    if value == MINE:
        return MINE
    raise ValueError("not anyone or me")


class InteractionFilterForm(FlaskForm):  # type: ignore[misc]
    """The list's filters (from the query string)."""

    class Meta:
        csrf = False

    audience = SelectField("Audience", parse=parse_id)
    theme = SelectField("Theme", parse=parse_id)
    kind = SelectField(
        "How",
        choices=choices([_ANY, *((k.value, k.label) for k in InteractionKind)]),
        parse=enum_parser(InteractionKind),
    )
    sentiment = SelectField(
        "How it went",
        choices=choices([_ANY, *((s.value, s.label) for s in Sentiment)]),
        parse=enum_parser(Sentiment),
    )
    status = SelectField(
        "Status",
        choices=choices(
            [_ANY, *((s.value, s.label) for s in InteractionStatus)],
        ),
        parse=enum_parser(InteractionStatus),
    )
    owner = SelectField(
        "Logged by",
        choices=choices([("", "Anyone"), (MINE, "Me")]),
        parse=_logged_by,
    )
    since = DateField("From", called="The from date")
    until = DateField("To", called="The to date")

    def set_choices(
        self,
        *,
        audiences: Iterable[tuple[int, str]],
        themes: Iterable[tuple[int, str]],
    ) -> None:
        self.audience.choices = choices([("", "Any audience"), *audiences])
        self.theme.choices = choices([("", "Any theme"), *themes])
