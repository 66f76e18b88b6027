"""Benchmark data: a county-scale data set built fast with bulk inserts.

``generate(engine, scale=1.0)`` fills an empty schema with a deterministic (seeded)
data set: at scale 1, 50,000 members, 300 audiences, 5,000 actions and 20,000
deliveries over three years, 200 surveys with 500,000 responses (one of 100,000),
2,000,000 observations, 100 feeds with 50,000 mentions, and 2,000 involvement
activities with 40,000 attendances at their sessions, and the relationship log:
40 themes, 100,000 interactions, 10,000 commitments, 300 links between audiences
and a year of daily health for each audience. Rows go in with
SQLAlchemy Core ``insert`` in chunks on SQLite and with ``COPY`` on PostgreSQL
(see ``gen_rows``), never through the ORM. ``STEPS`` is the
ordered list of generator steps; they live by feature in ``gen_plan`` (staff,
reference lists, audiences, actions and deliveries), ``gen_members``, ``gen_surveys``,
``gen_metrics`` (metrics and feeds), ``gen_involvement`` and ``gen_relationships``,
sharing ``gen_rows``.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from sqlalchemy import Connection
from sqlalchemy import Engine
from sqlalchemy import text

from engage.bench.gen_involvement import involvement
from engage.bench.gen_members import members
from engage.bench.gen_metrics import feeds
from engage.bench.gen_metrics import metrics
from engage.bench.gen_plan import actions
from engage.bench.gen_plan import activities
from engage.bench.gen_plan import audiences
from engage.bench.gen_plan import reference_lists
from engage.bench.gen_plan import users
from engage.bench.gen_relationships import relationships
from engage.bench.gen_rows import Context
from engage.bench.gen_surveys import surveys

SEED = 20261126

#: Row counts at ``scale=1`` (county scale).
SIZES = {
    "users": 25,
    "programmes": 20,
    "audiences": 300,
    "practices": 120,
    "members": 50_000,
    "actions": 5_000,
    "activities": 20_000,
    "surveys": 200,
    #: All surveys' responses; the first survey has ``big_survey_responses`` of them.
    "responses": 500_000,
    "big_survey_responses": 100_000,
    "invitations": 40_000,
    "metrics": 1_000,
    "observations": 2_000_000,
    "feeds": 100,
    "mentions": 50_000,
    "involvement_activities": 2_000,
    "involvement_attendances": 40_000,
    #: Sessions the busiest member was invited to (the member record's benchmark).
    "busy_sessions": 300,
    "themes": 40,
    "interactions": 100_000,
    "commitments": 10_000,
    "audience_links": 300,
    #: Days of health history for every audience, ending on the data set's last day.
    "health_days": 365,
}


#: PostgreSQL: the tables whose own indexes are built after their rows (the
#: generator never reads them by those indexes).
DEFERRED_INDEXES = ("survey_answers", "observations")

#: The generator's steps in order (later steps use earlier ones' ids).
STEPS: list[Callable[[Context], None]] = [
    users,
    reference_lists,
    audiences,
    members,
    actions,
    activities,
    surveys,
    metrics,
    feeds,
    involvement,
    relationships,
]


def generate(
    engine: Engine,
    *,
    scale: float = 1.0,
    seed: int = SEED,
    progress: Callable[[str], None] = lambda _: None,
) -> dict[str, int]:
    """Fill an empty schema; return the row counts used. Deterministic for a seed."""
    if scale <= 0:
        raise ValueError("scale must be positive")
    sizes = {key: max(1, round(value * scale)) for key, value in SIZES.items()}
    sizes["users"] = max(sizes["users"], 3)
    with engine.begin() as conn:
        postgresql = conn.dialect.name == "postgresql"
        if postgresql and conn.scalar(
            text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        ):
            # The rows refer only to rows made before them: PostgreSQL need not
            # check each one's foreign keys (a superuser may switch that off).
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        # The largest tables' own indexes are built once at the end: faster than
        # keeping them up to date row by row (constraints' indexes stay).
        deferred = _drop_indexes(conn, DEFERRED_INDEXES) if postgresql else []
        # A seeded generator for reproducible test data, not for secrets.
        rng = random.Random(seed)  # noqa: S311  # nosec B311
        ctx = Context(conn, rng, sizes, {}, progress)
        for step in STEPS:
            progress(f"generating {step.__name__}…")
            step(ctx)
        if deferred:
            progress(f"building {len(deferred)} indexes…")
            conn.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
        for definition in deferred:
            conn.execute(text(definition))
    return sizes


def _drop_indexes(conn: Connection, tables: tuple[str, ...]) -> list[str]:
    """Drop the tables' indexes that back no constraint; return their definitions."""
    found = conn.execute(
        text(
            "SELECT indexname, indexdef FROM pg_indexes"
            " WHERE schemaname = current_schema() AND tablename = ANY(:tables)"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint"
            "   WHERE pg_constraint.conname = pg_indexes.indexname)"
            " ORDER BY indexname"
        ),
        {"tables": list(tables)},
    ).all()
    quote = conn.dialect.identifier_preparer.quote
    for name, _ in found:
        conn.execute(text(f"DROP INDEX {quote(name)}"))
    return [definition for _, definition in found]
