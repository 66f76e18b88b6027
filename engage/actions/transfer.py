"""The action plan as table rows: the columns of the 2012 plan, read and written.

The first six columns are those of the reference plan
(``action,channel,audiences,timescale,responsibility,measurement``); the others are
optional and, when a file leaves them out, an existing action keeps its values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import replace
from datetime import date
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from engage.accounts.models import Role
from engage.accounts.models import User
from engage.actions.models import Action
from engage.actions.models import ActionStatus
from engage.actions.models import Channel
from engage.actions.models import Objective
from engage.actions.models import Recurrence
from engage.actions.schedule import parse_timescale
from engage.actions.schedule import step
from engage.actions.services import ActionData
from engage.actions.services import create_action
from engage.actions.services import save_channel
from engage.actions.services import update_action
from engage.audiences.models import Audience
from engage.audiences.models import AudienceGroup
from engage.audiences.models import Programme
from engage.errors import ValidationError
from engage.extensions import db
from engage.imports.rows import RowReader
from engage.imports.tabular import unix_newlines
from engage.templating import format_date

COLUMNS = (
    "action",
    "channel",
    "audiences",
    "timescale",
    "responsibility",
    "measurement",
    "status",
    "owners",
    "programme",
    "objective",
    "start_date",
    "due_date",
    "recurrence",
)
REQUIRED = COLUMNS[:6]
ALIASES = {
    "title": "action",
    "audience": "audiences",
    "measure": "measurement",
    "success_measure": "measurement",
    "owner": "owners",
}
#: What to write in each column (shown on the upload page).
HELP = {
    "action": "The action’s title. An action with the same title, in any case, is "
    "updated.",
    "channel": "How it is done, such as Newsletter or Website. A new channel is added.",
    "audiences": "Audience names or groups separated by “;”, “All” or “N/A”. Wording "
    "that matches no audience is kept as written.",
    "timescale": "As written in the plan: “Monthly”, “July 2012”, “TBC”…",
    "responsibility": "Who is responsible, as written.",
    "measurement": "How success is measured.",
    "status": "Optional: planned, in progress, done or cancelled.",
    "owners": "Optional: staff email addresses separated by “;”.",
    "programme": "Optional: the name of an existing programme.",
    "objective": "Optional: the title of an existing objective.",
    "start_date": "Optional: a date like 13/06/2026 or 2026-06-13.",
    "due_date": "Optional: a date like 31/07/2026 or 2026-07-31.",
    "recurrence": "Optional: "
    + ", ".join(r.label for r in Recurrence)
    + ". Blank schedule columns: read from the timescale.",
}
_SCHEDULE_COLUMNS = ("recurrence", "start_date", "due_date")

#: Audience cells meaning "every audience" and "no audience".
ALL_AUDIENCES = frozenset({"all", "all audiences", "everyone"})
NO_AUDIENCE = frozenset({"n/a", "na", "none"})
#: Words ignored when matching "Patients and public" to "Patients and the public".
STOP_WORDS = frozenset({"and", "the", "of", "with", "for"})


# Reading the audiences column ---------------------------------------------------------


@dataclass(frozen=True)
class AudienceMatch:
    """What an ``audiences`` cell names."""

    all_audiences: bool = False
    audience_ids: tuple[int, ...] = ()
    #: Words that matched no audience, kept as written (for Action.audience_note).
    note: str = ""
    unmatched: tuple[str, ...] = ()
    ambiguous: tuple[str, ...] = ()


def _squash(text: str) -> str:
    return re.sub(r"\s*;\s*", "; ", " ".join(text.lower().split()))


def _words(text: str) -> frozenset[str]:
    return frozenset(re.findall(r"[^\W_]+", text.lower())) - STOP_WORDS


class AudienceResolver:
    """Turns the plan's audience wording into audiences.

    Each ``;``-separated part is, in order of preference: an audience's exact name
    (names may themselves hold ``;``), a group ("Internal": the audiences in it), the
    start of one audience's name ("GPs"), or words that all appear in one audience's
    name ("Patients and public"). "All" means every audience and "N/A" none. Parts
    that match nothing (or several audiences) are kept as written.
    """

    def __init__(self, audiences: list[Audience]) -> None:
        self._by_name = {_squash(a.name): a for a in audiences}
        self._active = [a for a in audiences if a.archived_at is None]

    def resolve(self, text: str) -> AudienceMatch:
        """Read one ``audiences`` cell."""
        parts = [part.strip() for part in text.split(";") if part.strip()]
        everyone, ids = False, set[int]()
        kept: list[str] = []
        unmatched: list[str] = []
        ambiguous: list[str] = []
        start = 0
        while start < len(parts):
            end, exact = self._longest_name(parts, start)
            if exact is not None:
                ids.add(exact.id)
                start = end
                continue
            part = parts[start]
            start += 1
            if part.lower() in ALL_AUDIENCES:
                everyone = True
            elif part.lower() not in NO_AUDIENCE:
                found, several = self._match(part)
                ids.update(a.id for a in found)
                if not found:
                    kept.append(part)
                    (ambiguous if several else unmatched).append(part)
        return AudienceMatch(
            everyone,
            tuple(sorted(ids)),
            "; ".join(kept),
            tuple(unmatched),
            tuple(ambiguous),
        )

    def _longest_name(
        self, parts: list[str], start: int
    ) -> tuple[int, Audience | None]:
        for end in range(len(parts), start, -1):
            audience = self._by_name.get(_squash("; ".join(parts[start:end])))
            if audience is not None:
                return end, audience
        return start, None

    def _match(self, part: str) -> tuple[list[Audience], bool]:
        """Audiences a part names, and whether it was ambiguous."""
        lowered = part.lower()
        groups = {g.value: g for g in AudienceGroup}
        if lowered in groups:
            return [a for a in self._active if a.group is groups[lowered]], False
        starting = [a for a in self._active if a.name.lower().startswith(lowered)]
        if len(starting) == 1:
            return starting, False
        words = _words(part)
        holding = [a for a in self._active if words and words <= _words(a.name)]
        if len(holding) == 1:
            return holding, False
        return [], len(starting) > 1 or len(holding) > 1


# Importing ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionDraft:
    """A checked row: the action's data and its channel's name.

    ``data.channel_id`` is 0 while the channel is still to be created.
    """

    channel_name: str
    data: ActionData


class ActionImporter:
    """One action-plan import: actions, channels, audiences and staff looked up once."""

    def __init__(self) -> None:
        actions = db.session.scalars(
            select(Action).options(
                selectinload(Action.audiences), selectinload(Action.owners)
            )
        )
        self._actions = {a.title.strip().lower(): a for a in actions}
        self._channels = {
            c.name.lower(): c for c in db.session.scalars(select(Channel))
        }
        self._new_channels: dict[str, str] = {}
        self._resolver = AudienceResolver(list(db.session.scalars(select(Audience))))
        self._users = {u.email.lower(): u for u in db.session.scalars(select(User))}
        self._programmes = {
            p.name.lower(): p.id for p in db.session.scalars(select(Programme))
        }
        self._objectives = {
            o.title.lower(): o.id for o in db.session.scalars(select(Objective))
        }
        self._channel_notes: list[str] = []
        self._notes: list[str] = []

    def read_row(self, values: Mapping[str, str], number: int) -> ActionDraft:
        """Check one row and resolve its channel, audiences, schedule and people."""
        cells = RowReader(values)
        title = cells.text("action", label="the action", max_length=300, required=True)
        channel = cells.text(
            "channel", label="the channel", max_length=100, required=True
        )
        timescale = cells.text("timescale", label="the timescale", max_length=200)
        responsibility = cells.text(
            "responsibility", label="the responsibility", max_length=500, strip=False
        )
        measure = cells.text(
            "measurement", label="the measurement", max_length=10_000, strip=False
        )
        match = self._resolver.resolve(
            cells.text("audiences", label="the audiences", max_length=2000)
        )
        if len(match.note) > 500:
            cells.problem("The audiences that match no audience are too long to keep.")
        recurrence, start_date, due_date = self._schedule(cells, timescale)
        status = cells.choice("status", ActionStatus, label="status")
        owner_ids = self._owner_ids(cells)
        programme_id = self._lookup(cells, "programme", self._programmes)
        objective_id = self._lookup(cells, "objective", self._objectives)
        cells.check()
        existing = self._actions.get(title.lower())
        known = self._channels.get(channel.lower())
        if known is None and channel.lower() not in self._new_channels:
            self._new_channels[channel.lower()] = channel
            self._channel_notes.append(f"A new channel “{channel}” will be added.")
        self._note_audiences(number, match)
        data = ActionData(
            title=title,
            channel_id=known.id if known else 0,
            audience_ids=match.audience_ids,
            all_audiences=match.all_audiences,
            audience_note=match.note,
            objective_id=_kept(
                cells, "objective", objective_id, existing, "objective_id"
            ),
            programme_id=_kept(
                cells, "programme", programme_id, existing, "programme_id"
            ),
            owner_ids=(
                owner_ids
                if owner_ids is not None
                else tuple(sorted(u.id for u in existing.owners) if existing else ())
            ),
            responsibility=responsibility,
            start_date=start_date,
            due_date=due_date,
            timescale=timescale,
            recurrence=recurrence,
            success_measure=measure,
            status=status or (existing.status if existing else ActionStatus.PLANNED),
        )
        return ActionDraft(channel, data)

    def _schedule(
        self, cells: RowReader, timescale: str
    ) -> tuple[Recurrence, date | None, date | None]:
        """From the schedule columns if the row fills any, else from the timescale."""
        if not any(cells.values.get(c, "").strip() for c in _SCHEDULE_COLUMNS):
            parsed = parse_timescale(timescale)
            return parsed.recurrence, parsed.start_date, parsed.due_date
        recurrence = _recurrence(cells)
        start = cells.day("start_date", label="start date")
        due = cells.day("due_date", label="due date")
        if start and due and due < start:
            cells.problem("The due date must be on or after the start date.")
        return recurrence, start, due

    def _owner_ids(self, cells: RowReader) -> tuple[int, ...] | None:
        """Owners' ids; None when the file has no owners column (keep them)."""
        if not cells.has("owners"):
            return None
        ids = set()
        for email in cells.values["owners"].split(";"):
            if not email.strip():
                continue
            user = self._users.get(email.strip().lower())
            if user is None:
                cells.problem(
                    f"There is no staff user with the email “{email.strip()}”."
                )
            else:
                ids.add(user.id)
        return tuple(sorted(ids))

    def _lookup(
        self, cells: RowReader, column: str, known: dict[str, int]
    ) -> int | None:
        written = cells.text(column, label=f"the {column}", max_length=300)
        if written and written.lower() not in known:
            cells.problem(
                f"There is no {column} called “{written}”. Add it first, or leave the "
                "cell blank."
            )
        return known.get(written.lower()) if written else None

    def _note_audiences(self, number: int, match: AudienceMatch) -> None:
        for part in match.unmatched:
            self._notes.append(
                f"Row {number}: “{part}” matches no audience; it is kept as written."
            )
        for part in match.ambiguous:
            self._notes.append(
                f"Row {number}: “{part}” matches several audiences; it is kept as "
                "written."
            )

    def key(self, draft: ActionDraft) -> str:
        return draft.data.title

    def find(self, draft: ActionDraft) -> Action | None:
        return self._actions.get(draft.data.title.lower())

    def changes(self, existing: Action, draft: ActionDraft) -> list[str]:
        data = _keep_remembered_due_date(existing, draft.data)
        compared = {
            "action": (existing.title, data.title),
            "channel": (existing.channel_id, data.channel_id),
            "audiences": (
                (
                    existing.all_audiences,
                    sorted(a.id for a in existing.audiences),
                    existing.audience_note,
                ),
                (data.all_audiences, sorted(data.audience_ids), data.audience_note),
            ),
            "timescale": (existing.timescale, data.timescale),
            "responsibility": (
                unix_newlines(existing.responsibility),
                unix_newlines(data.responsibility),
            ),
            "measurement": (
                unix_newlines(existing.success_measure),
                unix_newlines(data.success_measure),
            ),
            "status": (existing.status, data.status),
            "owners": (sorted(u.id for u in existing.owners), sorted(data.owner_ids)),
            "programme": (existing.programme_id, data.programme_id),
            "objective": (existing.objective_id, data.objective_id),
            "start_date": (existing.start_date, data.start_date),
            "due_date": (existing.due_date, data.due_date),
            "recurrence": (existing.recurrence, data.recurrence),
        }
        return [column for column, (old, new) in compared.items() if old != new]

    def describe(self, draft: ActionDraft) -> str:
        new = " (new channel)" if draft.data.channel_id == 0 else ""
        timescale = draft.data.timescale or "no timescale"
        # The days as read, in words: a date like 03/04/2026 can be read two ways.
        days = [
            f"{label} {format_date(day)}"
            for label, day in (
                ("starts", draft.data.start_date),
                ("due", draft.data.due_date),
            )
            if day is not None
        ]
        return "; ".join([f"{draft.channel_name}{new}", timescale, *days])

    def notes(self) -> list[str]:
        return self._channel_notes + self._notes

    def save(
        self,
        existing: Action | None,
        draft: ActionDraft,
        *,
        actor: User | str,
        now: datetime,
    ) -> None:
        _check_allowed(existing, draft, actor)
        data = draft.data
        if data.channel_id == 0:
            key = draft.channel_name.lower()
            channel = self._channels.get(key)
            if channel is None:
                channel = save_channel(
                    None, name=draft.channel_name, is_active=True, actor=actor, now=now
                )
                self._channels[key] = channel
            data = replace(data, channel_id=channel.id)
        if existing is None:
            self._actions[data.title.lower()] = create_action(
                data, actor=actor, now=now
            )
        else:
            data = _keep_remembered_due_date(existing, data)
            update_action(existing, data, actor=actor, now=now)


def _keep_remembered_due_date(existing: Action, data: ActionData) -> ActionData:
    """Keep the first due date Engage remembered for an undated repeating action.

    A "Monthly" action first due on the 29th–31st has that date saved as its due date
    (so it keeps its day in short months); a file that leaves the due date blank means
    "as before", not "forget it" — otherwise re-importing would change it.
    """
    if (
        data.due_date is None
        and existing.due_date is not None
        and data.recurrence == existing.recurrence
        and step(existing.due_date, data.recurrence) is not None
    ):
        return replace(data, due_date=existing.due_date)
    return data


def _check_allowed(
    existing: Action | None, draft: ActionDraft, actor: User | str
) -> None:
    """Apply the web pages' rules to an import by a staff user.

    Officers change only the actions they own (or that nobody owns yet) and only
    admins add channels; the command line (an operator on the server) may do both.
    """
    if isinstance(actor, str) or actor.role is Role.ADMIN:
        return
    if existing is not None and existing.owners and actor not in existing.owners:
        raise ValidationError(
            f"You can only change actions you own: “{existing.title}” belongs to "
            "other staff. Ask them or an administrator to change it."
        )
    if draft.data.channel_id == 0:
        raise ValidationError(
            f"Only administrators can add channels: “{draft.channel_name}” is not in "
            "the list. Ask an administrator to add it, or use an existing channel."
        )


def _kept(
    cells: RowReader,
    column: str,
    value: int | None,
    existing: Action | None,
    field: str,
) -> int | None:
    """The cell's value, or the existing action's when the file lacks the column."""
    if cells.has(column):
        return value
    return getattr(existing, field) if existing else None


def _recurrence(cells: RowReader) -> Recurrence:
    written = cells.values.get("recurrence", "").strip()
    if not written:
        return Recurrence.NONE
    folded = "_".join(written.lower().replace("-", " ").split())
    for recurrence in Recurrence:
        if folded in (recurrence.value, "_".join(recurrence.label.lower().split())):
            return recurrence
    parsed = parse_timescale(written).recurrence
    if parsed is Recurrence.NONE:
        choices = ", ".join(f"“{r.label}”" for r in Recurrence)
        cells.problem(f"The recurrence must be one of {choices}, not “{written}”.")
    return parsed


# Exporting ----------------------------------------------------------------------------


def audiences_cell(action: Action) -> str:
    """The ``audiences`` cell for an action: "All", names and kept wording, or "N/A"."""
    parts = ["All"] if action.all_audiences else []
    parts += [audience.name for audience in action.audiences]
    if action.audience_note:
        parts.append(action.audience_note)
    return "; ".join(parts) or "N/A"


def export_rows() -> list[list[str]]:
    """Every action, in the order they were added, in COLUMNS order."""
    actions = db.session.scalars(
        select(Action)
        .options(
            selectinload(Action.audiences),
            selectinload(Action.owners),
            selectinload(Action.channel),
            selectinload(Action.programme),
            selectinload(Action.objective),
        )
        .order_by(Action.id)
    )
    return [
        [
            action.title,
            action.channel.name,
            audiences_cell(action),
            action.timescale,
            action.responsibility,
            action.success_measure,
            action.status.label,
            "; ".join(owner.email for owner in action.owners),
            action.programme.name if action.programme else "",
            action.objective.title if action.objective else "",
            action.start_date.isoformat() if action.start_date else "",
            action.due_date.isoformat() if action.due_date else "",
            action.recurrence.label,
        ]
        for action in actions
    ]
