"""Timing benchmark items: pages through the test client and service calls.

Each item is timed (median and p95 over ``runs`` after warm-up) against a baseline
measured in the same run, and becomes one ``Result`` of the table.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import text

from engage.bench.table import Result
from engage.extensions import db


def timings(call: Callable[[], Any], *, runs: int, warmup: int) -> tuple[float, float]:
    """The median and p95 of ``runs`` calls in ms, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), percentile(samples, 95)


def percentile(ordered: Sequence[float], percent: float) -> float:
    """The ``percent``-th percentile of samples in ascending order (nearest rank)."""
    rank = round(percent / 100 * len(ordered)) - 1
    return ordered[min(len(ordered) - 1, max(0, rank))]


def ms(value: float) -> str:
    """Milliseconds as the table shows them."""
    return f"{value:,.1f} ms"


@dataclass(frozen=True)
class PageItem:
    """A page timed through the test client, with its hand-written SQL baseline."""

    name: str
    path: str
    baseline_sql: str
    baseline_params: Callable[[], dict[str, Any]]
    #: Median target in ms, and the most the median may be over the baseline.
    target_ms: float | None = None
    max_ratio: float | None = None
    #: The baseline written again for PostgreSQL, where the SQLite text won't run.
    baseline_sql_postgresql: str = ""


def on_engine(sqlite: str, postgresql: str = "") -> str:
    """The SQL for the bench database's engine (PostgreSQL's text when given)."""
    if postgresql and db.engine.dialect.name == "postgresql":
        return postgresql
    return sqlite


@dataclass(frozen=True)
class CallItem:
    """A service call timed in the bench app (rolled back after each run)."""

    name: str
    call: Callable[[], Any]
    target_ms: float
    baseline: Callable[[], Any] | None = None
    #: At most this many runs (slow calls): the table still shows median and p95.
    max_runs: int = 5
    #: A note printed under the table (what the baseline is).
    note: str = ""


def call_result(item: CallItem, *, runs: int, warmup: int) -> Result:
    """Time a service call (and its baseline, if any) into a line of the table."""
    runs, warmup = min(runs, item.max_runs), min(warmup, 1)
    median, p95 = timings(item.call, runs=runs, warmup=warmup)
    base = ratio = "–"
    if item.baseline is not None:
        base_ms, _ = timings(item.baseline, runs=runs, warmup=warmup)
        base = ms(base_ms)
        ratio = f"{median / base_ms:.1f}×" if base_ms else "–"
    return Result(
        item.name,
        ms(median),
        ms(p95),
        base,
        ratio,
        f"≤ {item.target_ms:g} ms",
        median <= item.target_ms,
        item.note,
    )


def page_result(
    item: PageItem, client: FlaskClient, *, runs: int, warmup: int
) -> Result:
    """Time a page and its SQL baseline into a line of the table."""

    def page() -> None:
        response = client.get(item.path)
        if response.status_code != 200:
            raise RuntimeError(f"{item.path} answered {response.status_code}")

    sql = text(on_engine(item.baseline_sql, item.baseline_sql_postgresql))

    def baseline() -> None:
        db.session.execute(sql, item.baseline_params()).all()

    median, p95 = timings(page, runs=runs, warmup=warmup)
    base, _ = timings(baseline, runs=runs, warmup=warmup)
    ratio = median / base if base else float("inf")
    targets, met = [], True
    if item.target_ms is not None:
        targets.append(f"≤ {item.target_ms:g} ms")
        met = met and median <= item.target_ms
    if item.max_ratio is not None:
        targets.append(f"≤ {item.max_ratio:g}× SQL")
        met = met and ratio <= item.max_ratio
    return Result(
        item.name,
        ms(median),
        ms(p95),
        ms(base),
        f"{ratio:.1f}×",
        ", ".join(targets) or "–",
        met if targets else None,
    )
