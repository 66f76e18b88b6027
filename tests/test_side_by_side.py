"""Read-only parts queried side by side, each on a connection of its own."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy import text
from sqlalchemy.orm import Mapper

from engage.clock import today
from engage.clock import utcnow
from engage.dashboard import periods
from engage.dashboard import services
from engage.dashboard.sections import Scope
from engage.extensions import db
from engage.server_timing import parse_header
from engage.side_by_side import read_side_by_side
from engage.surveys.disclosure import Purpose
from tests import factories
from tests.conftest import comparable


def _session_and_connection() -> tuple[int, int]:
    connection = db.session.connection().connection.dbapi_connection
    return id(db.session()), id(connection)


def test_parts_run_at_once_each_in_a_session_and_connection_of_its_own(
    app: Flask,
) -> None:
    app.config["READ_THREADS"] = 3
    # Each part waits for the other two: run one after another, they would not
    # meet (the barrier gives up after 10 s and every part fails).
    meet = threading.Barrier(3, timeout=10)

    def part(number: int) -> Callable[[], tuple[int, tuple[int, int], int]]:
        def read() -> tuple[int, tuple[int, int], int]:
            one = db.session.execute(text("SELECT 1")).scalar_one()
            meet.wait()  # each holding its connection
            return number, _session_and_connection(), one

        return read

    mine = _session_and_connection()  # the request's connection, held throughout
    found = read_side_by_side([part(0), part(1), part(2)])
    assert [number for number, _, _ in found] == [0, 1, 2]  # in the parts' order
    assert [one for _, _, one in found] == [1, 1, 1]
    sessions = {session for _, (session, _), _ in found}
    connections = {connection for _, (_, connection), _ in found}
    assert len(sessions) == len(connections) == 3
    assert mine[0] not in sessions
    assert mine[1] not in connections


def test_one_thread_runs_the_parts_in_order_in_the_callers_session(
    app: Flask,
) -> None:
    app.config["READ_THREADS"] = 1
    ran: list[int] = []

    def part(number: int) -> Callable[[], tuple[int, int]]:
        def read() -> tuple[int, int]:
            ran.append(number)
            return _session_and_connection()

        return read

    mine = _session_and_connection()
    assert read_side_by_side([part(0), part(1)]) == [mine, mine]
    assert ran == [0, 1]


def test_a_part_that_fails_fails_the_whole(app: Flask) -> None:
    app.config["READ_THREADS"] = 2

    def broken() -> int:
        raise LookupError("no such figure")

    with pytest.raises(LookupError, match="no such figure"):
        read_side_by_side([lambda: 1, broken])


def test_parts_see_what_was_committed(app: Flask) -> None:
    app.config["READ_THREADS"] = 2
    audience_id = factories.AudienceFactory(name="Westgate PCN").id  # committed
    names = read_side_by_side(
        [
            lambda: db.session.execute(
                text("SELECT name FROM audiences WHERE id = :id"), {"id": audience_id}
            ).scalar_one()
        ]
        * 2
    )
    assert names == ["Westgate PCN", "Westgate PCN"]


def test_the_dashboard_reads_its_sections_side_by_side_and_says_how_long(
    app: Flask,
    client: FlaskClient,
    login: Callable[..., Any],
    cast: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app.config["READ_THREADS"] = 3
    threads: dict[str, str] = {}
    names = [provider.__name__ for provider in services.SECTIONS]
    sections, writing = [], set()
    for provider in services.SECTIONS:

        def noted(scope: Any, provider: Any = provider) -> Any:
            threads[provider.__name__] = threading.current_thread().name
            return provider(scope)

        sections.append(noted)
        if provider in services.WRITING:
            writing.add(noted)
    monkeypatch.setattr(services, "SECTIONS", sections)
    monkeypatch.setattr(services, "WRITING", frozenset(writing))
    login(cast["admin"])
    response = client.get("/dashboard/")
    assert response.status_code == 200
    assert sorted(threads) == sorted(names)  # every section ran
    here = threading.current_thread().name
    # The one that writes (an audit event) ran in the request's thread, the others
    # in threads of their own.
    assert threads.pop("representativeness_section") == here
    assert here not in threads.values()
    times = parse_header(response.headers["Server-Timing"])
    assert times["parts"] > 0
    assert times["db"] + times["parts"] + times["render"] <= times["total"]


def test_the_requests_own_objects_are_loaded_before_the_parts_read_them(
    app: Flask, cast: dict[str, Any]
) -> None:
    """A commit expires the user and the programme the scope holds (here
    ``expire_all`` stands for it); the sections, each in its own thread, read them,
    and must not load them there (through the request's session, which is for one
    thread only)."""
    app.config["READ_THREADS"] = 3
    programme = factories.ProgrammeFactory()
    scope = Scope(
        period=periods.current(periods.PeriodKind.QUARTER, today()),
        today=today(),
        programme=programme,
        actor=cast["lead"],
        now=utcnow(),
        purpose=Purpose.TEAM,
    )
    loaded_in: list[str] = []

    def note_thread(target: Any, *_: Any) -> None:
        if target is programme or target is cast["lead"]:
            loaded_in.append(threading.current_thread().name)

    event.listen(Mapper, "refresh", note_thread)
    try:
        for _ in range(3):
            db.session.expire_all()
            sections = services.build_dashboard(scope)
            assert [s.key for s in sections][:2] == ["actions", "deliveries"]
    finally:
        event.remove(Mapper, "refresh", note_thread)
    # Both were loaded again after each expiry, each time in this thread.
    assert loaded_in == [threading.current_thread().name] * 6


@pytest.mark.parametrize("period", ["month", "year"])
def test_the_dashboard_side_by_side_shows_what_it_shows_one_after_another(
    app: Flask,
    demo: None,
    client: FlaskClient,
    login: Callable[..., Any],
    cast: dict[str, Any],
    period: str,
) -> None:
    login(cast["admin"])  # every section, the equality figures among them
    pages = {}
    for threads in (1, 3):
        app.config["READ_THREADS"] = threads
        response = client.get(f"/dashboard/?period={period}")
        assert response.status_code == 200
        pages[threads] = comparable(response)
    assert pages[1] == pages[3]
    assert "Involvement" in pages[3]
