"""Honest reach in real Chromium: the dashboard's reach and open rate, and the admin
pages for reach figure labels, pass axe at 1280 and 390 px."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from engage.clock import today
from engage.extensions import db
from engage.metrics.models import ReachLabel
from engage.metrics.models import Stage
from tests.browser.conftest import assert_accessible
from tests.browser.conftest import sign_in
from tests.factories import ActionFactory
from tests.factories import ActivityFactory
from tests.factories import ChannelFactory
from tests.factories import UserFactory


def test_reach_and_open_rate_and_the_label_admin(page: Any) -> None:
    action = ActionFactory(channel=ChannelFactory(name="Newsletter"))
    ActivityFactory(action=action, figures={"recipients": 412, "opens": 188})
    admin = UserFactory(role="admin")
    db.session.commit()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, admin)
    day = today()
    page.goto(
        f"/dashboard/?period=quarter&value={day.year}-Q{(day.month - 1) // 3 + 1}"
    )
    figures = page.locator("#section-deliveries ~ .engage-figures")
    expect(figures).to_contain_text("412")
    expect(figures).to_contain_text("Reach: recipients")
    expect(figures).to_contain_text("45.6%")
    expect(figures).not_to_contain_text("600")
    expect(page.locator("#table-figures_by_stage")).to_contain_text("Outtake")
    assert_accessible(page)

    page.goto("/admin/")
    page.get_by_role("link", name="Reach figure labels").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reach figure labels")
    assert_accessible(page)
    # Labels only ever logged (not saved yet) are set up from their defaults.
    page.get_by_role("link", name="opens (set it up)").click()
    expect(page.get_by_label("Label")).to_have_value("opens")
    page.get_by_label("Show as a rate of").select_option("recipients")
    # An error first: an output cannot be a rate.
    page.get_by_label("Output: Reach", exact=False).check()
    page.get_by_role("button", name="Save label").click()
    expect(page).to_have_title(re.compile(r"^Error:"))
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("not a rate")
    assert_accessible(page)
    page.get_by_label("Outtake:", exact=False).check()
    page.get_by_role("button", name="Save label").click()
    expect(page.locator("body")).to_contain_text("Label saved.")
    db.session.rollback()  # see what the server committed
    row = db.session.query(ReachLabel).filter_by(label="opens").one()
    assert (row.stage, row.rate_of) == (Stage.OUTTAKE, "recipients")
    assert errors == []
