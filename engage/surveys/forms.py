"""Survey forms: the builder, invitations, staff entry, findings and the answer form."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import Field
from wtforms import HiddenField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import Optional
from wtforms.validators import ValidationError as FormValidationError

from engage.clock import today
from engage.formtools import DateField
from engage.formtools import DecimalField
from engage.formtools import MultiCheckboxField
from engage.formtools import OpenedAt
from engage.formtools import RadioField
from engage.formtools import RequiredElsewhere
from engage.formtools import SelectField
from engage.formtools import choices
from engage.formtools import enum_parser
from engage.formtools import parse_id
from engage.formtools import strip
from engage.formtools import text
from engage.membership.models import SupportNeed
from engage.membership.models import Tier
from engage.surveys.answering import LONG_TEXT_MAX
from engage.surveys.answering import SHORT_TEXT_MAX
from engage.surveys.answering import AnswerValue
from engage.surveys.answering import AnswerValues
from engage.surveys.answering import check_answers
from engage.surveys.models import Question
from engage.surveys.models import QuestionKind
from engage.surveys.models import ResponseSource
from engage.surveys.models import Survey


class SurveyForm(FlaskForm):  # type: ignore[misc]
    """A survey's title, introduction, dates and anonymity."""

    opened_at = OpenedAt()

    title = text("Title", max_length=200, required="Enter a title")
    introduction = TextAreaField(
        "Introduction",
        description="Shown above the questions: what the survey is for and how "
        "the answers will be used.",
        filters=[strip],
        validators=[Optional(), Length(max=5000)],
    )
    opens_on = DateField(
        "Opens on",
        called="The opening date",
        description="Answers are accepted from the start of this day.",
        validators=[Optional()],
    )
    closes_on = DateField(
        "Closes after",
        called="The closing date",
        description="The last day answers are accepted.",
        validators=[Optional()],
    )
    anonymous = BooleanField(
        "Anonymous: do not record who answered",
        description="A survey with a public link is always anonymous.",
        default=True,
    )

    #: Whether the closing date may have passed: only for a survey already opened
    #: (a draft with a closing date gone by could never be opened).
    may_have_closed = False

    def validate_closes_on(self, field: Field) -> None:
        if field.data and self.opens_on.data and field.data < self.opens_on.data:
            raise FormValidationError(
                "The closing date must be on or after the opening date"
            )
        if field.data and not self.may_have_closed and field.data < today():
            raise FormValidationError("The closing date must be today or later")


KIND_CHOICES = choices((k.value, k.label) for k in QuestionKind)
CHOOSE_KIND = "Choose the type of question"


class QuestionKindForm(FlaskForm):  # type: ignore[misc]
    """The first step of adding a question: its type (a GET form, so no CSRF)."""

    class Meta:
        csrf = False

    kind = RadioField(
        "What type of question is it?",
        choices=KIND_CHOICES,
        validators=[InputRequired(CHOOSE_KIND)],
        parse=enum_parser(QuestionKind),
    )


#: The fields only some types of question have, with the types that have them.
KIND_FIELDS: dict[str, Callable[[QuestionKind], bool]] = {
    "choices_text": lambda kind: kind.has_choices,
    "min_value": lambda kind: kind is QuestionKind.NUMBER,
    "max_value": lambda kind: kind is QuestionKind.NUMBER,
}


class QuestionForm(FlaskForm):  # type: ignore[misc]
    """One question of a survey, with only the fields its type uses (``for_kind``).

    The type is chosen first (``QuestionKindForm``) and sent again, hidden, with
    the rest.
    """

    kind = RadioField(
        "Type of question",
        choices=KIND_CHOICES,
        validators=[InputRequired(CHOOSE_KIND)],
        parse=enum_parser(QuestionKind),
    )
    text = text("Question", max_length=500, required="Enter the question")
    help_text = TextAreaField(
        "Help text",
        description="Shown under the question.",
        filters=[strip],
        validators=[Optional(), Length(max=2000)],
    )
    required = BooleanField("An answer is required")
    choices_text = TextAreaField(
        "Choices",
        description="One choice on each line, at least two.",
        # At least two choices: the survey service's rule, shown against this box.
        validators=[RequiredElsewhere(), Optional(), Length(max=15000)],
    )
    min_value = DecimalField("Lowest number allowed", validators=[Optional()])
    max_value = DecimalField("Highest number allowed", validators=[Optional()])

    def for_kind(self, kind: QuestionKind) -> None:
        """Drop the fields a question of ``kind`` does not use (before validating)."""
        for name, used in KIND_FIELDS.items():
            if not used(kind) and name in self:
                del self[name]


class InviteForm(FlaskForm):  # type: ignore[misc]
    """Which members to invite."""

    tier = SelectField("Tier", parse=enum_parser(Tier))
    topic = SelectField("Interested in", parse=parse_id)
    practice = SelectField("GP practice", parse=parse_id)
    support = SelectField("Communication support need", parse=enum_parser(SupportNeed))
    confirm = HiddenField()

    def __init__(
        self,
        *args: Any,
        topics: list[tuple[int, str]],
        practices: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.tier.choices = choices(
            [("", "Any tier"), *((t.value, t.label) for t in Tier)]
        )
        self.topic.choices = choices([("", "Any topic"), *topics])
        self.practice.choices = choices([("", "Any practice"), *practices])
        self.support.choices = choices(
            [("", "Any (or none)"), *((n.value, n.label) for n in SupportNeed)]
        )


class FindingForm(FlaskForm):  # type: ignore[misc]
    """A "you said, we did" finding."""

    theme = text("Theme", max_length=200, required="Enter the theme")
    question = SelectField("About question", parse=parse_id)
    you_said = text(
        "You said",
        description="A summary of what people told us.",
        max_length=5000,
        required="Enter what people said",
        lines=True,
        trim=True,
    )
    we_did = TextAreaField(
        "We did",
        description="What we did, or will do, because of it.",
        filters=[strip],
        validators=[Optional(), Length(max=5000)],
    )
    actions = MultiCheckboxField("Actions in the plan", parse=parse_id)
    published = BooleanField("Show on the public page")

    def __init__(
        self,
        *args: Any,
        questions: list[tuple[int, str]],
        actions: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.question.choices = choices([("", "None (a general theme)"), *questions])
        self.actions.choices = choices(actions)


# Answering ----------------------------------------------------------------------------


def field_name(question: Question) -> str:
    """The form field of a question."""
    return f"q{question.id}"


def _question_field(question: Question) -> Field:
    kind = question.kind
    # Whether an answer is required is the answering service's rule, not the form's:
    # RequiredElsewhere only keeps the label of a required question from saying
    # "(optional)".
    # Numbered as problems name them ("Question 6: enter a number").
    common: dict[str, Any] = {
        "label": f"{question.position}. {question.text}",
        "description": question.help_text or None,
        "validators": [RequiredElsewhere()] if question.required else [],
    }
    if kind is QuestionKind.SINGLE_CHOICE:
        return RadioField(
            choices=choices((c.id, c.label) for c in question.choices),
            parse=parse_id,
            optional=True,
            **common,
        )
    if kind is QuestionKind.MULTIPLE_CHOICE:
        return MultiCheckboxField(
            choices=choices((c.id, c.label) for c in question.choices),
            parse=parse_id,
            **common,
        )
    if kind.is_likert:
        labels = question.scale_labels
        return RadioField(
            choices=choices(enumerate(labels, start=1)),
            parse=int,
            optional=True,
            **common,
        )
    if kind is QuestionKind.RATING_0_10:
        common["description"] = question.help_text or "0 is the lowest, 10 the highest."
        return RadioField(
            choices=choices((n, str(n)) for n in range(11)),
            parse=int,
            optional=True,
            **common,
        )
    common["validators"] = [*common["validators"], Optional()]
    if kind is QuestionKind.NUMBER:
        return StringField(
            filters=[strip], render_kw={"inputmode": "decimal"}, **common
        )
    # The longest answer is said, not enforced by the browser (a ``maxlength`` cuts
    # pasted words without a word): one too long is refused with its words kept.
    limit = SHORT_TEXT_MAX if kind is QuestionKind.SHORT_TEXT else LONG_TEXT_MAX
    common["description"] = " ".join(
        part for part in (question.help_text, f"Up to {limit:,} characters.") if part
    )
    if kind is QuestionKind.SHORT_TEXT:
        return StringField(filters=[strip], **common)
    return TextAreaField(filters=[strip], **common)


class AnswerForm(FlaskForm):  # type: ignore[misc]
    """A survey's questions as a form; subclassed per survey by ``answer_form``.

    The answer rules live in ``answering.check_answers``; this form parses the
    fields, asks the service, and shows its problems against the fields.
    """

    survey: Survey
    #: A honeypot people never see (public answering only).
    website = StringField("Leave this empty")

    def _value(self, question: Question) -> AnswerValue:
        data = self[field_name(question)].data
        kind = question.kind
        if kind is QuestionKind.MULTIPLE_CHOICE:
            return list(data or ())
        if data is None or data == "":
            return None
        if kind.is_text:
            return str(data)
        if isinstance(data, int):  # a choice's id, or a point on a scale
            return data
        try:
            number = float(str(data).replace(",", ""))
        except ValueError:
            return "not a number"
        return number if math.isfinite(number) else "not a number"

    def values(self) -> AnswerValues:
        """The answers, by question id."""
        return {q.id: self._value(q) for q in self.survey.questions}

    def validate(self, extra_validators: Any = None) -> bool:
        valid: bool = super().validate(extra_validators)
        for question_id, problem in check_answers(self.survey, self.values()).items():
            question = next(q for q in self.survey.questions if q.id == question_id)
            field = self[field_name(question)]
            if not field.errors:
                field.errors = [*field.errors, _numbered(question, problem)]
            valid = False
        return valid

    def is_bot(self) -> bool:
        """Whether the hidden honeypot field was filled in (only bots do)."""
        return bool((self.website.data or "").strip())

    def csrf_expired(self) -> bool:
        """Whether the form token is missing or expired."""
        return bool(getattr(self, "csrf_token", None) and self.csrf_token.errors)


def _numbered(question: Question, problem: str) -> str:
    return f"Question {question.position}: {problem[0].lower()}{problem[1:]}"


class StaffEntryFields(FlaskForm):  # type: ignore[misc]
    """The extra fields staff fill in when typing in a paper or phone response."""

    source = RadioField(
        "How was it answered?",
        choices=choices(
            (s.value, s.label) for s in (ResponseSource.PAPER, ResponseSource.PHONE)
        ),
        validators=[InputRequired("Choose paper or phone")],
        parse=enum_parser(ResponseSource),
    )
    submitted_on = DateField(
        "Date received", validators=[InputRequired("Enter the date it was received")]
    )
    invitation = StringField(
        "Invitation reference",
        description="The reference on the post list, if the member was invited: "
        "it marks their invitation answered.",
        filters=[strip],
        validators=[Optional(), Length(max=12)],
        render_kw={"inputmode": "numeric"},
    )

    def validate_invitation(self, field: Field) -> None:
        try:
            parse_id(field.data)
        except ValueError:
            raise FormValidationError(
                "Enter the reference as a number, like 1042"
            ) from None


def answer_form(survey: Survey, *, staff: bool = False) -> type[AnswerForm]:
    """A form class with one field per question of ``survey``."""
    base: tuple[type, ...] = (AnswerForm, StaffEntryFields) if staff else (AnswerForm,)
    attributes: dict[str, Any] = {"survey": survey}
    for question in survey.questions:
        attributes[field_name(question)] = _question_field(question)
    return type("SurveyAnswerForm", base, attributes)
