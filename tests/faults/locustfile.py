"""Locust users for the F5 load test (tests/faults/test_load.py runs locust headless).

Visitors join the scheme through the public form (GET the form for its CSRF token, then
POST it); officers sign in once and then page through and search the member list.
Every answer is checked: a 200 that shows the wrong page counts as a failure.
"""

from __future__ import annotations

import os
import re
import uuid

from locust import HttpUser
from locust import between
from locust import task

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
OFFICER_EMAIL = os.environ["ENGAGE_LOAD_OFFICER_EMAIL"]
OFFICER_PASSWORD = os.environ["ENGAGE_LOAD_OFFICER_PASSWORD"]
SEARCHES = ("sam", "jones", "f5-", "example.com", "zzz-nobody")
#: Think time between actions, in seconds (reading a page before acting on it).
WAIT = between(
    float(os.environ.get("ENGAGE_LOAD_WAIT_MIN", "5")),
    float(os.environ.get("ENGAGE_LOAD_WAIT_MAX", "15")),
)


class Visitor(HttpUser):
    """A member of the public joining the scheme."""

    weight = 4
    wait_time = WAIT

    def _token(self, path: str) -> str:
        with self.client.get(path, name=f"GET {path}", catch_response=True) as response:
            match = CSRF.search(response.text or "")
            if response.status_code != 200 or not match:
                response.failure(f"no form (HTTP {response.status_code})")
                return ""
            return match.group(1)

    @task
    def join(self) -> None:
        token = self._token("/join")
        if not token:
            return
        form = {
            "csrf_token": token,
            "name": "Sam Jones",
            "email": f"f5-{uuid.uuid4().hex}@example.com",
            "postcode": "LS1 4AP",
            "tier": "silver",
            "consents": "email",
            "website": "",
        }
        with self.client.post(
            "/join", data=form, name="POST /join", catch_response=True
        ) as response:
            if response.status_code != 200 or "Check your email" not in response.text:
                response.failure(f"join not acknowledged (HTTP {response.status_code})")


class Officer(Visitor):
    """A signed-in engagement officer working with the member list."""

    weight = 1

    def on_start(self) -> None:
        token = self._token("/login")
        with self.client.post(
            "/login",
            data={
                "email": OFFICER_EMAIL,
                "password": OFFICER_PASSWORD,
                "csrf_token": token,
            },
            name="POST /login",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"login failed (HTTP {response.status_code})")

    def _members(self, query: str, name: str) -> None:
        with self.client.get(
            "/members/" + query, name=name, allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 200 or "<table" not in response.text:
                response.failure(f"member list (HTTP {response.status_code})")

    @task(2)
    def join(self) -> None:  # officers do not join; this replaces Visitor.join
        self._members("", "GET /members/")

    @task(1)
    def search(self) -> None:
        term = SEARCHES[uuid.uuid4().int % len(SEARCHES)]
        self._members(f"?q={term}", "GET /members/?q=")
