"""Builders for the survey results and import tests: a survey of every kind."""

from __future__ import annotations

from datetime import date

from engage.extensions import db
from engage.surveys.models import Answer
from engage.surveys.models import Question
from engage.surveys.models import QuestionKind
from engage.surveys.models import Response
from engage.surveys.models import ResponseSource
from engage.surveys.models import Survey
from engage.surveys.models import SurveyStatus
from tests.factories import QuestionFactory
from tests.factories import SurveyFactory

SINGLE = ("Newsletter", "Website", "Friend")
MULTI = ("GP surgery", "Pharmacy", "A&E", "Walk-in centre, urgent care")
#: (kind, text, choices) of the six questions, as in tests/fixtures/surveys.
QUESTIONS = (
    (QuestionKind.SINGLE_CHOICE, "How did you hear about us?", SINGLE),
    (QuestionKind.MULTIPLE_CHOICE, "Which services have you used?", MULTI),
    (QuestionKind.LIKERT_AGREEMENT, "The service met my needs", ()),
    (QuestionKind.RATING_0_10, "How likely are you to recommend us?", ()),
    (QuestionKind.NUMBER, "How many visits in the last year?", ()),
    (QuestionKind.LONG_TEXT, "Any other comments?", ()),
)


def make_survey(*, title: str = "Patient experience", anonymous: bool = True) -> Survey:
    """An open survey with one question of each main kind (committed)."""
    survey = SurveyFactory(title=title, status=SurveyStatus.OPEN, anonymous=anonymous)
    for kind, text, choices in QUESTIONS:
        QuestionFactory(
            survey=survey,
            kind=kind,
            text=text,
            choices=choices,
            min_value=0 if kind is QuestionKind.NUMBER else None,
            max_value=100 if kind is QuestionKind.NUMBER else None,
        )
    return survey


def question(survey: Survey, kind: QuestionKind) -> Question:
    """The survey's question of this kind."""
    return next(q for q in survey.questions if q.kind is kind)


def add_response(
    survey: Survey,
    answers: dict[QuestionKind, object],
    *,
    day: date = date(2024, 3, 15),
    tier: str | None = None,
    practice_id: int | None = None,
    member_id: int | None = None,
) -> Response:
    """A web response with the given answers (labels for choices; committed)."""
    response = Response(
        survey_id=survey.id,
        submitted_on=day,
        source=ResponseSource.WEB,
        tier=tier,
        practice_id=practice_id,
        member_id=member_id,
    )
    for kind, value in answers.items():
        q = question(survey, kind)
        if kind.has_choices:
            labels = value if isinstance(value, list | tuple) else [value]
            for label in labels:
                choice = next(c for c in q.choices if c.label == label)
                response.answers.append(Answer(question_id=q.id, choice_id=choice.id))
        elif kind.is_text:
            response.answers.append(Answer(question_id=q.id, text=str(value)))
        else:
            response.answers.append(Answer(question_id=q.id, number=float(value)))
    db.session.add(response)
    db.session.commit()
    return response
