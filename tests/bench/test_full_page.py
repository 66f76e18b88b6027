"""The full-page rows: the dashboard and member list through gunicorn, split by part."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from engage.bench import runner
from engage.bench.full_page import full_page_items
from engage.bench.items import BENCH_ITEMS
from engage.bench.list_items import MEMBERS_PATH
from engage.extensions import limiter


@pytest.fixture(autouse=True)
def _restore_limiter() -> Iterator[None]:
    # The bench app switches throttling off on Flask-Limiter's one global instance.
    saved = (limiter.enabled, limiter._storage, limiter._limiter)
    yield
    limiter.enabled, limiter._storage, limiter._limiter = saved


def test_full_pages_are_the_dashboard_and_member_list_of_the_test_client_rows() -> None:
    paths = {item.path for item in BENCH_ITEMS}
    assert [item.name for item in full_page_items()] == [
        "dashboard (full page, gunicorn)",
        "member list (full page, gunicorn)",
    ]
    dashboard, members = full_page_items()
    assert dashboard.path in paths
    assert members.path == MEMBERS_PATH  # the members list's rows open this


def test_full_page_rows_time_the_served_page_and_say_where_its_time_went(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'bench.sqlite'}"
    runner.prepare(url, scale=0.002, out=lambda _: None)
    lines: list[str] = []
    results = runner.run(
        runs=2,
        warmup=1,
        join_total=0,
        database_url=url,
        only=("full page",),
        out=lines.append,
    )
    assert [r.item for r in results] == [
        "dashboard (full page, gunicorn)",
        "member list (full page, gunicorn)",
    ]
    for result in results:
        assert result.median.endswith(" ms")
        assert result.baseline.endswith(" ms")  # the test client's figure
        assert result.target.endswith("≤ 2× test client")
        split = re.search(
            r"database ([\d.]+) ms, (?:parts side by side ([\d.]+) ms, )?rendering "
            r"([\d.]+) ms, the rest of the app (-?[\d.]+) ms, gunicorn and HTTP "
            r"(-?[\d.]+) ms",
            result.note,
        )
        assert split, result.note
        # Both pages draw a template; their queries may take under 0.05 ms.
        assert float(split.group(1)) >= 0
        assert float(split.group(3)) > 0
        # The dashboard's sections are queried side by side; the list is one query.
        side_by_side = split.group(2)
        if result.item.startswith("dashboard"):
            assert side_by_side is not None
            assert float(side_by_side) > 0
        else:
            assert side_by_side is None
    assert "dashboard (full page, gunicorn)" in lines[-1]
