"""The demo shows the product, reads as current on any date and loads safely twice."""

from __future__ import annotations

import time
from collections import Counter
from datetime import date
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func
from sqlalchemy import select

from engage.accounts.models import Role
from engage.accounts.models import User
from engage.actions.models import Action
from engage.actions.models import ActionStatus
from engage.actions.models import Activity
from engage.actions.models import Channel
from engage.actions.models import ReachFigure
from engage.actions.services import is_overdue
from engage.actions.services import is_unscheduled
from engage.audiences.models import Approach
from engage.audiences.models import Audience
from engage.audiences.models import AudienceContact
from engage.audiences.services import HIGH
from engage.audiences.services import contact_statuses
from engage.audiences.services import list_audiences
from engage.audiences.services import suggest_approach
from engage.audit.models import AuditEvent
from engage.clock import today
from engage.clock import utcnow
from engage.demo import DEMO_USERS
from engage.demo import load_demo
from engage.extensions import db
from engage.membership.equality import SUPPRESS_BELOW
from engage.membership.models import ConsentMethod
from engage.membership.models import EqualityAnswers
from engage.membership.models import Member
from engage.membership.models import MemberStatus
from engage.membership.models import Tier
from engage.metrics.models import Feed
from engage.metrics.models import Mention
from engage.metrics.models import Metric
from engage.metrics.models import Observation
from engage.metrics.models import ReportPeriod
from engage.metrics.models import Tone
from engage.metrics.report import compute_reach
from engage.metrics.report import last_complete_period
from engage.metrics.report import reach_rows
from engage.surveys.demo import GP_TITLE
from engage.surveys.models import Answer
from engage.surveys.models import Finding
from engage.surveys.models import Invitation
from engage.surveys.models import Response
from engage.surveys.models import Survey
from engage.surveys.models import SurveyStatus

#: Every table the demo writes to: loading again must leave each count as it was.
COUNTED = (
    User,
    Channel,
    Audience,
    AudienceContact,
    Action,
    Activity,
    ReachFigure,
    Member,
    EqualityAnswers,
    Survey,
    Invitation,
    Response,
    Finding,
    Metric,
    Observation,
    Feed,
    Mention,
    AuditEvent,
)


def _counts() -> dict[str, int]:
    db.session.rollback()
    return {
        model.__name__: db.session.scalar(select(func.count()).select_from(model)) or 0
        for model in COUNTED
    }


def test_loading_twice_adds_nothing_and_is_quick(app: Flask) -> None:
    runner = app.test_cli_runner()
    started = time.monotonic()
    first = runner.invoke(args=["load-demo"])
    took = time.monotonic() - started
    assert first.exit_code == 0, first.output
    before = _counts()
    second = runner.invoke(args=["load-demo"])
    assert second.exit_code == 0, second.output
    assert _counts() == before
    assert before["Channel"] == 13  # the defaults: the demo adds none of its own
    assert before["Action"] >= 20
    assert before["Activity"] >= 80
    assert before["Member"] >= 80
    assert before["Mention"] >= 20
    # Quick enough for `make run`, even on a busy test machine.
    assert took < 60


def _fingerprint() -> list[Any]:
    """What the random choices decide: reach figures, answers, members, values.

    By names, never by database ids (a PostgreSQL sequence may not start again at 1).
    """
    db.session.rollback()
    return [
        sorted(
            (f.activity.action.title, f.activity.occurred_on, f.label, f.value)
            for f in db.session.scalars(select(ReachFigure))
        ),
        sorted(
            (
                a.question.text,
                a.number,
                a.choice and a.choice.label,
                a.text,
                a.response.submitted_on,
            )
            for a in db.session.scalars(select(Answer))
        ),
        sorted(
            (m.name, m.tier, m.created_at.date(), m.equality and m.equality.age_band)
            for m in db.session.scalars(select(Member))
        ),
        sorted(
            (o.metric.key, o.observed_on, o.value)
            for o in db.session.scalars(select(Observation))
        ),
    ]


def test_the_demo_is_the_same_every_time(app: Flask) -> None:
    now = utcnow()
    load_demo(now=now)
    db.session.commit()
    first = _fingerprint()
    db.session.remove()
    db.drop_all()
    db.create_all()
    load_demo(now=now)
    db.session.commit()
    again = _fingerprint()
    for part, (was, now_is) in enumerate(zip(first, again, strict=True)):
        lost, gained = Counter(was) - Counter(now_is), Counter(now_is) - Counter(was)
        assert not lost, (part, sorted(lost)[:5])
        assert not gained, (part, sorted(gained)[:5])


def _quadrant(audience: Audience) -> str:
    high_influence, high_interest = (
        audience.influence >= HIGH,
        audience.interest >= HIGH,
    )
    if high_influence and high_interest:
        return "key players"
    if high_influence:
        return "keep satisfied"
    return "keep informed" if high_interest else "monitor"


@pytest.mark.usefixtures("demo")
def test_audiences_fill_every_quadrant_and_some_are_due_for_contact() -> None:
    audiences = list_audiences()
    quadrants = Counter(_quadrant(a) for a in audiences)
    assert set(quadrants) == {
        "key players",
        "keep satisfied",
        "keep informed",
        "monitor",
    }
    assert min(quadrants.values()) >= 4, quadrants
    for audience in audiences:
        # The officer's chosen approach agrees with the grid's suggestion.
        assert audience.approach is suggest_approach(
            audience.influence, audience.interest
        ), audience.name
        assert audience.owner is not None
    assert sum(len(a.contacts) for a in audiences) >= 4
    statuses = contact_statuses(audiences, today=today())
    due = [a for a in audiences if statuses[a.id].is_due]
    assert 3 <= len(due) < len(audiences)
    assert {a.approach for a in due} >= {Approach.MANAGE, Approach.MONITOR}


@pytest.mark.usefixtures("demo")
def test_actions_have_owners_of_each_role_and_a_mix_of_states() -> None:
    actions = list(db.session.scalars(select(Action)))
    assert all(action.owners for action in actions)
    owners = {user.email for action in actions for user in action.owners}
    assert owners == {login.email for login in DEMO_USERS}
    roles = Counter(u.role for u in db.session.scalars(select(User)))
    assert roles == {Role.ADMIN: 1, Role.OFFICER: 2, Role.LEAD: 1}
    day = today()
    assert sum(is_overdue(a, day) for a in actions) >= 2
    assert sum(is_unscheduled(a) for a in actions) >= 1
    statuses = Counter(a.status for a in actions)
    assert statuses[ActionStatus.DONE] >= 2
    assert statuses[ActionStatus.CANCELLED] >= 1
    on_track = [
        a
        for a in actions
        if a.status.is_open and a.next_due_date is not None and a.next_due_date >= day
    ]
    assert len(on_track) >= 5


def _month(day: date) -> tuple[int, int]:
    return day.year, day.month


@pytest.mark.usefixtures("demo")
def test_deliveries_run_through_the_last_twelve_months_with_reach_figures() -> None:
    day = today()
    activities = list(db.session.scalars(select(Activity)))
    assert all(a.occurred_on < day for a in activities)
    # Nothing older than the plan itself (set up 400 days ago).
    recent = [a for a in activities if a.occurred_on >= day - timedelta(days=400)]
    assert len(recent) == len(activities)
    last_twelve = set()
    for back in range(1, 13):
        index = day.year * 12 + day.month - 1 - back
        last_twelve.add((index // 12, index % 12 + 1))
    months = {_month(a.occurred_on) for a in recent} & last_twelve
    assert len(months) >= 10, sorted(months)
    labels = Counter(f.label for a in activities for f in a.figures)
    assert set(labels) == {
        "recipients",
        "opens",
        "clicks",
        "attendances",
        "impressions",
        "visits",
    }
    for activity in activities:
        figures = {f.label: f.value for f in activity.figures}
        if "opens" in figures:
            assert figures["opens"] <= figures["recipients"]
    assert all(a.audiences for a in activities if a.action.audiences)


@pytest.mark.usefixtures("demo")
def test_the_members_survey_has_over_40_responses_findings_and_equality_groups() -> (
    None
):
    surveys = {s.title: s for s in db.session.scalars(select(Survey))}
    counts = dict(
        db.session.execute(
            select(Response.survey_id, func.count()).group_by(Response.survey_id)
        ).all()
    )
    closed = [s for s in surveys.values() if s.status is SurveyStatus.CLOSED]
    assert len(closed) == 1
    survey = closed[0]
    assert not survey.anonymous
    assert counts[survey.id] >= 40
    assert survey.results_published
    found = list(
        db.session.scalars(select(Finding).where(Finding.survey_id == survey.id))
    )
    assert len(found) >= 3
    assert all(f.published and f.actions and f.we_did for f in found)
    invited = (
        db.session.scalar(select(func.count()).where(Invitation.survey_id == survey.id))
        or 0
    )
    assert counts[survey.id] < invited  # a response rate below 100 %
    # Respondents' equality answers: some groups large enough to show, some so
    # small that a breakdown must suppress them.
    ages = Counter(
        db.session.scalars(
            select(EqualityAnswers.age_band)
            .join(Response, Response.member_id == EqualityAnswers.member_id)
            .where(Response.survey_id == survey.id)
        )
    )
    assert any(n >= SUPPRESS_BELOW for n in ages.values()), ages
    assert any(0 < n < SUPPRESS_BELOW for n in ages.values()), ages
    # And one survey open now, answered by the public.
    [open_now] = [s for s in surveys.values() if s.status is SurveyStatus.OPEN]
    assert open_now.anonymous
    assert open_now.public_token
    assert counts[open_now.id] >= 20


@pytest.mark.usefixtures("demo")
def test_mentions_come_in_every_tone_and_are_stored_not_fetched() -> None:
    [feed] = db.session.scalars(select(Feed))
    assert not feed.active
    tones = Counter(m.tone for m in db.session.scalars(select(Mention)))
    assert tones[Tone.POSITIVE] >= 5
    assert tones[Tone.NEUTRAL] >= 5
    assert tones[Tone.NEGATIVE] >= 3
    assert tones[None] >= 1  # still to be rated by an officer
    days = {m.published_on for m in db.session.scalars(select(Mention))}
    assert max(days) <= today()
    assert min(days) >= today() - timedelta(days=365)


@pytest.mark.usefixtures("demo")
def test_metrics_meet_some_targets_and_miss_others() -> None:
    period = last_complete_period(ReportPeriod.MONTH, today())
    figures: dict[str, Any] = compute_reach(reach_rows(period), period)
    statuses = {m["key"]: m["status"] for m in figures["metrics"]}
    assert set(statuses.values()) == {"met", "not met"}, statuses
    assert Counter(statuses.values())["met"] >= 2
    assert Counter(statuses.values())["not met"] >= 2
    for metric in db.session.scalars(select(Metric)):
        assert metric.target_value is not None
        months = {_month(o.observed_on) for o in metric.observations}
        assert len(months) >= 11, metric.key  # a year: monthly or weekly
    # Each at its stage: event attendance is an outtake, so never counted as reach.
    stages = {m.key: m.stage.value for m in db.session.scalars(select(Metric))}
    assert stages == {
        "newsletter-readers": "output",
        "event-attendance": "outtake",
        "web-visits": "output",
        "social-followers": "output",
    }


@pytest.mark.usefixtures("demo")
def test_members_of_both_tiers_joined_through_the_year_some_with_support_needs() -> (
    None
):
    members = list(db.session.scalars(select(Member)))
    active = [m for m in members if m.status is MemberStatus.ACTIVE]
    tiers = Counter(m.tier for m in active)
    assert tiers[Tier.GOLD] >= 15
    assert tiers[Tier.SILVER] >= 30
    year_ago = utcnow() - timedelta(days=365)
    months = {_month(m.created_at.date()) for m in members if m.created_at >= year_ago}
    assert len(months) >= 10
    assert 3 <= sum(bool(m.support_needs) for m in active) <= 10


@pytest.mark.usefixtures("demo")
def test_members_who_joined_online_have_the_history_of_an_online_join() -> None:
    """Their record, consents and history agree: registered by a member of the
    public online (and confirmed, unless still pending), never "joined by phone"."""
    online = list(
        db.session.scalars(
            select(Member).where(Member.joined_by == ConsentMethod.WEB_FORM)
        )
    )
    assert online
    for member in online:
        events = [
            (e.actor_label, e.action, e.summary)
            for e in db.session.scalars(
                select(AuditEvent)
                .where(
                    AuditEvent.entity_type == "member",
                    AuditEvent.entity_id == str(member.id),
                )
                .order_by(AuditEvent.occurred_at, AuditEvent.id)
            )
        ]
        pending = member.status is MemberStatus.PENDING
        joined = "joined online, awaiting confirmation" if pending else "joined online"
        assert events[0] == ("public", "register", joined)
        assert (("public", "confirm", "email confirmed") in events) is not pending
        given = {r.method for r in member.consents if r.granted}
        assert given == {ConsentMethod.WEB_FORM}


@pytest.mark.usefixtures("demo")
def test_an_admin_can_break_the_members_survey_down_by_age(
    client: FlaskClient, login: Any, cast: dict[str, Any]
) -> None:
    survey = db.session.scalar(select(Survey).where(Survey.title == GP_TITLE))
    assert survey is not None
    satisfied = survey.questions[1]
    login(cast["admin"])
    page = client.get(
        f"/surveys/{survey.id}/results/crosstab"
        f"?question={satisfied.id}&by=equality:age_band"
    )
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    table = text[text.index("<table") :]
    assert "65 to 74" in table  # a group large enough to show
    assert "fewer than 5" in table  # and small counts suppressed


@pytest.mark.usefixtures("demo")
def test_the_starter_templates_and_a_draft_newsletter_are_there_to_try() -> None:
    from engage.mailings.models import Mailing
    from engage.mailings.models import MailingStatus
    from engage.mailings.models import MailingTemplate

    names = set(db.session.scalars(select(MailingTemplate.name)))
    assert names == {"PPI newsletter", "GP bulletin", "Stakeholder newsletter"}
    (draft,) = db.session.scalars(select(Mailing))
    assert draft.status is MailingStatus.DRAFT
    assert draft.action is not None
    assert draft.action.title == "Members' newsletter"
    assert draft.template is not None
    assert draft.body == draft.template.body
