"""GOV.UK Notify: the real client against the fake Notify server on loopback."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from engage.extensions import db
from engage.mailings import sending
from engage.mailings.models import MailingRecipient
from engage.mailings.models import RecipientStatus
from engage.membership.models import ContactChannel
from jobs.mailings import send_mailings
from tests.factories import UserFactory
from tests.mailings.fake_notify import FakeNotify
from tests.mailings.helpers import T0
from tests.mailings.helpers import mailing
from tests.mailings.helpers import member


@pytest.fixture(autouse=True)
def _notify_for_email(app: Flask, fake_notify: FakeNotify) -> None:
    app.config.update(
        MAILING_EMAIL_TRANSPORT="notify", MAILING_RATE=10_000, MAILING_MAX_ATTEMPTS=2
    )


def _send(**kwargs: Any) -> None:
    sent = mailing(**kwargs)
    sending.send_now(sent, actor=UserFactory(role="officer"), now=T0)
    db.session.commit()
    send_mailings(now=T0)


def _recipient(address: str) -> MailingRecipient:
    found: MailingRecipient = db.session.scalars(
        select(MailingRecipient).where(MailingRecipient.address == address)
    ).one()
    return found


def test_email_through_notify(app: Flask, fake_notify: FakeNotify) -> None:
    member(email="reader@example.org")
    _send()
    (request,) = fake_notify.received
    body = request["body"]
    recipient = _recipient("reader@example.org")
    assert request["kind"] == "email"
    assert body["email_address"] == "reader@example.org"
    assert body["template_id"] == app.config["NOTIFY_EMAIL_TEMPLATE_ID"]
    assert body["reference"] == str(recipient.id)
    assert body["personalisation"]["subject"] == "Spring newsletter"
    assert "News for members." in body["personalisation"]["body"]
    assert "/unsubscribe" in body["one_click_unsubscribe_url"]
    assert recipient.status is RecipientStatus.SENT
    assert recipient.provider_ref == request["id"]
    assert fake_notify.refused == []


def test_text_message_through_notify(app: Flask, fake_notify: FakeNotify) -> None:
    reader = member(phone="07700900123", consents=[ContactChannel.SMS])
    assert reader.phone
    _send(by_email=False, by_sms=True, sms_text="The spring newsletter is out.")
    (request,) = fake_notify.received
    body = request["body"]
    assert request["kind"] == "sms"
    assert body["phone_number"] == "07700900123"
    assert body["template_id"] == app.config["NOTIFY_SMS_TEMPLATE_ID"]
    text = body["personalisation"]["body"]
    assert text.startswith("The spring newsletter is out.")
    assert "To stop these texts: http" in text
    assert _recipient("07700900123").status is RecipientStatus.SENT


def test_refusals_rate_limits_and_server_errors(fake_notify: FakeNotify) -> None:
    for name in ("ok", "bad", "slow", "later"):
        member(email=f"{name}@example.org")
    fake_notify.fail_for = {"bad@example.org": 400, "slow@example.org": 429}
    _send()
    assert [r["body"]["email_address"] for r in fake_notify.received] == [
        "ok@example.org"
    ]
    bad = _recipient("bad@example.org")
    assert bad.status is RecipientStatus.FAILED
    assert bad.attempts == 1
    assert bad.outcome.startswith("GOV.UK Notify refused it (400")
    # A rate limit stops the run without using up a try: nothing more is sent
    # until Notify takes messages again.
    slow = _recipient("slow@example.org")
    assert (slow.status, slow.attempts) == (RecipientStatus.PENDING, 0)
    assert slow.retry_after is not None
    assert _recipient("later@example.org").status is RecipientStatus.PENDING
    fake_notify.fail_for = {"later@example.org": 500}
    slow.retry_after = None  # as if the wait were over
    db.session.commit()
    send_mailings(now=T0)
    assert _recipient("slow@example.org").status is RecipientStatus.SENT
    later = _recipient("later@example.org")
    assert (later.status, later.attempts) == (RecipientStatus.PENDING, 0)


def test_the_fake_checks_the_key(app: Flask, fake_notify: FakeNotify) -> None:
    member(email="reader@example.org")
    app.config["NOTIFY_API_KEY"] = (
        f"wrong-{fake_notify.service_id}-00000000-0000-0000-0000-000000000000"
    )
    _send()
    assert fake_notify.received == []
    (status, answer), *_ = fake_notify.refused
    assert status == 403
    assert "Invalid token" in answer
    assert _recipient("reader@example.org").status is RecipientStatus.FAILED


def test_the_fake_checks_the_template_id(app: Flask, fake_notify: FakeNotify) -> None:
    member(email="reader@example.org")
    app.config["NOTIFY_EMAIL_TEMPLATE_ID"] = "not-a-uuid"
    _send()
    (status, answer), *_ = fake_notify.refused
    assert status == 400
    assert "template_id is not a valid UUID" in answer
