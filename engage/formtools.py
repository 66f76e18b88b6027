"""Form fields that parse what is sent: a view never sees a value it did not offer.

Every form takes its choice and number fields from here, never from WTForms itself
(ruff bans those imports elsewhere):

- ``SelectField``, ``RadioField`` and ``MultiCheckboxField`` turn the sent value into
  what it stands for with ``parse`` (``parse_id`` for ids, ``enum_parser(Tier)`` for
  an enum) and refuse anything not among their choices. They take no ``Optional()``
  (which, given a blank value such as a lone line break, dropped the "not a valid
  choice" error and let the raw text through): a choice that may be left unmade
  offers an empty option, or passes ``optional=True``.
- ``IntegerField``, ``FloatField`` and ``DecimalField`` refuse numbers outside what
  the database stores (``MAX_INT``, ``MAX_NUMBER``), infinities and NaN.
- ``DateField`` is the NHS.UK date input (day, month and year boxes); it refuses
  impossible dates and years no plan or survey could have.

Text boxes come from ``text``: trimmed, their length checked, and a message for when a
required one is left empty.
"""

from __future__ import annotations

import decimal
import enum
import inspect
import math
import re
from collections.abc import Callable
from collections.abc import Iterable
from datetime import date
from typing import Any
from typing import ClassVar
from typing import TypeVar

import wtforms
from wtforms import widgets
from wtforms.fields.choices import SelectChoice
from wtforms.utils import unset_value
from wtforms.validators import DataRequired
from wtforms.validators import Length
from wtforms.validators import NumberRange
from wtforms.validators import Optional

#: The largest id or whole number every engine stores (PostgreSQL's ``integer``).
MAX_INT = 2_147_483_647
#: The largest magnitude a decimal figure may have: far beyond any count or target,
#: and exact in a double.
MAX_NUMBER = 10**12
#: What a person is told when a sent value is not one of the choices offered.
NOT_A_CHOICE = "Select one of the options shown"
#: The years a date may fall in.
FIRST_YEAR, LAST_YEAR = 1900, 2199

E = TypeVar("E", bound=enum.Enum)


def text(
    label: str,
    *,
    max_length: int,
    required: str | None = None,
    description: str = "",
    lines: bool = False,
    trim: bool | None = None,
) -> Any:
    """A text box (``lines``: a text area) of at most ``max_length`` characters.

    ``required`` is the message when it is left empty (else it is optional). Text boxes
    are trimmed of surrounding spaces; text areas keep them unless ``trim``.
    """
    field = wtforms.TextAreaField if lines else wtforms.StringField
    # Only spaces is nothing entered: DataRequired reads the value, not what was sent.
    checks: list[Any] = [DataRequired(required)] if required else []
    if not lines:
        checks.append(OneLine(f"{label} must be one line, without line breaks"))
    filters = [strip] if (not lines if trim is None else trim) else []
    if lines:
        # Browsers send each line break as CR LF: one break is one character.
        filters.insert(0, one_line_break)
    return field(
        label,
        description=description,
        filters=filters,
        validators=[
            *checks,
            Length(max=max_length, message=too_long(label, max_length)),
        ],
    )


def too_long(label: str, max_length: int) -> str:
    """The message for text longer than a field takes, naming the field."""
    return f"{label} must be {max_length:,} characters or fewer"


class OneLine:
    """Refuse line breaks and other control characters (not tabs) in a text box.

    A browser never sends them from an ``<input>``; a crafted request might, and in a
    subject or a name they would break the email headers or the exports they reach.
    """

    def __init__(self, message: str) -> None:
        self.message = message

    def __call__(self, form: Any, field: Any) -> None:
        value = field.data
        if isinstance(value, str) and any(
            (ord(ch) < 32 and ch != "\t") or ord(ch) == 127 for ch in value
        ):
            raise wtforms.validators.ValidationError(self.message)


def one_line_break(value: object) -> object:
    """Text with each line break as one character ("\n"), as people count them."""
    if isinstance(value, str):
        return value.replace("\r\n", "\n").replace("\r", "\n")
    return value


def choices(pairs: Iterable[tuple[object, str]]) -> list[SelectChoice]:
    """Turn ``(value, label)`` pairs into WTForms choices."""
    return [SelectChoice(value=str(value), label=label) for value, label in pairs]


def strip(value: object) -> object:
    """A WTForms filter that trims surrounding white space from text."""
    return value.strip() if isinstance(value, str) else value


def parse_id(value: object) -> int | None:
    """An id sent by a page: None for nothing, else a whole number from 1 to MAX_INT.

    Raises ValueError for anything else (signs, spaces, ``1e3``, ``0x10``, huge).
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError("not an id")
    if isinstance(value, int):
        number = value
    else:
        text = str(value)
        if not (text.isascii() and text.isdigit() and len(text) <= len(str(MAX_INT))):
            raise ValueError("not an id")
        number = int(text)
    if not 1 <= number <= MAX_INT:
        raise ValueError("not an id")
    return number


def id_or_none(value: object) -> int | None:
    """``parse_id`` for a query-string filter: anything invalid is no filter at all."""
    try:
        return parse_id(value)
    except ValueError:
        return None


def enum_parser(kind: type[E]) -> Callable[[object], E | None]:
    """A ``parse`` for choices of an enum: its member for a value, None for nothing."""
    members = {str(member.value): member for member in kind}

    def parse(value: object) -> E | None:
        if value is None or value == "":
            return None
        if isinstance(value, kind):
            return value
        try:
            return members[str(value)]
        except KeyError:
            raise ValueError(f"not a {kind.__name__}") from None

    return parse


def _text(value: object) -> str | None:
    return None if value is None else str(value)


class _OneProblem:
    """A field whose value, as sent, it cannot take says that alone: not also what a
    later check (a range, "choose at least one") makes of the nothing left."""

    def validate(self, form: Any, extra_validators: Any = ()) -> bool:
        process_errors: list[str] = getattr(self, "process_errors", [])
        raw: list[Any] = getattr(self, "raw_data", None) or []
        sent = any(str(value).strip() for value in raw)
        if process_errors and sent:
            self.errors = process_errors[:1]
            return False
        required = _required_message(self)
        if process_errors and required:
            # Left empty (or only spaces): the field's own "Enter …" says it, not
            # also "Enter a whole number" about the nothing sent.
            self.errors = [required]
            return False
        return bool(super().validate(form, extra_validators))  # type: ignore[misc]


def _required_message(field: Any) -> str | None:
    """What a field that must be filled says when it is not, if it has such a check."""
    for validator in getattr(field, "validators", ()):
        flags = getattr(validator, "field_flags", None) or {}
        message = getattr(validator, "message", None)
        if flags.get("required") and isinstance(message, str) and message:
            return message
    return None


class _ParsedChoices(_OneProblem):
    """What the three choice fields share: a parser, and no Optional()."""

    data: Any
    raw_data: list[Any] | None

    def __init__(
        self,
        label: str | None = None,
        validators: Any = None,
        *,
        parse: Callable[[Any], Any] = _text,
        optional: bool = False,
        **kwargs: Any,
    ) -> None:
        if any(isinstance(v, Optional) for v in validators or ()):
            raise TypeError(
                "choice fields take no Optional(): offer an empty choice, or "
                "pass optional=True"
            )
        self.optional = optional
        # WTForms' own words ("Invalid Choice: could not coerce") are not for people.
        kwargs.setdefault("invalid_value_message", NOT_A_CHOICE)
        kwargs.setdefault("invalid_choice_message", NOT_A_CHOICE)
        super().__init__(label, validators, coerce=parse, **kwargs)  # type: ignore[call-arg]

    def pre_validate(self, form: Any) -> None:
        # An empty value is no choice, and nothing sent (a filter left out of a link,
        # an unticked radio group) leaves the default; anything else, white space
        # included, must be one of the choices.
        if self.optional and self.raw_data in ([], [""], None):
            if self.raw_data == [""]:
                self.data = None
            return
        super().pre_validate(form)  # type: ignore[misc]


class SelectField(_ParsedChoices, wtforms.SelectField):  # type: ignore[misc]
    """One choice from a list; ``data`` is the parsed value (None if none chosen)."""


class RadioField(_ParsedChoices, wtforms.RadioField):  # type: ignore[misc]
    """One choice shown as NHS.UK radios; ``data`` is the parsed value."""


class MultiCheckboxField(
    _ParsedChoices,
    wtforms.SelectMultipleField,  # type: ignore[misc]
):
    """Several choices shown as NHS.UK checkboxes; ``data`` lists the parsed values."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()

    def process_formdata(self, valuelist: list[str]) -> None:
        super().process_formdata(valuelist)
        if not valuelist:  # not sent: data is the default, as given
            return
        if None in (self.data or ()):
            # An empty value among ticked boxes: no page sends one.
            self.data = None
            raise ValueError(self.invalid_value_message)


class _Bounded(_OneProblem):
    """A field whose parsed value must also pass ``problem`` (None: no problem)."""

    data: Any

    def problem(self, value: Any) -> str | None:
        raise NotImplementedError

    def process_formdata(self, valuelist: list[str]) -> None:
        super().process_formdata(valuelist)  # type: ignore[misc]
        if not valuelist or self.data is None:  # not sent: the default, as given
            return
        message = self.problem(self.data)
        if message is not None:
            self.data = None
            raise ValueError(message)

    def _range(self) -> NumberRange | None:
        """The field's own range check, whose words say best what it may be."""
        validators = getattr(self, "validators", ())
        return next((v for v in validators if isinstance(v, NumberRange)), None)


_OUT_OF_RANGE = f"Enter a number between -{MAX_NUMBER:,} and {MAX_NUMBER:,}"


class IntegerField(_Bounded, wtforms.IntegerField):  # type: ignore[misc]
    """A whole number the database can store (within ±MAX_INT); the field's own
    range, when it has one, words the messages."""

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            if self.data is not None or str(error) != self.gettext(
                "Not a valid integer value."
            ):
                raise
            # WTForms' "Not a valid integer value." is not for people.
            bounds = self._range()
            if bounds is not None and None not in (bounds.min, bounds.max):
                raise ValueError(
                    f"Enter a whole number from {bounds.min:,} to {bounds.max:,}"
                ) from None
            raise ValueError("Enter a whole number, like 12") from None

    def problem(self, value: int) -> str | None:
        if abs(value) <= MAX_INT:
            return None
        bounds = self._range()
        if bounds is not None and bounds.message:
            return str(bounds.message)
        return f"Enter a number between -{MAX_INT:,} and {MAX_INT:,}"


class FloatField(_Bounded, wtforms.FloatField):  # type: ignore[misc]
    """A finite number within ±MAX_NUMBER."""

    def problem(self, value: float) -> str | None:
        finite = math.isfinite(value) and abs(value) <= MAX_NUMBER
        return None if finite else _OUT_OF_RANGE


class DecimalField(_Bounded, wtforms.DecimalField):  # type: ignore[misc]
    """A finite decimal within ±MAX_NUMBER."""

    def problem(self, value: decimal.Decimal) -> str | None:
        finite = value.is_finite() and abs(value) <= MAX_NUMBER
        return None if finite else _OUT_OF_RANGE


#: The three boxes of a date, in the order they are shown and named (``name-day``…).
DATE_PARTS = ("day", "month", "year")
#: The example under every date: day and month without leading zeros, as people write.
DATE_HINT = "For example, 27 3 2026"
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class DateField(wtforms.Field):  # type: ignore[misc]
    """A date in the NHS.UK date input: three boxes, day, month and year.

    The boxes are sent as ``name-day``, ``name-month`` and ``name-year``. A single
    ``name=YYYY-MM-DD`` (a bookmarked filter, a link made by Engage, a script) is read
    as well. Whatever is sent, a problem is a message in NHS.UK words ("Date must
    include a month", "Date must be a real date") and the boxes it concerns are kept
    in ``bad_parts`` to be shown in error; years run from FIRST_YEAR to LAST_YEAR,
    as date arithmetic (a day after 31 December 9999) cannot go beyond them.

    ``called`` names the date in messages (default: its label, which suits labels
    like "Due date"; a filter labelled "From" says what it is from).
    """

    #: The hint under the legend (after the field's description, if any).
    example = DATE_HINT
    data: Any
    raw_data: list[str] | None
    process_errors: list[str]

    def __init__(
        self,
        label: str | None = None,
        validators: Any = None,
        *,
        called: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(label, validators, **kwargs)
        self.called = called or (label or "Date")
        #: What was typed in each box, shown back as typed (None: nothing was sent).
        self.entered: dict[str, str] | None = None
        #: The boxes a problem concerns (shown with the error style).
        self.bad_parts: tuple[str, ...] = ()

    def part_id(self, part: str) -> str:
        """The id of one box (``part`` is day, month or year)."""
        return f"{self.id}-{part}"

    def part_name(self, part: str) -> str:
        """The name one box is sent under."""
        return f"{self.name}-{part}"

    @property
    def values(self) -> dict[str, str]:
        """What each box shows: as typed, else the date's, else nothing."""
        if self.entered is not None:
            return self.entered
        if isinstance(self.data, date):
            day = self.data
            return {"day": str(day.day), "month": str(day.month), "year": str(day.year)}
        return dict.fromkeys(DATE_PARTS, "")

    @property
    def anchor(self) -> str:
        """Where the error summary links to: the first box in error."""
        return self.part_id(self.bad_parts[0] if self.bad_parts else DATE_PARTS[0])

    def _value(self) -> str:
        return self.data.isoformat() if isinstance(self.data, date) else ""

    def process_data(self, value: Any) -> None:
        self.data = value if isinstance(value, date) else None

    def process(
        self, formdata: Any, data: Any = unset_value, extra_filters: Any = None
    ) -> None:
        # The default (or the record's value) first, then whatever the page sent.
        super().process(None, data, extra_filters)
        self.entered, self.bad_parts = None, ()
        if formdata is None:
            return
        try:
            self._read(formdata)
        except ValueError as error:
            self.data = None
            self.process_errors.append(error.args[0])

    def _read(self, formdata: Any) -> None:
        names = [self.part_name(part) for part in DATE_PARTS]
        if any(name in formdata for name in names):
            typed = {
                part: _first(formdata, name).strip()
                for part, name in zip(DATE_PARTS, names, strict=True)
            }
            self.entered = typed
            if not any(typed.values()):
                self.raw_data, self.data = [], None
                return
            # Something was typed: not empty to InputRequired and Optional.
            self.raw_data = [" ".join(typed.values())]
            self.data = self._parse(typed)
        elif self.name in formdata:
            sent = _first(formdata, self.name).strip()
            self.raw_data = [sent] if sent else []
            if not sent:
                self.data = None
                return
            if not _ISO_DATE.fullmatch(sent):
                self.entered = dict.fromkeys(DATE_PARTS, "")
                self.bad_parts = DATE_PARTS
                raise ValueError(f"{self.called} must be a real date")
            year, month, day = sent.split("-")
            self.data = self._parse({"day": day, "month": month, "year": year})
        else:
            self.raw_data = []  # not sent: the default stands

    def _parse(self, typed: dict[str, str]) -> date:
        missing = tuple(part for part in DATE_PARTS if not typed[part])
        if missing:
            self.bad_parts = missing
            raise ValueError(f"{self.called} must include a {' and '.join(missing)}")
        # Only plain digits (not "½", "١", "1e3" or a thousand nines) become numbers.
        bad = tuple(
            part
            for part, most in zip(DATE_PARTS, (2, 2, 4), strict=True)
            if not (typed[part].isascii() and typed[part].isdigit())
            or len(typed[part]) > most
        )
        if "year" not in bad and len(typed["year"]) != 4:
            self.bad_parts = ("year",)
            # NHS.UK's words, with the date they are about (a form may have two).
            raise ValueError(f"{self.called} must have a year of 4 numbers")
        day, month = (int(typed[p]) if p not in bad else 0 for p in ("day", "month"))
        if not 1 <= month <= 12:
            bad = tuple(sorted({*bad, "month"}, key=DATE_PARTS.index))
        if not 1 <= day <= 31:
            bad = tuple(sorted({*bad, "day"}, key=DATE_PARTS.index))
        if bad:
            self.bad_parts = bad
            raise ValueError(f"{self.called} must be a real date")
        year = int(typed["year"])
        try:
            value = date(year, month, day)
        except ValueError:  # 31 April, 29 February outside a leap year
            self.bad_parts = ("day",)
            raise ValueError(f"{self.called} must be a real date") from None
        if not FIRST_YEAR <= year <= LAST_YEAR:
            self.bad_parts = ("year",)
            raise ValueError(
                f"{self.called} must be between {FIRST_YEAR} and {LAST_YEAR}"
            )
        return value


def _first(formdata: Any, name: str) -> str:
    values = formdata.getlist(name) if hasattr(formdata, "getlist") else []
    return str(values[0]) if values else ""


#: Fields whose labels never say "(optional)": a lone checkbox is a yes or no, and
#: hidden fields have no label.
_UNMARKED_TYPES = frozenset(
    {"BooleanField", "HiddenField", "CSRFTokenField", "SubmitField", "FieldList"}
)


class RequiredElsewhere:
    """A field answered under a rule kept elsewhere: its label is not "(optional)".

    For a survey question marked required, or one of several ways to be contacted;
    it checks nothing itself.
    """

    field_flags: ClassVar[dict[str, bool]] = {"required": True}

    def __call__(self, form: Any, field: Any) -> None:
        return None


class OpenedAt(wtforms.HiddenField):  # type: ignore[misc]
    """When the record an edit form changes was last saved, as the form was opened
    (engage.edge.saved_since_opened reads it): a save made after someone else's is
    shown back instead of silently undoing theirs."""


def marks_optional(field: Any) -> bool:
    """Whether a field's label ends "(optional)": the form macro asks this.

    A field is optional when nothing requires it (no InputRequired, DataRequired or
    RequiredElsewhere) and, for a list or radio group, it offers an empty choice or
    may be left unanswered (``optional=True``). Filter forms, read from the query
    string (their Meta turns the CSRF token off), mark nothing: every filter there
    may be left empty.
    """
    if field.type in _UNMARKED_TYPES or field.flags.required:
        return False
    meta = getattr(field, "meta", None)
    if inspect.getattr_static(type(meta), "csrf", None) is False:
        return False
    if isinstance(field, SelectField | RadioField) and not field.optional:
        # A list or radio group without an empty choice always sends one of its
        # values (a status, how often): only one offering "none" may be left empty.
        return any(choice.value == "" for choice in field.iter_choices())
    return True


def parse_month(value: object) -> date | None:
    """The first day of a ``YYYY-MM`` month in the years a date may have, or None."""
    text = str(value or "")
    if len(text) != 7 or text[4] != "-":
        return None
    try:
        first = date.fromisoformat(text + "-01")
    except ValueError:
        return None
    return first if FIRST_YEAR <= first.year <= LAST_YEAR else None


def date_or_none(value: object) -> date | None:
    """An ISO date from a query string within the years a date may have, or None."""
    try:
        day = date.fromisoformat(str(value or ""))
    except ValueError:
        return None
    return day if FIRST_YEAR <= day.year <= LAST_YEAR else None
