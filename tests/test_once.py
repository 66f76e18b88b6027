"""A create form sent again with the same details soon after (going back to it and
sending it again, or a reload repeating the POST) makes one record, and leads to it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func
from sqlalchemy import select

from engage import once
from engage.actions.models import Activity
from engage.clock import utcnow
from engage.extensions import db
from tests import factories


def _deliveries() -> int:
    return db.session.scalar(select(func.count()).select_from(Activity)) or 0


def _delivery(description: str = "Sent to 412 practices", **more: str) -> dict:
    return {
        "csrf_token": "differs on every page",
        "occurred_on-day": "2",
        "occurred_on-month": "3",
        "occurred_on-year": "2026",
        "description": description,
        **more,
    }


def _officer_on_an_action(login: Callable[..., Any], cast: dict[str, Any]) -> str:
    action = factories.ActionFactory(owners=[cast["officer"]])
    login(cast["officer"])
    return f"/actions/{action.id}/deliveries/new"


def test_a_delivery_sent_twice_is_logged_once(
    client: FlaskClient, login: Callable[..., Any], cast: dict[str, Any]
) -> None:
    path = _officer_on_an_action(login, cast)
    first = client.post(path, data=_delivery())
    assert first.status_code == 302
    assert _deliveries() == 1
    # The same details sent again: nothing new, and led to what was saved.
    again = client.post(path, data=_delivery(csrf_token="another page's"))
    assert again.status_code == 303
    assert again.headers["Location"] == first.headers["Location"]
    assert _deliveries() == 1
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "so nothing new was saved" in page
    # Something changed: a second delivery.
    changed = client.post(path, data=_delivery(notes="The second round"))
    assert changed.status_code == 302
    assert _deliveries() == 2


def test_the_same_details_later_are_a_new_record(
    client: FlaskClient, login: Callable[..., Any], cast: dict[str, Any]
) -> None:
    path = _officer_on_an_action(login, cast)
    assert client.post(path, data=_delivery()).status_code == 302
    with time_machine.travel(utcnow() + once.WINDOW + timedelta(seconds=1)):
        assert client.post(path, data=_delivery()).status_code == 302
    assert _deliveries() == 2


def test_a_form_refused_is_not_remembered(
    client: FlaskClient, login: Callable[..., Any], cast: dict[str, Any]
) -> None:
    path = _officer_on_an_action(login, cast)
    assert client.post(path, data=_delivery(description="")).status_code == 200
    assert client.post(path, data=_delivery(description="")).status_code == 200
    assert client.post(path, data=_delivery()).status_code == 302
    assert _deliveries() == 1


def test_the_session_remembers_the_last_few_saves_only(
    client: FlaskClient, login: Callable[..., Any], cast: dict[str, Any]
) -> None:
    path = _officer_on_an_action(login, cast)
    sent = [_delivery(f"Round {n}") for n in range(once.KEPT + 1)]
    for form in sent:
        assert client.post(path, data=form).status_code == 302
    assert client.post(path, data=sent[-1]).status_code == 303
    # The oldest is forgotten: sent again, it is saved again.
    assert client.post(path, data=sent[0]).status_code == 302
    assert _deliveries() == once.KEPT + 2


def test_other_people_and_other_addresses_are_not_held_back(
    app: Flask, client: FlaskClient, login: Callable[..., Any], cast: dict[str, Any]
) -> None:
    path = _officer_on_an_action(login, cast)
    assert client.post(path, data=_delivery()).status_code == 302
    # Another action's form with the same details is another delivery.
    other = factories.ActionFactory(owners=[cast["officer"]])
    elsewhere = f"/actions/{other.id}/deliveries/new"
    assert client.post(elsewhere, data=_delivery()).status_code == 302
    # Another person (another session) sending the same is not held back.
    colleague = app.test_client()
    factories.sign_in(colleague, cast["admin"])
    assert colleague.post(path, data=_delivery()).status_code == 302
    assert _deliveries() == 3
