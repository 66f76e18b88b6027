"""Audit services: record events and list them for administrators."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Select
from sqlalchemy import select

from engage.audit.models import AuditEvent
from engage.clock import start_of_day
from engage.clock import utcnow
from engage.extensions import db

if TYPE_CHECKING:
    from engage.accounts.models import User

log = logging.getLogger(__name__)

SYSTEM = "system"
PUBLIC = "public"


def record_event(
    actor: User | str | None,
    action: str,
    entity_type: str,
    entity_id: object = None,
    summary: str = "",
    *,
    now: datetime | None = None,
) -> AuditEvent:
    """Add an audit event to the current unit of work (committed with it).

    ``actor`` is a staff user, or a label such as ``"system"`` or ``"public"``.
    ``summary`` must describe the change without members' personal data.
    """
    if actor is None or isinstance(actor, str):
        actor_id, label = None, actor or SYSTEM
    else:
        actor_id, label = actor.id, f"{actor.name} (user {actor.id})"
    event = AuditEvent(
        occurred_at=now or utcnow(),
        actor_id=actor_id,
        actor_label=label[:200],
        action=action,
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id),
        summary=summary[:500],
    )
    db.session.add(event)
    log.info(
        "audit action=%s entity=%s:%s actor=%s",
        action,
        entity_type,
        event.entity_id,
        actor_id if actor_id is not None else label,
    )
    return event


@dataclass(frozen=True)
class AuditFilter:
    """Criteria for the admin audit list; None means no filter."""

    actor_id: int | None = None
    action: str | None = None
    entity_type: str | None = None
    date_from: date | None = None
    date_to: date | None = None


#: Newest first: the log's order, and the keys its pages follow.
NEWEST_FIRST = (AuditEvent.occurred_at.desc(), AuditEvent.id.desc())


def audit_query(criteria: AuditFilter) -> Select[AuditEvent]:
    """Return a newest-first query of the events matching ``criteria``."""
    query = select(AuditEvent).order_by(*NEWEST_FIRST)
    if criteria.actor_id is not None:
        query = query.where(AuditEvent.actor_id == criteria.actor_id)
    if criteria.action:
        query = query.where(AuditEvent.action == criteria.action)
    if criteria.entity_type:
        query = query.where(AuditEvent.entity_type == criteria.entity_type)
    if criteria.date_from:
        query = query.where(AuditEvent.occurred_at >= _start_of(criteria.date_from))
    if criteria.date_to:
        query = query.where(
            AuditEvent.occurred_at < _start_of(criteria.date_to + timedelta(days=1))
        )
    return query


def list_actions() -> list[str]:
    """Distinct actions recorded so far, for the filter menu."""
    return list(
        db.session.scalars(
            select(AuditEvent.action).distinct().order_by(AuditEvent.action)
        )
    )


def list_entity_types() -> list[str]:
    """Distinct entity types recorded so far, for the filter menu."""
    return list(
        db.session.scalars(
            select(AuditEvent.entity_type).distinct().order_by(AuditEvent.entity_type)
        )
    )


def _start_of(day: date) -> datetime:
    """Days in the filter are UK days (midnight GMT or BST)."""
    return start_of_day(day)


#: The most events one download holds (the newest, when there are more).
EXPORT_LIMIT = 50_000

#: The download's columns: when and what in words, then the event as recorded.
EXPORT_COLUMNS = (
    "When",
    "What happened",
    "Time in UTC, to the second",
    "Who",
    "Action (as stored)",
    "Kind of record (as stored)",
    "Record number",
    "Details (as stored)",
)


def export_events(
    criteria: AuditFilter, fmt: str, *, actor: User, now: datetime
) -> tuple[str, str, bytes]:
    """The filtered events as CSV or Excel (formula-safe), newest first; audited.

    Keeps the raw columns and adds the plain sentence, as the list page shows it
    (without links: a download has no pages to open).
    """
    from engage.audit.words import describe
    from engage.clock import local_day
    from engage.imports.tabular import mimetype
    from engage.imports.tabular import row_count
    from engage.imports.tabular import write_table
    from engage.templating import format_datetime

    events = list(db.session.scalars(audit_query(criteria).limit(EXPORT_LIMIT)))
    sentences = describe(events, None)
    rows: list[list[object]] = [
        [
            format_datetime(event.occurred_at),
            sentences[event.id].text,
            event.occurred_at.isoformat(),
            event.actor_label,
            event.action,
            event.entity_type,
            event.entity_id or "",
            event.summary,
        ]
        for event in events
    ]
    content = write_table(fmt, list(EXPORT_COLUMNS), rows, title="audit log")
    record_event(
        actor,
        "export",
        "audit_log",
        None,
        f"export audit log: {row_count(len(rows))} ({fmt})",
        now=now,
    )
    return f"audit-log-{local_day(now).isoformat()}.{fmt}", mimetype(fmt), content
