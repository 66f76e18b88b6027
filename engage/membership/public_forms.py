"""Public membership forms: join, equality monitoring, manage links and withdrawal."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import EmailField
from wtforms import StringField
from wtforms import SubmitField
from wtforms import TelField
from wtforms import TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired
from wtforms.validators import Email
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import Optional
from wtforms.validators import ValidationError as FormValidationError

from engage.edge import form_token_expired
from engage.formtools import MultiCheckboxField
from engage.formtools import RadioField
from engage.formtools import RequiredElsewhere
from engage.formtools import SelectField
from engage.formtools import choices
from engage.formtools import enum_parser
from engage.formtools import parse_id
from engage.formtools import strip
from engage.formtools import too_long
from engage.membership import equality
from engage.membership.consent import CONSENT_WORDING
from engage.membership.lists import active_topic_ids
from engage.membership.lists import is_active_practice
from engage.membership.lists import practice_choices
from engage.membership.lists import topic_choices
from engage.membership.models import ContactChannel
from engage.membership.models import SupportNeed
from engage.membership.models import Tier
from engage.membership.registration import Registration
from engage.membership.registration import detail_problems
from engage.membership.validators import normalise_phone
from engage.membership.validators import normalise_postcode

NOT_LISTED = "not-listed"

EMAIL_FORMAT = "Enter an email address in the correct format, like name@example.com"

TIER_LABELS = {
    Tier.GOLD: "Gold – come to meetings, focus groups and panels",
    Tier.SILVER: "Silver – answer surveys and consultations from home",
}


PRACTICE_UNKNOWN = "Select your GP practice from the list"
TOPIC_UNKNOWN = "Select topics from the list"


def _practice_choices() -> list[SelectChoice]:
    return choices(
        [
            ("", "Select your practice"),
            *practice_choices(),
            (NOT_LISTED, "My practice is not listed"),
        ]
    )


def _topic_choices() -> list[SelectChoice]:
    return choices(topic_choices())


def _practice(value: object) -> int | str | None:
    """A practice's id, NOT_LISTED, or None for no answer (ValueError otherwise)."""
    return NOT_LISTED if value == NOT_LISTED else parse_id(value)


def _optional_text(value: object) -> object:
    value = strip(value)
    return value or None


class _DetailsForm(FlaskForm):  # type: ignore[misc]
    """The fields a member fills in when joining and may change later."""

    #: Whether this is a join (which needs a way to be contacted), not a change.
    joining = True

    def csrf_expired(self) -> bool:
        """Whether the form's token had expired (or was missing): the page is sent
        back with what was typed, rather than lose it to an error page."""
        return form_token_expired(self)

    name = StringField(
        "Full name",
        filters=[strip],
        validators=[
            DataRequired("Enter your full name"),
            Length(max=200, message=too_long("Full name", 200)),
        ],
        render_kw={"autocomplete": "name", "spellcheck": "false"},
    )
    email = EmailField(
        "Email address",
        description="We will send you a link to confirm it.",
        filters=[_optional_text],
        # One way to contact the member is needed (detail_problems): email is the
        # one offered first, so it is not marked optional.
        validators=[
            RequiredElsewhere(),
            Optional(),
            Length(max=254, message="Email address must be 254 characters or fewer"),
            Email(EMAIL_FORMAT),
        ],
        render_kw={"autocomplete": "email", "spellcheck": "false"},
    )
    phone = TelField(
        "Phone number",
        description="For a mobile, landline or text messages.",
        filters=[_optional_text],
        validators=[
            Optional(),
            Length(max=40, message="Phone number must be 40 characters or fewer"),
        ],
        render_kw={"autocomplete": "tel"},
    )
    address = TextAreaField(
        "Postal address",
        description="Only if you would like letters.",
        filters=[_optional_text],
        validators=[
            Optional(),
            Length(max=500, message="Address must be 500 characters or fewer"),
        ],
        render_kw={"autocomplete": "street-address"},
    )
    postcode = StringField(
        "Postcode",
        description="We use it to know which area you live in.",
        filters=[strip],
        validators=[
            DataRequired("Enter your postcode"),
            Length(max=10, message=too_long("Postcode", 10)),
        ],
        render_kw={"autocomplete": "postal-code", "spellcheck": "false"},
    )
    # The practice and topic lists are read only when the page is drawn (WTForms
    # resolves a callable's choices on first use); a sent value is checked with one
    # small query instead, so a valid join reads neither list.
    practice = SelectField(
        "GP practice",
        choices=_practice_choices,
        validate_choice=False,
        parse=_practice,
        invalid_value_message=PRACTICE_UNKNOWN,
    )
    topics = MultiCheckboxField(
        "Which topics interest you?",
        description="Select all that apply.",
        choices=_topic_choices,
        validate_choice=False,
        parse=parse_id,
        invalid_value_message=TOPIC_UNKNOWN,
    )
    tier = RadioField(
        "How would you like to take part?",
        choices=choices((t.value, TIER_LABELS[t]) for t in Tier),
        validators=[InputRequired("Select how you would like to take part")],
        parse=enum_parser(Tier),
    )
    consents = MultiCheckboxField(
        "How may we contact you?",
        description="Select at least one. You can change this at any time.",
        choices=choices((c.value, CONSENT_WORDING[c]) for c in ContactChannel),
        validators=[RequiredElsewhere()],
        parse=enum_parser(ContactChannel),
    )
    support_needs = MultiCheckboxField(
        "Do you need any communication support?",
        description="Select all that apply.",
        choices=choices((n.value, n.label) for n in SupportNeed),
        parse=enum_parser(SupportNeed),
    )
    support_other = StringField(
        "Other support you need",
        filters=[_optional_text],
        validators=[
            Optional(),
            Length(max=500, message=too_long("Other support you need", 500)),
        ],
    )

    def validate_practice(self, field: Any) -> None:
        value = field.data
        if isinstance(value, int) and not is_active_practice(value):
            raise FormValidationError(PRACTICE_UNKNOWN)

    def validate_topics(self, field: Any) -> None:
        wanted = set(field.data or ())
        if wanted and active_topic_ids(wanted) != wanted:
            raise FormValidationError(TOPIC_UNKNOWN)

    def validate_phone(self, field: Any) -> None:
        if field.data and normalise_phone(field.data) is None:
            raise FormValidationError(
                "Enter a UK phone number, like 01632 960 001 or 07700 900 982"
            )

    def validate_postcode(self, field: Any) -> None:
        if field.data and normalise_postcode(field.data) is None:
            raise FormValidationError("Enter a real postcode, like LS1 4AP")

    def validate(self, extra_validators: Any = None) -> bool:
        valid: bool = super().validate(extra_validators)
        if not valid:
            # Field errors first; the cross-field rules need well-formed values.
            self._add_cross_field_errors(only_empty=True)
            return False
        return self._add_cross_field_errors(only_empty=False)

    def _add_cross_field_errors(self, *, only_empty: bool) -> bool:
        problems = detail_problems(self.registration(), joining=self.joining)
        added = False
        for name, message in problems.items():
            target = getattr(self, name)
            if target.errors and only_empty:
                continue
            if message not in target.errors:
                target.errors = [*target.errors, message]
                added = True
        return not added and not problems

    def registration(self) -> Registration:
        """The submitted details as a service input."""
        wanted = set(self.consents.data or ())
        practice = self.practice.data
        return Registration(
            name=self.name.data or "",
            email=self.email.data,
            phone=self.phone.data,
            address=self.address.data,
            postcode=self.postcode.data or "",
            practice_id=practice if isinstance(practice, int) else None,
            practice_not_listed=practice == NOT_LISTED,
            topic_ids=tuple(self.topics.data or ()),
            tier=self.tier.data or Tier.SILVER,
            consents={c: c in wanted for c in ContactChannel},
            support_needs=tuple(self.support_needs.data or ()),
            support_other=self.support_other.data,
        )

    def fill_from(self, data: Registration) -> None:
        """Show a member's current details (GET of the manage page)."""
        self.name.data = data.name
        self.email.data = data.email
        self.phone.data = data.phone
        self.address.data = data.address
        self.postcode.data = data.postcode
        self.practice.data = (
            NOT_LISTED if data.practice_not_listed else data.practice_id
        )
        self.topics.data = list(data.topic_ids)
        self.tier.data = data.tier
        self.consents.data = [c for c, on in data.consents.items() if on]
        self.support_needs.data = list(data.support_needs)
        self.support_other.data = data.support_other


class JoinForm(_DetailsForm):
    """The public join form, with a honeypot field people never see."""

    website = StringField(
        "Leave this empty",
        render_kw={"autocomplete": "off", "tabindex": "-1"},
    )

    def is_bot(self) -> bool:
        """Whether the hidden honeypot field was filled in (only bots do)."""
        return bool((self.website.data or "").strip())


class ManageForm(_DetailsForm):
    """A member's own details, changed through their manage link."""

    joining = False
    consents = MultiCheckboxField(
        "How may we contact you?",
        description="You can change this at any time. If you untick them all, we "
        "will not contact you until you tick one again: you stay a member.",
        choices=choices((c.value, CONSENT_WORDING[c]) for c in ContactChannel),
        parse=enum_parser(ContactChannel),
    )


class EqualityForm(FlaskForm):  # type: ignore[misc]
    """Optional equality-monitoring questions (every one may be left blank)."""

    save = SubmitField("Save my answers")
    skip = SubmitField("Skip these questions")

    def answers(self) -> dict[str, str | None]:
        """Answers by question, None where not answered."""
        return {
            q.field: getattr(self, q.field).data or None for q in equality.QUESTIONS
        }


for _question in equality.QUESTIONS:
    setattr(
        EqualityForm,
        _question.field,
        RadioField(
            _question.text,
            choices=choices(_question.answers),
            optional=True,
        ),
    )


class ManageRequestForm(FlaskForm):  # type: ignore[misc]
    email = EmailField(
        "Email address",
        filters=[strip],
        validators=[
            InputRequired("Enter your email address"),
            Length(max=254, message="Email address must be 254 characters or fewer"),
            Email(EMAIL_FORMAT),
        ],
        render_kw={"autocomplete": "email", "spellcheck": "false"},
    )


class WithdrawForm(FlaskForm):  # type: ignore[misc]
    """Just the button (and its CSRF token): the GET page already asked."""
