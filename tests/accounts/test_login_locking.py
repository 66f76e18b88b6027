"""Signing in holds no SQLite write lock during the argon2 check (docs/security.md F5).

The load test (tests/faults/test_load.py) found sign-ups failing with "database is
locked" while officers signed in: the login POST started as a write transaction and
held SQLite's database-wide write lock through the slow password hash.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engage.accounts import services
from tests import factories


def test_other_writers_are_not_blocked_while_a_password_is_checked(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("sqlite:///"):
        pytest.skip("SQLite's database-wide write lock only")
    user = factories.UserFactory(role="officer")
    verify = services.verify_password
    seen: list[bool] = []

    def verify_while_someone_writes(*args: Any) -> bool:
        other = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=0)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            seen.append(True)
        except sqlite3.OperationalError:
            seen.append(False)
        finally:
            other.close()
        return verify(*args)

    monkeypatch.setattr(services, "verify_password", verify_while_someone_writes)
    response = client.post(
        "/login", data={"email": user.email, "password": factories.DEFAULT_PASSWORD}
    )
    assert response.status_code == 302
    assert seen == [True], "the login held the write lock during the password check"
    wrong = app.test_client().post(
        "/login", data={"email": user.email, "password": "wrong!"}
    )
    assert wrong.status_code == 200
    assert seen == [True, True]


def test_a_signed_in_users_post_holds_the_write_lock_from_the_start(
    make_app: Any,
) -> None:
    app = make_app()
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("sqlite:///"):
        pytest.skip("SQLite's database-wide write lock only")

    @app.post("/write-lock-test-only")
    def probe() -> str:
        other = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=0)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
        except sqlite3.OperationalError:
            return "held"
        finally:
            other.close()
        return "free"

    user = factories.UserFactory(role="officer")
    client = app.test_client()
    signed_in = client.post(
        "/login", data={"email": user.email, "password": factories.DEFAULT_PASSWORD}
    )
    assert signed_in.status_code == 302
    # Loading the user reads first; the request must still be a write transaction.
    assert client.post("/write-lock-test-only").get_data(as_text=True) == "held"
