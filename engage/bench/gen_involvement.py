"""Benchmark data: involvement activities, sessions, invitations, attendance, claims.

At scale 1: 2,000 activities of every kind from the data set's first day to a year
after its last (a quarter still to come), their sessions (reference groups meet every
four weeks, workshops weekly), the Gold members invited to each, 40,000 attendances
at the sessions held, and claims for about a third of the members who came. One
member (the first active Gold member with an email address) was invited to
``busy_sessions`` sessions (at least ``BUSY_AT_LEAST``) and came to those held: the
member record's benchmark opens the record of the member who came to most sessions.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from engage.actions.models import Recurrence
from engage.bench.gen_rows import CHUNK
from engage.bench.gen_rows import END
from engage.bench.gen_rows import START
from engage.bench.gen_rows import Context
from engage.bench.gen_rows import insert_rows
from engage.bench.gen_rows import row_ids
from engage.bench.gen_rows import write_chunk
from engage.clock import utcnow
from engage.involvement import rollup as involvement_rollup
from engage.involvement.models import ActivityKind
from engage.involvement.models import ActivityStatus
from engage.involvement.models import Attendance
from engage.involvement.models import ClaimStatus
from engage.involvement.models import ExpenseClaim
from engage.involvement.models import InvolvementActivity
from engage.involvement.models import InvolvementInvitation
from engage.involvement.models import InvolvementRate
from engage.involvement.models import InvolvementSession
from engage.involvement.models import Reply
from engage.involvement.models import SendStatus
from engage.membership.models import ContactChannel
from engage.membership.models import Member
from engage.membership.models import MemberStatus
from engage.membership.models import Tier

#: Activities start up to this long after the data set's last day (still to come).
AHEAD = timedelta(days=365)
#: Kinds, how often each is planned, and how many sessions (fewest, most) it has.
KINDS = (
    (ActivityKind.MEETING, 25, 1, 1),
    (ActivityKind.FOCUS_GROUP, 30, 1, 1),
    (ActivityKind.REFERENCE_GROUP, 15, 4, 12),
    (ActivityKind.CO_DESIGN, 15, 1, 3),
    (ActivityKind.PUBLIC_EVENT, 15, 1, 1),
)
#: How each kind's series repeats.
REPEATS = {
    ActivityKind.REFERENCE_GROUP: Recurrence.MONTHLY,
    ActivityKind.CO_DESIGN: Recurrence.WEEKLY,
}
#: Replies of those invited who did not come, and to sessions still to come.
REPLIES = (Reply.NOT_ATTENDING, Reply.NO_REPLY, Reply.MAYBE, Reply.ATTENDING)
REPLY_WEIGHTS = (30, 45, 15, 10)
#: Where claims are, and how often.
CLAIM_STATUSES = (
    ClaimStatus.EXPORTED,
    ClaimStatus.APPROVED,
    ClaimStatus.SUBMITTED,
    ClaimStatus.REJECTED,
)
CLAIM_WEIGHTS = (50, 25, 20, 5)
#: The busiest member is invited to at least this many sessions (at any scale).
BUSY_AT_LEAST = 10


@dataclass
class _Session:
    """A generated session: its activity's index, times, and whether it was held."""

    activity: int
    starts_at: datetime
    ends_at: datetime
    held: bool
    invited: bool
    payment_pence: int
    id: int = 0


def _first_start(ctx: Context) -> datetime:
    day = ctx.moment(START, END + AHEAD).date()
    hour = ctx.rng.choice((10, 11, 13, 14, 18))
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def _activity_rows(
    ctx: Context, plans: list[tuple[ActivityKind, datetime, int]]
) -> Iterator[dict[str, Any]]:
    rng = ctx.rng
    rates = ctx.ids["involvement_rates"]
    now = utcnow()
    end = datetime(END.year, END.month, END.day, tzinfo=UTC)
    for i, (kind, first, count) in enumerate(plans):
        cancelled = rng.random() < 0.04
        draft = not cancelled and first > end and rng.random() < 0.3
        status = (
            ActivityStatus.CANCELLED
            if cancelled
            else ActivityStatus.DRAFT
            if draft
            else ActivityStatus.INVITING
        )
        outcome = first < end and rng.random() < 0.3
        yield {
            "kind": kind,
            "title": f"{kind.label} {i}",
            "purpose": "To hear what members think.",
            "programme": "",
            "action_id": rng.choice(ctx.ids["actions"]) if rng.random() < 0.6 else None,
            "rate_id": rng.choice(rates) if rates else None,
            "status": status,
            "recurrence": REPEATS.get(kind, Recurrence.NONE)
            if count > 1
            else (Recurrence.NONE),
            "duration_minutes": 90,
            "venue_name": f"Venue {i % 40}",
            "venue_address": "",
            "step_free": True,
            "hearing_loop": rng.random() < 0.5,
            "capacity": rng.choice((None, 12, 20, 40)),
            "to_members": True,
            "tier": Tier.GOLD,
            "by_email": True,
            "cancelled_at": first - timedelta(days=3) if cancelled else None,
            "cancel_reason": "The venue is not available" if cancelled else "",
            "what_we_heard": "Members told us what works." if outcome else "",
            "what_changed": "We changed the leaflet." if outcome else "",
            "outcome_recorded_at": first + timedelta(days=20) if outcome else None,
            "created_by_id": rng.choice(ctx.ids["users"]),
            "created_at": first - timedelta(days=30),
            "updated_at": now,
        }


def _plans(ctx: Context) -> list[tuple[ActivityKind, datetime, int]]:
    rng = ctx.rng
    kinds = [kind for kind, *_ in KINDS]
    weights = [weight for _, weight, _, _ in KINDS]
    sessions = {kind: (low, high) for kind, _, low, high in KINDS}
    plans = []
    for _ in range(ctx.sizes["involvement_activities"]):
        kind = rng.choices(kinds, weights)[0]
        plans.append((kind, _first_start(ctx), rng.randint(*sessions[kind])))
    return plans


def _session_starts(kind: ActivityKind, first: datetime, count: int) -> list[datetime]:
    gap = timedelta(days=28) if kind is ActivityKind.REFERENCE_GROUP else timedelta(7)
    return [first + gap * n for n in range(count)]


def _gold_members(ctx: Context) -> list[tuple[int, str]]:
    """Active Gold members with an email address: (id, address), in id order."""
    table = Member.__table__
    return [
        (row.id, row.email)
        for row in ctx.conn.execute(
            select(table.c.id, table.c.email)
            .where(
                table.c.tier == Tier.GOLD,
                table.c.status == MemberStatus.ACTIVE,
                table.c.email.is_not(None),
            )
            .order_by(table.c.id)
        )
    ]


def _quotas(total: int, sessions: list[_Session], most: int) -> list[int]:
    """Attendance per session held: ``total`` spread evenly (at most ``most`` each)."""
    held = [s for s in sessions if s.held]
    quotas = [0] * len(sessions)
    if not held:
        return quotas
    each, extra = divmod(total, len(held))
    position = 0
    for index, session in enumerate(sessions):
        if session.held:
            quotas[index] = min(most, each + (1 if position < extra else 0))
            position += 1
    return quotas


def involvement(ctx: Context) -> None:
    """Activities, sessions, invitations, attendance and claims (see the module)."""
    rng = ctx.rng
    ctx.ids["involvement_rates"] = row_ids(ctx, InvolvementRate.__table__)
    plans = _plans(ctx)
    activity_rows = list(_activity_rows(ctx, plans))
    insert_rows(ctx, InvolvementActivity.__table__, activity_rows, "involvement")
    activity_ids = row_ids(ctx, InvolvementActivity.__table__)
    end = datetime(END.year, END.month, END.day, tzinfo=UTC)
    sessions: list[_Session] = []
    for index, ((kind, first, count), row) in enumerate(
        zip(plans, activity_rows, strict=True)
    ):
        cancelled = row["status"] is ActivityStatus.CANCELLED
        invited = row["status"] is not ActivityStatus.DRAFT
        for begins in _session_starts(kind, first, count):
            sessions.append(
                _Session(
                    activity=index,
                    starts_at=begins,
                    ends_at=begins + timedelta(minutes=90),
                    held=invited and not cancelled and begins < end,
                    invited=invited,
                    payment_pence=rng.choice((0, 0, 2500, 7500)),
                )
            )
    insert_rows(
        ctx,
        InvolvementSession.__table__,
        (
            {
                "activity_id": activity_ids[s.activity],
                "starts_at": s.starts_at,
                "ends_at": s.ends_at,
                "cancelled_at": None,
                "cancel_reason": "",
            }
            for s in sessions
        ),
        "involvement sessions",
    )
    for session, session_id in zip(
        sessions, row_ids(ctx, InvolvementSession.__table__), strict=True
    ):
        session.id = session_id
    _people(ctx, sessions)
    involvement_rollup.rebuild(ctx.conn)


class _Rows:
    """Rows for one table, inserted a chunk at a time as they are made."""

    def __init__(self, ctx: Context, table: Any, label: str) -> None:
        self.ctx, self.table, self.label = ctx, table, label
        self.rows: list[dict[str, Any]] = []
        self.total = 0

    def add(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        if len(self.rows) == CHUNK:
            self.flush(last=False)

    def flush(self, *, last: bool = True) -> None:
        if self.rows:
            write_chunk(self.ctx.conn, self.table, self.rows)
            self.total += len(self.rows)
            self.rows = []
        if last or self.total % (CHUNK * 4) == 0:
            self.ctx.progress(f"  {self.label}: {self.total:,}")


class _People:
    """Who was invited to each session, who came and who claimed, in chunks."""

    def __init__(self, ctx: Context, gold: list[tuple[int, str]]) -> None:
        self.ctx, self.rng = ctx, ctx.rng
        self.busy, self.others = gold[0], gold[1:]
        self.users = ctx.ids["users"]
        self.invitations = _Rows(
            ctx, InvolvementInvitation.__table__, "involvement invites"
        )
        self.attendances = _Rows(ctx, Attendance.__table__, "involvement attendances")
        self.claims = _Rows(ctx, ExpenseClaim.__table__, "involvement claims")

    def invite(self, session: _Session, person: tuple[int, str], reply: Reply) -> None:
        replied = reply is not Reply.NO_REPLY
        sent = session.starts_at - timedelta(days=21)
        self.invitations.add(
            {
                "session_id": session.id,
                "member_id": person[0],
                "channel": ContactChannel.EMAIL,
                "address": person[1],
                "send_status": SendStatus.SENT,
                "sent_at": sent,
                "reply": reply,
                "replied_at": sent + timedelta(days=2) if replied else None,
                "support_request": "A hearing loop" if self.rng.random() < 0.03 else "",
                "outcome": "",
            }
        )

    def came(
        self, session: _Session, member_id: int | None, user_id: int | None
    ) -> None:
        self.attendances.add(
            {
                "session_id": session.id,
                "member_id": member_id,
                "user_id": user_id,
                "guest_name": "",
                "recorded_at": session.ends_at,
                "recorded_by_id": self.users[0],
            }
        )
        share = 0.6 if member_id == self.busy[0] else 0.3
        if member_id is not None and self.rng.random() < share:
            self.claims.add(_claim(self.ctx, session, member_id))

    def session(self, session: _Session, quota: int, *, busy: bool) -> None:
        """Invite to one session; the first ``quota`` came (members, a few without
        replying, and a member of staff at about one session in ten)."""
        rng = self.rng
        size = min(len(self.others), max(quota * 3, rng.randint(15, 45)) - int(busy))
        chosen = rng.sample(self.others, size) if size > 0 else []
        people = [self.busy, *chosen] if busy else chosen
        staff = quota > 1 and rng.random() < 0.1
        members_came = quota - 1 if staff else quota
        if staff:
            self.came(session, None, rng.choice(self.users))
        for number, person in enumerate(people):
            if number < members_came:
                reply = Reply.NO_REPLY if rng.random() < 0.1 else Reply.ATTENDING
                self.invite(session, person, reply)
                self.came(session, person[0], None)
            else:
                self.invite(session, person, rng.choices(REPLIES, REPLY_WEIGHTS)[0])

    def flush(self) -> None:
        for rows in (self.invitations, self.attendances, self.claims):
            rows.flush()


def _people(ctx: Context, sessions: list[_Session]) -> None:
    """Invitations, attendance and claims for the generated sessions."""
    gold = _gold_members(ctx)
    if not gold:
        return
    people = _People(ctx, gold)
    invited = [s for s in sessions if s.invited]
    wanted = max(BUSY_AT_LEAST, ctx.sizes["busy_sessions"])
    step = max(1, len(invited) // wanted)
    busy_at = {s.id for s in invited[::step][:wanted]}
    quotas = _quotas(ctx.sizes["involvement_attendances"], sessions, len(gold))
    for session, quota in zip(sessions, quotas, strict=True):
        if session.invited:
            people.session(session, quota, busy=session.id in busy_at)
    people.flush()


def _claim(ctx: Context, session: _Session, member_id: int) -> dict[str, Any]:
    rng = ctx.rng
    status = rng.choices(CLAIM_STATUSES, CLAIM_WEIGHTS)[0]
    submitted = session.ends_at + timedelta(days=rng.randint(1, 10))
    decided = submitted + timedelta(days=rng.randint(1, 14))
    return {
        "session_id": session.id,
        "member_id": member_id,
        "status": status,
        "payment_pence": session.payment_pence,
        "miles": round(rng.uniform(0, 30), 1),
        "mileage_rate_pence": 45,
        "fares_pence": rng.choice((0, 0, 350, 820)),
        "carer_pence": rng.choice((0, 0, 0, 2000)),
        "details": "",
        "entered_by_id": rng.choice(ctx.ids["users"]) if rng.random() < 0.3 else None,
        "submitted_at": submitted,
        "decided_at": None if status is ClaimStatus.SUBMITTED else decided,
        "decided_by_id": None
        if status is ClaimStatus.SUBMITTED
        else rng.choice(ctx.ids["users"]),
        "decision_note": "",
        "exported_at": decided + timedelta(days=7)
        if status is ClaimStatus.EXPORTED
        else None,
    }
