"""A member's survey data: erasure and subject access (docs/security.md D5, D6)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import selectinload

from engage.extensions import db
from engage.surveys.models import Answer
from engage.surveys.models import Invitation
from engage.surveys.models import Question
from engage.surveys.models import QuestionKind
from engage.surveys.models import Response
from engage.surveys.models import response_topics

if TYPE_CHECKING:
    from engage.membership.models import Member


def forget_member(member: Member) -> None:
    """Cut every link between a member and survey data, for erasure.

    Their named responses lose the member id and their free-text answers (which may
    name them); choices and numbers stay, unlinked, so results stay true. Their
    invitations lose the member id (they still count for the response rate).
    """
    response_ids = list(
        db.session.scalars(select(Response.id).where(Response.member_id == member.id))
    )
    if response_ids:
        db.session.execute(
            delete(Answer).where(
                Answer.response_id.in_(response_ids), Answer.text.is_not(None)
            )
        )
        db.session.execute(
            update(Response)
            .where(Response.id.in_(response_ids))
            .values(member_id=None, tier=None, practice_id=None)
        )
        db.session.execute(
            delete(response_topics).where(
                response_topics.c.response_id.in_(response_ids)
            )
        )
    db.session.execute(
        update(Invitation)
        .where(Invitation.member_id == member.id)
        .values(member_id=None)
    )
    db.session.expire_all()


def member_survey_data(member: Member) -> dict[str, Any]:
    """The member's invitations and named survey answers, JSON-ready.

    Answers to anonymous surveys are not linked to anyone, so they cannot be given.
    """
    invitations = db.session.scalars(
        select(Invitation)
        .where(Invitation.member_id == member.id)
        .order_by(Invitation.id)
    )
    responses = db.session.scalars(
        select(Response)
        .options(
            selectinload(Response.answers).selectinload(Answer.question),
            selectinload(Response.answers).selectinload(Answer.choice),
        )
        .where(Response.member_id == member.id)
        .order_by(Response.id)
    )
    return {
        "survey_invitations": [
            {
                "survey": i.survey.title,
                "delivery": i.delivery.value,
                "sent_at": i.sent_at.isoformat() if i.sent_at else None,
                "reminded_at": i.reminded_at.isoformat() if i.reminded_at else None,
                "answered_at": i.answered_at.isoformat() if i.answered_at else None,
            }
            for i in invitations
        ],
        "survey_responses": [
            {
                "survey": r.survey.title,
                "submitted_on": r.submitted_on.isoformat(),
                "source": r.source.value,
                "answers": [
                    {"question": q.text, "answer": answer} for q, answer in _answers(r)
                ],
            }
            for r in responses
        ],
    }


def _answers(response: Response) -> list[tuple[Question, Any]]:
    rows = sorted(response.answers, key=lambda a: (a.question.position, a.id))
    out: list[tuple[Question, Any]] = []
    for answer in rows:
        question = answer.question
        if answer.choice is not None:
            value: Any = answer.choice.label
        elif answer.text is not None:
            value = answer.text
        else:
            value = _number_in_words(question, answer.number)
        out.append((question, value))
    return out


def _number_in_words(question: Question, number: float | None) -> Any:
    """A scale's answer as the words it was chosen by ("Agree", "7 out of 10"); any
    other number as it is."""
    labels = question.scale_labels
    if number is not None and float(number).is_integer():
        if labels and 1 <= number <= len(labels):
            return labels[int(number) - 1]
        if question.kind is QuestionKind.RATING_0_10:
            return f"{int(number)} out of 10"
    return number
