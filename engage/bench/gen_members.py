"""Benchmark data: PPI members with their topics, consents and equality answers."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import time
from datetime import timedelta
from typing import Any

from engage.bench.gen_rows import START
from engage.bench.gen_rows import Context
from engage.bench.gen_rows import insert_rows
from engage.bench.gen_rows import row_ids
from engage.bench.gen_rows import some
from engage.clock import utcnow
from engage.membership.equality import QUESTIONS
from engage.membership.models import ConsentMethod
from engage.membership.models import ConsentRecord
from engage.membership.models import ContactChannel
from engage.membership.models import EqualityAnswers
from engage.membership.models import Member
from engage.membership.models import MemberStatus
from engage.membership.models import Tier
from engage.membership.models import member_topics
from engage.membership.rollup import MEMBER_DAYS

#: When the generated consents were recorded (the data set's first day).
CONSENTED_AT = datetime.combine(START, time(), tzinfo=UTC)
#: The share of members who agreed to each channel.
CONSENT_SHARES = ((ContactChannel.EMAIL, 0.85), (ContactChannel.SMS, 0.2))


def _member_row(ctx: Context, i: int) -> dict[str, Any]:
    rng = ctx.rng
    created = ctx.moment()
    joined_by = rng.choices(
        [ConsentMethod.WEB_FORM, ConsentMethod.PHONE, ConsentMethod.PAPER], [85, 10, 5]
    )[0]
    status = rng.choices(
        [
            MemberStatus.ACTIVE,
            MemberStatus.PENDING,
            MemberStatus.WITHDRAWN,
            MemberStatus.ERASED,
        ],
        [80, 4, 12, 4],
    )[0]
    confirmed = None
    if joined_by is ConsentMethod.WEB_FORM and status is not MemberStatus.PENDING:
        confirmed = created + timedelta(hours=rng.randint(1, 72))
    withdrawn = None
    if status in (MemberStatus.WITHDRAWN, MemberStatus.ERASED):
        withdrawn = created + timedelta(days=rng.randint(5, 400))
    erased = status is MemberStatus.ERASED
    return {
        "name": None if erased else f"Member {i} Benchmark",
        "email": None if erased else f"member{i}@bench-members.example",
        "phone": None if erased else f"07700 9{i % 100000:05}",
        "address": None,
        "postcode": None if erased else f"LS{i % 30} {i % 10}AB",
        "practice_id": rng.choice(ctx.ids["practices"]),
        "tier": rng.choices([Tier.GOLD, Tier.SILVER], [30, 70])[0],
        "status": status,
        "joined_by": joined_by,
        "is_champion": rng.random() < 0.02,
        "created_at": created,
        "updated_at": created,
        "confirmed_at": confirmed,
        "withdrawn_at": withdrawn,
        "erased_at": withdrawn + timedelta(days=30) if erased and withdrawn else None,
    }


def members(ctx: Context) -> None:
    """PPI members with topics, consents (most to email) and equality answers."""
    count = insert_rows(
        ctx,
        Member.__table__,
        (_member_row(ctx, i) for i in range(ctx.sizes["members"])),
        "members",
    )
    ctx.progress(f"  members: {count:,}")
    # Bulk inserts skip the ORM hook that keeps the dashboard's rollup up to date.
    MEMBER_DAYS.rebuild(ctx.conn)
    member_ids = row_ids(ctx, Member.__table__)
    rng = ctx.rng
    topics = ctx.ids["topics"]
    insert_rows(
        ctx,
        member_topics,
        (
            {"member_id": member_id, "topic_id": topic_id}
            for member_id in member_ids
            for topic_id in some(rng, topics, 0, 3)
        ),
        "member topics",
    )
    insert_rows(
        ctx,
        ConsentRecord.__table__,
        (
            {
                "member_id": member_id,
                "channel": channel,
                "granted": True,
                "method": ConsentMethod.WEB_FORM,
                "wording_version": "bench",
                "recorded_at": CONSENTED_AT,
            }
            for member_id in member_ids
            for channel, share in CONSENT_SHARES
            if rng.random() < share
        ),
        "consent records",
    )
    now = utcnow()
    insert_rows(
        ctx,
        EqualityAnswers.__table__,
        (
            {
                "member_id": member_id,
                **{
                    q.field: rng.choice([None, *(value for value, _ in q.answers)])
                    for q in QUESTIONS
                },
                "recorded_at": now,
            }
            for member_id in member_ids
            if rng.random() < 0.6
        ),
        "equality answers",
    )
