"""Sessions: cookie flags, fixation, revocation, time-outs (docs/security.md A1–A3)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import time_machine
from flask import Flask
from flask.testing import FlaskClient

from engage.clock import utcnow
from engage.extensions import db
from tests.conftest import make_test_config
from tests.factories import DEFAULT_PASSWORD
from tests.factories import UserFactory


def _session_cookie(response, name: str = "engage_session") -> str:
    headers = [
        h for h in response.headers.getlist("Set-Cookie") if h.startswith(name + "=")
    ]
    assert headers, f"no {name} cookie set"
    return headers[-1]


def test_login_cookie_is_httponly_lax_and_changes(
    app: Flask, client: FlaskClient
) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    user = UserFactory()
    client.get("/login")  # the form's CSRF token creates an anonymous session
    before = client.get_cookie("engage_session")
    assert before is not None
    from flask_wtf.csrf import generate_csrf

    with client.session_transaction() as sess:
        token_session = dict(sess)
    with app.test_request_context():
        from flask import session

        session.update(token_session)
        token = generate_csrf()
    response = client.post(
        "/login",
        data={"email": user.email, "password": DEFAULT_PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    cookie = _session_cookie(response)
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    after = client.get_cookie("engage_session")
    assert after is not None
    assert after.value != before.value


def test_production_cookie_is_secure_with_host_prefix(
    database_url: str, make_app: Callable[..., Flask]
) -> None:
    app = make_app(
        {
            **make_test_config(database_url),
            "TESTING": False,
            "ENVIRONMENT": "production",
            "DATABASE_URL": database_url,
            "SECRET_KEY": "x" * 40,
            "BASE_URL": "https://engage.example.nhs.uk",
            "SMTP_URL": "smtp://127.0.0.1:2525",
        }
    )
    with app.app_context():
        user = UserFactory()
        client = app.test_client()
        response = client.post(
            "/login",
            data={"email": user.email, "password": DEFAULT_PASSWORD},
            base_url="https://engage.example.nhs.uk",
        )
        assert response.status_code == 302
        cookie = _session_cookie(response, "__Host-engage_session")
        assert "Secure" in cookie
        assert "HttpOnly" in cookie
        assert "Path=/" in cookie
        assert "Domain" not in cookie
        assert "max-age=31536000" in response.headers["Strict-Transport-Security"]


def test_replayed_cookie_after_logout_is_refused(client: FlaskClient, login) -> None:
    user = UserFactory()
    login(user)
    copied = client.get_cookie("engage_session").value
    assert client.get("/").status_code == 200
    assert client.post("/logout").status_code == 302
    client.set_cookie("engage_session", copied)
    response = client.get("/admin/users")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert client.get("/").status_code == 302


def test_deactivated_user_is_refused_on_next_request(
    client: FlaskClient, login
) -> None:
    user = UserFactory()
    login(user)
    assert client.get("/").status_code == 200
    user.is_active = False
    db.session.commit()
    assert client.get("/").status_code == 302


def test_password_change_signs_out_other_sessions(app: Flask) -> None:
    user = UserFactory()
    other = app.test_client()
    other.post("/login", data={"email": user.email, "password": DEFAULT_PASSWORD})
    assert other.get("/").status_code == 200
    client = app.test_client()
    client.post("/login", data={"email": user.email, "password": DEFAULT_PASSWORD})
    response = client.post(
        "/account",
        data={
            "current_password": DEFAULT_PASSWORD,
            "new_password": "a fresh and unusual passphrase",
        },
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200  # this session was renewed
    assert other.get("/").status_code == 302  # the other one is gone


def test_idle_timeout_requires_login_again(client: FlaskClient, login) -> None:
    user = UserFactory()
    with time_machine.travel(utcnow(), tick=False) as traveller:
        login(user)
        traveller.shift(timedelta(minutes=29))
        assert client.get("/").status_code == 200
        traveller.shift(timedelta(minutes=31))
        response = client.get("/")
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")


def test_absolute_timeout_despite_activity(client: FlaskClient, login) -> None:
    user = UserFactory()
    with time_machine.travel(utcnow(), tick=False) as traveller:
        login(user)
        for _ in range(35):  # 35 × 20 min = 11 h 40 min of steady activity
            traveller.shift(timedelta(minutes=20))
            assert client.get("/").status_code == 200
        traveller.shift(timedelta(minutes=21))  # 12 h 1 min after login
        assert client.get("/").status_code == 302


def test_page_offers_timeout_warning_with_extend_action(
    client: FlaskClient, login
) -> None:
    login(UserFactory())
    html = client.get("/").get_data(as_text=True)
    assert 'id="session-timeout"' in html
    assert 'action="/session/extend"' in html
    status = client.get("/session/status").get_json()
    assert status["signed_in"] is True
    assert 29 * 60 < status["seconds_left"] <= 30 * 60
    assert status["warning_seconds"] == 300


def test_extend_keeps_session_alive(client: FlaskClient, login) -> None:
    user = UserFactory()
    with time_machine.travel(utcnow(), tick=False) as traveller:
        login(user)
        traveller.shift(timedelta(minutes=27))
        status = client.get("/session/status").get_json()
        assert status["seconds_left"] <= 3 * 60  # the probe does not count as activity
        response = client.post(
            "/session/extend", headers={"Accept": "application/json"}
        )
        assert 30 * 60 - 2 <= response.get_json()["seconds_left"] <= 30 * 60
        traveller.shift(timedelta(minutes=27))
        assert client.get("/").status_code == 200
