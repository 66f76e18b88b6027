"""The board report's commentary: read, saved and cleared by leads and admins."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from engage.audit.services import record_event
from engage.dashboard.models import BoardCommentary
from engage.dashboard.periods import Period
from engage.dashboard.periods import PeriodKind
from engage.errors import ValidationError
from engage.extensions import db

if TYPE_CHECKING:
    from engage.accounts.models import User

#: Enough for a few paragraphs, and short enough to stay on the report's first page.
MAX_COMMENTARY = 1_500


def commentary_for(period: Period) -> BoardCommentary | None:
    """The commentary kept with the quarter's report, if the lead has written one."""
    if period.kind is not PeriodKind.QUARTER:
        return None
    query = select(BoardCommentary).where(BoardCommentary.quarter == period.value)
    return db.session.scalars(query).first()


def save_commentary(
    period: Period, body: str, *, actor: User, now: datetime
) -> BoardCommentary | None:
    """Keep ``body`` as the quarter's commentary; an empty one removes it.

    Audited without the text itself (it may name people).
    """
    if period.kind is not PeriodKind.QUARTER:
        raise ValidationError("Commentary is kept for a quarter's report.")
    body = body.replace("\r\n", "\n").strip()
    if len(body) > MAX_COMMENTARY:
        raise ValidationError(
            f"The commentary must be {MAX_COMMENTARY:,} characters or fewer."
        )
    row = commentary_for(period)
    if not body:
        if row is None:
            return None
        record_event(
            actor,
            "board_commentary.remove",
            "board_commentary",
            row.id,
            f"Commentary on the {period.label} board report removed",
            now=now,
        )
        db.session.delete(row)
        db.session.flush()
        return None
    if row is None:
        row = BoardCommentary(quarter=period.value, created_at=now)
        db.session.add(row)
    elif row.body == body:
        return row
    row.body = body
    row.updated_by = actor
    row.updated_at = now
    db.session.flush()
    record_event(
        actor,
        "board_commentary.save",
        "board_commentary",
        row.id,
        f"Commentary on the {period.label} board report saved "
        f"({len(body):,} characters)",
        now=now,
    )
    return row
