"""Shared set-up for the involvement tests: an activity with sessions, and members."""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta
from typing import Any

from engage.clock import utcnow
from engage.extensions import db
from engage.involvement.models import ActivityKind
from engage.involvement.models import InvolvementActivity
from engage.involvement.models import InvolvementSession
from engage.membership.models import ContactChannel
from engage.membership.models import Member
from engage.membership.models import Tier
from tests.factories import MemberFactory


def activity(
    *,
    sessions: int = 1,
    starts: datetime | None = None,
    hours: float = 2,
    **kwargs: Any,
) -> InvolvementActivity:
    """A focus group (by default) with ``sessions`` weekly sessions, the first ten
    days after the test clock's now (or at ``starts``), saved and committed."""
    kwargs.setdefault("kind", ActivityKind.FOCUS_GROUP)
    kwargs.setdefault("title", "Stroke services focus group")
    made = InvolvementActivity(**kwargs)
    first = starts or (utcnow() + timedelta(days=10)).replace(
        hour=13, minute=0, second=0, microsecond=0
    )
    for week in range(sessions):
        begins = first + timedelta(weeks=week)
        made.sessions.append(
            InvolvementSession(
                starts_at=begins, ends_at=begins + timedelta(hours=hours)
            )
        )
    db.session.add(made)
    db.session.commit()
    return made


def gold_member(**kwargs: Any) -> Member:
    """An active Gold member who agreed to emails (unless told otherwise)."""
    kwargs.setdefault("tier", Tier.GOLD)
    kwargs.setdefault("consents", [ContactChannel.EMAIL])
    made: Member = MemberFactory(**kwargs)
    return made
