"""The bench on PostgreSQL (a database of its own on the test server) and the growth
curve's table."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine
from sqlalchemy import func
from sqlalchemy import make_url
from sqlalchemy import select
from sqlalchemy import text

from engage.bench import runner
from engage.bench.cli import bench
from engage.bench.generate import SIZES
from engage.bench.table import Result
from engage.bench.table import Scaled
from engage.bench.table import format_growth
from engage.membership.models import Member
from engage.metrics.models import MetricDay
from engage.metrics.models import Observation
from engage.surveys.models import Answer
from engage.surveys.models import Response
from tests.bench.test_bench import assert_dashboard_baselines_agree

SCALE = 0.002
SERVER_URL = os.environ.get("ENGAGE_TEST_DATABASE_URL") or ""


@pytest.fixture(scope="module")
def postgresql_database() -> Iterator[str]:
    """An empty database of its own on the test server, dropped afterwards."""
    if not SERVER_URL or not runner.is_postgresql(SERVER_URL):
        pytest.skip("needs ENGAGE_TEST_DATABASE_URL on PostgreSQL")
    name = f"bench_test_{secrets.token_hex(4)}"
    admin = create_engine(SERVER_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield (
            make_url(SERVER_URL)
            .set(database=name)
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _fingerprint(url: str) -> dict[str, object]:
    """Counts and a few values that tell one generated data set from another."""
    engine = create_engine(url)
    with engine.connect() as conn:
        found = {
            "members": conn.scalar(select(func.count()).select_from(Member)),
            "responses": conn.scalar(select(func.count()).select_from(Response)),
            "answers": conn.scalar(select(func.count()).select_from(Answer)),
            "observations": conn.scalar(select(func.count()).select_from(Observation)),
            "observed": conn.scalar(select(func.sum(Observation.value))),
            "emails": list(
                conn.scalars(select(Member.email).order_by(Member.id).limit(5))
            ),
            "tiers": list(conn.scalars(select(Member.tier).order_by(Member.id))),
            "joined": list(
                conn.scalars(select(Member.created_at).order_by(Member.id).limit(5))
            ),
            "rolled up": conn.scalar(select(func.count()).select_from(MetricDay)),
        }
    engine.dispose()
    return found


def test_postgresql_gets_the_same_data_set_as_sqlite(
    postgresql_database: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    sqlite_url = f"sqlite:///{tmp_path_factory.mktemp('bench') / 'bench.sqlite'}"
    runner.prepare(sqlite_url, scale=SCALE, out=lambda _: None)
    lines: list[str] = []
    runner.prepare(postgresql_database, scale=SCALE, out=lines.append)

    on_postgresql = _fingerprint(postgresql_database)
    assert on_postgresql == _fingerprint(sqlite_url)
    # The dashboard's PostgreSQL baseline finds the page's figures, as SQLite's does.
    assert_dashboard_baselines_agree(postgresql_database)
    assert on_postgresql["members"] == round(SIZES["members"] * SCALE)
    assert on_postgresql["rolled up"]
    assert any(line.startswith("peak memory so far: ") for line in lines)
    heading = runner.describe(postgresql_database, SCALE)
    assert heading.startswith("PostgreSQL ")
    assert f"scale {SCALE:g}: {round(SIZES['members'] * SCALE):,} members" in heading


def test_a_database_holding_tables_is_refused_unless_replaced(
    postgresql_database: str,
) -> None:
    # The data set from the test before is there (or, alone, one made now).
    engine = create_engine(postgresql_database)
    with engine.connect() as conn:
        filled = conn.scalar(text("SELECT to_regclass('members') IS NOT NULL"))
    if not filled:
        runner.prepare(postgresql_database, scale=SCALE, out=lambda _: None)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE left_behind (id integer)"))

    args = ["--database", postgresql_database, "--scale", str(SCALE)]
    refused = CliRunner().invoke(bench, args)
    assert refused.exit_code == 1
    assert "already holds" in refused.output
    assert "--replace" in refused.output

    replaced = CliRunner().invoke(
        bench,
        [
            *args,
            *("--replace", "--runs", "1", "--warmup", "0", "--join-requests", "0"),
            *("--only", "dashboard (month)", "--only", "members list, gold"),
        ],
    )
    assert replaced.exit_code == 0, replaced.output
    assert "emptying the database" in replaced.output
    table = replaced.output[replaced.output.rindex("PostgreSQL ") :]
    assert "dashboard (month)" in table
    assert "members list, gold and active (first page)" in table
    assert "peak memory (resident): generation " in table
    with engine.connect() as conn:
        assert not conn.scalar(text("SELECT to_regclass('left_behind') IS NOT NULL"))
    engine.dispose()


def test_replace_and_reuse_are_for_postgresql_only() -> None:
    result = CliRunner().invoke(bench, ["--replace"])
    assert result.exit_code == 2
    assert "for a PostgreSQL database" in result.output


def _result(item: str, median: str) -> Result:
    return Result(item, median, median, "–", "–", "–", None)


def test_the_growth_table_has_a_column_per_scale_and_the_growth() -> None:
    scaled = [
        Scaled(
            scale,
            [
                _result("dashboard (month)", f"{dashboard} ms"),
                _result("member list (gold, active)", f"{members} ms"),
                _result("reach report job (October 2026)", f"{reach} ms"),
                _result("deliver to a local SMTP sink", "120 msg/s"),
                _result(f"poll {round(100 * scale)} local feeds", f"{reach} ms"),
            ],
            100.0 * scale,
            heading=f"PostgreSQL 15.2, scale {scale:g}: …",
        )
        for scale, dashboard, members, reach in (
            (5, "60.0", "2,000.0", "900.0"),
            (0.1, "30.0", "10.0", "100.0"),
            (1, "50.0", "100.0", "500.0"),
        )
    ]
    lines = format_growth(scaled).splitlines()
    header = [cell for cell in lines[0].split("  ") if cell]
    assert [cell.strip() for cell in header] == [
        "item",
        "scale 0.1",
        "scale 1",
        "scale 5",
        "growth 0.1 → 5",
        "1 → 5",
        "flat?",
    ]
    rows = {
        line.split("  ")[0]: [c.strip() for c in line.split("  ") if c.strip()]
        for line in lines[2:7]
    }
    assert rows["dashboard (month)"][1:] == [
        "30.0 ms",
        "50.0 ms",
        "60.0 ms",
        "2.0×",
        "1.2×",
        "yes",
    ]
    # Not served by a rollup: its growth is shown, not judged.
    assert rows["member list (gold, active)"][-3:] == ["200.0×", "20.0×", "–"]
    assert rows["reach report job (October 2026)"][-2:] == ["1.8×", "NO"]
    assert rows["deliver to a local SMTP sink"][-3:] == ["–", "–", "–"]
    # An item whose name counts what grows is one row, its numbers shown as "n".
    assert rows["poll n local feeds"][1:4] == ["100.0 ms", "500.0 ms", "900.0 ms"]
    assert lines[7] == ""
    text_after = "\n".join(lines[7:])
    assert "PostgreSQL 15.2, scale 0.1" in text_after
    assert "scale 5 500 MB" in text_after


def test_scales_command_prints_one_column_per_scale() -> None:
    result = CliRunner().invoke(
        bench,
        [
            *("--scales", "0.002,0.001", "--runs", "1", "--warmup", "0"),
            *("--join-requests", "0", "--only", "dashboard (month)"),
        ],
    )
    assert result.exit_code == 0, result.output
    # Each scale's own table, then the curve.
    assert result.output.count("SQLite ") >= 4
    table = result.output[result.output.rindex("item ") :].splitlines()
    assert "scale 0.001  scale 0.002" in table[0]
    assert "growth 0.001 → 0.002" in table[0]
    assert table[2].startswith("dashboard (month)")
    assert table[2].rstrip().endswith(("yes", "NO"))


@pytest.mark.parametrize("scales", ["0.1,x", "0,1", "", "20"])
def test_scales_must_be_numbers_in_range(scales: str) -> None:
    result = CliRunner().invoke(bench, ["--scales", scales])
    assert result.exit_code == 2
    assert "0.1,1,5" in result.output
