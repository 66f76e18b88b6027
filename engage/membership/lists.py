"""The GP practice and topic lists that members choose from (admins keep them)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func
from sqlalchemy import select

from engage.audit.services import SYSTEM
from engage.extensions import db
from engage.membership.models import Member
from engage.membership.models import MemberStatus
from engage.membership.models import Practice
from engage.membership.models import Topic
from engage.named import save_named

if TYPE_CHECKING:
    from engage.accounts.models import User

#: The reference plan's priority topics, offered to members from the start.
DEFAULT_TOPICS = (
    "Mental health",
    "Stroke and vascular disease",
    "Urgent and emergency care",
    "Cancer",
    "Primary care",
    "Children and young people",
    "Older people and falls",
)


def list_practices() -> list[Practice]:
    """Every GP practice by name, retired ones included (``practice_choices`` for a
    form's active ones)."""
    return list(db.session.scalars(select(Practice).order_by(Practice.name)))


def list_topics() -> list[Topic]:
    """Every topic by name, retired ones included (``topic_choices`` for a form's)."""
    return list(db.session.scalars(select(Topic).order_by(Topic.name)))


def practice_choices() -> list[tuple[int, str]]:
    """Active GP practices as ``(id, name)`` pairs by name, for a form's choices.

    Plain rows, not ORM objects: the public join form builds this on every request.
    """
    query = (
        select(Practice.id, Practice.name)
        .where(Practice.is_active)
        .order_by(Practice.name)
    )
    return [(row.id, row.name) for row in db.session.execute(query)]


def topic_choices() -> list[tuple[int, str]]:
    """Active topics as ``(id, name)`` pairs by name, for a form's choices."""
    query = select(Topic.id, Topic.name).where(Topic.is_active).order_by(Topic.name)
    return [(row.id, row.name) for row in db.session.execute(query)]


def members_with_practice_not_listed() -> int:
    """Current members (pending or active) who said their practice is not listed."""
    query = (
        select(func.count())
        .select_from(Member)
        .where(
            Member.practice_not_listed,
            Member.status.in_((MemberStatus.PENDING, MemberStatus.ACTIVE)),
        )
    )
    return int(db.session.scalar(query) or 0)


def is_active_practice(practice_id: int) -> bool:
    """Whether ``practice_id`` is an active GP practice (members may choose it)."""
    query = select(Practice.id).where(Practice.id == practice_id, Practice.is_active)
    return db.session.scalar(query) is not None


def active_topic_ids(topic_ids: Iterable[int]) -> set[int]:
    """Which of ``topic_ids`` are active topics."""
    query = select(Topic.id).where(Topic.id.in_(list(topic_ids)), Topic.is_active)
    return set(db.session.scalars(query))


def save_practice(
    practice: Practice | None,
    *,
    name: str,
    code: str = "",
    is_active: bool = True,
    actor: User | str,
    now: datetime,
) -> Practice:
    """Add a GP practice (``practice`` None), or rename or retire one."""
    return save_named(
        Practice,
        practice,
        noun="practice",
        name=name,
        values={"code": code.strip(), "is_active": is_active},
        actor=actor,
        now=now,
        summary="active" if is_active else "retired",
    )


def save_topic(
    topic: Topic | None,
    *,
    name: str,
    is_active: bool = True,
    actor: User | str,
    now: datetime,
) -> Topic:
    """Add a topic of interest (``topic`` None), or rename or retire one."""
    return save_named(
        Topic,
        topic,
        noun="topic",
        name=name,
        values={"is_active": is_active},
        actor=actor,
        now=now,
        summary="active" if is_active else "retired",
    )


def seed_topics(*, now: datetime, names: Iterable[str] = DEFAULT_TOPICS) -> int:
    """Add the reference plan's priority topics that are missing; return how many."""
    existing = {t.name.lower() for t in list_topics()}
    added = 0
    for name in names:
        if name.lower() not in existing:
            save_topic(None, name=name, actor=SYSTEM, now=now)
            existing.add(name.lower())
            added += 1
    return added
