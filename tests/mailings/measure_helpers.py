"""Sent mailings with their copies' outcomes, for the measurement and history tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from datetime import timedelta

from engage.actions.models import Action
from engage.clock import utcnow
from engage.extensions import db
from engage.mailings.models import Mailing
from engage.mailings.models import MailingRecipient
from engage.mailings.models import MailingStatus
from engage.mailings.models import RecipientStatus
from engage.membership.models import ContactChannel
from engage.membership.models import Member
from tests import factories


def sent_mailing(
    outcomes: Sequence[RecipientStatus | tuple[RecipientStatus, ContactChannel]],
    *,
    action: Action | None = None,
    tracking: bool = False,
    subject: str = "December PPI newsletter",
    body: str = "Read [our plan](https://example.org/plan).",
    started_at: datetime | None = None,
    members: Sequence[Member] | None = None,
) -> Mailing:
    """A mailing that went out, with one copy per outcome (to a member each)."""
    started = started_at or utcnow()
    mailing = Mailing(
        subject=subject,
        body=body,
        action_id=action.id if action is not None else None,
        status=MailingStatus.SENT,
        tracking=tracking,
        prepared_at=started,
        started_at=started,
        finished_at=started + timedelta(minutes=5),
        created_at=started,
        updated_at=started,
    )
    db.session.add(mailing)
    db.session.flush()
    for index, outcome in enumerate(outcomes):
        status, channel = (
            outcome if isinstance(outcome, tuple) else (outcome, ContactChannel.EMAIL)
        )
        member = (
            members[index]
            if members is not None
            else factories.MemberFactory(consents=[channel])
        )
        db.session.add(
            MailingRecipient(
                mailing_id=mailing.id,
                channel=channel,
                member_id=member.id,
                address=None if channel is ContactChannel.POST else member.email,
                status=status,
                sent_at=None
                if status in (RecipientStatus.SKIPPED, RecipientStatus.PENDING)
                else started,
            )
        )
    db.session.commit()
    return mailing


def figures_of(mailing: Mailing) -> dict[str, int]:
    """The figures logged on the plan for a mailing, by label."""
    from engage.actions.models import Activity

    activity = db.session.get(Activity, mailing.activity_id)
    assert activity is not None
    return {f.label: f.value for f in activity.figures}
