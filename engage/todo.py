"""What each role should do next: the lists on the home page.

An officer's home is a to-do list: their overdue actions and those due this week,
their commitments to stakeholders overdue or due this week, audiences due for
contact, surveys closing soon, feeds that keep failing, and a reach report still to
make. An admin's adds the system's health: the scheduler's heartbeat,
the mail queue and the jobs that failed. (A lead's home is the dashboard.)
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime
from datetime import timedelta

from sqlalchemy import func
from sqlalchemy import select

from engage.accounts.models import User
from engage.actions.digest import overdue_for
from engage.actions.models import Action
from engage.actions.services import DueItem
from engage.actions.services import due_between
from engage.audiences.models import Audience
from engage.audiences.services import contact_statuses
from engage.audiences.services import list_audiences
from engage.extensions import db
from engage.mail.models import MailStatus
from engage.mail.models import OutboxMessage
from engage.metrics.models import Feed
from engage.metrics.models import ReachReport
from engage.metrics.models import ReportPeriod
from engage.metrics.report import Period
from engage.metrics.report import last_complete_period
from engage.relationships import commitments
from engage.relationships.models import Commitment
from engage.scheduling.models import JobRun
from engage.scheduling.models import RunOutcome
from engage.scheduling.services import heartbeat_age
from engage.surveys.models import Survey
from engage.surveys.models import SurveyStatus

#: How far ahead "due this week" and "closing soon" look.
AHEAD = timedelta(days=7)
#: A feed counts as failing after this many failures in a row.
FEED_FAILURES = 3
#: A heartbeat older than this means no scheduler is running.
HEARTBEAT_STALE_SECONDS = 120


@dataclass(frozen=True)
class AudienceDue:
    audience: Audience
    due_since: date


@dataclass(frozen=True)
class ToDo:
    """An officer's (or admin's) list, each part possibly empty."""

    overdue: list[Action]
    due_soon: list[DueItem]
    audiences_due: list[AudienceDue]
    surveys_closing: list[tuple[Survey, date]]
    feeds_failing: list[Feed]
    report_to_make: Period | None
    #: Draft interactions filed from email that the user owns, to confirm.
    drafts_to_confirm: int = 0
    #: Emails from the capture mailbox waiting for review (counted for editors).
    emails_waiting: int = 0
    #: The user's open commitments past their due date, and those due this week.
    commitments_overdue: list[Commitment] = field(default_factory=list)
    commitments_due_soon: list[Commitment] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (
            self.drafts_to_confirm
            or self.emails_waiting
            or self.overdue
            or self.due_soon
            or self.commitments_overdue
            or self.commitments_due_soon
            or self.audiences_due
            or self.surveys_closing
            or self.feeds_failing
            or self.report_to_make
        )


@dataclass(frozen=True)
class Health:
    """The system's health for admins: what needs looking at, in plain words."""

    heartbeat_seconds: float | None
    mail_waiting: int
    mail_failed: int
    failed_jobs: list[JobRun] = field(default_factory=list)

    @property
    def scheduler_running(self) -> bool:
        return (
            self.heartbeat_seconds is not None
            and self.heartbeat_seconds <= HEARTBEAT_STALE_SECONDS
        )


def todo_for(user: User, *, today: date, now: datetime) -> ToDo:
    """What ``user`` should see to next, as of ``today``."""
    from engage.relationships.capture import drafts_owned
    from engage.relationships.capture import waiting_count
    from engage.surveys.services import closes_on

    audiences = list_audiences()
    statuses = contact_statuses(audiences, today=today)
    due_audiences = []
    for audience in audiences:
        since = statuses[audience.id].due_since
        if since is not None:
            due_audiences.append(AudienceDue(audience, since))
    due_audiences.sort(key=lambda item: (item.due_since, item.audience.name))
    closing = []
    for survey in db.session.scalars(
        select(Survey)
        .where(
            Survey.status == SurveyStatus.OPEN,
            Survey.closes_at.is_not(None),
            Survey.closes_at > now,
            Survey.closes_at <= now + AHEAD + timedelta(days=1),
        )
        .order_by(Survey.closes_at)
    ):
        last_day = closes_on(survey)
        if last_day is not None and last_day <= today + AHEAD:
            closing.append((survey, last_day))
    feeds = list(
        db.session.scalars(
            select(Feed)
            .where(Feed.active.is_(True), Feed.failures >= FEED_FAILURES)
            .order_by(Feed.name)
        )
    )
    period = last_complete_period(ReportPeriod.MONTH, today)
    made = db.session.scalar(
        select(func.count(ReachReport.id)).where(
            ReachReport.period == ReportPeriod.MONTH, ReachReport.start == period.start
        )
    )
    return ToDo(
        overdue=overdue_for(user, today),
        due_soon=due_between(today, today + AHEAD, owner_id=user.id),
        audiences_due=due_audiences,
        surveys_closing=closing,
        feeds_failing=feeds,
        report_to_make=None if made else period,
        drafts_to_confirm=drafts_owned(user),
        emails_waiting=waiting_count() if user.can_edit else 0,
        commitments_overdue=commitments.overdue_for(user, today),
        commitments_due_soon=commitments.due_between_for(user, today, today + AHEAD),
    )


def health(*, now: datetime) -> Health:
    """The scheduler's heartbeat, the mail queue and the last day's failed jobs."""
    counts = dict(
        db.session.execute(
            select(OutboxMessage.status, func.count(OutboxMessage.id))
            .where(
                OutboxMessage.status.in_(
                    [MailStatus.QUEUED, MailStatus.SENDING, MailStatus.FAILED]
                )
            )
            .group_by(OutboxMessage.status)
        ).all()
    )
    failed = list(
        db.session.scalars(
            select(JobRun)
            .where(
                JobRun.outcome == RunOutcome.FAILED,
                JobRun.started_at >= now - timedelta(days=1),
            )
            .order_by(JobRun.started_at.desc())
            .limit(10)
        )
    )
    return Health(
        heartbeat_seconds=heartbeat_age(now=now),
        mail_waiting=int(counts.get(MailStatus.QUEUED, 0))
        + int(counts.get(MailStatus.SENDING, 0)),
        mail_failed=int(counts.get(MailStatus.FAILED, 0)),
        failed_jobs=failed,
    )
