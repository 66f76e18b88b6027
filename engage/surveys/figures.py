"""Survey figures for reach reporting: responses per day and response rates."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from engage.extensions import db
from engage.surveys.models import Invitation, Response


def responses_per_day(
    survey_id: int | None, start: date, end: date
) -> list[tuple[date, int]]:
    """Responses received each day from ``start`` to ``end`` inclusive (zeros kept).

    ``survey_id`` None counts every survey's responses.
    """
    query = (
        select(Response.submitted_on, func.count(Response.id))
        .where(Response.submitted_on >= start, Response.submitted_on <= end)
        .group_by(Response.submitted_on)
    )
    if survey_id is not None:
        query = query.where(Response.survey_id == survey_id)
    counts = {day: int(count) for day, count in db.session.execute(query)}
    days = (end - start).days + 1
    return [
        (start + timedelta(days=n), counts.get(start + timedelta(days=n), 0))
        for n in range(max(days, 0))
    ]


def response_rate(survey_id: int) -> float | None:
    """Invited members who answered ÷ members invited (None when nobody was invited).

    Public-link responses are not in the rate: nobody was invited to give them.
    A paper or phone response counts when staff give its invitation reference.
    """
    invited, answered = db.session.execute(
        select(
            func.count(Invitation.id),
            func.count(Invitation.answered_at),
        ).where(Invitation.survey_id == survey_id)
    ).one()
    if not invited:
        return None
    return int(answered) / int(invited)
