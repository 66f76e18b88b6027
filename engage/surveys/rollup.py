"""The survey responses rollup: ``survey_response_days``, responses per survey and day.

The dashboard and the daily "survey responses" measure sum it over a range of days
instead of counting responses one by one (a county has hundreds of thousands).

It is kept up to date in one place, :func:`add_responses`, which adds (or, for
deletions, takes away) counts per survey and day with an atomic upsert, so two
transactions answering the same survey on the same day never clash:

- an ``after_flush`` listener calls it for every response added, moved or deleted
  through the ORM (answering online, staff entering paper or phone responses);
- writers that insert responses with Core call it with what they inserted (the
  responses import);
- bulk loaders (the bench generator) call :func:`rebuild_response_days` afterwards.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import date
from itertools import chain

from sqlalchemy import Connection, and_, delete, func, insert, or_, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import InstanceState, Session, UOWTransaction

from engage.surveys.models import Response, ResponseDay

Key = tuple[int, date]


def add_responses(connection: Connection, counts: Mapping[Key, int]) -> None:
    """Add ``counts[(survey_id, day)]`` responses to the rollup (negative: remove)."""
    rows = [
        {"survey_id": survey_id, "day": day, "responses": n}
        for (survey_id, day), n in sorted(counts.items())
        if n
    ]
    if not rows:
        return
    # Rows in key order, so concurrent writers lock them in the same order.
    upsert = (
        postgresql.insert(ResponseDay)
        if connection.dialect.name == "postgresql"
        else sqlite.insert(ResponseDay)
    )
    connection.execute(
        upsert.on_conflict_do_update(
            index_elements=[ResponseDay.survey_id, ResponseDay.day],
            set_={"responses": ResponseDay.responses + upsert.excluded.responses},
        ),
        rows,
    )
    emptied = sorted(key for key, n in counts.items() if n < 0)
    if emptied:
        connection.execute(
            delete(ResponseDay).where(
                ResponseDay.responses <= 0,
                or_(
                    *(
                        and_(ResponseDay.survey_id == s, ResponseDay.day == d)
                        for s, d in emptied
                    )
                ),
            )
        )


def rebuild_response_days(connection: Connection) -> int:
    """Recompute the whole rollup from the responses (after bulk inserts); rows.

    The caller commits.
    """
    connection.execute(delete(ResponseDay))
    connection.execute(
        insert(ResponseDay).from_select(
            ["survey_id", "day", "responses"],
            select(Response.survey_id, Response.submitted_on, func.count()).group_by(
                Response.survey_id, Response.submitted_on
            ),
        )
    )
    return connection.scalar(select(func.count()).select_from(ResponseDay)) or 0


_REMOVED = "engage.surveys.rollup.removed"


def _old_key(item: Response) -> Key:
    """Where a response was counted before this flush's changes to it."""
    state: InstanceState[Response] = sa_inspect(item)
    keys = []
    for attr in (state.attrs.survey_id, state.attrs.submitted_on):
        history = attr.history  # old values kept: the columns have active_history
        keys.append((history.deleted or history.unchanged or [attr.value])[0])
    return keys[0], keys[1]


def _moved(item: Response) -> bool:
    state: InstanceState[Response] = sa_inspect(item)
    return bool(
        state.attrs.survey_id.history.deleted
        or state.attrs.submitted_on.history.deleted
    )


def _before_flush(session: Session, _context: UOWTransaction, _: object) -> None:
    # Responses deleted or moved are read while their rows are still there (an
    # expired one is loaded now; after the flush it could not be).
    removed: Counter[Key] = Counter()
    for item in chain(session.dirty, session.deleted):
        if isinstance(item, Response) and (item in session.deleted or _moved(item)):
            removed[_old_key(item)] -= 1
    session.info[_REMOVED] = removed


def _after_flush(session: Session, _context: UOWTransaction) -> None:
    changes: Counter[Key] = session.info.pop(_REMOVED, None) or Counter()
    for item in chain(session.new, session.dirty):
        if isinstance(item, Response) and (item in session.new or _moved(item)):
            changes[(item.survey_id, item.submitted_on)] += 1
    if any(changes.values()):
        add_responses(session.connection(), changes)


def install() -> None:
    """Keep the rollup up to date on every flush (idempotent)."""
    from sqlalchemy import event

    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)


install()
