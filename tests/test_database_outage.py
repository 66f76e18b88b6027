"""A database or disk that fails mid-request gets the 503 page (security F3, F4).

The fault tests in tests/faults/ restart a real PostgreSQL and fill a real disk; these
fast tests pin what they found: the 503 page itself queried the signed-in user (and
failed again), a rollback on a connection the server had closed escaped from the
request teardown as a bare 500 from gunicorn, and a full disk outside the database
(the XLSX export's temporary file) was a 500 instead of "try again later".
"""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from engage.extensions import db


def _outage() -> OperationalError:
    return OperationalError(
        "SELECT", {}, Exception("the database system is shutting down")
    )


def test_signed_in_user_gets_the_503_page_when_the_database_is_down(
    client: FlaskClient,
    login: Any,
    cast: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    login(cast["officer"])

    def down(*args: Any, **kwargs: Any) -> Any:
        raise _outage()

    monkeypatch.setattr(db.session, "get", down)
    response = client.get("/members/")
    html = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "Sorry, the service is unavailable" in html
    assert "Traceback" not in html


def test_connection_lost_at_the_end_of_a_request_keeps_the_response(
    make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app()
    broken = {"armed": False}
    close = Session.close

    def close_on_dead_connection(self: Session) -> None:
        if broken["armed"]:
            broken["armed"] = False
            raise _outage()
        close(self)

    @app.get("/drop-connection-test-only")
    def drop() -> str:
        db.session.execute(db.select(1))
        broken["armed"] = True
        return "served"

    monkeypatch.setattr(Session, "close", close_on_dead_connection)
    response = app.test_client().get("/drop-connection-test-only")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "served"
    assert broken["armed"] is False


def test_full_disk_outside_the_database_is_a_503(make_app: Any) -> None:
    app = make_app()

    @app.get("/disk-full-test-only")
    def disk_full() -> str:
        raise OSError(28, "No space left on device")

    response = app.test_client().get("/disk-full-test-only")
    assert response.status_code == 503
    assert "Sorry, the service is unavailable" in response.get_data(as_text=True)
