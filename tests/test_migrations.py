"""Migrations build the same schema as the models, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from sqlalchemy import MetaData
from sqlalchemy import Table
from sqlalchemy import create_engine
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import text

from engage import create_app
from engage.actions import rollup as delivery_rollup
from engage.actions.models import Action
from engage.actions.models import Activity
from engage.actions.models import Channel
from engage.actions.models import DeliveryDay
from engage.actions.models import ReachFigure
from engage.extensions import db
from engage.involvement import rollup as involvement_rollup
from engage.involvement.models import Attendance
from engage.involvement.models import InvolvementActivity
from engage.involvement.models import InvolvementDay
from engage.involvement.models import InvolvementSession
from engage.membership.models import Member
from engage.membership.models import MemberDay
from engage.membership.models import Tier
from engage.membership.rollup import MEMBER_DAYS
from engage.surveys.models import Response
from engage.surveys.models import ResponseDay
from engage.surveys.models import Survey
from engage.surveys.models import SurveyStatus
from engage.surveys.rollup import RESPONSE_DAYS
from tests.conftest import DATABASE_URL
from tests.conftest import make_test_config


@pytest.fixture
def empty_database_url(tmp_path: Path) -> str:
    if not DATABASE_URL:
        return f"sqlite:///{tmp_path / 'migrations.sqlite'}"
    base, name = DATABASE_URL.rsplit("/", 1)
    admin = create_engine(DATABASE_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}_migrations"'))
        conn.execute(text(f'CREATE DATABASE "{name}_migrations"'))
    admin.dispose()
    return f"{base}/{name}_migrations"


def test_upgrade_matches_models_and_downgrades(empty_database_url: str) -> None:
    from flask_migrate import downgrade
    from flask_migrate import upgrade

    app: Flask = create_app(make_test_config(empty_database_url))
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True}),
                db.metadata,
            )
        assert diff == [], "models changed without a migration: run `flask db migrate`"
        if db.engine.dialect.name == "sqlite":
            with db.engine.connect() as conn:
                assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
                assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
                assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 5000
        downgrade(revision="base")
        db.session.remove()
        db.engine.dispose()


def test_the_rollup_migrations_fill_the_rollups_from_existing_rows(
    empty_database_url: str,
) -> None:
    from flask_migrate import upgrade

    app: Flask = create_app(make_test_config(empty_database_url))
    with app.app_context():
        upgrade(revision="a8c0dash0003")  # before member_days and survey_response_days
        now = datetime(2026, 3, 2, 12, tzinfo=UTC)
        # Core, naming only the columns of that revision (the model has more now).
        survey_id = db.session.execute(
            insert(Survey.__table__)
            .values(
                title="Before the rollups",
                introduction="",
                status=SurveyStatus.OPEN.value,
                anonymous=True,
                results_published=False,
                created_at=now,
                updated_at=now,
            )
            .returning(Survey.__table__.c.id)
        ).scalar_one()
        rng = random.Random(5)
        # Core inserts: the flush hooks would write to rollups not there yet.
        db.session.execute(
            insert(Response.__table__),
            [
                {
                    "survey_id": survey_id,
                    "submitted_on": date(2026, 3, 1) + timedelta(days=rng.randrange(9)),
                    "source": "web",
                }
                for _ in range(40)
            ],
        )
        # Only the columns of that revision (a later column's default would be sent).
        members = [_member(rng, n) for n in range(80)]
        then = Table(
            "members",
            MetaData(),
            *(Member.__table__.c[name]._copy() for name in members[0]),
        )
        db.session.execute(insert(then), members)
        db.session.commit()
        upgrade()
        stored = {
            table: sorted(db.session.execute(select(*table.c)).all())
            for table in (MemberDay.__table__, ResponseDay.__table__)
        }
        assert sum(row.responses for row in stored[ResponseDay.__table__]) == 40
        assert MEMBER_DAYS.rebuild(db.session.connection()) > 0
        RESPONSE_DAYS.rebuild(db.session.connection())
        for table, rows in stored.items():
            assert sorted(db.session.execute(select(*table.c)).all()) == rows
        db.session.rollback()
        db.session.remove()
        db.engine.dispose()


def test_the_deliveries_rollup_is_filled_from_existing_deliveries(
    empty_database_url: str,
) -> None:
    from flask_migrate import upgrade

    app: Flask = create_app(make_test_config(empty_database_url))
    with app.app_context():
        upgrade(revision="b1l0practice0018")  # before delivery_days
        now = datetime(2026, 3, 2, 12, tzinfo=UTC)
        rng = random.Random(19)
        # Core inserts: the flush hooks would write to a rollup not there yet.
        channels = [
            db.session.execute(
                insert(Channel.__table__).values(name=name).returning(Channel.id)
            ).scalar_one()
            for name in ("Email", "Web")
        ]
        actions = [
            db.session.execute(
                insert(Action.__table__)
                .values(
                    title=f"Action {n}",
                    channel_id=channels[n % 2],
                    created_at=now,
                    updated_at=now,
                )
                .returning(Action.id)
            ).scalar_one()
            for n in range(3)
        ]
        for n in range(30):
            activity_id = db.session.execute(
                insert(Activity.__table__)
                .values(
                    action_id=rng.choice(actions),
                    occurred_on=date(2026, 2, 1) + timedelta(days=rng.randrange(9)),
                    description=f"Delivery {n}",
                    created_at=now,
                )
                .returning(Activity.id)
            ).scalar_one()
            for label in rng.sample(["Recipients", "opens", "Opens"], rng.randrange(3)):
                db.session.execute(
                    insert(ReachFigure.__table__).values(
                        activity_id=activity_id, label=label, value=rng.randrange(99)
                    )
                )
        db.session.commit()
        upgrade()
        table = DeliveryDay.__table__
        stored = sorted(db.session.execute(select(*table.c)).all())
        counted = [row for row in stored if row.label == delivery_rollup.COUNT_ROW]
        assert sum(row.deliveries for row in counted) == 30
        assert delivery_rollup.rebuild(db.session.connection()) == len(stored)
        assert sorted(db.session.execute(select(*table.c)).all()) == stored
        db.session.rollback()
        db.session.remove()
        db.engine.dispose()


def test_the_involvement_rollup_is_filled_from_existing_sessions(
    empty_database_url: str,
) -> None:
    from flask_migrate import upgrade

    app: Flask = create_app(make_test_config(empty_database_url))
    with app.app_context():
        upgrade(revision="b2d0deliver0019")  # before involvement_days
        now = datetime(2026, 3, 2, 12, tzinfo=UTC)
        rng = random.Random(20)
        # Core inserts: the flush hooks would write to a rollup not there yet.
        activities = [
            db.session.execute(
                insert(InvolvementActivity.__table__)
                .values(
                    kind=kind,
                    title=f"Activity {kind}",
                    status=status,
                    created_at=now,
                    updated_at=now,
                )
                .returning(InvolvementActivity.id)
            ).scalar_one()
            for kind, status in (
                ("meeting", "inviting"),
                ("focus_group", "draft"),
                ("co_design", "cancelled"),
            )
        ]
        for n in range(30):
            # Late evenings in March: some fall on the next UK day after the clocks
            # go forward.
            begins = datetime(2026, 3, 20, 22, 30, tzinfo=UTC) + timedelta(
                days=rng.randrange(12)
            )
            session_id = db.session.execute(
                insert(InvolvementSession.__table__)
                .values(
                    activity_id=rng.choice(activities),
                    starts_at=begins,
                    ends_at=begins + timedelta(hours=1),
                    cancelled_at=now if n % 7 == 0 else None,
                )
                .returning(InvolvementSession.id)
            ).scalar_one()
            for guest in range(rng.randrange(3)):
                db.session.execute(
                    insert(Attendance.__table__).values(
                        session_id=session_id,
                        guest_name=f"Guest {guest}",
                        recorded_at=now,
                    )
                )
        db.session.commit()
        upgrade()
        table = InvolvementDay.__table__
        stored = sorted(db.session.execute(select(*table.c)).all())
        assert stored
        assert involvement_rollup.rebuild(db.session.connection()) == len(stored)
        assert sorted(db.session.execute(select(*table.c)).all()) == stored
        db.session.rollback()
        db.session.remove()
        db.engine.dispose()


def _member(rng: random.Random, number: int) -> dict[str, Any]:
    created = datetime(2025, 6, 1, tzinfo=UTC) + timedelta(hours=rng.randrange(5000))

    def later() -> datetime:
        return created + timedelta(hours=rng.randrange(1, 3000))

    staff = rng.random() < 0.3
    return {
        "name": f"Member {number}",
        "email": f"m{number}@example.org",
        "tier": rng.choice(list(Tier)),
        "status": "active",
        "joined_by": rng.choice(["phone", "paper"]) if staff else "web-form",
        "created_at": created,
        "updated_at": created,
        "confirmed_at": None if staff or rng.random() < 0.2 else later(),
        "withdrawn_at": later() if rng.random() < 0.3 else None,
        "erased_at": later() if rng.random() < 0.1 else None,
        "is_champion": False,
    }
