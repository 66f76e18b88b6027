"""The demo surveys load once: one open now, one closed with its findings."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func
from sqlalchemy import select

from engage.extensions import db
from engage.surveys.demo import DEMO_TITLE
from engage.surveys.demo import GP_TITLE
from engage.surveys.models import Response
from engage.surveys.models import Survey
from engage.surveys.models import SurveyStatus


def _responses(survey: Survey) -> int:
    return (
        db.session.scalar(
            select(func.count(Response.id)).where(Response.survey_id == survey.id)
        )
        or 0
    )


def test_demo_surveys_are_added_once(app: Flask) -> None:
    runner = app.test_cli_runner()
    assert runner.invoke(args=["load-demo"]).exit_code == 0
    assert runner.invoke(args=["load-demo"]).exit_code == 0
    db.session.rollback()
    [urgent] = db.session.scalars(select(Survey).where(Survey.title == DEMO_TITLE))
    assert urgent.status is SurveyStatus.OPEN
    assert len(urgent.questions) == 4
    assert _responses(urgent) == 28
    [gp] = db.session.scalars(select(Survey).where(Survey.title == GP_TITLE))
    assert gp.status is SurveyStatus.CLOSED
    assert _responses(gp) == 46
    # Named: each response belongs to the member who answered.
    assert all(
        r.member_id is not None
        for r in db.session.scalars(select(Response).where(Response.survey_id == gp.id))
    )
