"""GOV.UK Notify's delivery receipts: a bearer token, bounded JSON, filed once."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func
from sqlalchemy import select

from engage.extensions import db
from engage.mailings.models import BounceReport
from engage.mailings.models import MailingRecipient
from engage.mailings.models import RecipientStatus
from engage.mailings.models import Suppression
from engage.mailings.models import SuppressionReason
from engage.membership.models import ContactChannel
from tests.factories import MemberFactory
from tests.mailings.unsub_rows import copy_for
from tests.mailings.unsub_rows import sent_mailing

URL = "/mailings/notify/receipts"
TOKEN = "notify-callback-token-0123456789abcdef"  # nosec B105
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def configured(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "NOTIFY_CALLBACK_TOKEN", TOKEN)


def receipt(notification_id: str, status: str, **extra: Any) -> dict[str, Any]:
    """A receipt as Notify sends it."""
    return {
        "id": notification_id,
        "reference": None,
        "to": "someone@example.org",
        "status": status,
        "created_at": "2025-03-03T10:00:00.000000Z",
        "completed_at": "2025-03-03T10:00:05.000000Z",
        "sent_at": "2025-03-03T10:00:01.000000Z",
        "notification_type": "email",
        **extra,
    }


def _copy(channel: ContactChannel = ContactChannel.EMAIL) -> MailingRecipient:
    member = MemberFactory(
        email="reader@example.org",
        phone="07700 900456",
        consents=[ContactChannel.EMAIL, ContactChannel.SMS],
    )
    return copy_for(
        sent_mailing(), member=member, channel=channel, provider_ref=str(uuid.uuid4())
    )


def _status(recipient: MailingRecipient) -> MailingRecipient:
    db.session.expire_all()
    return db.session.get(MailingRecipient, recipient.id)


def test_not_configured_the_address_does_not_exist(client: FlaskClient) -> None:
    response = client.post(URL, json=receipt("x", "delivered"), headers=AUTH)
    assert response.status_code == 404


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x"],
)
def test_a_missing_or_wrong_token_is_refused(
    client: FlaskClient, configured: None, header: str | None
) -> None:
    recipient = _copy()
    headers = {"Authorization": header} if header else {}
    response = client.post(
        URL, json=receipt(recipient.provider_ref, "delivered"), headers=headers
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert _status(recipient).status is RecipientStatus.SENT


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        ("{not json", "application/json", 400),
        ("[1, 2]", "application/json", 400),
        ("\xff", "application/json", 400),
        ('{"status": "delivered"}', "application/json", 400),
        ('{"id": 5, "status": "delivered"}', "application/json", 400),
        ('{"id": "' + "x" * 200 + '", "status": "delivered"}', "application/json", 400),
        ("id=1&status=delivered", "application/x-www-form-urlencoded", 400),
        (
            json.dumps({"id": "a", "status": "delivered", "pad": "x" * 20000}),
            "application/json",
            413,
        ),
    ],
)
def test_bad_bodies_are_refused_never_an_error(
    client: FlaskClient, configured: None, body: str, content_type: str, status: int
) -> None:
    response = client.post(URL, data=body, content_type=content_type, headers=AUTH)
    assert response.status_code == status


def test_delivered(client: FlaskClient, configured: None) -> None:
    recipient = _copy()
    response = client.post(
        URL, json=receipt(recipient.provider_ref, "delivered"), headers=AUTH
    )
    assert response.status_code == 200
    assert response.get_json() == {"result": "delivered"}
    assert _status(recipient).status is RecipientStatus.DELIVERED
    assert db.session.scalars(select(Suppression)).all() == []


def test_a_permanent_failure_is_a_bounce_and_is_filed_once(
    client: FlaskClient, configured: None
) -> None:
    recipient = _copy(ContactChannel.SMS)
    body = receipt(recipient.provider_ref, "permanent-failure", notification_type="sms")
    for _ in range(2):
        assert client.post(URL, json=body, headers=AUTH).status_code == 200
    after = _status(recipient)
    assert after.status is RecipientStatus.BOUNCED
    assert "phone number does not exist" in after.outcome
    entry = db.session.scalars(select(Suppression)).one()
    assert (entry.channel, entry.address, entry.reason) == (
        ContactChannel.SMS,
        "07700 900456",
        SuppressionReason.BOUNCED,
    )
    assert db.session.scalar(select(func.count()).select_from(BounceReport)) == 1
    # A later "delivered" does not make the address deliverable again.
    client.post(URL, json=receipt(recipient.provider_ref, "delivered"), headers=AUTH)
    assert _status(recipient).status is RecipientStatus.BOUNCED


@pytest.mark.parametrize(
    ("status", "words"),
    [
        ("temporary-failure", "the inbox may be full"),
        ("technical-failure", "technical problem"),
    ],
)
def test_other_failures(
    client: FlaskClient, configured: None, status: str, words: str
) -> None:
    recipient = _copy()
    client.post(URL, json=receipt(recipient.provider_ref, status), headers=AUTH)
    after = _status(recipient)
    assert after.status is RecipientStatus.FAILED
    assert words in after.outcome
    assert db.session.scalars(select(Suppression)).all() == []


def test_matched_by_our_reference_when_the_id_was_not_kept(
    client: FlaskClient, configured: None
) -> None:
    recipient = _copy()
    recipient.provider_ref = None
    db.session.commit()
    notification_id = str(uuid.uuid4())
    body = receipt(notification_id, "delivered", reference=str(recipient.id))
    assert client.post(URL, json=body, headers=AUTH).get_json() == {
        "result": "delivered"
    }
    after = _status(recipient)
    assert (after.status, after.provider_ref) == (
        RecipientStatus.DELIVERED,
        notification_id,
    )


def test_unknown_notifications_and_statuses_are_answered_quietly(
    client: FlaskClient, configured: None
) -> None:
    recipient = _copy()
    unknown = client.post(URL, json=receipt("no-such-id", "delivered"), headers=AUTH)
    assert unknown.get_json() == {"result": "unmatched"}
    # Another copy's id under a reference that names this copy matches nothing.
    body = receipt("other-id", "delivered", reference=str(recipient.id))
    assert client.post(URL, json=body, headers=AUTH).get_json() == {
        "result": "unmatched"
    }
    sending = receipt(recipient.provider_ref, "sending")
    assert client.post(URL, json=sending, headers=AUTH).get_json() == {
        "result": "ignored"
    }
    assert _status(recipient).status is RecipientStatus.SENT
