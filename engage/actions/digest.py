"""The daily action digest: each owner's actions due within 7 days or overdue.

Run by the ``action-digest`` job. One e-mail per active owner who has something
due or overdue, nothing otherwise, and never twice for the same day (a row in
``action_digests_sent`` per owner and day, written with the e-mail).
"""

from __future__ import annotations

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

#: How far ahead the digest looks.
DIGEST_DAYS = 7
_OPEN = (ActionStatus.PLANNED, ActionStatus.IN_PROGRESS)


def _owners_with_dated_actions(end: datetime) -> list[User]:
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
            select(User).where(User.is_active, User.id.in_(owned)).order_by(User.id)
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


def send_action_digests(*, now: datetime) -> dict[str, int]:
    """E-mail each owner their due and overdue actions, once per day; the counts."""
    today = local_day(now)
    end = today + timedelta(days=DIGEST_DAYS)
    already = set(
        db.session.scalars(
            select(ActionDigestSent.user_id).where(ActionDigestSent.day == today)
        )
    )
    counts = {"emails": 0, "already_sent": 0}
    for user in _owners_with_dated_actions(end):  # type: ignore[arg-type]
        if user.id in already:
            counts["already_sent"] += 1
            continue
        overdue = overdue_for(user, today)
        due = due_between(today, end, owner_id=user.id)
        if not overdue and not due:
            continue
        total = len(overdue) + len(due)
        send_mail(
            user.email,
            f"Engage: {total} action{'s' if total != 1 else ''} due soon or overdue",
            render_template(
                "actions/email/digest.txt",
                user=user,
                overdue=overdue,
                due=due,
                link=lambda action: absolute_url("actions.detail", action_id=action.id),
                mine_link=absolute_url("actions.mine"),
            ),
            reason="you own actions in the communication plan that are due or overdue",
        )
        db.session.add(ActionDigestSent(user_id=user.id, day=today, sent_at=now))
        counts["emails"] += 1
    db.session.flush()
    return counts
