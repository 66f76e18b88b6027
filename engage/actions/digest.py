"""The daily action digest: each owner's actions due within 7 days or overdue.

It also lists the owner's overdue commitments to stakeholders (a user with only an
overdue commitment gets one too). Run by the ``action-digest`` job. One email per
active owner who has something due or overdue, nothing otherwise, and never twice
for the same day (a row in ``action_digests_sent`` per owner and day, written with
the email).
"""

from __future__ import annotations

from datetime import date
from datetime import datetime
from datetime import timedelta

from flask import render_template
from sqlalchemy import select

from engage.accounts.models import User
from engage.actions.models import Action
from engage.actions.models import ActionDigestSent
from engage.actions.models import ActionStatus
from engage.actions.models import action_owners
from engage.actions.services import due_between
from engage.clock import local_day
from engage.extensions import db
from engage.mail.services import absolute_url
from engage.mail.services import send_mail
from engage.relationships import commitments

#: How far ahead the digest looks.
DIGEST_DAYS = 7
_OPEN = (ActionStatus.PLANNED, ActionStatus.IN_PROGRESS)


def _owners_with_dated_actions(end: datetime, today: date) -> list[User]:
    owned = (
        select(action_owners.c.user_id)
        .join(Action, Action.id == action_owners.c.action_id)
        .where(
            Action.status.in_(_OPEN),
            Action.next_due_date.is_not(None),
            Action.next_due_date <= end,
        )
    )
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.is_active,
                User.id.in_(owned)
                | User.id.in_(commitments.owners_with_overdue(today)),
            )
            .order_by(User.id)
        )
    )


def overdue_for(user: User, today: object) -> list[Action]:
    """``user``'s open actions whose next due date has passed, oldest first."""
    query = (
        select(Action)
        .join(action_owners, action_owners.c.action_id == Action.id)
        .where(
            action_owners.c.user_id == user.id,
            Action.status.in_(_OPEN),
            Action.next_due_date < today,
        )
        .order_by(Action.next_due_date, Action.title)
    )
    return list(db.session.scalars(query))


def _subject(actions: int, promised: int) -> str:
    parts = []
    if actions:
        parts.append(
            f"{actions} action{'s' if actions != 1 else ''} due soon or overdue"
        )
    if promised:
        parts.append(f"{promised} commitment{'s' if promised != 1 else ''} overdue")
    return "Engage: " + " and ".join(parts)


def send_action_digests(*, now: datetime) -> dict[str, int]:
    """Email each owner their due and overdue actions, once per day; the counts."""
    today = local_day(now)
    end = today + timedelta(days=DIGEST_DAYS)
    already = set(
        db.session.scalars(
            select(ActionDigestSent.user_id).where(ActionDigestSent.day == today)
        )
    )
    counts = {"emails": 0, "already_sent": 0}
    for user in _owners_with_dated_actions(end, today):  # type: ignore[arg-type]
        if user.id in already:
            counts["already_sent"] += 1
            continue
        overdue = overdue_for(user, today)
        due = due_between(today, end, owner_id=user.id)
        promised = commitments.overdue_for(user, today)
        if not overdue and not due and not promised:
            continue
        send_mail(
            user.email,
            _subject(len(overdue) + len(due), len(promised)),
            render_template(
                "actions/email/digest.txt",
                user=user,
                overdue=overdue,
                due=due,
                link=lambda action: absolute_url("actions.detail", action_id=action.id),
                mine_link=absolute_url("actions.mine"),
                commitments_overdue=promised,
                commitment_words=lambda c: commitments.overdue_words(c, today),
                commitment_link=lambda c: absolute_url(
                    "commitments.edit", commitment_id=c.id
                ),
                commitments_link=absolute_url(
                    "commitments.index", owner="mine", status="overdue"
                ),
            ),
            reason="you own actions in the communication plan, or commitments to "
            "stakeholders, that are due or overdue",
        )
        db.session.add(ActionDigestSent(user_id=user.id, day=today, sent_at=now))
        counts["emails"] += 1
    db.session.flush()
    return counts
