"""Signing in: enumeration, throttling, redirects, auditing (security A4, A7, C6)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import pytest
from argon2 import PasswordHasher
from argon2 import extract_parameters
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from engage.accounts import passwords
from engage.audit.models import AuditEvent
from engage.extensions import db
from tests.conftest import comparable
from tests.conftest import make_test_config
from tests.factories import DEFAULT_PASSWORD
from tests.factories import UserFactory


def test_login_with_correct_password_redirects_home(client: FlaskClient) -> None:
    user = UserFactory()
    response = client.post(
        "/login", data={"email": user.email.upper(), "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_unknown_email_and_wrong_password_look_identical(client: FlaskClient) -> None:
    user = UserFactory()
    unknown = client.post(
        "/login",
        data={"email": "nobody@trust.example", "password": "wrong password here"},
    )
    wrong = client.post(
        "/login", data={"email": user.email, "password": "wrong password here"}
    )
    assert unknown.status_code == wrong.status_code == 200
    # Only the email typed is echoed back; with it removed, the pages are identical.
    assert comparable(unknown, "nobody@trust.example") == comparable(wrong, user.email)
    assert "Enter a correct email address and password" in wrong.get_data(as_text=True)


class _RecordingHasher(PasswordHasher):
    """The suite's argon2 hasher, noting the cost of every hash it verifies."""

    def __init__(self, like: PasswordHasher) -> None:
        super().__init__(
            time_cost=like.time_cost,
            memory_cost=like.memory_cost,
            parallelism=like.parallelism,
            hash_len=like.hash_len,
            salt_len=like.salt_len,
        )
        self.verified: list[tuple[int, int, int]] = []

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        cost = extract_parameters(hash if isinstance(hash, str) else hash.decode())
        self.verified.append((cost.time_cost, cost.memory_cost, cost.parallelism))
        return super().verify(hash, password)


def test_unknown_inactive_and_known_logins_do_the_same_work(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/security.md A7: each attempt verifies one argon2 hash of one cost.

    The work is counted rather than timed: a skipped hash is a whole argon2 run
    missing from one kind of attempt, which a count shows on any machine, busy or
    not (the suite's argon2 is cheap, so a timing could not).
    """
    user = UserFactory()
    UserFactory(email="inactive@trust.example", is_active=False)
    client.application.config["LOGIN_LIMIT_PER_ACCOUNT"] = "1000 per minute"
    client.application.config["LOGIN_LIMIT_PER_CLIENT"] = "1000 per minute"
    hasher = _RecordingHasher(passwords._hasher)
    monkeypatch.setattr(passwords, "_hasher", hasher)
    work = {}
    for email in ("nobody@trust.example", "inactive@trust.example", user.email):
        hasher.verified.clear()
        client.post("/login", data={"email": email, "password": "wrong password"})
        work[email] = list(hasher.verified)
    # A stored password's cost, as a real account's hash has it.
    stored = extract_parameters(user.password_hash)
    one_hash = [(stored.time_cost, stored.memory_cost, stored.parallelism)]
    assert work == dict.fromkeys(work, one_hash)


def test_deactivated_user_cannot_sign_in(client: FlaskClient) -> None:
    user = UserFactory(is_active=False)
    response = client.post(
        "/login", data={"email": user.email, "password": DEFAULT_PASSWORD}
    )
    wrong = client.post(
        "/login", data={"email": user.email, "password": "wrong password here"}
    )
    assert response.status_code == wrong.status_code == 200
    # The right password gets the same answer as a wrong one.
    assert comparable(response) == comparable(wrong)
    assert "Enter a correct email address and password" in response.get_data(
        as_text=True
    )
    # Not signed in: staff pages still send them to sign in.
    home = client.get("/")
    assert home.status_code == 302
    assert home.headers["Location"].startswith("/login")
    db.session.refresh(user)
    assert user.last_login_at is None
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.entity_id == str(user.id))
    ).all()
    assert actions == ["login_failed", "login_failed"]


def test_forgot_password_answers_the_same_for_known_and_unknown(
    client: FlaskClient, outbox
) -> None:
    user = UserFactory()
    known = client.post("/forgot-password", data={"email": user.email})
    unknown = client.post("/forgot-password", data={"email": "nobody@trust.example"})
    assert known.status_code == unknown.status_code == 200
    assert comparable(known) == comparable(unknown)
    messages = outbox()
    assert [m.to_address for m in messages] == [user.email]


def test_eleven_wrong_passwords_from_many_addresses_are_throttled(
    client: FlaskClient,
) -> None:
    user = UserFactory()
    statuses = [
        client.post(
            "/login",
            data={"email": user.email, "password": f"wrong guess {i}"},
            headers={"X-Forwarded-For": f"198.51.100.{i}"},
            environ_base={"REMOTE_ADDR": f"203.0.113.{i}"},
        ).status_code
        for i in range(11)
    ]
    assert statuses[:10] == [200] * 10
    assert statuses[10] == 429


def test_throttle_counts_only_failures_and_recovers(
    app: Flask, client: FlaskClient
) -> None:
    import time_machine

    from engage.clock import utcnow

    user = UserFactory()
    with time_machine.travel(utcnow(), tick=False) as traveller:
        for i in range(10):
            client.post(
                "/login", data={"email": user.email, "password": f"wrong guess {i}"}
            )
        assert (
            client.post(
                "/login", data={"email": user.email, "password": DEFAULT_PASSWORD}
            ).status_code
            == 429
        )
        traveller.shift(16 * 60)
        # No lasting lock-out: the owner gets in once the window has passed.
        response = client.post(
            "/login", data={"email": user.email, "password": DEFAULT_PASSWORD}
        )
        assert response.status_code == 302


def test_per_client_throttle(app: Flask, client: FlaskClient) -> None:
    app.config["LOGIN_LIMIT_PER_CLIENT"] = "5 per 15 minutes"
    statuses = [
        client.post(
            "/login", data={"email": f"n{i}@x.example", "password": "nope nope nope"}
        ).status_code
        for i in range(6)
    ]
    assert statuses == [200] * 5 + [429]


def test_throttle_is_shared_between_workers_through_redis(
    database_url: str, make_app: Callable[..., Flask]
) -> None:
    """Two app instances (two gunicorn workers) share one Redis count."""
    redis = pytest.importorskip("redis")
    try:
        redis.Redis(host="127.0.0.1", port=6379, socket_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    config = {
        **make_test_config(database_url),
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/15",
        "LOGIN_LIMIT_PER_ACCOUNT": "4 per 15 minutes",
    }
    workers = [make_app(config), make_app(config)]
    redis.Redis(host="127.0.0.1", port=6379, db=15).flushdb()
    # Read the address now: the factory's session must not load it inside a worker.
    email = UserFactory().email
    statuses = []
    for i in range(5):
        worker = workers[i % 2]
        with worker.app_context():
            statuses.append(
                worker.test_client()
                .post("/login", data={"email": email, "password": "wrong guess"})
                .status_code
            )
    redis.Redis(host="127.0.0.1", port=6379, db=15).flushdb()
    assert statuses == [200, 200, 200, 200, 429]


def test_login_success_and_failure_are_audited(client: FlaskClient) -> None:
    user = UserFactory()
    client.post("/login", data={"email": user.email, "password": "wrong password here"})
    client.post("/login", data={"email": user.email, "password": DEFAULT_PASSWORD})
    actions = db.session.scalars(
        select(AuditEvent.action).order_by(AuditEvent.id)
    ).all()
    assert actions == ["login_failed", "login"]


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example",
        "//evil.example",
        "/\\evil.example",
        "https:evil.example",
        "%2F%2Fevil.example",
        "javascript:x",
        "/\r\nSet-Cookie:x",
        "\t//evil.example",
    ],
)
def test_next_never_leaves_the_site(client: FlaskClient, target: str) -> None:
    user = UserFactory()
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"email": user.email, "password": DEFAULT_PASSWORD},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_next_within_the_site_is_kept(client: FlaskClient) -> None:
    user = UserFactory()
    response = client.post(
        "/login?next=/actions%3Fx%3D1",
        data={"email": user.email, "password": DEFAULT_PASSWORD},
    )
    assert response.headers["Location"] == "/actions?x=1"


def test_protected_page_sends_anonymous_to_login_with_next(client: FlaskClient) -> None:
    response = client.get("/admin/users")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
