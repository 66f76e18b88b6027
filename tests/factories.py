"""factory_boy factories, one section per feature; they commit so requests see rows."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

import factory
import pyotp
from factory.alchemy import SQLAlchemyModelFactory

from engage.accounts.models import Role
from engage.accounts.models import User
from engage.accounts.passwords import hash_password
from engage.actions.models import Action
from engage.actions.models import ActionStatus
from engage.actions.models import Activity
from engage.actions.models import Channel
from engage.actions.models import ReachFigure
from engage.actions.models import Recurrence
from engage.audiences.models import Approach
from engage.audiences.models import Audience
from engage.audiences.models import AudienceContact
from engage.audiences.models import AudienceGroup
from engage.audiences.models import Programme
from engage.clock import today
from engage.clock import utcnow
from engage.extensions import db
from engage.membership.consent import record_consents
from engage.membership.models import STAFF_JOIN_METHODS
from engage.membership.models import ConsentMethod
from engage.membership.models import ContactChannel
from engage.membership.models import EqualityAnswers
from engage.membership.models import Member
from engage.membership.models import MemberStatus
from engage.membership.models import Tier
from engage.membership.models import Topic
from engage.metrics.models import Feed
from engage.metrics.models import Metric
from engage.metrics.models import MetricKind
from engage.metrics.models import Observation
from engage.metrics.models import Source
from engage.relationships.models import Commitment
from engage.relationships.models import CommitmentStatus
from engage.relationships.models import Direction
from engage.relationships.models import Interaction
from engage.relationships.models import InteractionKind
from engage.relationships.models import InteractionStatus
from engage.relationships.models import Sentiment
from engage.relationships.models import Theme
from engage.surveys.models import Choice
from engage.surveys.models import Question
from engage.surveys.models import QuestionKind
from engage.surveys.models import Survey
from engage.surveys.models import SurveyStatus

DEFAULT_PASSWORD = "correct horse battery staple"


@functools.cache
def _default_hash() -> str:
    # argon2 is slow by design: hash the shared test password once per run.
    return hash_password(DEFAULT_PASSWORD)


class BaseFactory(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "commit"


# Accounts -----------------------------------------------------------------------------


class UserFactory(BaseFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@trust.example")
    name = factory.Sequence(lambda n: f"Staff Member {n}")
    role = Role.OFFICER
    is_active = True
    password_hash = factory.LazyFunction(_default_hash)
    created_at = factory.LazyFunction(utcnow)
    updated_at = factory.LazyFunction(utcnow)
    # Administrators must use two-factor sign-in (A6): they have it set up by default.
    totp_secret = factory.LazyAttribute(
        lambda user: pyotp.random_base32(32) if str(user.role) == "admin" else None
    )
    totp_enabled_at = factory.LazyAttribute(
        lambda user: utcnow() if user.totp_secret else None
    )


def totp_code(user: User) -> str:
    """A code for ``user``'s authenticator that the app has not accepted yet.

    The app takes each 30-second step once; a test that signs the same user in twice
    within a step forgets the used step here (test set-up, not the behaviour tested).
    """
    assert user.totp_secret, "the user has no two-factor set up"
    db.session.refresh(user)
    totp = pyotp.TOTP(user.totp_secret)
    step = totp.timecode(utcnow())
    if user.totp_last_step is not None and user.totp_last_step >= step:
        user.totp_last_step = None
        db.session.commit()
    return totp.generate_otp(step)


def sign_in(client: Any, user: User, password: str = DEFAULT_PASSWORD) -> Any:
    """Sign ``user`` in through the real form, with the code step when they have one."""
    response = client.post("/login", data={"email": user.email, "password": password})
    if response.status_code == 302 and response.headers["Location"] == "/login/code":
        response = client.post("/login/code", data={"code": totp_code(user)})
    return response


# Stakeholder map and action plan ------------------------------------------------------


class AudienceFactory(BaseFactory):
    class Meta:
        model = Audience

    name = factory.Sequence(lambda n: f"Audience {n}")
    group = AudienceGroup.PUBLIC
    approach = Approach.INFORM
    influence = 2
    interest = 4
    created_at = factory.LazyFunction(utcnow)
    updated_at = factory.LazyFunction(utcnow)


class ProgrammeFactory(BaseFactory):
    class Meta:
        model = Programme

    name = factory.Sequence(lambda n: f"Programme {n}")
    created_at = factory.LazyFunction(utcnow)
    updated_at = factory.LazyFunction(utcnow)


class ChannelFactory(BaseFactory):
    class Meta:
        model = Channel
        sqlalchemy_get_or_create = ("name",)

    name = "Newsletter"


class ActionFactory(BaseFactory):
    class Meta:
        model = Action

    title = factory.Sequence(lambda n: f"Action {n}")
    channel = factory.SubFactory(ChannelFactory)
    status = ActionStatus.PLANNED
    recurrence = Recurrence.NONE
    created_at = factory.LazyFunction(utcnow)
    updated_at = factory.LazyFunction(utcnow)

    @factory.post_generation
    def owners(self, create: bool, extracted: list[User] | None) -> None:
        if extracted:
            self.owners = list(extracted)
            db.session.commit()

    @factory.post_generation
    def audiences(self, create: bool, extracted: list[Audience] | None) -> None:
        if extracted:
            self.audiences = list(extracted)
            db.session.commit()


class ActivityFactory(BaseFactory):
    """A logged delivery of an action; ``figures={"recipients": 412}`` is its reach."""

    class Meta:
        model = Activity

    action = factory.SubFactory(ActionFactory)
    occurred_on = factory.LazyFunction(today)
    description = factory.Sequence(lambda n: f"Delivery {n}")
    created_at = factory.LazyFunction(utcnow)

    @factory.post_generation
    def figures(self, create: bool, extracted: Mapping[str, int] | None) -> None:
        if extracted:
            self.figures = [
                ReachFigure(label=label, value=value)
                for label, value in extracted.items()
            ]
            if create:
                db.session.commit()

    @factory.post_generation
    def audiences(self, create: bool, extracted: list[Audience] | None) -> None:
        if extracted:
            self.audiences = list(extracted)
            if create:
                db.session.commit()


# Membership ---------------------------------------------------------------------------


class TopicFactory(BaseFactory):
    class Meta:
        model = Topic

    name = factory.Sequence(lambda n: f"Topic {n}")
    is_active = True


class MemberFactory(BaseFactory):
    """A member saved directly, as if they had joined by the web form and confirmed.

    ``consents=[ContactChannel.EMAIL]`` records those consents as given when they
    joined, ``topics=[...]`` chooses topics and ``equality={"age_band": "18_24"}``
    adds equality answers.
    """

    class Meta:
        model = Member

    name = factory.Sequence(lambda n: f"Member {n}")
    email = factory.Sequence(lambda n: f"member{n}@example.org")
    tier = Tier.SILVER
    status = MemberStatus.ACTIVE
    joined_by = ConsentMethod.WEB_FORM
    created_at = factory.LazyFunction(utcnow)
    updated_at = factory.SelfAttribute("created_at")
    # Only a web-form join is confirmed (by the emailed link); staff add members
    # by phone or paper already active, never confirmed.
    confirmed_at = factory.LazyAttribute(
        lambda member: (
            member.created_at
            if member.status == MemberStatus.ACTIVE
            and member.joined_by not in STAFF_JOIN_METHODS
            else None
        )
    )

    @factory.post_generation
    def consents(
        self, create: bool, extracted: Sequence[ContactChannel] | None
    ) -> None:
        if extracted:
            record_consents(
                self,
                dict.fromkeys(extracted, True),
                method=self.joined_by,
                now=self.created_at,
            )
            if create:
                db.session.commit()

    @factory.post_generation
    def topics(self, create: bool, extracted: list[Topic] | None) -> None:
        if extracted:
            self.topics = list(extracted)
            if create:
                db.session.commit()

    @factory.post_generation
    def equality(self, create: bool, extracted: Mapping[str, str] | None) -> None:
        if extracted:
            self.equality = EqualityAnswers(recorded_at=self.created_at, **extracted)
            if create:
                db.session.commit()


# Surveys ------------------------------------------------------------------------------


class SurveyFactory(BaseFactory):
    class Meta:
        model = Survey

    title = factory.Sequence(lambda n: f"Survey {n}")
    introduction = ""
    status = SurveyStatus.DRAFT
    anonymous = True
    created_at = factory.LazyFunction(utcnow)
    updated_at = factory.LazyFunction(utcnow)


class QuestionFactory(BaseFactory):
    """The survey's next question; ``choices=("Yes", "No")`` gives a choice question's
    options in order."""

    class Meta:
        model = Question

    survey = factory.SubFactory(SurveyFactory)
    position = factory.LazyAttribute(
        lambda question: len(question.survey.questions) + 1
    )
    kind = QuestionKind.SHORT_TEXT
    text = factory.Sequence(lambda n: f"Question {n}")
    help_text = ""
    required = False

    @factory.post_generation
    def choices(self, create: bool, extracted: Sequence[str] | None) -> None:
        if extracted:
            self.choices = [
                Choice(position=position, label=label)
                for position, label in enumerate(extracted, start=1)
            ]
            if create:
                db.session.commit()


# Metrics and media monitoring ---------------------------------------------------------


class MetricFactory(BaseFactory):
    class Meta:
        model = Metric

    key = factory.Sequence(lambda n: f"metric-{n}")
    name = factory.LazyAttribute(
        lambda metric: metric.key.replace("-", " ").capitalize()
    )
    kind = MetricKind.FLOW
    created_at = factory.LazyFunction(utcnow)
    updated_at = factory.LazyFunction(utcnow)


class ObservationFactory(BaseFactory):
    class Meta:
        model = Observation

    metric = factory.SubFactory(MetricFactory)
    observed_on = factory.LazyFunction(today)
    value = 1.0
    source = Source.MANUAL
    recorded_at = factory.LazyFunction(utcnow)


class FeedFactory(BaseFactory):
    """A media-monitoring feed; with no ``phrases`` it records every entry."""

    class Meta:
        model = Feed

    url = factory.Sequence(lambda n: f"https://news{n}.example/rss")
    name = factory.Sequence(lambda n: f"News {n}")
    phrases = ""
    created_at = factory.LazyFunction(utcnow)
    updated_at = factory.LazyFunction(utcnow)


# Relationships ------------------------------------------------------------------------


class ContactFactory(BaseFactory):
    class Meta:
        model = AudienceContact

    audience = factory.SubFactory(AudienceFactory)
    name = factory.Sequence(lambda n: f"Contact {n}")
    role = "Councillor"
    email = factory.Sequence(lambda n: f"contact{n}@council.example")


class ThemeFactory(BaseFactory):
    class Meta:
        model = Theme

    name = factory.Sequence(lambda n: f"Theme {n}")
    created_at = factory.LazyFunction(utcnow)
    updated_at = factory.LazyFunction(utcnow)


class InteractionFactory(BaseFactory):
    """A confirmed meeting today; pass ``audiences=[…]`` (and contacts, themes…)."""

    class Meta:
        model = Interaction

    kind = InteractionKind.MEETING
    direction = Direction.OUTBOUND
    occurred_on = factory.LazyFunction(today)
    subject = factory.Sequence(lambda n: f"Meeting {n}")
    summary = "We talked."
    sentiment = Sentiment.NEUTRAL
    status = InteractionStatus.CONFIRMED
    created_at = factory.LazyFunction(utcnow)
    updated_at = factory.LazyFunction(utcnow)


class CommitmentFactory(BaseFactory):
    class Meta:
        model = Commitment

    description = factory.Sequence(lambda n: f"Send the papers ({n})")
    audience = factory.SubFactory(AudienceFactory)
    due_on = factory.LazyFunction(today)
    status = CommitmentStatus.OPEN
    created_at = factory.LazyFunction(utcnow)
    updated_at = factory.LazyFunction(utcnow)
