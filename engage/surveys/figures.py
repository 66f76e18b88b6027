"""Survey figures for reach reporting: responses per day and response rates."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, or_, select

from engage.extensions import db
from engage.surveys.models import Invitation, ResponseDay, Survey


def responses_per_day(
    survey_id: int | None, start: date, end: date
) -> list[tuple[date, int]]:
    """Responses received each day from ``start`` to ``end`` inclusive (zeros kept).

    ``survey_id`` None counts every survey's responses.
    """
    query = (
        select(ResponseDay.day, func.sum(ResponseDay.responses))
        .where(ResponseDay.day >= start, ResponseDay.day <= end)
        .group_by(ResponseDay.day)
    )
    if survey_id is not None:
        query = query.where(ResponseDay.survey_id == survey_id)
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
    invited, answered = invitation_counts([survey_id]).get(survey_id, (0, 0))
    if not invited:
        return None
    return answered / invited


def invitation_counts(survey_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """Per survey: (invitations, invitations answered), in one grouped query.

    The parts of ``response_rate``; surveys without invitations are left out.
    """
    if not survey_ids:
        return {}
    query = (
        select(
            Invitation.survey_id,
            func.count(Invitation.id),
            func.count(Invitation.answered_at),
        )
        .where(Invitation.survey_id.in_(list(survey_ids)))
        .group_by(Invitation.survey_id)
    )
    return {
        int(survey_id): (int(invited), int(answered))
        for survey_id, invited, answered in db.session.execute(query)
    }


def response_rate_on(day: date) -> float | None:
    """The response rate, in percent, of surveys open on ``day``, as it stood that day.

    Invitations sent by the end of the day to surveys open at some time that day, and
    how many of them had been answered by then; None when none had been sent.
    """
    start = datetime.combine(day, time.min, tzinfo=UTC)
    end = start + timedelta(days=1)
    open_that_day = select(Survey.id).where(
        Survey.opens_at.is_not(None),
        Survey.opens_at < end,
        or_(Survey.closes_at.is_(None), Survey.closes_at > start),
    )
    invited, answered = db.session.execute(
        select(
            func.count(Invitation.id),
            func.count(Invitation.answered_at).filter(Invitation.answered_at < end),
        ).where(
            Invitation.survey_id.in_(open_that_day),
            Invitation.sent_at.is_not(None),
            Invitation.sent_at < end,
        )
    ).one()
    if not invited:
        return None
    return 100 * int(answered) / int(invited)
