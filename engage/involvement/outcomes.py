"""What an involvement activity heard and what changed because of it: its outcome.

The outcome is the evidence of involvement: "what we heard" and "what changed", in
plain words, linked to the published "you said, we did" findings it fed into and to
the actions in the plan that changed. It is shown as a section of the activity's
page and in the board report and the yearly summary.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from engage.actions.models import Action
from engage.audit.services import record_event
from engage.errors import ValidationError
from engage.extensions import db
from engage.involvement.models import InvolvementActivity
from engage.involvement.panels import panel
from engage.surveys.models import Finding
from engage.surveys.models import Survey

if TYPE_CHECKING:
    from engage.accounts.models import User

#: The longest "what we heard" and "what changed" (a few paragraphs each).
MAX_HEARD = 5000
MAX_CHANGED = 5000
#: How much of a finding's "you said" its checkbox shows.
FINDING_LABEL_WORDS = 120


@dataclass(frozen=True)
class OutcomeData:
    """What staff enter about an activity's outcome."""

    what_we_heard: str
    what_changed: str
    finding_ids: list[int] = field(default_factory=list)
    action_ids: list[int] = field(default_factory=list)


def _short(text: str, limit: int = FINDING_LABEL_WORDS) -> str:
    """``text`` on one line, cut at a whole word within ``limit`` characters."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    return flat[:limit].rsplit(" ", 1)[0] + "…"


def finding_choices() -> list[tuple[int, str]]:
    """Published findings to link, as (id, "Survey: theme – what people said")."""
    found = db.session.scalars(
        select(Finding)
        .join(Survey, Survey.id == Finding.survey_id)
        .options(joinedload(Finding.survey))
        .where(Finding.published)
        .order_by(Survey.title, Finding.id)
    )
    return [
        (f.id, f"{f.survey.title}: {f.theme} – {_short(f.you_said)}") for f in found
    ]


def action_choices() -> list[tuple[int, str]]:
    """Actions in the plan to link, by title."""
    return [
        (action.id, action.title)
        for action in db.session.scalars(select(Action).order_by(Action.title))
    ]


def has_outcome(activity: InvolvementActivity) -> bool:
    """Whether anything of the outcome has been recorded."""
    return bool(
        activity.what_we_heard.strip()
        or activity.what_changed.strip()
        or activity.findings
        or activity.changed_actions
    )


def record_outcome(
    activity: InvolvementActivity,
    data: OutcomeData,
    *,
    actor: User,
    now: datetime,
) -> None:
    """Save what the activity heard and what changed, and the findings and actions
    it is linked to (published findings and actions of the plan only)."""
    heard, changed = data.what_we_heard.strip(), data.what_changed.strip()
    if not heard and not changed:
        raise ValidationError("Enter what we heard, what changed, or both")
    if len(heard) > MAX_HEARD or len(changed) > MAX_CHANGED:
        raise ValidationError(f"Write at most {MAX_HEARD:,} characters in each box")
    finding_ids, action_ids = set(data.finding_ids), set(data.action_ids)
    findings = (
        list(
            db.session.scalars(
                select(Finding).where(Finding.id.in_(finding_ids), Finding.published)
            )
        )
        if finding_ids
        else []
    )
    if len(findings) != len(finding_ids):
        raise ValidationError("Choose findings that have been published")
    actions = (
        list(db.session.scalars(select(Action).where(Action.id.in_(action_ids))))
        if action_ids
        else []
    )
    if len(actions) != len(action_ids):
        raise ValidationError("Choose actions from the plan")
    activity.what_we_heard = heard
    activity.what_changed = changed
    activity.findings = sorted(findings, key=lambda f: f.id)
    activity.changed_actions = sorted(actions, key=lambda a: a.id)
    activity.outcome_recorded_at = now
    record_event(
        actor,
        "record_outcome",
        "involvement_activity",
        activity.id,
        f"{len(findings)} findings and {len(actions)} actions linked",
        now=now,
    )
    db.session.flush()


@panel("involvement/_outcome_panel.html", order=50)
def outcome_panel(activity: InvolvementActivity) -> dict[str, Any] | None:
    """The activity page's section on what was heard and what changed."""
    return {
        "activity": activity,
        "has_outcome": has_outcome(activity),
        "findings": list(activity.findings),
        "changed_actions": list(activity.changed_actions),
    }
