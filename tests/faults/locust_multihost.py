"""Locust users for the several-hosts test (tests/faults/test_multihost.py).

There is no load balancer process: ``Balancer`` does what one does. It checks each
host's ``/healthz`` twice a second and sends every request to the next healthy host,
so one visitor's requests go to both hosts in turn (the form from one, the answer to
the other: sessions and form tokens are signed cookies, and any host can check them).
A host that dies is taken out after two failed checks; requests sent to it before
then, or that it was answering, fail at the connection, and are recorded as dropped.

Every answer is written to the file ``MULTIHOST_RECORDS`` (one JSON object a line):
when, which kind, which host, the status, and the outcome: ``ack`` (the page that
says it worked), ``dropped`` (no answer), ``unavailable`` (the friendly 503 page) or
``bad`` (anything else, with the start of the page). The test reads them back.

Visitors join through the public form and respondents answer a survey's public link,
each time from a new address (``X-Forwarded-For``; the app trusts one proxy), so the
per-address limits are not what stops them. Officers sign in once and open their
to-do list and the member list; leads sign in once and open the dashboard.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import time
import uuid
from typing import Any

import gevent
import requests
from locust import HttpUser
from locust import between
from locust import events
from locust import task

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
HOSTS = os.environ["MULTIHOST_HOSTS"].split(",")
NEEDS: dict[str, str] = json.loads(os.environ["MULTIHOST_NEEDS"])
PASSWORD = os.environ["MULTIHOST_PASSWORD"]
WAIT = between(
    float(os.environ.get("MULTIHOST_WAIT_MIN", "0.5")),
    float(os.environ.get("MULTIHOST_WAIT_MAX", "2")),
)
CHECK_SECONDS = 0.5
FALLS = 2
JOINED = "<h1>Check your email</h1>"
#: Answers saved: on to the thank-you page (its own GET, so a reload sends nothing).
ANSWERED = "/thank-you"
UNAVAILABLE = "Sorry, the service is unavailable"
_records = open(os.environ["MULTIHOST_RECORDS"], "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - open for the whole run


def record(kind: str, host: str, status: int, outcome: str, **extra: Any) -> None:
    """One answer, as the test will read it."""
    entry = {"t": time.time(), "kind": kind, "host": host, "status": status}
    _records.write(json.dumps({**entry, "outcome": outcome, **extra}) + "\n")


class Balancer:
    """Round robin over the healthy hosts.

    A host is taken out after ``FALLS`` failed health checks in a row (a busy host may
    miss one), and put back after one that passes.
    """

    def __init__(self, hosts: list[str]) -> None:
        self.hosts = hosts
        self.healthy = set(hosts)
        self.failures = dict.fromkeys(hosts, 0)
        self._turn = itertools.count()

    def pick(self) -> str:
        hosts = [h for h in self.hosts if h in self.healthy] or self.hosts
        return hosts[next(self._turn) % len(hosts)]

    def check_forever(self, host: str) -> None:
        """Check ``host`` every CHECK_SECONDS (each host apart, as balancers do)."""
        while True:
            try:
                ok = requests.get(f"{host}/healthz", timeout=1).status_code == 200
            except requests.RequestException:
                ok = False
            self.failures[host] = 0 if ok else self.failures[host] + 1
            if ok:
                self.healthy.add(host)
            elif self.failures[host] >= FALLS and host in self.healthy:
                self.healthy.discard(host)
                record("health", host, 0, "taken out")
            gevent.sleep(CHECK_SECONDS)


balancer = Balancer(HOSTS)


@events.init.add_listener
def _start_health_checks(**_kwargs: Any) -> None:
    for host in HOSTS:
        gevent.spawn(balancer.check_forever, host)


def outcome(response: Any, expected: str, status: int = 200) -> str:
    """How a request ended: ack, dropped, unavailable or bad."""
    if response.status_code == 0:  # no answer: refused, reset or cut short
        return "dropped"
    text = response.text or ""
    if response.status_code == status and expected in text:
        return "ack"
    if response.status_code == 503 and UNAVAILABLE in text and "Traceback" not in text:
        return "unavailable"
    return "bad"


def random_address() -> str:
    """A visitor's own address, as the proxy reports it (private ranges only)."""
    parts = (random.randrange(256), random.randrange(256), random.randrange(1, 255))
    return "10.{}.{}.{}".format(*parts)


class Base(HttpUser):
    """Sends each request through the balancer and records its outcome."""

    abstract = True
    wait_time = WAIT
    host = HOSTS[0]  # locust wants one; every request names its own host

    def send(
        self,
        kind: str,
        method: str,
        path: str,
        *,
        expected: str,
        status: int = 200,
        headers: dict[str, str] | None = None,
        key: str = "",
        **kwargs: Any,
    ) -> tuple[str, str]:
        """(outcome, page) of one request to the next healthy host."""
        host = self.balancer_host()
        with self.client.request(
            method,
            host + path,
            name=kind,
            headers=headers,
            allow_redirects=False,
            catch_response=True,
            **kwargs,
        ) as response:
            result = outcome(response, expected, status)
            extra: dict[str, Any] = {"key": key} if key else {}
            if result == "bad":
                extra["page"] = (response.text or "")[:1500]
            record(kind, host, response.status_code, result, **extra)
            if result == "ack":
                response.success()
            else:
                response.failure(result)
            return result, response.text or ""

    def balancer_host(self) -> str:
        return balancer.pick()

    def token(self, kind: str, path: str, headers: dict[str, str]) -> str:
        """The form's CSRF token ("" if the page did not come)."""
        result, page = self.send(
            kind, "GET", path, expected='name="csrf_token"', headers=headers
        )
        match = CSRF.search(page) if result == "ack" else None
        return match.group(1) if match else ""

    def public_form(
        self,
        name: str,
        path: str,
        fields: dict[str, str],
        *,
        expected: str,
        key: str,
        status: int = 200,
    ) -> None:
        """A new visitor, from a new address: open the form, then send ``fields``."""
        self.client.cookies.clear()
        headers = {"X-Forwarded-For": random_address()}
        token = self.token(f"GET {name}", path, headers)
        if token:
            self.send(
                f"POST {name}", "POST", path, expected=expected, status=status,
                headers=headers, data={"csrf_token": token, "website": "", **fields},
                key=key,
            )  # fmt: skip


class Visitor(Base):
    """A member of the public joining the scheme, each time a new visitor."""

    weight = 4

    @task
    def join(self) -> None:
        email = f"mh-{uuid.uuid4().hex}@example.com"
        fields = {
            "name": "Sam Jones",
            "email": email,
            "postcode": "LS1 4AP",
            "tier": "silver",
            "consents": "email",
        }
        self.public_form("/join", "/join", fields, expected=JOINED, key=email)


class Respondent(Base):
    """Someone answering a survey through its public link."""

    weight = 3

    @task
    def answer(self) -> None:
        comment = f"mh-{uuid.uuid4().hex}"
        fields = {
            NEEDS["comment_field"]: comment,
            NEEDS["rating_field"]: str(random.randrange(11)),
        }
        path = f"/s/{NEEDS['survey_token']}"
        self.public_form(
            "/s/…", path, fields, expected=ANSWERED, status=303, key=comment
        )


class Staff(Base):
    """A member of staff who signs in once, from their office's address."""

    abstract = True
    email = ""

    def on_start(self) -> None:
        self.headers = {"X-Forwarded-For": random_address()}
        while True:  # until signed in: a host may die while we try
            token = self.token("GET /login", "/login", self.headers)
            if token:
                form = {"email": self.email, "password": PASSWORD, "csrf_token": token}
                result, _ = self.send(
                    "POST /login", "POST", "/login", expected="", status=302,
                    headers=self.headers, data=form,
                )  # fmt: skip
                if result == "ack":
                    return
            gevent.sleep(0.5)

    def page(self, kind: str, path: str) -> None:
        self.send(kind, "GET", path, expected="<h1", headers=self.headers)


class Officer(Staff):
    """An engagement officer: their to-do list and the member list."""

    weight = 1
    email = NEEDS["officer_email"]

    @task
    def home(self) -> None:
        self.page("GET /", "/")

    @task(2)
    def members(self) -> None:
        self.page("GET /members/", "/members/")

    @task
    def search(self) -> None:
        self.page("GET /members/?q=", "/members/?q=sam")


class Lead(Staff):
    """A lead: the dashboard."""

    weight = 1
    email = NEEDS["lead_email"]

    @task
    def dashboard(self) -> None:
        self.page("GET /dashboard/", "/dashboard/")
