"""The quarterly board report: a first page a governing body reads in two minutes
(who we are, headline figures with their change and status, the lead's commentary),
then the detail, folded where there is nothing to show; and its workbook.

Every figure comes from the dashboard's sections (engage.dashboard.services): the
report lays them out, it never counts anything itself.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime
from typing import TYPE_CHECKING
from typing import Any

from engage.actions import figures as action_figures
from engage.clock import local_day
from engage.clock import utcnow
from engage.dashboard.commentary import commentary_for
from engage.dashboard.periods import Period
from engage.dashboard.sections import DataTable
from engage.dashboard.sections import Figure
from engage.dashboard.sections import Scope
from engage.dashboard.sections import Section
from engage.dashboard.services import build_dashboard
from engage.imports.tabular import write_workbook
from engage.involvement import figures as involvement_figures
from engage.involvement.figures import HeldSession
from engage.organisation.defaults import Identity
from engage.organisation.services import identity
from engage.surveys.disclosure import HIDDEN
from engage.surveys.findings import published_findings_in

if TYPE_CHECKING:
    from collections.abc import Sequence

    from engage.dashboard.models import BoardCommentary


@dataclass(frozen=True)
class EvidenceItem:
    """One line of the board report's evidence log: a delivery logged on an action,
    or a session of an involvement activity (with how many took part, never who)."""

    occurred_on: date
    action: str
    channel: str
    audiences: str
    description: str
    notes: str
    #: People who took part in an involvement session (not staff); None for a
    #: delivery, or a session whose attendance has not been recorded.
    attended: int | None = None
    #: What changed because of the involvement activity, as its outcome says.
    what_changed: str = ""
    involvement: bool = False

    @property
    def attended_text(self) -> str:
        """The attendance as the log shows it."""
        if not self.involvement:
            return "–"
        return "Not recorded" if self.attended is None else f"{self.attended:,}"


def _session_item(held: HeldSession) -> EvidenceItem:
    activity = held.activity
    who = [a.name for a in activity.audiences]
    if activity.to_members:
        who.insert(0, f"{activity.tier.label} members" if activity.tier else "Members")
    description = activity.title
    if held.of > 1:
        description += f" (session {held.number} of {held.of})"
    return EvidenceItem(
        occurred_on=local_day(held.session.starts_at),
        action=activity.action.title if activity.action else "",
        channel=activity.kind.label,
        audiences=", ".join(who),
        description=description,
        notes="",
        attended=held.attended,
        what_changed=activity.what_changed,
        involvement=True,
    )


def evidence_log(
    period: Period, *, programme_id: int | None = None, now: datetime | None = None
) -> list[EvidenceItem]:
    """The deliveries logged and the involvement sessions held in the period, oldest
    first. A delivery logged for a session (its register) is the session's line."""
    held = involvement_figures.held_sessions(
        period.start, period.end, now=now or utcnow(), programme_id=programme_id
    )
    skip = {h.session.delivery_id for h in held if h.session.delivery_id is not None}
    items = [
        EvidenceItem(*row)
        for row in action_figures.deliveries_logged(
            period.start, period.end, programme_id, skip=skip
        )
    ]
    items.extend(_session_item(h) for h in held)
    return sorted(items, key=lambda item: item.occurred_on)


@dataclass(frozen=True)
class YouSaidWeDid:
    """A published survey finding and the actions taken because of it."""

    you_said: str
    we_did: str
    action: str = ""
    survey: str = ""
    theme: str = ""


def you_said_we_did(period: Period) -> list[YouSaidWeDid]:
    """The period's published findings (see surveys.findings.published_findings_in)."""
    return [
        YouSaidWeDid(
            you_said=finding.you_said,
            we_did=finding.we_did,
            action="; ".join(action.title for action in finding.actions),
            survey=finding.survey.title,
            theme=finding.theme,
        )
        for finding in published_findings_in(period.start, period.end)
    ]


# The first page ---------------------------------------------------------------------

#: What a section with nothing to show says instead, in one line. A section that is
#: not listed says "Nothing to report …"; one with only a note says its note.
NOTHING_TO_REPORT = {
    "actions": "No actions were completed or open in this period.",
    "deliveries": "No deliveries were logged in this period.",
    "audiences": "No audiences are on the stakeholder map.",
    "members": "There were no active members, joins or withdrawals in this period.",
    "metrics": "No reach figures were recorded in this period.",
    "mentions": "No media mentions were found in this period.",
    "surveys": "No surveys were open and no responses came in during this period.",
    "involvement": "No involvement sessions were held in this period.",
}
NO_FINDINGS = "No survey findings were published in this period."
NO_EVIDENCE = (
    "No deliveries were logged and no involvement sessions were held in this period."
)

#: Figures that break a headline total down (members by tier, mentions of each tone
#: but the negative ones): their tables are in the detail, not on the first page.
BREAKDOWNS = frozenset(
    {
        "members_gold",
        "members_silver",
        "mentions_positive",
        "mentions_neutral",
        "mentions_unset",
    }
)

#: The table whose rows are the metrics against their targets, and its columns by name.
TARGETS_TABLE = "metrics_targets"


@dataclass(frozen=True)
class HeadlineRow:
    """One line of the first page's table, every value as it is shown."""

    label: str
    value: str
    previous: str = ""
    change: str = ""
    target: str = ""
    #: "Met", "Not met", or another state of a target ("No data"); "" without one.
    status: str = ""

    @property
    def met(self) -> bool | None:
        """True met, False not met, None when there is no verdict (for the colour)."""
        return {"met": True, "not met": False}.get(self.status.lower())


@dataclass(frozen=True)
class HeadlineGroup:
    """A section's lines on the first page, or the one line saying it has none."""

    key: str
    title: str
    rows: list[HeadlineRow] = field(default_factory=list)
    nothing: str = ""


def _number(value: float) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,}"


def _shown(figure: Figure, value: float | None) -> str:
    """A figure's value as the dashboard shows it (a figure formats its own rates)."""
    if value is None:
        return ""
    own = getattr(figure, "display", None)
    if isinstance(own, str) and value == figure.value:
        return own
    own_previous = getattr(figure, "display_previous", None)
    if isinstance(own_previous, str) and value == figure.previous:
        return own_previous
    return _number(value)


def _figure_row(figure: Figure) -> HeadlineRow:
    met = figure.target_met
    return HeadlineRow(
        label=figure.label,
        value=_shown(figure, figure.value),
        previous=_shown(figure, figure.previous),
        change=figure.change_text.capitalize(),
        target="" if figure.target is None else _number(figure.target),
        status="" if met is None else ("Met" if met else "Not met"),
    )


def _target_rows(table: DataTable) -> list[HeadlineRow]:
    """Each metric against its target, as the targets table shows it."""
    wanted = ("This period", "Previous period", "Change", "Target", "Status")
    try:
        at = [table.columns.index(name) - 1 for name in wanted]
    except ValueError:
        return []
    rows = []
    for heading, cells in table.body():
        value, previous, change, target, status = (cells[i][1] for i in at)
        rows.append(
            HeadlineRow(
                label=str(heading),
                value=value,
                previous=previous,
                change=_change_words(change),
                target="" if target == "–" else target,
                status=status.capitalize() if target != "–" else "",
            )
        )
    return rows


def _change_words(change: str) -> str:
    """A table's change ("-130", "4") in the words of the other figures ("Down 130")."""
    if change in ("", "–"):
        return ""
    if change.strip("0.,") == "":
        return "No change"
    if change.startswith(("-", "−")):
        return f"Down {change[1:]}"
    return f"Up {change}"


def _is_blank(cell: object) -> bool:
    return cell is None or cell == 0 or cell == "–"


def table_is_empty(table: DataTable) -> bool:
    """No row, or every figure in it (all but the row headings) zero or missing."""
    return all(
        _is_blank(cell) for row in table.rows for cell in row[1:] if not _words(cell)
    )


def _words(cell: object) -> bool:
    """A cell of words (a status, a channel's name), not a figure (nor a hidden one)."""
    return isinstance(cell, str) and cell not in ("–", HIDDEN)


def section_is_empty(section: Section) -> bool:
    """Nothing to show: every figure is zero now and before, every table empty."""
    return all(
        _is_blank(f.value) and _is_blank(f.previous) for f in section.figures
    ) and all(table_is_empty(t) for t in section.tables)


def nothing_line(section: Section) -> str:
    """The one line a section with nothing to show is folded into."""
    if not section.figures and not section.tables and section.notes:
        return section.notes[0]
    return NOTHING_TO_REPORT.get(
        section.key, f"Nothing to report on {section.title.lower()} in this period."
    )


def _on_first_page(figure: Figure) -> bool:
    """Totals, reach and rates; not breakdowns, nor counts that are not reach (opens
    with no recipients beside them), which the detail's table of other figures holds."""
    return figure.key not in BREAKDOWNS and not figure.key.startswith("count_")


def headline(sections: Sequence[Section]) -> list[HeadlineGroup]:
    """The first page's figures: each section's totals, or the line saying none."""
    groups = []
    for section in sections:
        if section_is_empty(section):
            groups.append(
                HeadlineGroup(section.key, section.title, nothing=nothing_line(section))
            )
            continue
        rows = [_figure_row(f) for f in section.figures if _on_first_page(f)]
        for table in section.tables:
            if table.key == TARGETS_TABLE:
                rows.extend(_target_rows(table))
        if rows:
            groups.append(HeadlineGroup(section.key, section.title, rows))
    return groups


@dataclass(frozen=True)
class DetailSection:
    """A section as the report's detail shows it: its tables with data, or one line.

    The headline figures are on the first page, so they are not repeated; a table
    with nothing in it becomes a line in the section's notes.
    """

    section: Section
    nothing: str = ""


def detail(sections: Sequence[Section]) -> list[DetailSection]:
    shown = []
    for section in sections:
        if section_is_empty(section):
            shown.append(DetailSection(section, nothing_line(section)))
            continue
        tables = [t for t in section.tables if not table_is_empty(t)]
        notes = [
            *section.notes,
            *(
                f"{t.caption}: nothing in this period."
                for t in section.tables
                if table_is_empty(t)
            ),
        ]
        shown.append(
            DetailSection(
                dataclasses.replace(section, figures=[], tables=tables, notes=notes)
            )
        )
    return shown


@dataclass
class BoardReport:
    """Everything the board report shows for one quarter."""

    scope: Scope
    sections: list[Section]
    evidence: list[EvidenceItem]
    #: The quarter's published "you said, we did" findings.
    you_said_we_did: list[YouSaidWeDid] = field(default_factory=list)
    organisation: Identity | None = None
    commentary: BoardCommentary | None = None

    @property
    def period(self) -> Period:
        return self.scope.period

    @property
    def headline(self) -> list[HeadlineGroup]:
        return headline(self.sections)

    @property
    def detail(self) -> list[DetailSection]:
        return detail(self.sections)


def build_board_report(scope: Scope) -> BoardReport:
    """The board report for the scope's period (a quarter, from the view)."""
    return BoardReport(
        scope=scope,
        sections=build_dashboard(scope),
        evidence=evidence_log(
            scope.period, programme_id=scope.programme_id, now=scope.now
        ),
        you_said_we_did=you_said_we_did(scope.period),
        organisation=identity(),
        commentary=commentary_for(scope.period),
    )


# The workbook -----------------------------------------------------------------------

#: Each sheet's name: whole words, at most 31 characters (Excel's limit), chosen for
#: every table the dashboard makes. A table not listed is named from its caption's
#: whole words (see ``sheet_name``).
SHEET_NAMES = {
    "actions_by_state": "Actions by state",
    "deliveries_trend": "Deliveries by month",
    "reach_by_channel": "Reach by channel",
    "figures_by_stage": "Delivery figures by stage",
    "audiences_due": "Audiences due for contact",
    "members_by_tier": "Members by tier",
    "members_growth": "Members joined and withdrawn",
    "metrics_by_channel": "Metric reach by channel",
    "metrics_trend": "Metric reach by month",
    "metrics_targets": "Metrics against targets",
    "mentions_by_tone": "Media mentions by tone",
    "mentions_trend": "Media mentions by month",
    "survey_responses_trend": "Survey responses by month",
    "survey_response_rates": "Survey response rates",
    "involvement_by_kind": "Involvement by kind",
    "involvement_trend": "Involvement sessions by month",
    "involvement_people": "People involved by tier",
}
SHEET_LIMIT = 31
#: Characters Excel refuses in a sheet's name.
_NOT_IN_SHEET_NAMES = str.maketrans(dict.fromkeys("[]:*?/\\", " "))


def _whole_words(text: str, limit: int = SHEET_LIMIT) -> str:
    """``text`` cut at the last whole word within ``limit`` characters."""
    words = " ".join(text.translate(_NOT_IN_SHEET_NAMES).split()).split(" ")
    kept = ""
    for word in words:
        longer = f"{kept} {word}".strip()
        if len(longer) > limit:
            break
        kept = longer
    return kept or words[0][:limit]


def sheet_name(table: DataTable) -> str:
    """The sheet a table goes on: the chosen name, else its caption's whole words.

    A trend's sheet says week or month as its caption does.
    """
    chosen = SHEET_NAMES.get(table.key)
    if chosen is None:
        # Representativeness tables are keyed by question; name them from the caption.
        caption = table.caption.split("(")[0]
        return _whole_words(caption)
    if chosen.endswith(" by month") and "by week" in table.caption:
        chosen = chosen.removesuffix(" by month") + " by week"
    return chosen


def _unique(names: list[str]) -> list[str]:
    """Sheet names made unique (Excel needs it) by a number, still whole words."""
    seen: dict[str, int] = {}
    result = []
    for name in names:
        key = name.lower()
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            suffix = f" {seen[key]}"
            name = _whole_words(name, SHEET_LIMIT - len(suffix)) + suffix
        result.append(name)
    return result


def _summary_rows(sections: Sequence[Section]) -> list[list[Any]]:
    return [
        [
            section.title,
            figure.label,
            figure.value,
            figure.previous,
            figure.change,
            figure.target,
            figure.unit,
        ]
        for section in sections
        for figure in section.figures
    ]


_FIGURE_HEADINGS = ("This period", "Previous period", "Change", "Target", "Status")


def board_report_workbook(report: BoardReport) -> bytes:
    """The report as a formula-safe XLSX: the first page (who, figures, commentary),
    a summary of every figure, one sheet per table, the findings and the log."""
    org = report.organisation or identity()
    front: list[list[Any]] = [
        ["Organisation", org.name],
        ["Report", "Engagement report to the board"],
        ["Period", report.period.label],
        # The whole sentence: "1 July to 6 September 2026" alone hides that it is
        # the first days of a quarter, compared like for like.
        ["Compared with", report.scope.comparison],
        [
            "Commentary",
            report.commentary.body if report.commentary else "None written.",
        ],
        [],
        # The headline figures' own headings, above them (not above the rows of
        # who and when).
        ["Headline figures", *_FIGURE_HEADINGS],
    ]
    for group in report.headline:
        if group.nothing:
            front.append([group.title, group.nothing])
        for row in group.rows:
            front.append(
                [
                    f"{group.title}: {row.label}",
                    row.value,
                    row.previous,
                    row.change,
                    row.target,
                    row.status,
                ]
            )
    sheets: list[tuple[str, Sequence[str], Any]] = [
        ("Board report", ["Board report", *[""] * len(_FIGURE_HEADINGS)], front),
        (
            "Summary",
            [
                "Section",
                "Figure",
                "This period",
                "Previous period",
                "Change",
                "Target",
                "Unit (% for a rate)",
            ],
            _summary_rows(report.sections),
        ),
    ]
    tables = [table for section in report.sections for table in section.tables]
    names = _unique(
        ["Board report", "Summary"]
        + [sheet_name(t) for t in tables]
        + ["You said, we did", "Evidence log"]
    )[2:]
    for name, table in zip(names, tables, strict=False):
        sheets.append((name, table.columns, table.rows))
    sheets.append(
        (
            names[-2],
            ["Survey", "Theme", "You said", "We did", "Actions"],
            [
                [i.survey, i.theme, i.you_said, i.we_did, i.action]
                for i in report.you_said_we_did
            ],
        )
    )
    sheets.append(
        (
            names[-1],
            [
                "Date",
                "Action",
                "Channel or kind of activity",
                "Audiences",
                "What happened",
                "Notes",
                "People who took part",
                "What changed",
            ],
            [
                [
                    item.occurred_on,  # a date cell, shown as on the page
                    item.action,
                    item.channel,
                    item.audiences,
                    item.description,
                    item.notes,
                    item.attended if item.attended is not None else item.attended_text,
                    item.what_changed,
                ]
                for item in report.evidence
            ],
        )
    )
    return write_workbook(sheets)
