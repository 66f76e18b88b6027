"""The feature jobs in the registry run their services through the one wrapper."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from engage.db import utcnow
from engage.extensions import db
from engage.scheduling.models import JobRun, RunOutcome
from engage.surveys.models import SurveyStatus
from tests.surveys.helpers import make_survey


def test_close_surveys_job_closes_surveys_past_their_date(app, cast) -> None:  # type: ignore[no-untyped-def]
    past = make_survey(cast["officer"], title="Past its date")
    current = make_survey(cast["officer"], title="Still open")
    past.closes_at = utcnow() - timedelta(hours=1)
    current.closes_at = utcnow() + timedelta(days=3)
    db.session.commit()

    runner = app.test_cli_runner()
    first = runner.invoke(args=["run-job", "close-surveys"])
    assert first.exit_code == 0, first.output
    assert "close-surveys: ok (count: 1)" in first.output
    again = runner.invoke(args=["run-job", "close-surveys"])
    assert "close-surveys: ok (count: 0)" in again.output

    db.session.expire_all()
    assert past.status is SurveyStatus.CLOSED
    assert current.status is SurveyStatus.OPEN
    outcomes = db.session.scalars(
        select(JobRun.outcome).where(JobRun.job == "close-surveys")
    ).all()
    assert outcomes == [RunOutcome.OK, RunOutcome.OK]
