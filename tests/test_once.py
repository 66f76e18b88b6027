"""A create form sent twice (after going back, or a reload repeating the POST) makes
one record, and the second send leads to it."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func
from sqlalchemy import select

from engage import once
from engage.actions.models import Activity
from engage.extensions import db
from tests import factories


def _once(html: str) -> str:
    found = re.search(r'name="once" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def _deliveries() -> int:
    return db.session.scalar(select(func.count()).select_from(Activity)) or 0


def _delivery(once_value: str, description: str = "Sent to 412 practices") -> dict:
    return {
        "once": once_value,
        "occurred_on-day": "2",
        "occurred_on-month": "3",
        "occurred_on-year": "2026",
        "description": description,
    }


def test_a_delivery_sent_twice_is_logged_once(
    client: FlaskClient, login: Callable[..., Any], cast: dict[str, Any]
) -> None:
    action = factories.ActionFactory(owners=[cast["officer"]])
    login(cast["officer"])
    path = f"/actions/{action.id}/deliveries/new"
    value = _once(client.get(path).get_data(as_text=True))
    first = client.post(path, data=_delivery(value))
    assert first.status_code == 302
    assert _deliveries() == 1
    # Back to the form, and sent again: nothing new, and led to what was saved.
    again = client.post(path, data=_delivery(value, "Sent again"))
    assert again.status_code == 303
    assert again.headers["Location"] == first.headers["Location"]
    assert _deliveries() == 1
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "nothing new was saved" in page
    # The form opened anew is a new delivery.
    fresh = _once(client.get(path).get_data(as_text=True))
    assert fresh != value
    assert client.post(path, data=_delivery(fresh, "Sent again")).status_code == 302
    assert _deliveries() == 2


def test_a_form_sent_back_with_errors_keeps_its_value(
    client: FlaskClient, login: Callable[..., Any], cast: dict[str, Any]
) -> None:
    action = factories.ActionFactory(owners=[cast["officer"]])
    login(cast["officer"])
    path = f"/actions/{action.id}/deliveries/new"
    value = _once(client.get(path).get_data(as_text=True))
    refused = client.post(path, data=_delivery(value, description=""))
    assert refused.status_code == 200
    assert _once(refused.get_data(as_text=True)) == value
    assert _deliveries() == 0
    assert client.post(path, data=_delivery(value)).status_code == 302
    assert _deliveries() == 1


def test_an_unknown_or_malformed_value_is_no_bar(
    client: FlaskClient, login: Callable[..., Any], cast: dict[str, Any]
) -> None:
    action = factories.ActionFactory(owners=[cast["officer"]])
    login(cast["officer"])
    path = f"/actions/{action.id}/deliveries/new"
    for value in ("", "x", "<script>", "a" * 65, "b" * 16):
        assert client.post(path, data=_delivery(value)).status_code == 302
    assert _deliveries() == 5


def test_the_session_remembers_the_last_few_only(
    client: FlaskClient, login: Callable[..., Any], cast: dict[str, Any]
) -> None:
    action = factories.ActionFactory(owners=[cast["officer"]])
    login(cast["officer"])
    path = f"/actions/{action.id}/deliveries/new"
    values = [f"value-{n:02d}-abcdefghijk" for n in range(once.KEPT + 1)]
    for value in values:
        assert client.post(path, data=_delivery(value)).status_code == 302
    assert client.post(path, data=_delivery(values[-1])).status_code == 303
    # The oldest is forgotten: sent again, it is saved again.
    assert client.post(path, data=_delivery(values[0])).status_code == 302
    assert _deliveries() == once.KEPT + 2


def test_every_staff_create_page_carries_the_value(
    app: Flask, client: FlaskClient, login: Callable[..., Any], cast: dict[str, Any]
) -> None:
    """Each create address that a GET opens without anything else in place."""
    login(cast["admin"])
    opened = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.endswith("/new") or rule.arguments:
            continue
        if "GET" not in (rule.methods or set()):
            continue
        response = client.get(rule.rule)
        if response.status_code != 200:
            continue
        html = response.get_data(as_text=True)
        assert 'name="once"' in html, rule.rule
        opened += 1
    assert opened >= 15
