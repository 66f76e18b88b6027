"""Who sees a survey's real counts, and where small numbers are suppressed.

One rule, asked by every page, download and API answer that shows survey figures:

- The survey's team (the staff who may see its results: today every lead, officer
  and admin) see its real counts, percentages and free text on the results page,
  its filters and breakdowns by tier, GP practice or topic, and in the results
  download, as the download of every response already lets them.
- Wherever figures leave the team or could identify someone, small numbers are
  suppressed: breakdowns by an equality question, the board report (page,
  workbook and PDF), the public "you said, we did" page, the API and the
  download for publication. A count of 1 to 4 shows as "fewer than 5", with
  another count hidden where a total would give it away
  (``engage.membership.reports.suppressed_values``); a question with fewer than 5
  answers is not shown, nor is free text.
- For everyone, nothing is shown of a survey, or of a filtered group, with fewer
  than 5 responses (the download of every response releases nothing either).

A viewer's screen and their download for the same purpose ask the same question
here, so they always agree.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

from engage.accounts.models import READERS
from engage.membership.equality import SUPPRESS_BELOW
from engage.membership.reports import hidden_words
from engage.membership.reports import suppressed_values

if TYPE_CHECKING:
    from engage.accounts.models import User
    from engage.accounts.models import Visitor
    from engage.surveys.models import Survey

__all__ = [
    "HIDDEN",
    "SUPPRESS_BELOW",
    "Purpose",
    "hide_small_counts",
    "may_see_results",
    "suppresses",
]


class Purpose(enum.StrEnum):
    """What survey figures are being shown or downloaded for."""

    #: The survey's own results, filters and tier, practice or topic breakdowns,
    #: and the staff dashboard's survey figures: for the team's own work.
    TEAM = "team"
    #: Answers broken down by an equality question (admins, named surveys).
    EQUALITY_BREAKDOWN = "equality breakdown"
    #: The quarterly board report, on screen and in its downloads.
    BOARD_REPORT = "board report"
    #: The public "you said, we did" page.
    PUBLIC_PAGE = "public page"
    #: The read-only JSON API.
    API = "api"
    #: The results download meant for publication.
    PUBLICATION = "publication"


def may_see_results(
    viewer: User | Visitor | None, survey: Survey | None = None
) -> bool:
    """Whether ``viewer`` is on the team that may see a survey's results.

    Every lead, officer and admin may see every survey's results (the results
    pages are open to ``READERS``); ``survey`` is asked for so that a survey with
    its own team would be decided here too.
    """
    return viewer is not None and viewer.has_role(*READERS)


def suppresses(
    purpose: Purpose,
    viewer: User | Visitor | None = None,
    survey: Survey | None = None,
) -> bool:
    """Whether small numbers are suppressed for ``viewer`` and ``purpose``.

    Only the survey's team, looking at the survey for their own work, see real
    counts; everything else is suppressed.
    """
    return not (purpose is Purpose.TEAM and may_see_results(viewer, survey))


#: How a suppressed count is shown, on pages and in downloads.
HIDDEN = "fewer than 5"


def hide_small_counts(
    rows: list[list[Any]],
    column: int,
    *,
    with_columns: Sequence[int] = (),
    total_last: bool = False,
) -> list[list[Any]]:
    """``rows`` with the small counts of ``column`` shown as "fewer than 5" (and a
    count hidden with them as "not shown").

    The rows add up to a total shown with them (the last row when ``total_last``),
    so a second count is hidden where the total would give one away
    (``engage.membership.reports.suppressed_values``); when no second count can
    be hidden (a single row), the total is hidden too. ``with_columns`` are
    figures worked out from the count (a rate), hidden with it.
    """
    parts = rows[:-1] if total_last else rows
    counts = {index: int(row[column] or 0) for index, row in enumerate(parts)}
    hidden = suppressed_values(counts)
    if (
        total_last
        and hidden
        and (len(hidden) < 2 or sum(counts[i] for i in hidden) < SUPPRESS_BELOW)
    ):
        hidden.add(len(rows) - 1)
    columns = {column, *with_columns}
    shown = []
    for index, row in enumerate(rows):
        if index in hidden:
            words = hidden_words(int(row[column] or 0))
            row = [words if i in columns else cell for i, cell in enumerate(row)]
        shown.append(row)
    return shown
