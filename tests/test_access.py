"""Access control over every route and role; CSRF on every state change (B1, B4)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from tests.access_matrix import ALLOWED_ROLES
from tests.access_matrix import MATRIX
from tests.factories import DEFAULT_PASSWORD
from tests.factories import sign_in

ROLES = ["anonymous", "lead", "officer", "admin"]
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}

SAMPLE_VALUES = {"int": 1, "path": "images/favicon.ico", "default": "sample-value"}


def _rules(app: Flask) -> list[Rule]:
    return sorted(app.url_map.iter_rules(), key=lambda r: r.rule)


def _url(rule: Rule) -> str:
    values: dict[str, Any] = {}
    for name in rule.arguments:
        instance = rule._converters[name]
        converter = type(instance).__name__.lower()
        if "any" in converter:
            values[name] = sorted(instance.items)[0]
        elif "integer" in converter:
            values[name] = SAMPLE_VALUES["int"]
        elif "path" in converter:
            values[name] = SAMPLE_VALUES["path"]
        elif rule.endpoint == "static":
            values[name] = "css/engage.css"
        else:
            values[name] = SAMPLE_VALUES["default"]
    return rule.build(values, append_unknown=False)[1]


def _method(rule: Rule) -> str:
    return "GET" if "GET" in (rule.methods or set()) else "POST"


def _as(client: FlaskClient, role: str, cast: dict[str, Any]) -> FlaskClient:
    if role != "anonymous":
        response = sign_in(client, cast[role], DEFAULT_PASSWORD)
        assert response.status_code == 302
    return client


def test_every_route_is_in_the_matrix(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in _rules(app)}
    assert endpoints - MATRIX.keys() == set(), (
        "add new routes to tests/access_matrix.py"
    )
    assert MATRIX.keys() - endpoints == set(), "remove deleted routes from the matrix"


@pytest.mark.parametrize("role", ROLES)
def test_access_matches_the_matrix(
    app: Flask, client: FlaskClient, cast, role: str
) -> None:
    _as(client, role, cast)
    mismatches = []
    for rule in _rules(app):
        if rule.endpoint == "accounts.logout":
            continue  # would end this client's session; covered in test_sessions
        url, method = _url(rule), _method(rule)
        response = client.open(url, method=method)
        response.close()  # file responses (static, assets) hold an open file
        location = response.headers.get("Location", "")
        # 401: the JSON API wants a bearer token, whatever the session cookie.
        denied = response.status_code in (401, 403) or (
            response.status_code == 302 and location.startswith("/login")
        )
        allowed = role in ALLOWED_ROLES[MATRIX[rule.endpoint]]
        if allowed == denied:
            mismatches.append(
                f"{method} {url} as {role}: {response.status_code} {location}"
            )
        if denied and role != "anonymous":
            assert response.status_code in (401, 403), (
                f"{url}: signed-in users get 403, not a login page"
            )
    assert mismatches == []


def _csrf_token(client: FlaskClient) -> str:
    html = client.get("/account").get_data(as_text=True)
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
    assert match
    return match.group(1)


def test_every_state_change_needs_csrf_and_same_origin(
    app: Flask, client: FlaskClient, cast
) -> None:
    _as(client, "admin", cast)
    app.config["WTF_CSRF_ENABLED"] = True
    token = _csrf_token(client)
    checked = 0
    for rule in _rules(app):
        methods = (rule.methods or set()) & STATE_CHANGING
        if not methods:
            continue
        url = _url(rule)
        for method in methods:
            without = client.open(url, method=method, data={})
            assert without.status_code == 400, (
                f"{method} {url} accepted without a CSRF token"
            )
            foreign = client.open(
                url,
                method=method,
                data={"csrf_token": token},
                headers={"Origin": "https://evil.example"},
            )
            assert foreign.status_code == 403, (
                f"{method} {url} accepted from a foreign origin"
            )
            checked += 1
        # A POST-only address answers GET with 405 (unless a page shares it).
        shares = any(
            other.rule == rule.rule and "GET" in (other.methods or set())
            for other in app.url_map.iter_rules()
        )
        if "GET" not in (rule.methods or set()) and not shares:
            assert client.get(url).status_code == 405, f"GET {url} should be 405"
    assert checked >= 8


@pytest.mark.parametrize("role", ["anonymous", "admin"])
def test_pages_have_unique_element_ids(
    app: Flask, client: FlaskClient, cast, role: str
) -> None:
    """Duplicate ids break labels and error-summary links (WCAG 4.1.1 / 1.3.1)."""
    _as(client, role, cast)
    checked = 0
    for rule in _rules(app):
        if "GET" not in (rule.methods or set()) or rule.endpoint in (
            "static",
            "web.nhsuk_assets",
        ):
            continue
        response = client.get(_url(rule))
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        ids = re.findall(r'\bid="([^"]+)"', response.get_data(as_text=True))
        duplicates = {i for i in ids if ids.count(i) > 1}
        assert duplicates == set(), f"{rule.rule}: {duplicates}"
        checked += 1
    assert checked >= 2


def test_csrf_failure_is_a_friendly_page(app: Flask, client: FlaskClient) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post("/login", data={"email": "a@b.example", "password": "x"})
    assert response.status_code == 400
    assert "The form had expired" in response.get_data(as_text=True)
