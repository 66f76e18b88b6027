"""The feature jobs in the registry run their services through the one wrapper."""

from __future__ import annotations

from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import select

from engage.clock import utcnow
from engage.extensions import db
from engage.metrics.models import Metric
from engage.metrics.models import Observation
from engage.metrics.models import ReachReport
from engage.scheduling.models import JobRequest
from engage.scheduling.models import JobRun
from engage.scheduling.models import RequestStatus
from engage.scheduling.models import RunOutcome
from engage.scheduling.models import RunTrigger
from engage.scheduling.services import JobSpec
from engage.scheduling.services import get_spec
from engage.surveys.models import Response
from engage.surveys.models import ResponseSource
from engage.surveys.models import SurveyStatus
from jobs.runner import run_job
from tests.surveys.helpers import make_survey


def test_close_surveys_job_closes_surveys_past_their_date(app, cast) -> None:
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


def _value(key: str, day: date) -> float | None:
    return db.session.scalar(
        select(Observation.value)
        .join(Metric)
        .where(Metric.key == key, Observation.observed_on == day)
    )


def test_compute_metrics_job_records_yesterdays_figures_once(cast) -> None:
    now = datetime(2026, 11, 26, 1, 30, tzinfo=UTC)
    yesterday = date(2026, 11, 25)
    survey = make_survey(cast["officer"])
    for day in (yesterday, yesterday, yesterday - timedelta(days=1)):
        db.session.add(
            Response(survey_id=survey.id, submitted_on=day, source=ResponseSource.WEB)
        )
    db.session.commit()
    spec = get_spec("compute-metrics")

    first = run_job(spec, trigger=RunTrigger.CLI, clock=lambda: now)
    assert first is not None
    assert first.outcome is RunOutcome.OK
    assert first.counts["survey-responses"] == 2
    assert _value("survey-responses", yesterday) == 2
    assert _value("survey-responses", yesterday - timedelta(days=1)) is None
    # Nobody was invited: the rate is not measured rather than shown as 0 %.
    assert _value("survey-response-rate", yesterday) is None

    run_job(spec, trigger=RunTrigger.CLI, clock=lambda: now + timedelta(minutes=5))
    assert (
        db.session.scalar(
            select(func.count(Observation.id))
            .join(Metric)
            .where(Metric.key == "survey-responses")
        )
        == 1
    )


def test_weekly_reach_report_job_makes_last_weeks_report_once(cast) -> None:
    monday = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    spec = get_spec("reach-report-weekly")
    first = run_job(spec, trigger=RunTrigger.CLI, clock=lambda: monday)
    assert first is not None
    assert first.outcome is RunOutcome.OK, first.error
    assert first.counts["reports"] == 1
    (report,) = db.session.scalars(select(ReachReport)).all()
    assert (report.start, report.end) == (date(2026, 11, 16), date(2026, 11, 22))
    again = run_job(
        spec, trigger=RunTrigger.CLI, clock=lambda: monday + timedelta(hours=1)
    )
    assert again is not None
    assert again.counts["reports"] == 0


def test_poll_feeds_job_runs_with_nothing_due() -> None:
    run = run_job(get_spec("poll-feeds"), trigger=RunTrigger.CLI)
    assert run is not None
    assert run.outcome is RunOutcome.OK, run.error
    assert run.counts["feeds"] == 0


ATTEMPTS: list[int] = []


def _overtaken_once(*, now: datetime) -> dict[str, int]:
    """Reads, lets another connection commit a write (first time only), then writes."""
    db.session.scalar(select(func.count(JobRequest.id)))  # this transaction reads
    ATTEMPTS.append(1)
    if len(ATTEMPTS) == 1:
        with db.engine.connect() as other:  # the mail sender or a web request
            other.execute(
                insert(JobRequest).values(
                    job="elsewhere", requested_at=now, status=RequestStatus.DONE
                )
            )
            other.commit()
    db.session.add(JobRequest(job="mine", requested_at=now))
    db.session.flush()
    return {"attempts": len(ATTEMPTS)}


def test_a_job_overtaken_by_another_writer_is_done_again(app) -> None:
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SQLite's write-lock upgrade only")
    ATTEMPTS.clear()
    spec = JobSpec("overtaken", "interval", {"seconds": 1}, _overtaken_once)
    run = run_job(spec, trigger=RunTrigger.CLI)
    assert run is not None
    assert run.outcome is RunOutcome.OK, run.error
    assert run.counts == {"attempts": 2}
    jobs = db.session.scalars(select(JobRequest.job).order_by(JobRequest.id)).all()
    assert jobs == ["elsewhere", "mine"]
