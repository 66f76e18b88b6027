"""Erasure (docs/security.md D5), subject access (D6) and reach figures for surveys."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from engage.extensions import db
from engage.membership import services as member_services
from engage.membership.services import ErasureReason
from engage.surveys import answering
from engage.surveys import figures
from engage.surveys import services
from engage.surveys.models import Answer
from engage.surveys.models import Invitation
from engage.surveys.models import Response
from engage.surveys.models import ResponseSource
from engage.surveys.models import response_topics
from tests.surveys.helpers import NOW
from tests.surveys.helpers import full_answers
from tests.surveys.helpers import make_member
from tests.surveys.helpers import make_survey
from tests.surveys.helpers import make_topic


def _invite(survey: Any, member: Any, name: str) -> Invitation:
    invitation = Invitation(
        survey_id=survey.id,
        member_id=member.id,
        token_hash=services.token_hash(name),
        delivery="email",
        created_at=NOW,
        sent_at=NOW,
    )
    db.session.add(invitation)
    db.session.flush()
    return invitation


def _answer(survey: Any, invitation: Invitation | None = None) -> Response:
    return answering.record_response(
        survey,
        full_answers(survey),
        source=ResponseSource.WEB,
        now=NOW,
        invitation=invitation,
    )


def test_erasure_unlinks_survey_data(cast: dict[str, Any]) -> None:
    member = make_member(topics=[make_topic()])
    named = make_survey(cast["officer"], anonymous=False, title="Named")
    response = _answer(named, _invite(named, member, "a"))
    db.session.commit()
    assert response.member_id == member.id
    member_services.erase_member(
        member,
        actor=cast["admin"],
        reason=ErasureReason.MEMBER_REQUEST,
        now=NOW,
    )
    db.session.commit()
    assert (
        db.session.scalars(
            select(Response).where(Response.member_id == member.id)
        ).all()
        == []
    )
    assert (
        db.session.scalars(
            select(Invitation).where(Invitation.member_id == member.id)
        ).all()
        == []
    )
    answers = db.session.scalars(
        select(Answer).where(Answer.response_id == response.id)
    ).all()
    assert answers, "choices and numbers stay for the results"
    assert all(a.text is None for a in answers), "free text is deleted"
    assert (
        db.session.execute(
            select(response_topics).where(response_topics.c.response_id == response.id)
        ).all()
        == []
    )
    # The invitation still counts for the response rate.
    assert figures.response_rate(named.id) == 1.0


def test_subject_access_includes_linked_answers_only(cast: dict[str, Any]) -> None:
    member = make_member()
    other = make_member("Other", "other@example.org")
    named = make_survey(cast["officer"], anonymous=False, title="Named")
    _answer(named, _invite(named, member, "a"))
    _answer(named, _invite(named, other, "b"))
    db.session.commit()
    data = member_services.subject_access_export(member, actor=cast["admin"], now=NOW)
    assert len(data["survey_invitations"]) == 1
    assert data["survey_invitations"][0]["survey"] == "Named"
    [response] = data["survey_responses"]
    answers = {a["question"]: a["answer"] for a in response["answers"]}
    assert answers["Your town"] == "Leeds"
    assert answers["How did you hear about us?"] == "GP"
    # Scales in the words they were chosen by; other numbers as they are.
    assert answers["The service was easy to use"] == "Agree"
    assert answers["How satisfied are you?"] == "Dissatisfied"
    assert answers["How likely are you to recommend us?"] == "9 out of 10"
    assert answers["How many visits this year?"] == 3
    assert response["submitted_on"] == "2026-03-02"


def test_responses_per_day_keeps_zero_days(cast: dict[str, Any]) -> None:
    survey = make_survey(cast["officer"])
    other = make_survey(cast["officer"], title="Other")
    for _ in range(2):
        _answer(survey)
    _answer(other)
    db.session.commit()
    start, end = date(2026, 3, 1), date(2026, 3, 3)
    assert figures.responses_per_day(survey.id, start, end) == [
        (date(2026, 3, 1), 0),
        (date(2026, 3, 2), 2),
        (date(2026, 3, 3), 0),
    ]
    assert figures.responses_per_day(None, start, end)[1] == (date(2026, 3, 2), 3)


def test_response_rate_is_answered_invitations_over_invitations(
    cast: dict[str, Any],
) -> None:
    survey = make_survey(cast["officer"])
    assert figures.response_rate(survey.id) is None
    members = [make_member(f"M{n}", f"m{n}@example.org") for n in range(4)]
    invitations = [_invite(survey, m, f"t{n}") for n, m in enumerate(members)]
    _answer(survey, invitations[0])
    _answer(survey)  # a public-link answer is not in the rate
    db.session.commit()
    assert figures.response_rate(survey.id) == 0.25
