"""Queued mail: delivered after commit in the background, retried by the job (A7)."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from engage.clock import utcnow
from engage.extensions import db
from engage.mail import delivery
from engage.mail import services
from engage.mail.delivery import wait_for_deliveries
from engage.mail.models import MailStatus
from engage.mail.models import OutboxMessage
from engage.mail.services import send_mail
from tests.factories import UserFactory


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # nothing listens once closed


def _messages() -> list[OutboxMessage]:
    db.session.rollback()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


class _SlowHandler:
    """An SMTP server that takes two seconds to accept each message."""

    def __init__(self) -> None:
        self.received: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        await asyncio.sleep(2)
        self.received.append(envelope.content)
        return "250 OK"


@pytest.fixture
def slow_smtp(app: Flask) -> Iterator[_SlowHandler]:
    from aiosmtpd.controller import Controller

    handler = _SlowHandler()
    port = _closed_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{port}"
    try:
        yield handler
    finally:
        wait_for_deliveries()
        controller.stop()


def test_forgot_password_does_not_wait_for_a_slow_mail_server(
    slow_smtp: _SlowHandler, client: FlaskClient
) -> None:
    """docs/security.md A7: a known address costs the request no SMTP round trip."""
    user = UserFactory()
    started = time.monotonic()
    response = client.post("/forgot-password", data={"email": user.email})
    took = time.monotonic() - started
    assert response.status_code in {200, 302}
    assert took < 1.5, f"the request waited {took:.2f} s for the mail server"
    assert wait_for_deliveries(timeout=30)
    (raw,) = slow_smtp.received
    assert user.email.encode() in raw
    (message,) = _messages()
    assert message.status is MailStatus.SENT


def test_a_failed_delivery_is_retried_by_the_job_with_back_off(
    app: Flask, smtp_server: Any
) -> None:
    working = app.config["SMTP_URL"]
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{_closed_port()}"
    send_mail("someone@trust.example", "Retry me", "Body", reason="a test needs it")
    db.session.commit()
    assert wait_for_deliveries(timeout=30)
    (message,) = _messages()
    assert (message.status, message.attempts) == (MailStatus.FAILED, 1)
    assert message.last_error == "ConnectionRefusedError"
    assert message.next_attempt_at is not None
    wait = message.next_attempt_at - utcnow()
    assert timedelta(seconds=50) < wait <= timedelta(minutes=1)
    app.config["SMTP_URL"] = working
    assert delivery.deliver_queued(now=utcnow()) == {"sent": 0, "failed": 0}
    later = utcnow() + timedelta(minutes=2)
    assert delivery.deliver_queued(now=later) == {"sent": 1, "failed": 0}
    (received,) = smtp_server.messages
    assert received["Subject"] == "Retry me"
    (message,) = _messages()
    assert (message.status, message.attempts, message.raw_message) == (
        MailStatus.SENT,
        2,
        None,
    )
    assert delivery.deliver_queued(now=later + timedelta(hours=1)) == {
        "sent": 0,
        "failed": 0,
    }


def test_delivery_gives_up_after_the_last_attempt(app: Flask) -> None:
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{_closed_port()}"
    app.config["MAIL_MAX_ATTEMPTS"] = 2
    send_mail("someone@trust.example", "Doomed", "Body", reason="a test needs it")
    db.session.commit()
    wait_for_deliveries()
    assert delivery.deliver_queued(now=utcnow() + timedelta(hours=1)) == {
        "sent": 0,
        "failed": 1,
    }
    (message,) = _messages()
    assert (message.status, message.attempts, message.next_attempt_at) == (
        MailStatus.FAILED,
        2,
        None,
    )
    assert delivery.deliver_queued(now=utcnow() + timedelta(days=1))["failed"] == 0


def test_a_message_is_claimed_by_one_sender_only(app: Flask, smtp_server: Any) -> None:
    # Queue without the after-commit thread, as if the web process had died.
    smtp_url = app.config["SMTP_URL"]
    send_mail("someone@trust.example", "Once", "Body", reason="a test needs it")
    db.session.flush()
    db.session.info.pop("engage_pending_mail")
    db.session.commit()
    (message,) = _messages()
    now = utcnow()
    assert delivery.deliver_one(message.id, now=now) is True
    assert delivery.deliver_one(message.id, now=now) is None
    assert delivery.deliver_queued(now=now) == {"sent": 0, "failed": 0}
    assert len(smtp_server.messages) == 1
    assert app.config["SMTP_URL"] == smtp_url


def test_a_sender_that_died_mid_send_is_retried_later(
    app: Flask, smtp_server: Any
) -> None:
    send_mail("someone@trust.example", "Stuck", "Body", reason="a test needs it")
    db.session.flush()
    db.session.info.pop("engage_pending_mail")
    (message,) = db.session.scalars(select(OutboxMessage)).all()
    message.status = MailStatus.SENDING
    message.claimed_at = utcnow()
    db.session.commit()
    assert delivery.deliver_queued(now=utcnow())["sent"] == 0
    later = utcnow() + delivery.STALE_CLAIM + timedelta(minutes=1)
    assert delivery.deliver_queued(now=later)["sent"] == 1
    assert len(smtp_server.messages) == 1


def test_erasure_deletes_queued_messages(app: Flask) -> None:
    """docs/security.md D5: queued mail to an erased address goes too."""
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{_closed_port()}"
    send_mail("Pat@Example.org", "Queued", "Body", reason="a test needs it")
    send_mail("other@example.org", "Queued", "Body", reason="a test needs it")
    db.session.commit()
    wait_for_deliveries()
    assert services.forget_address("pat@example.org") == 1
    db.session.commit()
    assert [m.to_address for m in _messages()] == ["other@example.org"]


def test_the_outbox_page_shows_delivery_status(
    app: Flask, client: FlaskClient, login, cast
) -> None:
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{_closed_port()}"
    send_mail("someone@trust.example", "Failing", "Body", reason="a test needs it")
    db.session.commit()
    wait_for_deliveries()
    login(cast["admin"])
    page = client.get("/admin/outbox/").get_data(as_text=True)
    assert "Failing" in page
    assert "Failed" in page
