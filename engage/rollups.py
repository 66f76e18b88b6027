"""Count rollups: small tables of counts per key, kept up to date by the ORM.

A county's dashboard would otherwise count hundreds of thousands of rows for each
figure. A rollup (survey responses per survey and day, members starting and
stopping per tier and day) holds, per key, counts of the source rows that count
under it; a :class:`CountRollup` says which columns of the source the counts
depend on and how one row counts (``counts_of``). Then, in one place:

- a ``before_flush`` listener takes off what each row deleted or changed through
  the ORM counted for before (read while its row is still there);
- an ``after_flush`` listener adds what each new or changed row counts for now;
- :meth:`CountRollup.add` applies the changes with an atomic upsert (``INSERT …
  ON CONFLICT DO UPDATE`` on SQLite and PostgreSQL), so two transactions counting
  under the same key never clash, and drops keys left with nothing;
- writers that bypass the ORM call :meth:`CountRollup.add` with what they
  inserted, or :meth:`CountRollup.rebuild` after bulk loads (the bench generator).

A change to a row whose old value was never read (an expired row, or a date left
unset when it was added) costs one query, before the row is written, to read it.

A rollup whose rows depend on more than one table (deliveries: their day, their
action's channel, their figures) is kept by recounting instead
(:func:`keep_recounted`): before a flush, what the rows it concerns count for as
stored is taken off; after it, what they count for now is added.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain
from typing import Any
from typing import cast

from sqlalchemy import Connection
from sqlalchemy import and_
from sqlalchemy import delete
from sqlalchemy import event
from sqlalchemy import func
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session
from sqlalchemy.orm import UOWTransaction

#: A key's values (in the rollup's key column order) and one of its count columns.
Slot = tuple[tuple[Any, ...], str]
#: Changes to make: +n or −n per slot.
Changes = Counter[Slot]


@dataclass(frozen=True)
class RollupTable:
    """A rollup table: count columns per key, changed only by :meth:`add`."""

    table: Any  #: the rollup's mapped class
    key: tuple[str, ...]  #: its key columns (its primary key)
    counts: tuple[str, ...]  #: its count columns

    def add(self, connection: Connection, changes: Mapping[Slot, int]) -> None:
        """Apply ``changes`` (+n or −n per slot); keys left at zero are removed."""
        rows: dict[tuple[Any, ...], dict[str, int]] = {}
        for (key, column), n in changes.items():
            if n:
                rows.setdefault(key, dict.fromkeys(self.counts, 0))[column] += n
        if not rows:
            return
        # Keys in order, so concurrent writers lock rows in the same order.
        values = [
            {**dict(zip(self.key, key, strict=True)), **counts}
            for key, counts in sorted(rows.items())
        ]
        upsert = (
            postgresql.insert(self.table)
            if connection.dialect.name == "postgresql"
            else sqlite.insert(self.table)
        )
        connection.execute(
            upsert.on_conflict_do_update(
                index_elements=[getattr(self.table, name) for name in self.key],
                set_={
                    name: getattr(self.table, name) + upsert.excluded[name]
                    for name in self.counts
                },
            ),
            values,
        )
        lowered = [key for key, counts in rows.items() if min(counts.values()) < 0]
        if lowered:
            connection.execute(
                delete(self.table).where(
                    *(getattr(self.table, name) == 0 for name in self.counts),
                    or_(*(self._is(key) for key in lowered)),
                )
            )

    def _is(self, key: tuple[Any, ...]) -> Any:
        return and_(
            *(
                getattr(self.table, name) == value
                for name, value in zip(self.key, key, strict=True)
            )
        )


@dataclass(frozen=True)
class CountRollup(RollupTable):
    """A rollup table of counts of ``source`` rows, per key."""

    source: Any  #: the mapped class whose rows are counted
    watched: tuple[str, ...]  #: the source's columns ``counts_of`` reads
    #: The slots one source row counts under (+1 each), from its watched values.
    counts_of: Callable[[Mapping[str, Any]], Iterable[Slot]]

    def rebuild(self, connection: Connection) -> int:
        """Recompute the whole rollup from the source rows; its rows now.

        For bulk loads that bypassed the ORM; the caller commits.
        """
        connection.execute(delete(self.table))
        columns = [getattr(self.source, name) for name in self.watched]
        changes: Changes = Counter()
        for row in connection.execute(select(*columns)).mappings():
            changes.update(self.counts_of(cast(Mapping[str, Any], row)))
        self.add(connection, changes)
        count = connection.scalar(select(func.count()).select_from(self.table))
        return int(count or 0)

    # Flush hooks ----------------------------------------------------------------

    def _changed(self, item: Any) -> bool:
        attrs = sa_inspect(item).attrs
        return any(attrs[name].history.has_changes() for name in self.watched)

    def _values(self, session: Session, item: Any, *, old: bool) -> dict[str, Any]:
        """The row's watched values: as stored (``old``), or as they are now."""
        state = sa_inspect(item)
        if not old:
            return {name: state.attrs[name].value for name in self.watched}
        values, unknown = {}, []
        for name in self.watched:
            history = state.attrs[name].history
            if history.deleted:
                values[name] = history.deleted[0]
            elif history.added:  # set before its stored value was ever read
                unknown.append(name)
            else:
                values[name] = state.attrs[name].value
        if unknown:  # the row is not written yet: read what it holds
            mapper = state.mapper
            stored = session.execute(
                select(*(getattr(self.source, name) for name in unknown)).where(
                    *(
                        column == value
                        for column, value in zip(
                            mapper.primary_key, state.identity, strict=True
                        )
                    )
                )
            ).one()
            values.update(zip(unknown, stored, strict=True))
        return values


_ROLLUPS: list[CountRollup] = []
_PENDING = "engage.rollups.pending"


def register(rollup: CountRollup) -> CountRollup:
    """Keep ``rollup`` up to date on every ORM flush (idempotent); returns it."""
    if rollup not in _ROLLUPS:
        _ROLLUPS.append(rollup)
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
        event.listen(Session, "after_flush", _after_flush)
    return rollup


def _tally(
    session: Session,
    pending: dict[int, Changes],
    items: Iterable[Any],
    whole: Any,
    *,
    old: bool,
) -> None:
    """Into ``pending``, per rollup: take off (``old``) or add what each row of
    ``items`` counts for, if it is in ``whole`` (deleted, or new) or a column its
    rollup watches changed."""
    for item in items:
        for index, rollup in enumerate(_ROLLUPS):
            if not isinstance(item, rollup.source):
                continue
            if item in whole or rollup._changed(item):
                slots = rollup.counts_of(rollup._values(session, item, old=old))
                changes = pending.setdefault(index, Counter())
                if old:
                    changes.subtract(slots)
                else:
                    changes.update(slots)


def _before_flush(session: Session, _context: UOWTransaction, _: object) -> None:
    pending: dict[int, Changes] = {}
    _tally(
        session,
        pending,
        chain(session.dirty, session.deleted),
        session.deleted,
        old=True,
    )
    session.info[_PENDING] = pending


def _after_flush(session: Session, _context: UOWTransaction) -> None:
    pending: dict[int, Changes] = session.info.pop(_PENDING, None) or {}
    _tally(session, pending, chain(session.new, session.dirty), session.new, old=False)
    for index, changes in pending.items():
        _ROLLUPS[index].add(session.connection(), changes)


# Rollups kept by recounting -----------------------------------------------------------

#: What source rows count for, per rollup table.
Counted = dict[RollupTable, Changes]
#: Names what a flush may change (None: nothing this rollup counts), from the session
#: before the flush: an opaque value its ``count`` takes.
Concerned = Callable[[Session], Any]
#: Adds to ``into`` what the rows ``concerned`` names count for as stored now, times
#: ``sign`` (−1 before the flush, +1 after it).
Count = Callable[[Connection, Any, int, Counted], None]

_RECOUNTED: dict[str, tuple[Concerned, Count]] = {}


def keep_recounted(name: str, concerned: Concerned, count: Count) -> None:
    """Keep rollups up to date by recounting, on every ORM flush, what it concerns
    (idempotent by ``name``).

    ``concerned`` runs before the flush; ``count`` runs then (−1: what those rows
    counted for as stored) and after it (+1: what they count for now, new rows
    included, their ids known by then), in the flush's transaction. A query before
    and one after, for the rows concerned alone.

    Two transactions may change what the same rows count for through different
    tables (a delivery logged while its action moves to another channel), each
    reading the other's rows as they were. So on PostgreSQL ``concerned`` locks
    the rows' parent rows (:func:`lock_parents`) before anything is read: the second
    waits for the first to commit, then reads what it wrote. (SQLite writes one
    transaction at a time.)

    Writes that bypass the ORM (bulk statements, rows the database deletes with
    others) are kept right with :func:`recounting`.
    """
    _RECOUNTED[name] = (concerned, count)
    if not event.contains(Session, "before_flush", _recount_before):
        event.listen(Session, "before_flush", _recount_before)
        event.listen(Session, "after_flush", _recount_after)


_RECOUNTING = "engage.rollups.recounting"


def _recount_before(session: Session, _context: UOWTransaction, _: object) -> None:
    pending = {}
    for name, (concerned, count) in _RECOUNTED.items():
        found = concerned(session)
        if found is not None:
            counted: Counted = {}
            count(session.connection(), found, -1, counted)
            pending[name] = (found, counted)
    session.info[_RECOUNTING] = pending


def _recount_after(session: Session, _context: UOWTransaction) -> None:
    pending = session.info.pop(_RECOUNTING, None) or {}
    for name, (found, counted) in pending.items():
        connection = session.connection()
        _RECOUNTED[name][1](connection, found, 1, counted)
        for rollup, changes in counted.items():
            rollup.add(connection, changes)


def stored_value(item: Any, attribute: str) -> Any:
    """The value ``attribute`` of ``item`` had when last written (None if never)."""
    history = sa_inspect(item).attrs[attribute].history
    if history.deleted:
        return history.deleted[0]
    return None if history.added else getattr(item, attribute)


def deleted_or_changed(session: Session, item: Any, attributes: Iterable[str]) -> bool:
    """Whether a stored ``item`` is deleted in this flush, or one of ``attributes``
    changes (a relationship set by object counts: its column is written only in
    the flush)."""
    if sa_inspect(item).identity is None:
        return False
    attrs: Any = sa_inspect(item).attrs
    return item in session.deleted or any(
        attrs[name].history.has_changes() for name in attributes
    )


@contextmanager
def recounting(session: Session, name: str, concerned: Any) -> Iterator[None]:
    """Keep the rollups recounted as ``name`` right around writes in the block that
    bypass the ORM: what ``concerned`` names is taken off before it and added
    after it (the caller locks, as ``concerned`` callables do)."""
    count = _RECOUNTED[name][1]
    counted: Counted = {}
    count(session.connection(), concerned, -1, counted)
    yield
    connection = session.connection()
    count(connection, concerned, 1, counted)
    for rollup, changes in counted.items():
        rollup.add(connection, changes)


#: Ids per locking statement.
_LOCK_CHUNK = 500


def lock_rows(session: Session, table: Any, ids: Iterable[int]) -> None:
    """On PostgreSQL, lock the rows of ``table`` (a mapped class) with these ids
    until the transaction ends, in order of id (so that two transactions locking
    some of the same rows never wait for each other in a circle)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    ordered = sorted(set(ids))
    for i in range(0, len(ordered), _LOCK_CHUNK):
        chunk = ordered[i : i + _LOCK_CHUNK]
        session.connection().execute(
            select(table.id)
            .where(table.id.in_(chunk))
            .order_by(table.id)
            .with_for_update()
        )


def lock_parents(
    session: Session,
    parent: Any,
    parent_id: Any,
    child_ids: Iterable[int],
    new_children: Iterable[Any] = (),
    also: Iterable[int] = (),
) -> None:
    """On PostgreSQL, lock (:func:`lock_rows`) the ``parent`` rows of the child rows
    with these ids (``parent_id``: the children's column naming their parent, as
    ``Activity.action_id``), of the new children (by their relationship of the
    same name less ``_id``), and those with the ids in ``also``."""
    if session.get_bind().dialect.name != "postgresql":
        return
    parents = set(also)
    relationship = parent_id.key.removesuffix("_id")
    for child in new_children:
        found = getattr(child, relationship)
        if found is not None and found.id is not None:
            parents.add(found.id)
    child = parent_id.class_
    ids = sorted(child_ids)
    for i in range(0, len(ids), _LOCK_CHUNK):
        parents.update(
            session.connection().scalars(
                select(parent_id).where(child.id.in_(ids[i : i + _LOCK_CHUNK]))
            )
        )
    lock_rows(session, parent, parents)
