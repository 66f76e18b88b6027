"""Two tabs on one record in Chromium: the later save does not undo the earlier one."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from engage.extensions import db
from tests.browser.conftest import assert_accessible
from tests.browser.conftest import sign_in
from tests.factories import SurveyFactory
from tests.factories import UserFactory


def test_a_survey_saved_in_another_tab_is_not_saved_over(page: Any) -> None:
    survey = SurveyFactory(title="Winter care")
    sign_in(page, UserFactory(role="officer"))
    other = page.context.new_page()
    page.goto(f"/surveys/{survey.id}/edit")
    other.goto(f"/surveys/{survey.id}/edit")
    other.get_by_label("Title").fill("Winter care (from tab B)")
    other.get_by_role("button", name="Save survey").click()
    expect(other.locator("body")).to_contain_text("Survey saved")
    # Tab A, opened before that save, comes back with what it typed.
    page.get_by_label("Title").fill("Winter care (from tab A)")
    page.get_by_role("button", name="Save survey").click()
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_contain_text("This survey was saved at")
    expect(page.get_by_label("Title")).to_have_value("Winter care (from tab A)")
    assert_accessible(page)
    db.session.rollback()
    db.session.refresh(survey)
    assert survey.title == "Winter care (from tab B)"
    # Looked over, sent again, it goes through.
    page.get_by_role("button", name="Save survey").click()
    expect(page.locator("body")).to_contain_text("Survey saved")
    db.session.rollback()
    db.session.refresh(survey)
    assert survey.title == "Winter care (from tab A)"
