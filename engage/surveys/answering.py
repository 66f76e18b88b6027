"""Answering a survey: find the survey behind a link, check answers, record a response.

A response keeps only what docs/security.md D8 allows: the day, the source, the answers,
and, for invited members, a snapshot of their segments (tier, practice, topics). The
member's id is kept only for a named (not anonymous) survey.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy import update

from engage.audit.services import record_event
from engage.clock import local_day
from engage.errors import Conflict
from engage.errors import NotFound
from engage.errors import ValidationError
from engage.extensions import db
from engage.membership.models import Member
from engage.membership.models import MemberStatus
from engage.surveys.models import Answer
from engage.surveys.models import Invitation
from engage.surveys.models import Question
from engage.surveys.models import QuestionKind
from engage.surveys.models import Response
from engage.surveys.models import ResponseSource
from engage.surveys.models import Survey
from engage.surveys.models import SurveyStatus
from engage.surveys.services import answering_problem
from engage.surveys.services import token_hash

if TYPE_CHECKING:
    from engage.accounts.models import User

BAD_LINK = "This survey link is not valid. It may have been replaced by a newer one."

#: Longest text answers, in characters.
SHORT_TEXT_MAX = 500
LONG_TEXT_MAX = 10_000

#: A question's answer: text, a number, a choice id, or choice ids (multiple choice).
AnswerValue = str | float | int | list[int] | None
AnswerValues = dict[int, AnswerValue]


class AlreadyAnswered(Conflict):
    """The invitation has already been used to answer."""


class SurveyNotOpen(Conflict):
    """Answers are refused now (draft, not yet open, or closed)."""


@dataclass(frozen=True)
class Target:
    """What a ``/s/<token>`` link points at."""

    survey: Survey
    #: None for the survey's public link.
    invitation: Invitation | None


def find_target(token: str) -> Target:
    """The survey (and invitation) behind an answering link, or NotFound."""
    digest = token_hash(token)
    survey = db.session.scalar(select(Survey).where(Survey.public_token_hash == digest))
    if survey is not None:
        return Target(survey, None)
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.token_hash == digest)
    )
    if invitation is None or invitation.member_id is None:
        raise NotFound(BAD_LINK)
    member = db.session.get(Member, invitation.member_id)
    if member is None or member.status is not MemberStatus.ACTIVE:
        raise NotFound(BAD_LINK)
    return Target(invitation.survey, invitation)


# Checking answers ---------------------------------------------------------------------


def _empty(value: AnswerValue) -> bool:
    return value is None or value == "" or value == []


def _problem(question: Question, value: AnswerValue) -> str | None:  # noqa: C901
    kind = question.kind
    if _empty(value):
        if not question.required:
            return None
        if kind.is_text or kind is QuestionKind.NUMBER:
            return "Answer this question"
        if kind is QuestionKind.MULTIPLE_CHOICE:
            return "Select at least one answer"
        return "Select an answer"
    choice_ids = {c.id for c in question.choices}
    if kind is QuestionKind.SINGLE_CHOICE:
        return None if value in choice_ids else "Select one of the answers given"
    if kind is QuestionKind.MULTIPLE_CHOICE:
        ok = isinstance(value, list) and set(value) <= choice_ids
        return None if ok else "Select from the answers given"
    if kind.is_text:
        limit = SHORT_TEXT_MAX if kind is QuestionKind.SHORT_TEXT else LONG_TEXT_MAX
        if not isinstance(value, str):
            return "Enter text"
        return None if len(value) <= limit else f"Use {limit:,} characters or fewer"
    if not isinstance(value, int | float) or not math.isfinite(value):
        return "Enter a number"
    if kind.is_likert:
        return None if value in (1, 2, 3, 4, 5) else "Select an answer"
    if kind is QuestionKind.RATING_0_10:
        return None if value in range(11) else "Select a number from 0 to 10"
    if question.min_value is not None and value < question.min_value:
        return f"Enter a number of {question.min_value:g} or more"
    if question.max_value is not None and value > question.max_value:
        return f"Enter a number of {question.max_value:g} or less"
    return None


def check_answers(survey: Survey, values: AnswerValues) -> dict[int, str]:
    """Problems with the answers, by question id (empty when they are fine)."""
    problems = {}
    for question in survey.questions:
        problem = _problem(question, values.get(question.id))
        if problem:
            problems[question.id] = problem
    return problems


def _answers(question: Question, value: AnswerValue) -> list[Answer]:
    if _empty(value):
        return []
    if question.kind is QuestionKind.MULTIPLE_CHOICE:
        ids = value if isinstance(value, list) else [int(value)]  # type: ignore[arg-type]
        return [Answer(question_id=question.id, choice_id=c) for c in sorted(ids)]
    if question.kind is QuestionKind.SINGLE_CHOICE:
        return [Answer(question_id=question.id, choice_id=int(value))]  # type: ignore[arg-type]
    if question.kind.is_text:
        return [Answer(question_id=question.id, text=str(value))]
    return [Answer(question_id=question.id, number=float(value))]  # type: ignore[arg-type]


# Recording ----------------------------------------------------------------------------


def _claim(invitation: Invitation, survey: Survey, now: datetime) -> None:
    """Mark the invitation answered, once: a concurrent second submit gets Conflict.

    For an anonymous survey only the day is kept, so the order in which invitations
    were answered cannot be matched with the order of the responses.
    """
    stamp = (
        datetime.combine(now.astimezone(UTC).date(), time(), tzinfo=UTC)
        if survey.anonymous
        else now
    )
    result = db.session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.answered_at.is_(None))
        .values(answered_at=stamp)
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise AlreadyAnswered("This invitation has already been used to answer.")
    db.session.expire(invitation, ["answered_at"])


def _snapshot(response: Response, member: Member, survey: Survey) -> None:
    response.tier = member.tier
    response.practice_id = member.practice_id
    response.topics = list(member.topics)
    if not survey.anonymous:
        response.member_id = member.id


def record_response(
    survey: Survey,
    values: AnswerValues,
    *,
    source: ResponseSource,
    now: datetime,
    invitation: Invitation | None = None,
    entered_by: User | None = None,
    submitted_on: date | None = None,
    external_key: str | None = None,
    check_open: bool = True,
) -> Response:
    """Store one response and its answers.

    Raises ValidationError (with ``problems``) for bad answers, SurveyNotOpen outside
    the survey's dates (unless ``check_open`` is False: staff entering late paper
    copies, imports), and AlreadyAnswered for a used invitation.
    """
    if check_open:
        problem = answering_problem(survey, now)
        if problem:
            raise SurveyNotOpen(problem)
    problems = check_answers(survey, values)
    if problems:
        error = ValidationError(next(iter(problems.values())))
        error.problems = problems  # type: ignore[attr-defined]
        raise error
    response = Response(
        survey_id=survey.id,
        submitted_on=submitted_on or local_day(now),
        source=source,
        external_key=external_key,
        entered_by_id=entered_by.id if entered_by is not None else None,
    )
    if invitation is not None:
        if invitation.survey_id != survey.id:
            raise ValidationError("That invitation is for another survey")
        _claim(invitation, survey, now)
        member = db.session.get(Member, invitation.member_id or 0)
        if member is not None:
            _snapshot(response, member, survey)
    for question in survey.questions:
        response.answers.extend(_answers(question, values.get(question.id)))
    db.session.add(response)
    db.session.flush()
    return response


def received_problem(day: date, *, now: datetime) -> str | None:
    """What is wrong with ``day`` as the day a paper or phone response came in (None
    when it is fine). Any day up to today: a paper survey may have run before it
    was typed into Engage to enter its answers."""
    if day > local_day(now):
        return "The date received cannot be in the future"
    return None


def record_staff_response(
    survey: Survey,
    values: AnswerValues,
    *,
    source: ResponseSource,
    submitted_on: date,
    invitation_id: int | None,
    actor: User,
    now: datetime,
) -> Response:
    """Enter a paper or phone response for staff (audited; allowed after closing)."""
    if source not in (ResponseSource.PAPER, ResponseSource.PHONE):
        raise ValidationError("Choose paper or phone")
    if survey.status is SurveyStatus.DRAFT:
        raise SurveyNotOpen("Open the survey before entering responses")
    problem = received_problem(submitted_on, now=now)
    if problem:
        raise ValidationError(problem)
    invitation = None
    if invitation_id is not None:
        invitation = db.session.get(Invitation, invitation_id)
        if invitation is None or invitation.survey_id != survey.id:
            raise ValidationError("There is no invitation with that reference")
    response = record_response(
        survey,
        values,
        source=source,
        now=now,
        invitation=invitation,
        entered_by=actor,
        submitted_on=submitted_on,
        check_open=False,
    )
    record_event(
        actor,
        "create",
        "survey_response",
        response.id,
        f"{source.value} response entered for survey {survey.id}",
        now=now,
    )
    return response
