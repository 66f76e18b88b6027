"""Reach report services: make, store, list and email the weekly and monthly report."""

from __future__ import annotations

from datetime import date
from datetime import datetime

from flask import render_template
from sqlalchemy import select
from sqlalchemy import update

from engage.accounts.models import Role
from engage.accounts.models import User
from engage.audit.services import record_event
from engage.extensions import db
from engage.mail.services import Attachment
from engage.mail.services import send_mail
from engage.metrics.models import ReachReport
from engage.metrics.models import ReportPeriod
from engage.metrics.report import Period
from engage.metrics.report import compute_reach
from engage.metrics.report import last_complete_period
from engage.metrics.report import reach_rows
from engage.metrics.report import report_xlsx

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def make_reach_report(period: Period, *, now: datetime) -> ReachReport:
    """The stored report for the period, computed now if it does not exist yet."""
    report = db.session.scalar(
        select(ReachReport).where(
            ReachReport.period == period.kind, ReachReport.start == period.start
        )
    )
    if report is None:
        report = ReachReport(
            period=period.kind,
            start=period.start,
            end=period.end,
            figures=compute_reach(reach_rows(period), period),
            created_at=now,
        )
        db.session.add(report)
        db.session.flush()
    return report


def list_reports() -> list[ReachReport]:
    """Stored reports, newest period first."""
    return list(
        db.session.scalars(
            select(ReachReport).order_by(ReachReport.start.desc(), ReachReport.id)
        )
    )


def report_filename(report: ReachReport) -> str:
    """``reach-report-month-2026-10-01.xlsx``."""
    return f"reach-report-{report.period.value}-{report.start.isoformat()}.xlsx"


def subscribers() -> list[User]:
    """Active leads and officers who asked for the reach report."""
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.is_active.is_(True),
                User.reach_report_subscribed.is_(True),
                User.role.in_([Role.LEAD, Role.OFFICER]),
            )
            .order_by(User.id)
        )
    )


def send_reach_report(
    kind: ReportPeriod | str, today: date, *, now: datetime
) -> dict[str, int]:
    """Make the report for the last whole week or month and email it to subscribers.

    Idempotent per period: a report already sent is not sent again. The mail leaves
    when the caller commits. Returns counts: ``reports`` made, ``sent`` messages.
    """
    period = last_complete_period(ReportPeriod(kind), today)
    report = make_reach_report(period, now=now)
    # Claim the report with a conditional UPDATE (an optimistic lock): of two runs that
    # overlap, only the one whose UPDATE matched sends; the other's waits and matches 0.
    claimed = db.session.execute(
        update(ReachReport)
        .where(ReachReport.id == report.id, ReachReport.sent_at.is_(None))
        .values(sent_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return {"reports": 0, "sent": 0}
    attachment = Attachment(
        report_filename(report), XLSX_TYPE, report_xlsx(report.figures)
    )
    recipients = subscribers()
    subject = f"Reach report: {report.figures['label']}"
    # Every recipient gets the same report: its tables are rendered once.
    context = {"report": report, "figures": report.figures}
    text = render_template("metrics/email/reach_report.txt", **context)
    html = render_template("metrics/email/reach_report.html", **context)
    for user in recipients:
        send_mail(
            user.email,
            subject,
            text,
            html=html,
            attachments=(attachment,),
            reason="you asked for the reach report (change that on your account "
            "page in Engage)",
        )
    report.sent_at = now
    report.recipients = len(recipients)
    db.session.flush()
    record_event(
        "system",
        "send",
        "reach_report",
        report.id,
        f"{len(recipients)} recipients",
        now=now,
    )
    return {"reports": 1, "sent": len(recipients)}


def set_report_subscription(user: User, subscribed: bool, *, now: datetime) -> None:
    """Turn the user's reach report emails on or off."""
    user.reach_report_subscribed = subscribed
    db.session.flush()
    record_event(
        user,
        "update",
        "user",
        user.id,
        f"reach report {'on' if subscribed else 'off'}",
        now=now,
    )
