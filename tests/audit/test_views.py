"""The admins' audit list and its filters."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from flask.testing import FlaskClient

from engage.audit.services import record_event
from engage.clock import utcnow
from engage.extensions import db
from tests.pager import assert_stale_links_give_the_first_page
from tests.pager import pager_links


def test_admin_filters_audit_events(client: FlaskClient, login, cast) -> None:
    now = utcnow()
    record_event(
        cast["officer"], "create", "audience", 7, "created <b>GPs</b>", now=now
    )
    record_event(
        cast["officer"], "delete", "audience", 8, "deleted", now=now - timedelta(days=3)
    )
    record_event("system", "purge", "member", None, "purged 3 pending", now=now)
    db.session.commit()
    login(cast["admin"])
    all_events = client.get("/admin/audit/").get_data(as_text=True)
    assert "created &lt;b&gt;GPs&lt;/b&gt;" in all_events  # escaped, never rendered
    assert "purged 3 pending" in all_events

    by_officer = client.get(f"/admin/audit/?actor={cast['officer'].id}").get_data(
        as_text=True
    )
    assert "created &lt;b&gt;GPs" in by_officer
    assert "purged 3 pending" not in by_officer

    by_action = client.get("/admin/audit/?action=delete").get_data(as_text=True)
    assert "deleted" in by_action
    assert "created &lt;b&gt;" not in by_action

    today = now.date().isoformat()
    recent = client.get(f"/admin/audit/?date_from={today}&date_to={today}").get_data(
        as_text=True
    )
    assert "created &lt;b&gt;GPs" in recent
    assert ">deleted<" not in recent


def test_audit_list_paginates(client: FlaskClient, login, cast) -> None:
    for i in range(55):
        record_event("system", "tick", "job", i, f"event {i}")
    db.session.commit()
    login(cast["admin"])
    first = client.get("/admin/audit/?action=tick").get_data(as_text=True)
    assert "55 events" in first
    shown = re.findall(r"\(event (\d+)\)\.", first)
    assert shown == [str(n) for n in range(54, 4, -1)]  # 50 a page, newest first
    links = pager_links(first)
    assert "action=tick" in links["next"]
    second = client.get(links["next"]).get_data(as_text=True)
    assert re.findall(r"\(event (\d+)\)\.", second) == ["4", "3", "2", "1", "0"]
    last = client.get(links["last"]).get_data(as_text=True)
    assert re.findall(r"\(event (\d+)\)\.", last)[-1] == "0"
    back = client.get(pager_links(second)["previous"]).get_data(as_text=True)
    assert re.findall(r"\(event (\d+)\)\.", back) == shown
    assert_stale_links_give_the_first_page(
        client,
        "/admin/audit/?action=tick",
        lambda html: re.findall(r"\(event (\d+)\)\.", html),
        shown,
    )


def test_audit_export_keeps_raw_columns_and_adds_the_sentence(
    client: FlaskClient, login, cast
) -> None:
    record_event(cast["officer"], "status", "action", 999, "planned→done")
    record_event(cast["officer"], "create", "audience", 7, "=HYPERLINK(1)")
    db.session.commit()
    login(cast["admin"])
    page = client.get(f"/admin/audit/?actor={cast['officer'].id}&page=1")
    assert f"/admin/audit/export.csv?actor={cast['officer'].id}" in page.get_data(
        as_text=True
    )
    response = client.get(f"/admin/audit/export.csv?actor={cast['officer'].id}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    rows = list(
        csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")))
    )
    assert rows[0] == [
        "When",
        "What happened",
        "Time in UTC, to the second",
        "Who",
        "Action (as stored)",
        "Kind of record (as stored)",
        "Record number",
        "Details (as stored)",
    ]
    by_action = {row[4]: row for row in rows[1:]}
    assert by_action["status"][1] == (
        "Owen Officer changed the status of an action from planned to done"
    )
    assert by_action["status"][7] == "planned→done"
    assert by_action["create"][7] == "'=HYPERLINK(1)"  # formula-safe
    assert len(rows) == 3  # the filter applies: the admin's own sign-in is left out
    # The download is itself recorded.
    listed = client.get("/admin/audit/?action=export").get_data(as_text=True)
    assert "Alice Admin downloaded the audit log: 2 rows (csv)" in (listed)
    xlsx = client.get("/admin/audit/export.xlsx")
    assert xlsx.mimetype.endswith("spreadsheetml.sheet")


def test_a_download_with_filters_that_cannot_apply_goes_back_to_them(
    client: FlaskClient, login, cast
) -> None:
    record_event(cast["officer"], "create", "audience", 7, "Carers' groups")
    db.session.commit()
    login(cast["admin"])
    asked = "date_from-day=31&date_from-month=2&date_from-year=2026&action=create"
    response = client.get(f"/admin/audit/export.csv?{asked}")
    # Not the whole log in place of the day asked for: the filters, with their error.
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/audit/?")
    assert "date_from-day=31" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Correct the filters, then download" in page
    assert "must be a real date" in page
