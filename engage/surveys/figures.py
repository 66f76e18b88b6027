"""Survey figures for reach reporting and the dashboard: responses per day and per
range of days, response rates, and the surveys open in a range of days."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select

from engage.dashboard.counting import counts_in_ranges
from engage.dashboard.counting import day_ranges
from engage.dashboard.counting import start_of
from engage.extensions import db
from engage.surveys.models import Invitation
from engage.surveys.models import ResponseDay
from engage.surveys.models import Survey
from engage.surveys.models import SurveyStatus


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


def responses_in(ranges: Sequence[tuple[date, date]]) -> list[int]:
    """Responses received in each range of days (first and last day inclusive), from
    the ``survey_response_days`` rollup, in one query."""
    return counts_in_ranges(
        ResponseDay.day, day_ranges(ranges), total=ResponseDay.responses
    )


def surveys_open_in(start: date, end: date) -> Sequence[Any]:
    """Surveys open at some time from ``start`` to ``end``, by opening date: rows
    of their id and title (all the dashboard shows).

    A draft was never open. A survey opened without an opening date gets one when
    it opens (surveys.services.open_survey); one whose date was cleared later
    counts as open from its creation.
    """
    opened = func.coalesce(Survey.opens_at, Survey.created_at)
    return (
        db.session.execute(
            select(Survey.id, Survey.title)
            .where(
                Survey.status != SurveyStatus.DRAFT,
                opened < start_of(end + timedelta(days=1)),
                or_(Survey.closes_at.is_(None), Survey.closes_at >= start_of(start)),
            )
            .order_by(opened, Survey.id)
        )
    ).all()


def responses_by_survey(
    start: date, end: date, survey_ids: Sequence[int]
) -> dict[int, int]:
    """Responses received from ``start`` to ``end``, per survey of ``survey_ids``."""
    if not survey_ids:
        return {}
    query = (
        select(ResponseDay.survey_id, func.sum(ResponseDay.responses))
        .where(
            ResponseDay.survey_id.in_(list(survey_ids)),
            ResponseDay.day >= start,
            ResponseDay.day <= end,
        )
        .group_by(ResponseDay.survey_id)
    )
    return {int(s): int(n) for s, n in db.session.execute(query)}
