"""Demo mailings: the starter templates and a draft members' newsletter to try."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from engage.actions.models import Action
from engage.clock import local_day
from engage.extensions import db
from engage.mailings.models import Mailing
from engage.mailings.models import MailingTemplate
from engage.mailings.starters import ensure_starter_templates

#: The demo's draft, made from the PPI newsletter template.
DEMO_SUBJECT = "{month} members' newsletter"


def load_demo_mailings(*, now: datetime) -> None:
    """Add the starter templates and this month's draft newsletter, once."""
    ensure_starter_templates(now=now)
    subject = DEMO_SUBJECT.format(month=local_day(now).strftime("%B"))
    if db.session.scalar(select(Mailing.id).where(Mailing.subject == subject)):
        return
    template = db.session.scalar(
        select(MailingTemplate).where(MailingTemplate.name == "PPI newsletter")
    )
    action = db.session.scalar(
        select(Action).where(Action.title == "Members' newsletter")
    )
    db.session.add(
        Mailing(
            subject=subject,
            body=template.body if template else "",
            template_id=template.id if template else None,
            action_id=action.id if action else None,
            by_email=True,
            to_members=True,
            created_at=now,
            updated_at=now,
        )
    )
    db.session.flush()
