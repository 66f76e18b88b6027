"""Audiences as table rows: the columns the importer reads and the export writes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select

from engage.accounts.models import User
from engage.audiences.models import Approach
from engage.audiences.models import Audience
from engage.audiences.models import AudienceGroup
from engage.audiences.services import TYPICAL_SCORES
from engage.audiences.services import AudienceData
from engage.audiences.services import create_audience
from engage.audiences.services import list_audiences
from engage.audiences.services import update_audience
from engage.extensions import db
from engage.imports.rows import RowReader
from engage.imports.tabular import same_text

#: Exported in this order; ``audience``, ``group`` and ``approach`` are required.
COLUMNS = ("audience", "group", "approach", "notes", "influence", "interest", "owner")
REQUIRED = ("audience", "group", "approach")
ALIASES = {"name": "audience"}
#: What to write in each column (shown on the upload page).
HELP = {
    "audience": "The audience’s name (the column may also be called “name”). An "
    "audience with the same name, in any case, is updated.",
    "group": "public, clinical, provider, partner, media or internal.",
    "approach": "manage, inform or monitor.",
    "notes": "Anything to remember about the audience.",
    "influence": "1 (little) to 5 (decisive). Blank: the usual score for the approach.",
    "interest": "1 (little) to 5 (very keen). Blank: the usual score for the approach.",
    "owner": "The email address of the staff member who looks after the audience.",
}

#: AudienceData field → the column that sets it (for "what will change").
_FIELDS = {
    "name": "audience",
    "group": "group",
    "approach": "approach",
    "notes": "notes",
    "influence": "influence",
    "interest": "interest",
    "owner_id": "owner",
}


class AudienceImporter:
    """One audience import: existing audiences and staff looked up once."""

    def __init__(self) -> None:
        self._audiences = {
            a.name.strip().lower(): a for a in db.session.scalars(select(Audience))
        }
        self._users = {u.email.lower(): u for u in db.session.scalars(select(User))}

    def read_row(self, values: Mapping[str, str], number: int) -> AudienceData:
        """Check one row; what the file leaves out keeps its current value."""
        cells = RowReader(values)
        name = cells.text(
            "audience", label="the audience name", max_length=200, required=True
        )
        group = cells.choice("group", AudienceGroup, label="group", required=True)
        approach = cells.choice("approach", Approach, label="approach", required=True)
        notes = cells.text("notes", label="the notes", max_length=10_000, strip=False)
        influence = cells.whole_number("influence", label="influence", low=1, high=5)
        interest = cells.whole_number("interest", label="interest", low=1, high=5)
        owner_email = cells.text("owner", label="the owner", max_length=254)
        owner = self._users.get(owner_email.lower()) if owner_email else None
        if owner_email and owner is None:
            cells.problem(f"There is no staff user with the email “{owner_email}”.")
        cells.check()
        group, approach = cells.given(group), cells.given(approach)
        existing = self._audiences.get(name.lower())
        typical = TYPICAL_SCORES[approach]
        return AudienceData(
            name=name,
            group=group,
            approach=approach,
            influence=influence or (existing.influence if existing else typical[0]),
            interest=interest or (existing.interest if existing else typical[1]),
            owner_id=(
                (owner.id if owner else None)
                if cells.has("owner")
                else (existing.owner_id if existing else None)
            ),
            notes=notes if cells.has("notes") else (existing.notes if existing else ""),
        )

    def key(self, draft: AudienceData) -> str:
        return draft.name

    def find(self, draft: AudienceData) -> Audience | None:
        return self._audiences.get(draft.name.lower())

    def changes(self, existing: Audience, draft: AudienceData) -> list[str]:
        changed = [
            column
            for name, column in _FIELDS.items()
            if name != "notes" and getattr(existing, name) != getattr(draft, name)
        ]
        if not same_text(existing.notes, draft.notes):
            changed.append("notes")
        return changed

    def describe(self, draft: AudienceData) -> str:
        return (
            f"{draft.group.label}, {draft.approach.value}; influence "
            f"{draft.influence}, interest {draft.interest}"
        )

    def notes(self) -> list[str]:
        return []

    def save(
        self,
        existing: Audience | None,
        draft: AudienceData,
        *,
        actor: User | str,
        now: datetime,
    ) -> None:
        if existing is None:
            self._audiences[draft.name.lower()] = create_audience(
                draft, actor=actor, now=now
            )
        else:
            update_audience(existing, draft, actor=actor, now=now)


def export_rows() -> list[list[object]]:
    """Every audience on the map, by name, in COLUMNS order (the scores as numbers,
    so a workbook can sort and add them)."""
    return [
        [
            audience.name,
            audience.group.label,
            audience.approach.value,
            audience.notes,
            audience.influence,
            audience.interest,
            audience.owner.email if audience.owner else "",
        ]
        for audience in list_audiences()
    ]
