"""A create form sent twice in Chromium: gone back to and sent again with the same
details, it makes nothing new and leads to what the first send made."""

from __future__ import annotations

from datetime import date
from typing import Any

from playwright.sync_api import expect
from sqlalchemy import func
from sqlalchemy import select

from engage.actions.models import Activity
from engage.extensions import db
from tests.browser.conftest import assert_accessible
from tests.browser.conftest import fill_date
from tests.browser.conftest import sign_in
from tests.factories import ActionFactory
from tests.factories import UserFactory


def _deliveries() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Activity)) or 0


def _log(page: Any, what: str) -> None:
    fill_date(page, "Date delivered", date(2026, 3, 2))
    page.get_by_label("What happened").fill(what)
    page.get_by_role("button", name="Log delivery").click()


def test_going_back_and_sending_a_delivery_again_logs_it_once(page: Any) -> None:
    officer = UserFactory(role="officer")
    action = ActionFactory(title="GP bulletin", owners=[officer])
    sign_in(page, officer)
    page.goto(f"/actions/{action.id}/deliveries/new")
    _log(page, "March bulletin sent")
    expect(page.locator("h1")).to_contain_text("GP bulletin")
    assert _deliveries() == 1
    page.go_back()
    _log(page, "March bulletin sent")
    expect(page.locator("h1")).to_contain_text("GP bulletin")
    expect(page.locator("body")).to_contain_text("so nothing new was saved")
    assert_accessible(page)
    assert _deliveries() == 1
    # Changed, it is a second delivery.
    page.go_back()
    _log(page, "March bulletin sent to pharmacies too")
    expect(page.locator("body")).not_to_contain_text("so nothing new was saved")
    assert _deliveries() == 2
