"""Benchmark data: metrics with daily observations, and feeds with their mentions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from engage.bench.gen_rows import END
from engage.bench.gen_rows import START
from engage.bench.gen_rows import Context
from engage.bench.gen_rows import insert_rows
from engage.bench.gen_rows import row_ids
from engage.clock import utcnow
from engage.metrics.models import Feed
from engage.metrics.models import Mention
from engage.metrics.models import Metric
from engage.metrics.models import MetricKind
from engage.metrics.models import Observation
from engage.metrics.models import Source
from engage.metrics.models import TargetPeriod
from engage.metrics.models import Tone
from engage.metrics.rollup import rebuild_metric_rollups

#: Observations' sources in the order each metric's days fill them.
OBSERVATION_SOURCES = (Source.IMPORT, Source.MANUAL)


def metrics(ctx: Context) -> None:
    """Metrics with daily observations (one per metric, day and source)."""
    rng = ctx.rng
    now = utcnow()
    days = (END - START).days + 1
    slots = days * len(OBSERVATION_SOURCES)
    total = ctx.sizes["observations"]
    count = max(ctx.sizes["metrics"], -(-total // slots))
    insert_rows(
        ctx,
        Metric.__table__,
        (
            {
                "key": f"bench-metric-{i}",
                "name": f"Bench metric {i}",
                "unit": "people",
                "description": "",
                "kind": MetricKind.FLOW if i % 3 else MetricKind.LEVEL,
                "higher_is_better": True,
                "target_value": float(rng.randint(100, 10_000)) if i % 4 == 0 else None,
                "target_period": TargetPeriod.MONTH if i % 4 == 0 else None,
                "channel_id": rng.choice(ctx.ids["channels"]) if i % 2 else None,
                "action_id": None,
                "is_system": False,
                "created_at": now,
                "updated_at": now,
            }
            for i in range(count)
        ),
        "metrics",
    )
    metric_ids = row_ids(ctx, Metric.__table__)
    per_metric = [
        total // count + (1 if i < total % count else 0) for i in range(count)
    ]

    def rows() -> Iterator[dict[str, Any]]:
        for metric_id, n in zip(metric_ids, per_metric, strict=True):
            # The latest days first, so every metric has recent figures.
            for k in range(n):
                yield {
                    "metric_id": metric_id,
                    "observed_on": END - timedelta(days=k // len(OBSERVATION_SOURCES)),
                    "value": float(rng.randint(0, 5000)),
                    "source": OBSERVATION_SOURCES[k % len(OBSERVATION_SOURCES)],
                    "note": "",
                    "recorded_by_id": None,
                    "recorded_at": now,
                }

    insert_rows(ctx, Observation.__table__, rows(), "observations")
    # Bulk inserts skip the ORM hook that keeps the dashboard's rollups up to date.
    ctx.progress("  rolling up observations by day and month…")
    rebuild_metric_rollups(ctx.conn)


def feeds(ctx: Context) -> None:
    """Feeds (pointing nowhere until the runner serves them) with their mentions."""
    rng = ctx.rng
    now = utcnow()
    count = ctx.sizes["feeds"]
    insert_rows(
        ctx,
        Feed.__table__,
        (
            {
                "url": f"http://127.0.0.1:9/feeds/{i}.xml",
                "name": f"Bench feed {i}",
                "phrases": "" if i % 2 else "hospital\nsurgery",
                "active": True,
                "etag": None,
                "last_modified": None,
                "last_polled_at": None,
                "last_success_at": None,
                "last_error": None,
                "failures": 0,
                "next_poll_after": None,
                "created_at": now,
                "updated_at": now,
            }
            for i in range(count)
        ),
        "feeds",
    )
    feed_ids = row_ids(ctx, Feed.__table__)
    ctx.ids["feeds"] = feed_ids
    total = ctx.sizes["mentions"]
    tones = [None, Tone.POSITIVE, Tone.NEUTRAL, Tone.NEGATIVE]
    insert_rows(
        ctx,
        Mention.__table__,
        (
            {
                "feed_id": feed_ids[i % count],
                "guid": f"bench-{feed_ids[i % count]}-{i}",
                "published_on": ctx.moment().date(),
                "title": f"Hospital news {i}",
                "link": f"https://news.example/{i}",
                "summary": "A story about the local hospital.",
                "phrases": "hospital",
                "tone": rng.choices(tones, [40, 20, 30, 10])[0],
                "found_at": now,
            }
            for i in range(total)
        ),
        "mentions",
    )
