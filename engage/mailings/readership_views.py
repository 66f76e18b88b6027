"""Readership: each newsletter's figures, on its page and over time."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import current_app
from flask import render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user

from engage.accounts.access import READERS
from engage.accounts.access import roles_required
from engage.dashboard.sections import Chart
from engage.dashboard.sections import DataTable
from engage.mailings import measurement
from engage.templating import format_date

bp = Blueprint("readership", __name__, url_prefix="/mailings/readership")


@bp.app_context_processor
def _readership_context() -> dict[str, Any]:
    # A function, so only the mailing's page (which calls it) counts anything.
    return {"mailing_readership": measurement.readership}


def _table(rows: list[measurement.ReadershipRow]) -> DataTable:
    """Sent newsletters oldest first (the chart reads left to right in time)."""
    body: list[list[Any]] = []
    for row in reversed(rows):
        started = row.mailing.started_at
        day = format_date(started) if started else "not sent"
        figures = row.figures
        body.append(
            [
                f"{row.mailing.subject} ({day})",
                figures.sent,
                figures.delivered,
                figures.bounced,
                figures.unsubscribed,
                figures.open_rate if figures.tracking else None,
                figures.click_rate if figures.tracking else None,
            ]
        )
    return DataTable(
        "readership",
        "Readership of each newsletter, oldest first",
        [
            "Newsletter (date sent)",
            "Sent",
            "Delivered",
            "Bounced",
            "Unsubscribed",
            "Open rate (%)",
            "Click rate (%)",
        ],
        body,
        Chart("bar", "Bar chart of newsletters sent and delivered", (1, 2)),
        percent_columns=(5, 6),
    )


@bp.get("/")
@roles_required(*READERS)
def index() -> ResponseReturnValue:
    rows = measurement.readership_over_time()
    return render_template(
        "mailings/readership.html",
        rows=rows,
        table=_table(rows) if rows else None,
        # Leads read the figures; officers and admins follow each to its mailing.
        link_subjects=current_user.can_edit
        and "mailings.detail" in current_app.view_functions,
    )
