"""Staff membership forms: members, filters, erasure, population, lists and SARs."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import StringField
from wtforms import TelField
from wtforms.validators import DataRequired
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import NumberRange
from wtforms.validators import Optional
from wtforms.validators import Regexp
from wtforms.validators import ValidationError

from engage.formtools import MAX_INT
from engage.formtools import DateField
from engage.formtools import DecimalField
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
from engage.membership import sar
from engage.membership.equality import PREFER_NOT_TO_SAY
from engage.membership.equality import QUESTIONS
from engage.membership.models import ConsentMethod
from engage.membership.models import ContactChannel
from engage.membership.models import Member
from engage.membership.models import MemberStatus
from engage.membership.models import SupportNeed
from engage.membership.models import Tier
from engage.membership.services import ErasureReason

TIER_CHOICES = choices(
    [
        (Tier.GOLD.value, "Gold – meetings, focus groups and other active roles"),
        (Tier.SILVER.value, "Silver – surveys and consultations"),
    ]
)
SUPPORT_CHOICES = choices((n.value, n.label) for n in SupportNeed)
CONSENT_LABELS = {
    ContactChannel.EMAIL: "Email",
    ContactChannel.SMS: "Text message",
    ContactChannel.PHONE: "Phone call",
    ContactChannel.POST: "Post",
}


class MemberForm(FlaskForm):  # type: ignore[misc]
    """A member's details as staff edit them (never consents, status or dates)."""

    opened_at = OpenedAt()

    name = text("Full name", max_length=200, required="Enter the member's name")
    email = StringField(
        "Email address",
        filters=[strip],
        validators=[Length(max=254)],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    phone = TelField("Phone number", filters=[strip], validators=[Length(max=40)])
    address = text("Postal address", max_length=1000, lines=True)
    postcode = text("Postcode", max_length=10)
    tier = RadioField(
        "Tier",
        choices=TIER_CHOICES,
        validators=[InputRequired("Choose Gold or Silver")],
        parse=enum_parser(Tier),
    )
    practice_id = SelectField("GP practice", parse=parse_id)
    topics = MultiCheckboxField("Topics of interest", parse=parse_id)
    support_needs = MultiCheckboxField(
        "Communication support needs",
        choices=SUPPORT_CHOICES,
        parse=enum_parser(SupportNeed),
    )
    support_other = text("Other support needed", max_length=500)
    is_champion = BooleanField("Patient champion")
    notes = text(
        "Notes",
        description="Seen by staff only. The member can ask for a copy.",
        max_length=5000,
        lines=True,
    )

    def __init__(
        self,
        *args: Any,
        practices: list[tuple[int, str]],
        topics: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.practice_id.choices = choices([("", "Not known"), *practices])
        self.topics.choices = choices(topics)


class AddMemberForm(MemberForm):
    """A member who joined by phone or on paper, with the consents they gave."""

    method = RadioField(
        "How did they join?",
        choices=choices(
            [
                (ConsentMethod.PHONE.value, "By phone"),
                (ConsentMethod.PAPER.value, "On a paper form"),
            ]
        ),
        validators=[InputRequired("Choose how they joined")],
        parse=enum_parser(ConsentMethod),
    )
    consents = MultiCheckboxField(
        "How they agreed to be contacted",
        description="Tick only what the member said yes to.",
        choices=choices((c.value, CONSENT_LABELS[c]) for c in ContactChannel),
        parse=enum_parser(ContactChannel),
    )


class MemberFilterForm(FlaskForm):  # type: ignore[misc]
    """Filters from the query string (GET, so no CSRF token)."""

    class Meta:
        csrf = False

    q = StringField(
        "Search",
        description="Name, email or postcode",
        validators=[Optional(), Length(max=200)],
    )
    tier = SelectField(
        "Tier",
        choices=choices([("", "Any tier"), *((t.value, t.label) for t in Tier)]),
        parse=enum_parser(Tier),
    )
    status = SelectField(
        "Status",
        choices=choices(
            [
                ("", "Any status"),
                *(
                    (s.value, s.label)
                    for s in MemberStatus
                    if s is not MemberStatus.ERASED
                ),
            ]
        ),
        parse=enum_parser(MemberStatus),
    )
    topic = SelectField("Topic", parse=parse_id)
    practice = SelectField("GP practice", parse=parse_id)
    support = SelectField(
        "Support need",
        choices=choices(
            [("", "Any or none"), *((n.value, n.label) for n in SupportNeed)]
        ),
        parse=enum_parser(SupportNeed),
    )
    champion = BooleanField("Patient champions only")

    def __init__(
        self,
        *args: Any,
        practices: list[tuple[int, str]],
        topics: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.practice.choices = choices([("", "Any practice"), *practices])
        self.topic.choices = choices([("", "Any topic"), *topics])


class EraseForm(FlaskForm):  # type: ignore[misc]
    reason = RadioField(
        "Why are you erasing this member's data?",
        choices=choices(
            (r.value, r.label)
            for r in ErasureReason
            if r is not ErasureReason.RETENTION
        ),
        validators=[InputRequired("Choose why")],
        parse=enum_parser(ErasureReason),
    )
    confirm = BooleanField(
        "I understand this deletes their personal data and cannot be undone",
        validators=[DataRequired("Confirm that you want to erase their data")],
    )


def _population_form() -> type[FlaskForm]:
    fields: dict[str, Any] = {}
    for question in QUESTIONS:
        for value, label in question.answers:
            if value == PREFER_NOT_TO_SAY:
                continue
            fields[f"{question.field}__{value}"] = DecimalField(
                label,
                places=None,
                validators=[
                    Optional(),
                    NumberRange(0, 100, "Enter a percentage from 0 to 100"),
                ],
                render_kw={"inputmode": "decimal"},
            )
    return type("PopulationForm", (FlaskForm,), fields)


#: One percentage per answer of each question: "<field>__<value>".
PopulationForm = _population_form()


def _upper(value: object) -> object:
    return value.upper() if isinstance(value, str) else value


class PracticeForm(FlaskForm):  # type: ignore[misc]
    name = text("Practice name", max_length=200, required="Enter the practice's name")
    code = StringField(
        "ODS code",
        description="The practice's NHS organisation code, like B86001.",
        filters=[
            strip,
            lambda value: value.upper() if isinstance(value, str) else value,
        ],
        validators=[
            Optional(),
            Regexp(
                r"^[A-Z0-9]{3,10}$",
                message="Enter the ODS code in letters and numbers only, like B86001",
            ),
        ],
    )
    is_active = BooleanField("Offered to members", default=True)


class TopicForm(FlaskForm):  # type: ignore[misc]
    name = text("Topic", max_length=200, required="Enter the topic")
    is_active = BooleanField("Offered to members", default=True)


class SubjectAccessRequestForm(FlaskForm):  # type: ignore[misc]
    received_on = DateField(
        "Date received", validators=[InputRequired("Enter the date it was received")]
    )
    member_id = IntegerField(
        "Member number",
        description="Leave empty if you cannot match the requester to a member yet.",
        # The upper bound keeps the lookup within PostgreSQL's integer range.
        validators=[
            Optional(),
            NumberRange(min=1, max=MAX_INT, message="Enter a member number"),
        ],
        render_kw={"inputmode": "numeric"},
    )
    requester = text(
        "Who made the request",
        description="For example: member by letter, or a carer by email.",
        max_length=200,
        required="Describe who made the request",
    )
    notes = text("Notes", max_length=5000, lines=True, trim=True)

    #: The member found by ``member_id``, set during validation.
    member: Member | None = None

    def validate_member_id(self, field: IntegerField) -> None:
        if field.data is None:
            return
        self.member = sar.find_member(field.data)
        if self.member is None:
            raise ValidationError("No current member has that number")
