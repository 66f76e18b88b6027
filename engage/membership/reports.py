"""Equality and representativeness of active members, with small counts suppressed.

Suppression (SECURITY B3). Each question's table counts every active member once,
in one of its answers, "Prefer not to say" or "Not answered", so a table's total
is the number of active members, which other pages show. A count of 1 to 4 is
shown as "fewer than 5" (primary suppression). So that a suppressed count cannot
be recovered by subtracting the others from the total, more cells are suppressed
(secondary suppression): the smallest non-zero unsuppressed cells, one at a time,
until at least two cells are hidden and together they hold 5 or more members. Those
read "not shown": they may hold any number (``hidden_words``).
Suppressed cells show neither a count nor a percentage, and their comparison with
the population is not shown. When there are fewer than 5 active members in all,
no table is shown.

Percentages are of all active members. The comparison with the area's population
uses the share of members who gave an answer (without "Prefer not to say" and
"Not answered"), since population profiles have no such categories: more than 5
points below the population is under-represented, more than 5 above
over-represented, otherwise about right.
"""

from __future__ import annotations

from collections.abc import Hashable
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from typing import TypeVar

from sqlalchemy import select

from engage.audit.services import record_event
from engage.errors import ValidationError
from engage.extensions import db
from engage.membership.equality import PREFER_NOT_TO_SAY
from engage.membership.equality import QUESTIONS
from engage.membership.equality import QUESTIONS_BY_FIELD
from engage.membership.equality import SUPPRESS_BELOW
from engage.membership.models import EqualityAnswers
from engage.membership.models import Member
from engage.membership.models import MemberStatus
from engage.membership.models import PopulationShare

if TYPE_CHECKING:
    from engage.accounts.models import User

NOT_ANSWERED = "not_answered"
#: Within this many percentage points of the population is "about right".
TOLERANCE_POINTS = 5.0

UNDER = "under-represented"
OVER = "over-represented"
ABOUT_RIGHT = "about right"

K = TypeVar("K", bound=Hashable)

#: One active member's answers: question field → answer value (None: not answered).
AnswerRow = Mapping[str, str | None]


@dataclass(frozen=True)
class Cell:
    """One answer to one question: its count and share, or suppressed."""

    value: str
    label: str
    count: int | None  #: None when suppressed
    percent: float | None
    suppressed: bool
    population_percent: float | None = None
    difference: float | None = None  #: percentage points, members minus population
    verdict: str | None = None
    #: How a suppressed count reads ("fewer than 5", or "not shown").
    hidden_as: str = ""

    @property
    def shown_count(self) -> str:
        """The count as the report shows it."""
        return self.hidden_as if self.suppressed else str(self.count)


@dataclass(frozen=True)
class QuestionReport:
    """The table for one equality question."""

    field: str
    text: str
    total: int
    cells: list[Cell]

    @property
    def has_suppression(self) -> bool:
        return any(c.suppressed for c in self.cells)


@dataclass(frozen=True)
class EqualityReport:
    """Every question's table; ``shown`` is False when there are too few members."""

    total: int
    shown: bool
    questions: list[QuestionReport]


#: How a count hidden only so that a small one cannot be worked out reads: it may be
#: any size, so never "fewer than 5".
NOT_SHOWN = "not shown"


def hidden_words(count: int) -> str:
    """How a hidden count reads: "fewer than 5" when it is (a cell of a group hidden
    whole for being under 5 may be 0), else "not shown"."""
    return f"fewer than {SUPPRESS_BELOW}" if count < SUPPRESS_BELOW else NOT_SHOWN


def suppressed_values(counts: Mapping[K, int], *, already: Iterable[K] = ()) -> set[K]:
    """The answers whose counts must be hidden (primary and secondary suppression).

    ``already`` are cells hidden for another reason (a cross-tabulation hides cells
    along rows and columns in turn); they count towards the secondary suppression.
    """
    hidden = {v for v, n in counts.items() if 0 < n < SUPPRESS_BELOW} | set(already)
    while hidden and (
        len(hidden) < 2 or sum(counts[v] for v in hidden) < SUPPRESS_BELOW
    ):
        candidates = sorted(
            (n, v) for v, n in counts.items() if n > 0 and v not in hidden
        )
        if not candidates:
            break
        hidden.add(candidates[0][1])
    return hidden


def verdict(difference: float) -> str:
    """Under-represented, over-represented or about right (±5 points)."""
    if difference < -TOLERANCE_POINTS:
        return UNDER
    if difference > TOLERANCE_POINTS:
        return OVER
    return ABOUT_RIGHT


def build_report(
    rows: Iterable[AnswerRow], population: Mapping[tuple[str, str], float]
) -> EqualityReport:
    """The equality report over the answers of the active members (one row each).

    ``population`` maps (question field, answer value) to the area's percent.
    """
    answers = list(rows)
    total = len(answers)
    if total < SUPPRESS_BELOW:
        return EqualityReport(total, False, [])
    reports = []
    for question in QUESTIONS:
        options = [*question.answers, (NOT_ANSWERED, "Not answered")]
        counts = dict.fromkeys((value for value, _ in options), 0)
        for row in answers:
            value = row.get(question.field)
            counts[value if value in counts else NOT_ANSWERED] += 1
        hidden = suppressed_values(counts)
        answered = total - counts[PREFER_NOT_TO_SAY] - counts[NOT_ANSWERED]
        cells = []
        for value, label in options:
            if value in hidden:
                cells.append(
                    Cell(
                        value,
                        label,
                        None,
                        None,
                        True,
                        hidden_as=hidden_words(counts[value]),
                    )
                )
                continue
            count = counts[value]
            cell = Cell(value, label, count, round(100 * count / total, 1), False)
            share = population.get((question.field, value))
            if share is not None and answered > 0:
                difference = round(100 * count / answered - share, 1)
                cell = Cell(
                    value,
                    label,
                    count,
                    cell.percent,
                    False,
                    share,
                    difference,
                    verdict(difference),
                )
            cells.append(cell)
        reports.append(QuestionReport(question.field, question.text, total, cells))
    return EqualityReport(total, True, reports)


# Database side ------------------------------------------------------------------------


def active_member_answers() -> list[AnswerRow]:
    """One row of equality answers per active member (None where not answered)."""
    fields = [getattr(EqualityAnswers, q.field) for q in QUESTIONS]
    result = db.session.execute(
        select(Member.id, *fields)
        .outerjoin(EqualityAnswers, EqualityAnswers.member_id == Member.id)
        .where(Member.status == MemberStatus.ACTIVE)
    )
    return [
        {q.field: row[index + 1] for index, q in enumerate(QUESTIONS)} for row in result
    ]


def population_profile() -> dict[tuple[str, str], float]:
    """The area's population profile that admins entered."""
    return {
        (share.category, share.value): float(share.percent)
        for share in db.session.scalars(select(PopulationShare))
    }


def equality_report(*, actor: User | str, now: datetime) -> EqualityReport:
    """Build the representativeness report and audit that it was viewed."""
    report = build_report(active_member_answers(), population_profile())
    record_event(
        actor,
        "view",
        "equality_report",
        None,
        f"equality report viewed ({report.total} active members)",
        now=now,
    )
    return report


def set_population_share(
    category: str,
    value: str,
    percent: float | None,
    *,
    actor: User | str,
    now: datetime,
) -> None:
    """Set (or, with None, clear) the area's percent for one answer of a question."""
    question = QUESTIONS_BY_FIELD.get(category)
    if question is None or value not in question.labels or value == PREFER_NOT_TO_SAY:
        raise ValidationError("Unknown equality question or answer.")
    if percent is not None and not 0 <= percent <= 100:
        raise ValidationError("A percentage is between 0 and 100.")
    share = db.session.scalar(
        select(PopulationShare).where(
            PopulationShare.category == category, PopulationShare.value == value
        )
    )
    if percent is None:
        if share is None:
            return
        db.session.delete(share)
    elif share is None:
        db.session.add(PopulationShare(category=category, value=value, percent=percent))
    elif float(share.percent) != percent:
        share.percent = percent
    else:
        return
    db.session.flush()
    record_event(
        actor, "update", "population_share", None, f"{category}: {value}", now=now
    )
