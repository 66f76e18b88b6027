"""The involvement benchmarks: the activity list, a member's record, the invitations.

The activity list (its first page, and a page half-way through every activity) and
the staff record of the member who came to most sessions are timed as pages against
hand-written SQL; preparing the invitations to an activity that asks every member
(``prepare_invitations``, rolled back) against one bare ``INSERT ... SELECT`` of as
many rows, as the mailing benchmark does.
"""

from __future__ import annotations

import tracemalloc
from datetime import datetime
from datetime import timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import null
from sqlalchemy import select
from sqlalchemy import text

from engage.bench.table import Result
from engage.bench.timing import PageItem
from engage.bench.timing import ms
from engage.bench.timing import timings
from engage.clock import utcnow
from engage.extensions import db
from engage.involvement.invitations import prepare_invitations
from engage.involvement.models import ActivityKind
from engage.involvement.models import Attendance
from engage.involvement.models import InvolvementActivity
from engage.involvement.models import InvolvementInvitation
from engage.involvement.models import InvolvementSession
from engage.involvement.rollup import sessions_recounted
from engage.involvement.views import PER_PAGE
from engage.membership.models import Member

#: Targets: each page's median (ms), and preparing the invitations (ms).
PAGE_TARGET_MS = 100
PREPARE_TARGET_MS = 5_000

#: The list's baseline: one page of activities by their next session (then their
#: latest), with the number that match, in one query.
ACTIVITY_LIST_SQL = """
SELECT a.*, t.next, t.last, COUNT(*) OVER () AS matching
FROM involvement_activities a
LEFT JOIN (
  SELECT activity_id,
         MIN(CASE WHEN cancelled_at IS NULL AND ends_at > :now THEN starts_at END)
           AS next,
         MAX(starts_at) AS last
  FROM involvement_sessions GROUP BY activity_id
) t ON t.activity_id = a.id
WHERE (:upcoming = 0 OR t.next IS NOT NULL)
ORDER BY t.next IS NULL, t.next, t.last DESC, a.id DESC
LIMIT :per_page OFFSET :offset
"""

#: The member record's baseline: every session the member was invited to, came to
#: or claimed for, with the activity, their reply, whether they came and the claim.
MEMBER_RECORD_SQL = """
SELECT s.id, s.starts_at, s.cancelled_at, a.id, a.title, a.kind, a.cancelled_at,
       i.reply, i.replied_at, i.support_request, t.id IS NOT NULL AS came,
       c.status, c.payment_pence, c.miles, c.mileage_rate_pence, c.fares_pence,
       c.carer_pence
FROM involvement_sessions s
JOIN involvement_activities a ON a.id = s.activity_id
LEFT JOIN involvement_invitations i
  ON i.session_id = s.id AND i.member_id = :member_id
LEFT JOIN involvement_attendances t
  ON t.session_id = s.id AND t.member_id = :member_id
LEFT JOIN involvement_claims c ON c.session_id = s.id AND c.member_id = :member_id
WHERE s.id IN (
  SELECT session_id FROM involvement_invitations WHERE member_id = :member_id
  UNION SELECT session_id FROM involvement_attendances WHERE member_id = :member_id
  UNION SELECT session_id FROM involvement_claims WHERE member_id = :member_id)
ORDER BY s.starts_at DESC, s.id DESC
"""

#: The baseline for preparing: the same number of rows in one INSERT ... SELECT.
BARE_INSERT_SQL = """
INSERT INTO involvement_invitations
  (session_id, channel, member_id, address, send_status, outcome, reply,
   support_request)
SELECT :session_id, 'email', id, lower(email), 'pending', '', 'no_reply', ''
FROM members WHERE email IS NOT NULL ORDER BY id LIMIT :rows
"""


def _moment(value: datetime) -> str:
    """A moment as stored (naive UTC), for the hand-written SQL."""
    return value.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


def _list_params(*, upcoming: bool, page: int) -> Any:
    def params() -> dict[str, Any]:
        return {
            "now": _moment(utcnow()),
            "upcoming": int(upcoming),
            "per_page": PER_PAGE,
            "offset": (page - 1) * PER_PAGE,
        }

    return params


def busiest_member() -> int:
    """The member who came to most sessions (invited to many: see gen_involvement)."""
    member_id = db.session.scalar(
        select(Attendance.member_id)
        .where(Attendance.member_id.is_not(None))
        .group_by(Attendance.member_id)
        .order_by(func.count().desc(), Attendance.member_id)
        .limit(1)
    )
    if member_id is None:
        raise RuntimeError("the bench database has no involvement attendance")
    return int(member_id)


def involvement_page_items() -> list[PageItem]:
    """The activity list (first and a middle page) and the busiest member's record."""
    activities = db.session.scalar(select(func.count(InvolvementActivity.id))) or 0
    deep = max(1, -(-activities // PER_PAGE) // 2)
    member_id = busiest_member()
    return [
        PageItem(
            "involvement list (first page)",
            "/involvement/",
            ACTIVITY_LIST_SQL,
            _list_params(upcoming=True, page=1),
            target_ms=PAGE_TARGET_MS,
        ),
        PageItem(
            f"involvement list (page {deep}, all)",
            f"/involvement/?when=all&page={deep}",
            ACTIVITY_LIST_SQL,
            _list_params(upcoming=False, page=deep),
            target_ms=PAGE_TARGET_MS,
        ),
        PageItem(
            "member record (busiest in involvement)",
            f"/members/{member_id}",
            MEMBER_RECORD_SQL,
            lambda: {"member_id": member_id},
            target_ms=PAGE_TARGET_MS,
        ),
    ]


def _activity_for_everyone(now: datetime) -> InvolvementActivity:
    """A committed activity asking every member, by every channel, to one session."""
    activity = InvolvementActivity(
        kind=ActivityKind.PUBLIC_EVENT,
        title="Bench: an event for every member",
        to_members=True,
        # Any tier (None would let the column's default, Gold, fire).
        tier=null(),
        by_email=True,
        by_sms=True,
        by_post=True,
    )
    starts = now + timedelta(days=30)
    activity.sessions.append(
        InvolvementSession(starts_at=starts, ends_at=starts + timedelta(hours=2))
    )
    db.session.add(activity)
    db.session.commit()
    return activity


def _drop(activity_id: int, session_id: int) -> None:
    db.session.rollback()
    db.session.execute(
        delete(InvolvementInvitation).where(
            InvolvementInvitation.session_id == session_id
        )
    )
    with sessions_recounted(db.session(), [session_id]):
        db.session.execute(
            delete(InvolvementSession).where(InvolvementSession.id == session_id)
        )
    db.session.execute(
        delete(InvolvementActivity).where(InvolvementActivity.id == activity_id)
    )
    db.session.commit()


def prepare_result(*, runs: int, warmup: int) -> Result:
    """Invite every member to one session (rolled back), against a bare insert."""
    now = utcnow()
    activity = _activity_for_everyone(now)
    activity_id, session_id = activity.id, activity.sessions[0].id
    members = db.session.scalar(select(func.count(Member.id))) or 0
    added: list[int] = []

    def prepare() -> None:
        try:
            added.append(prepare_invitations(activity, now))
        finally:
            db.session.rollback()

    def baseline() -> None:
        try:
            db.session.execute(
                text(BARE_INSERT_SQL), {"session_id": session_id, "rows": added[-1]}
            )
        finally:
            db.session.rollback()

    try:
        runs, warmup = min(runs, 5), min(warmup, 1)
        median, p95 = timings(prepare, runs=runs, warmup=warmup)
        base, _ = timings(baseline, runs=runs, warmup=warmup)
        tracemalloc.start()
        try:
            prepare()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    finally:
        _drop(activity_id, session_id)
    return Result(
        f"prepare invitations for {members:,} members ({added[-1]:,} invitations)",
        ms(median),
        ms(p95),
        ms(base),
        f"{median / base:.1f}×" if base else "–",
        f"≤ {PREPARE_TARGET_MS:g} ms",
        median <= PREPARE_TARGET_MS,
        f"peak memory {peak / 1_000_000:.1f} MB (one call); an activity asking "
        "every member by email, text or letter, as consent allows; baseline: one "
        "bare INSERT ... SELECT of as many rows; both rolled back",
    )
