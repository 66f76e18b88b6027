"""Forms as people use them: dates in three boxes, and the question form by type.

Real Chromium. The question form is used with JavaScript turned off, as the pages
must work without it; axe judges each page at 1280 px and 390 px.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from playwright.sync_api import expect
from sqlalchemy import select

from engage.clock import start_of_day
from engage.clock import today
from engage.clock import utcnow
from engage.extensions import db
from engage.surveys import services
from engage.surveys.models import Question
from engage.surveys.models import QuestionKind
from engage.surveys.models import Survey
from tests.browser.conftest import assert_accessible
from tests.browser.conftest import fill_date
from tests.browser.conftest import sign_in
from tests.factories import UserFactory

WIDTHS = (1280, 390)


def _accessible_at_both_widths(page: Any, url: str | None = None) -> None:
    """No axe violations at 1280 px nor at 390 px, where nothing scrolls sideways.

    ``url``: open it first (axe needs JavaScript, so a page used without it is
    judged in this page, which has it: the server sends both the same HTML).
    """
    if url is not None:
        page.goto(url)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        assert_accessible(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_date_is_typed_in_three_boxes(page: Any) -> None:
    sign_in(page, UserFactory(role="officer"))
    page.goto("/surveys/new")
    page.get_by_label("Title").fill("Winter care")
    opens = page.get_by_role("group", name="Opens on (optional)")
    expect(opens).to_contain_text("For example, 27 3 2026")
    # A month left out: the error names it, and only the month box is in error.
    opens.get_by_label("Day").fill("27")
    opens.get_by_label("Year").fill("2026")
    page.get_by_role("button", name="Save survey").click()
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_contain_text("The opening date must include a month")
    expect(page.locator(".nhsuk-input--error")).to_have_count(1)
    expect(opens.get_by_label("Month")).to_have_class(re.compile("nhsuk-input--error"))
    expect(opens.get_by_label("Day")).to_have_value("27")
    _accessible_at_both_widths(page)
    summary.get_by_role("link").click()
    expect(opens.get_by_label("Month")).to_be_focused()
    # 31 April is not a real date.
    fill_date(page, "Opens on (optional)", date(2026, 4, 1))
    opens.get_by_label("Day").fill("31")
    page.get_by_role("button", name="Save survey").click()
    expect(summary).to_contain_text("The opening date must be a real date")
    # Put right, it saves (next year: a draft's closing date cannot have passed).
    year = today().year + 1
    fill_date(page, "Opens on (optional)", date(year, 3, 27))
    fill_date(page, "Closes after (optional)", date(year, 4, 30))
    page.get_by_role("button", name="Save survey").click()
    expect(page.locator("body")).to_contain_text("Now add its questions")
    db.session.rollback()
    survey = db.session.scalars(select(Survey).filter_by(title="Winter care")).one()
    assert survey.opens_at == start_of_day(date(year, 3, 27))
    assert survey.closes_at == start_of_day(date(year, 5, 1))


def test_the_question_form_shows_only_the_chosen_type_without_javascript(
    page_without_js: Any, page: Any
) -> None:
    judge, page = page, page_without_js
    officer = UserFactory(role="officer")
    survey = services.create_survey(
        services.SurveyData(title="Clinic survey"), actor=officer, now=utcnow()
    )
    db.session.commit()
    sign_in(page, officer)
    sign_in(judge, officer)
    page.goto(f"/surveys/{survey.id}/questions/new")
    # Step 1: the type alone.
    expect(
        page.get_by_role("group", name="What type of question is it?")
    ).to_be_visible()
    expect(page.get_by_label("Question", exact=True)).to_have_count(0)
    _accessible_at_both_widths(judge, page.url)
    page.get_by_role("button", name="Continue").click()  # nothing chosen
    expect(page.locator(".nhsuk-error-summary")).to_contain_text(
        "Choose the type of question"
    )
    page.get_by_label("Number", exact=True).check()
    page.get_by_role("button", name="Continue").click()
    # Step 2: a number question has its limits and no choices.
    expect(page.locator(".nhsuk-summary-list")).to_contain_text("Number")
    expect(page.get_by_label("Lowest number allowed (optional)")).to_be_visible()
    expect(page.get_by_label("Choices")).to_have_count(0)
    _accessible_at_both_widths(judge, page.url)
    # Changed to a single choice: choices, and no limits.
    page.get_by_role("link", name="Change the type of question").click()
    expect(page.get_by_label("Number", exact=True)).to_be_checked()
    page.get_by_label("Single choice", exact=True).check()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_label("Lowest number allowed (optional)")).to_have_count(0)
    page.get_by_label("Question", exact=True).fill("Which clinic?")
    page.get_by_label("Choices").fill("North\nSouth")
    _accessible_at_both_widths(judge, page.url)
    page.get_by_role("button", name="Save question").click()
    expect(page.locator("body")).to_contain_text("Question saved.")
    db.session.rollback()
    question = db.session.scalars(select(Question)).one()
    assert question.kind is QuestionKind.SINGLE_CHOICE
    assert [c.label for c in question.choices] == ["North", "South"]
