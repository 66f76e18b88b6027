"""The meeting brief: one printable page about an audience before meeting it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from datetime import timedelta

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from engage.audiences.models import Approach
from engage.audiences.models import Audience
from engage.audiences.models import AudienceContact
from engage.audiences.services import ContactStatus
from engage.audiences.services import contact_statuses
from engage.extensions import db
from engage.relationships.health import Health
from engage.relationships.health import score_one
from engage.relationships.models import Commitment
from engage.relationships.models import CommitmentStatus
from engage.relationships.models import Interaction
from engage.relationships.models import InteractionStatus
from engage.relationships.models import Theme
from engage.relationships.models import interaction_audiences
from engage.relationships.models import interaction_themes

#: Each list is cut to fit one A4 page for a typical audience.
CONTACTS_SHOWN = 8
INTERACTIONS_SHOWN = 5
COMMITMENTS_SHOWN = 8
THEMES_SHOWN = 5
#: Themes are counted over this many days.
THEME_DAYS = 365


@dataclass(frozen=True)
class MeetingBrief:
    """What the brief shows, each list cut to its cap (with how many there are)."""

    audience: Audience
    day: date
    approach: Approach
    status: ContactStatus
    health: Health
    contacts: list[AudienceContact]
    contact_count: int
    interactions: list[Interaction]
    commitments: list[Commitment]
    commitment_count: int
    #: (theme, times raised) over the last 12 months, most raised first.
    themes: list[tuple[Theme, int]]


def build_brief(audience: Audience, day: date) -> MeetingBrief:
    """The meeting brief for ``audience`` on ``day``."""
    contacts = sorted(audience.contacts, key=lambda c: c.name.lower())
    interactions = list(
        db.session.scalars(
            select(Interaction)
            .join(interaction_audiences)
            .where(
                interaction_audiences.c.audience_id == audience.id,
                Interaction.status == InteractionStatus.CONFIRMED,
                Interaction.occurred_on <= day,
            )
            .order_by(Interaction.occurred_on.desc(), Interaction.id.desc())
            .limit(INTERACTIONS_SHOWN)
        )
    )
    open_commitments = (
        select(Commitment)
        .where(
            Commitment.audience_id == audience.id,
            Commitment.status == CommitmentStatus.OPEN,
        )
        .options(selectinload(Commitment.owner))
    )
    commitment_count = db.session.scalar(
        select(func.count()).select_from(open_commitments.subquery())
    )
    commitments = list(
        db.session.scalars(
            open_commitments.order_by(Commitment.due_on, Commitment.id).limit(
                COMMITMENTS_SHOWN
            )
        )
    )
    raised = func.count().label("raised")
    themes = [
        (theme, count)
        for theme, count in db.session.execute(
            select(Theme, raised)
            .join(interaction_themes, interaction_themes.c.theme_id == Theme.id)
            .join(Interaction, Interaction.id == interaction_themes.c.interaction_id)
            .join(
                interaction_audiences,
                interaction_audiences.c.interaction_id == Interaction.id,
            )
            .where(
                interaction_audiences.c.audience_id == audience.id,
                Interaction.status == InteractionStatus.CONFIRMED,
                Interaction.occurred_on <= day,
                Interaction.occurred_on > day - timedelta(days=THEME_DAYS),
            )
            .group_by(Theme.id)
            .order_by(raised.desc(), Theme.name)
            .limit(THEMES_SHOWN)
        )
    ]
    return MeetingBrief(
        audience=audience,
        day=day,
        approach=audience.approach,
        status=contact_statuses([audience], today=day)[audience.id],
        health=score_one(audience, day),
        contacts=contacts[:CONTACTS_SHOWN],
        contact_count=len(contacts),
        interactions=interactions,
        commitments=commitments,
        commitment_count=commitment_count or 0,
        themes=themes,
    )
