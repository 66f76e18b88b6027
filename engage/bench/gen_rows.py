"""The data generator's shared pieces: the dates, the steps' context, bulk inserts."""

from __future__ import annotations

import random
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection
from sqlalchemy import Table
from sqlalchemy import insert

#: Rows per bulk insert.
CHUNK = 5_000
#: The data set ends here; it covers the three years before.
END = date(2026, 11, 25)
START = END - timedelta(days=3 * 365)


@dataclass
class Context:
    """What steps share: the connection, the seeded generator, sizes, ids so far."""

    conn: Connection
    rng: random.Random
    sizes: dict[str, int]
    ids: dict[str, list[int]]
    progress: Callable[[str], None]

    def moment(self, start: date = START, end: date = END) -> datetime:
        """A random moment between two days (UTC)."""
        span = (end - start).days * 86400
        offset = self.rng.randrange(max(span, 1))
        return datetime(start.year, start.month, start.day, tzinfo=UTC) + timedelta(
            seconds=offset
        )


def _chunks(rows: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def insert_rows(
    ctx: Context, table: Table, rows: Iterable[dict[str, Any]], label: str
) -> int:
    """Insert rows in chunks with SQLAlchemy Core (with progress); return the count."""
    total = 0
    for chunk in _chunks(rows):
        ctx.conn.execute(insert(table), chunk)
        total += len(chunk)
        if total % (CHUNK * 4) == 0:
            ctx.progress(f"  {label}: {total:,}")
    return total


def row_ids(ctx: Context, table: Table) -> list[int]:
    """Every id in a table, in id order."""
    # In id order: without ORDER BY, SQLite may read a covering index in its order.
    return [
        row[0]
        for row in ctx.conn.execute(
            table.select().with_only_columns(table.c.id).order_by(table.c.id)
        )
    ]


def some(rng: random.Random, items: list[Any], low: int, high: int) -> list[Any]:
    """Between ``low`` and ``high`` of the items (as many as there are, at most)."""
    return rng.sample(items, min(len(items), rng.randint(low, high)))
