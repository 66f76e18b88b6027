"""The saved templates the migration seeds: three, well-formed, gone on downgrade."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import text

from engage import create_app
from engage.extensions import db
from engage.mailings.compose import problems
from tests.conftest import make_test_config
from tests.test_migrations import empty_database_url  # noqa: F401  (a fixture)


def test_the_migration_seeds_three_templates(
    empty_database_url: str,  # noqa: F811
) -> None:
    from flask_migrate import downgrade
    from flask_migrate import upgrade

    app: Flask = create_app(make_test_config(empty_database_url))
    with app.app_context():
        upgrade(revision="a9s0mail0012")
        rows = db.session.execute(
            text("SELECT name, subject, body FROM mailing_templates ORDER BY name")
        ).all()
        assert [row.name for row in rows] == [
            "GP bulletin",
            "PPI newsletter",
            "Stakeholder newsletter",
        ]
        for row in rows:
            assert row.subject
            assert row.body.startswith(("A ", "An ", "Welcome"))
            assert "\n# " in row.body  # headings, below the subject's h1
            assert problems(row.body) == []
        db.session.rollback()
        downgrade(revision="a9r0board0011")
        db.session.remove()
        db.engine.dispose()
