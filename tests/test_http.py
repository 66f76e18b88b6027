"""Headers, error pages and request checks on every response (security C1, C7)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engage import create_app
from engage.config import ConfigurationError
from tests.conftest import make_test_config


def test_security_headers_on_pages(client: FlaskClient) -> None:
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    script_src = next(
        part for part in csp.split(";") if part.strip().startswith("script-src")
    )
    assert "'unsafe-inline'" not in script_src
    assert "'nonce-" in script_src
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"


def test_inline_script_carries_this_requests_nonce(client: FlaskClient) -> None:
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    nonce = csp.split("'nonce-")[1].split("'")[0]
    assert f'<script nonce="{nonce}">' in response.get_data(as_text=True)


def test_debug_is_off(app: Flask) -> None:
    assert app.debug is False


def test_nul_byte_is_a_400_not_a_500(client: FlaskClient) -> None:
    assert (
        client.post(
            "/login", data={"email": "a\x00@b.example", "password": "x"}
        ).status_code
        == 400
    )
    assert client.get("/login?next=/a%00b").status_code == 400


def test_unknown_page_is_a_friendly_404(client: FlaskClient) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_a_form_sent_for_something_deleted_says_so(
    client: FlaskClient, login: Any, cast: dict[str, Any]
) -> None:
    """Edited in one tab after it was deleted in another: not "check the address"."""
    from tests.factories import AudienceFactory

    audience = AudienceFactory()
    login(cast["officer"])
    gone = audience.id + 1000
    response = client.post(f"/audiences/{gone}/edit", data={"name": "Renamed"})
    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "This is no longer here" in page
    assert "may have been deleted since you opened it" in page
    assert "If you typed the web address" not in page


def test_the_public_are_not_sent_to_the_staff_sign_in_from_an_error(
    client: FlaskClient, login: Any, cast: dict[str, Any]
) -> None:
    """A member of the public with a link that no longer works is offered the
    organisation's website, not Engage's home page (a staff sign-in)."""
    from engage.organisation.defaults import SAMPLE

    page = client.get("/no-such-page").get_data(as_text=True)
    assert "Go to the Engage home page" not in page
    assert f'href="{SAMPLE.website}">Go to the {SAMPLE.name} website' in page
    login(cast["officer"])
    page = client.get("/no-such-page").get_data(as_text=True)
    assert "Go to the Engage home page" in page


def test_unhandled_error_is_a_generic_500_without_traceback(make_app) -> None:
    app = make_app()

    @app.get("/boom-test-only")
    def boom() -> str:
        raise RuntimeError("secret internal detail")

    response = app.test_client().get("/boom-test-only")
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in html
    assert "secret internal detail" not in html
    assert "Traceback" not in html


def test_too_large_upload_is_413(app: Flask, client: FlaskClient) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = client.post("/login", data={"email": "x" * 4096, "password": "y"})
    assert response.status_code == 413


def test_healthz_reports_database(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "database": "ok",
        "scheduler_heartbeat_age_seconds": None,  # no scheduler has run
    }


def test_nhsuk_assets_are_served_where_the_css_expects_them(
    client: FlaskClient,
) -> None:
    response = client.get("/assets/images/nhsuk-icon-arrow-up.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    response.close()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"SECRET_KEY": "short"}, "ENGAGE_SECRET_KEY must be at least 32"),
        ({"DATABASE_URL": None}, "ENGAGE_DATABASE_URL must be set"),
        (
            {"BASE_URL": "http://engage.example"},
            "ENGAGE_BASE_URL must be the public https://",
        ),
        ({"ENVIRONMENT": "staging"}, "ENGAGE_ENVIRONMENT must be"),
        ({"SMTP_URL": None}, "ENGAGE_SMTP_URL must be set"),
        (
            {"POSTGRESQL_SYNCHRONOUS_COMMIT": "sometimes"},
            "ENGAGE_POSTGRESQL_SYNCHRONOUS_COMMIT must be one of local, off, on",
        ),
        ({"READ_THREADS": 0}, "ENGAGE_READ_THREADS must be a whole number"),
        ({"READ_THREADS": "3"}, "ENGAGE_READ_THREADS must be a whole number"),
        ({"READ_THREADS": True}, "ENGAGE_READ_THREADS must be a whole number"),
    ],
)
def test_production_config_fails_fast(
    database_url: str, overrides: dict, message: str
) -> None:
    config = {
        **make_test_config(database_url),
        "TESTING": False,
        "ENVIRONMENT": "production",
        "SECRET_KEY": "k" * 40,
        "DATABASE_URL": database_url,
        "BASE_URL": "https://engage.example.nhs.uk",
        "SMTP_URL": "smtp://127.0.0.1:2525",
        **overrides,
    }
    with pytest.raises(ConfigurationError, match=message):
        create_app(config)


def test_environment_variables_configure_the_app(
    monkeypatch: pytest.MonkeyPatch, database_url: str, make_app
) -> None:
    monkeypatch.setenv("ENGAGE_SESSION_IDLE_MINUTES", "20")
    monkeypatch.setenv("ENGAGE_SMTP_URL", "smtp://mail.example:25")
    app = make_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "k"})
    assert app.config["SESSION_IDLE_MINUTES"] == 20
    assert app.config["SMTP_URL"] == "smtp://mail.example:25"
