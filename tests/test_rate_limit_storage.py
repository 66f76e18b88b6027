"""Throttling when Redis, which keeps the counts, cannot be reached (security A4).

Requests are still served, and still throttled: each worker counts in its own memory,
with the same limits, until Redis answers again.
"""

from __future__ import annotations

import socket
from collections.abc import Callable

from flask import Flask

from tests.conftest import make_test_config
from tests.factories import DEFAULT_PASSWORD
from tests.factories import UserFactory


def _closed_port() -> int:
    """A loopback port nobody listens on (connections to it are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _join(email: str) -> dict[str, str]:
    return {
        "name": "Sam Jones",
        "email": email,
        "postcode": "LS1 4AP",
        "tier": "silver",
        "consents": "email",
    }


def test_unreachable_redis_still_serves_and_throttles_in_memory(
    database_url: str, make_app: Callable[..., Flask]
) -> None:
    app = make_app(
        {
            **make_test_config(database_url),
            "RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{_closed_port()}/0",
            "MEMBERSHIP_JOIN_LIMIT": "2 per hour",
        }
    )
    # A Redis that does not answer is given up on quickly, not waited for.
    options = app.config["RATELIMIT_STORAGE_OPTIONS"]
    assert options["socket_connect_timeout"] == options["socket_timeout"] == 1.0
    user = UserFactory()
    client = app.test_client()
    with app.app_context():
        joins = [
            client.post("/join", data=_join(f"r{n}@example.com")) for n in range(3)
        ]
        wrong = client.post(
            "/login", data={"email": user.email, "password": "wrong password here"}
        )
        right = client.post(
            "/login", data={"email": user.email, "password": DEFAULT_PASSWORD}
        )
    assert [r.status_code for r in joins] == [200, 200, 429]
    assert "Check your email" in joins[0].get_data(as_text=True)
    assert wrong.status_code == 200  # the sign-in page again, counted in memory
    assert right.status_code == 302
