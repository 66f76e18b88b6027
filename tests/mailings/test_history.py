"""A member's mailing history: their record, subject access, and erasure."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from engage.clock import utcnow
from engage.extensions import db
from engage.mailings.measurement import record_delivery
from engage.mailings.measurement import refresh_mailing_figures
from engage.mailings.models import MailingRecipient
from engage.mailings.models import RecipientStatus
from engage.mailings.models import Suppression
from engage.mailings.models import SuppressionReason
from engage.membership.models import ContactChannel
from engage.membership.models import Member
from engage.membership.models import TokenPurpose
from engage.membership.registration import issue_token
from engage.membership.self_service import export_own_data
from engage.membership.services import ErasureReason
from engage.membership.services import erase_member
from tests import factories
from tests.mailings.measure_helpers import figures_of
from tests.mailings.measure_helpers import sent_mailing

S = RecipientStatus


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _member_with_history() -> Member:
    member = factories.MemberFactory(
        name="Sam Jones", consents=[ContactChannel.EMAIL, ContactChannel.POST]
    )
    sent_mailing(
        [S.BOUNCED],
        subject="November bulletin",
        members=[member],
        started_at=utcnow() - timedelta(days=20),
    )
    sent_mailing(
        [(S.DELIVERED, ContactChannel.EMAIL), (S.PRINTED, ContactChannel.POST)],
        subject="December newsletter",
        members=[member, member],
    )
    copy = db.session.scalars(
        select(MailingRecipient).where(MailingRecipient.status == S.DELIVERED)
    ).one()
    copy.unsubscribed_at = utcnow()
    db.session.commit()
    return member


def test_the_staff_record_lists_what_was_sent_and_what_happened(
    client: FlaskClient, login: Any, cast: dict[str, Any]
) -> None:
    member = _member_with_history()
    factories.MemberFactory(name="Someone else")
    login(cast["lead"])
    words = _text(client.get(f"/members/{member.id}").get_data(as_text=True))
    section = words.split("Mailings sent to them", 1)[1].split("History", 1)[0]
    assert "December newsletter Email" in section
    assert "Delivered; they unsubscribed with its link" in section
    assert "December newsletter Letter" in section
    assert "Printed and posted" in section
    assert "November bulletin Email" in section
    assert "Bounced: the address does not exist" in section
    assert section.index("December newsletter") < section.index("November bulletin")
    # Leads cannot open mailings, so the subjects are not links for them.
    assert (
        "/mailings/"
        not in client.get(f"/members/{member.id}")
        .get_data(as_text=True)
        .split("Mailings sent to them", 1)[1]
        .split("History", 1)[0]
    )


def test_subject_access_and_own_data_include_the_mailings(
    client: FlaskClient, login: Any, cast: dict[str, Any]
) -> None:
    member = _member_with_history()
    copy = db.session.scalars(
        select(MailingRecipient).where(MailingRecipient.status == S.DELIVERED)
    ).one()
    copy.opened_at = utcnow() - timedelta(hours=2)
    copy.clicked_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    sent = export_own_data(member)["mailings_sent"]
    assert [(m["subject"], m["channel"], m["status"]) for m in sent] == [
        ("December newsletter", "Letter", "printed"),
        ("December newsletter", "Email", "delivered"),
        ("November bulletin", "Email", "bounced"),
    ]
    delivered = sent[1]
    assert delivered["address"] == member.email
    assert delivered["unsubscribed_at"] == copy.unsubscribed_at.isoformat()
    assert delivered["opened_at"] == copy.opened_at.isoformat()
    assert delivered["clicked_at"] == copy.clicked_at.isoformat()
    assert delivered["what_happened"] == "Delivered; they unsubscribed with its link"
    assert {"sent_at", "outcome_at"} <= set(delivered)
    login(cast["admin"])
    data = json.loads(client.get(f"/members/{member.id}/subject-access.json").data)
    assert data["mailings_sent"] == json.loads(json.dumps(sent))
    client.post("/logout")
    assert sent[2]["address"] == member.email

    token = issue_token(member, TokenPurpose.MANAGE, timedelta(hours=1), now=utcnow())
    db.session.commit()
    words = _text(client.get(f"/membership/manage/{token}/data").get_data(as_text=True))
    assert "Newsletters and mailings we sent you" in words
    assert "November bulletin Email" in words
    assert "Bounced: the address does not exist" in words


def test_erasure_removes_the_history_but_not_the_totals_or_suppressions() -> None:
    action = factories.ActionFactory()
    member = factories.MemberFactory(consents=[ContactChannel.EMAIL])
    other = factories.MemberFactory(consents=[ContactChannel.EMAIL])
    mailing = sent_mailing(
        [S.BOUNCED, S.DELIVERED], action=action, members=[member, other]
    )
    db.session.add(
        Suppression(
            channel=ContactChannel.EMAIL,
            address=member.email,
            reason=SuppressionReason.BOUNCED,
            mailing_id=mailing.id,
            recorded_at=utcnow(),
        )
    )
    record_delivery(mailing, now=utcnow())
    db.session.commit()

    erase_member(
        member, actor="system", reason=ErasureReason.MEMBER_REQUEST, now=utcnow()
    )
    db.session.commit()

    remaining = db.session.scalars(select(MailingRecipient)).all()
    assert [r.member_id for r in remaining] == [other.id]
    assert export_own_data(member)["mailings_sent"] == []
    assert (
        db.session.scalars(select(Suppression)).one().reason
        is SuppressionReason.BOUNCED
    )
    refresh_mailing_figures(now=utcnow())
    db.session.commit()
    assert figures_of(mailing) == {"sent": 2, "delivered": 1, "bounced": 1}
