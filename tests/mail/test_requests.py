"""Emails asked for by address: the request does the same work for any address."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy import func
from sqlalchemy import select

from engage.clock import utcnow
from engage.extensions import db
from engage.mail.delivery import prepare_and_deliver
from engage.mail.delivery import wait_for_deliveries
from engage.mail.models import MailRequest
from engage.mail.requests import request_mail
from tests.surveys.helpers import make_member

FORMS = [
    ("/forgot-password", "staff"),
    ("/membership/manage", "member"),
]


@contextmanager
def _statements(app: Flask) -> Iterator[list[str]]:
    """The SQL the requests inside run (parameters left out).

    Only this thread's: the test client serves requests in it, and the email is
    written by a background thread after the response.
    """
    seen: list[str] = []
    me = threading.get_ident()

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if threading.get_ident() == me:
            seen.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _known(cast: dict[str, Any], who: str) -> str:
    if who == "staff":
        return str(cast["officer"].email)
    member = make_member(email="pat.known@example.org")
    db.session.commit()
    return str(member.email)


@pytest.mark.parametrize(("path", "who"), FORMS)
def test_known_and_unknown_addresses_cost_the_request_the_same(
    app: Flask, client: FlaskClient, cast: dict[str, Any], path: str, who: str
) -> None:
    known = _known(cast, who)
    work = {}
    pages = {}
    client.get(path)  # the process reads the organisation's details once, first
    for address in (known, "nobody.at.all@example.org"):
        with _statements(app) as statements:
            response = client.post(path, data={"email": address})
            work[address] = list(statements)
        pages[address] = re.sub(r'nonce="[^"]+"', "", response.get_data(as_text=True))
        wait_for_deliveries()
    assert work[known] == work["nobody.at.all@example.org"]
    assert any("INSERT INTO mail_requests" in s for s in work[known])
    assert not any("FROM users" in s or "FROM members" in s for s in work[known][1:])
    assert pages[known] == pages["nobody.at.all@example.org"]


@pytest.mark.parametrize(("path", "who"), FORMS)
def test_the_e_mail_is_written_after_the_response_for_a_known_address_only(
    client: FlaskClient, cast: dict[str, Any], outbox: Any, path: str, who: str
) -> None:
    known = _known(cast, who)
    client.post(path, data={"email": "nobody.at.all@example.org"})
    client.post(path, data={"email": known})
    assert [m.to_address for m in outbox()] == [known]
    assert db.session.scalar(select(func.count()).select_from(MailRequest)) == 0


def test_a_request_left_by_a_stopped_worker_is_prepared_by_the_job(
    cast: dict[str, Any], outbox: Any
) -> None:
    # No commit through a request: no thread; the deliver-mail job finds it.
    request_mail("password-reset", cast["lead"].email, now=utcnow())
    db.session.info.clear()
    db.session.commit()
    assert prepare_and_deliver(now=utcnow())["prepared"] == 1
    assert [m.to_address for m in outbox()] == [cast["lead"].email]
    assert prepare_and_deliver(now=utcnow())["prepared"] == 0


def test_only_known_kinds_of_e_mail_can_be_asked_for() -> None:
    with pytest.raises(ValueError, match="unknown kind"):
        request_mail("anything", "a@example.org", now=utcnow())
