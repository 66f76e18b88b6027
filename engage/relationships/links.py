"""Links between stakeholders: "Healthwatch Kent is funded by Kent County Council".

A link has a direction (from one audience to another) and a kind. Each audience's
page lists its links both ways, in words that read naturally from its side.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import and_
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from engage.audiences.models import Audience
from engage.audit.services import record_event
from engage.db import added_once
from engage.errors import Conflict
from engage.errors import ValidationError
from engage.extensions import db
from engage.relationships.models import AudienceLink
from engage.relationships.models import LinkKind

if TYPE_CHECKING:
    from engage.accounts.models import User

#: How each kind reads from the other end: "Kent County Council funds Healthwatch Kent".
REVERSE = {
    LinkKind.MEMBER_OF: "has as a member",
    LinkKind.REPORTS_TO: "is reported to by",
    LinkKind.FUNDED_BY: "funds",
    LinkKind.PART_OF: "includes",
    LinkKind.PARTNER_OF: "works in partnership with",
}
#: The longest note kept with a link.
MAX_NOTE = 300


def describe(link: AudienceLink) -> str:
    """The link as a sentence from its first audience's side."""
    return f"{link.from_audience.name} {link.kind.label} {link.to_audience.name}"


def add_link(
    audience: Audience,
    other: Audience,
    kind: LinkKind,
    *,
    note: str = "",
    actor: User | str,
    now: datetime,
) -> AudienceLink:
    """Record that ``audience`` ``kind`` ``other`` (``audience`` is a member of…)."""
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise ValidationError(f"The note must be {MAX_NOTE} characters or fewer.")
    if audience.id == other.id:
        raise ValidationError("A stakeholder cannot be linked to itself.")
    for one in (audience, other):
        if one.is_archived:
            raise ValidationError(
                f"{one.name} is archived: restore it before linking it."
            )
    same = and_(
        AudienceLink.from_audience_id == audience.id,
        AudienceLink.to_audience_id == other.id,
    )
    if kind is LinkKind.PARTNER_OF:
        # A partnership reads the same both ways: one link is enough.
        same = or_(
            same,
            and_(
                AudienceLink.from_audience_id == other.id,
                AudienceLink.to_audience_id == audience.id,
            ),
        )
    duplicate = db.session.scalar(
        select(AudienceLink.id).where(same, AudienceLink.kind == kind)
    )
    link = AudienceLink(
        from_audience=audience, to_audience=other, kind=kind, note=note, created_at=now
    )
    if duplicate is not None or not added_once(db.session(), link):
        if link in db.session:
            db.session.expunge(link)
        raise Conflict(
            f"That link is already recorded: {audience.name} {kind.label} {other.name}."
        )
    record_event(actor, "create", "audience_link", link.id, describe(link), now=now)
    return link


def remove_link(link: AudienceLink, *, actor: User | str, now: datetime) -> None:
    """Remove a link between stakeholders."""
    record_event(actor, "delete", "audience_link", link.id, describe(link), now=now)
    db.session.delete(link)
    db.session.flush()


@dataclass(frozen=True)
class LinkLine:
    """One link as the audience's page shows it."""

    link_id: int
    #: The words between this audience and the other ("is funded by", "funds").
    words: str
    other_id: int
    other_name: str
    note: str


def links_of(audience: Audience) -> list[LinkLine]:
    """The audience's links both ways, each worded from the audience's side."""
    query = (
        select(AudienceLink)
        .where(
            or_(
                AudienceLink.from_audience_id == audience.id,
                AudienceLink.to_audience_id == audience.id,
            )
        )
        .options(
            joinedload(AudienceLink.from_audience), joinedload(AudienceLink.to_audience)
        )
    )
    lines = []
    for link in db.session.scalars(query):
        if link.from_audience_id == audience.id:
            words, other = link.kind.label, link.to_audience
        else:
            words, other = REVERSE[link.kind], link.from_audience
        lines.append(LinkLine(link.id, words, other.id, other.name, link.note))
    lines.sort(key=lambda line: (line.words, line.other_name.lower()))
    return lines


def audience_choices(audience: Audience) -> list[tuple[int, str]]:
    """The audiences this one may be linked to: the others not archived, by name."""
    rows = db.session.execute(
        select(Audience.id, Audience.name)
        .where(Audience.archived_at.is_(None), Audience.id != audience.id)
        .order_by(Audience.name)
    )
    return [(row.id, row.name) for row in rows]
