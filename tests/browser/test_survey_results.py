"""Survey results in real Chromium: charts with JavaScript, tables always."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from engage.surveys.models import QuestionKind
from tests.browser.conftest import assert_accessible
from tests.factories import DEFAULT_PASSWORD
from tests.surveys.results.helpers import add_response
from tests.surveys.results.helpers import make_survey

Q = QuestionKind


def _survey_with_answers() -> Any:
    survey = make_survey()
    for index in range(10):
        add_response(
            survey,
            {
                Q.SINGLE_CHOICE: "Newsletter" if index % 2 else "Website",
                Q.MULTIPLE_CHOICE: ["GP surgery", "A&E"],
                Q.LIKERT_AGREEMENT: 1 + 4 * (index % 2),
                Q.RATING_0_10: 10 * (index % 2),
                Q.NUMBER: index * 2,
                Q.LONG_TEXT: "</script><script>window.hacked = 1</script>",
            },
            tier="silver",
        )
    return survey


def _sign_in(page: Any, user: Any) -> None:
    page.goto("/login")
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_results_page_draws_charts_and_is_accessible(
    page: Any, cast: dict[str, Any]
) -> None:
    survey = _survey_with_answers()
    _sign_in(page, cast["lead"])
    page.goto(f"/surveys/{survey.id}/results")
    expect(page.locator("h1")).to_contain_text("Results: Patient experience")
    expect(page.locator(".engage-chart--drawn canvas").first).to_be_visible()
    # One chart per choice, scale and rating question, plus responses over time.
    assert page.locator(".engage-chart--drawn canvas").count() == 5
    expect(
        page.get_by_role("table", name="Answers to question 1 (10 answered)")
    ).to_be_visible()
    assert page.evaluate("window.hacked") is None
    assert_accessible(page)
    page.goto(
        f"/surveys/{survey.id}/results/questions/{survey.questions[-1].id}/answers"
    )
    expect(page.locator(".engage-text-answer").first).to_have_text(
        "</script><script>window.hacked = 1</script>"
    )
    assert page.evaluate("window.hacked") is None
    assert_accessible(page)
    page.goto(f"/surveys/{survey.id}/results/crosstab")
    page.get_by_role("button", name="Show the breakdown").click()
    expect(page.locator("table caption")).to_contain_text("by tier")
    assert_accessible(page)


def test_results_tables_are_there_without_javascript(
    page_without_js: Any, cast: dict[str, Any]
) -> None:
    survey = _survey_with_answers()
    page = page_without_js
    _sign_in(page, cast["officer"])
    page.goto(f"/surveys/{survey.id}/results")
    assert page.locator("canvas").count() == 0
    expect(
        page.get_by_role("table", name="Answers to question 1 (10 answered)")
    ).to_be_visible()
    expect(page.get_by_text("Mean: 3.0")).to_be_visible()  # five 1s and five 5s


def test_import_pages_are_accessible(page: Any, cast: dict[str, Any]) -> None:
    from pathlib import Path

    survey = make_survey()
    fixture = (
        Path(__file__).parent.parent / "fixtures" / "surveys" / "surveymonkey.xlsx"
    )
    _sign_in(page, cast["officer"])
    page.goto(f"/surveys/{survey.id}/responses/import")
    assert_accessible(page)
    page.locator("input[type=file]").set_input_files(str(fixture))
    page.get_by_role("button", name="Check the file").click()
    expect(page.locator("h1")).to_contain_text("Check the import of responses")
    assert_accessible(page)
    page.get_by_label("Column “Any other comments?”").select_option("")
    page.get_by_role("button", name="Check again with this matching").click()
    assert_accessible(page)
    page.get_by_role("button", name="Import 6 responses").click()
    expect(page.locator("h1")).to_contain_text("Results: Patient experience")
    expect(page.get_by_text("6 responses.")).to_be_visible()


def test_the_date_question_on_the_import_preview(
    page: Any, cast: dict[str, Any], tmp_path: Any
) -> None:
    """A Microsoft Forms export whose dates read either way: asked, then imported."""
    survey = make_survey()
    export = tmp_path / "Patient experience(1-2).csv"
    export.write_text(
        "ID,Start time,Completion time,Email,Name,Any other comments?\r\n"
        "1,3/5/24 9:14:02,3/5/24 9:14:02,a@example.org,Ann,Fine\r\n"
        "2,4/6/24 10:00:00,4/6/24 10:00:00,b@example.org,Bob,Good\r\n"
    )
    _sign_in(page, cast["officer"])
    page.goto(f"/surveys/{survey.id}/responses/import")
    page.locator("input[type=file]").set_input_files(str(export))
    page.get_by_role("button", name="Check the file").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text(
        "Say how the dates are written"
    )
    expect(page.get_by_role("button", name="Import 2 responses")).to_have_count(0)
    assert_accessible(page)
    page.get_by_label("Month first: 5 March 2024").check()
    page.get_by_role("button", name="Check again with this matching").click()
    expect(page.get_by_label("Month first: 5 March 2024")).to_be_checked()
    assert_accessible(page)
    page.get_by_role("button", name="Import 2 responses").click()
    expect(page.get_by_text("Import finished: 2 added")).to_be_visible()


def test_a_small_survey_shows_its_team_real_counts_and_the_public_page_suppresses_them(
    page: Any, cast: dict[str, Any]
) -> None:
    """A survey of 7: real counts and a chart for the team; "fewer than 5" on the
    public "you said, we did" page. Both pages pass axe at 1280 and 390 px."""
    from engage.clock import utcnow
    from engage.extensions import db
    from engage.surveys import findings
    from tests.surveys.results.helpers import question

    survey = make_survey()
    for index in range(7):
        add_response(
            survey, {Q.SINGLE_CHOICE: "Newsletter" if index < 4 else "Website"}
        )
    findings.save_finding(
        survey,
        None,
        findings.FindingData(
            theme="Hearing about us",
            you_said="Most of you heard about us from the newsletter",
            we_did="We send it every month",
            question_id=question(survey, Q.SINGLE_CHOICE).id,
            published=True,
        ),
        actor=cast["officer"],
        now=utcnow(),
    )
    findings.publish_findings(survey, True, actor=cast["officer"], now=utcnow())
    db.session.commit()
    _sign_in(page, cast["lead"])
    page.goto(f"/surveys/{survey.id}/results")
    table = page.get_by_role("table", name="Answers to question 1 (7 answered)")
    expect(table.get_by_role("row", name="Newsletter 4 57.1%")).to_be_visible()
    expect(table.get_by_role("row", name="Website 3 42.9%")).to_be_visible()
    expect(page.get_by_text("These are the real counts")).to_be_visible()
    expect(page.get_by_role("link", name="CSV for publication")).to_be_visible()
    expect(page.locator(".engage-chart--drawn canvas").first).to_be_visible()
    assert_accessible(page)
    page.goto(f"/surveys/{survey.id}/you-said-we-did")
    public = page.get_by_role("table", name="Answers to question 1 (7 answered)")
    expect(public.get_by_role("row", name="Newsletter fewer than 5")).to_be_visible()
    expect(public.get_by_role("row", name="Website fewer than 5")).to_be_visible()
    expect(page.get_by_text("57.1%")).to_have_count(0)
    assert_accessible(page)
