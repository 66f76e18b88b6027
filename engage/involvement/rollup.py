"""The involvement rollup: ``involvement_days``, sessions and attendances per UK day
and kind of activity, what the dashboard sums instead of every session and
attendance of a period.

A session counts on the UK day it starts, under its activity's kind, unless it or
its activity is called off; with it, its attendances by people involved (staff who
attended are not counted). Sessions still to come are counted as well: a session
is *held* once it has started, so the figures take the days before today from the
rollup and today from the sessions themselves (engage.involvement.figures).

A session's part depends on three tables (its day and whether it is called off,
its activity's kind and status, its attendance), so it is kept by recounting
(engage.rollups.keep_recounted) the sessions each flush touches: those added,
changed or deleted, those whose attendance changes, and those of an activity whose
kind or status changes. Writers that bypass the ORM (the bench generator) call
:func:`rebuild`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from itertools import chain
from typing import Any

from sqlalchemy import Connection
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from engage.audiences.models import AudienceContact
from engage.clock import local_day
from engage.involvement.models import ActivityStatus
from engage.involvement.models import Attendance
from engage.involvement.models import InvolvementActivity
from engage.involvement.models import InvolvementDay
from engage.involvement.models import InvolvementSession
from engage.membership.models import Member
from engage.rollups import Counted
from engage.rollups import RollupTable
from engage.rollups import deleted_or_changed
from engage.rollups import keep_recounted
from engage.rollups import lock_parents
from engage.rollups import recounting
from engage.rollups import stored_value

INVOLVEMENT_DAYS = RollupTable(
    table=InvolvementDay, key=("day", "kind"), counts=("sessions", "attendances")
)

#: Ids per query: well under SQLite's limit of bound values.
CHUNK = 500


def _read(connection: Connection, condition: Any, sign: int, into: Counted) -> None:
    """Add to ``into`` what the sessions that meet ``condition`` (None: every one)
    count for as stored now, times ``sign``."""
    attended = (
        select(func.count())
        .where(
            Attendance.session_id == InvolvementSession.id,
            Attendance.user_id.is_(None),
        )
        .scalar_subquery()
    )
    query = (
        select(InvolvementSession.starts_at, InvolvementActivity.kind, attended)
        .join(
            InvolvementActivity,
            InvolvementActivity.id == InvolvementSession.activity_id,
        )
        .where(
            InvolvementSession.cancelled_at.is_(None),
            InvolvementActivity.status != ActivityStatus.CANCELLED,
        )
    )
    if condition is not None:
        query = query.where(condition)
    changes = into.setdefault(INVOLVEMENT_DAYS, Counter())
    for starts_at, kind, came in connection.execute(query):
        key = (local_day(starts_at), kind)
        changes[(key, "sessions")] += sign
        changes[(key, "attendances")] += sign * int(came)


#: The stored sessions a flush may change (by id, and by activity id), and the new.
_Concerned = tuple[set[int], set[int], list[InvolvementSession]]


def _recount(
    connection: Connection, concerned: _Concerned, sign: int, into: Counted
) -> None:
    session_ids, activity_ids, new = concerned
    ids = sorted(session_ids | {s.id for s in new if s.id is not None})
    activities = sorted(activity_ids)
    # A session both named and of a named activity is read once.
    for i in range(0, len(ids), CHUNK):
        chunk = ids[i : i + CHUNK]
        condition: Any = InvolvementSession.id.in_(chunk)
        if activities:
            condition &= InvolvementSession.activity_id.not_in(activities)
        _read(connection, condition, sign, into)
    for i in range(0, len(activities), CHUNK):
        chunk = activities[i : i + CHUNK]
        _read(connection, InvolvementSession.activity_id.in_(chunk), sign, into)


def _concerned(session: Session) -> _Concerned | None:
    """What this flush may change of the sessions counted (None: nothing)."""
    session_ids: set[int] = set()
    activity_ids: set[int] = set()
    new: list[InvolvementSession] = []

    def concerns(item: InvolvementSession) -> None:
        if item.id is None:
            new.append(item)
        else:
            session_ids.add(item.id)

    for item in chain(session.new, session.dirty, session.deleted):
        if isinstance(item, Attendance):
            stored = (stored_value(item, "session_id"), item.session_id)
            session_ids.update(i for i in stored if i is not None)
            moved_to = item.__dict__.get("session")  # set by object: id comes later
            if moved_to is not None:
                concerns(moved_to)
        elif isinstance(item, InvolvementSession):
            concerns(item)
        elif isinstance(item, InvolvementActivity) and deleted_or_changed(
            session, item, ("kind", "status")
        ):
            activity_ids.add(item.id)
    session_ids |= _sessions_of_people_deleted(session)
    if not (session_ids or activity_ids or new):
        return None
    # Lock the activities first: two transactions never recount a session at once.
    lock_parents(
        session,
        InvolvementActivity,
        InvolvementSession.activity_id,
        session_ids,
        new,
        activity_ids,
    )
    return session_ids, activity_ids, new


def _sessions_of_people_deleted(session: Session) -> set[int]:
    """The sessions attended by members and contacts deleted in this flush (the
    database deletes their attendance with them)."""
    members = {i.id for i in session.deleted if isinstance(i, Member)}
    contacts = {i.id for i in session.deleted if isinstance(i, AudienceContact)}
    found: set[int] = set()
    for column, ids in (("member_id", members), ("contact_id", contacts)):
        if ids:
            found |= attended_sessions(session, column, ids)
    return found


def attended_sessions(session: Session, column: str, ids: Iterable[int]) -> set[int]:
    """The sessions attended by the members or contacts (``column``: ``member_id``
    or ``contact_id``) with these ids."""
    found: set[int] = set()
    ordered = sorted(set(ids))
    for i in range(0, len(ordered), CHUNK):
        found.update(
            session.connection().scalars(
                select(Attendance.session_id).where(
                    getattr(Attendance, column).in_(ordered[i : i + CHUNK])
                )
            )
        )
    return found


def sessions_recounted(session: Session, session_ids: Iterable[int]) -> Any:
    """A context manager keeping the rollup right around writes to these sessions'
    attendance (or to them) that bypass the ORM (bulk deletes)."""
    ids = set(session_ids)
    lock_parents(session, InvolvementActivity, InvolvementSession.activity_id, ids)
    return recounting(session, "involvement", (ids, set(), []))


keep_recounted("involvement", _concerned, _recount)


def rebuild(connection: Connection) -> int:
    """Recompute the whole rollup from the sessions; its rows now (the caller
    commits). For bulk loads that bypassed the ORM."""
    counted: Counted = {}
    _read(connection, None, 1, counted)
    connection.execute(delete(InvolvementDay))
    INVOLVEMENT_DAYS.add(connection, counted.get(INVOLVEMENT_DAYS, {}))
    count = connection.scalar(select(func.count()).select_from(InvolvementDay))
    return int(count or 0)
