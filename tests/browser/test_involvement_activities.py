"""Planning an involvement activity in a browser: without JavaScript, accessible at
desktop and phone widths, and no page scrolls sideways on a phone."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from engage.clock import to_local
from engage.clock import utcnow
from engage.extensions import db
from engage.involvement.models import InvolvementRate
from tests.browser.conftest import assert_accessible
from tests.browser.conftest import fill_date
from tests.browser.conftest import sign_in
from tests.browser.test_pages import DESKTOP
from tests.browser.test_pages import PHONE
from tests.browser.test_pages import _measure
from tests.factories import UserFactory
from tests.involvement.helpers import activity


def test_an_officer_plans_a_series_without_javascript(page_without_js: Any) -> None:
    page = page_without_js
    db.session.add(InvolvementRate(name="Level 3: involvement", session_pence=2500))
    officer = UserFactory(role="officer")
    db.session.commit()
    sign_in(page, officer)
    page.goto("/involvement/")
    page.get_by_role("button", name="Plan an activity").click()
    # Sent empty first: the problems are listed and each is on its field.
    page.get_by_role("button", name="Save activity").click()
    assert page.get_by_text("Enter a title").count() >= 2
    page.get_by_label("Reference group").check()
    page.get_by_label("Title").fill("Stroke survivors reference group")
    page.get_by_label("Involvement level").select_option(
        label="Level 3: involvement (£25 a session)"
    )
    first = (to_local(utcnow()) + timedelta(days=14)).date()
    fill_date(page, "Date of the first session", first)
    page.get_by_label("Start time").fill("18:00")
    page.get_by_label("How long it lasts, in minutes").fill("90")
    page.get_by_label("Monthly").check()
    page.get_by_label("How many sessions in the series (optional)").fill("6")
    page.get_by_label("Venue (optional)", exact=True).fill("Town Hall")
    page.get_by_role("button", name="Save activity").click()
    summary = page.locator(".nhsuk-error-summary")
    assert summary.count() == 0, summary.inner_text()
    assert page.get_by_role("heading", name="Stroke survivors reference group")
    assert page.get_by_text("6 sessions, monthly, each 1 hour 30 minutes").count() == 1
    when = re.compile(r"^\w+ \d+ \w+ \d{4}, 6pm to 7:30pm$")
    cells = page.get_by_role("cell", name=when)
    assert cells.count() == 6


def test_the_pages_are_accessible_and_fit_a_phone(page: Any) -> None:
    officer = UserFactory(role="officer")
    made = activity(
        sessions=4,
        capacity=12,
        venue_name="Riverside Community Centre, Long Street Entrance",
        venue_address="1 River Road\nTownton\nTN1 1AA",
        offers_bsl=True,
        offers_travel=True,
    )
    sign_in(page, officer)
    paths = [
        "/involvement/",
        "/involvement/new",
        f"/involvement/{made.id}",
        f"/involvement/{made.id}/edit",
        f"/involvement/{made.id}/sessions/new",
        f"/involvement/{made.id}/sessions/{made.sessions[0].id}/edit",
        f"/involvement/{made.id}/delete",
    ]
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        for path in paths:
            found = _measure(page, path)
            assert_accessible(page)
            if size is PHONE:
                assert found["page"] <= PHONE["width"], (path, found)
                assert found["wide"] == [], (path, found)
    # The form's problems, too.
    page.goto("/involvement/new")
    page.get_by_role("button", name="Save activity").click()
    assert_accessible(page)
