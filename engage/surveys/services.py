"""Survey builder services: surveys, questions, status, public links and copies."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update

from engage.audit.services import SYSTEM
from engage.audit.services import record_event
from engage.clock import local_day
from engage.clock import start_of_day
from engage.errors import Conflict
from engage.errors import NotFound
from engage.errors import ValidationError
from engage.extensions import db
from engage.surveys.models import Choice
from engage.surveys.models import Question
from engage.surveys.models import QuestionKind
from engage.surveys.models import Response
from engage.surveys.models import Survey
from engage.surveys.models import SurveyStatus

if TYPE_CHECKING:
    from engage.accounts.models import User

MAX_CHOICES = 50


def token_hash(token: str) -> str:
    """The SHA-256 hex digest stored in place of a link's token."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    """A fresh 256-bit URL-safe token."""
    return secrets.token_urlsafe(32)


# Surveys ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SurveyData:
    """What staff enter about a survey (the dates are local days)."""

    title: str
    introduction: str = ""
    opens_on: date | None = None
    #: The last day answers are accepted.
    closes_on: date | None = None
    anonymous: bool = True


def _apply(survey: Survey, data: SurveyData) -> None:
    title = data.title.strip()
    if not title:
        raise ValidationError("Enter a title")
    if data.opens_on and data.closes_on and data.closes_on < data.opens_on:
        raise ValidationError("The closing date must be on or after the opening date")
    if not data.anonymous and survey.public_token_hash is not None:
        raise Conflict(
            "A survey with a public link must be anonymous: remove the link first"
        )
    survey.title = title
    survey.introduction = data.introduction.strip()
    survey.opens_at = start_of_day(data.opens_on) if data.opens_on else None
    survey.closes_at = (
        start_of_day(data.closes_on + timedelta(days=1)) if data.closes_on else None
    )
    survey.anonymous = data.anonymous


def opens_on(survey: Survey) -> date | None:
    """The first day of answering, as staff entered it."""
    return local_day(survey.opens_at) if survey.opens_at else None


def closes_on(survey: Survey) -> date | None:
    """The last day of answering, as staff entered it."""
    return (
        local_day(survey.closes_at - timedelta(seconds=1)) if survey.closes_at else None
    )


def create_survey(data: SurveyData, *, actor: User, now: datetime) -> Survey:
    """Add a draft survey."""
    survey = Survey(status=SurveyStatus.DRAFT, created_by_id=actor.id)
    _apply(survey, data)
    survey.created_at = survey.updated_at = now
    db.session.add(survey)
    db.session.flush()
    record_event(actor, "create", "survey", survey.id, survey.title, now=now)
    return survey


def update_survey(
    survey: Survey, data: SurveyData, *, actor: User, now: datetime
) -> None:
    """Change a survey's title, introduction, dates or anonymity.

    Anonymity is fixed once anyone has answered: the promise was made to them.
    """
    if data.anonymous != survey.anonymous and count_responses(survey) > 0:
        raise Conflict("Anonymity cannot change once there are responses")
    _apply(survey, data)
    survey.updated_at = now
    db.session.flush()
    record_event(actor, "update", "survey", survey.id, survey.title, now=now)


def list_surveys() -> list[Survey]:
    """Every survey, newest first."""
    return list(
        db.session.scalars(
            select(Survey).order_by(Survey.created_at.desc(), Survey.id.desc())
        )
    )


def count_responses(survey: Survey) -> int:
    """How many responses a survey has."""
    return int(
        db.session.scalar(
            select(func.count(Response.id)).where(Response.survey_id == survey.id)
        )
        or 0
    )


def response_counts() -> dict[int, int]:
    """Responses per survey id."""
    rows = db.session.execute(
        select(Response.survey_id, func.count(Response.id)).group_by(Response.survey_id)
    )
    return {survey_id: int(count) for survey_id, count in rows}


def delete_survey(survey: Survey, *, actor: User, now: datetime) -> None:
    """Delete a draft survey that nobody has answered."""
    if survey.status is not SurveyStatus.DRAFT or count_responses(survey):
        raise Conflict("Only a draft survey without responses can be deleted")
    record_event(actor, "delete", "survey", survey.id, survey.title, now=now)
    db.session.delete(survey)
    db.session.flush()


# Questions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionData:
    """What staff enter about a question."""

    kind: QuestionKind
    text: str
    help_text: str = ""
    required: bool = False
    #: Single/multiple choice: one label per item, in order.
    choices: tuple[str, ...] = ()
    min_value: float | None = None
    max_value: float | None = None


def _check_editable(survey: Survey) -> None:
    if survey.status is not SurveyStatus.DRAFT:
        raise Conflict(
            "Questions can only change while the survey is a draft "
            "(duplicate it to make a changed copy)"
        )
    answered = count_responses(survey)
    if answered:
        # Responses reach a draft only from before imports needed an open survey:
        # changing a question would drop or hide their answers.
        raise Conflict(
            f"This draft has {answered:,} response{'s' if answered != 1 else ''}: "
            "its questions cannot change without losing answers. Duplicate it to "
            "make a changed copy."
        )


def parse_choices(text: str) -> tuple[str, ...]:
    """One choice per non-blank line, trimmed, duplicates dropped."""
    seen: dict[str, None] = {}
    for line in text.splitlines():
        label = line.strip()
        if label and label.casefold() not in {s.casefold() for s in seen}:
            seen[label] = None
    return tuple(seen)


def _check_question(data: QuestionData) -> None:
    if not data.text.strip():
        raise ValidationError("Enter the question")
    if data.kind.has_choices:
        if len(data.choices) < 2:
            raise ValidationError("Give at least two choices, one on each line")
        if len(data.choices) > MAX_CHOICES:
            raise ValidationError(f"Give at most {MAX_CHOICES} choices")
        if any(len(c) > 300 for c in data.choices):
            raise ValidationError("Each choice must be 300 characters or fewer")
    if (
        data.kind is QuestionKind.NUMBER
        and data.min_value is not None
        and data.max_value is not None
        and data.max_value < data.min_value
    ):
        raise ValidationError("The highest number must not be below the lowest")


def _fill_question(question: Question, data: QuestionData) -> None:
    question.kind = data.kind
    question.text = data.text.strip()
    question.help_text = data.help_text.strip()
    question.required = data.required
    is_number = data.kind is QuestionKind.NUMBER
    question.min_value = data.min_value if is_number else None
    question.max_value = data.max_value if is_number else None
    labels = data.choices if data.kind.has_choices else ()
    # Keep the rows of unchanged labels; the survey is a draft, so none is answered.
    existing = {c.label: c for c in question.choices}
    question.choices = []
    for position, label in enumerate(labels, start=1):
        choice = existing.get(label) or Choice(label=label)
        choice.position = position
        question.choices.append(choice)


def add_question(
    survey: Survey, data: QuestionData, *, actor: User, now: datetime
) -> Question:
    """Add a question at the end of a draft survey."""
    _check_editable(survey)
    _check_question(data)
    question = Question(position=len(survey.questions) + 1)
    _fill_question(question, data)
    survey.questions.append(question)
    survey.updated_at = now
    db.session.flush()
    record_event(
        actor,
        "update",
        "survey",
        survey.id,
        f"question added: {question.text}",
        now=now,
    )
    return question


def update_question(
    question: Question, data: QuestionData, *, actor: User, now: datetime
) -> None:
    """Change a question of a draft survey."""
    _check_editable(question.survey)
    _check_question(data)
    _fill_question(question, data)
    question.survey.updated_at = now
    db.session.flush()
    record_event(
        actor,
        "update",
        "survey",
        question.survey_id,
        f"question changed: {question.text}",
        now=now,
    )


def _renumber(survey: Survey) -> None:
    for position, question in enumerate(survey.questions, start=1):
        question.position = position


def delete_question(question: Question, *, actor: User, now: datetime) -> None:
    """Remove a question from a draft survey."""
    survey = question.survey
    _check_editable(survey)
    survey.questions.remove(question)
    _renumber(survey)
    survey.updated_at = now
    db.session.flush()
    record_event(
        actor,
        "update",
        "survey",
        survey.id,
        f"question removed: {question.text}",
        now=now,
    )


def move_question(
    question: Question, offset: int, *, actor: User, now: datetime
) -> None:
    """Move a question up (-1) or down (+1) in a draft survey."""
    survey = question.survey
    _check_editable(survey)
    questions = list(survey.questions)
    index = questions.index(question)
    target = index + offset
    if offset not in (-1, 1) or not 0 <= target < len(questions):
        return
    questions[index], questions[target] = questions[target], questions[index]
    for position, item in enumerate(questions, start=1):
        item.position = position
    survey.updated_at = now
    db.session.flush()
    db.session.expire(survey, ["questions"])
    record_event(
        actor,
        "update",
        "survey",
        survey.id,
        f"question moved: {question.text}",
        now=now,
    )


def get_question(survey: Survey, question_id: int) -> Question:
    """A question of this survey, or NotFound."""
    question = db.session.get(Question, question_id)
    if question is None or question.survey_id != survey.id:
        raise NotFound("No such question in this survey.")
    return question


# Status -------------------------------------------------------------------------------


def problems_before_opening(survey: Survey) -> list[str]:
    """Why a survey cannot open yet (empty when it can)."""
    problems = []
    if not survey.questions:
        problems.append("Add at least one question")
    for question in survey.questions:
        if question.kind.has_choices and len(question.choices) < 2:
            problems.append(f"Give question {question.position} at least two choices")
    return problems


def open_survey(survey: Survey, *, actor: User, now: datetime) -> None:
    """Open a draft survey for answers (from its opening date, if it has one;
    otherwise from now, which becomes its opening date for reports)."""
    if survey.status is not SurveyStatus.DRAFT:
        raise Conflict("Only a draft survey can be opened")
    problems = problems_before_opening(survey)
    if problems:
        raise ValidationError(problems[0])
    if survey.closes_at is not None and survey.closes_at <= now:
        raise ValidationError("The closing date has passed: change it first")
    survey.status = SurveyStatus.OPEN
    if survey.opens_at is None:
        survey.opens_at = now
    survey.updated_at = now
    db.session.flush()
    record_event(actor, "open", "survey", survey.id, survey.title, now=now)


def close_survey(survey: Survey, *, actor: User | str, now: datetime) -> None:
    """Close an open survey so that no further answers are accepted."""
    if survey.status is not SurveyStatus.OPEN:
        raise Conflict("Only an open survey can be closed")
    survey.status = SurveyStatus.CLOSED
    if survey.closes_at is None or survey.closes_at > now:
        survey.closes_at = now
    survey.updated_at = now
    db.session.flush()
    record_event(actor, "close", "survey", survey.id, survey.title, now=now)


def close_due_surveys(now: datetime) -> int:
    """Close open surveys whose closing time has passed; return how many closed.

    A conditional UPDATE, so overlapping runs close each survey once.
    """
    due = list(
        db.session.scalars(
            select(Survey.id).where(
                Survey.status == SurveyStatus.OPEN,
                Survey.closes_at.is_not(None),
                Survey.closes_at <= now,
            )
        )
    )
    closed = 0
    for survey_id in due:
        result = db.session.execute(
            update(Survey)
            .where(Survey.id == survey_id, Survey.status == SurveyStatus.OPEN)
            .values(status=SurveyStatus.CLOSED, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount:  # type: ignore[attr-defined]
            closed += 1
            record_event(
                SYSTEM, "close", "survey", survey_id, "closing date passed", now=now
            )
    db.session.expire_all()
    return closed


def answering_problem(survey: Survey, now: datetime) -> str | None:
    """Why answers are refused now (None while the survey is open for answers)."""
    if survey.status is SurveyStatus.DRAFT:
        return "This survey is not open yet."
    if survey.status is SurveyStatus.CLOSED or (
        survey.closes_at is not None and now >= survey.closes_at
    ):
        return "This survey has closed."
    if survey.opens_at is not None and now < survey.opens_at:
        return f"This survey opens on {opens_on(survey):%-d %B %Y}."
    return None


# Public link and duplicates -----------------------------------------------------------


def set_public_link(survey: Survey, *, actor: User, now: datetime) -> str:
    """Give a survey a new public answering link; returns its token.

    Public-link answers are always anonymous, so the survey must be anonymous.
    Any previous public link stops working.
    """
    if not survey.anonymous:
        raise Conflict("Only an anonymous survey can have a public link")
    token = new_token()
    survey.public_token_hash = token_hash(token)
    survey.public_token = token
    survey.updated_at = now
    db.session.flush()
    record_event(actor, "update", "survey", survey.id, "public link issued", now=now)
    return token


def remove_public_link(survey: Survey, *, actor: User, now: datetime) -> None:
    """Stop the public link working."""
    survey.public_token_hash = survey.public_token = None
    survey.updated_at = now
    db.session.flush()
    record_event(actor, "update", "survey", survey.id, "public link removed", now=now)


def duplicate_survey(survey: Survey, *, actor: User, now: datetime) -> Survey:
    """Copy a survey as a new draft, with its questions and choices (no responses)."""
    copy = Survey(
        title=f"Copy of {survey.title}"[:200],
        introduction=survey.introduction,
        status=SurveyStatus.DRAFT,
        anonymous=survey.anonymous,
        created_by_id=actor.id,
        created_at=now,
        updated_at=now,
    )
    for question in survey.questions:
        copy.questions.append(
            Question(
                position=question.position,
                kind=question.kind,
                text=question.text,
                help_text=question.help_text,
                required=question.required,
                min_value=question.min_value,
                max_value=question.max_value,
                choices=[
                    Choice(position=c.position, label=c.label) for c in question.choices
                ],
            )
        )
    db.session.add(copy)
    db.session.flush()
    record_event(
        actor, "create", "survey", copy.id, f"copied from survey {survey.id}", now=now
    )
    return copy
