"""Importing and exporting the interaction log: all or nothing, keyed, round trips."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func
from sqlalchemy import select

from engage.audit.models import AuditEvent
from engage.clock import today
from engage.clock import utcnow
from engage.errors import ValidationError
from engage.extensions import db
from engage.imports.services import apply_import
from engage.imports.services import export_table
from engage.imports.services import preview_import
from engage.imports.tabular import write_table
from engage.relationships.models import Direction
from engage.relationships.models import Interaction
from engage.relationships.models import InteractionKind
from engage.relationships.models import Sentiment
from engage.relationships.transfer import COLUMNS
from tests import factories

HEADER = [
    "Date",
    "Kind",
    "Direction",
    "Audiences",
    "Contacts",
    "Heading",
    "Summary",
    "Themes",
    "Sentiment",
    "Staff",
    "Reference",
]


@pytest.fixture
def world(cast: dict[str, Any]) -> dict[str, Any]:
    council = factories.AudienceFactory(name="Northshire County Council")
    mps = factories.AudienceFactory(name="Members of Parliament")
    police = factories.AudienceFactory(name="Police; prisons and probation")
    grant = factories.ContactFactory(audience=council, name="Cllr Peter Grant")
    stroke = factories.ThemeFactory(name="Stroke services review")
    factories.ThemeFactory(name="Old theme", is_active=False)
    db.session.commit()
    return {
        "council": council,
        "mps": mps,
        "police": police,
        "grant": grant,
        "stroke": stroke,
        "officer": cast["officer"],
    }


def _csv(rows: list[list[str]], header: list[str] = HEADER) -> io.BytesIO:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return io.BytesIO(out.getvalue().encode())


def _good_rows() -> list[list[str]]:
    day = today()
    return [
        [
            (day - timedelta(days=10)).isoformat(),
            "Meeting",
            "we contacted them",
            "northshire county council",
            "Cllr Peter Grant",
            "Stroke review briefing",
            "Talked through the options.",
            "stroke services review",
            "Positive",
            "",
            "CRM-1",
        ],
        [
            (day - timedelta(days=5)).strftime("%d/%m/%Y"),
            "email",
            "Inbound",
            "Members of Parliament; Northshire County Council",
            "",
            "Letter about parking",
            "",
            "",
            "negative",
            "",
            "",
        ],
        [
            (day - timedelta(days=2)).isoformat(),
            "Social media",
            "They contacted us",
            "Police; prisons and probation",
            "",
            "Tweet about waiting times",
            "",
            "",
            "mixed",
            "",
            "",
        ],
    ]


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Interaction)) or 0


def test_a_good_file_imports_every_row(world: dict[str, Any]) -> None:
    preview = preview_import("interactions", _csv(_good_rows()), "log.csv")
    assert preview.is_valid, preview.errors
    assert preview.created == 3

    apply_import(
        "interactions",
        _csv(_good_rows()),
        "log.csv",
        actor=world["officer"],
        now=utcnow(),
    )

    assert _count() == 3
    first = db.session.scalar(
        select(Interaction).where(Interaction.source_key == "import:CRM-1")
    )
    assert first is not None
    assert first.kind is InteractionKind.MEETING
    assert first.direction is Direction.OUTBOUND
    assert first.sentiment is Sentiment.POSITIVE
    assert first.audiences == [world["council"]]
    assert first.contacts == [world["grant"]]
    assert first.themes == [world["stroke"]]
    assert first.owner == world["officer"]
    second = db.session.scalar(
        select(Interaction).where(Interaction.subject == "Letter about parking")
    )
    assert second is not None
    assert second.kind is InteractionKind.EMAIL
    assert second.occurred_on == today() - timedelta(days=5)
    assert {a.name for a in second.audiences} == {
        "Members of Parliament",
        "Northshire County Council",
    }
    assert (second.source_key or "").startswith("sha256:")
    third = db.session.scalar(
        select(Interaction).where(Interaction.kind == InteractionKind.SOCIAL)
    )
    assert third is not None
    assert third.audiences == [world["police"]]
    assert db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.entity_type == "interaction", AuditEvent.action == "import"
        )
    )


def test_a_bad_row_refuses_the_whole_file_with_the_reason(
    world: dict[str, Any],
) -> None:
    rows = _good_rows()
    rows[1][3] = "Members of Parliament; Nowhere council"
    rows[2][1] = "fax"
    rows[2][4] = "Cllr Peter Grant"  # a contact of another audience
    preview = preview_import("interactions", _csv(rows), "log.csv")
    assert not preview.is_valid
    messages = {(e.row, e.message) for e in preview.errors}
    assert (3, "Audiences: there is no audience called “Nowhere council”.") in messages
    assert any(row == 4 and m.startswith("Kind: write meeting") for row, m in messages)
    assert any(
        row == 4 and m.startswith("Contacts: “Cllr Peter Grant”") for row, m in messages
    )

    with pytest.raises(ValidationError, match="first on row 3"):
        apply_import("interactions", _csv(rows), "log.csv", actor="cli", now=utcnow())
    assert _count() == 0


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        (0, "31 July", "Date: write it like 31/07/2026 or 2026-07-31"),
        (2, "sideways", "Direction: write"),
        (7, "Old theme", "Themes: there is no theme in use called “Old theme”."),
        (8, "", "Sentiment: enter positive"),
        (9, "nobody@example.org", "Staff: there is no staff user"),
        (5, "", "Enter a heading (the Heading column)."),
    ],
)
def test_each_column_is_checked(
    world: dict[str, Any], column: int, value: str, message: str
) -> None:
    rows = _good_rows()[:1]
    rows[0][column] = value
    preview = preview_import("interactions", _csv(rows), "log.csv")
    assert [e.row for e in preview.errors] == [2]
    assert preview.errors[0].message.startswith(message)


def test_a_future_date_is_refused(world: dict[str, Any]) -> None:
    rows = _good_rows()[:1]
    rows[0][0] = (today() + timedelta(days=3)).isoformat()
    preview = preview_import("interactions", _csv(rows), "log.csv")
    assert "is in the future" in preview.errors[0].message


def test_importing_the_same_file_again_adds_nothing(world: dict[str, Any]) -> None:
    apply_import(
        "interactions", _csv(_good_rows()), "log.csv", actor="cli", now=utcnow()
    )
    preview = preview_import("interactions", _csv(_good_rows()), "log.csv")
    assert preview.is_valid
    assert (preview.created, preview.unchanged) == (0, 3)
    apply_import(
        "interactions", _csv(_good_rows()), "log.csv", actor="cli", now=utcnow()
    )
    assert _count() == 3


def test_a_repeated_row_in_one_file_is_a_problem(world: dict[str, Any]) -> None:
    rows = _good_rows()
    preview = preview_import("interactions", _csv([*rows, rows[1]]), "log.csv")
    assert [e.row for e in preview.errors] == [5]
    assert "Repeats the interaction" in preview.errors[0].message


def test_an_xlsx_file_imports_too(world: dict[str, Any]) -> None:
    content = write_table("xlsx", HEADER, _good_rows(), title="log")
    preview = preview_import("interactions", io.BytesIO(content), "log.xlsx")
    assert preview.is_valid, preview.errors
    apply_import(
        "interactions", io.BytesIO(content), "log.xlsx", actor="cli", now=utcnow()
    )
    assert _count() == 3


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_then_import_adds_nothing(world: dict[str, Any], fmt: str) -> None:
    day = today()
    factories.InteractionFactory(
        occurred_on=day - timedelta(days=1),
        subject="Logged by hand",
        summary="Line one\nline two",
        audiences=[world["council"], world["police"]],
        contacts=[world["grant"]],
        themes=[world["stroke"]],
        staff=[world["officer"]],
    )
    apply_import(
        "interactions", _csv(_good_rows()), "log.csv", actor="cli", now=utcnow()
    )
    db.session.commit()
    exported = export_table("interactions", fmt, actor="cli", now=utcnow())
    assert exported.rows == 4

    preview = preview_import(
        "interactions", io.BytesIO(exported.content), exported.filename
    )
    assert preview.is_valid, preview.errors
    assert (preview.created, preview.unchanged) == (0, 4)


def test_the_export_is_formula_safe_and_reads_back(world: dict[str, Any]) -> None:
    factories.InteractionFactory(
        subject='=HYPERLINK("http://evil.example")',
        summary="+1 and more",
        audiences=[world["council"]],
    )
    exported = export_table("interactions", "csv", actor="cli", now=utcnow())
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0] == list(COLUMNS)
    assert rows[1][5] == '\'=HYPERLINK("http://evil.example")'
    assert rows[1][6] == "'+1 and more"
    preview = preview_import("interactions", io.BytesIO(exported.content), "x.csv")
    assert (preview.created, preview.unchanged) == (0, 1)


def test_drafts_are_not_exported(world: dict[str, Any]) -> None:
    from engage.relationships.models import InteractionStatus

    factories.InteractionFactory(
        audiences=[world["council"]], status=InteractionStatus.DRAFT, sentiment=None
    )
    assert export_table("interactions", "csv", actor="cli", now=utcnow()).rows == 0


def test_the_cli_imports_a_log(
    app: Flask, world: dict[str, Any], tmp_path: Path
) -> None:
    path = tmp_path / "log.csv"
    path.write_bytes(_csv(_good_rows()).getvalue())
    result = app.test_cli_runner().invoke(args=["import", "interactions", str(path)])
    assert result.exit_code == 0, result.output
    assert "Imported interactions: 3 created" in result.output
    db.session.rollback()
    assert _count() == 3


def test_the_preview_page_says_already_imported(
    app: Flask, client: Any, login: Any, world: dict[str, Any]
) -> None:
    apply_import(
        "interactions", _csv(_good_rows()), "log.csv", actor="cli", now=utcnow()
    )
    db.session.commit()
    login(world["officer"])
    response = client.post(
        "/interactions/import",
        data={"file": (_csv(_good_rows()), "log.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Already imported" in text
    assert "Nothing to import" in text
