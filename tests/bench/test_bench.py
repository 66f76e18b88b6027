"""A tiny-scale smoke run of the benchmark generator and runner."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import text

from engage.actions.models import Action
from engage.actions.models import Activity
from engage.bench import gen_involvement
from engage.bench import gen_surveys
from engage.bench import generate
from engage.bench import runner
from engage.bench.cli import bench
from engage.bench.items import BENCH_ITEMS
from engage.bench.timing import on_engine
from engage.clock import utcnow
from engage.extensions import db
from engage.involvement import figures as inv_figures
from engage.involvement.models import ActivityKind
from engage.involvement.models import Attendance
from engage.involvement.models import ExpenseClaim
from engage.involvement.models import InvolvementActivity
from engage.involvement.models import InvolvementInvitation
from engage.involvement.models import InvolvementSession
from engage.membership.models import Member
from engage.membership.models import MemberStatus
from engage.membership.models import Tier
from engage.metrics.models import Feed
from engage.metrics.models import Mention
from engage.metrics.models import Observation
from engage.surveys.models import Answer
from engage.surveys.models import Response
from engage.surveys.models import Survey
from engage.surveys.results import reports
from engage.surveys.results.frames import load_frames


@pytest.fixture(scope="module")
def bench_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('bench') / 'bench.sqlite'}"
    runner.prepare(url, scale=0.002, out=lambda _: None)
    return url


def test_generator_builds_the_scaled_data_set_deterministically(
    bench_database: str,
) -> None:
    engine = create_engine(bench_database)
    with engine.connect() as conn:
        members = conn.scalar(select(func.count()).select_from(Member))
        actions = conn.scalar(select(func.count()).select_from(Action))
        activities = conn.scalar(select(func.count()).select_from(Activity))
        first = conn.scalar(select(Member.email).order_by(Member.id).limit(1))
    engine.dispose()
    assert members == round(generate.SIZES["members"] * 0.002)
    assert actions == round(generate.SIZES["actions"] * 0.002)
    assert activities == round(generate.SIZES["activities"] * 0.002)
    assert first in {"member0@bench-members.example", None}  # None: erased


def test_generator_adds_surveys_metrics_and_feeds(bench_database: str) -> None:
    engine = create_engine(bench_database)
    with engine.connect() as conn:

        def count(model: type) -> int | None:
            return conn.scalar(select(func.count()).select_from(model))

        counts = {
            "responses": count(Response),
            "observations": count(Observation),
            "feeds": count(Feed),
            "mentions": count(Mention),
        }
        answered = conn.scalar(select(func.count(func.distinct(Answer.response_id))))
        kinds = conn.scalar(
            select(func.count(func.distinct(Answer.question_id))).where(
                Answer.response_id.in_(select(Response.id))
            )
        )
    engine.dispose()
    assert counts == {
        name: max(1, round(generate.SIZES[name] * 0.002))
        for name in ("responses", "observations", "feeds", "mentions")
    }
    assert answered
    assert answered > counts["responses"] * 0.9
    assert kinds
    assert kinds >= len(gen_surveys.SURVEY_QUESTIONS)


def test_generator_adds_involvement_with_one_member_in_many_sessions(
    bench_database: str,
) -> None:
    engine = create_engine(bench_database)
    with engine.connect() as conn:

        def count(model: type) -> int:
            return int(conn.scalar(select(func.count()).select_from(model)) or 0)

        activities, attendances = count(InvolvementActivity), count(Attendance)
        sessions, invited = count(InvolvementSession), count(InvolvementInvitation)
        claims = count(ExpenseClaim)
        kinds = set(conn.scalars(select(InvolvementActivity.kind).distinct()))
        busy = conn.scalar(
            select(Member.id)
            .where(
                Member.tier == Tier.GOLD,
                Member.status == MemberStatus.ACTIVE,
                Member.email.is_not(None),
            )
            .order_by(Member.id)
            .limit(1)
        )
        busy_invited = conn.scalar(
            select(func.count()).where(InvolvementInvitation.member_id == busy)
        )
        # Everyone who came was invited or is staff; no one came to a draft.
        strangers = conn.scalar(
            select(func.count())
            .select_from(Attendance)
            .where(
                Attendance.member_id.is_not(None),
                ~select(InvolvementInvitation.id)
                .where(
                    InvolvementInvitation.session_id == Attendance.session_id,
                    InvolvementInvitation.member_id == Attendance.member_id,
                )
                .exists(),
            )
        )
    engine.dispose()
    assert activities == round(generate.SIZES["involvement_activities"] * 0.002)
    assert attendances == round(generate.SIZES["involvement_attendances"] * 0.002)
    assert sessions > activities
    assert invited > attendances
    assert 0 < claims < attendances
    assert len(kinds) > 1
    assert kinds <= set(ActivityKind)
    assert busy_invited == gen_involvement.BUSY_AT_LEAST
    assert strangers == 0


def test_results_counted_in_the_database_match_the_pandas_results(
    bench_database: str,
) -> None:
    with runner._bench_context(bench_database):
        survey = db.session.scalar(
            select(Survey).where(Survey.title == gen_surveys.BIG_SURVEY_TITLE)
        )
        assert survey is not None
        expected = reports.build_results(survey.questions, load_frames(survey.id))
        assert expected.shown
        assert expected.respondents > 5
        assert reports.summary_results(survey) == expected


def test_runner_times_every_item_and_prints_the_table(bench_database: str) -> None:
    lines: list[str] = []
    results = runner.run(
        runs=2,
        warmup=1,
        join_total=30,
        join_threads=3,
        database_url=bench_database,
        out=lines.append,
    )
    names = [r.item for r in results]
    assert names[:3] == ["dashboard (month)", "dashboard (quarter)", "dashboard (year)"]
    # The long lists: each one's first page, and its last when it has two.
    for listed in (
        "action plan list",
        "members list",
        "mentions list",
        "interactions list",
        "survey resp",
    ):
        first = next(r for r in results if r.item.startswith(listed))
        assert first.item.endswith("(first page)")
        assert first.target == "≤ 100 ms"
    assert any(name.startswith("mentions list (last page, 2)") for name in names)
    assert any(name.startswith("interactions list (last page, ") for name in names)
    for page in ("involvement list (first page)", "member record (busiest in"):
        assert any(name.startswith(page) for name in names)
    deep = next(r for r in results if r.item.startswith("involvement list (page"))
    assert deep.target == "≤ 100 ms"
    by_name = {r.item: r for r in results}
    assert by_name["survey results (largest survey)"].met
    reach = next(r for r in results if r.item.startswith("reach report job"))
    poll = next(r for r in results if r.item.startswith("poll 1 local feeds"))
    assert reach.met
    assert poll.met
    assert poll.baseline.endswith(" ms")  # the raw fetch of the same URLs
    prepared = next(r for r in results if r.item.startswith("prepare a send to all"))
    assert prepared.met
    assert "peak memory" in prepared.note
    invitations = next(r for r in results if r.item.startswith("prepare invitations"))
    assert invitations.met
    assert invitations.target == "≤ 5000 ms"
    # Every tier, by every channel consent allows: at least the mailing's emails.
    copies = int(prepared.item.split("(")[1].split()[0].replace(",", ""))
    invited = int(invitations.item.split("(")[1].split()[0].replace(",", ""))
    assert invited >= copies > 0
    smtp = next(r for r in results if r.item.startswith("deliver to a local SMTP"))
    notify = next(r for r in results if r.item.startswith("deliver to the fake Notify"))
    for delivery in (smtp, notify):
        assert delivery.median.endswith(" msg/s")
        assert delivery.baseline.endswith(" msg/s")
    sent = int(smtp.item.split("(")[1].split()[0])
    assert sent > 0
    assert f"{sent} accepted by the sink" in smtp.note
    audience = next(r for r in results if r.item.startswith("audience page (most"))
    assert audience.target == "≤ 100 ms"
    assert audience.met is not None
    # Pages and services still being built say so instead of failing the run.
    for name in ("themes overview", "interactions list (first", "commitments reg"):
        line = next(r for r in results if r.item.startswith(name))
        assert line.met is not None or line.note.startswith("not available")
    health = next(r for r in results if r.item.startswith("health recompute of"))
    assert health.target == "≤ 5000 ms"
    assert health.met is not None or "score_all is not in this build" in health.note
    join = results[-1]
    assert join.item.startswith("/join POSTs")
    # Every acknowledged registration was stored, and nothing failed.
    assert "30 acknowledged, 30 stored, 0 lost, 0 5xx" in join.note
    table = lines[-1]
    # The engine, the scale and the data set's size head the table.
    assert table.splitlines()[0].startswith("SQLite ")
    assert table.splitlines()[2].split() == [
        "item",
        "median",
        "p95",
        "baseline",
        "ratio",
        "target",
        "met?",
    ]


def test_bench_command_on_a_fresh_temporary_database(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        bench,
        ["--scale", "0.001", "--runs", "1", "--warmup", "0", "--join-requests", "0"],
    )
    assert result.exit_code == 0, result.output
    assert "generating members" in result.output
    assert "dashboard (quarter)" in result.output


def test_bench_command_times_only_the_items_asked_for(bench_database: str) -> None:
    result = CliRunner().invoke(
        bench,
        [
            "--database",
            bench_database,
            "--runs",
            "1",
            "--warmup",
            "0",
            "--only",
            "audience page",
            "--only",
            "HEALTH",
        ],
    )
    assert result.exit_code == 0, result.output
    timed = [
        line.split("  ")[0]
        for line in result.output.splitlines()
        if line.startswith(("audience page", "health recompute", "dashboard", "/join"))
    ]
    assert [name.split(" (")[0].split(" of ")[0] for name in timed] == [
        "audience page",
        "health recompute",
    ]


def assert_dashboard_baselines_agree(database_url: str) -> None:
    """Each dashboard item's SQL baseline finds the involvement figures the page
    shows (the baseline stands for the page's own work only if it does that work)."""
    found_any = False
    with runner._bench_context(database_url):
        for item in BENCH_ITEMS:
            params = item.baseline_params()
            sql = on_engine(item.baseline_sql, item.baseline_sql_postgresql)
            row = db.session.execute(text(sql), params).mappings().one()
            now = utcnow()
            spans = [
                (params["start"], params["end"]),
                (params["prev_start"], params["prev_end"]),
            ]
            held = inv_figures.sessions_and_attendances(spans, now=now)
            for (sessions, attended), prefix in zip(held, ("", "prev_"), strict=True):
                assert row[f"{prefix}sessions_held"] == sessions, item.name
                assert row[f"{prefix}attendances"] == attended, item.name
            for (first, last), prefix in zip(spans, ("", "prev_"), strict=True):
                people = inv_figures.people_involved(first, last, now=now)
                assert {
                    group: int(row[f"{prefix}involved_{group}"] or 0)
                    for group in people
                } == people, item.name
                found_any = found_any or any(people.values())
    assert found_any  # the data set has people involved to count


def test_dashboard_baselines_find_the_pages_involvement_figures(
    bench_database: str,
) -> None:
    assert_dashboard_baselines_agree(bench_database)
