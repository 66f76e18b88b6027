"""GOV.UK Notify: the real client against the fake Notify server on loopback."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from engage.bench.fake_notify import FakeNotify
from engage.clock import utcnow
from engage.extensions import db
from engage.mailings import sending
from engage.mailings import transports
from engage.mailings.models import Mailing
from engage.mailings.models import MailingRecipient
from engage.mailings.models import MailingStatus
from engage.mailings.models import RecipientStatus
from engage.membership.models import ContactChannel
from jobs.mailings import send_mailings
from tests.factories import UserFactory
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


def test_copies_whose_outcome_is_unknown_are_looked_up_in_notify(
    fake_notify: FakeNotify,
) -> None:
    for name in ("accepted", "never", "recent"):
        member(email=f"{name}@example.org")
    sent = mailing()
    sending.send_now(sent, actor=UserFactory(role="officer"), now=T0)
    db.session.commit()
    long_ago = utcnow() - timedelta(minutes=2)
    stuck = {name: _recipient(f"{name}@example.org") for name in ("accepted", "never")}
    for recipient in [*stuck.values(), _recipient("recent@example.org")]:
        recipient.status = RecipientStatus.SENDING
        recipient.claimed_at = long_ago
    _recipient("recent@example.org").claimed_at = utcnow()
    db.session.commit()
    # A sender handed this copy to Notify and was killed before hearing back.
    transport = transports.open_notify()
    accepted_id = transport.send_email(
        transports.OutgoingEmail(
            recipient_id=stuck["accepted"].id,
            address="accepted@example.org",
            subject="Spring newsletter",
            html="",
            text="News",
            unsubscribe_url="https://example.org/u",
            message_id="",
        )
    )
    transport.close()
    counts = send_mailings(now=T0)
    assert (counts["found_in_notify"], counts["not_in_notify"]) == (1, 1)
    assert sorted(r["body"]["email_address"] for r in fake_notify.received) == [
        "accepted@example.org",  # once, by the killed sender
        "never@example.org",  # Notify had not received it: sent now
    ]
    accepted = _recipient("accepted@example.org")
    assert (accepted.status, accepted.provider_ref) == (
        RecipientStatus.SENT,
        accepted_id,
    )
    assert _recipient("never@example.org").status is RecipientStatus.SENT
    # Too recent to look up: the mailing waits for it.
    assert _recipient("recent@example.org").status is RecipientStatus.SENDING
    assert db.session.get(Mailing, sent.id).status is MailingStatus.SENDING
    _recipient("recent@example.org").claimed_at = long_ago
    db.session.commit()
    assert send_mailings(now=T0)["not_in_notify"] == 1
    assert len(fake_notify.received) == 3
    assert db.session.get(Mailing, sent.id).status is MailingStatus.SENT
