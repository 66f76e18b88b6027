"""Public membership services: join, confirm, manage, export, purge."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func
from sqlalchemy import inspect
from sqlalchemy import select
from sqlalchemy import text

from engage.audit.models import AuditEvent
from engage.db import begin_write
from engage.db import write_after_read
from engage.errors import NotFound
from engage.errors import ValidationError
from engage.extensions import db
from engage.mail.models import OutboxMessage
from engage.membership import consent
from engage.membership.models import ConsentMethod
from engage.membership.models import ConsentRecord
from engage.membership.models import ContactChannel
from engage.membership.models import Member
from engage.membership.models import MemberStatus
from engage.membership.models import MemberToken
from engage.membership.models import SupportNeed
from engage.membership.models import Tier
from engage.membership.models import TokenPurpose
from engage.membership.models import Topic
from engage.membership.registration import Registration
from engage.membership.registration import RegistrationResult
from engage.membership.registration import check_registration
from engage.membership.registration import confirm_member
from engage.membership.registration import purge_unconfirmed
from engage.membership.registration import save_equality_answers
from engage.membership.registration import store_registration
from engage.membership.self_service import export_own_data
from engage.membership.self_service import member_for_manage_token
from engage.membership.self_service import request_manage_link
from engage.membership.self_service import update_own_details
from engage.membership.self_service import withdraw_own_membership
from tests.tokens import tampered

NOW = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
EMAIL_ONLY = {c: c is ContactChannel.EMAIL for c in ContactChannel}


@pytest.fixture(autouse=True)
def _request_context(app: Flask) -> Iterator[None]:
    # The services build emailed links with url_for, as in a request.
    with app.test_request_context():
        yield


def register_member(data: Registration, *, now: datetime) -> RegistrationResult:
    """Join as the join view does: the read phase, its transaction ended, the write
    phase in a write transaction (the caller commits)."""
    checked = check_registration(data)
    write_after_read(db.session())
    return store_registration(checked, now=now)


def _join(**overrides: Any) -> Registration:
    values: dict[str, Any] = {
        "name": "Priya Patel",
        "email": "priya@example.com",
        "postcode": "ls1 4ap",
        "tier": Tier.SILVER,
        "consents": EMAIL_ONLY,
    }
    values.update(overrides)
    return Registration(**values)


def _count_members() -> int:
    return db.session.scalar(select(func.count()).select_from(Member)) or 0


def _link_token(body: str) -> str:
    match = re.search(r"/(?:join/confirm|membership/manage)/([A-Za-z0-9_-]+)", body)
    assert match, body
    return match.group(1)


def test_register_member_with_email_is_pending_with_one_confirmation(outbox) -> None:
    result = register_member(_join(), now=NOW)
    db.session.commit()

    member = result.member
    assert result.created
    assert member is not None
    assert member.status is MemberStatus.PENDING
    assert member.joined_by is ConsentMethod.WEB_FORM
    assert member.postcode == "LS1 4AP"
    assert member.confirmed_at is None
    (message,) = outbox()
    assert message.to_address == "priya@example.com"
    assert f"http://engage.test/join/confirm/{result.token}" in message.body_text


def test_register_member_records_one_consent_per_channel_with_wording() -> None:
    member = register_member(_join(), now=NOW).member
    db.session.commit()

    assert member is not None
    records = member.consents
    assert [(r.channel, r.granted) for r in records] == [(ContactChannel.EMAIL, True)]
    (record,) = records
    assert record.member_id == member.id
    assert record.recorded_at == NOW
    assert record.method is ConsentMethod.WEB_FORM
    assert record.wording_version == consent.wording_version()


def test_register_member_without_email_is_active_and_sends_nothing(outbox) -> None:
    result = register_member(
        _join(
            email=None,
            phone="07700 900 982",
            consents={c: c is ContactChannel.SMS for c in ContactChannel},
        ),
        now=NOW,
    )
    db.session.commit()

    assert result.member is not None
    assert result.member.status is MemberStatus.ACTIVE
    assert result.member.confirmed_at == NOW
    assert result.member.phone == "07700900982"
    assert outbox() == []


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"consents": dict.fromkeys(ContactChannel, False)}, "at least one way"),
        ({"email": None, "consents": EMAIL_ONLY}, "Enter an email address"),
        ({"postcode": "NOT A CODE"}, "postcode"),
        ({"phone": "12"}, "phone number"),
        (
            {"consents": {c: c is ContactChannel.POST for c in ContactChannel}},
            "postal address",
        ),
    ],
)
def test_register_member_refuses_broken_rules(
    outbox,
    overrides: dict[str, Any],
    problem: str,
) -> None:
    with pytest.raises(ValidationError, match=problem):
        register_member(_join(**overrides), now=NOW)
    db.session.rollback()
    assert _count_members() == 0
    assert outbox() == []


@pytest.mark.parametrize("status", [MemberStatus.ACTIVE, MemberStatus.WITHDRAWN])
def test_register_member_with_known_email_changes_nothing_and_sends_manage_link(
    outbox,
    status: MemberStatus,
) -> None:
    member = register_member(_join(), now=NOW).member
    assert member is not None
    member.status = status
    db.session.commit()
    before = outbox()

    result = register_member(
        _join(name="Someone Else", email="PRIYA@example.com", tier=Tier.GOLD),
        now=NOW + timedelta(hours=1),
    )
    db.session.commit()

    assert not result.created
    assert result.member is None
    assert _count_members() == 1
    db.session.refresh(member)
    assert (member.name, member.tier, member.status) == (
        "Priya Patel",
        Tier.SILVER,
        status,
    )
    (message,) = outbox()[len(before) :]
    assert message.subject.startswith("You are already registered")
    token = _link_token(message.body_text)
    assert member_for_manage_token(token, now=NOW + timedelta(hours=2)) == member


def test_register_member_again_while_pending_sends_a_fresh_confirmation_link(
    outbox,
) -> None:
    # D3: a member who never confirmed (first email lost or expired) still can.
    first = register_member(_join(), now=NOW)
    assert first.member is not None
    assert first.token is not None
    db.session.commit()
    later = NOW + timedelta(days=8)  # the first link has expired

    result = register_member(
        _join(name="Someone Else", email="PRIYA@example.com", tier=Tier.GOLD), now=later
    )
    db.session.commit()

    assert not result.created
    assert result.member is None
    assert result.token is None
    assert _count_members() == 1
    member = first.member
    db.session.refresh(member)
    assert (member.name, member.tier, member.status) == (
        "Priya Patel",
        Tier.SILVER,
        MemberStatus.PENDING,
    )
    _, message = outbox()
    assert message.to_address == "priya@example.com"
    assert message.subject == "Confirm your PPI membership"
    token = _link_token(message.body_text)
    assert token != first.token
    assert "/join/confirm/" in message.body_text
    with pytest.raises(NotFound):
        confirm_member(first.token, now=later)
    assert confirm_member(token, now=later) == member
    assert member.status is MemberStatus.ACTIVE
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "register_again")
    ).one()
    assert event.summary == (
        "join form sent with an unconfirmed address; confirm link emailed"
    )


def test_register_member_that_loses_the_race_for_its_address_answers_as_a_known_one(
    outbox,
) -> None:
    # The address is free when looked up, but another join with it commits before
    # this one writes: the unique constraint refuses the insert, and the owner is
    # emailed as for any known address, with nothing of this join stored.
    checked = check_registration(_join(name="Someone Else", email="PRIYA@example.com"))
    db.session.rollback()
    first = register_member(_join(), now=NOW)
    db.session.commit()
    assert first.member is not None
    first_id = first.member.id
    begin_write(db.session())

    result = store_registration(checked, now=NOW + timedelta(minutes=1))
    db.session.commit()

    assert not result.created
    assert result.member is None
    (member,) = db.session.scalars(select(Member))
    assert (member.id, member.name) == (first_id, "Priya Patel")
    assert db.session.scalar(select(func.count()).select_from(ConsentRecord)) == 1
    _, message = outbox()
    assert message.to_address == "priya@example.com"
    assert message.subject == "Confirm your PPI membership"
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id))
    assert list(actions) == ["register", "register_again"]


def test_confirm_member_activates_once() -> None:
    result = register_member(_join(), now=NOW)
    assert result.token is not None
    later = NOW + timedelta(days=1)

    member = confirm_member(result.token, now=later)
    db.session.commit()

    assert member.status is MemberStatus.ACTIVE
    assert member.confirmed_at == later
    with pytest.raises(NotFound):
        confirm_member(result.token, now=later)


def test_confirm_link_expires_after_seven_days() -> None:
    result = register_member(_join(), now=NOW)
    assert result.token is not None
    with pytest.raises(NotFound):
        confirm_member(result.token, now=NOW + timedelta(days=7))


def test_tokens_are_long_and_stored_only_as_hashes(outbox) -> None:
    result = register_member(_join(), now=NOW)
    request_manage_link("priya@example.com", now=NOW)
    db.session.commit()
    confirm_token = result.token
    assert confirm_token is not None
    manage_token = _link_token(outbox()[-1].body_text)

    for token in (confirm_token, manage_token):
        assert len(token) >= 43  # token_urlsafe(32): 256 bits
    hashes = set(db.session.scalars(select(MemberToken.token_hash)))
    assert hashes == {
        hashlib.sha256(t.encode()).hexdigest() for t in (confirm_token, manage_token)
    }
    # The outbox holds the emails themselves (only when no SMTP server is set).
    tables = [t for t in db.metadata.sorted_tables if t.name != "outbox_messages"]
    for table in tables:
        for row in db.session.execute(select(table)):
            dumped = json.dumps([str(v) for v in row])
            assert confirm_token not in dumped
            assert manage_token not in dumped


def test_manage_link_lasts_24_hours_and_may_be_reused(outbox) -> None:
    member = register_member(_join(), now=NOW).member
    request_manage_link("priya@example.com", now=NOW)
    db.session.commit()
    token = _link_token(outbox()[-1].body_text)

    assert member_for_manage_token(token, now=NOW + timedelta(hours=1)) == member
    assert member_for_manage_token(token, now=NOW + timedelta(hours=23)) == member
    with pytest.raises(NotFound):
        member_for_manage_token(token, now=NOW + timedelta(hours=24))
    with pytest.raises(NotFound):
        member_for_manage_token(tampered(token), now=NOW)


def test_confirm_token_does_not_open_the_manage_page() -> None:
    token = register_member(_join(), now=NOW).token
    assert token is not None
    with pytest.raises(NotFound):
        member_for_manage_token(token, now=NOW)


def test_erased_member_manage_link_is_not_found(outbox) -> None:
    member = register_member(_join(), now=NOW).member
    request_manage_link("priya@example.com", now=NOW)
    db.session.commit()
    token = _link_token(outbox()[-1].body_text)
    assert member is not None
    member.status = MemberStatus.ERASED
    db.session.commit()
    with pytest.raises(NotFound):
        member_for_manage_token(token, now=NOW)


def test_request_manage_link_for_unknown_email_does_nothing(outbox) -> None:
    request_manage_link("nobody@example.com", now=NOW)
    db.session.commit()
    assert outbox() == []
    assert db.session.scalar(select(func.count()).select_from(MemberToken)) == 0


def test_update_own_details_audits_changed_field_names_only() -> None:
    topic = Topic(name="Mental health")
    db.session.add(topic)
    db.session.commit()
    member = register_member(_join(), now=NOW).member
    db.session.commit()
    assert member is not None

    update_own_details(
        member,
        _join(
            tier=Tier.GOLD,
            topic_ids=(topic.id,),
            phone="0113 496 0000",
            consents={
                c: c in (ContactChannel.EMAIL, ContactChannel.SMS)
                for c in ContactChannel
            },
        ),
        now=NOW + timedelta(days=2),
    )
    db.session.commit()

    assert member.tier is Tier.GOLD
    assert [t.name for t in member.topics] == ["Mental health"]
    sms = [r for r in member.consents if r.channel is ContactChannel.SMS]
    assert [(r.granted, r.method) for r in sms] == [(True, ConsentMethod.SELF_SERVICE)]
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "self_service_update")
    ).one()
    assert event.actor_label == "public"
    assert event.summary == "self-service update: phone, tier, topic_ids, consents"
    assert "0113" not in event.summary


def test_update_own_details_never_takes_another_members_email() -> None:
    register_member(_join(email="other@example.com"), now=NOW)
    db.session.commit()
    member = register_member(_join(), now=NOW).member
    db.session.commit()
    assert member is not None
    before = member.email
    sent_to = update_own_details(member, _join(email="Other@example.com"), now=NOW)
    assert sent_to == "other@example.com"
    assert member.email == before
    assert member.pending_email is None


def test_withdraw_marks_member_and_withdraws_every_consent() -> None:
    member = register_member(
        _join(
            phone="07700900982",
            address="1 High Street, Leeds",
            consents=dict.fromkeys(ContactChannel, True),
        ),
        now=NOW,
    ).member
    assert member is not None
    later = NOW + timedelta(days=3)

    withdraw_own_membership(member, now=later)
    db.session.commit()

    assert member.status is MemberStatus.WITHDRAWN
    assert member.withdrawn_at == later
    assert consent.current_consents(member) == dict.fromkeys(ContactChannel, False)
    withdrawals = [r for r in member.consents if not r.granted]
    assert {r.recorded_at for r in withdrawals} == {later}
    assert {r.method for r in withdrawals} == {ConsentMethod.SELF_SERVICE}


def test_save_equality_answers_validates_and_stores() -> None:
    member = register_member(_join(), now=NOW).member
    assert member is not None
    save_equality_answers(
        member, {"age_band": "35_44", "ethnicity": "prefer_not_to_say"}, now=NOW
    )
    db.session.commit()
    assert member.equality is not None
    assert (member.equality.age_band, member.equality.sex) == ("35_44", None)
    with pytest.raises(ValidationError):
        save_equality_answers(member, {"age_band": "ancient"}, now=NOW)


def test_export_own_data_holds_everything_and_is_json() -> None:
    member = register_member(
        _join(support_needs=(SupportNeed.LARGE_PRINT,), support_other="Loop"),
        now=NOW,
    ).member
    assert member is not None
    save_equality_answers(member, {"carer": "yes"}, now=NOW)
    db.session.commit()

    data = json.loads(json.dumps(export_own_data(member)))

    assert data["member"]["email"] == "priya@example.com"
    assert data["member"]["postcode"] == "LS1 4AP"
    assert data["support_needs"] == ["Large print"]
    assert data["consent_history"][0]["channel"] == "email"
    assert data["equality_answers"]["carer"] == "yes"
    assert {"register", "equality_answers"} <= {
        e["action"] for e in data["audit_events"]
    }


def test_purge_unconfirmed_deletes_old_pending_members_and_is_repeatable() -> None:
    # Each join is its own request (register_member ends the transaction it finds).
    old = register_member(_join(email="old@example.com"), now=NOW).member
    db.session.commit()
    register_member(_join(email="new@example.com"), now=NOW + timedelta(days=10))
    db.session.commit()
    confirmed = register_member(_join(email="yes@example.com"), now=NOW)
    db.session.commit()
    assert confirmed.token is not None
    assert old is not None
    confirm_member(confirmed.token, now=NOW + timedelta(days=1))
    db.session.commit()
    old_id = old.id

    later = NOW + timedelta(days=31)
    assert purge_unconfirmed(now=later) == 1
    db.session.commit()
    assert purge_unconfirmed(now=later) == 0
    db.session.commit()

    emails = set(db.session.scalars(select(Member.email)))
    assert emails == {"new@example.com", "yes@example.com"}
    assert db.session.get(Member, old_id) is None
    leftover = db.session.execute(
        text("SELECT count(*) FROM consent_records WHERE member_id = :id"),
        {"id": old_id},
    ).scalar()
    assert leftover == 0
    assert inspect(confirmed.member).persistent
    # The confirmation email kept in the outbox (name, link) goes with them.
    addresses = set(db.session.scalars(select(OutboxMessage.to_address)))
    assert "old@example.com" not in addresses
    assert "new@example.com" in addresses


def test_audit_summaries_hold_no_personal_data(outbox) -> None:
    member = register_member(_join(phone="07700900982"), now=NOW).member
    db.session.commit()
    register_member(_join(), now=NOW)
    request_manage_link("priya@example.com", now=NOW)
    assert member is not None
    update_own_details(member, _join(name="Priya P", phone="07700900982"), now=NOW)
    withdraw_own_membership(member, now=NOW)
    db.session.commit()

    summaries = " ".join(db.session.scalars(select(AuditEvent.summary)))
    for secret in ("Priya", "priya@example.com", "07700900982", "LS1"):
        assert secret not in summaries


def test_manage_token_purpose_is_manage(outbox) -> None:
    register_member(_join(), now=NOW)
    request_manage_link("priya@example.com", now=NOW)
    db.session.commit()
    purposes = sorted(p.value for p in db.session.scalars(select(MemberToken.purpose)))
    assert purposes == [TokenPurpose.CONFIRM.value, TokenPurpose.MANAGE.value]


def test_register_member_joins_anew_when_the_known_address_went_before_the_lock(
    outbox,
) -> None:
    # The address is looked up before the write lock; if the purge job deletes that
    # unconfirmed member in between, the join goes ahead as a new one.
    first = register_member(_join(), now=NOW).member
    db.session.commit()
    assert first is not None
    first_id = first.id

    checked = check_registration(_join(name="Priya Again"))
    db.session.rollback()
    begin_write(db.session())
    session = db.session()
    session.execute(
        text("DELETE FROM member_tokens WHERE member_id = :id"), {"id": first_id}
    )
    session.execute(
        text("DELETE FROM consent_records WHERE member_id = :id"), {"id": first_id}
    )
    session.execute(text("DELETE FROM members WHERE id = :id"), {"id": first_id})
    result = store_registration(checked, now=NOW + timedelta(days=31))
    db.session.commit()

    assert result.created
    assert result.member is not None
    assert result.token is not None
    (member,) = db.session.scalars(select(Member))
    assert member.name == "Priya Again"
    last = outbox()[-1]
    assert last.subject == "Confirm your PPI membership"
    assert "Hello Priya Again," in last.body_text
    assert result.token in last.body_text
