"""Job runs, the lease, run-now requests and the jobs page, in-process."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import select

from engage.audit.models import AuditEvent
from engage.clock import utcnow
from engage.errors import NotFound
from engage.extensions import db
from engage.scheduling import services
from engage.scheduling.models import JobRequest
from engage.scheduling.models import JobRun
from engage.scheduling.models import RequestStatus
from engage.scheduling.models import RunOutcome
from engage.scheduling.models import RunTrigger
from engage.scheduling.services import JobSpec
from jobs import lease
from jobs import runner
from tests.membership.test_services import NOW
from tests.membership.test_services import make_member

SAMPLES = "tests.scheduling.sample_jobs"
TTL = timedelta(seconds=30)


def test_a_run_is_recorded_with_its_counts() -> None:
    spec = JobSpec("tick", "interval", {"seconds": 1}, f"{SAMPLES}:tick")
    run = runner.run_job(spec, trigger=RunTrigger.CLI, holder="cli")
    assert run is not None
    assert (run.job, run.outcome, run.counts, run.error) == (
        "tick",
        RunOutcome.OK,
        {"ticks": 1},
        None,
    )
    assert run.finished_at is not None
    assert run.finished_at >= run.started_at


def test_a_failed_run_is_recorded_without_personal_data_and_rolled_back() -> None:
    def failing(*, now: datetime) -> None:
        make_member(email="kept@example.org", created_at=now)
        db.session.flush()
        raise RuntimeError(
            "could not reach pat@example.org on 07700 900123 " + "x" * 900
        )

    run = runner.run_job(
        JobSpec("boom", "interval", {"seconds": 1}, failing), trigger=RunTrigger.CLI
    )
    assert run is not None
    assert run.outcome is RunOutcome.FAILED
    assert run.error is not None
    assert run.error.startswith("RuntimeError: could not reach [address] on [number]")
    assert len(run.error) == runner.ERROR_MAX_LENGTH
    from engage.membership.models import Member

    assert db.session.scalars(select(Member)).all() == []  # the work was undone


def test_one_tick_runs_once_even_if_two_schedulers_try() -> None:
    spec = JobSpec("tick", "interval", {"seconds": 1}, f"{SAMPLES}:tick")
    tick = datetime(2026, 5, 1, 2, 0, tzinfo=UTC)
    first = runner.run_job(spec, trigger=RunTrigger.SCHEDULE, scheduled_for=tick)
    second = runner.run_job(spec, trigger=RunTrigger.SCHEDULE, scheduled_for=tick)
    assert first is not None
    assert second is None
    assert len(db.session.scalars(select(JobRun)).all()) == 1


def test_the_lease_has_one_holder_until_it_expires() -> None:
    now = utcnow()
    assert lease.acquire_lease("a", ttl=TTL, now=now)
    assert not lease.acquire_lease("b", ttl=TTL, now=now + timedelta(seconds=29))
    assert lease.renew_lease("a", ttl=TTL, now=now + timedelta(seconds=20))
    later = now + timedelta(seconds=51)  # 20 + 30 s: a's lease has run out
    assert lease.acquire_lease("b", ttl=TTL, now=later)
    assert not lease.renew_lease("a", ttl=TTL, now=later)
    assert lease.holds_lease("b", now=later)
    assert not lease.holds_lease("a", now=later)
    assert services.heartbeat_age(now=later + timedelta(seconds=4)) == 4.0
    lease.release_lease("b", now=later)
    assert lease.acquire_lease("c", ttl=TTL, now=later + timedelta(seconds=1))


def test_requests_are_claimed_and_run_once(cast) -> None:
    request = services.request_run("purge-imports", actor=cast["admin"], now=utcnow())
    db.session.commit()
    assert runner.run_requested(holder="me") == 1
    assert runner.run_requested(holder="me") == 0
    db.session.refresh(request)
    assert request.status is RequestStatus.DONE
    run = db.session.get(JobRun, request.run_id)
    assert run is not None
    assert (run.job, run.trigger, run.outcome) == (
        "purge-imports",
        RunTrigger.REQUEST,
        RunOutcome.OK,
    )


def test_unknown_job_names_are_refused_with_the_list() -> None:
    with pytest.raises(NotFound) as caught:
        services.get_spec("nope")
    assert "purge-registrations" in caught.value.message
    assert "deliver-mail" in caught.value.message


def test_retention_job_writes_a_count_report_and_is_harmless_twice(app) -> None:
    """docs/security.md D7: the nightly job erases past the period, with counts."""
    from engage.membership.models import MemberStatus

    member = make_member(email="old@example.org", created_at=NOW - timedelta(days=200))
    member.status = MemberStatus.WITHDRAWN
    member.withdrawn_at = NOW - timedelta(days=31)
    pending = make_member(
        email="pending@example.org", created_at=NOW - timedelta(days=31)
    )
    pending.status = MemberStatus.PENDING
    db.session.commit()
    retention = services.get_spec("membership-retention")
    purge = services.get_spec("purge-registrations")

    def clock() -> datetime:
        return NOW

    runs = [
        runner.run_job(spec, trigger=RunTrigger.SCHEDULE, clock=clock)
        for spec in (retention, purge, retention, purge)
    ]
    assert [r.counts if r else None for r in runs] == [
        {"count": 1},
        {"count": 1},
        {"count": 0},
        {"count": 0},
    ]
    db.session.expire_all()
    assert member.status is MemberStatus.ERASED
    assert member.email is None


def test_run_job_cli_runs_one_job_and_lists_names_on_a_bad_one(app) -> None:
    runner = app.test_cli_runner()
    bad = runner.invoke(args=["run-job", "nope"])
    assert bad.exit_code != 0
    assert "membership-retention" in bad.output
    assert "action-digest" in bad.output
    good = runner.invoke(args=["run-job", "purge-imports"])
    assert good.exit_code == 0, good.output
    assert "purge-imports: ok (count: 0)" in good.output
    db.session.rollback()
    (run,) = db.session.scalars(select(JobRun)).all()
    assert (run.trigger, run.holder, run.outcome) == (
        RunTrigger.CLI,
        "cli",
        RunOutcome.OK,
    )


def test_jobs_page_lists_jobs_and_run_now_queues_a_request(
    client: FlaskClient, login, cast
) -> None:
    runner.run_job(services.get_spec("purge-imports"), trigger=RunTrigger.CLI)
    login(cast["admin"])
    page = client.get("/jobs/").get_data(as_text=True)
    # Each job by what it does, its name for the command line beside it.
    for spec in services.registry():
        assert spec.title, spec.name
        assert f'<h2 id="job-{spec.name}">{escape(spec.title)}</h2>' in page
        assert f"<code>{spec.name}</code>" in page
    assert "No scheduler has run yet" in page
    assert '<td class="nhsuk-table__cell">Command line</td>' in page
    assert "count: 0" in page
    response = client.post("/jobs/action-digest/run")
    assert response.status_code == 302
    page = client.get("/jobs/").get_data(as_text=True)
    assert "“Email action owners what is due” will run within a few seconds" in page
    assert "<li>Email action owners what is due: waiting, asked for at" in page
    (request,) = db.session.scalars(select(JobRequest)).all()
    assert (request.job, request.status, request.requested_by_id) == (
        "action-digest",
        RequestStatus.QUEUED,
        cast["admin"].id,
    )
    assert db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "request_job_run")
    ).one()
    assert client.post("/jobs/nope/run").status_code == 404


def test_healthz_reports_the_scheduler_heartbeat_age(client: FlaskClient) -> None:
    lease.acquire_lease("a", ttl=TTL, now=utcnow() - timedelta(seconds=5))
    body = client.get("/healthz").get_json()
    assert body["status"] == "ok"
    assert 4 <= body["scheduler_heartbeat_age_seconds"] < 60
