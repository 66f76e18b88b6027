"""A mailing's delivery figures: logged on its action in the plan, and its readership.

A mailing linked to an action logs one delivery there, with figures that follow the
copies' outcomes as receipts and bounces arrive: "sent", "delivered" and "bounced"
(outputs, each in its own unit) and, only for mailings sent with tracking on,
"e-mail opens" and "e-mail clicks" (outtakes, shown as rates of the copies
delivered). Figures are only ever raised, never lowered: erasing a member deletes
their copies of past mailings, and the totals logged on the plan must stay true.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta

from sqlalchemy import func
from sqlalchemy import select

from engage.actions.deliveries import DeliveryData
from engage.actions.deliveries import default_reached_audiences
from engage.actions.deliveries import log_delivery
from engage.actions.models import Action
from engage.actions.models import Activity
from engage.actions.models import ReachFigure
from engage.audit.services import SYSTEM
from engage.clock import local_day
from engage.extensions import db
from engage.mailings.models import Mailing
from engage.mailings.models import MailingLink
from engage.mailings.models import MailingRecipient
from engage.mailings.models import MailingStatus
from engage.mailings.models import RecipientStatus
from engage.membership.models import ContactChannel
from engage.metrics.numbers import rate
from engage.metrics.services import observations_from_activities

#: Copies that left Engage: handed to the mail server or Notify, or printed.
SENT_STATUSES = (
    RecipientStatus.SENT,
    RecipientStatus.DELIVERED,
    RecipientStatus.BOUNCED,
    RecipientStatus.PRINTED,
)
#: The labels of the figures logged on the plan.
SENT, DELIVERED, BOUNCED = "sent", "delivered", "bounced"
OPENS, CLICKS = "e-mail opens", "e-mail clicks"
#: How long after a send finished its figures are still brought up to date
#: (delivery receipts and bounce reports can arrive days late).
REFRESH_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class Readership:
    """A mailing's figures, counted from its copies as they stand."""

    sent: int = 0
    delivered: int = 0
    bounced: int = 0
    not_sent: int = 0
    unsubscribed: int = 0
    #: E-mails that left Engage (the base of the open and click rates when no
    #: delivery receipts come back, as with a mail server).
    emails_sent: int = 0
    emails_delivered: int = 0
    opened: int = 0
    clicked: int = 0
    tracking: bool = False
    #: Per link of the body, in order: (address, clicks).
    links: list[tuple[str, int]] = field(default_factory=list)

    @property
    def emails_reached(self) -> int:
        """The e-mails known to have arrived (a receipt), else those that left
        Engage and did not bounce: the base of the open and click rates."""
        return self.emails_delivered or self.emails_sent

    @property
    def open_rate(self) -> float | None:
        return rate(self.opened, self.emails_reached)

    @property
    def click_rate(self) -> float | None:
        return rate(self.clicked, self.emails_reached)

    @property
    def reach_figures(self) -> list[tuple[str, int]]:
        """The figures logged on the plan (opens and clicks only with tracking)."""
        figures = [
            (SENT, self.sent),
            (DELIVERED, self.delivered),
            (BOUNCED, self.bounced),
        ]
        if self.tracking:
            figures += [(OPENS, self.opened), (CLICKS, self.clicked)]
        return figures


def readership(mailing: Mailing) -> Readership:
    """Count a mailing's copies by outcome, in one grouped query (and its links)."""
    query = (
        select(
            MailingRecipient.channel,
            MailingRecipient.status,
            func.count(),
            func.count(MailingRecipient.opened_at),
            func.count(MailingRecipient.clicked_at),
            func.count(MailingRecipient.unsubscribed_at),
        )
        .where(MailingRecipient.mailing_id == mailing.id)
        .group_by(MailingRecipient.channel, MailingRecipient.status)
    )
    counts = {
        "sent": 0,
        "delivered": 0,
        "bounced": 0,
        "not_sent": 0,
        "unsubscribed": 0,
        "emails_sent": 0,
        "emails_delivered": 0,
        "opened": 0,
        "clicked": 0,
    }
    for channel, status, number, opened, clicked, unsubscribed in db.session.execute(
        query
    ):
        counts["unsubscribed"] += unsubscribed
        if status in (RecipientStatus.SKIPPED, RecipientStatus.FAILED):
            counts["not_sent"] += number
        if status not in SENT_STATUSES:
            continue
        counts["sent"] += number
        if channel in (ContactChannel.EMAIL, ContactChannel.SMS):
            if status is RecipientStatus.DELIVERED:
                counts["delivered"] += number
            elif status is RecipientStatus.BOUNCED:
                counts["bounced"] += number
        if channel is ContactChannel.EMAIL:
            if status is not RecipientStatus.BOUNCED:
                counts["emails_sent"] += number
            if status is RecipientStatus.DELIVERED:
                counts["emails_delivered"] += number
            counts["opened"] += opened
            counts["clicked"] += clicked
    links = [
        (url, clicks)
        for url, clicks in db.session.execute(
            select(MailingLink.url, MailingLink.clicks)
            .where(MailingLink.mailing_id == mailing.id)
            .order_by(MailingLink.position)
        )
    ]
    return Readership(**counts, tracking=mailing.tracking, links=links)


def record_delivery(mailing: Mailing, *, now: datetime) -> None:
    """Log (once) the mailing's delivery on its action, and bring its figures up.

    Nothing happens for a mailing not linked to an action. The delivery is dated the
    UK day the send started; a figure already logged is never lowered (copies of
    erased members are deleted, but they were sent all the same).
    """
    if mailing.action_id is None:
        return
    action = db.session.get(Action, mailing.action_id)
    if action is None:
        return
    figures = readership(mailing).reach_figures
    activity = (
        db.session.get(Activity, mailing.activity_id)
        if mailing.activity_id is not None
        else None
    )
    if activity is None:
        reached = list(mailing.audiences) or default_reached_audiences(action)
        activity = log_delivery(
            action,
            DeliveryData(
                occurred_on=local_day(mailing.started_at or now),
                description=f"Mailing sent: {mailing.subject}"[:500],
                audience_ids=tuple(a.id for a in reached),
                figures=tuple(figures),
            ),
            actor=SYSTEM,
            now=now,
        )
        mailing.activity_id = activity.id
    else:
        logged = {figure.label: figure for figure in activity.figures}
        for label, value in figures:
            if label in logged:
                logged[label].value = max(logged[label].value, value)
            else:
                activity.figures.append(ReachFigure(label=label, value=value))
    db.session.flush()
    # The reach metrics (dashboard trends, reach report) of that day, as after a
    # delivery an officer logs; new labels get their stage and unit saved.
    observations_from_activities([activity.occurred_on], now=now)


def refresh_mailing_figures(*, now: datetime) -> int:
    """Bring up to date the figures of mailings that finished in the last 30 days
    (receipts and bounces arrive late); older ones stay as they were logged."""
    mailings = db.session.scalars(
        select(Mailing)
        .where(
            Mailing.action_id.is_not(None),
            Mailing.finished_at >= now - REFRESH_WINDOW,
            Mailing.status.in_([MailingStatus.SENT, MailingStatus.CANCELLED]),
        )
        .order_by(Mailing.id)
    ).all()
    for mailing in mailings:
        record_delivery(mailing, now=now)
    return len(mailings)


@dataclass(frozen=True)
class ReadershipRow:
    """One sent mailing on the "readership over time" page."""

    mailing: Mailing
    figures: Readership


def readership_over_time(limit: int = 200) -> list[ReadershipRow]:
    """Each mailing that went out (sent, or cancelled part way), newest first."""
    mailings = db.session.scalars(
        select(Mailing)
        .where(Mailing.started_at.is_not(None))
        .where(Mailing.status.in_([MailingStatus.SENT, MailingStatus.CANCELLED]))
        .order_by(Mailing.started_at.desc(), Mailing.id.desc())
        .limit(limit)
    ).all()
    return [ReadershipRow(m, readership(m)) for m in mailings]
