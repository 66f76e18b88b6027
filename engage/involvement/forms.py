"""Involvement forms: an activity (what, when, where, support, who is invited), a
session's date and time, and the list's filters."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask_wtf import FlaskForm
from wtforms import TimeField
from wtforms.validators import InputRequired
from wtforms.validators import NumberRange
from wtforms.validators import Optional
from wtforms.validators import ValidationError

from engage.actions.models import Recurrence
from engage.formtools import DateField
from engage.formtools import IntegerField
from engage.formtools import MultiCheckboxField
from engage.formtools import OpenedAt
from engage.formtools import RadioField
from engage.formtools import RequiredElsewhere
from engage.formtools import SelectField
from engage.formtools import choices
from engage.formtools import enum_parser
from engage.formtools import parse_id
from engage.formtools import text
from engage.involvement.models import ActivityKind
from engage.involvement.models import ActivityStatus
from engage.involvement.services import MAX_CAPACITY
from engage.involvement.services import MAX_DURATION
from engage.involvement.services import MAX_SERIES
from engage.involvement.services import MIN_DURATION
from engage.involvement.services import SERIES_RECURRENCES
from engage.involvement.services import ActivityData
from engage.involvement.services import Schedule
from engage.membership.models import ContactChannel
from engage.membership.models import SupportNeed
from engage.membership.models import Tier

TIME_HINT = "UK time (as on a clock in England), 24-hour, for example 18:00"
TIME_MESSAGE = "Enter a time in 24-hour format, for example 18:00"

KIND_CHOICES = choices((k.value, k.label) for k in ActivityKind)
RECURRENCE_CHOICES = choices(
    (r.value, "Just once" if r is Recurrence.NONE else r.label)
    for r in SERIES_RECURRENCES
)
YES_NO = choices([("yes", "Yes"), ("no", "No")])
YES_NO_UNKNOWN = choices([("yes", "Yes"), ("no", "No"), ("unknown", "Not known")])
SUPPORT_CHOICES = choices(
    [
        ("interpreters", "Spoken language interpreters"),
        ("bsl", "British Sign Language (BSL) interpreters"),
        ("travel", "Help with travel"),
        ("carers", "Carers' costs"),
    ]
)
CHANNEL_CHOICES = choices(
    [
        (ContactChannel.EMAIL.value, "Email"),
        (ContactChannel.SMS.value, "Text message"),
        (ContactChannel.POST.value, "Letter"),
    ]
)
TIER_CHOICES = choices(
    [
        (Tier.GOLD.value, "Gold members (meetings and focus groups)"),
        (Tier.SILVER.value, "Silver members (surveys)"),
        ("any", "Members of any tier"),
    ]
)
WHEN_CHOICES = choices(
    [("upcoming", "Still to come"), ("past", "Past"), ("all", "All")]
)


def _yes(value: object) -> bool | None:
    """A yes / no / not known radio's value: True, False or None."""
    if value is None or value == "unknown":
        return None
    if isinstance(value, bool):
        return value
    if value in ("yes", "no"):
        return value == "yes"
    raise ValueError("not yes or no")


def _answer(value: bool | None) -> str:
    """A yes / no / not known value as its radio's value."""
    return "unknown" if value is None else ("yes" if value else "no")


def _when(value: object) -> str | None:
    if value is None:
        return None
    if value in ("upcoming", "past", "all"):
        return str(value)
    raise ValueError("not upcoming, past or all")


_TIERS = enum_parser(Tier)


def _tier(value: object) -> Tier | None:
    """A tier, or None for "any"."""
    if value == "":
        raise ValueError("not a tier")
    return None if value == "any" else _TIERS(value)


def time_field(label: str, required: str) -> Any:
    """A 24-hour time box (HH:MM), read as UK time."""
    return TimeField(
        label,
        description=TIME_HINT,
        validators=[InputRequired(required)],
        invalid_value_message=TIME_MESSAGE,
        render_kw={"inputmode": "numeric"},
    )


def duration_field(*, required: bool) -> Any:
    checks: list[Any] = [
        InputRequired("Enter how long each session lasts, in minutes")
        if required
        else Optional(),
        NumberRange(
            min=MIN_DURATION,
            max=MAX_DURATION,
            message=(
                f"A session lasts between {MIN_DURATION} and {MAX_DURATION} minutes"
            ),
        ),
    ]
    return IntegerField(
        "How long it lasts, in minutes",
        description="For example, 90 for an hour and a half.",
        validators=checks,
        render_kw={"inputmode": "numeric"},
    )


class ActivityForm(FlaskForm):  # type: ignore[misc]
    opened_at = OpenedAt()
    kind = RadioField(
        "What kind of activity is it?",
        choices=KIND_CHOICES,
        parse=enum_parser(ActivityKind),
        validators=[InputRequired("Choose what kind of activity it is")],
    )
    title = text(
        "Title",
        max_length=200,
        required="Enter a title",
        description="A short name people will recognise in their invitation.",
    )
    purpose = text(
        "What it is for",
        max_length=5000,
        lines=True,
        description="Why you are asking people and what you will do with their views.",
    )
    programme = text(
        "What will happen (the agenda)",
        max_length=10000,
        lines=True,
    )
    action_id = SelectField(
        "The action in the plan it delivers",
        description="Attendance is logged as a delivery of that action.",
        parse=parse_id,
    )
    rate_id = SelectField(
        "Involvement level",
        description=(
            "Sets the involvement payment for each session. Expenses are paid at "
            "every level."
        ),
        parse=parse_id,
    )

    # When (only while the sessions are still made from a schedule)
    first_day = DateField(
        "Date of the first session",
        called="The date of the first session",
        validators=[InputRequired("Enter the date of the first session")],
    )
    first_time = time_field(
        "Start time", required="Enter the time the first session starts"
    )
    duration = duration_field(required=True)
    recurrence = RadioField(
        "Does it repeat?",
        description="A reference group meets as a series at the same time.",
        choices=RECURRENCE_CHOICES,
        parse=enum_parser(Recurrence),
        default=Recurrence.NONE.value,
        validators=[InputRequired("Say whether the sessions repeat")],
    )
    session_count = IntegerField(
        "How many sessions in the series",
        description=(
            f"For a series, from 2 to {MAX_SERIES}. Leave it empty for a single "
            "session. You can add sessions later."
        ),
        validators=[
            Optional(),
            NumberRange(
                min=1,
                max=MAX_SERIES,
                message=f"Enter a number of sessions from 2 to {MAX_SERIES}",
            ),
        ],
        render_kw={"inputmode": "numeric"},
    )

    # Where
    venue_name = text("Venue", max_length=200)
    venue_address = text("Venue address", max_length=1000, lines=True)
    step_free = RadioField(
        "Step-free access",
        choices=YES_NO_UNKNOWN,
        parse=_yes,
        default="unknown",
    )
    hearing_loop = RadioField(
        "Hearing loop",
        choices=YES_NO_UNKNOWN,
        parse=_yes,
        default="unknown",
    )
    parking = text("Parking", max_length=300)
    public_transport = text("Public transport", max_length=300)
    accessibility_notes = text("Other accessibility notes", max_length=2000, lines=True)
    online_link = text(
        "Online joining link",
        max_length=500,
        description="For an online or hybrid session. Starts https://",
    )
    capacity = IntegerField(
        "Places at each session",
        description="Leave empty for no limit. People who reply when it is full go "
        "on a waiting list.",
        validators=[
            Optional(),
            NumberRange(
                min=1,
                max=MAX_CAPACITY,
                message=f"Enter a number of places from 1 to {MAX_CAPACITY:,}",
            ),
        ],
        render_kw={"inputmode": "numeric"},
    )

    # Support
    support = MultiCheckboxField(
        "Support offered",
        choices=SUPPORT_CHOICES,
        optional=True,
    )
    support_notes = text("Notes about support", max_length=500)

    # Who is invited
    to_members = RadioField(
        "Invite PPI members?",
        choices=YES_NO,
        parse=_yes,
        default="yes",
        validators=[InputRequired("Say whether PPI members are invited")],
    )
    tier = RadioField(
        "Which members",
        choices=TIER_CHOICES,
        parse=_tier,
        default=Tier.GOLD.value,
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
    audience_ids = MultiCheckboxField(
        "Stakeholder audiences",
        description="Their contacts are invited too.",
        parse=parse_id,
        optional=True,
    )
    channels = MultiCheckboxField(
        "How to send the invitations",
        description="Each person is asked only in the ways they agreed to.",
        choices=CHANNEL_CHOICES,
        parse=enum_parser(ContactChannel),
        validators=[RequiredElsewhere()],
    )

    #: The fields of the schedule, left out once sessions are kept one by one.
    SCHEDULE_FIELDS = ("first_day", "first_time", "recurrence", "session_count")

    def __init__(
        self,
        *args: Any,
        actions: list[tuple[int, str]],
        rates: list[tuple[int, str]],
        topics: list[tuple[int, str]],
        practices: list[tuple[int, str]],
        audiences: list[tuple[int, str]],
        with_schedule: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if not with_schedule:
            for name in self.SCHEDULE_FIELDS:
                delattr(self, name)
        self.with_schedule = with_schedule
        self.action_id.choices = choices([("", "Not linked to an action"), *actions])
        self.rate_id.choices = choices([("", "Not set"), *rates])
        self.topic_id.choices = choices([("", "Any topic"), *topics])
        self.practice_id.choices = choices([("", "Any GP practice"), *practices])
        self.audience_ids.choices = choices(audiences)

    def validate(self, extra_validators: Any = None) -> bool:
        valid: bool = super().validate(extra_validators)
        # Optional() ends a field's own checks when it is empty, so the number of
        # sessions is checked against how often they repeat here.
        if self.with_schedule and not self.session_count.errors:
            problem = self._count_problem()
            if problem:
                self.session_count.errors = [problem]
                valid = False
        return valid

    def _count_problem(self) -> str | None:
        repeats, count = self.recurrence.data, self.session_count.data
        if repeats is None or self.recurrence.errors:
            return None
        if repeats is Recurrence.NONE:
            if count not in (None, 1):
                return (
                    "Choose how often it repeats, or leave this empty for one session"
                )
            return None
        if count is None:
            return "Enter how many sessions there are in the series"
        if count < 2:
            return f"Enter a number of sessions from 2 to {MAX_SERIES}"
        return None

    def validate_online_link(self, field: Any) -> None:
        link = field.data or ""
        if not link:
            return
        parts = urlsplit(link) if link.isascii() else None
        if (
            parts is None
            or parts.scheme != "https"
            or not parts.hostname
            or " " in link
            or not link.startswith("https://")
        ):
            raise ValidationError(
                "Enter the joining link as a web address starting https://"
            )

    def validate_channels(self, field: Any) -> None:
        if not field.data:
            raise ValidationError("Choose at least one way to send the invitations")

    def validate_audience_ids(self, field: Any) -> None:
        if self.to_members.data is False and not field.data:
            raise ValidationError("Choose at least one audience, or invite PPI members")

    def schedule(self) -> Schedule | None:
        """The sessions' schedule (None when the form has no schedule fields)."""
        if not self.with_schedule:
            return None
        repeats = self.recurrence.data or Recurrence.NONE
        return Schedule(
            first_day=self.first_day.data,
            first_time=self.first_time.data,
            duration_minutes=self.duration.data,
            recurrence=repeats,
            count=1 if repeats is Recurrence.NONE else self.session_count.data,
        )

    def data_for_service(self) -> ActivityData:
        """The activity's values for the services."""
        support = set(self.support.data or ())
        channels = set(self.channels.data or ())
        return ActivityData(
            kind=self.kind.data,
            title=self.title.data or "",
            purpose=self.purpose.data or "",
            programme=self.programme.data or "",
            action_id=self.action_id.data,
            rate_id=self.rate_id.data,
            venue_name=self.venue_name.data or "",
            venue_address=self.venue_address.data or "",
            step_free=self.step_free.data,
            hearing_loop=self.hearing_loop.data,
            parking=self.parking.data or "",
            public_transport=self.public_transport.data or "",
            accessibility_notes=self.accessibility_notes.data or "",
            online_link=self.online_link.data or "",
            capacity=self.capacity.data,
            offers_interpreters="interpreters" in support,
            offers_bsl="bsl" in support,
            offers_travel="travel" in support,
            offers_carers="carers" in support,
            support_notes=self.support_notes.data or "",
            to_members=bool(self.to_members.data),
            tier=self.tier.data,
            topic_id=self.topic_id.data,
            practice_id=self.practice_id.data,
            support_need=self.support_need.data,
            audience_ids=list(self.audience_ids.data or ()),
            by_email=ContactChannel.EMAIL in channels,
            by_sms=ContactChannel.SMS in channels,
            by_post=ContactChannel.POST in channels,
        )


def initial_values(activity: Any, schedule: Schedule | None) -> dict[str, Any]:
    """The form's starting values for an existing activity."""
    support = [
        name
        for name, on in (
            ("interpreters", activity.offers_interpreters),
            ("bsl", activity.offers_bsl),
            ("travel", activity.offers_travel),
            ("carers", activity.offers_carers),
        )
        if on
    ]
    values: dict[str, Any] = {
        "kind": activity.kind.value,
        "title": activity.title,
        "purpose": activity.purpose,
        "programme": activity.programme,
        "action_id": activity.action_id,
        "rate_id": activity.rate_id,
        "duration": activity.duration_minutes,
        "venue_name": activity.venue_name,
        "venue_address": activity.venue_address,
        "step_free": _answer(activity.step_free),
        "hearing_loop": _answer(activity.hearing_loop),
        "parking": activity.parking,
        "public_transport": activity.public_transport,
        "accessibility_notes": activity.accessibility_notes,
        "online_link": activity.online_link,
        "capacity": activity.capacity,
        "support": support,
        "support_notes": activity.support_notes,
        "to_members": "yes" if activity.to_members else "no",
        "tier": activity.tier.value if activity.tier else "any",
        "topic_id": activity.topic_id,
        "practice_id": activity.practice_id,
        "support_need": activity.support_need,
        "audience_ids": [a.id for a in activity.audiences],
        "channels": activity.channels,
    }
    if schedule is not None:
        values |= {
            "first_day": schedule.first_day,
            "first_time": schedule.first_time,
            "duration": schedule.duration_minutes,
            "recurrence": schedule.recurrence.value,
            "session_count": (
                schedule.count if schedule.recurrence is not Recurrence.NONE else None
            ),
        }
    return values


class SessionForm(FlaskForm):  # type: ignore[misc]
    """One session's date, start time (UK) and length."""

    day = DateField(
        "Date", called="The date", validators=[InputRequired("Enter the date")]
    )
    at = time_field("Start time", required="Enter the start time")
    duration = duration_field(required=True)


class ActivityFilterForm(FlaskForm):  # type: ignore[misc]
    """The list's filters, read from the query string (GET, so no CSRF token)."""

    class Meta:
        csrf = False

    when = RadioField(
        "When",
        choices=WHEN_CHOICES,
        parse=_when,
        default="upcoming",
    )
    kind = SelectField(
        "Kind",
        choices=choices(
            [("", "Any kind"), *((k.value, k.label) for k in ActivityKind)]
        ),
        parse=enum_parser(ActivityKind),
    )
    status = SelectField(
        "Status",
        choices=choices(
            [("", "Any status"), *((s.value, s.label) for s in ActivityStatus)]
        ),
        parse=enum_parser(ActivityStatus),
    )
