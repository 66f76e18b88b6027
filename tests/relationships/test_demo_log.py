"""The demo's relationship log: current on any day, a mix of everything, added once."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import func
from sqlalchemy import select

from engage.accounts.models import User
from engage.audiences.models import Audience
from engage.clock import today
from engage.clock import utcnow
from engage.demo import load_demo
from engage.extensions import db
from engage.relationships.demo import HEALTH_HISTORY_DAYS
from engage.relationships.models import AudienceHealth
from engage.relationships.models import AudienceLink
from engage.relationships.models import Commitment
from engage.relationships.models import CommitmentStatus
from engage.relationships.models import Interaction
from engage.relationships.models import InteractionStatus
from engage.relationships.models import LinkKind
from engage.relationships.models import Theme


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_the_demo_has_six_months_of_relationships(app: Flask) -> None:
    load_demo(now=utcnow())
    db.session.commit()
    day = today()
    interactions = list(db.session.scalars(select(Interaction)))
    confirmed = [i for i in interactions if i.status is InteractionStatus.CONFIRMED]
    drafts = [i for i in interactions if i.is_draft]
    assert len(confirmed) >= 20
    assert all(day - timedelta(days=183) <= i.occurred_on <= day for i in interactions)
    assert len({i.kind for i in confirmed}) == 6
    assert len({i.sentiment for i in confirmed}) == 4
    assert all(i.audiences for i in interactions)
    assert sum(bool(i.contacts) for i in confirmed) >= 15
    officer = db.session.scalar(
        select(User).where(User.email == "officer@engage.example")
    )
    assert len(drafts) == 2
    assert all(d.owner == officer for d in drafts)
    assert {t.name for t in db.session.scalars(select(Theme))} >= {
        "Stroke services review",
        "GP access",
    }
    commitments = list(db.session.scalars(select(Commitment)))
    assert len(commitments) == 8
    assert sum(c.is_overdue(day) for c in commitments) == 1
    assert sum(c.status is CommitmentStatus.DONE for c in commitments) >= 3
    kinds = {link.kind for link in db.session.scalars(select(AudienceLink))}
    assert {LinkKind.MEMBER_OF, LinkKind.FUNDED_BY} <= kinds
    # A month of health history, every audience each day, ending today.
    days = db.session.execute(
        select(func.min(AudienceHealth.day), func.max(AudienceHealth.day))
    ).one()
    assert days == (day - timedelta(days=HEALTH_HISTORY_DAYS - 1), day)
    audiences = db.session.scalar(
        select(func.count(Audience.id)).where(Audience.archived_at.is_(None))
    )
    assert _count(AudienceHealth) == audiences * HEALTH_HISTORY_DAYS


def test_loading_the_demo_twice_adds_no_relationships(app: Flask) -> None:
    load_demo(now=utcnow())
    db.session.commit()
    kept = (Interaction, Commitment, AudienceLink, Theme, AudienceHealth)
    counts = [_count(m) for m in kept]
    load_demo(now=utcnow())
    db.session.commit()
    assert [_count(m) for m in kept] == counts
