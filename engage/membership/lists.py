"""The GP practice and topic lists that members choose from (admins keep them)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func
from sqlalchemy import select

from engage.audit.services import SYSTEM
from engage.audit.services import record_event
from engage.errors import Conflict
from engage.errors import ValidationError
from engage.extensions import db
from engage.membership.models import Practice
from engage.membership.models import Topic

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
    name = name.strip()
    if not name:
        raise ValidationError("Enter the practice's name")
    other = db.session.scalar(
        select(Practice).where(func.lower(Practice.name) == name.lower())
    )
    if other is not None and (practice is None or other.id != practice.id):
        raise Conflict("A practice with that name already exists")
    action = "update"
    if practice is None:
        practice = Practice()
        db.session.add(practice)
        action = "create"
    practice.name, practice.code, practice.is_active = name, code.strip(), is_active
    db.session.flush()
    record_event(
        actor,
        action,
        "practice",
        practice.id,
        "active" if is_active else "retired",
        now=now,
    )
    return practice


def save_topic(
    topic: Topic | None,
    *,
    name: str,
    is_active: bool = True,
    actor: User | str,
    now: datetime,
) -> Topic:
    """Add a topic of interest (``topic`` None), or rename or retire one."""
    name = name.strip()
    if not name:
        raise ValidationError("Enter the topic's name")
    other = db.session.scalar(
        select(Topic).where(func.lower(Topic.name) == name.lower())
    )
    if other is not None and (topic is None or other.id != topic.id):
        raise Conflict("A topic with that name already exists")
    action = "update"
    if topic is None:
        topic = Topic()
        db.session.add(topic)
        action = "create"
    topic.name, topic.is_active = name, is_active
    db.session.flush()
    record_event(
        actor, action, "topic", topic.id, "active" if is_active else "retired", now=now
    )
    return topic


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
