"""The Server-Timing header: signed-in pages only, well formed (security C11)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask import render_template_string
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy import text

from engage import server_timing
from engage.extensions import db
from engage.server_timing import parse_header
from tests import factories
from tests.conftest import IsolatedClient

#: name;dur=<ms>;desc="<words>", three times, in this order.
WELL_FORMED = re.compile(
    r'db;dur=\d+\.\d;desc="Database", '
    r'render;dur=\d+\.\d;desc="Render", '
    r'total;dur=\d+\.\d;desc="Total"'
)


def test_a_signed_in_page_says_where_its_time_went(
    client: FlaskClient, login: Callable[..., Any], cast: dict[str, Any]
) -> None:
    login(cast["officer"])
    response = client.get("/audiences/")
    assert response.status_code == 200
    value = response.headers["Server-Timing"]
    assert WELL_FORMED.fullmatch(value), value
    times = parse_header(value)
    assert set(times) == {"db", "render", "total"}
    # The page queried the database (the user, the audiences) and drew a template.
    assert times["db"] > 0
    assert times["render"] > 0
    assert times["db"] + times["render"] <= times["total"]


def test_pages_for_visitors_not_signed_in_carry_no_timing(
    client: FlaskClient,
) -> None:
    for path in ("/login", "/join", "/no-such-page"):
        assert "Server-Timing" not in client.get(path).headers, path
    assert "Server-Timing" not in client.post("/join", data={}).headers


def test_no_timing_once_signed_out(
    client: FlaskClient, login: Callable[..., Any], cast: dict[str, Any]
) -> None:
    login(cast["officer"])
    client.post("/logout")
    assert "Server-Timing" not in client.get("/login").headers


class _Clock:
    """A stand-in for ``time.perf_counter`` that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def perf_counter(self) -> float:
        return self.now


def test_each_part_is_measured_and_queries_while_rendering_count_once(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app()
    app.test_client_class = IsolatedClient
    clock = _Clock()
    monkeypatch.setattr(server_timing, "time", clock)
    statements = []

    def each_statement_takes_10_ms(*_args: Any) -> None:
        statements.append(1)
        clock.now += 0.010

    def drawing_takes_4_ms() -> str:
        clock.now += 0.004
        return ""

    @app.get("/timing-test-only")
    def page() -> str:
        clock.now += 0.100  # the view's own work
        # The template draws for 4 ms and runs a query of its own.
        return render_template_string(
            "{{ draw() }}{{ query() }}",
            draw=drawing_takes_4_ms,
            query=lambda: db.session.execute(text("SELECT 1")).scalar(),
        )

    client = app.test_client()
    factories.sign_in(client, factories.UserFactory(role="officer"))
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", each_statement_takes_10_ms)
    statements.clear()
    response = client.get("/timing-test-only")
    times = parse_header(response.headers["Server-Timing"])
    assert len(statements) >= 2  # loading the user, and the template's query
    assert times["db"] == pytest.approx(10.0 * len(statements))
    assert times["render"] == pytest.approx(4.0)
    assert times["total"] == pytest.approx(100.0 + 4.0 + 10.0 * len(statements))


def test_timing_can_be_turned_off(make_app: Callable[..., Flask]) -> None:
    app = make_app(SERVER_TIMING=False)
    app.test_client_class = IsolatedClient
    client = app.test_client()
    factories.sign_in(client, factories.UserFactory(role="officer"))
    response = client.get("/audiences/")
    assert response.status_code == 200
    assert "Server-Timing" not in response.headers


def test_parse_header_reads_durations_and_skips_what_it_cannot() -> None:
    assert parse_header('db;dur=1.5;desc="Database", render;dur=x, total;dur=3') == {
        "db": 1.5,
        "total": 3.0,
    }
