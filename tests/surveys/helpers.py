"""Builders for survey tests: members with consents, and a survey of every kind."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from typing import Any

from engage.extensions import db
from engage.membership.models import ContactChannel
from engage.membership.models import Member
from engage.membership.models import MemberStatus
from engage.membership.models import Practice
from engage.membership.models import Tier
from engage.membership.models import Topic
from engage.surveys import services
from engage.surveys.models import Question
from engage.surveys.models import QuestionKind
from engage.surveys.models import Survey
from engage.surveys.models import SurveyStatus
from tests.factories import MemberFactory
from tests.factories import TopicFactory

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def make_member(
    name: str = "Pat Member",
    email: str | None = "pat@example.org",
    *,
    tier: Tier = Tier.SILVER,
    status: MemberStatus = MemberStatus.ACTIVE,
    consents: tuple[ContactChannel, ...] = (ContactChannel.EMAIL,),
    topics: list[Topic] | None = None,
    practice: Practice | None = None,
    **fields: Any,
) -> Member:
    """A member saved directly, with the consents given (flushed, not committed)."""
    member = MemberFactory.build(
        name=name,
        email=email,
        tier=tier,
        status=status,
        created_at=NOW,
        confirmed_at=NOW,
        practice=practice,
        topics=topics,
        consents=consents,
        **fields,
    )
    db.session.add(member)
    db.session.flush()
    return member


def make_topic(name: str = "Mental health") -> Topic:
    return TopicFactory(name=name)


def make_practice(name: str = "Riverside Surgery") -> Practice:
    practice = Practice(name=name)
    db.session.add(practice)
    db.session.flush()
    return practice


ALL_KINDS: list[tuple[QuestionKind, str, tuple[str, ...]]] = [
    (
        QuestionKind.SINGLE_CHOICE,
        "How did you hear about us?",
        ("Leaflet", "GP", "Web"),
    ),
    (QuestionKind.MULTIPLE_CHOICE, "Which services did you use?", ("A&E", "GP", "111")),
    (QuestionKind.LIKERT_AGREEMENT, "The service was easy to use", ()),
    (QuestionKind.LIKERT_SATISFACTION, "How satisfied are you?", ()),
    (QuestionKind.RATING_0_10, "How likely are you to recommend us?", ()),
    (QuestionKind.NUMBER, "How many visits this year?", ()),
    (QuestionKind.SHORT_TEXT, "Your town", ()),
    (QuestionKind.LONG_TEXT, "Anything else?", ()),
]


def make_survey(
    actor: Any,
    *,
    title: str = "Urgent care survey",
    anonymous: bool = True,
    status: SurveyStatus = SurveyStatus.OPEN,
    required: bool = False,
) -> Survey:
    """A survey with one question of every kind (opened unless a draft is asked for)."""
    survey = services.create_survey(
        services.SurveyData(title=title, anonymous=anonymous), actor=actor, now=NOW
    )
    for kind, text, choices in ALL_KINDS:
        services.add_question(
            survey,
            services.QuestionData(
                kind=kind,
                text=text,
                choices=choices,
                required=required,
                min_value=0 if kind is QuestionKind.NUMBER else None,
                max_value=100 if kind is QuestionKind.NUMBER else None,
            ),
            actor=actor,
            now=NOW,
        )
    if status is not SurveyStatus.DRAFT:
        services.open_survey(survey, actor=actor, now=NOW)
    if status is SurveyStatus.CLOSED:
        services.close_survey(survey, actor=actor, now=NOW)
    db.session.commit()
    return survey


def question(survey: Survey, kind: QuestionKind) -> Question:
    return next(q for q in survey.questions if q.kind is kind)


def full_answers(survey: Survey) -> dict[int, Any]:
    """Service-level answers to every question."""
    single = question(survey, QuestionKind.SINGLE_CHOICE)
    multiple = question(survey, QuestionKind.MULTIPLE_CHOICE)
    return {
        single.id: single.choices[1].id,
        multiple.id: [multiple.choices[0].id, multiple.choices[2].id],
        question(survey, QuestionKind.LIKERT_AGREEMENT).id: 4,
        question(survey, QuestionKind.LIKERT_SATISFACTION).id: 2,
        question(survey, QuestionKind.RATING_0_10).id: 9,
        question(survey, QuestionKind.NUMBER).id: 3,
        question(survey, QuestionKind.SHORT_TEXT).id: "Leeds",
        question(survey, QuestionKind.LONG_TEXT).id: "More evening appointments.",
    }


def form_data(survey: Survey) -> dict[str, Any]:
    """The same answers as the answer form posts them."""
    data: dict[str, Any] = {}
    for question_id, value in full_answers(survey).items():
        data[f"q{question_id}"] = (
            [str(v) for v in value] if isinstance(value, list) else str(value)
        )
    return data
