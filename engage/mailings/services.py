"""Composing mailings: words, channels, readers, templates, test sends, publishing.

Services flush and return; the edge (a view, a job) commits.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from engage.actions.models import Action
from engage.audiences.models import Audience
from engage.audit.services import record_event
from engage.errors import Conflict
from engage.errors import ValidationError
from engage.extensions import db
from engage.mail.services import send_mail
from engage.mailings.compose import problems
from engage.mailings.compose import render_email
from engage.mailings.models import Mailing
from engage.mailings.models import MailingStatus
from engage.mailings.models import MailingTemplate
from engage.membership.models import Practice
from engage.membership.models import SupportNeed
from engage.membership.models import Tier
from engage.membership.models import Topic

if TYPE_CHECKING:
    from engage.accounts.models import User

#: Statuses in which a mailing's words and readers may still change.
EDITABLE = (MailingStatus.DRAFT, MailingStatus.SCHEDULED)
#: The longest text message wording (four concatenated messages).
MAX_SMS_LENGTH = 612
#: Archive slugs are 16 URL-safe characters; anything longer is never looked up.
MAX_SLUG_LENGTH = 40


@dataclass
class MailingData:
    """What a person writes and chooses for a mailing."""

    subject: str
    body: str
    easy_read_body: str = ""
    sms_text: str = ""
    action_id: int | None = None
    by_email: bool = True
    by_sms: bool = False
    by_post: bool = False
    to_members: bool = True
    tier: Tier | None = None
    topic_id: int | None = None
    practice_id: int | None = None
    support_need: SupportNeed | None = None
    joined_from: date | None = None
    joined_to: date | None = None
    audience_ids: list[int] = field(default_factory=list)


@dataclass
class TemplateData:
    """A saved starting point's name and words."""

    name: str
    subject: str = ""
    body: str = ""


def is_editable(mailing: Mailing) -> bool:
    """Whether the mailing's words and readers may still change."""
    return mailing.status in EDITABLE


def _check(data: MailingData) -> None:
    if not data.subject.strip():
        raise ValidationError("Enter a subject.")
    found = problems(data.body) + problems(data.easy_read_body)
    if found:
        raise ValidationError(found[0])
    if len(data.sms_text) > MAX_SMS_LENGTH:
        raise ValidationError(
            f"The text message must be {MAX_SMS_LENGTH} characters or fewer."
        )
    if not (data.by_email or data.by_sms or data.by_post):
        raise ValidationError("Choose at least one way to send it.")
    if not data.to_members and not data.audience_ids:
        raise ValidationError(
            "Choose who it is for: members, stakeholder audiences, or both."
        )
    if data.joined_from and data.joined_to and data.joined_from > data.joined_to:
        raise ValidationError("The join dates are the wrong way round.")
    if data.action_id is not None and db.session.get(Action, data.action_id) is None:
        raise ValidationError("Choose an action from the plan.")
    if data.topic_id is not None and db.session.get(Topic, data.topic_id) is None:
        raise ValidationError("Choose a topic from the list.")
    if (
        data.practice_id is not None
        and db.session.get(Practice, data.practice_id) is None
    ):
        raise ValidationError("Choose a GP practice from the list.")


def _audiences(ids: list[int]) -> list[Audience]:
    if not ids:
        return []
    found = list(
        db.session.scalars(
            select(Audience).where(Audience.id.in_(set(ids))).order_by(Audience.name)
        )
    )
    if len(found) != len(set(ids)):
        raise ValidationError("Choose audiences from the stakeholder map.")
    return found


_FIELDS = (
    "subject",
    "body",
    "easy_read_body",
    "sms_text",
    "action_id",
    "by_email",
    "by_sms",
    "by_post",
    "to_members",
    "tier",
    "topic_id",
    "practice_id",
    "support_need",
    "joined_from",
    "joined_to",
)


def _apply(mailing: Mailing, data: MailingData) -> list[str]:
    changed = [
        name for name in _FIELDS if getattr(mailing, name) != getattr(data, name)
    ]
    for name in changed:
        setattr(mailing, name, getattr(data, name))
    audiences = _audiences(data.audience_ids)
    if {a.id for a in audiences} != {a.id for a in mailing.audiences}:
        mailing.audiences = audiences
        changed.append("audiences")
    return changed


def create_mailing(
    data: MailingData,
    *,
    actor: User | str,
    now: datetime,
    template: MailingTemplate | None = None,
) -> Mailing:
    """Start a draft mailing (from ``template``, if one was chosen)."""
    data.subject = data.subject.strip()
    _check(data)
    mailing = Mailing(
        subject=data.subject,
        status=MailingStatus.DRAFT,
        template_id=template.id if template is not None else None,
        created_by_id=None if isinstance(actor, str) else actor.id,
        created_at=now,
        updated_at=now,
    )
    db.session.add(mailing)
    _apply(mailing, data)
    db.session.flush()
    record_event(actor, "create", "mailing", mailing.id, "draft mailing", now=now)
    return mailing


def update_mailing(
    mailing: Mailing, data: MailingData, *, actor: User | str, now: datetime
) -> list[str]:
    """Change a draft or scheduled mailing; return the names of what changed."""
    if not is_editable(mailing):
        raise Conflict(
            f"This mailing is {mailing.status.label.lower()}: it can no longer change."
        )
    data.subject = data.subject.strip()
    _check(data)
    changed = _apply(mailing, data)
    if changed:
        mailing.updated_at = now
        db.session.flush()
        record_event(
            actor,
            "update",
            "mailing",
            mailing.id,
            "changed " + ", ".join(changed),
            now=now,
        )
    return changed


def new_slug() -> str:
    """A fresh, unguessable archive slug (never the mailing's id)."""
    while True:
        slug = secrets.token_urlsafe(12)
        taken = db.session.scalar(
            select(Mailing.id).where(Mailing.archive_slug == slug)
        )
        if taken is None:
            return slug


def publish(mailing: Mailing, *, actor: User | str, now: datetime) -> str:
    """Give the mailing its public "view in a browser" page; return its slug."""
    if mailing.archive_slug and mailing.published_at is not None:
        raise Conflict("This mailing is already published.")
    found = problems(mailing.body)
    if found:
        raise ValidationError(found[0])
    if not mailing.subject.strip() or not mailing.body.strip():
        raise ValidationError("Write the mailing before publishing it.")
    mailing.archive_slug = mailing.archive_slug or new_slug()
    mailing.published_at = now
    mailing.updated_at = now
    db.session.flush()
    record_event(
        actor, "publish_mailing", "mailing", mailing.id, "web copy published", now=now
    )
    return mailing.archive_slug


def unpublish(mailing: Mailing, *, actor: User | str, now: datetime) -> None:
    """Take the public page down (its address is kept, should it be published again)."""
    if mailing.published_at is None:
        raise Conflict("This mailing is not published.")
    mailing.published_at = None
    mailing.updated_at = now
    db.session.flush()
    record_event(
        actor,
        "unpublish_mailing",
        "mailing",
        mailing.id,
        "web copy taken down",
        now=now,
    )


def list_published() -> list[Mailing]:
    """Published newsletters, newest first."""
    return list(
        db.session.scalars(
            select(Mailing)
            .where(Mailing.archive_slug.is_not(None), Mailing.published_at.is_not(None))
            .order_by(Mailing.published_at.desc(), Mailing.id.desc())
        )
    )


def published_by_slug(slug: str) -> Mailing | None:
    """The published mailing at ``slug``, or None (any other slug)."""
    if not slug or len(slug) > MAX_SLUG_LENGTH:
        return None
    return db.session.scalar(
        select(Mailing).where(
            Mailing.archive_slug == slug, Mailing.published_at.is_not(None)
        )
    )


def send_test(mailing: Mailing, *, to: str, actor: User, now: datetime) -> None:
    """Email the mailing, as it will look, to ``to`` (the person asking)."""
    found = problems(mailing.body)
    if found:
        raise ValidationError(found[0])
    rendered = render_email(
        mailing,
        unsubscribe_url=None,
        reason="you asked for a test copy of this mailing",
    )
    send_mail(
        to,
        f"Test: {rendered.subject}",
        rendered.text,
        reason="you asked for a test copy of this mailing",
        html=rendered.html,
        footed=True,
    )
    record_event(
        actor, "test_send", "mailing", mailing.id, "test copy emailed", now=now
    )


def recipients_in_words(mailing: Mailing) -> list[str]:
    """Who the mailing is for, one plain sentence per group."""
    parts: list[str] = []
    if mailing.to_members:
        criteria = _member_criteria(mailing)
        if criteria:
            parts.append("PPI members " + ", ".join(criteria))
        else:
            parts.append("All PPI members")
    if mailing.audiences:
        names = ", ".join(a.name for a in mailing.audiences)
        parts.append(f"The contacts of these stakeholder audiences: {names}")
    parts.append("Only people whose consent allows the channel are sent anything.")
    return parts


def _member_criteria(mailing: Mailing) -> list[str]:
    topic = db.session.get(Topic, mailing.topic_id) if mailing.topic_id else None
    practice = (
        db.session.get(Practice, mailing.practice_id) if mailing.practice_id else None
    )
    criteria = [
        f"in the {mailing.tier.label} tier" if mailing.tier else "",
        f"interested in {topic.name}" if topic is not None else "",
        f"registered with {practice.name}" if practice is not None else "",
        f"who need {mailing.support_need.label.lower()}"
        if mailing.support_need
        else "",
    ]
    start, end = mailing.joined_from, mailing.joined_to
    if start and end:
        criteria.append(f"who joined between {_day(start)} and {_day(end)}")
    elif start:
        criteria.append(f"who joined on or after {_day(start)}")
    elif end:
        criteria.append(f"who joined on or before {_day(end)}")
    return [c for c in criteria if c]


def _day(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


# Templates


def list_templates() -> list[MailingTemplate]:
    """Saved templates by name."""
    return list(
        db.session.scalars(select(MailingTemplate).order_by(MailingTemplate.name))
    )


def _check_template(data: TemplateData, template: MailingTemplate | None) -> None:
    data.name = data.name.strip()
    if not data.name:
        raise ValidationError("Enter the template's name.")
    found = problems(data.body)
    if found:
        raise ValidationError(found[0])
    other = db.session.scalar(
        select(MailingTemplate).where(MailingTemplate.name == data.name)
    )
    if other is not None and (template is None or other.id != template.id):
        raise Conflict("A template with that name already exists.")


def create_template(
    data: TemplateData, *, actor: User | str, now: datetime
) -> MailingTemplate:
    """Save a new template."""
    _check_template(data, None)
    template = MailingTemplate(
        name=data.name,
        subject=data.subject,
        body=data.body,
        created_at=now,
        updated_at=now,
    )
    db.session.add(template)
    db.session.flush()
    record_event(actor, "create", "mailing_template", template.id, data.name, now=now)
    return template


def update_template(
    template: MailingTemplate, data: TemplateData, *, actor: User | str, now: datetime
) -> None:
    """Change a template (mailings started from it keep their own words)."""
    _check_template(data, template)
    template.name, template.subject, template.body = data.name, data.subject, data.body
    template.updated_at = now
    db.session.flush()
    record_event(actor, "update", "mailing_template", template.id, data.name, now=now)


def delete_template(
    template: MailingTemplate, *, actor: User | str, now: datetime
) -> None:
    """Delete a template (mailings started from it keep their own words)."""
    record_event(
        actor, "delete", "mailing_template", template.id, template.name, now=now
    )
    db.session.delete(template)
    db.session.flush()
