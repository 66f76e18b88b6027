"""The quarterly board report: dashboard sections, evidence log and workbook."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engage.dashboard.periods import Period
from engage.dashboard.services import (
    EvidenceItem,
    Scope,
    Section,
    build_dashboard,
    evidence_log,
)
from engage.imports.tabular import write_workbook

if TYPE_CHECKING:
    from collections.abc import Sequence


@dataclass(frozen=True)
class YouSaidWeDid:
    """A finding and the action taken because of it (filled by the surveys feature)."""

    you_said: str
    we_did: str
    action: str = ""


@dataclass
class BoardReport:
    """Everything the board report shows for one quarter."""

    scope: Scope
    sections: list[Section]
    evidence: list[EvidenceItem]
    #: INTEGRATION (surveys/results branches): the quarter's "you said, we did" items.
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
        # INTEGRATION (surveys/results): you_said_we_did=surveys.you_said_we_did(period)
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
        ]
        for section in sections
        for figure in section.figures
    ]


def board_report_workbook(report: BoardReport) -> bytes:
    """The report as a formula-safe XLSX: a summary sheet, one per table, the log."""
    sheets: list[tuple[str, Sequence[str], Any]] = [
        (
            "Summary",
            ["Section", "Figure", "This period", "Previous period", "Change", "Target"],
            _summary_rows(report.sections),
        )
    ]
    used = {"Summary"}
    for section in report.sections:
        for table in section.tables:
            title = table.caption[:28]
            number = 2
            while title in used:
                title = f"{table.caption[:25]} {number}"
                number += 1
            used.add(title)
            sheets.append((title, table.columns, table.rows))
    sheets.append(
        (
            "You said, we did",
            ["You said", "We did", "Action"],
            [[i.you_said, i.we_did, i.action] for i in report.you_said_we_did],
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
