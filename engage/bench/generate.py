"""Benchmark data: a county-scale data set built fast with bulk inserts.

``generate(engine, scale=1.0)`` fills an empty schema with a deterministic (seeded)
data set: at scale 1, 50,000 members, 300 audiences, 5,000 actions and 20,000
deliveries over three years. Rows go in with SQLAlchemy Core ``insert`` in chunks,
never through the ORM. ``STEPS`` is the ordered list of generator steps; the
features still to come add theirs where the INTEGRATION comments say.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Table, insert

from engage.accounts.models import Role, User
from engage.accounts.passwords import hash_password
from engage.actions.models import (
    Action,
    ActionStatus,
    Activity,
    Channel,
    ReachFigure,
    Recurrence,
    action_audiences,
    action_owners,
    activity_audiences,
)
from engage.actions.services import DEFAULT_CHANNELS
from engage.audiences.models import (
    Approach,
    Audience,
    AudienceGroup,
    Programme,
    ProgrammeApproach,
)
from engage.membership.equality import QUESTIONS
from engage.membership.lists import DEFAULT_TOPICS
from engage.membership.models import (
    ConsentMethod,
    EqualityAnswers,
    Member,
    MemberStatus,
    Practice,
    Tier,
    Topic,
    member_topics,
)

SEED = 20261126
CHUNK = 5_000
#: The bench users' password (a throwaway database; never a real one).
BENCH_PASSWORD = "bench password for a throwaway database"  # noqa: S105  # nosec B105
#: The data set ends here; it covers the three years before.
END = date(2026, 11, 25)
START = END - timedelta(days=3 * 365)

#: Row counts at ``scale=1`` (the issue's county-scale figures).
SIZES = {
    "users": 25,
    "programmes": 20,
    "audiences": 300,
    "practices": 120,
    "members": 50_000,
    "actions": 5_000,
    "activities": 20_000,
    # INTEGRATION (surveys branch): "surveys": 200, "responses": 500_000 (one survey
    # with 100,000).
    # INTEGRATION (metrics branch): "observations": 2_000_000, "feeds": 100,
    # "mentions": 50_000.
}


@dataclass
class Context:
    """What steps share: the connection, the seeded generator, sizes, ids so far."""

    conn: Connection
    rng: random.Random
    sizes: dict[str, int]
    ids: dict[str, list[int]]
    progress: Callable[[str], None]

    def moment(self, start: date = START, end: date = END) -> datetime:
        """A random moment between two days (UTC)."""
        span = (end - start).days * 86400
        offset = self.rng.randrange(max(span, 1))
        return datetime(start.year, start.month, start.day, tzinfo=UTC) + timedelta(
            seconds=offset
        )


def _chunks(rows: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _insert(
    ctx: Context, table: Table, rows: Iterable[dict[str, Any]], label: str
) -> int:
    total = 0
    for chunk in _chunks(rows):
        ctx.conn.execute(insert(table), chunk)
        total += len(chunk)
        if total % (CHUNK * 4) == 0:
            ctx.progress(f"  {label}: {total:,}")
    return total


def _ids(ctx: Context, table: Table) -> list[int]:
    return [
        row[0] for row in ctx.conn.execute(table.select().with_only_columns(table.c.id))
    ]


def _some(rng: random.Random, items: list[Any], low: int, high: int) -> list[Any]:
    return rng.sample(items, min(len(items), rng.randint(low, high)))


# Steps --------------------------------------------------------------------------------


def users(ctx: Context) -> None:
    """Staff: one admin, officers and leads, sharing one password hash."""
    password = hash_password(BENCH_PASSWORD)
    now = datetime.now(UTC)
    roles = [Role.ADMIN, Role.LEAD] + [Role.OFFICER] * (ctx.sizes["users"] - 2)
    _insert(
        ctx,
        User.__table__,
        (
            {
                "email": f"{role.value}{i}@bench.example",
                "name": f"Bench {role.label} {i}",
                "role": role,
                "password_hash": password,
                "is_active": True,
                "session_version": 1,
                "created_at": now,
                "updated_at": now,
            }
            for i, role in enumerate(roles)
        ),
        "users",
    )
    ctx.ids["users"] = _ids(ctx, User.__table__)


def reference_lists(ctx: Context) -> None:
    """Channels, programmes, GP practices and topics."""
    now = datetime.now(UTC)
    _insert(
        ctx,
        Channel.__table__,
        ({"name": n, "is_active": True} for n in DEFAULT_CHANNELS),
        "channels",
    )
    _insert(
        ctx,
        Programme.__table__,
        (
            {
                "name": f"Programme {i}",
                "description": "",
                "is_active": True,
                "created_at": now,
                "updated_at": now,
            }
            for i in range(ctx.sizes["programmes"])
        ),
        "programmes",
    )
    _insert(
        ctx,
        Practice.__table__,
        (
            {"name": f"Practice {i}", "code": f"P{i:05}", "is_active": True}
            for i in range(ctx.sizes["practices"])
        ),
        "practices",
    )
    _insert(
        ctx,
        Topic.__table__,
        ({"name": n, "is_active": True} for n in DEFAULT_TOPICS),
        "topics",
    )
    for name, table in (
        ("channels", Channel.__table__),
        ("programmes", Programme.__table__),
        ("practices", Practice.__table__),
        ("topics", Topic.__table__),
    ):
        ctx.ids[name] = _ids(ctx, table)


def audiences(ctx: Context) -> None:
    """Audiences on the map, a tenth with a programme override."""
    rng = ctx.rng
    groups, approaches = list(AudienceGroup), list(Approach)
    _insert(
        ctx,
        Audience.__table__,
        (
            {
                "name": f"Audience {i}",
                "group": rng.choice(groups),
                "influence": rng.randint(1, 5),
                "interest": rng.randint(1, 5),
                "approach": rng.choice(approaches),
                "owner_id": rng.choice(ctx.ids["users"]),
                "notes": "",
                "created_at": ctx.moment(START, START + timedelta(days=90)),
                "updated_at": ctx.moment(),
            }
            for i in range(ctx.sizes["audiences"])
        ),
        "audiences",
    )
    ctx.ids["audiences"] = _ids(ctx, Audience.__table__)
    _insert(
        ctx,
        ProgrammeApproach.__table__,
        (
            {
                "audience_id": audience_id,
                "programme_id": rng.choice(ctx.ids["programmes"]),
                "approach": rng.choice(approaches),
                "rationale": "",
            }
            for audience_id in ctx.ids["audiences"][::10]
        ),
        "overrides",
    )


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
    """PPI members with topics and (for most) equality answers."""
    count = _insert(
        ctx,
        Member.__table__,
        (_member_row(ctx, i) for i in range(ctx.sizes["members"])),
        "members",
    )
    ctx.progress(f"  members: {count:,}")
    member_ids = _ids(ctx, Member.__table__)
    rng = ctx.rng
    topics = ctx.ids["topics"]
    _insert(
        ctx,
        member_topics,
        (
            {"member_id": member_id, "topic_id": topic_id}
            for member_id in member_ids
            for topic_id in _some(rng, topics, 0, 3)
        ),
        "member topics",
    )
    now = datetime.now(UTC)
    _insert(
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


def actions(ctx: Context) -> None:
    """Actions in the plan with audiences and owners."""
    rng = ctx.rng
    statuses = [
        ActionStatus.PLANNED,
        ActionStatus.IN_PROGRESS,
        ActionStatus.DONE,
        ActionStatus.CANCELLED,
    ]
    recurrences = list(Recurrence)

    def row(i: int) -> dict[str, Any]:
        created = ctx.moment()
        status = rng.choices(statuses, [30, 25, 40, 5])[0]
        due = (
            None
            if rng.random() < 0.1
            else (created + timedelta(days=rng.randint(-30, 400))).date()
        )
        return {
            "title": f"Action {i}",
            "channel_id": rng.choice(ctx.ids["channels"]),
            "programme_id": rng.choice(ctx.ids["programmes"])
            if rng.random() < 0.5
            else None,
            "all_audiences": rng.random() < 0.05,
            "audience_note": "",
            "responsibility": "",
            "start_date": None,
            "due_date": due,
            "timescale": "",
            "recurrence": rng.choices(recurrences, [60, 5, 15, 3, 7, 2, 3, 5])[0],
            "next_due_date": due,
            "status": status,
            "success_measure": "",
            "completed_at": created + timedelta(days=rng.randint(1, 300))
            if status is ActionStatus.DONE
            else None,
            "created_at": created,
            "updated_at": created,
        }

    _insert(
        ctx, Action.__table__, (row(i) for i in range(ctx.sizes["actions"])), "actions"
    )
    ctx.ids["actions"] = _ids(ctx, Action.__table__)
    _insert(
        ctx,
        action_audiences,
        (
            {"action_id": action_id, "audience_id": audience_id}
            for action_id in ctx.ids["actions"]
            for audience_id in _some(rng, ctx.ids["audiences"], 1, 3)
        ),
        "action audiences",
    )
    _insert(
        ctx,
        action_owners,
        (
            {"action_id": a, "user_id": rng.choice(ctx.ids["users"])}
            for a in ctx.ids["actions"]
        ),
        "action owners",
    )


def activities(ctx: Context) -> None:
    """Deliveries over three years, each with audiences reached and reach figures."""
    rng = ctx.rng
    now = datetime.now(UTC)

    def row(i: int) -> dict[str, Any]:
        day = ctx.moment().date()
        return {
            "action_id": rng.choice(ctx.ids["actions"]),
            "occurred_on": day,
            "description": f"Delivery {i}",
            "notes": "",
            "created_by_id": rng.choice(ctx.ids["users"]),
            "created_at": now,
        }

    _insert(
        ctx,
        Activity.__table__,
        (row(i) for i in range(ctx.sizes["activities"])),
        "activities",
    )
    activity_ids = _ids(ctx, Activity.__table__)
    _insert(
        ctx,
        activity_audiences,
        (
            {"activity_id": activity_id, "audience_id": audience_id}
            for activity_id in activity_ids
            for audience_id in _some(rng, ctx.ids["audiences"], 1, 2)
        ),
        "activity audiences",
    )
    labels = ["recipients", "opens", "attendees", "views"]
    _insert(
        ctx,
        ReachFigure.__table__,
        (
            {"activity_id": activity_id, "label": label, "value": rng.randint(0, 5000)}
            for activity_id in activity_ids
            for label in _some(rng, labels, 1, 2)
        ),
        "reach figures",
    )


#: The generator's steps in order (later steps use earlier ones' ids).
STEPS: list[Callable[[Context], None]] = [
    users,
    reference_lists,
    audiences,
    members,
    actions,
    activities,
    # INTEGRATION (metrics branch): metrics and 2,000,000 observations; 100 feeds with
    # 50,000 mentions.
    # INTEGRATION (surveys branch): 200 surveys with 500,000 responses (one 100,000).
]


def generate(
    engine: Engine,
    *,
    scale: float = 1.0,
    seed: int = SEED,
    progress: Callable[[str], None] = lambda _: None,
) -> dict[str, int]:
    """Fill an empty schema; return the row counts used. Deterministic for a seed."""
    if scale <= 0:
        raise ValueError("scale must be positive")
    sizes = {key: max(1, round(value * scale)) for key, value in SIZES.items()}
    sizes["users"] = max(sizes["users"], 3)
    with engine.begin() as conn:
        # A seeded generator for reproducible test data, not for secrets.
        rng = random.Random(seed)  # noqa: S311  # nosec B311
        ctx = Context(conn, rng, sizes, {}, progress)
        for step in STEPS:
            progress(f"generating {step.__name__}…")
            step(ctx)
    return sizes
