"""Choosing a mailing's recipients: criteria, consent, suppressions, counts, why not."""

from __future__ import annotations

import time
from datetime import date
from datetime import timedelta
from unittest import mock

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from sqlalchemy import delete
from sqlalchemy import select

from engage.audiences.models import AudienceContact
from engage.extensions import db
from engage.mailings import recipients
from engage.mailings.models import MailingRecipient
from engage.mailings.models import RecipientStatus
from engage.mailings.models import Suppression
from engage.mailings.models import SuppressionReason
from engage.membership import consent as consent_module
from engage.membership.consent import may_contact
from engage.membership.models import ConsentRecord
from engage.membership.models import ContactChannel
from engage.membership.models import Member
from engage.membership.models import MemberStatus
from engage.membership.models import Tier
from tests.factories import AudienceFactory
from tests.factories import TopicFactory
from tests.mailings.helpers import T0
from tests.mailings.helpers import consent
from tests.mailings.helpers import mailing
from tests.mailings.helpers import member

EMAIL = ContactChannel.EMAIL
SMS = ContactChannel.SMS


def _recorded(m_id: int) -> list[tuple[str, int | None, int | None, str | None]]:
    rows = db.session.execute(
        select(
            MailingRecipient.channel,
            MailingRecipient.member_id,
            MailingRecipient.contact_id,
            MailingRecipient.address,
        ).where(MailingRecipient.mailing_id == m_id)
    )
    return sorted(((c.value, mid, cid, a) for c, mid, cid, a in rows), key=str)


def test_withdrawn_unconsented_and_undeliverable_never_recorded() -> None:
    """The acceptance case (run on SQLite and PostgreSQL)."""
    ok = member(email="ok@example.org")
    member(email="gone@example.org", status=MemberStatus.WITHDRAWN, withdrawn_at=T0)
    member(email="nope@example.org", consents=[ContactChannel.POST])
    member(email="Bounced@example.org")
    member(email="pending@example.org", status=MemberStatus.PENDING)
    db.session.add(
        Suppression(
            channel=EMAIL,
            address="bounced@example.org",
            reason=SuppressionReason.BOUNCED,
            detail="550 no such user",
            recorded_at=T0,
        )
    )
    db.session.commit()
    sent = mailing()
    assert recipients.prepare(sent, T0) == 1
    assert _recorded(sent.id) == [("email", ok.id, None, "ok@example.org")]
    counts = recipients.counts(sent)
    assert counts.matched_members == 5
    line = counts.channels[0]
    assert line.members == 1
    assert line.left_out == {
        "They have withdrawn from the membership": 1,
        "They have not agreed to emails": 1,
        "They have not confirmed their membership yet": 1,
        "Their email address is on the do-not-send list (unsubscribed, "
        "undeliverable or reported as spam)": 1,
    }


def test_prepare_is_idempotent_and_adds_newcomers() -> None:
    first = member()
    sent = mailing(by_sms=True)
    consent(first, ContactChannel.SMS, True, T0)
    first.phone = "07700900001"
    db.session.commit()
    assert recipients.prepare(sent, T0) == 2
    assert recipients.prepare(sent, T0) == 0
    second = member()
    assert recipients.prepare(sent, T0 + timedelta(minutes=1)) == 1
    assert {r[1] for r in _recorded(sent.id)} == {first.id, second.id}
    statuses = set(db.session.scalars(select(MailingRecipient.status)))
    assert statuses == {RecipientStatus.PENDING}
    assert sent.prepared_at == T0


def test_criteria_and_join_dates_in_uk_time() -> None:
    topic = TopicFactory()
    # 23:30 UTC on 31 March 2026 is 00:30 on 1 April in the UK (BST).
    late = member(
        tier=Tier.GOLD,
        topics=[topic],
        created_at=T0.replace(month=3, day=31, hour=23, minute=30),
    )
    member(tier=Tier.SILVER, topics=[topic], created_at=T0.replace(month=4, day=2))
    member(tier=Tier.GOLD, created_at=T0.replace(month=4, day=2))
    sent = mailing(
        tier=Tier.GOLD,
        topic_id=topic.id,
        joined_from=date(2026, 4, 1),
        joined_to=date(2026, 4, 30),
    )
    recipients.prepare(sent, T0)
    assert [r[1] for r in _recorded(sent.id)] == [late.id]
    sent.joined_from = date(2026, 4, 2)
    silver = db.session.scalars(select(Member).where(Member.tier == Tier.SILVER)).one()
    assert recipients.why_not(sent, silver) == [
        "They are Silver; this mailing is for Gold members"
    ]
    assert recipients.why_not(sent, late) == [
        "They joined on 1 April 2026; this mailing is for members who joined on or "
        "after 2 April 2026"
    ]


def test_contacts_by_email_without_duplicates_or_suppressed() -> None:
    audience = AudienceFactory()
    both = member(email="both@example.org")
    for name, address in [
        ("A", "Contact@Example.org"),
        ("B", "contact@example.org"),  # the same address twice
        ("C", ""),
        ("D", "both@example.org"),  # already gets it as a member
        ("E", "stop@example.org"),
    ]:
        db.session.add(
            AudienceContact(audience_id=audience.id, name=name, email=address)
        )
    db.session.add(
        Suppression(
            channel=EMAIL,
            address="stop@example.org",
            reason=SuppressionReason.UNSUBSCRIBED,
            recorded_at=T0,
        )
    )
    sent = mailing()
    sent.audiences.append(audience)
    db.session.commit()
    line = recipients.counts(sent).channels[0]
    assert (line.members, line.contacts) == (1, 1)
    assert line.left_out == {
        "Stakeholder contacts whose email address already gets it": 2,
        "Stakeholder contacts with no email address": 1,
        "Stakeholder contacts whose email address is on the do-not-send list": 1,
    }
    assert recipients.prepare(sent, T0) == 2
    assert recipients.prepare(sent, T0) == 0
    addresses = [r[3] for r in _recorded(sent.id)]
    assert sorted(addresses) == ["both@example.org", "contact@example.org"]
    assert both.id in {r[1] for r in _recorded(sent.id)}


def test_a_member_who_said_no_to_e_mails_gets_none_as_a_contact() -> None:
    audience = AudienceFactory()
    left = member(email="left@example.org")
    consent(left, EMAIL, True, T0)
    consent(left, EMAIL, False, T0 + timedelta(days=1))
    back = member(email="back@example.org")
    consent(back, EMAIL, False, T0)
    consent(back, EMAIL, True, T0 + timedelta(days=1))
    for name, address in [("L", " Left@Example.org "), ("B", "back@example.org")]:
        db.session.add(
            AudienceContact(audience_id=audience.id, name=name, email=address)
        )
    sent = mailing(to_members=False)
    sent.audiences.append(audience)
    db.session.commit()
    line = recipients.counts(sent).channels[0]
    assert line.contacts == 1
    assert line.left_out == {
        "Stakeholder contacts whose email address is a member's who has said no "
        "to emails": 1
    }
    recipients.prepare(sent, T0)
    assert [r[3] for r in _recorded(sent.id)] == ["back@example.org"]


def test_an_address_is_compared_in_one_form_in_sql_and_in_python() -> None:
    untidy = member(email="  Pat@Example.ORG ", phone=" 07700 900123 ")
    for channel, address in ((EMAIL, "pat@example.org"), (SMS, "07700 900123")):
        db.session.add(
            Suppression(
                channel=channel,
                address=address,
                reason=SuppressionReason.BOUNCED,
                recorded_at=T0,
            )
        )
    consent(untidy, SMS, True, T0)
    sent = mailing(by_sms=True)
    db.session.commit()
    lines = {line.channel: line for line in recipients.counts(sent).channels}
    assert (lines[EMAIL].members, lines[SMS].members) == (0, 0)
    assert recipients.why_not(sent, untidy) == [
        "Their email address is undeliverable",
        "Their mobile number is undeliverable",
    ]
    assert recipients.prepare(sent, T0) == 0


def test_why_not_in_plain_words() -> None:
    sent = mailing(tier=Tier.GOLD, by_sms=True)
    gone = member(tier=Tier.GOLD, status=MemberStatus.WITHDRAWN, withdrawn_at=T0)
    assert recipients.why_not(sent, gone) == [
        "They withdrew from the membership on 3 March 2026"
    ]
    quiet = member(tier=Tier.GOLD, consents=[ContactChannel.POST])
    assert recipients.why_not(sent, quiet) == [
        "They have not agreed to emails",
        "They have not agreed to text messages",
    ]
    bounced = member(tier=Tier.GOLD, email="b@example.org")
    db.session.add(
        Suppression(
            channel=EMAIL,
            address="b@example.org",
            reason=SuppressionReason.BOUNCED,
            detail="the mailbox does not exist",
            recorded_at=T0,
        )
    )
    db.session.flush()
    assert recipients.why_not(sent, bounced) == [
        "Their email address is undeliverable: the mailbox does not exist",
        "They have not agreed to text messages",
    ]
    fine = member(tier=Tier.GOLD)
    assert recipients.why_not(sent, fine) == []
    assert recipients.included_channels(sent, fine) == [EMAIL]
    assert [m.id for m in recipients.find_members("MEMBER")] != []
    assert recipients.find_members("%") == []


statuses = st.sampled_from(list(MemberStatus))
records = st.lists(
    st.tuples(
        st.sampled_from([EMAIL, ContactChannel.SMS]),
        st.booleans(),
        st.integers(min_value=0, max_value=3),
    ),
    max_size=4,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    people=st.lists(st.tuples(statuses, records), min_size=1, max_size=4),
    since=st.none() | st.integers(min_value=0, max_value=3),
)
def test_sql_rule_matches_may_contact(
    people: list[tuple[MemberStatus, list[tuple[ContactChannel, bool, int]]]],
    since: int | None,
) -> None:
    db.session.execute(delete(ConsentRecord))
    db.session.execute(delete(Member))
    made = []
    for status, history in people:
        who = member(status=status, consents=[], phone="07700900000")
        for channel, granted, minute in history:
            consent(who, channel, granted, T0 + timedelta(minutes=minute))
        made.append(who)
    db.session.commit()
    moment = None if since is None else T0 + timedelta(minutes=since)
    with (
        mock.patch.object(consent_module, "fresh_consent_since", return_value=moment),
        mock.patch.object(recipients, "fresh_consent_since", return_value=moment),
    ):
        for channel in (EMAIL, ContactChannel.SMS):
            members, why = recipients.member_reasons(channel)
            rows = db.session.execute(select(Member.id, why).select_from(members))
            allowed = {
                m_id for m_id, code in rows if code not in recipients.NOT_ALLOWED
            }
            assert len({m.id for m in made}) == len(made)
            for who in made:
                db.session.refresh(who)
                assert (who.id in allowed) == may_contact(who, channel)


@pytest.mark.slow
@pytest.mark.alone
def test_prepare_fifty_thousand_members_quickly() -> None:
    from sqlalchemy import insert

    size = 50_000
    db.session.execute(
        insert(Member),
        [
            {
                "name": f"Member {n}",
                "email": f"bulk{n}@example.org",
                "tier": Tier.SILVER,
                "status": MemberStatus.ACTIVE,
                "joined_by": "web-form",
                "created_at": T0,
                "updated_at": T0,
            }
            for n in range(size)
        ],
    )
    ids = list(db.session.scalars(select(Member.id)))
    db.session.execute(
        insert(ConsentRecord),
        [
            {
                "member_id": m_id,
                "channel": EMAIL,
                "granted": m_id % 10 != 0,
                "method": "web-form",
                "wording_version": "test",
                "recorded_at": T0,
            }
            for m_id in ids
        ],
    )
    db.session.commit()
    sent = mailing()
    started = time.monotonic()
    added = recipients.prepare(sent, T0)
    elapsed = time.monotonic() - started
    assert added == size - size // 10
    assert elapsed < 10, elapsed
