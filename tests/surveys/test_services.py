"""Survey builder and answering services."""

from __future__ import annotations

from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import inspect
from sqlalchemy import select

from engage.errors import Conflict
from engage.errors import ValidationError
from engage.extensions import db
from engage.surveys import answering
from engage.surveys import services
from engage.surveys.answering import AlreadyAnswered
from engage.surveys.answering import SurveyNotOpen
from engage.surveys.models import Answer
from engage.surveys.models import Invitation
from engage.surveys.models import QuestionKind
from engage.surveys.models import Response
from engage.surveys.models import ResponseSource
from engage.surveys.models import Survey
from engage.surveys.models import SurveyStatus
from tests.surveys.helpers import NOW
from tests.surveys.helpers import full_answers
from tests.surveys.helpers import make_member
from tests.surveys.helpers import make_survey
from tests.surveys.helpers import question


def test_make_survey_with_every_question_kind_in_order(cast: dict[str, Any]) -> None:
    survey = make_survey(cast["officer"])
    assert [q.position for q in survey.questions] == list(range(1, 9))
    assert {q.kind for q in survey.questions} == set(QuestionKind)
    likert = question(survey, QuestionKind.LIKERT_AGREEMENT)
    assert likert.scale_labels[0] == "Strongly disagree"
    assert likert.scale_labels[-1] == "Strongly agree"


def test_choice_questions_need_two_choices(cast: dict[str, Any]) -> None:
    survey = make_survey(cast["officer"], status=SurveyStatus.DRAFT)
    with pytest.raises(ValidationError):
        services.add_question(
            survey,
            services.QuestionData(
                kind=QuestionKind.SINGLE_CHOICE, text="Pick", choices=("Only",)
            ),
            actor=cast["officer"],
            now=NOW,
        )


def test_parse_choices_drops_blanks_and_duplicates() -> None:
    assert services.parse_choices(" Yes \n\nNo\nyes\n") == ("Yes", "No")


def test_questions_are_fixed_once_open(cast: dict[str, Any]) -> None:
    survey = make_survey(cast["officer"])
    with pytest.raises(Conflict):
        services.delete_question(survey.questions[0], actor=cast["officer"], now=NOW)


def test_move_question_swaps_positions(cast: dict[str, Any]) -> None:
    survey = make_survey(cast["officer"], status=SurveyStatus.DRAFT)
    first, second = survey.questions[0], survey.questions[1]
    services.move_question(second, -1, actor=cast["officer"], now=NOW)
    db.session.commit()
    assert [q.id for q in survey.questions[:2]] == [second.id, first.id]
    services.move_question(second, -1, actor=cast["officer"], now=NOW)  # at the top
    assert survey.questions[0].id == second.id


def test_delete_question_renumbers(cast: dict[str, Any]) -> None:
    survey = make_survey(cast["officer"], status=SurveyStatus.DRAFT)
    services.delete_question(survey.questions[0], actor=cast["officer"], now=NOW)
    db.session.commit()
    assert [q.position for q in survey.questions] == list(range(1, 8))


def test_opening_an_undated_survey_dates_it_now_and_keeps_a_set_date(
    cast: dict[str, Any],
) -> None:
    undated = make_survey(cast["officer"], status=SurveyStatus.DRAFT)
    services.open_survey(undated, actor=cast["officer"], now=NOW)
    assert undated.opens_at == NOW  # reports count it as open from now
    dated = make_survey(cast["officer"], status=SurveyStatus.DRAFT)
    planned = datetime(2026, 4, 1, tzinfo=UTC)
    dated.opens_at = planned
    services.open_survey(dated, actor=cast["officer"], now=NOW)
    assert dated.opens_at == planned


def test_open_needs_a_question(cast: dict[str, Any]) -> None:
    survey = services.create_survey(
        services.SurveyData(title="Empty"), actor=cast["officer"], now=NOW
    )
    with pytest.raises(ValidationError):
        services.open_survey(survey, actor=cast["officer"], now=NOW)


def test_dates_are_whole_local_days(cast: dict[str, Any]) -> None:
    survey = services.create_survey(
        services.SurveyData(
            title="Dated", opens_on=date(2026, 7, 1), closes_on=date(2026, 7, 31)
        ),
        actor=cast["officer"],
        now=NOW,
    )
    assert services.opens_on(survey) == date(2026, 7, 1)
    assert services.closes_on(survey) == date(2026, 7, 31)
    with pytest.raises(ValidationError):
        services.update_survey(
            survey,
            services.SurveyData(
                title="Dated", opens_on=date(2026, 7, 2), closes_on=date(2026, 7, 1)
            ),
            actor=cast["officer"],
            now=NOW,
        )


def test_answering_is_refused_outside_the_dates(cast: dict[str, Any]) -> None:
    survey = make_survey(cast["officer"])
    survey.opens_at = NOW + timedelta(days=1)
    survey.closes_at = NOW + timedelta(days=10)
    assert "opens on" in (services.answering_problem(survey, NOW) or "")
    with pytest.raises(SurveyNotOpen):
        answering.record_response(
            survey, full_answers(survey), source=ResponseSource.WEB, now=NOW
        )
    assert services.answering_problem(survey, NOW + timedelta(days=2)) is None
    assert services.answering_problem(survey, NOW + timedelta(days=10)) == (
        "This survey has closed."
    )


def test_close_due_surveys_closes_once(cast: dict[str, Any]) -> None:
    due = make_survey(cast["officer"], title="Due")
    due.closes_at = NOW - timedelta(minutes=1)
    later = make_survey(cast["officer"], title="Later")
    later.closes_at = NOW + timedelta(days=1)
    db.session.commit()
    assert services.close_due_surveys(NOW) == 1
    assert services.close_due_surveys(NOW) == 0
    db.session.commit()
    assert db.session.get(Survey, due.id).status is SurveyStatus.CLOSED
    assert db.session.get(Survey, later.id).status is SurveyStatus.OPEN


def test_duplicate_copies_questions_not_responses(cast: dict[str, Any]) -> None:
    survey = make_survey(cast["officer"])
    answering.record_response(
        survey, full_answers(survey), source=ResponseSource.WEB, now=NOW
    )
    copy = services.duplicate_survey(survey, actor=cast["officer"], now=NOW)
    db.session.commit()
    assert copy.status is SurveyStatus.DRAFT
    assert [q.text for q in copy.questions] == [q.text for q in survey.questions]
    assert [c.label for c in copy.questions[0].choices] == ["Leaflet", "GP", "Web"]
    assert services.count_responses(copy) == 0


def test_record_response_stores_one_row_per_answer(cast: dict[str, Any]) -> None:
    survey = make_survey(cast["officer"])
    response = answering.record_response(
        survey, full_answers(survey), source=ResponseSource.WEB, now=NOW
    )
    db.session.commit()
    answers = db.session.scalars(
        select(Answer).where(Answer.response_id == response.id)
    ).all()
    assert len(answers) == 9  # two rows for the multiple-choice question
    likert = question(survey, QuestionKind.LIKERT_SATISFACTION)
    assert [a.number for a in answers if a.question_id == likert.id] == [2.0]
    assert response.submitted_on == date(2026, 3, 2)


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        (QuestionKind.LIKERT_AGREEMENT, 6, "Select an answer"),
        (QuestionKind.RATING_0_10, 11, "Select a number from 0 to 10"),
        (QuestionKind.NUMBER, 101, "Enter a number of 100 or less"),
        (QuestionKind.NUMBER, "ten", "Enter a number"),
        (QuestionKind.SINGLE_CHOICE, 999_999, "Select one of the answers given"),
        (QuestionKind.SHORT_TEXT, "x" * 501, "Use 500 characters or fewer"),
    ],
)
def test_check_answers_rejects_bad_values(
    cast: dict[str, Any], kind: QuestionKind, value: Any, message: str
) -> None:
    survey = make_survey(cast["officer"])
    values = full_answers(survey)
    values[question(survey, kind).id] = value
    assert answering.check_answers(survey, values) == {
        question(survey, kind).id: message
    }


def test_required_questions_must_be_answered(cast: dict[str, Any]) -> None:
    survey = make_survey(cast["officer"], required=True)
    problems = answering.check_answers(survey, {})
    assert len(problems) == 8
    with pytest.raises(ValidationError):
        answering.record_response(survey, {}, source=ResponseSource.WEB, now=NOW)


def _invite(survey: Survey, member: Any) -> Invitation:
    invitation = Invitation(
        survey_id=survey.id,
        member_id=member.id,
        token_hash=services.token_hash(f"token-{member.id}"),
        delivery="email",
        created_at=NOW,
        sent_at=NOW,
    )
    db.session.add(invitation)
    db.session.commit()
    return invitation


def test_one_response_per_invitation(cast: dict[str, Any]) -> None:
    survey = make_survey(cast["officer"])
    invitation = _invite(survey, make_member())
    answering.record_response(
        survey,
        full_answers(survey),
        source=ResponseSource.WEB,
        now=NOW,
        invitation=invitation,
    )
    db.session.commit()
    with pytest.raises(AlreadyAnswered):
        answering.record_response(
            survey,
            full_answers(survey),
            source=ResponseSource.WEB,
            now=NOW,
            invitation=invitation,
        )
    db.session.rollback()
    assert services.count_responses(survey) == 1


def test_anonymous_invited_response_is_not_linked(cast: dict[str, Any]) -> None:
    """docs/security.md D8: no member id, only the day, nothing to join on."""
    from engage.membership.models import Tier

    survey = make_survey(cast["officer"], anonymous=True)
    member = make_member(tier=Tier.GOLD)
    invitation = _invite(survey, member)
    response = answering.record_response(
        survey,
        full_answers(survey),
        source=ResponseSource.WEB,
        now=NOW,
        invitation=invitation,
    )
    db.session.commit()
    row = (
        db.session.execute(select(Response.__table__).where(Response.id == response.id))
        .mappings()
        .one()
    )
    assert row["member_id"] is None
    assert row["tier"] == "gold"  # the segment snapshot only
    assert row["submitted_on"] == date(2026, 3, 2)
    columns = {c["name"] for c in inspect(db.engine).get_columns("survey_responses")}
    assert columns == {
        "id",
        "survey_id",
        "submitted_on",
        "source",
        "member_id",
        "tier",
        "practice_id",
        "external_key",
        "entered_by_id",
    }
    # No column anywhere points from a response to an invitation, and the
    # invitation records only the day it was answered.
    foreign = {
        fk["referred_table"]
        for fk in inspect(db.engine).get_foreign_keys("survey_responses")
    }
    assert "survey_invitations" not in foreign
    db.session.refresh(invitation)
    assert invitation.answered_at is not None
    assert (invitation.answered_at.hour, invitation.answered_at.minute) == (0, 0)


def test_named_invited_response_keeps_the_member(cast: dict[str, Any]) -> None:
    survey = make_survey(cast["officer"], anonymous=False)
    member = make_member()
    invitation = _invite(survey, member)
    response = answering.record_response(
        survey,
        full_answers(survey),
        source=ResponseSource.WEB,
        now=NOW,
        invitation=invitation,
    )
    db.session.commit()
    assert response.member_id == member.id
    db.session.refresh(invitation)
    assert invitation.answered_at == NOW


def test_public_link_survey_must_be_anonymous(cast: dict[str, Any]) -> None:
    survey = make_survey(cast["officer"], anonymous=False)
    with pytest.raises(Conflict):
        services.set_public_link(survey, actor=cast["officer"], now=NOW)
    anonymous = make_survey(cast["officer"], title="Public")
    token = services.set_public_link(anonymous, actor=cast["officer"], now=NOW)
    assert answering.find_target(token).survey.id == anonymous.id
    assert answering.find_target(token).invitation is None
    with pytest.raises(Conflict):
        services.update_survey(
            anonymous,
            services.SurveyData(title="Public", anonymous=False),
            actor=cast["officer"],
            now=NOW,
        )


def test_staff_entry_records_who_and_marks_the_invitation(
    cast: dict[str, Any],
) -> None:
    survey = make_survey(cast["officer"])
    invitation = _invite(survey, make_member(email=None))
    response = answering.record_staff_response(
        survey,
        full_answers(survey),
        source=ResponseSource.PAPER,
        submitted_on=date(2026, 2, 27),
        invitation_id=invitation.id,
        actor=cast["officer"],
        now=NOW,
    )
    db.session.commit()
    assert response.entered_by_id == cast["officer"].id
    assert response.source is ResponseSource.PAPER
    assert response.submitted_on == date(2026, 2, 27)
    db.session.refresh(invitation)
    assert invitation.answered_at is not None
