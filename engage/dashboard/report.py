"""The quarterly board report: dashboard sections, evidence log and workbook."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from datetime import date
from typing import TYPE_CHECKING
from typing import Any

from engage.actions import figures as action_figures
from engage.dashboard.periods import Period
from engage.dashboard.sections import Scope
from engage.dashboard.sections import Section
from engage.dashboard.services import build_dashboard
from engage.imports.tabular import write_workbook
from engage.surveys.findings import published_findings_in

if TYPE_CHECKING:
    from collections.abc import Sequence


@dataclass(frozen=True)
class EvidenceItem:
    """One involvement activity for the board report's evidence log."""

    occurred_on: date
    action: str
    channel: str
    audiences: str
    description: str
    notes: str


def evidence_log(
    period: Period, *, programme_id: int | None = None
) -> list[EvidenceItem]:
    """The deliveries logged in the period, oldest first, with their action details."""
    return [
        EvidenceItem(*row)
        for row in action_figures.deliveries_logged(
            period.start, period.end, programme_id
        )
    ]


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


@dataclass
class BoardReport:
    """Everything the board report shows for one quarter."""

    scope: Scope
    sections: list[Section]
    evidence: list[EvidenceItem]
    #: The quarter's published "you said, we did" findings.
    you_said_we_did: list[YouSaidWeDid] = field(default_factory=list)

    @property
    def period(self) -> Period:
        return self.scope.period


def build_board_report(scope: Scope) -> BoardReport:
    """The board report for the scope's period (a quarter, from the view)."""
    return BoardReport(
        scope=scope,
        sections=build_dashboard(scope),
        evidence=evidence_log(scope.period, programme_id=scope.programme_id),
        you_said_we_did=you_said_we_did(scope.period),
    )


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


def board_report_workbook(report: BoardReport) -> bytes:
    """The report as a formula-safe XLSX: a summary sheet, one per table, the log."""
    sheets: list[tuple[str, Sequence[str], Any]] = [
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
        )
    ]
    for section in report.sections:
        for table in section.tables:
            sheets.append((table.caption, table.columns, table.rows))
    sheets.append(
        (
            "You said, we did",
            ["Survey", "Theme", "You said", "We did", "Actions"],
            [
                [i.survey, i.theme, i.you_said, i.we_did, i.action]
                for i in report.you_said_we_did
            ],
        )
    )
    sheets.append(
        (
            "Evidence log",
            ["Date", "Action", "Channel", "Audiences", "What happened", "Notes"],
            [
                [
                    item.occurred_on.isoformat(),
                    item.action,
                    item.channel,
                    item.audiences,
                    item.description,
                    item.notes,
                ]
                for item in report.evidence
            ],
        )
    )
    return write_workbook(sheets)
