"""The demo survey loads once, open and with responses."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func
from sqlalchemy import select

from engage.extensions import db
from engage.surveys.demo import DEMO_TITLE
from engage.surveys.models import Response
from engage.surveys.models import Survey
from engage.surveys.models import SurveyStatus


def test_demo_survey_is_added_once(app: Flask) -> None:
    runner = app.test_cli_runner()
    assert runner.invoke(args=["load-demo"]).exit_code == 0
    assert runner.invoke(args=["load-demo"]).exit_code == 0
    db.session.rollback()
    [survey] = db.session.scalars(select(Survey).where(Survey.title == DEMO_TITLE))
    assert survey.status is SurveyStatus.OPEN
    assert len(survey.questions) == 4
    assert db.session.scalar(select(func.count(Response.id))) == 7
