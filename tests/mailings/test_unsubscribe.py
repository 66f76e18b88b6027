"""The unsubscribe link: asks on GET, one-click POST (RFC 8058), one channel only."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from engage.audit.models import AuditEvent
from engage.clock import utcnow
from engage.extensions import db
from engage.mailings.models import MailingRecipient
from engage.mailings.models import Suppression
from engage.mailings.models import SuppressionReason
from engage.mailings.tokens import recipient_token
from engage.membership.consent import current_consents
from engage.membership.models import ConsentMethod
from engage.membership.models import ConsentRecord
from engage.membership.models import ContactChannel
from engage.membership.models import Member
from engage.membership.models import MemberStatus
from engage.membership.services import ErasureReason
from engage.membership.services import erase_member
from tests.factories import MemberFactory
from tests.mailings.unsub_rows import contact
from tests.mailings.unsub_rows import copy_for
from tests.mailings.unsub_rows import sent_mailing

ONE_CLICK = {"List-Unsubscribe": "One-Click"}


@pytest.fixture
def csrf_on(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)


def _member_copy() -> tuple[Member, MailingRecipient]:
    member = MemberFactory(consents=[ContactChannel.EMAIL, ContactChannel.SMS])
    return member, copy_for(sent_mailing(), member=member)


def _url(recipient: MailingRecipient) -> str:
    return f"/m/{recipient_token(recipient.id)}/unsubscribe"


def _consent_records(member_id: int) -> list[ConsentRecord]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(ConsentRecord)
            .where(ConsentRecord.member_id == member_id)
            .order_by(ConsentRecord.id)
        )
    )


def test_the_link_asks_first_and_changes_nothing(client: FlaskClient) -> None:
    member, recipient = _member_copy()
    response = client.get(_url(recipient))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert re.search(r"<h1>Stop getting emails from [^<]+\?</h1>", page)
    assert 'method="post"' in page
    assert "You will still be a member" in page
    assert "we may still contact you in the other ways you agreed to" in page
    assert "/membership/manage" in page  # how to leave the scheme
    assert len(_consent_records(member.id)) == 2


def test_a_member_with_no_other_way_is_not_promised_one(client: FlaskClient) -> None:
    member = MemberFactory(consents=[ContactChannel.EMAIL])
    page = client.get(_url(copy_for(sent_mailing(), member=member))).get_data(
        as_text=True
    )
    assert "You will still be a member" in page
    assert "other ways you agreed to" not in page
    assert "we will not contact you at all until you tell us otherwise" in page


def test_one_click_post_withdraws_that_channel_only(
    app: Flask, client: FlaskClient, csrf_on: None
) -> None:
    member, recipient = _member_copy()
    # A mail program's POST: no cookie, no CSRF token, just RFC 8058's body.
    response = client.post(_url(recipient), data=ONE_CLICK)
    assert response.status_code == 200
    assert "You will not get emails from us any more" in response.get_data(as_text=True)
    db.session.expire_all()
    member = db.session.get(Member, member.id)
    assert member.status is MemberStatus.ACTIVE
    assert current_consents(member)[ContactChannel.EMAIL] is False
    assert current_consents(member)[ContactChannel.SMS] is True
    last = _consent_records(member.id)[-1]
    assert (last.channel, last.granted, last.method) == (
        ContactChannel.EMAIL,
        False,
        ConsentMethod.UNSUBSCRIBE,
    )
    assert db.session.get(MailingRecipient, recipient.id).unsubscribed_at is not None
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "unsubscribe")
    ).one()
    assert event.entity_id == str(member.id)
    assert "@" not in event.summary

    # Again: nothing more is recorded, and it still says it is done.
    again = client.post(_url(recipient), data=ONE_CLICK)
    assert again.status_code == 200
    assert "You will not get emails" in again.get_data(as_text=True)
    assert len(_consent_records(member.id)) == 3


def test_consent_history_on_the_staff_record_shows_it(
    client: FlaskClient, login, cast
) -> None:
    member, recipient = _member_copy()
    client.post(_url(recipient), data=ONE_CLICK)
    login(cast["officer"])
    page = client.get(f"/members/{member.id}").get_data(as_text=True)
    assert (
        '<td class="nhsuk-table__cell">Unsubscribe link in a mailing</td>\n'
        '      <td class="nhsuk-table__cell">Withdrew consent to contact by email'
    ) in page


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"List-Unsubscribe": "one-click"},
        {"List-Unsubscribe": "Yes"},
        {"List-Unsubscribe": "One-Click", "email": "someone@example.org"},
        {"unsubscribe": "1"},
    ],
)
def test_other_bodies_are_refused(client: FlaskClient, csrf_on: None, body) -> None:
    member, recipient = _member_copy()
    response = client.post(_url(recipient), data=body)
    assert response.status_code == 400
    assert "Stop getting emails" in response.get_data(as_text=True)
    assert len(_consent_records(member.id)) == 2
    assert db.session.get(MailingRecipient, recipient.id).unsubscribed_at is None


def test_a_json_body_is_refused(client: FlaskClient, csrf_on: None) -> None:
    _, recipient = _member_copy()
    response = client.post(_url(recipient), json=ONE_CLICK)
    assert response.status_code == 400


def test_the_pages_own_button_works(client: FlaskClient, csrf_on: None) -> None:
    member, recipient = _member_copy()
    page = client.get(_url(recipient)).get_data(as_text=True)
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    assert token
    response = client.post(_url(recipient), data={"csrf_token": token.group(1)})
    assert response.status_code == 200
    db.session.expire_all()
    assert (
        current_consents(db.session.get(Member, member.id))[ContactChannel.EMAIL]
        is False
    )


def test_a_text_message_copy_stops_texts_only(client: FlaskClient) -> None:
    member = MemberFactory(
        phone="07700 900123", consents=[ContactChannel.EMAIL, ContactChannel.SMS]
    )
    recipient = copy_for(sent_mailing(), member=member, channel=ContactChannel.SMS)
    assert "Stop getting text messages" in client.get(_url(recipient)).get_data(
        as_text=True
    )
    client.post(_url(recipient), data=ONE_CLICK)
    db.session.expire_all()
    consents = current_consents(db.session.get(Member, member.id))
    assert consents[ContactChannel.SMS] is False
    assert consents[ContactChannel.EMAIL] is True


def test_a_stakeholder_contact_is_suppressed(client: FlaskClient) -> None:
    person = contact("PM@Practice.example.nhs.uk")
    recipient = copy_for(sent_mailing(), contact=person)
    page = client.get(_url(recipient)).get_data(as_text=True)
    assert "You will still be a member" not in page
    assert client.post(_url(recipient), data=ONE_CLICK).status_code == 200
    client.post(_url(recipient), data=ONE_CLICK)
    entry = db.session.scalars(select(Suppression)).one()
    assert (entry.channel, entry.address, entry.reason) == (
        ContactChannel.EMAIL,
        "pm@practice.example.nhs.uk",
        SuppressionReason.UNSUBSCRIBED,
    )


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_bad_or_altered_link_does_not_work(client: FlaskClient, method: str) -> None:
    _, recipient = _member_copy()
    good = recipient_token(recipient.id)
    altered = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
    missing = recipient_token(recipient.id + 1000)
    pages = []
    for token in ("not-a-token", altered, missing, "x" * 300):
        response = client.open(
            f"/m/{token}/unsubscribe",
            method=method,
            data=ONE_CLICK if method == "POST" else None,
        )
        assert response.status_code == 404
        pages.append(response.get_data(as_text=True))
    assert "This unsubscribe link does not work" in pages[0]
    assert db.session.scalars(select(Suppression)).all() == []


def test_after_erasure_the_link_does_nothing(client: FlaskClient) -> None:
    member, recipient = _member_copy()
    url = _url(recipient)  # erasure deletes the member's copies
    erase_member(
        db.session.get(Member, member.id),
        actor="system",
        reason=ErasureReason.MEMBER_REQUEST,
        now=utcnow(),
    )
    db.session.commit()
    assert client.get(url).status_code == 404
    assert client.post(url, data=ONE_CLICK).status_code == 404
    assert _consent_records(member.id) == []
    assert db.session.scalars(select(Suppression)).all() == []


def test_working_unsubscribe_links_are_never_limited_only_bad_ones(
    make_app: Any,
) -> None:
    member, recipient = _member_copy()
    limited = make_app(
        RATELIMIT_ENABLED=True, UNSUBSCRIBE_LIMIT="3 per hour"
    ).test_client()
    assert {limited.get(_url(recipient)).status_code for _ in range(5)} == {200}
    bad = "/m/not-a-token/unsubscribe"
    assert [limited.get(bad).status_code for _ in range(4)] == [404, 404, 404, 429]
    assert limited.post(_url(recipient), data=ONE_CLICK).status_code == 200
    db.session.rollback()  # see what the other app committed
    assert current_consents(member)[ContactChannel.EMAIL] is False
