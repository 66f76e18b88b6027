"""The breach register: 12 h and 72 h deadlines, overdue flags and pages (D9)."""

from __future__ import annotations

from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time
from typing import Any

import pytest
import time_machine
from flask.testing import FlaskClient
from sqlalchemy import select

from engage import clock
from engage.audit.models import AuditEvent
from engage.breaches import services
from engage.breaches.models import Breach
from engage.extensions import db

DISCOVERED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def record(actor: Any, discovered: datetime = DISCOVERED, **extra: object) -> Breach:
    values: dict[str, object] = {
        "title": "Spreadsheet emailed to the wrong list",
        "description": "A members list went to a supplier by mistake.",
        "discovered_at": discovered,
        "people_affected": 40,
        "data_categories": "names, email addresses",
        "actions_taken": "Recall requested; supplier confirmed deletion.",
        "reported_to_ico_at": None,
        "ico_reference": "",
        "closed_at": None,
        **extra,
    }
    breach = services.record_breach(
        values, actor=actor, now=datetime(2026, 6, 1, tzinfo=UTC)
    )
    db.session.commit()
    return breach


def form_data(**overrides: str) -> dict[str, str]:
    data = {
        "title": "Laptop <script>alert(1)</script> lost",
        "description": "An unencrypted laptop was left on a train.",
        "discovered_on": "2026-03-28",
        "discovered_time": "23:30",
        "people_affected": "",
        "data_categories": "names",
        "actions_taken": "",
        "reported_on": "",
        "reported_time": "",
        "ico_reference": "",
        "closed_on": "",
        "closed_time": "",
    }
    data.update(overrides)
    return data


# Deadlines ----------------------------------------------------------------------------


def test_deadlines_are_12_and_72_hours_after_discovery() -> None:
    assert services.internal_deadline(DISCOVERED) == datetime(
        2026, 3, 2, 21, 0, tzinfo=UTC
    )
    assert services.ico_deadline(DISCOVERED) == datetime(2026, 3, 5, 9, 0, tzinfo=UTC)


def test_local_input_is_converted_to_utc_in_winter_and_summer() -> None:
    assert clock.local_to_utc(date(2026, 1, 10), time(9, 0)) == datetime(
        2026, 1, 10, 9, 0, tzinfo=UTC
    )
    assert clock.local_to_utc(date(2026, 7, 10), time(9, 0)) == datetime(
        2026, 7, 10, 8, 0, tzinfo=UTC
    )


def test_deadlines_across_the_clocks_going_forward_are_elapsed_hours() -> None:
    # Clocks go forward at 01:00 GMT on 29 March 2026: 72 real hours after 23:30 GMT
    # on Saturday is 23:30 UTC on Tuesday, which London clocks show as 00:30 Wednesday.
    discovered = clock.local_to_utc(date(2026, 3, 28), time(23, 30))
    assert discovered == datetime(2026, 3, 28, 23, 30, tzinfo=UTC)
    internal = clock.to_local(services.internal_deadline(discovered))
    ico = clock.to_local(services.ico_deadline(discovered))
    assert (internal.date(), internal.time()) == (date(2026, 3, 29), time(12, 30))
    assert (ico.date(), ico.time()) == (date(2026, 4, 1), time(0, 30))


def test_deadlines_across_the_clocks_going_back_are_elapsed_hours() -> None:
    # Clocks go back at 01:00 UTC on 25 October 2026.
    discovered = clock.local_to_utc(date(2026, 10, 24), time(20, 0))  # 19:00 UTC
    assert discovered == datetime(2026, 10, 24, 19, 0, tzinfo=UTC)
    internal = clock.to_local(services.internal_deadline(discovered))
    ico = clock.to_local(services.ico_deadline(discovered))
    assert (internal.date(), internal.time()) == (date(2026, 10, 25), time(7, 0))
    assert (ico.date(), ico.time()) == (date(2026, 10, 27), time(19, 0))


def test_overdue_flags_follow_the_clock_until_reported(cast) -> None:
    breach = record(cast["admin"])
    before = services.deadlines(breach, datetime(2026, 3, 2, 20, 59, tzinfo=UTC))
    assert not before.internal_overdue
    assert not before.ico_overdue
    after_internal = services.deadlines(breach, datetime(2026, 3, 2, 21, 1, tzinfo=UTC))
    assert after_internal.internal_overdue
    assert not after_internal.ico_overdue
    after_ico = services.deadlines(breach, datetime(2026, 3, 5, 9, 1, tzinfo=UTC))
    assert after_ico.internal_overdue
    assert after_ico.ico_overdue
    breach.reported_to_ico_at = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
    reported = services.deadlines(breach, datetime(2026, 3, 9, tzinfo=UTC))
    assert not reported.internal_overdue
    assert not reported.ico_overdue


# Pages --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["officer", "lead"])
def test_only_admins_see_the_register(
    client: FlaskClient, login, cast, role: str
) -> None:
    breach = record(cast["admin"])
    login(cast[role])
    for url in (
        "/admin/breaches/",
        "/admin/breaches/new",
        f"/admin/breaches/{breach.id}",
        f"/admin/breaches/{breach.id}/edit",
    ):
        assert client.get(url).status_code == 403
    assert client.post("/admin/breaches/new", data=form_data()).status_code == 403
    assert db.session.scalar(select(db.func.count(Breach.id))) == 1


def test_register_shows_overdue_then_reported(client: FlaskClient, login, cast) -> None:
    breach = record(cast["admin"])
    with time_machine.travel(datetime(2026, 3, 3, 12, 0, tzinfo=UTC), tick=False):
        login(cast["admin"])
        page = client.get("/admin/breaches/").get_data(as_text=True)
        # Internal deadline 2 Mar 21:00 UTC (GMT) has passed; the ICO one has not.
        assert "2 March 2026 at 9pm" in page
        assert "5 March 2026 at 9am" in page
        assert page.count("Overdue") == 1
    with time_machine.travel(datetime(2026, 3, 6, 12, 0, tzinfo=UTC), tick=False):
        login(cast["admin"])  # the earlier session has timed out by now
        page = client.get(f"/admin/breaches/{breach.id}").get_data(as_text=True)
        assert page.count("Overdue") == 2
        breach.reported_to_ico_at = datetime(2026, 3, 5, 17, 15, tzinfo=UTC)
        db.session.commit()
        page = client.get(f"/admin/breaches/{breach.id}").get_data(as_text=True)
        assert "Overdue" not in page
        assert "Reported on 5 March 2026 at 5:15pm" in page


def test_admin_records_a_breach_in_uk_time_and_it_is_audited(
    client: FlaskClient, login, cast
) -> None:
    with time_machine.travel(datetime(2026, 3, 29, 9, 0, tzinfo=UTC), tick=False):
        login(cast["admin"])
        assert b"Personal-data breaches" in client.get("/admin/").data
        response = client.post("/admin/breaches/new", data=form_data())
        assert response.status_code == 302
        breach = db.session.scalars(select(Breach)).one()
        assert breach.discovered_at == datetime(2026, 3, 28, 23, 30, tzinfo=UTC)
        assert breach.recorded_by_id == cast["admin"].id
        page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page
    # 23:30 GMT + 12 h = 11:30 UTC = 12:30 BST; + 72 h = 00:30 BST on 1 April.
    assert "29 March 2026 at 12:30pm" in page
    assert "1 April 2026 at 12:30am" in page
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "breach.recorded")
    ).one()
    assert event.entity_id == str(breach.id)
    assert event.actor_id == cast["admin"].id
    assert "Laptop" not in event.summary


def test_admin_updates_a_breach_and_the_change_is_audited(
    client: FlaskClient, login, cast
) -> None:
    breach = record(cast["admin"])
    login(cast["admin"])
    form = client.get(f"/admin/breaches/{breach.id}/edit").get_data(as_text=True)
    assert 'value="09:00"' in form  # 09:00 UTC is 09:00 GMT in March
    data = form_data(
        title=breach.title,
        discovered_on="2026-03-02",
        discovered_time="09:00",
        reported_on="2026-03-04",
        reported_time="10:00",
        ico_reference="ICO/00123",
    )
    response = client.post(f"/admin/breaches/{breach.id}/edit", data=data)
    assert response.status_code == 302
    db.session.expire_all()
    assert breach.reported_to_ico_at == datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
    assert breach.ico_reference == "ICO/00123"
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "breach.updated")
    ).one()
    assert "reported_to_ico_at" in event.summary
    assert "ico_reference" in event.summary


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"discovered_time": ""}, "Enter the time the breach was discovered"),
        ({"reported_on": "2026-03-29", "reported_time": ""}, "Enter both the date"),
        ({"reported_on": "2026-03-27", "reported_time": "10:00"}, "before the breach"),
        ({"discovered_on": "2026-04-01"}, "cannot be in the future"),
    ],
)
def test_bad_input_is_refused(
    client: FlaskClient, login, cast, overrides: dict[str, str], message: str
) -> None:
    with time_machine.travel(datetime(2026, 3, 29, 9, 0, tzinfo=UTC), tick=False):
        login(cast["admin"])
        response = client.post("/admin/breaches/new", data=form_data(**overrides))
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count(Breach.id))) == 0
