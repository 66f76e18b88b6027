"""Benchmark data: the relationship log (themes, interactions, commitments, health).

At scale 1, on top of the stakeholder map: 1 to 4 named contacts for every audience
that has none, 40 themes (a few retired, each linked to up to three actions),
100,000 interactions over the data set's three years, 10,000 commitments, a few
hundred links between audiences and a year (``health_days``) of daily health for
every audience.

Interactions fall on audiences in proportion to their influence times their
interest, so the busiest (the audience page's benchmark) has about three times the
average. Each has 1 or 2 audiences, 0 to 2 contacts of those audiences, 1 to 3
themes and one member of staff (its owner); sentiment is mostly positive or
neutral, and about 2% are drafts from email (some not yet judged). Each commitment
belongs to a confirmed interaction and to one of its audiences: 70% done, 25% open
(``OVERDUE_SHARE`` of those past due) and 5% dropped. The health history is made
up for the pages (a wandering score with its band); the nightly scoring writes the
real one.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy import select

from engage.audiences.models import Audience
from engage.audiences.models import AudienceContact
from engage.bench.gen_rows import END
from engage.bench.gen_rows import Context
from engage.bench.gen_rows import insert_rows
from engage.bench.gen_rows import row_ids
from engage.bench.gen_rows import some
from engage.relationships.models import AudienceHealth
from engage.relationships.models import AudienceLink
from engage.relationships.models import Commitment
from engage.relationships.models import CommitmentStatus
from engage.relationships.models import Direction
from engage.relationships.models import HealthBand
from engage.relationships.models import Interaction
from engage.relationships.models import InteractionKind
from engage.relationships.models import InteractionStatus
from engage.relationships.models import LinkKind
from engage.relationships.models import Sentiment
from engage.relationships.models import Theme
from engage.relationships.models import interaction_audiences
from engage.relationships.models import interaction_contacts
from engage.relationships.models import interaction_staff
from engage.relationships.models import interaction_themes
from engage.relationships.models import theme_actions

#: How interactions took place, and how often.
KINDS = tuple(InteractionKind)
KIND_WEIGHTS = {
    InteractionKind.MEETING: 30,
    InteractionKind.CALL: 20,
    InteractionKind.LETTER: 5,
    InteractionKind.EMAIL: 30,
    InteractionKind.EVENT: 10,
    InteractionKind.SOCIAL: 5,
}
#: How they went.
SENTIMENTS = (
    Sentiment.POSITIVE,
    Sentiment.NEUTRAL,
    Sentiment.NEGATIVE,
    Sentiment.MIXED,
)
SENTIMENT_WEIGHTS = (35, 40, 12, 13)
#: The share of interactions that are drafts filed from email.
DRAFT_SHARE = 0.02
#: Commitments' statuses and how often; the share of open ones past their due day.
COMMITMENT_STATUSES = (
    CommitmentStatus.DONE,
    CommitmentStatus.OPEN,
    CommitmentStatus.DROPPED,
)
COMMITMENT_WEIGHTS = (70, 25, 5)
OVERDUE_SHARE = 0.3
#: Issues the themes are named after (numbered when there are more themes).
THEME_NAMES = (
    "Stroke services review",
    "Urgent care access",
    "GP appointments",
    "Hospital parking",
    "Maternity services",
    "Mental health waiting times",
    "Community pharmacy",
    "Dental access",
    "Patient transport",
    "Discharge delays",
    "Cancer screening",
    "Children's services",
    "Digital access",
    "Estates and buildings",
    "Workforce",
    "Health inequalities",
    "Winter pressures",
    "Vaccination uptake",
    "Learning disability care",
    "Carers' support",
)
CONTACT_ROLES = ("Chair", "Chief executive", "Practice manager", "Councillor", "Clerk")


@dataclass
class _Logged:
    """A generated interaction: when, its audiences and whether it is confirmed."""

    day: date
    audiences: list[int]
    confirmed: bool
    sentiment: Sentiment | None = None
    owner: int = 0
    id: int = 0

    def set_owner(self, user_id: int) -> int:
        """Remember the interaction's owner (for its staff row); return it."""
        self.owner = user_id
        return user_id

    def copied(self) -> dict[str, Any]:
        """The interaction's columns its link rows carry (as the ORM keeps them)."""
        return {
            "occurred_on": self.day,
            "sentiment": self.sentiment,
            "confirmed": self.confirmed,
        }


def relationships(ctx: Context) -> None:
    """Contacts, themes, interactions, commitments, links and health (see module)."""
    contacts = _contacts(ctx)
    _themes(ctx)
    logged = _interactions(ctx, contacts)
    _commitments(ctx, logged)
    _links(ctx)
    _health(ctx)


def _contacts(ctx: Context) -> dict[int, list[int]]:
    """1 to 4 contacts for every audience without any (the bench map has none);
    return every audience's contacts."""
    rng = ctx.rng
    table = AudienceContact.__table__
    have = set(ctx.conn.scalars(select(table.c.audience_id).distinct()))
    rows = []
    for audience_id in ctx.ids["audiences"]:
        if audience_id in have:
            continue
        for n in range(rng.randint(1, 4)):
            rows.append(
                {
                    "audience_id": audience_id,
                    "name": f"Contact {audience_id}-{n}",
                    "role": rng.choice(CONTACT_ROLES),
                    "email": f"contact{audience_id}-{n}@bench-stakeholders.example",
                    "phone": "",
                }
            )
    insert_rows(ctx, table, rows, "audience contacts")
    by_audience: dict[int, list[int]] = {}
    for row in ctx.conn.execute(
        select(table.c.id, table.c.audience_id).order_by(table.c.id)
    ):
        by_audience.setdefault(row.audience_id, []).append(row.id)
    return by_audience


def _themes(ctx: Context) -> None:
    """Themes (one in ten retired), each linked to up to three actions."""
    rng = ctx.rng
    now = datetime(END.year, END.month, END.day, tzinfo=UTC)
    count = ctx.sizes["themes"]
    insert_rows(
        ctx,
        Theme.__table__,
        (
            {
                "name": THEME_NAMES[i % len(THEME_NAMES)]
                + ("" if i < len(THEME_NAMES) else f" ({i // len(THEME_NAMES) + 1})"),
                "description": "Raised by stakeholders.",
                "is_active": i % 10 != 9,
                "created_at": now,
                "updated_at": now,
            }
            for i in range(count)
        ),
        "themes",
    )
    ctx.ids["themes"] = row_ids(ctx, Theme.__table__)
    insert_rows(
        ctx,
        theme_actions,
        (
            {"theme_id": theme_id, "action_id": action_id}
            for theme_id in ctx.ids["themes"]
            for action_id in some(rng, ctx.ids["actions"], 0, 3)
        ),
        "theme actions",
    )


def _audience_weights(ctx: Context) -> tuple[list[int], list[int]]:
    """Audiences, and how likely each is in an interaction (influence × interest)."""
    table = Audience.__table__
    rows = ctx.conn.execute(
        select(table.c.id, table.c.influence * table.c.interest).order_by(table.c.id)
    ).all()
    return [row[0] for row in rows], [int(row[1]) for row in rows]


def _interaction_rows(ctx: Context, logged: list[_Logged]) -> Iterator[dict[str, Any]]:
    rng = ctx.rng
    audiences, weights = _audience_weights(ctx)
    kind_weights = [KIND_WEIGHTS[kind] for kind in KINDS]
    users = ctx.ids["users"]
    for i in range(ctx.sizes["interactions"]):
        moment = ctx.moment()
        chosen = rng.choices(audiences, weights, k=rng.randint(1, 2))
        draft = rng.random() < DRAFT_SHARE
        kind = InteractionKind.EMAIL if draft else rng.choices(KINDS, kind_weights)[0]
        judged = not draft or rng.random() < 0.5
        sentiment = rng.choices(SENTIMENTS, SENTIMENT_WEIGHTS)[0] if judged else None
        item = _Logged(
            moment.date(),
            list(dict.fromkeys(chosen)),
            confirmed=not draft,
            sentiment=sentiment,
        )
        logged.append(item)
        yield {
            "kind": kind,
            "direction": Direction.INBOUND
            if rng.random() < 0.4
            else Direction.OUTBOUND,
            "occurred_on": moment.date(),
            "subject": f"{kind.label} {i}",
            "summary": "We talked about the plans and what they mean locally.",
            "sentiment": sentiment,
            "status": InteractionStatus.DRAFT if draft else InteractionStatus.CONFIRMED,
            "owner_id": item.set_owner(rng.choice(users)),
            "source_key": f"<bench-{i}@mail.bench.example>" if draft else None,
            "created_at": moment + timedelta(hours=rng.randint(1, 48)),
            "updated_at": moment + timedelta(hours=48),
        }


def _interactions(ctx: Context, contacts: dict[int, list[int]]) -> list[_Logged]:
    """Interactions with their audiences, contacts, staff and themes."""
    rng = ctx.rng
    logged: list[_Logged] = []
    # Streamed: only the few columns later rows need are kept (in ``logged``).
    insert_rows(
        ctx, Interaction.__table__, _interaction_rows(ctx, logged), "interactions"
    )
    for item, interaction_id in zip(
        logged, row_ids(ctx, Interaction.__table__), strict=True
    ):
        item.id = interaction_id
    insert_rows(
        ctx,
        interaction_audiences,
        (
            {"interaction_id": item.id, "audience_id": audience_id, **item.copied()}
            for item in logged
            for audience_id in item.audiences
        ),
        "interaction audiences",
    )
    insert_rows(
        ctx,
        interaction_contacts,
        (
            {"interaction_id": item.id, "contact_id": contact_id}
            for item in logged
            for contact_id in some(
                rng,
                [c for a in item.audiences for c in contacts.get(a, [])],
                0,
                2,
            )
        ),
        "interaction contacts",
    )
    insert_rows(
        ctx,
        interaction_staff,
        ({"interaction_id": item.id, "user_id": item.owner} for item in logged),
        "interaction staff",
    )
    insert_rows(
        ctx,
        interaction_themes,
        (
            {"interaction_id": item.id, "theme_id": theme_id, **item.copied()}
            for item in logged
            for theme_id in some(rng, ctx.ids["themes"], 1, 3)
        ),
        "interaction themes",
    )
    return logged


def _commitments(ctx: Context, logged: list[_Logged]) -> None:
    """Commitments made in confirmed interactions, to one of their audiences."""
    rng = ctx.rng
    confirmed = sorted((i for i in logged if i.confirmed), key=lambda i: (i.day, i.id))
    if not confirmed:
        return
    days = [item.day for item in confirmed]

    def made_by(latest: date) -> _Logged:
        # An interaction on or before ``latest`` (the first one if none is).
        return confirmed[rng.randrange(max(1, bisect_right(days, latest)))]

    def row(i: int) -> dict[str, Any]:
        status = rng.choices(COMMITMENT_STATUSES, COMMITMENT_WEIGHTS)[0]
        if status is CommitmentStatus.OPEN:
            # Open promises are recent: due soon, or (a share) past due.
            due = (
                END - timedelta(days=rng.randint(1, 60))
                if rng.random() < OVERDUE_SHARE
                else END + timedelta(days=rng.randint(0, 90))
            )
            made = made_by(min(END, due - timedelta(days=7)))
            closed = None
        else:
            made = made_by(END - timedelta(days=7))
            due = made.day + timedelta(days=rng.randint(7, 90))
            closed = min(END, made.day + timedelta(days=rng.randint(1, 100)))
        created = datetime(made.day.year, made.day.month, made.day.day, 17, tzinfo=UTC)
        return {
            "description": f"Send the papers we promised ({i})",
            "audience_id": rng.choice(made.audiences),
            "owner_id": rng.choice(ctx.ids["users"]),
            "due_on": due,
            "status": status,
            "closed_on": closed,
            "interaction_id": made.id,
            "created_at": created,
            "updated_at": created,
        }

    insert_rows(
        ctx,
        Commitment.__table__,
        (row(i) for i in range(ctx.sizes["commitments"])),
        "commitments",
    )


def _links(ctx: Context) -> None:
    """Links between audiences ("is a member of"…), never to itself, never twice."""
    rng = ctx.rng
    audiences = ctx.ids["audiences"]
    if len(audiences) < 2:
        return
    kinds = list(LinkKind)
    made: dict[tuple[int, int, LinkKind], None] = {}
    wanted = ctx.sizes["audience_links"]
    for _ in range(wanted * 10):
        if len(made) == wanted:
            break
        first, second = rng.sample(audiences, 2)
        made.setdefault((first, second, rng.choice(kinds)), None)
    moment = datetime(END.year, END.month, END.day, tzinfo=UTC)
    insert_rows(
        ctx,
        AudienceLink.__table__,
        (
            {
                "from_audience_id": first,
                "to_audience_id": second,
                "kind": kind,
                "note": "",
                "created_at": moment,
            }
            for first, second, kind in made
        ),
        "audience links",
    )


def _band(score: int) -> HealthBand:
    return (
        HealthBand.GOOD
        if score >= 70
        else HealthBand.FAIR
        if score >= 40
        else HealthBand.POOR
    )


def _health(ctx: Context) -> None:
    """A year of daily health for every audience (a wandering made-up score)."""
    rng = ctx.rng
    days = ctx.sizes["health_days"]
    first = END - timedelta(days=days - 1)
    scored = datetime(END.year, END.month, END.day, 2, tzinfo=UTC)

    def rows() -> Iterator[dict[str, Any]]:
        for audience_id in ctx.ids["audiences"]:
            score = rng.randint(20, 90)
            for n in range(days):
                score = max(0, min(100, score + rng.randint(-3, 3)))
                yield {
                    "audience_id": audience_id,
                    "day": first + timedelta(days=n),
                    "score": score,
                    "band": _band(score),
                    "reasons": "Last contact 12 days ago\nNo commitments overdue",
                    "computed_at": scored - timedelta(days=days - 1 - n),
                }

    insert_rows(ctx, AudienceHealth.__table__, rows(), "audience health")


def busiest_audience(conn: Any) -> int | None:
    """The audience in most interactions (the audience page's benchmark)."""
    found = conn.scalar(
        select(interaction_audiences.c.audience_id)
        .group_by(interaction_audiences.c.audience_id)
        .order_by(func.count().desc(), interaction_audiences.c.audience_id)
        .limit(1)
    )
    return None if found is None else int(found)
