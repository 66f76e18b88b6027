"""Scheduling models: job runs, run-now requests, the scheduler lease, the job store."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlalchemy import Column
from sqlalchemy import Float
from sqlalchemy import ForeignKey
from sqlalchemy import LargeBinary
from sqlalchemy import String
from sqlalchemy import Table
from sqlalchemy import Text
from sqlalchemy import Unicode
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from engage.db import str_enum
from engage.extensions import db

#: Name of APScheduler's job store table (see ``apscheduler_jobs`` below).
JOBSTORE_TABLE = "apscheduler_jobs"

#: APScheduler's SQLAlchemyJobStore table, declared here so that our migration
#: creates it, the tests' cleanup empties it and erasure checks can read it. The
#: columns are exactly those APScheduler 3 creates (it skips a table that exists).
apscheduler_jobs = Table(
    JOBSTORE_TABLE,
    db.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)


class RunOutcome(enum.StrEnum):
    """How a job run ended (``running`` until it does)."""

    RUNNING = "running"
    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"

    @property
    def label(self) -> str:
        return {"running": "Running", "ok": "OK", "failed": "Failed"}.get(
            self.value, "Skipped"
        )


class RunTrigger(enum.StrEnum):
    """What started a run."""

    SCHEDULE = "schedule"
    REQUEST = "request"  # the "Run now" button
    CLI = "cli"  # engage run-job NAME

    @property
    def label(self) -> str:
        return {
            "schedule": "On its schedule",
            "request": "Run now button",
            "cli": "Command line",
        }[self.value]


class JobRun(db.Model):  # type: ignore[name-defined,misc]
    """One run of a scheduled job, with its counts or its error."""

    __tablename__ = "job_runs"
    # One run per job and scheduled time, whichever scheduler gets there first.
    __table_args__ = (UniqueConstraint("job", "scheduled_for"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(100), index=True)
    trigger: Mapped[RunTrigger] = mapped_column(str_enum(RunTrigger))
    #: The tick this run belongs to (scheduled runs only).
    scheduled_for: Mapped[datetime | None]
    started_at: Mapped[datetime] = mapped_column(index=True)
    finished_at: Mapped[datetime | None]
    outcome: Mapped[RunOutcome] = mapped_column(
        str_enum(RunOutcome), default=RunOutcome.RUNNING
    )
    #: What the service did, e.g. {"sent": 3}: numbers only, no personal data.
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: The error class and message, truncated, email addresses removed.
    error: Mapped[str | None] = mapped_column(Text)
    #: Which scheduler process (or "cli") ran it.
    holder: Mapped[str] = mapped_column(String(100), default="")

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class RequestStatus(enum.StrEnum):
    """Where a run-now request is."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"

    @property
    def label(self) -> str:
        return {"queued": "waiting", "running": "running", "done": "done"}[self.value]


class JobRequest(db.Model):  # type: ignore[name-defined,misc]
    """A "Run now" request, picked up by the active scheduler within seconds."""

    __tablename__ = "job_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(100))
    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    requested_at: Mapped[datetime]
    status: Mapped[RequestStatus] = mapped_column(
        str_enum(RequestStatus), default=RequestStatus.QUEUED, index=True
    )
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("job_runs.id", ondelete="SET NULL")
    )


class SchedulerLease(db.Model):  # type: ignore[name-defined,misc]
    """The one active scheduler: whoever holds an unexpired lease runs the jobs."""

    __tablename__ = "scheduler_lease"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    acquired_at: Mapped[datetime]
    #: The heartbeat: when the holder last renewed the lease.
    renewed_at: Mapped[datetime]
    expires_at: Mapped[datetime]
