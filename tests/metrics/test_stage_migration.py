"""The measurement-stages migration gives existing labels and metrics a stage, unit."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import text

from engage import create_app
from engage.extensions import db
from tests.conftest import make_test_config
from tests.test_migrations import empty_database_url  # noqa: F401  (a fixture)

NOW = "2026-10-01 09:00:00"


def _sql(statement: str, **values: object) -> None:
    db.session.execute(text(statement), values)


def test_existing_labels_and_metrics_get_a_sensible_stage_and_unit(
    empty_database_url: str,  # noqa: F811
) -> None:
    from flask_migrate import downgrade
    from flask_migrate import upgrade

    app: Flask = create_app(make_test_config(empty_database_url))
    with app.app_context():
        upgrade(revision="a9p0link0009")
        # Plain SQL naming only the columns of that revision.
        _sql(
            "INSERT INTO channels (id, name, is_active) "
            "VALUES (1, 'GP newsletter', :t)",
            t=True,
        )
        _sql(
            "INSERT INTO actions (id, title, channel_id, all_audiences, audience_note, "
            "responsibility, timescale, recurrence, status, success_measure, "
            "created_at, updated_at) VALUES (1, 'Bulletin', 1, :f, '', '', '', "
            "'none', 'planned', '', :now, :now)",
            f=False,
            now=NOW,
        )
        _sql(
            "INSERT INTO activities (id, action_id, occurred_on, description, notes, "
            "created_at) VALUES (1, 1, '2026-09-30', 'Sent', '', :now)",
            now=NOW,
        )
        for label, value in [
            ("recipients", 412),
            ("Opens ", 188),
            ("Podcast plays", 9),
        ]:
            _sql(
                "INSERT INTO reach_figures (activity_id, label, value) "
                "VALUES (1, :label, :value)",
                label=label,
                value=value,
            )
        for key, name, unit in [
            ("reach-gp-newsletter-opens", "GP newsletter opens", ""),
            ("reach-gp-newsletter-recipients", "GP newsletter recipients", ""),
            ("members-gold", "Gold members", "members"),
            ("actions-completed", "Actions completed", "actions"),
            ("web-visits", "Website visits", "visits"),
            ("event-attendance", "Event attendance", "people"),
        ]:
            _sql(
                "INSERT INTO metrics (key, name, unit, description, kind, "
                "higher_is_better, is_system, created_at, updated_at) VALUES "
                "(:key, :name, :unit, '', 'flow', :t, :f, :now, :now)",
                key=key,
                name=name,
                unit=unit,
                t=True,
                f=False,
                now=NOW,
            )
        db.session.commit()
        upgrade()
        labels = {
            row.label: (row.stage, row.unit, row.rate_of)
            for row in db.session.execute(
                text("SELECT label, stage, unit, rate_of FROM reach_labels")
            )
        }
        assert labels["recipients"] == ("output", "recipients", "")
        assert labels["opens"] == ("outtake", "opens", "recipients")
        assert labels["clicks"] == ("outtake", "clicks", "recipients")
        assert labels["joins"] == ("outcome", "joins", "")
        # An unknown label is output in its own unit: never added to another.
        assert labels["podcast plays"] == ("output", "podcast plays", "")
        metrics = {
            row.key: (row.stage, row.unit)
            for row in db.session.execute(text("SELECT key, stage, unit FROM metrics"))
        }
        assert metrics == {
            "reach-gp-newsletter-opens": ("outtake", "opens"),
            "reach-gp-newsletter-recipients": ("output", "recipients"),
            "members-gold": ("outcome", "members"),
            "actions-completed": ("input", "actions"),
            "web-visits": ("output", "visits"),
            "event-attendance": ("outtake", "people"),
        }
        db.session.commit()
        downgrade(revision="a9p0link0009")
        db.session.remove()
        db.engine.dispose()
