"""The relationship log's benchmark data, built at a small scale in its own database."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Connection
from sqlalchemy import Engine
from sqlalchemy import create_engine
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import text

from engage import create_app
from engage.accounts.models import Role
from engage.accounts.models import User
from engage.bench import gen_plan
from engage.bench import gen_relationships
from engage.bench import gen_rows
from engage.bench import generate
from engage.bench import relationship_items
from engage.bench.gen_plan import BENCH_PASSWORD
from engage.bench.timing import call_result
from engage.bench.timing import page_result
from engage.extensions import db
from engage.relationships.models import AudienceHealth
from engage.relationships.models import AudienceLink
from engage.relationships.models import Commitment
from engage.relationships.models import CommitmentStatus
from engage.relationships.models import Interaction
from engage.relationships.models import InteractionStatus
from engage.relationships.models import Theme

SCALE = 0.05
#: The steps the relationship log's data builds on, and its own.
STEPS = [
    gen_plan.users,
    gen_plan.reference_lists,
    gen_plan.audiences,
    gen_plan.actions,
    gen_relationships.relationships,
]
#: Every table the step fills, for the determinism check.
TABLES = (
    "audience_contacts",
    "relationship_themes",
    "relationship_theme_actions",
    "interactions",
    "interaction_audiences",
    "interaction_contacts",
    "interaction_staff",
    "interaction_themes",
    "commitments",
    "audience_links",
    "audience_health",
)


#: The tables linking interactions to audiences, contacts, themes and staff.
LINKED = (
    "interaction_audiences",
    "interaction_contacts",
    "interaction_themes",
    "interaction_staff",
)


def _per_interaction(conn: Connection, name: str) -> tuple[int, int, int]:
    """The fewest and most rows an interaction has in a table, and interactions."""
    linked = db.metadata.tables[name]
    each = (
        select(func.count(linked.c.interaction_id).label("n"))
        .select_from(Interaction)
        .outerjoin(linked, linked.c.interaction_id == Interaction.id)
        .group_by(Interaction.id)
        .subquery()
    )
    low, high, count = conn.execute(
        select(func.min(each.c.n), func.max(each.c.n), func.count())
    ).one()
    return int(low), int(high), int(count)


def _build(path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    url = f"sqlite:///{path}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x" * 48})
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    engine = create_engine(url)
    monkeypatch.setattr(generate, "STEPS", STEPS)
    try:
        return generate.generate(engine, scale=SCALE)
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, Path]]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        path = tmp_path_factory.mktemp("relationships") / "bench.sqlite"
        _build(path, monkeypatch)
    engine = create_engine(f"sqlite:///{path}")
    yield engine, path
    engine.dispose()


def _size(name: str) -> int:
    return max(1, round(generate.SIZES[name] * SCALE))


def test_counts_and_shares(built: tuple[Engine, Path]) -> None:
    engine, _ = built
    with engine.connect() as conn:

        def count(model: type) -> int:
            return int(conn.scalar(select(func.count()).select_from(model)) or 0)

        def count_where(query: Any) -> int:
            return int(conn.scalar(query) or 0)

        counts = {
            "themes": count(Theme),
            "interactions": count(Interaction),
            "commitments": count(Commitment),
            "audience_links": count(AudienceLink),
        }
        drafts = count_where(
            select(func.count()).where(Interaction.status == InteractionStatus.DRAFT)
        )
        statuses = dict(
            conn.execute(
                select(Commitment.status, func.count()).group_by(Commitment.status)
            ).all()
        )
        overdue = count_where(
            select(func.count()).where(
                Commitment.status == CommitmentStatus.OPEN,
                Commitment.due_on < gen_rows.END,
            )
        )
        audiences = conn.scalar(text("SELECT COUNT(*) FROM audiences"))
        health = count(AudienceHealth)
        per_audience = [
            row[0]
            for row in conn.execute(
                text(
                    "SELECT COUNT(c.id) FROM audiences a LEFT JOIN audience_contacts c"
                    " ON c.audience_id = a.id GROUP BY a.id"
                )
            )
        ]
        ranges = {table: _per_interaction(conn, table) for table in LINKED}
        first, last = conn.execute(
            select(func.min(Interaction.occurred_on), func.max(Interaction.occurred_on))
        ).one()
    assert counts == {name: _size(name) for name in counts}
    assert 0 < drafts < counts["interactions"] * 0.04
    assert sum(statuses.values()) == counts["commitments"]
    done, open_ = statuses[CommitmentStatus.DONE], statuses[CommitmentStatus.OPEN]
    assert 0.6 < done / counts["commitments"] < 0.8
    assert 0.15 < open_ / counts["commitments"] < 0.35
    assert 0 < overdue < open_
    assert health == audiences * _size("health_days")
    assert per_audience
    assert min(per_audience) >= 1
    assert max(per_audience) <= 4
    total = counts["interactions"]
    assert ranges["interaction_audiences"] == (1, 2, total)
    assert ranges["interaction_contacts"] == (0, 2, total)
    assert ranges["interaction_themes"] == (1, min(3, counts["themes"]), total)
    assert ranges["interaction_staff"] == (1, 1, total)
    assert first >= gen_rows.START
    assert last <= gen_rows.END


def test_contacts_belong_to_the_interactions_audiences(
    built: tuple[Engine, Path],
) -> None:
    engine, _ = built
    with engine.connect() as conn:
        strangers = conn.scalar(
            text(
                "SELECT COUNT(*) FROM interaction_contacts ic"
                " JOIN audience_contacts c ON c.id = ic.contact_id"
                " WHERE NOT EXISTS (SELECT 1 FROM interaction_audiences ia"
                " WHERE ia.interaction_id = ic.interaction_id"
                " AND ia.audience_id = c.audience_id)"
            )
        )
        linked = conn.scalar(text("SELECT COUNT(*) FROM interaction_contacts"))
    assert linked
    assert strangers == 0


def test_commitments_are_to_an_audience_of_their_confirmed_interaction(
    built: tuple[Engine, Path],
) -> None:
    engine, _ = built
    with engine.connect() as conn:
        wrong = conn.scalar(
            text(
                "SELECT COUNT(*) FROM commitments c"
                " LEFT JOIN interactions i ON i.id = c.interaction_id"
                " WHERE i.id IS NULL OR i.status != 'confirmed'"
                " OR NOT EXISTS (SELECT 1 FROM interaction_audiences ia"
                " WHERE ia.interaction_id = c.interaction_id"
                " AND ia.audience_id = c.audience_id)"
            )
        )
        closed_wrongly = conn.scalar(
            select(func.count()).where(
                (Commitment.status == CommitmentStatus.OPEN)
                != Commitment.closed_on.is_(None)
            )
        )
        links_to_itself = conn.scalar(
            select(func.count()).where(
                AudienceLink.from_audience_id == AudienceLink.to_audience_id
            )
        )
    assert wrong == 0
    assert closed_wrongly == 0
    assert links_to_itself == 0


def _digest(path: Path) -> dict[str, str]:
    engine = create_engine(f"sqlite:///{path}")
    digests = {}
    with engine.connect() as conn:
        for table in TABLES:
            whole = db.metadata.tables[table]
            query = select(whole).order_by(*list(whole.c)[:2])
            rows = conn.execute(query).all()
            digests[table] = hashlib.sha256(repr(rows).encode()).hexdigest()
    engine.dispose()
    return digests


def test_the_same_seed_builds_the_same_rows(
    built: tuple[Engine, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, first = built
    again = tmp_path / "again.sqlite"
    _build(again, monkeypatch)
    assert _digest(again) == _digest(first)


def test_the_busiest_audience_is_in_most_interactions(
    built: tuple[Engine, Path],
) -> None:
    engine, _ = built
    with engine.connect() as conn:
        busiest = gen_relationships.busiest_audience(conn)
        counts: dict[int, int] = dict(
            conn.execute(
                text(
                    "SELECT audience_id, COUNT(*) FROM interaction_audiences"
                    " GROUP BY audience_id"
                )
            ).all()
        )
    assert busiest is not None
    assert counts[busiest] == max(counts.values())
    # Weighted by influence and interest: well above the average audience.
    assert counts[busiest] > 1.5 * sum(counts.values()) / len(counts)


def _app(path: Path) -> Flask:
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
            "SECRET_KEY": "x" * 48,
            "WTF_CSRF_ENABLED": False,
        }
    )


def test_items_time_the_pages_and_the_scoring(built: tuple[Engine, Path]) -> None:
    _, path = built
    app = _app(path)
    with app.app_context():
        lead = db.session.scalar(select(User).where(User.role == Role.LEAD))
        assert lead is not None
        client = app.test_client()
        signed_in = client.post(
            "/login", data={"email": lead.email, "password": BENCH_PASSWORD}
        )
        assert signed_in.status_code == 302
        items = relationship_items.relationship_page_items()
        health = relationship_items.health_item()
        kept_before = db.session.scalar(
            select(func.count()).select_from(AudienceHealth)
        )
        # page_result refuses a page that does not answer 200 with its figures.
        results = [page_result(item, client, runs=1, warmup=0) for item in items]
        scoring = call_result(health, runs=2, warmup=0)
        kept = db.session.scalar(select(func.count()).select_from(AudienceHealth))
        db.engine.dispose()
    # The interactions list is timed with the other long lists (list_items).
    assert [r.item for r in results][1:] == ["themes overview", "commitments register"]
    assert results[0].item.startswith("audience page (most interactions: ")
    assert all(r.met is not None for r in results)
    assert [r.target for r in results] == ["≤ 100 ms", "≤ 300 ms", "≤ 100 ms"]
    assert scoring.target == "≤ 5000 ms"
    assert scoring.baseline.endswith(" ms")
    # Each scoring run is rolled back: the health history is as it was.
    assert kept == kept_before
