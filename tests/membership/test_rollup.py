"""The membership rollup always gives the figures members' own dates give."""

from __future__ import annotations

import random
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from engage.extensions import db
from engage.membership import figures
from engage.membership import registration
from engage.membership import services
from engage.membership.models import STAFF_JOIN_METHODS
from engage.membership.models import ConsentMethod
from engage.membership.models import ContactChannel
from engage.membership.models import Member
from engage.membership.models import MemberDay
from engage.membership.models import MemberStatus
from engage.membership.models import Tier
from engage.membership.rollup import MEMBER_DAYS
from tests.membership.test_registration import register_member

START = datetime(2025, 1, 1, tzinfo=UTC)


def _moment(rng: random.Random, after: datetime | None = None) -> datetime:
    base = after or START
    return base + timedelta(minutes=rng.randrange(0, 60 * 24 * 120))


def _active_at_end_of(day: date) -> dict[Tier, int]:
    """Counted by hand from every member's dates (the rule membership.figures
    documents), not from the rollup."""
    moment = datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)
    counts = dict.fromkeys(Tier, 0)
    for m in db.session.scalars(select(Member)):
        active_from = (
            m.created_at if m.joined_by in STAFF_JOIN_METHODS else m.confirmed_at
        )
        if (
            m.created_at < moment
            and active_from is not None
            and active_from < moment
            and (m.withdrawn_at is None or m.withdrawn_at >= moment)
            and (m.erased_at is None or m.erased_at >= moment)
        ):
            counts[m.tier] += 1
    return counts


def _moves_in(start: date, end: date) -> tuple[int, int]:
    low = datetime.combine(start, time.min, tzinfo=UTC)
    high = datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)
    joined = withdrawn = 0
    for m in db.session.scalars(select(Member)):
        active_from = (
            m.created_at if m.joined_by in STAFF_JOIN_METHODS else m.confirmed_at
        )
        joined += active_from is not None and low <= active_from < high
        withdrawn += m.withdrawn_at is not None and low <= m.withdrawn_at < high
    return joined, withdrawn


def _stored() -> set[tuple[Any, ...]]:
    db.session.flush()
    return {tuple(row) for row in db.session.execute(select(*MemberDay.__table__.c))}


def _check(rng: random.Random) -> None:
    stored = _stored()
    # What the flushes kept equals a recount from scratch…
    assert MEMBER_DAYS.rebuild(db.session.connection()) == len(stored)
    assert _stored() == stored
    # …and the figures equal counting every member by hand.
    days = sorted(
        {(START + timedelta(days=rng.randrange(250))).date() for _ in range(12)}
    )
    ranges = [(day, day + timedelta(days=rng.randrange(40))) for day in days]
    active, moves = figures.member_counts(days, ranges)
    assert active == [_active_at_end_of(day) for day in days]
    assert moves == [_moves_in(start, end) for start, end in ranges]


def _change(rng: random.Random, member: Member) -> None:
    change = rng.randrange(5)
    if change == 0:
        member.tier = Tier.GOLD if member.tier is Tier.SILVER else Tier.SILVER
    elif change == 1 and member.withdrawn_at is None:
        member.withdrawn_at = _moment(rng, member.created_at)
    elif change == 2:
        member.erased_at = _moment(rng, member.created_at)
    elif change == 3 and member.confirmed_at is None:
        member.confirmed_at = _moment(rng, member.created_at)
    else:
        member.created_at = _moment(rng)


@pytest.mark.parametrize("seed", [1, 2])
def test_rollup_follows_every_change_made_through_the_orm(seed: int) -> None:
    rng = random.Random(seed)
    members = []
    for index in range(60):
        created = _moment(rng)
        staff = rng.random() < 0.2
        member = Member(
            name=f"Member {index}",
            email=f"m{seed}-{index}@example.org",
            tier=rng.choice(list(Tier)),
            status=MemberStatus.ACTIVE,
            joined_by=rng.choice(STAFF_JOIN_METHODS)
            if staff
            else ConsentMethod.WEB_FORM,
            created_at=created,
            updated_at=created,
            confirmed_at=None if staff or rng.random() < 0.2 else _moment(rng, created),
        )
        if rng.random() < 0.3:
            member.withdrawn_at = _moment(rng, created)
        members.append(member)
    db.session.add_all(members)
    db.session.flush()  # checked after the first changes: checking reads every date
    # Changes to just-inserted members (their unset dates never read), to flushed
    # ones and to expired ones (after a commit) alike.
    for round_ in range(3):
        for member in rng.sample(members, 20):
            _change(rng, member)
        if round_ == 0:
            db.session.flush()
        else:
            db.session.commit()
        _check(rng)
    for member in rng.sample(members, 10):
        db.session.delete(member)
    db.session.commit()
    _check(rng)


def test_a_member_joining_confirming_and_leaving_through_the_services(
    app: Flask, cast: dict[str, Any]
) -> None:
    with app.test_request_context():  # the confirmation email's links
        _join_confirm_and_leave(cast)


def _join_confirm_and_leave(cast: dict[str, Any]) -> None:
    day = date(2026, 3, 2)
    now = datetime.combine(day, time(10), tzinfo=UTC)
    result = register_member(
        registration.Registration(
            name="Pat Member",
            email="pat@example.org",
            postcode="LS1 4AP",
            tier=Tier.SILVER,
            consents={ContactChannel.EMAIL: True},
        ),
        now=now,
    )
    db.session.commit()

    def figures_today() -> tuple[dict[Tier, int], tuple[int, int]]:
        (active,), (moves,) = figures.member_counts([day], [(day, day)])
        return active, moves

    assert figures_today() == (dict.fromkeys(Tier, 0), (0, 0))  # pending
    assert result.token is not None
    member = registration.confirm_member(result.token, now=now + timedelta(minutes=5))
    db.session.commit()
    assert figures_today() == ({Tier.SILVER: 1, Tier.GOLD: 0}, (1, 0))
    services.change_tier(member, Tier.GOLD, actor=cast["officer"], now=now)
    db.session.commit()
    assert figures_today() == ({Tier.SILVER: 0, Tier.GOLD: 1}, (1, 0))
    services.withdraw_on_request(
        member, actor=cast["officer"], now=now + timedelta(days=1)
    )
    db.session.commit()
    assert figures_today() == ({Tier.SILVER: 0, Tier.GOLD: 1}, (1, 0))
    (tomorrow,), (moves,) = figures.member_counts(
        [day + timedelta(days=1)], [(day, day + timedelta(days=1))]
    )
    assert (tomorrow[Tier.GOLD], moves) == (0, (1, 1))
