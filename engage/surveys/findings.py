"""'You said, we did': survey findings linked to the actions taken in the plan."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm import selectinload

from engage.audit.services import record_event
from engage.errors import NotFound
from engage.errors import ValidationError
from engage.extensions import db
from engage.surveys.models import Finding
from engage.surveys.models import Question
from engage.surveys.models import Survey

if TYPE_CHECKING:
    from engage.accounts.models import User


@dataclass(frozen=True)
class FindingData:
    """What staff enter about a finding."""

    theme: str
    you_said: str
    we_did: str = ""
    question_id: int | None = None
    action_ids: list[int] = field(default_factory=list)
    published: bool = False


def list_findings(survey: Survey, *, published_only: bool = False) -> list[Finding]:
    """A survey's findings in the order they were added."""
    query = select(Finding).where(Finding.survey_id == survey.id).order_by(Finding.id)
    if published_only:
        query = query.where(Finding.published)
    return list(db.session.scalars(query))


def published_findings_in(start: date, end: date) -> list[Finding]:
    """Published findings of a period, for the board report's "you said, we did".

    A finding belongs to a period when it was added or last changed in it, or when
    its survey closed in it; by survey, then in the order they were added.
    """
    first = datetime.combine(start, time.min, tzinfo=UTC)
    after = datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)
    query = (
        select(Finding)
        .join(Survey, Survey.id == Finding.survey_id)
        .options(joinedload(Finding.survey), selectinload(Finding.actions))
        .where(
            Finding.published,
            or_(
                (Finding.created_at >= first) & (Finding.created_at < after),
                (Finding.updated_at >= first) & (Finding.updated_at < after),
                (Survey.closes_at >= first) & (Survey.closes_at < after),
            ),
        )
        .order_by(Survey.title, Survey.id, Finding.id)
    )
    return list(db.session.scalars(query))


def get_finding(survey: Survey, finding_id: int) -> Finding:
    """A finding of this survey, or NotFound."""
    finding = db.session.get(Finding, finding_id)
    if finding is None or finding.survey_id != survey.id:
        raise NotFound("No such finding for this survey.")
    return finding


def _apply(finding: Finding, survey: Survey, data: FindingData) -> None:
    from engage.actions.models import Action

    if not data.theme.strip():
        raise ValidationError("Enter the theme")
    if not data.you_said.strip():
        raise ValidationError("Enter what people said")
    if data.question_id is not None:
        question = db.session.get(Question, data.question_id)
        if question is None or question.survey_id != survey.id:
            raise ValidationError("Choose a question from this survey")
    finding.theme = data.theme.strip()
    finding.you_said = data.you_said.strip()
    finding.we_did = data.we_did.strip()
    finding.question_id = data.question_id
    finding.published = data.published
    finding.actions = (
        list(db.session.scalars(select(Action).where(Action.id.in_(data.action_ids))))
        if data.action_ids
        else []
    )


def save_finding(
    survey: Survey,
    finding: Finding | None,
    data: FindingData,
    *,
    actor: User,
    now: datetime,
) -> Finding:
    """Add a finding (``finding`` None) or change one."""
    if finding is None:
        finding = Finding(survey_id=survey.id, created_at=now)
        db.session.add(finding)
    _apply(finding, survey, data)
    finding.updated_at = now
    db.session.flush()
    record_event(
        actor, "update", "survey", survey.id, f"finding saved: {finding.theme}", now=now
    )
    return finding


def delete_finding(finding: Finding, *, actor: User, now: datetime) -> None:
    """Remove a finding."""
    record_event(
        actor,
        "update",
        "survey",
        finding.survey_id,
        f"finding deleted: {finding.theme}",
        now=now,
    )
    db.session.delete(finding)
    db.session.flush()


def publish_findings(
    survey: Survey, published: bool, *, actor: User, now: datetime
) -> None:
    """Show (or hide) the survey's public "you said, we did" page."""
    survey.results_published = published
    survey.updated_at = now
    db.session.flush()
    record_event(
        actor,
        "publish" if published else "unpublish",
        "survey",
        survey.id,
        "you said, we did page",
        now=now,
    )
