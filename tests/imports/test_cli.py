"""``engage import audiences|actions FILE [--dry-run]`` and the reference 2012 plan."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy import func
from sqlalchemy import select

from engage.actions.models import Action
from engage.audiences.models import Audience
from engage.extensions import db
from tests.imports.test_tabular import FIXTURES
from tests.imports.test_tabular import PNG

REFERENCE = Path(__file__).resolve().parents[2] / "engage" / "demo_data"


def _count(model: type) -> int:
    db.session.rollback()  # see what the command committed
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_import_dry_run_prints_counts_and_saves_nothing(app: Flask) -> None:
    result = app.test_cli_runner().invoke(
        args=["import", "audiences", str(FIXTURES / "audiences-clean.csv"), "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    assert "Rows read: 3" in result.output
    assert "To add: 3" in result.output
    assert "Dry run: nothing was saved." in result.output
    assert _count(Audience) == 0


def test_import_without_dry_run_commits(app: Flask) -> None:
    result = app.test_cli_runner().invoke(
        args=["import", "audiences", str(FIXTURES / "audiences-clean.csv")]
    )
    assert result.exit_code == 0, result.output
    assert "Imported audiences: 3 created, 0 updated, 0 unchanged." in result.output
    assert _count(Audience) == 3


def test_import_with_row_errors_exits_non_zero_and_saves_nothing(app: Flask) -> None:
    result = app.test_cli_runner().invoke(
        args=["import", "audiences", str(FIXTURES / "audiences-c4.csv")]
    )
    assert result.exit_code == 1
    assert "Row 3: The group must be one of" in result.output
    assert "Row 7: Repeats the audience" in result.output
    assert "Nothing was imported" in result.output
    assert _count(Audience) == 0


def test_import_of_an_image_exits_non_zero_with_a_message(
    app: Flask, tmp_path: Path
) -> None:
    image = tmp_path / "audiences.csv"
    image.write_bytes(PNG)
    result = app.test_cli_runner().invoke(args=["import", "audiences", str(image)])
    assert result.exit_code == 1
    assert "it looks like a PNG image" in result.output


def test_import_actions_reads_the_reference_plan(app: Flask) -> None:
    runner = app.test_cli_runner()
    runner.invoke(args=["import", "audiences", str(REFERENCE / "audiences-2012.csv")])
    result = runner.invoke(
        args=["import", "actions", str(REFERENCE / "action-plan-2012.csv")]
    )
    assert result.exit_code == 0, result.output
    assert "Note: A new channel “Media” will be added." in result.output
    assert _count(Action) == 23
