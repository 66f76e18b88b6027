"""Reading the interaction log: the filtered list, an audience's timeline, choices.

Each list is one query for its rows plus one ``selectinload`` query for each of the
rows' audiences, themes and contacts: never a query per row.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy import Select
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from engage.accounts.models import User
from engage.audiences.models import Audience
from engage.audiences.models import AudienceContact
from engage.extensions import db
from engage.relationships.models import Interaction
from engage.relationships.models import InteractionKind
from engage.relationships.models import InteractionStatus
from engage.relationships.models import Sentiment
from engage.relationships.models import Theme
from engage.relationships.models import interaction_audiences
from engage.relationships.models import interaction_themes

#: How many of an audience's interactions its page shows.
TIMELINE_LENGTH = 10
#: The most contacts sent with a form that are looked up (a page sends far fewer).
MAX_SENT_CONTACTS = 500

#: What every list of interactions shows beside each row.
WITH_LISTED = (
    selectinload(Interaction.audiences),
    selectinload(Interaction.themes),
    selectinload(Interaction.owner),
)


@dataclass(frozen=True)
class Filters:
    """What the list is narrowed to (None: any)."""

    audience_id: int | None = None
    theme_id: int | None = None
    kind: InteractionKind | None = None
    sentiment: Sentiment | None = None
    status: InteractionStatus | None = None
    owner_id: int | None = None
    since: date | None = None
    until: date | None = None


#: Newest first: the interactions list's order, and the keys it pages by.
NEWEST_FIRST = (Interaction.occurred_on.desc(), Interaction.id.desc())


def newest_first(query: Select[Any]) -> Select[Any]:
    return query.order_by(*NEWEST_FIRST)


def list_query(filters: Filters) -> Select[Any]:
    """The interactions matching ``filters`` (in no order: the list pages them
    newest first, by ``NEWEST_FIRST``)."""
    query = select(Interaction).options(*WITH_LISTED)
    if filters.audience_id is not None:
        query = query.join(
            interaction_audiences,
            interaction_audiences.c.interaction_id == Interaction.id,
        ).where(interaction_audiences.c.audience_id == filters.audience_id)
    if filters.theme_id is not None:
        query = query.join(
            interaction_themes, interaction_themes.c.interaction_id == Interaction.id
        ).where(interaction_themes.c.theme_id == filters.theme_id)
    if filters.kind is not None:
        query = query.where(Interaction.kind == filters.kind)
    if filters.sentiment is not None:
        query = query.where(Interaction.sentiment == filters.sentiment)
    if filters.status is not None:
        query = query.where(Interaction.status == filters.status)
    if filters.owner_id is not None:
        query = query.where(Interaction.owner_id == filters.owner_id)
    if filters.since is not None:
        query = query.where(Interaction.occurred_on >= filters.since)
    if filters.until is not None:
        query = query.where(Interaction.occurred_on <= filters.until)
    return query


def audience_timeline(audience_id: int) -> list[Interaction]:
    """An audience's latest interactions (drafts too), newest first."""
    query = (
        select(Interaction)
        .join(
            interaction_audiences,
            interaction_audiences.c.interaction_id == Interaction.id,
        )
        .where(interaction_audiences.c.audience_id == audience_id)
        .options(selectinload(Interaction.themes), selectinload(Interaction.contacts))
        .limit(TIMELINE_LENGTH)
    )
    return list(db.session.scalars(newest_first(query)))


def count_for_audience(audience_id: int) -> int:
    """How many interactions (drafts too) an audience has had."""
    return int(
        db.session.scalar(
            select(func.count()).where(
                interaction_audiences.c.audience_id == audience_id
            )
        )
        or 0
    )


def detail(interaction_id: int) -> Interaction | None:
    """One interaction with everything its page shows."""
    return db.session.scalar(
        select(Interaction)
        .where(Interaction.id == interaction_id)
        .options(
            selectinload(Interaction.audiences),
            selectinload(Interaction.contacts).selectinload(AudienceContact.audience),
            selectinload(Interaction.staff),
            selectinload(Interaction.themes),
            selectinload(Interaction.attachments),
            selectinload(Interaction.commitments),
        )
    )


# Choices for the forms ----------------------------------------------------------------


def audience_choices() -> list[tuple[int, str]]:
    return [
        (row.id, row.name)
        for row in db.session.execute(
            select(Audience.id, Audience.name).order_by(Audience.name, Audience.id)
        )
    ]


def theme_choices(keep: Collection[int] = ()) -> list[tuple[int, str]]:
    """Active themes, and any in ``keep`` (those an interaction already has)."""
    wanted: ColumnElement[bool] = Theme.is_active.is_(True)
    if keep:
        wanted = wanted | Theme.id.in_(list(keep))
    return [
        (row.id, row.name)
        for row in db.session.execute(
            select(Theme.id, Theme.name).where(wanted).order_by(Theme.name)
        )
    ]


def staff_choices(keep: Collection[int] = ()) -> list[tuple[int, str]]:
    """Active users, and any in ``keep`` (those already recorded as present)."""
    wanted: ColumnElement[bool] = User.is_active.is_(True)
    if keep:
        wanted = wanted | User.id.in_(list(keep))
    return [
        (row.id, row.name)
        for row in db.session.execute(
            select(User.id, User.name).where(wanted).order_by(User.name, User.id)
        )
    ]


def contact_choices(
    audience_ids: Collection[int], sent_ids: Collection[int] = ()
) -> list[tuple[int, str]]:
    """The contacts of the audiences chosen, by audience, and any others sent (so
    that choosing one of another audience is refused in words, not as a bad value)."""
    wanted: ColumnElement[bool] = AudienceContact.audience_id.in_(list(audience_ids))
    sent = list(sent_ids)[:MAX_SENT_CONTACTS]
    if sent:
        wanted = wanted | AudienceContact.id.in_(sent)
    if not audience_ids and not sent:
        return []
    rows = db.session.execute(
        select(AudienceContact.id, AudienceContact.name, AudienceContact.role)
        .add_columns(Audience.name.label("audience"))
        .join(Audience, Audience.id == AudienceContact.audience_id)
        .where(wanted)
        .order_by(Audience.name, AudienceContact.name, AudienceContact.id)
    )
    return [
        (row.id, f"{row.name}{', ' + row.role if row.role else ''} ({row.audience})")
        for row in rows
    ]
