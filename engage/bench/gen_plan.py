"""Benchmark data: staff, reference lists, the stakeholder map and the action plan."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from engage.accounts.models import Role
from engage.accounts.models import User
from engage.accounts.passwords import hash_password
from engage.actions import rollup as delivery_rollup
from engage.actions.models import Action
from engage.actions.models import ActionStatus
from engage.actions.models import Activity
from engage.actions.models import Channel
from engage.actions.models import ReachFigure
from engage.actions.models import Recurrence
from engage.actions.models import action_audiences
from engage.actions.models import action_owners
from engage.actions.models import activity_audiences
from engage.actions.services import DEFAULT_CHANNELS
from engage.audiences.models import Approach
from engage.audiences.models import Audience
from engage.audiences.models import AudienceGroup
from engage.audiences.models import Programme
from engage.audiences.models import ProgrammeApproach
from engage.bench.gen_rows import START
from engage.bench.gen_rows import Context
from engage.bench.gen_rows import insert_rows
from engage.bench.gen_rows import row_ids
from engage.bench.gen_rows import some
from engage.clock import utcnow
from engage.membership.lists import DEFAULT_TOPICS
from engage.membership.models import Practice
from engage.membership.models import Topic

#: The bench users' password (a throwaway database; never a real one).
BENCH_PASSWORD = "bench password for a throwaway database"  # noqa: S105  # nosec B105


def users(ctx: Context) -> None:
    """Staff: one admin, officers and leads, sharing one password hash."""
    password = hash_password(BENCH_PASSWORD)
    now = utcnow()
    roles = [Role.ADMIN, Role.LEAD] + [Role.OFFICER] * (ctx.sizes["users"] - 2)
    insert_rows(
        ctx,
        User.__table__,
        (
            {
                "email": f"{role.value}{i}@bench.example",
                "name": f"Bench {role.label} {i}",
                "role": role,
                "password_hash": password,
                "is_active": True,
                # The lead and a few officers receive the reach report.
                "reach_report_subscribed": i < 6,
                "session_version": 1,
                "created_at": now,
                "updated_at": now,
            }
            for i, role in enumerate(roles)
        ),
        "users",
    )
    ctx.ids["users"] = row_ids(ctx, User.__table__)


def reference_lists(ctx: Context) -> None:
    """Channels, programmes, GP practices and topics."""
    now = utcnow()
    insert_rows(
        ctx,
        Channel.__table__,
        ({"name": n, "is_active": True} for n in DEFAULT_CHANNELS),
        "channels",
    )
    insert_rows(
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
    insert_rows(
        ctx,
        Practice.__table__,
        (
            {"name": f"Practice {i}", "code": f"P{i:05}", "is_active": True}
            for i in range(ctx.sizes["practices"])
        ),
        "practices",
    )
    insert_rows(
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
        ctx.ids[name] = row_ids(ctx, table)


def audiences(ctx: Context) -> None:
    """Audiences on the map, a tenth with a programme override."""
    rng = ctx.rng
    groups, approaches = list(AudienceGroup), list(Approach)
    insert_rows(
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
    ctx.ids["audiences"] = row_ids(ctx, Audience.__table__)
    insert_rows(
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

    insert_rows(
        ctx, Action.__table__, (row(i) for i in range(ctx.sizes["actions"])), "actions"
    )
    ctx.ids["actions"] = row_ids(ctx, Action.__table__)
    insert_rows(
        ctx,
        action_audiences,
        (
            {"action_id": action_id, "audience_id": audience_id}
            for action_id in ctx.ids["actions"]
            for audience_id in some(rng, ctx.ids["audiences"], 1, 3)
        ),
        "action audiences",
    )
    insert_rows(
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
    now = utcnow()

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

    insert_rows(
        ctx,
        Activity.__table__,
        (row(i) for i in range(ctx.sizes["activities"])),
        "activities",
    )
    activity_ids = row_ids(ctx, Activity.__table__)
    insert_rows(
        ctx,
        activity_audiences,
        (
            {"activity_id": activity_id, "audience_id": audience_id}
            for activity_id in activity_ids
            for audience_id in some(rng, ctx.ids["audiences"], 1, 2)
        ),
        "activity audiences",
    )
    labels = ["recipients", "opens", "attendees", "views"]
    insert_rows(
        ctx,
        ReachFigure.__table__,
        (
            {"activity_id": activity_id, "label": label, "value": rng.randint(0, 5000)}
            for activity_id in activity_ids
            for label in some(rng, labels, 1, 2)
        ),
        "reach figures",
    )
    delivery_rollup.rebuild(ctx.conn)
