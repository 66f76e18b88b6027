"""Migrations build the same schema as the models, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from sqlalchemy import create_engine, text

from engage import create_app
from engage.extensions import db
from tests.conftest import DATABASE_URL, make_test_config


@pytest.fixture
def empty_database_url(tmp_path: Path) -> str:
    if not DATABASE_URL:
        return f"sqlite:///{tmp_path / 'migrations.sqlite'}"
    admin = create_engine(DATABASE_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS engage_migration_test"))
        conn.execute(text("CREATE DATABASE engage_migration_test"))
    admin.dispose()
    return DATABASE_URL.rsplit("/", 1)[0] + "/engage_migration_test"


def test_upgrade_matches_models_and_downgrades(empty_database_url: str) -> None:
    from flask_migrate import downgrade, upgrade

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
