"""Relationship services: logging interactions with audiences and confirming drafts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import timedelta
from typing import TYPE_CHECKING
from typing import Any
from typing import TypeVar

from sqlalchemy import select

from engage.accounts.models import User
from engage.audiences.models import Audience
from engage.audiences.models import AudienceContact
from engage.audit.services import record_event
from engage.clock import local_day
from engage.errors import ValidationError
from engage.extensions import db
from engage.relationships.models import Direction
from engage.relationships.models import Interaction
from engage.relationships.models import InteractionKind
from engage.relationships.models import InteractionStatus
from engage.relationships.models import Sentiment
from engage.relationships.models import Theme

if TYPE_CHECKING:
    from collections.abc import Sequence

R = TypeVar("R")

#: The longest summary kept (a long email's body is cut to this).
MAX_SUMMARY = 20_000


@dataclass(frozen=True)
class InteractionData:
    """What is recorded of one interaction."""

    kind: InteractionKind
    direction: Direction
    occurred_on: date
    subject: str
    summary: str = ""
    sentiment: Sentiment | None = None
    audience_ids: tuple[int, ...] = ()
    contact_ids: tuple[int, ...] = ()
    staff_ids: tuple[int, ...] = ()
    theme_ids: tuple[int, ...] = ()


def _rows(model: type[R], ids: Sequence[int], noun: str) -> list[R]:
    """The rows of ``model`` with these ids; each must exist."""
    wanted = sorted(set(ids))
    if not wanted:
        return []
    column: Any = getattr(model, "id")  # noqa: B009 - each model here has one
    found: list[R] = list(db.session.scalars(select(model).where(column.in_(wanted))))
    if len(found) != len(wanted):
        raise ValidationError(f"Choose {noun} from the list.")
    return found


def _apply(interaction: Interaction, data: InteractionData, *, now: datetime) -> None:
    """Check ``data`` and set it on ``interaction``."""
    subject = data.subject.strip()
    if not subject:
        raise ValidationError("Enter a short heading for the interaction.")
    if len(subject) > 300:
        raise ValidationError("The heading must be 300 characters or fewer.")
    if len(data.summary) > MAX_SUMMARY:
        raise ValidationError(
            f"The summary must be {MAX_SUMMARY:,} characters or fewer."
        )
    if data.occurred_on > local_day(now) + timedelta(days=1):
        raise ValidationError("An interaction cannot be in the future.")
    audiences: list[Audience] = _rows(Audience, data.audience_ids, "audiences")
    if not audiences:
        raise ValidationError("Choose at least one audience.")
    contacts: list[AudienceContact] = _rows(
        AudienceContact, data.contact_ids, "contacts"
    )
    chosen = {a.id for a in audiences}
    if any(c.audience_id not in chosen for c in contacts):
        raise ValidationError(
            "Each contact must belong to one of the audiences chosen."
        )
    interaction.kind = data.kind
    interaction.direction = data.direction
    interaction.occurred_on = data.occurred_on
    interaction.subject = subject
    interaction.summary = data.summary.strip()
    interaction.sentiment = data.sentiment
    interaction.audiences = audiences
    interaction.contacts = contacts
    interaction.staff = _rows(User, data.staff_ids, "staff")
    interaction.themes = _rows(Theme, data.theme_ids, "themes")
    interaction.updated_at = now


def record_interaction(
    data: InteractionData,
    *,
    actor: User | str,
    now: datetime,
    owner: User | None = None,
    status: InteractionStatus = InteractionStatus.CONFIRMED,
    source_key: str | None = None,
) -> Interaction:
    """Log an interaction (or, from email or an import, a draft or keyed one).

    ``owner`` is who answers for it: the member of staff logging it by default.
    A confirmed interaction needs a sentiment; a draft may wait for one.
    """
    if status is InteractionStatus.CONFIRMED and data.sentiment is None:
        raise ValidationError("Say how it went.")
    if owner is None and isinstance(actor, User):
        owner = actor
    interaction = Interaction(
        status=status, source_key=source_key, owner=owner, created_at=now
    )
    _apply(interaction, data, now=now)
    db.session.add(interaction)
    db.session.flush()
    record_event(
        actor,
        "create",
        "interaction",
        interaction.id,
        f"{interaction.kind.label.lower()} on {interaction.occurred_on.isoformat()}"
        f"{' (draft)' if interaction.is_draft else ''}",
        now=now,
    )
    return interaction


def update_interaction(
    interaction: Interaction,
    data: InteractionData,
    *,
    actor: User | str,
    now: datetime,
    confirm: bool = False,
) -> None:
    """Change an interaction; ``confirm`` also confirms a draft (it then counts as
    contact for its audiences)."""
    confirming = confirm and interaction.is_draft
    if (confirming or not interaction.is_draft) and data.sentiment is None:
        raise ValidationError("Say how it went.")
    _apply(interaction, data, now=now)
    if confirming:
        interaction.status = InteractionStatus.CONFIRMED
    db.session.flush()
    record_event(
        actor,
        "confirm" if confirming else "update",
        "interaction",
        interaction.id,
        f"{interaction.kind.label.lower()} on {interaction.occurred_on.isoformat()}",
        now=now,
    )
