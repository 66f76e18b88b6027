"""Action plan pages: the plan, forms, deliveries, ownership (security B2, C1)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from engage.actions.models import Action
from engage.actions.models import ActionStatus
from engage.actions.models import Recurrence
from engage.clock import today
from engage.clock import utcnow
from engage.extensions import db
from tests.factories import ActionFactory
from tests.factories import AudienceFactory
from tests.factories import ChannelFactory
from tests.factories import UserFactory
from tests.pager import pager_links

XSS = '<script>alert(1)</script>"><svg onload=alert(1)>{{7*7}}'


def test_officer_creates_a_monthly_action_with_two_owners(
    client: FlaskClient, login, cast
) -> None:
    channel = ChannelFactory()
    audience = AudienceFactory()
    second = UserFactory(name="Second Owner")
    login(cast["officer"])
    response = client.post(
        "/actions/new",
        data={
            "title": "PPI newsletter",
            "channel_id": str(channel.id),
            "audience_ids": [str(audience.id)],
            "owner_ids": [str(cast["officer"].id), str(second.id)],
            "recurrence": "monthly",
            "due_date": (utcnow().date() + timedelta(days=5)).isoformat(),
            "status": "planned",
            "success_measure": "Increased readership",
        },
    )
    assert response.status_code == 302
    action = db.session.scalar(select(Action).where(Action.title == "PPI newsletter"))
    assert action is not None
    assert {u.id for u in action.owners} == {cast["officer"].id, second.id}
    assert action.recurrence is Recurrence.MONTHLY
    assert action.next_due_date == utcnow().date() + timedelta(days=5)


def test_an_officer_who_leaves_themselves_out_of_the_owners_is_told(
    client: FlaskClient, login, cast
) -> None:
    channel = ChannelFactory()
    colleague = UserFactory(name="Cara Colleague")
    login(cast["officer"])
    response = client.post(
        "/actions/new",
        data={
            "title": "Briefing for Cara",
            "channel_id": str(channel.id),
            "owner_ids": [str(colleague.id)],
            "recurrence": "none",
            "status": "planned",
        },
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "Only its owners (Cara Colleague) and administrators can change" in page
    mine = client.post(
        "/actions/new",
        data={
            "title": "My own",
            "channel_id": str(channel.id),
            "owner_ids": [str(cast["officer"].id)],
            "recurrence": "none",
            "status": "planned",
        },
        follow_redirects=True,
    )
    assert "Only its owners" not in mine.get_data(as_text=True)


def test_a_save_after_someone_elses_is_shown_back_not_made(
    client: FlaskClient, login, cast
) -> None:
    """Two tabs on one action: the later save does not silently undo the earlier."""
    action = ActionFactory(title="Newsletter", owners=[cast["officer"]])
    login(cast["officer"])
    page = client.get(f"/actions/{action.id}/edit").get_data(as_text=True)
    opened = re.search(r'name="opened_at" type="hidden" value="([^"]+)"', page)
    assert opened is not None
    form = {
        "opened_at": opened.group(1),
        "title": "Newsletter (tab A)",
        "channel_id": str(action.channel_id),
        "owner_ids": [str(cast["officer"].id)],
        "recurrence": "none",
        "status": "planned",
    }
    # Tab B saves first.
    client.post(
        f"/actions/{action.id}/edit", data={**form, "title": "Newsletter (tab B)"}
    )
    db.session.refresh(action)
    assert action.title == "Newsletter (tab B)"
    # Tab A, opened before that, is shown back with what it typed.
    refused = client.post(f"/actions/{action.id}/edit", data=form)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 200
    assert "This action was saved at" in page
    assert 'value="Newsletter (tab A)"' in page
    db.session.refresh(action)
    assert action.title == "Newsletter (tab B)"
    # Looked over, the same form saved again goes through.
    newer = re.search(r'name="opened_at" type="hidden" value="([^"]+)"', page)
    assert newer is not None
    assert newer.group(1) != opened.group(1)
    saved = client.post(
        f"/actions/{action.id}/edit", data={**form, "opened_at": newer.group(1)}
    )
    assert saved.status_code == 302
    db.session.refresh(action)
    assert action.title == "Newsletter (tab A)"


def test_action_form_errors_keep_values(client: FlaskClient, login, cast) -> None:
    login(cast["officer"])
    response = client.post(
        "/actions/new",
        data={
            "title": "Kept title",
            "start_date": "2026-05-01",
            "due_date": "2026-04-01",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'href="#channel_id"' in html
    assert 'href="#due_date-day"' in html
    assert 'value="Kept title"' in html


def test_officer_cannot_change_an_action_owned_by_others(
    client: FlaskClient, login, cast
) -> None:
    other = UserFactory()
    action = ActionFactory(title="Theirs", owners=[other])
    login(cast["officer"])
    for method, path in [
        ("GET", f"/actions/{action.id}/edit"),
        ("POST", f"/actions/{action.id}/edit"),
        ("POST", f"/actions/{action.id}/status"),
        ("GET", f"/actions/{action.id}/deliveries/new"),
        ("POST", f"/actions/{action.id}/deliveries/new"),
    ]:
        response = client.open(
            path, method=method, data={"title": "Hijacked", "status": "cancelled"}
        )
        assert response.status_code == 403, (method, path)
        assert "Theirs" not in response.get_data(as_text=True)
    db.session.refresh(action)
    assert action.title == "Theirs"
    assert action.status is ActionStatus.PLANNED


def test_admin_may_change_any_action(client: FlaskClient, login, cast) -> None:
    action = ActionFactory(owners=[UserFactory()])
    login(cast["admin"])
    response = client.post(f"/actions/{action.id}/status", data={"status": "done"})
    assert response.status_code == 302
    db.session.refresh(action)
    assert action.status is ActionStatus.DONE


def test_lead_reads_but_cannot_edit(client: FlaskClient, login, cast) -> None:
    action = ActionFactory()
    login(cast["lead"])
    page = client.get(f"/actions/{action.id}").get_data(as_text=True)
    assert action.title in page
    assert "Log a delivery" not in page
    assert client.get(f"/actions/{action.id}/edit").status_code == 403


def test_logging_a_delivery_through_the_form(client: FlaskClient, login, cast) -> None:
    audience = AudienceFactory()
    today = utcnow().date()
    action = ActionFactory(
        recurrence=Recurrence.MONTHLY,
        next_due_date=today,
        audiences=[audience],
        owners=[cast["officer"]],
    )
    login(cast["officer"])
    form = client.get(f"/actions/{action.id}/deliveries/new").get_data(as_text=True)
    assert f'value="{audience.id}" checked' in form  # the action's audiences by default
    response = client.post(
        f"/actions/{action.id}/deliveries/new",
        data={
            "occurred_on": today.isoformat(),
            "description": "Sent",
            "audience_ids": [str(audience.id)],
            "figures-0-measure": "recipients",
            "figures-0-number": "412",
        },
    )
    assert response.status_code == 302
    db.session.refresh(action)
    assert action.next_due_date is not None
    assert action.next_due_date > today
    detail = client.get(f"/actions/{action.id}").get_data(as_text=True)
    assert "recipients 412" in detail


def test_each_bad_figure_has_one_message_naming_it(
    client: FlaskClient, login, cast
) -> None:
    """A wrong number says which figure it is and what would do, once, beside its
    box and in the summary; nothing typed is lost."""
    action = ActionFactory(owners=[cast["officer"]])
    login(cast["officer"])
    sent = {
        "occurred_on": utcnow().date().isoformat(),
        "description": "Sent",
        "figures-0-measure": "recipients",
        "figures-0-number": "-5",
        "figures-1-measure": "opens",
        "figures-1-number": "99999999999999999999",
        "figures-2-measure": "clicks",
        "figures-2-number": "3.5",
        "figures-3-number": "40",
    }
    response = client.post(f"/actions/{action.id}/deliveries/new", data=sent)
    assert response.status_code == 200  # the form again, with its problems
    page = response.get_data(as_text=True)
    for message in (
        "The number for recipients must be 0 or more",
        "The number for opens must be 2,147,483,647 or less",
        "The number for clicks must be a whole number, like 412",
        "Say what the number 40 counts",
    ):
        # Once in the summary (linked to its box) and once beside the box.
        assert page.count(message) == 2, message
    for wrong in ("Number must be at least", "Not a valid integer", "between -"):
        assert wrong not in page
    for value in ("-5", "99999999999999999999", "3.5", "40"):
        assert f'value="{value}"' in page


def test_user_text_is_escaped_on_plan_pages(client: FlaskClient, login, cast) -> None:
    audience = AudienceFactory(name=XSS)
    action = ActionFactory(
        title=XSS + " action",
        audiences=[audience],
        responsibility=XSS,
        success_measure=XSS,
    )
    login(cast["officer"])
    for path in (
        "/actions/",
        f"/actions/{action.id}",
        "/audiences/",
        f"/audiences/{audience.id}",
        "/map/",
    ):
        html = client.get(path).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in html, path
        assert "<svg onload" not in html, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, path
        assert "{{7*7}}" in html, path  # shown as typed, never evaluated


def test_month_calendar_shows_recurrences(client: FlaskClient, login, cast) -> None:
    ActionFactory(
        title="Weekly bulletin",
        recurrence=Recurrence.WEEKLY,
        next_due_date=today().replace(day=1),
    )
    login(cast["lead"])
    html = client.get(f"/actions/calendar?month={today():%Y-%m}").get_data(as_text=True)
    assert html.count("Weekly bulletin") >= 8  # grid and list, four or five weeks each


@pytest.mark.parametrize("month", ["not-a-month", "9999-12", "0001-01", "2026-13"])
def test_a_month_that_cannot_be_shown_shows_this_month(
    client: FlaskClient, login: Any, cast: dict[str, Any], month: str
) -> None:
    login(cast["lead"])
    response = client.get(f"/actions/calendar?month={month}")
    assert response.status_code == 200
    assert f"<h1>{today():%B %Y}</h1>" in response.get_data(as_text=True)


def test_my_actions_lists_only_mine(client: FlaskClient, login, cast) -> None:
    ActionFactory(title="Owned by me", owners=[cast["officer"]])
    ActionFactory(title="Owned by someone else", owners=[UserFactory()])
    login(cast["officer"])
    html = client.get("/actions/mine").get_data(as_text=True)
    assert "Owned by me" in html
    assert "Owned by someone else" not in html
    # One section is the current one in the header: "My actions", not the plan too.
    current = re.findall(r'href="([^"]+)" aria-current="page"', html)
    assert current == ["/actions/mine"]
    plan = client.get("/actions/").get_data(as_text=True)
    assert re.findall(r'href="([^"]+)" aria-current="page"', plan) == ["/actions/"]


def test_plan_paginates(client: FlaskClient, login, cast) -> None:
    for i in range(30):
        ActionFactory(title=f"Action number {i:02d}")
    login(cast["lead"])
    first = client.get("/actions/?sort=title").get_data(as_text=True)
    assert "30 actions" in first
    assert "Action number 24" in first
    assert "Action number 25" not in first
    links = pager_links(first)
    assert "sort=title" in links["next"]
    second = client.get(links["next"]).get_data(as_text=True)
    assert "30 actions" in second
    assert "Action number 24" not in second
    assert "Action number 25" in second
    assert "Action number 29" in second
    assert "next" not in pager_links(second)
    back = client.get(pager_links(second)["previous"]).get_data(as_text=True)
    assert "Action number 00" in back
    assert "Action number 24" in back
    # An old page-numbered link shows the first page; the last page is one link.
    assert "Action number 00" in client.get("/actions/?sort=title&page=2").text
    last = client.get(links["last"]).get_data(as_text=True)
    assert "Action number 29" in last
    assert "Action number 04" not in last
    # The pages follow the order chosen, the other way too.
    down = client.get("/actions/?sort=title&order=desc").get_data(as_text=True)
    assert "Action number 29" in down
    assert "Action number 04" not in down
    rest = client.get(pager_links(down)["next"]).get_data(as_text=True)
    assert "order=desc" in pager_links(rest)["previous"]
    assert "Action number 04" in rest
    assert "Action number 00" in rest
    assert "Action number 05" not in rest


def test_admin_manages_channels(client: FlaskClient, login, cast) -> None:
    login(cast["admin"])
    assert (
        client.post(
            "/actions/channels/new", data={"name": "Podcast", "is_active": "y"}
        ).status_code
        == 302
    )
    assert "Podcast" in client.get("/actions/channels").get_data(as_text=True)
    duplicate = client.post("/actions/channels/new", data={"name": "podcast"})
    assert "already exists" in duplicate.get_data(as_text=True)


def test_editing_an_action_keeps_its_other_audiences(
    client: FlaskClient, login, cast
) -> None:
    action = ActionFactory(title="Stakeholder newsletter", audience_note="Stakeholders")
    login(cast["admin"])
    form = client.get(f"/actions/{action.id}/edit").get_data(as_text=True)
    assert 'value="Stakeholders"' in form
    response = client.post(
        f"/actions/{action.id}/edit",
        data={
            "title": "Stakeholder newsletter",
            "channel_id": str(action.channel_id),
            "audience_note": "Stakeholders",
            "recurrence": "none",
            "status": "planned",
        },
    )
    assert response.status_code == 302
    db.session.refresh(action)
    assert action.audience_note == "Stakeholders"
