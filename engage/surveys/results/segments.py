"""Survey results by segment: cross-tabulation and response rates.

A segment is the tier, GP practice or topic of a response (or of an invited member)
or, for administrators and named surveys only, a member's answer to an equality
question. When small numbers are suppressed (``engage.surveys.disclosure``), they are
suppressed as in ``reports``, along rows and columns both; a segment with fewer than
5 respondents is never shown.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from typing import TYPE_CHECKING
from typing import Any

import pandas as pd
from sqlalchemy import select

from engage.audit.services import record_event
from engage.extensions import db
from engage.membership.equality import QUESTIONS_BY_FIELD
from engage.membership.equality import SUPPRESS_BELOW
from engage.membership.models import EqualityAnswers
from engage.membership.models import Member
from engage.membership.models import Practice
from engage.membership.models import Tier
from engage.membership.models import Topic
from engage.membership.models import member_topics
from engage.membership.reports import hidden_words
from engage.membership.reports import suppressed_values
from engage.surveys.models import Invitation
from engage.surveys.models import Question
from engage.surveys.models import Response
from engage.surveys.models import Survey
from engage.surveys.results.frames import Frames
from engage.surveys.results.frames import as_days
from engage.surveys.results.frames import read_frame
from engage.surveys.results.reports import Count
from engage.surveys.results.reports import options
from engage.surveys.results.reports import percent_of
from engage.surveys.results.reports import stored_column

if TYPE_CHECKING:
    from engage.accounts.models import User

NOT_KNOWN = "Not known"
#: Segments a result can be filtered or cross-tabulated by.
SEGMENTS = ("tier", "practice", "topic")
EQUALITY_PREFIX = "equality:"
_TOTAL = "\x00total"  #: the cross-tab grid's row of column totals


@dataclass(frozen=True)
class CrossTab:
    """A question's options (rows) by segment (columns); hidden cells are None."""

    question: str
    segment: str
    columns: list[Count]  #: each segment's respondents who answered
    rows: list[tuple[str, list[Count]]]  #: option → one cell per column
    shown: bool
    #: True when small counts are suppressed (see engage.surveys.disclosure).
    suppressed: bool = True


@dataclass(frozen=True)
class RateRow:
    """The response rate of one segment of the invited members."""

    label: str
    invited: int
    answered: int | None  #: None when suppressed

    @property
    def rate(self) -> float | None:
        if self.answered is None or not self.invited:
            return None
        return round(100 * self.answered / self.invited, 1)


@dataclass(frozen=True)
class ResponseRate:
    """Invitations answered ÷ invitations: overall, per segment and day by day."""

    invited: int
    answered: int
    segments: dict[str, list[RateRow]]
    #: (day, responses that day, invitations answered so far, rate so far or None)
    by_day: list[tuple[date, int, int, float | None]]

    @property
    def rate(self) -> float | None:
        return round(100 * self.answered / self.invited, 1) if self.invited else None


# Segments and cross-tabulation --------------------------------------------------------


def segment_labels(segment: str) -> dict[Any, str]:
    """Value → label for a segment's values (``NOT_KNOWN`` is added by callers)."""
    if segment == "tier":
        return {t.value: t.value.capitalize() for t in Tier}
    if segment == "practice":
        return {p.id: p.name for p in db.session.scalars(select(Practice))}
    if segment == "topic":
        return {t.id: t.name for t in db.session.scalars(select(Topic))}
    question = QUESTIONS_BY_FIELD[segment.removeprefix(EQUALITY_PREFIX)]
    return dict(question.answers)


def segment_of_responses(segment: str, frames: Frames) -> Any:
    """A frame of (response_id, value) pairs: a response's segment value(s)."""
    responses = frames.responses
    if segment in ("tier", "practice"):
        column = "tier" if segment == "tier" else "practice_id"
        values = responses[column].map(lambda v: None if pd.isna(v) else v)
        return pd.DataFrame({"response_id": responses["id"], "value": values})
    if segment == "topic":
        pairs = frames.topics.rename(columns={"topic_id": "value"})
        without = responses.loc[~responses["id"].isin(pairs["response_id"]), "id"]
        return pd.concat(
            [pairs, pd.DataFrame({"response_id": without, "value": None})],
            ignore_index=True,
        )
    return _equality_of_responses(segment.removeprefix(EQUALITY_PREFIX), responses)


def _equality_of_responses(field_name: str, responses: Any) -> Any:
    member_ids = [int(m) for m in responses["member_id"].dropna().unique()]
    column = getattr(EqualityAnswers, field_name)
    found: dict[int, str | None] = {}
    for start in range(0, len(member_ids), 1000):
        found.update(
            db.session.execute(
                select(EqualityAnswers.member_id, column).where(
                    EqualityAnswers.member_id.in_(member_ids[start : start + 1000])
                )
            ).all()
        )
    values = responses["member_id"].map(
        lambda m: None if pd.isna(m) else found.get(int(m))
    )
    return pd.DataFrame({"response_id": responses["id"], "value": values})


def suppress_grid(
    counts: Mapping[tuple[Any, Any], int], *, already: Iterable[tuple[Any, Any]] = ()
) -> set[tuple[Any, Any]]:
    """Cells to hide in a table whose rows and columns both have totals shown.

    Primary and secondary suppression along each column, then each row, repeated
    until nothing changes, so no hidden cell can be worked out from a total.
    ``already`` are cells hidden for another reason (a whole small segment).
    """
    rows = {r for r, _ in counts}
    columns = {c for _, c in counts}
    lines = [[(r, c) for c in columns] for r in rows]
    lines += [[(r, c) for r in rows] for c in columns]
    hidden = set(already)
    changed = True
    while changed:
        changed = False
        for line in lines:
            new = suppressed_values(
                {cell: counts[cell] for cell in line},
                already=[cell for cell in line if cell in hidden],
            )
            if new - hidden:
                hidden |= new
                changed = True
    return hidden


def cross_tab(
    question: Question,
    segment: str,
    frames: Frames,
    labels: Mapping[Any, str],
    *,
    suppress: bool = True,
) -> CrossTab:
    """A question's answers by segment; when ``suppress``, small cells are
    suppressed both ways. A segment of fewer than 5 respondents is hidden whole."""
    opts = options(question)
    mine = frames.answers.loc[
        frames.answers["question_id"] == question.id,
        ["response_id", stored_column(question)],
    ].rename(columns={stored_column(question): "option"})
    pairs = mine.merge(segment_of_responses(segment, frames), on="response_id")
    pairs["value"] = pairs["value"].map(
        lambda v: NOT_KNOWN if v is None or pd.isna(v) else v
    )
    keys = [k for k in labels if k in set(pairs["value"])]
    if NOT_KNOWN in set(pairs["value"]):
        keys.append(NOT_KNOWN)
    answered = pairs.groupby("value")["response_id"].nunique().to_dict()
    table = pairs.groupby(["option", "value"]).size().to_dict()
    # The grid has a row of each column's total: small segments are hidden whole,
    # and rows and columns (totals included) are then settled together.
    small = {k for k in keys if answered.get(k, 0) < SUPPRESS_BELOW}
    grid = {(o, k): int(table.get((o, k), 0)) for o, _ in opts for k in keys}
    grid.update({(_TOTAL, k): int(answered.get(k, 0)) for k in keys})
    whole = {(o, k) for o in [_TOTAL, *(o for o, _ in opts)] for k in small}
    hidden = suppress_grid(grid, already=whole) if suppress else whole
    columns = [
        Count(
            labels.get(k, str(k)) if k != NOT_KNOWN else NOT_KNOWN,
            None if (_TOTAL, k) in hidden else grid[(_TOTAL, k)],
            None,
            hidden_words(grid[(_TOTAL, k)]),
        )
        for k in keys
    ]
    rows = [
        (
            label,
            [
                Count(columns[i].label, None, None, hidden_words(grid[(o, k)]))
                if (o, k) in hidden
                else Count(
                    columns[i].label,
                    grid[(o, k)],
                    percent_of(grid[(o, k)], answered[k]),
                )
                for i, k in enumerate(keys)
            ],
        )
        for o, label in opts
    ]
    shown = len(frames.responses) >= SUPPRESS_BELOW and bool(keys)
    return CrossTab(question.text, segment, columns, rows, shown, suppress)


def record_equality_view(
    survey_id: int, segment: str, *, actor: User | str, now: datetime
) -> None:
    """Audit that an admin saw a survey's answers by an equality question (B3)."""
    record_event(
        actor,
        "view",
        "survey_equality",
        survey_id,
        f"survey answers by {segment.removeprefix(EQUALITY_PREFIX)} viewed",
        now=now,
    )


# Response rate ------------------------------------------------------------------------


def response_rate(survey: Survey, *, suppress: bool = True) -> ResponseRate:
    """Invitations answered ÷ invitations: overall, by tier, practice, topic and day.

    When ``suppress``, a segment's small count of invitations answered is hidden.
    """
    invitations = read_frame(
        select(
            Invitation.id,
            Invitation.answered_at,
            Member.tier,
            Member.practice_id,
            Invitation.member_id,
        )
        .outerjoin(Member, Member.id == Invitation.member_id)
        .where(Invitation.survey_id == survey.id),
        ("id", "answered_at", "tier", "practice_id", "member_id"),
    )
    invitations["answered"] = invitations["answered_at"].notna()
    invited = len(invitations)
    answered = int(invitations["answered"].sum())
    segments = {
        "tier": _rate_rows(invitations, "tier", segment_labels("tier"), suppress),
        "practice": _rate_rows(
            invitations, "practice_id", segment_labels("practice"), suppress
        ),
        "topic": _topic_rate_rows(invitations, suppress),
    }
    return ResponseRate(invited, answered, segments, _by_day(survey.id, invitations))


def _rate_rows(
    invitations: Any, column: str, labels: Mapping[Any, str], suppress: bool
) -> list[RateRow]:
    values = invitations[column].map(
        lambda v: NOT_KNOWN if v is None or pd.isna(v) else v
    )
    grouped = invitations.assign(value=values).groupby("value")["answered"]
    invited = grouped.size().to_dict()
    answered = {k: int(v) for k, v in grouped.sum().to_dict().items()}
    return _rows(invited, answered, labels, suppress)


def _rows(
    invited: Mapping[Any, int],
    answered: Mapping[Any, int],
    labels: Mapping[Any, str],
    suppress: bool,
) -> list[RateRow]:
    hidden = suppressed_values(answered) if suppress else set()
    keys = [k for k in labels if k in invited] + (
        [NOT_KNOWN] if NOT_KNOWN in invited else []
    )
    return [
        RateRow(
            labels.get(k, NOT_KNOWN),
            int(invited[k]),
            None if k in hidden else int(answered.get(k, 0)),
        )
        for k in keys
    ]


def _topic_rate_rows(invitations: Any, suppress: bool) -> list[RateRow]:
    member_ids = [int(m) for m in invitations["member_id"].dropna().unique()]
    pairs: list[tuple[int, int]] = []
    for start in range(0, len(member_ids), 1000):
        pairs.extend(
            db.session.execute(
                select(member_topics.c.member_id, member_topics.c.topic_id).where(
                    member_topics.c.member_id.in_(member_ids[start : start + 1000])
                )
            ).all()
        )
    topics = pd.DataFrame(pairs, columns=["member_id", "topic_id"])
    merged = invitations.merge(topics, on="member_id", how="inner")
    grouped = merged.groupby("topic_id")["answered"]
    invited = grouped.size().to_dict()
    answered = {k: int(v) for k, v in grouped.sum().to_dict().items()}
    return _rows(invited, answered, segment_labels("topic"), suppress)


def _by_day(
    survey_id: int, invitations: Any
) -> list[tuple[date, int, int, float | None]]:
    responses = read_frame(
        select(Response.submitted_on).where(Response.survey_id == survey_id),
        ("day",),
    )
    per_day = responses.assign(day=as_days(responses["day"])).groupby("day").size()
    per_day = per_day.to_dict()
    answered_days = as_days(invitations.loc[invitations["answered"], "answered_at"])
    answered_per_day = answered_days.value_counts().to_dict()
    invited = len(invitations)
    so_far = 0
    days = []
    for day in sorted(set(per_day) | set(answered_per_day)):
        so_far += int(answered_per_day.get(day, 0))
        rate = round(100 * so_far / invited, 1) if invited else None
        days.append((day, int(per_day.get(day, 0)), so_far, rate))
    return days
