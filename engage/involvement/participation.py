"""Who took part: the members who came, by tier, GP practice and equality answers.

People who took part are the distinct members who came to at least one session (not
cancelled) of an activity, of the activities of a programme of the plan, or of any
activity. Staff, contacts and guests are on registers but are not counted here.

Small numbers are suppressed as on the equality report
(``engage.membership.reports.suppressed_values``): a count of 1 to 4 is shown as
"fewer than 5", and more cells are hidden until no hidden count can be worked out
by subtracting the others from the total. With fewer than 5 people in all, no
breakdown is shown at all (only "fewer than 5").

"Active in the last 12 months" counts members who came to any session in the twelve
months up to now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy import Select
from sqlalchemy import func
from sqlalchemy import select

from engage.actions.models import Action
from engage.audit.services import record_event
from engage.clock import local_day
from engage.clock import start_of_day
from engage.extensions import db
from engage.involvement.models import Attendance
from engage.involvement.models import InvolvementActivity
from engage.involvement.models import InvolvementSession
from engage.membership.equality import QUESTIONS
from engage.membership.equality import SUPPRESS_BELOW
from engage.membership.models import EqualityAnswers
from engage.membership.models import Member
from engage.membership.models import Practice
from engage.membership.models import Tier
from engage.membership.reports import NOT_ANSWERED
from engage.membership.reports import hidden_words
from engage.membership.reports import suppressed_values

if TYPE_CHECKING:
    from engage.accounts.models import User

#: How a suppressed count reads.
FEWER = f"fewer than {SUPPRESS_BELOW}"
NO_PRACTICE = "no_practice"


@dataclass(frozen=True)
class Line:
    """One row of a breakdown: a group and its count (None: suppressed)."""

    label: str
    count: int | None
    #: How a suppressed count reads ("fewer than 5", or "not shown").
    hidden_as: str = FEWER

    @property
    def shown(self) -> str:
        return self.hidden_as if self.count is None else f"{self.count:,}"


@dataclass(frozen=True)
class Breakdown:
    """People who took part by one characteristic; the lines add up to the total."""

    title: str
    lines: list[Line]

    @property
    def has_suppression(self) -> bool:
        return any(line.count is None for line in self.lines)


@dataclass(frozen=True)
class Participation:
    """Who took part in a scope: their number and, with enough of them, breakdowns."""

    #: None when fewer than SUPPRESS_BELOW (and more than none) took part.
    total: int | None
    breakdowns: list[Breakdown]
    sessions: int

    @property
    def shown_total(self) -> str:
        return FEWER if self.total is None else f"{self.total:,}"


def _attended_sessions(
    activity_id: int | None, programme_id: int | None
) -> Select[Any]:
    """The ids of the sessions (not cancelled) in scope."""
    query = (
        select(InvolvementSession.id)
        .join(InvolvementActivity)
        .where(
            InvolvementSession.cancelled_at.is_(None),
            InvolvementActivity.cancelled_at.is_(None),
        )
    )
    if activity_id is not None:
        query = query.where(InvolvementActivity.id == activity_id)
    if programme_id is not None:
        query = query.join(Action, Action.id == InvolvementActivity.action_id).where(
            Action.programme_id == programme_id
        )
    return query


def breakdown(
    title: str, options: list[tuple[str, str]], values: list[str]
) -> Breakdown:
    """Count ``values`` into ``options`` (value, label), suppressing small counts."""
    counts = dict.fromkeys((value for value, _ in options), 0)
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    hidden = suppressed_values(counts)
    labels = dict(options)
    return Breakdown(
        title,
        [
            Line(labels.get(value, value), None, hidden_words(count))
            if value in hidden
            else Line(labels.get(value, value), count)
            for value, count in counts.items()
        ],
    )


def participation(
    *, activity_id: int | None = None, programme_id: int | None = None
) -> Participation:
    """Who took part in an activity, a programme's activities, or all (two queries)."""
    sessions = _attended_sessions(activity_id, programme_id)
    fields = [getattr(EqualityAnswers, q.field) for q in QUESTIONS]
    rows = db.session.execute(
        select(Member.id, Member.tier, Member.practice_id, Practice.name, *fields)
        .outerjoin(Practice, Practice.id == Member.practice_id)
        .outerjoin(EqualityAnswers, EqualityAnswers.member_id == Member.id)
        .where(
            Member.id.in_(
                select(Attendance.member_id).where(
                    Attendance.session_id.in_(sessions),
                    Attendance.member_id.is_not(None),
                )
            )
        )
        .order_by(Member.id)
    ).all()
    held = db.session.scalar(
        select(func.count()).select_from(
            sessions.where(
                InvolvementSession.id.in_(select(Attendance.session_id))
            ).subquery()
        )
    )
    total = len(rows)
    if total < SUPPRESS_BELOW:
        return Participation(None if total else 0, [], int(held or 0))
    tiers = breakdown(
        "Tier",
        [(tier.value, f"{tier.label} members") for tier in Tier],
        [Tier(row[1]).value for row in rows],
    )
    practice_names = sorted(
        {(row[2], row[3]) for row in rows if row[2] is not None},
        key=lambda p: p[1].lower(),
    )
    practices = breakdown(
        "GP practice",
        [(str(pid), name) for pid, name in practice_names]
        + [(NO_PRACTICE, "No practice given")],
        [str(row[2]) if row[2] is not None else NO_PRACTICE for row in rows],
    )
    equality = []
    for index, question in enumerate(QUESTIONS):
        options = [*question.answers, (NOT_ANSWERED, "Not answered")]
        known = question.labels
        values = [
            row[4 + index] if row[4 + index] in known else NOT_ANSWERED for row in rows
        ]
        equality.append(breakdown(question.text, options, values))
    return Participation(total, [tiers, practices, *equality], int(held or 0))


def audit_view(
    what: str,
    entity_id: int | None,
    report: Participation,
    *,
    actor: User,
    now: datetime,
) -> None:
    """Record that a participation page was read (it shows equality figures)."""
    record_event(
        actor,
        "view",
        "involvement_participation",
        entity_id,
        f"{what}: {report.shown_total} people",
        now=now,
    )


def year_before(now: datetime) -> datetime:
    """The start of the twelve months up to ``now``: the same UK date a year before."""
    day = local_day(now)
    try:
        start = day.replace(year=day.year - 1)
    except ValueError:  # 29 February: the 28th a year before
        start = (day - timedelta(days=1)).replace(year=day.year - 1)
    return start_of_day(start)


def shown_count(number: int) -> int | str:
    """A count of people as these pages show it: from 1 to 4 as "fewer than 5"."""
    return FEWER if 0 < number < SUPPRESS_BELOW else number


def active_in_last_year(now: datetime) -> int:
    """Members who came to any session (not cancelled) in the 12 months up to now."""
    count = db.session.scalar(
        select(func.count(func.distinct(Attendance.member_id)))
        .join(InvolvementSession, InvolvementSession.id == Attendance.session_id)
        .where(
            Attendance.member_id.is_not(None),
            InvolvementSession.cancelled_at.is_(None),
            InvolvementSession.starts_at >= year_before(now),
            InvolvementSession.starts_at <= now,
        )
    )
    return int(count or 0)
