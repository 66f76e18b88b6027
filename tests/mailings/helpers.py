"""Shared set-up for the mailing tests: members with consents, and a mailing."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from typing import Any

from engage.extensions import db
from engage.mailings.models import Mailing
from engage.membership.models import ConsentMethod
from engage.membership.models import ConsentRecord
from engage.membership.models import ContactChannel
from engage.membership.models import Member
from tests.factories import MemberFactory

#: A fixed moment for these tests (never today's date).
T0 = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)


def member(**kwargs: Any) -> Member:
    """A member joined at T0 (by default with email consent)."""
    kwargs.setdefault("created_at", T0)
    kwargs.setdefault("consents", [ContactChannel.EMAIL])
    made: Member = MemberFactory(**kwargs)
    return made


def consent(
    who: Member, channel: ContactChannel, granted: bool, at: datetime
) -> ConsentRecord:
    record = ConsentRecord(
        member_id=who.id,
        channel=channel,
        granted=granted,
        method=ConsentMethod.STAFF,
        wording_version="test",
        recorded_at=at,
    )
    db.session.add(record)
    db.session.flush()
    return record


def mailing(**kwargs: Any) -> Mailing:
    kwargs.setdefault("subject", "Spring newsletter")
    kwargs.setdefault("body", "# Spring\n\nNews for members.")
    made = Mailing(**kwargs)
    db.session.add(made)
    db.session.commit()
    return made
