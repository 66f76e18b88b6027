"""The private calendar feed: contents, tokens, revocation and the account page."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from icalendar import Calendar
from icalendar import Event
from sqlalchemy import select

from engage.accounts.models import User
from engage.actions import calendar
from engage.actions.models import Action
from engage.actions.models import ActionStatus
from engage.actions.models import CalendarToken
from engage.actions.models import Recurrence
from engage.actions.schedule import add_months
from engage.actions.services import ActionData
from engage.actions.services import create_action
from engage.actions.services import get_channel_by_name
from engage.actions.services import seed_channels
from engage.audit.models import AuditEvent
from engage.clock import utcnow
from engage.extensions import db
from tests.factories import UserFactory

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
TODAY = NOW.date()
BASE_URL = "http://engage.test"


@pytest.fixture
def owner() -> User:
    user: User = UserFactory(name="Olive Owner")
    return user


@pytest.fixture
def make_action(owner: User) -> Callable[..., Action]:
    """Create an action owned by ``owner`` (or ``owners``) through the services."""
    seed_channels(now=NOW)
    newsletter = get_channel_by_name("Newsletter")
    assert newsletter is not None

    def _make(
        title: str,
        due: date | None,
        *,
        owners: tuple[User, ...] | None = None,
        recurrence: Recurrence = Recurrence.NONE,
        status: ActionStatus = ActionStatus.PLANNED,
        timescale: str = "",
    ) -> Action:
        action = create_action(
            ActionData(
                title=title,
                channel_id=newsletter.id,
                owner_ids=tuple(u.id for u in (owners or (owner,))),
                due_date=due,
                recurrence=recurrence,
                status=status,
                timescale=timescale,
            ),
            actor="system",
            now=NOW,
        )
        db.session.commit()
        return action

    return _make


def _events(ics: bytes) -> list[Event]:
    return list(Calendar.from_ical(ics).events)


def _build(user: User, today: date = TODAY) -> list[Event]:
    return _events(calendar.build_calendar(user, today=today, base_url=BASE_URL))


def _feed_url(token: str) -> str:
    return f"/calendar/{token}.ics"


# Contents -----------------------------------------------------------------------------


def test_feed_serves_the_users_actions_as_parseable_icalendar(
    client: FlaskClient, owner: User, make_action: Callable[..., Action]
) -> None:
    make_action("Send the spring newsletter", utcnow().date() + timedelta(days=5))
    token = calendar.create_calendar_token(owner, now=utcnow())

    response = client.get(_feed_url(token))

    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert response.headers["Content-Disposition"] == (
        'inline; filename="engage-actions.ics"'
    )
    assert response.headers["Cache-Control"] == "no-store"
    parsed = Calendar.from_ical(response.data)
    assert [str(e.summary) for e in parsed.events] == ["Send the spring newsletter"]
    assert response.data.count(b"X-WR-CALNAME") == 1


def test_build_calendar_puts_a_due_date_on_an_all_day_event(
    owner: User, make_action: Callable[..., Action]
) -> None:
    make_action("Brief the governors", date(2026, 4, 2))

    (event,) = _build(owner)

    assert event.start == date(2026, 4, 2)
    assert event.end == date(2026, 4, 3)


def test_build_calendar_repeats_a_monthly_action_for_the_next_year(
    owner: User, make_action: Callable[..., Action]
) -> None:
    make_action("Monthly bulletin", date(2026, 3, 10), recurrence=Recurrence.MONTHLY)

    starts = [event.start for event in _build(owner)]

    assert starts == [add_months(date(2026, 3, 10), n) for n in range(12)]


def test_build_calendar_leaves_out_actions_owned_only_by_someone_else(
    owner: User, make_action: Callable[..., Action]
) -> None:
    colleague: User = UserFactory(name="Colin Colleague")
    make_action("Colleague's podcast", date(2026, 3, 20), owners=(colleague,))
    make_action("Shared roadshow", date(2026, 3, 21), owners=(owner, colleague))

    assert [str(e.summary) for e in _build(owner)] == ["Shared roadshow"]


def test_build_calendar_leaves_out_done_and_cancelled_actions(
    owner: User, make_action: Callable[..., Action]
) -> None:
    make_action("Finished leaflet", date(2026, 3, 5), status=ActionStatus.DONE)
    make_action("Dropped event", date(2026, 3, 6), status=ActionStatus.CANCELLED)
    make_action("Running survey", date(2026, 3, 7), status=ActionStatus.IN_PROGRESS)

    assert [str(e.summary) for e in _build(owner)] == ["Running survey"]


def test_build_calendar_links_each_event_to_its_action(
    owner: User, make_action: Callable[..., Action]
) -> None:
    action = make_action("Patient forum", date(2026, 3, 12), timescale="Every March")

    (event,) = _build(owner)

    url = f"http://engage.test/actions/{action.id}"
    assert event.url == url
    assert url in event.description
    assert "Channel: Newsletter" in event.description
    assert "Timescale: Every March" in event.description
    assert event.categories == ["Newsletter"]


def test_build_calendar_marks_past_dates_overdue(
    owner: User, make_action: Callable[..., Action]
) -> None:
    make_action("Late press release", date(2026, 2, 20))
    make_action("Timely press release", date(2026, 3, 1))

    summaries = [str(e.summary) for e in _build(owner)]

    assert summaries == ["Overdue: Late press release", "Timely press release"]


def test_build_calendar_gives_each_occurrence_a_stable_uid(
    owner: User, make_action: Callable[..., Action]
) -> None:
    action = make_action(
        "Weekly huddle", date(2026, 3, 2), recurrence=Recurrence.WEEKLY
    )

    first = [str(e.uid) for e in _build(owner)]
    again = [str(e.uid) for e in _build(owner)]

    assert first == again
    assert first[0] == f"action-{action.id}-20260302@engage.test"
    assert len(set(first)) == len(first)


# Tokens -------------------------------------------------------------------------------


def test_unknown_token_gets_404(client: FlaskClient) -> None:
    response = client.get(_feed_url("not-a-real-token"))

    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_regenerating_the_token_makes_the_old_url_404(
    client: FlaskClient, owner: User
) -> None:
    old = calendar.create_calendar_token(owner, now=NOW)
    new = calendar.create_calendar_token(owner, now=NOW)

    assert client.get(_feed_url(old)).status_code == 404
    assert client.get(_feed_url(new)).status_code == 200


def test_revoking_the_token_makes_the_url_404(client: FlaskClient, owner: User) -> None:
    token = calendar.create_calendar_token(owner, now=NOW)
    calendar.revoke_calendar_token(owner, now=NOW)

    assert client.get(_feed_url(token)).status_code == 404
    assert calendar.has_calendar_token(owner) is False


def test_revoking_without_a_token_records_nothing(owner: User) -> None:
    calendar.revoke_calendar_token(owner, now=NOW)

    assert db.session.scalars(select(AuditEvent)).all() == []


def test_token_is_stored_only_as_its_hash(owner: User) -> None:
    token = calendar.create_calendar_token(owner, now=NOW)
    db.session.commit()

    record = db.session.scalar(select(CalendarToken))
    assert record is not None
    assert record.token_hash == hashlib.sha256(token.encode()).hexdigest()
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)):
            assert token not in repr(tuple(row)), f"raw token found in {table.name}"


def test_deactivated_users_feed_gets_404(client: FlaskClient, owner: User) -> None:
    token = calendar.create_calendar_token(owner, now=NOW)
    owner.is_active = False

    assert client.get(_feed_url(token)).status_code == 404


def test_token_changes_are_audited(owner: User) -> None:
    calendar.create_calendar_token(owner, now=NOW)
    calendar.create_calendar_token(owner, now=NOW)
    calendar.revoke_calendar_token(owner, now=NOW)

    events = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.entity_type == "calendar_token")
        .order_by(AuditEvent.id)
    )
    assert [(e.action, e.actor_id) for e in events] == [
        ("create", owner.id),
        ("regenerate", owner.id),
        ("revoke", owner.id),
    ]


def test_feed_refuses_a_client_after_many_unknown_tokens(client: FlaskClient) -> None:
    statuses = [client.get(_feed_url(f"guess-{n}")).status_code for n in range(121)]

    assert statuses[:120] == [404] * 120
    assert statuses[120] == 429


def test_feed_refuses_a_link_fetched_too_often(
    client: FlaskClient, owner: User
) -> None:
    token = calendar.create_calendar_token(owner, now=NOW)

    statuses = [client.get(_feed_url(token)).status_code for _ in range(61)]

    assert statuses == [200] * 60 + [429]


# Account pages ------------------------------------------------------------------------


def test_create_token_without_login_redirects_to_login(client: FlaskClient) -> None:
    response = client.post("/account/calendar")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_create_token_without_csrf_token_is_refused(
    app: Flask, client: FlaskClient, login: Callable[..., Any], owner: User
) -> None:
    login(owner)
    app.config["WTF_CSRF_ENABLED"] = True

    response = client.post("/account/calendar")

    assert response.status_code == 400
    assert calendar.has_calendar_token(owner) is False


@pytest.mark.parametrize("role", ["admin", "officer", "lead"])
def test_create_token_shows_a_working_feed_url_once(
    client: FlaskClient, login: Callable[..., Any], cast: dict[str, Any], role: str
) -> None:
    login(cast[role])

    page = client.post("/account/calendar").get_data(as_text=True)

    match = re.search(r"http://engage\.test/calendar/([A-Za-z0-9_-]+)\.ics", page)
    assert match, "the page shows the full feed URL"
    assert "will not be shown again" in page
    assert client.get(f"/calendar/{match.group(1)}.ics").status_code == 200
    assert match.group(1) not in client.get("/account").get_data(as_text=True)


def test_revoke_view_stops_the_link_and_says_so(
    client: FlaskClient, login: Callable[..., Any], owner: User
) -> None:
    login(owner)
    token = calendar.create_calendar_token(owner, now=NOW)

    response = client.post("/account/calendar/revoke", follow_redirects=True)

    assert response.request.path == "/account"
    assert "Your calendar link no longer works." in response.get_data(as_text=True)
    assert client.get(_feed_url(token)).status_code == 404


def test_account_page_offers_the_calendar_link_buttons(
    client: FlaskClient, login: Callable[..., Any], owner: User
) -> None:
    login(owner)
    before = client.get("/account").get_data(as_text=True)
    calendar.create_calendar_token(owner, now=NOW)
    after = client.get("/account").get_data(as_text=True)

    assert "Create calendar link" in before
    assert "Stop my calendar link" not in before
    assert "Create a new link" in after
    assert "Stop my calendar link" in after
