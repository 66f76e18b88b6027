"""Each role's home: leads the dashboard, officers a to-do list, admins health too."""

from __future__ import annotations

from datetime import UTC
from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient

from engage.clock import start_of_day
from engage.clock import today
from engage.clock import utcnow
from engage.extensions import db
from engage.mail.models import MailStatus
from engage.mail.models import OutboxMessage
from engage.metrics.models import Feed
from engage.scheduling.models import JobRun
from engage.scheduling.models import RunOutcome
from engage.scheduling.models import RunTrigger
from engage.surveys.models import Survey
from engage.surveys.models import SurveyStatus
from tests.factories import ActionFactory
from tests.factories import AudienceFactory
from tests.factories import UserFactory


def test_a_lead_lands_on_the_dashboard(
    client: FlaskClient, login: Any, cast: dict[str, Any]
) -> None:
    login(cast["lead"])
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard/"
    nav = client.get("/dashboard/").get_data(as_text=True)
    assert ">Dashboard<" in nav


def test_an_officers_home_is_their_to_do_list(
    client: FlaskClient, login: Any, cast: dict[str, Any]
) -> None:
    officer = cast["officer"]
    now = utcnow()
    day = today()
    ActionFactory(
        title="Send the newsletter",
        next_due_date=day - timedelta(days=2),
        owners=[officer],
    )
    ActionFactory(
        title="Patient forum", next_due_date=day + timedelta(days=3), owners=[officer]
    )
    ActionFactory(title="Someone else's", next_due_date=day, owners=[cast["admin"]])
    AudienceFactory(name="Local MPs", created_at=now - timedelta(days=400))
    closes = start_of_day(day + timedelta(days=4)).astimezone(UTC)
    db.session.add_all(
        [
            Survey(
                title="Stroke services survey",
                status=SurveyStatus.OPEN,
                closes_at=closes,
                created_at=now,
                updated_at=now,
            ),
            Survey(
                title="Closes next month",
                status=SurveyStatus.OPEN,
                closes_at=closes + timedelta(days=30),
                created_at=now,
                updated_at=now,
            ),
            Feed(
                url="https://news.example/rss",
                name="Local news",
                failures=5,
                created_at=now,
                updated_at=now,
            ),
        ]
    )
    db.session.commit()

    login(officer)
    html = client.get("/").get_data(as_text=True)
    assert "Your overdue actions (1)" in html
    assert "Send the newsletter" in html
    assert "Your actions due in the next 7 days (1)" in html
    assert "Patient forum" in html
    assert "Someone else&#39;s" not in html
    assert "Local MPs" in html  # never contacted, created long ago: due
    assert "Stroke services survey" in html
    assert "Closes next month" not in html
    assert "Local news</a>: 5 failures in a row" in html
    assert "has not been made yet" in html  # last month's reach report
    assert "System health" not in html  # admins only


def test_an_admins_home_adds_the_systems_health(
    client: FlaskClient, login: Any, cast: dict[str, Any]
) -> None:
    now = utcnow()
    db.session.add_all(
        [
            OutboxMessage(
                to_address="a@example.org",
                subject="Waiting",
                body_text="",
                status=MailStatus.QUEUED,
            ),
            JobRun(
                job="poll-feeds",
                trigger=RunTrigger.SCHEDULE,
                started_at=now - timedelta(hours=2),
                outcome=RunOutcome.FAILED,
                error="boom",
            ),
            JobRun(
                job="old-failure",
                trigger=RunTrigger.SCHEDULE,
                started_at=now - timedelta(days=3),
                outcome=RunOutcome.FAILED,
            ),
        ]
    )
    db.session.commit()
    login(cast["admin"])
    html = client.get("/").get_data(as_text=True)
    assert "System health" in html
    assert "no scheduler has ever reported" in html
    assert "1 email waiting to be sent" in html
    assert "poll-feeds" in html
    assert "old-failure" not in html


def test_an_officer_with_nothing_due_sees_no_empty_lists(
    client: FlaskClient, login: Any
) -> None:
    login(UserFactory(role="officer"))
    html = client.get("/").get_data(as_text=True)
    assert "Your to-do list" in html
    assert "Your overdue actions" not in html
    assert "Audiences due for contact" not in html
    assert "Surveys closing soon" not in html
