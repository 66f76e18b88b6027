"""Dashboard and board report in Chromium: charts with JS, tables always, axe."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from playwright.sync_api import expect

from engage import clock
from engage.actions.models import Activity
from engage.actions.models import ReachFigure
from engage.clock import utcnow
from engage.extensions import db
from engage.membership.models import ConsentMethod
from engage.membership.models import Member
from engage.membership.models import MemberStatus
from engage.membership.models import Tier
from engage.metrics.models import Feed
from engage.metrics.models import Mention
from engage.metrics.models import Metric
from engage.metrics.models import MetricKind
from engage.metrics.models import Observation
from engage.metrics.models import Source
from engage.metrics.models import TargetPeriod
from engage.metrics.models import Tone
from engage.surveys.models import Delivery
from engage.surveys.models import Finding
from engage.surveys.models import Invitation
from engage.surveys.models import Response
from engage.surveys.models import ResponseSource
from engage.surveys.models import Survey
from engage.surveys.models import SurveyStatus
from tests.factories import DEFAULT_PASSWORD
from tests.factories import ActionFactory
from tests.factories import AudienceFactory
from tests.factories import ChannelFactory
from tests.factories import UserFactory


def _sign_in(page: Any, user: Any) -> None:
    page.goto("/login")
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")


def _data() -> None:
    now = utcnow()
    gps = AudienceFactory(name="GPs and practice teams")
    for index, channel in enumerate(["Newsletter", "Event"]):
        action = ActionFactory(
            title=f"Action {channel}",
            channel=ChannelFactory(name=channel),
            next_due_date=now.date() - timedelta(days=3 * index),
        )
        activity = Activity(
            action_id=action.id,
            occurred_on=now.date() - timedelta(days=index),
            description=f"{channel} delivered",
            notes="Well received",
            created_at=now,
            figures=[ReachFigure(label="recipients", value=100 * (index + 1))],
        )
        activity.audiences = [gps]
        db.session.add(activity)
    for index in range(3):
        db.session.add(
            Member(
                name=f"Member {index}",
                email=f"m{index}@example.org",
                tier=Tier.GOLD,
                status=MemberStatus.ACTIVE,
                joined_by=ConsentMethod.WEB_FORM,
                created_at=now - timedelta(days=1),
                updated_at=now,
                confirmed_at=now - timedelta(days=1),
            )
        )
    _reach_and_surveys()
    db.session.commit()


def _reach_and_surveys() -> None:
    """A metric with observations, mentions, a survey with responses, a finding."""
    now = utcnow()
    radio = ChannelFactory(name="Local radio")
    metric = Metric(
        key="radio-listeners",
        name="Radio listeners",
        kind=MetricKind.FLOW,
        target_value=500,
        target_period=TargetPeriod.MONTH,
        channel_id=radio.id,
    )
    db.session.add(metric)
    feed = Feed(url="https://news.example/rss", name="Local news")
    survey = Survey(
        title="Access to GP services",
        status=SurveyStatus.OPEN,
        opens_at=now - timedelta(days=5),
        closes_at=now + timedelta(days=5),
    )
    db.session.add_all([feed, survey])
    db.session.flush()
    for index, tone in enumerate([Tone.POSITIVE, Tone.NEGATIVE, None]):
        day = now.date() - timedelta(days=index)
        db.session.add(
            Observation(
                metric_id=metric.id,
                observed_on=day,
                value=120 * (index + 1),
                source=Source.MANUAL,
                recorded_at=now,
            )
        )
        db.session.add(
            Mention(
                feed_id=feed.id,
                guid=f"story-{index}",
                published_on=day,
                title=f"Story {index}",
                tone=tone,
                found_at=now,
            )
        )
        db.session.add(
            Invitation(
                survey_id=survey.id,
                token_hash=f"{index:064d}",
                delivery=Delivery.EMAIL,
                created_at=now,
                sent_at=now,
                answered_at=now if index else None,
            )
        )
        db.session.add(
            Response(survey_id=survey.id, submitted_on=day, source=ResponseSource.WEB)
        )
    db.session.add(
        Finding(
            survey_id=survey.id,
            theme="Access",
            you_said="Booking by phone takes too long",
            we_did="Added online booking",
            published=True,
        )
    )


def _check_figures_page(page: Any, *, cards: bool = True) -> None:
    from tests.browser.conftest import assert_accessible

    expect(page.locator("#table-reach_by_channel")).to_contain_text("Newsletter")
    expect(page.locator("#table-members_by_tier")).to_contain_text("Gold")
    expect(page.locator("#table-metrics_by_channel")).to_contain_text("Local radio")
    expect(page.locator("#table-metrics_targets")).to_contain_text("Radio listeners")
    expect(page.locator("#table-mentions_by_tone")).to_contain_text("Positive")
    expect(page.locator("#table-survey_response_rates")).to_contain_text(
        "Access to GP services"
    )
    for key in ("metrics_trend", "mentions_trend", "survey_responses_trend"):
        expect(page.locator(f"#table-{key}")).to_be_attached()
    if cards:  # the board report has its headline figures in one table instead
        # Our stylesheet applies: headline figures are cards in rows, numbers large.
        expect(page.locator(".engage-figures").first).to_have_css("display", "grid")
        expect(page.locator(".engage-figure__value").first).to_have_css(
            "font-size", "36px"
        )
    expect(page.locator(".engage-chart").first).to_have_css("height", "280px")
    assert_accessible(page)


def test_dashboard_draws_charts_and_is_accessible(page: Any) -> None:
    _data()
    console_errors: list[str] = []
    page.on(
        "console",
        lambda message: (
            console_errors.append(message.text) if message.type == "error" else None
        ),
    )
    _sign_in(page, UserFactory(role="lead"))  # a lead lands on the dashboard
    expect(page.get_by_role("heading", level=1)).to_contain_text("Engagement dashboard")
    expect(page.locator(".engage-chart canvas").first).to_be_visible()
    charts = page.locator(".engage-chart canvas").count()
    # Actions, deliveries (2), audiences, members (2), metrics (2), mentions (2),
    # survey responses: each chart drawn over its table.
    assert charts == page.locator(".engage-chart").count() >= 11
    _check_figures_page(page)
    # The period filter works from the keyboard-accessible form.
    page.get_by_text("Choose the period and programme").click()
    page.get_by_role("radio", name="Year", exact=True).check()
    expect(page.get_by_label("Which year")).to_be_visible()
    page.get_by_role("button", name="Show figures").click()
    expect(page.locator("h1")).to_contain_text(str(utcnow().year))
    expect(page.locator(".engage-chart canvas").first).to_be_visible()
    # Nothing refused or broken: no font fetched from elsewhere against our CSP.
    assert console_errors == []


def test_board_report_prints_and_is_accessible(page: Any) -> None:
    _data()
    _sign_in(page, UserFactory(role="lead"))
    page.goto("/dashboard/board-report")
    expect(page.get_by_role("heading", level=1)).to_contain_text("report to the board")
    expect(page.get_by_role("button", name="Print this report")).to_be_visible()
    expect(page.locator("[data-print-note]")).to_be_hidden()
    expect(page.locator(".engage-evidence")).to_contain_text("Well received")
    expect(page.locator("#table-you-said-we-did")).to_contain_text(
        "Added online booking"
    )
    expect(page.locator("#table-headline")).to_contain_text("Radio listeners")
    _check_figures_page(page, cards=False)
    page.emulate_media(media="print")
    expect(page.locator(".nhsuk-header")).to_be_hidden()
    # The first page is a page of its own; charts give way to their tables.
    expect(page.locator(".engage-board-first-page")).to_have_css("break-after", "page")
    expect(page.locator(".engage-chart").first).to_be_hidden()
    expect(page.get_by_role("button", name="Print this report")).to_be_hidden()
    expect(page.locator(".engage-evidence")).to_be_visible()


def test_without_javascript_tables_stay_and_no_canvas(page_without_js: Any) -> None:
    _data()
    page = page_without_js
    _sign_in(page, UserFactory(role="lead"))
    page.goto("/dashboard/")
    expect(page.locator("#table-deliveries_trend")).to_be_visible()
    assert page.locator("canvas").count() == 0
    page.goto("/dashboard/board-report")
    expect(page.locator("[data-print-note]")).to_be_visible()
    expect(page.get_by_role("button", name="Print this report")).to_be_hidden()


def test_periods_are_chosen_from_menus_and_a_part_month_is_marked(page: Any) -> None:
    from tests.browser.conftest import assert_accessible

    _data()
    today = clock.today()
    _sign_in(page, UserFactory(role="lead"))
    page.goto("/dashboard/")
    page.get_by_text("Choose the period and programme").click()
    # The quarter's menu shows; the others are revealed by their radio.
    expect(page.get_by_label("Which quarter")).to_be_visible()
    expect(page.get_by_label("Which month")).to_be_hidden()
    page.get_by_role("radio", name="Month", exact=True).check()
    month_menu = page.get_by_label("Which month")
    expect(month_menu).to_be_visible()
    options = month_menu.locator("option")
    first = options.first.inner_text()
    assert first.startswith(f"{today:%B %Y}")  # the current month, newest first
    last_month = options.nth(1)
    month_menu.select_option(last_month.get_attribute("value"))
    chosen = last_month.inner_text()
    page.get_by_role("button", name="Show figures").click()
    expect(page.locator("h1")).to_contain_text(chosen)
    expect(page.locator("main")).to_contain_text(f"Figures for {chosen}, compared")
    # A custom range ending next month is counted to date, and its month under way
    # (unless today is its last day) is labelled and drawn apart.
    start = (today.replace(day=1) - timedelta(days=100)).replace(day=1)
    end = today + timedelta(days=40)
    page.goto(f"/dashboard/?period=custom&start={start}&end={end}")
    expect(page.locator("h1")).to_contain_text("(to date)")
    expect(page.locator("main")).to_contain_text("compared with")
    if (today + timedelta(days=1)).month == today.month:
        row = f"{today:%b %Y} (to date)"
        expect(page.locator("#table-deliveries_trend")).to_contain_text(row)
        canvas = page.locator(".engage-chart canvas").nth(1)
        expect(canvas).to_have_attribute("aria-label", re.compile("to date"))
    assert_accessible(page)


def test_period_menus_work_without_javascript(page_without_js: Any) -> None:
    page = page_without_js
    _sign_in(page, UserFactory(role="lead"))
    page.goto("/dashboard/")
    page.get_by_text("Choose the period and programme").click()
    # Every menu shows; the radio says which one counts.
    for menu in ("Which month", "Which quarter", "Which year"):
        expect(page.get_by_label(menu)).to_be_visible()
    page.get_by_role("radio", name="Year", exact=True).check()
    year_menu = page.get_by_label("Which year")
    year_menu.select_option(index=1)
    page.get_by_role("button", name="Show figures").click()
    expect(page.locator("h1")).to_contain_text(str(utcnow().year - 1))
