"""Demo survey: one open survey with a few questions and some responses (added once)."""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta

from sqlalchemy import select

from engage.accounts.models import User
from engage.clock import local_day
from engage.extensions import db
from engage.surveys import answering
from engage.surveys import services
from engage.surveys.models import QuestionKind
from engage.surveys.models import ResponseSource
from engage.surveys.models import Survey

DEMO_TITLE = "Urgent care services: tell us what you think"

_QUESTIONS = (
    services.QuestionData(
        kind=QuestionKind.SINGLE_CHOICE,
        text="Which service did you use most recently?",
        choices=("NHS 111", "Urgent treatment centre", "A&E", "GP out of hours"),
        required=True,
    ),
    services.QuestionData(
        kind=QuestionKind.LIKERT_SATISFACTION,
        text="How satisfied were you with the care you received?",
        required=True,
    ),
    services.QuestionData(
        kind=QuestionKind.RATING_0_10,
        text="How likely are you to recommend the service to friends and family?",
    ),
    services.QuestionData(
        kind=QuestionKind.LONG_TEXT,
        text="What one thing would have made your experience better?",
        help_text="Please do not include names or personal details.",
    ),
)

#: (days ago, choice index, satisfaction 1–5, rating 0–10, comment)
_RESPONSES = (
    (9, 0, 4, 8, "Quicker call back from 111."),
    (8, 1, 5, 10, ""),
    (8, 2, 2, 3, "The wait in A&E was over four hours."),
    (6, 1, 4, 9, "Clearer signs to the urgent treatment centre."),
    (5, 3, 3, 6, ""),
    (3, 0, 1, 2, "I was sent to A&E when a GP could have helped."),
    (2, 2, 4, 7, "Somewhere to park."),
)


def load_demo_survey(*, now: datetime) -> None:
    """Add the demo survey and its responses, unless it is already there."""
    if db.session.scalar(select(Survey.id).where(Survey.title == DEMO_TITLE)):
        return
    officer = db.session.scalar(
        select(User).where(User.email == "officer@engage.example")
    )
    if officer is None:
        return
    started = now - timedelta(days=10)
    survey = services.create_survey(
        services.SurveyData(
            title=DEMO_TITLE,
            introduction=(
                "We are reviewing urgent care in our area. Your answers are "
                "anonymous and help us decide what to change."
            ),
            closes_on=local_day(now + timedelta(days=21)),
        ),
        actor=officer,
        now=started,
    )
    for data in _QUESTIONS:
        services.add_question(survey, data, actor=officer, now=started)
    services.open_survey(survey, actor=officer, now=started)
    choice, satisfaction, rating, comment = survey.questions
    for days_ago, pick, satisfied, score, text in _RESPONSES:
        answering.record_response(
            survey,
            {
                choice.id: choice.choices[pick].id,
                satisfaction.id: satisfied,
                rating.id: score,
                comment.id: text or None,
            },
            source=ResponseSource.WEB,
            now=now - timedelta(days=days_ago),
            check_open=False,
        )
