"""The scheduler lease: one active scheduler process, the others on standby.

Each call is its own short transaction, committed here: the lease is the scheduler
process's own plumbing (an edge, like the job runner), never part of a job's work.
The jobs page and ``/healthz`` read the lease through engage.scheduling.services.
"""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta

from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from engage.extensions import db
from engage.scheduling.models import SchedulerLease
from engage.scheduling.services import LEASE_NAME


def acquire_lease(holder: str, *, ttl: timedelta, now: datetime) -> bool:
    """Take (or keep) the lease if it is free, expired or already ours."""
    result = db.session.execute(
        update(SchedulerLease)
        .where(
            SchedulerLease.name == LEASE_NAME,
            (SchedulerLease.holder == holder) | (SchedulerLease.expires_at < now),
        )
        .values(holder=holder, acquired_at=now, renewed_at=now, expires_at=now + ttl)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) == 1:
        db.session.commit()
        return True
    db.session.rollback()
    exists = db.session.scalar(
        select(SchedulerLease.name).where(SchedulerLease.name == LEASE_NAME)
    )
    if exists is not None:
        db.session.rollback()
        return False
    try:  # the very first scheduler: whoever inserts the row first holds it
        db.session.execute(
            insert(SchedulerLease).values(
                name=LEASE_NAME,
                holder=holder,
                acquired_at=now,
                renewed_at=now,
                expires_at=now + ttl,
            )
        )
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return False
    return True


def renew_lease(holder: str, *, ttl: timedelta, now: datetime) -> bool:
    """Extend our lease (the heartbeat); False if another scheduler has taken it."""
    result = db.session.execute(
        update(SchedulerLease)
        .where(SchedulerLease.name == LEASE_NAME, SchedulerLease.holder == holder)
        .values(renewed_at=now, expires_at=now + ttl)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return getattr(result, "rowcount", 0) == 1


def release_lease(holder: str, *, now: datetime) -> None:
    """Give the lease up at once (a clean shutdown), so a standby takes over."""
    db.session.execute(
        update(SchedulerLease)
        .where(SchedulerLease.name == LEASE_NAME, SchedulerLease.holder == holder)
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def holds_lease(holder: str, *, now: datetime) -> bool:
    """Whether ``holder`` has the unexpired lease."""
    lease = db.session.get(SchedulerLease, LEASE_NAME)
    return bool(lease and lease.holder == holder and lease.expires_at >= now)
