"""An officer builds and sends a survey; a member answers it from the email.

The officer then reads the response rate and the results. Real Chromium, mail through
a real SMTP server on loopback, axe on the builder, answering and results pages.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from engage.clock import utcnow
from engage.extensions import db
from engage.membership.models import Tier
from engage.surveys.answering import record_response
from engage.surveys.models import Answer
from engage.surveys.models import Invitation
from engage.surveys.models import Response
from engage.surveys.models import ResponseSource
from engage.surveys.models import Survey
from tests.browser.conftest import _new_page
from tests.browser.conftest import assert_accessible
from tests.factories import DEFAULT_PASSWORD
from tests.factories import UserFactory
from tests.surveys.helpers import ALL_KINDS
from tests.surveys.helpers import full_answers
from tests.surveys.helpers import make_member
from tests.surveys.helpers import make_topic


def _sign_in(page: Any, user: Any) -> None:
    page.goto("/login")
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")


def _wait_for_mail(smtp_server: Any, count: int) -> Any:
    deadline = time.monotonic() + 10
    while len(smtp_server.messages) < count:
        assert time.monotonic() < deadline, "no email arrived"
        time.sleep(0.05)
    return smtp_server.messages[count - 1]


def _build(page: Any) -> None:
    page.goto("/surveys/")
    assert_accessible(page)
    page.get_by_role("button", name="Create a survey").click()
    assert_accessible(page)
    page.get_by_label("Title").fill("Diabetes care survey")
    page.get_by_label("Introduction (optional)").fill("Help us improve diabetes care.")
    page.get_by_role("button", name="Save survey").click()
    expect(page.locator("body")).to_contain_text("Now add its questions")
    for kind, text, choices in ALL_KINDS:
        page.get_by_role("button", name="Add a question").click()
        # The type first; then only that type's fields.
        page.get_by_label(kind.label, exact=True).check()
        page.get_by_role("button", name="Continue").click()
        page.get_by_label("Question", exact=True).fill(text)
        if choices:
            page.get_by_label("Choices").fill("\n".join(choices))
        page.get_by_role("button", name="Save question").click()
        expect(page.locator("body")).to_contain_text("Question saved.")
        # The text is there before the stylesheet and the jump to #questions: on a
        # busy machine the next click could land where the link was a moment ago.
        page.wait_for_load_state()
    assert_accessible(page)  # the survey page with all eight questions
    page.get_by_role("link", name="Edit question 1").click()
    assert_accessible(page)
    page.go_back()
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("body")).to_contain_text("Nothing you enter here is saved")
    assert_accessible(page)
    page.go_back()
    page.get_by_role("button", name="Open the survey").click()
    expect(page.locator("body")).to_contain_text("Survey opened.")


def _invite(page: Any) -> None:
    page.get_by_role("button", name="Invitations").click()
    assert_accessible(page)
    page.get_by_label("Tier").select_option("silver")
    page.get_by_label("Interested in").select_option(label="Diabetes")
    page.get_by_role("button", name="Check who will be invited").click()
    assert_accessible(page)
    page.get_by_role("button", name="Invite 1 members").click()
    expect(page.locator("#send-progress")).to_have_text("0 of 1 sent.")
    page.get_by_role("button", name="Send the next 1 invitations").click()
    expect(page.locator("body")).to_contain_text("1 invitations sent in this batch")
    assert_accessible(page)


def _answer(page: Any, path: str) -> None:
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_have_text("Diabetes care survey")
    assert_accessible(page)
    # Sent with a number that is not one: the error is linked and answers kept.
    page.get_by_label("Your town (optional)").fill("Leeds")
    page.get_by_label("How many visits this year? (optional)").fill("lots")
    page.get_by_role("button", name="Send my answers").click()
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_contain_text("Question 6: enter a number")
    expect(page.get_by_label("Your town (optional)")).to_have_value("Leeds")
    assert_accessible(page)

    def group(text: str) -> Any:
        return page.get_by_role("group", name=f"{text} (optional)")

    group("How did you hear about us?").get_by_label("GP", exact=True).check()
    services = group("Which services did you use?")
    services.get_by_label("A&E", exact=True).check()
    services.get_by_label("111", exact=True).check()
    group("The service was easy to use").get_by_label("Agree", exact=True).check()
    group("How satisfied are you?").get_by_label("Very satisfied").check()
    group("How likely are you to recommend us?").get_by_label("9", exact=True).check()
    page.get_by_label("How many visits this year? (optional)").fill("3")
    page.get_by_label("Anything else? (optional)").fill("<b>More</b> evening clinics")
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
    assert_accessible(page)


# A whole journey: under load it outlasts the suite's usual two minutes.
@pytest.mark.timeout(360)
def test_officer_builds_invites_and_a_member_answers(
    page: Any, browser: Any, live_server: str, smtp_server: Any
) -> None:
    topic = make_topic("Diabetes")
    other = make_topic("Maternity")
    make_member("Sam Silver", "sam@example.org", topics=[topic])
    make_member("Gil Gold", "gil@example.org", tier=Tier.GOLD, topics=[topic])
    make_member("Mo Other", "mo@example.org", topics=[other])
    officer = UserFactory(role="officer", name="Olu Officer")
    db.session.commit()

    _sign_in(page, officer)
    _build(page)
    _invite(page)

    message = _wait_for_mail(smtp_server, 1)
    assert message["To"] == "sam@example.org"
    body = message.get_body(preferencelist=("plain",)).get_content()
    match = re.search(r"http://engage\.test(/s/\S+)", body)
    assert match, body

    member_page = _new_page(browser, live_server)
    try:
        _answer(member_page, match.group(1))
        member_page.goto(match.group(1))
        expect(member_page.get_by_role("heading", level=1)).to_have_text(
            "You have already answered this survey"
        )
    finally:
        member_page.context.close()

    db.session.rollback()
    survey = db.session.scalars(select(Survey)).one()
    response = db.session.scalars(select(Response)).one()
    assert response.survey_id == survey.id
    assert response.member_id is None  # anonymous by default
    assert response.tier is Tier.SILVER
    answers = db.session.scalars(
        select(Answer).where(Answer.response_id == response.id)
    ).all()
    assert len(answers) == 9  # eight questions, two ticks on multiple choice
    assert "<b>More</b> evening clinics" in {a.text for a in answers}
    assert db.session.scalars(select(Invitation)).one().answered_at is not None

    # Four paper questionnaires come back too (fewer than 5 responses are never
    # shown); then the officer reads the response rate and the results.
    for _ in range(4):
        record_response(
            survey,
            full_answers(survey),
            source=ResponseSource.PAPER,
            now=utcnow(),
            entered_by=officer,
        )
    db.session.commit()
    page.goto(f"/surveys/{survey.id}")
    page.get_by_role("link", name="Results and response rate").click()
    rate = page.locator(".nhsuk-summary-list")
    expect(rate.first).to_contain_text("Members invited")
    expect(rate.first).to_contain_text("100.0%")
    body = page.locator("main")
    expect(body).to_contain_text("5 responses.")
    likely = page.locator(
        "section", has=page.get_by_role("heading", name=re.compile("How likely"))
    )
    expect(likely).to_contain_text("Net score: +100.0")
    agree = page.locator(
        "section", has=page.get_by_role("heading", name=re.compile("easy to use"))
    )
    expect(agree).to_contain_text("Mean: 4.00")
    assert_accessible(page)
    page.get_by_role(
        "link", name=re.compile("Read and search the answers to question 8")
    ).click()
    expect(page.locator("main")).to_contain_text("<b>More</b> evening clinics")
    assert_accessible(page)
