"""The data generator's shared pieces: the dates, the steps' context, bulk inserts.

Rows go in with SQLAlchemy Core ``insert`` in chunks on SQLite, and with
PostgreSQL's ``COPY`` (psycopg's ``cursor.copy()``) on PostgreSQL: each value
passes its column type's conversion first (enums as their values, timestamps as
naive UTC), and a column a row leaves out gets its Python-side default, as an
``insert`` would give it.
"""

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

from sqlalchemy import Column
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
    """Insert rows in chunks (with progress); return the count."""
    total = 0
    for chunk in _chunks(rows):
        write_chunk(ctx.conn, table, chunk)
        total += len(chunk)
        if total % (CHUNK * 4) == 0:
            ctx.progress(f"  {label}: {total:,}")
    return total


def write_chunk(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Write rows (all with the same keys): ``COPY`` on PostgreSQL, else ``insert``."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        conn.execute(insert(table), rows)
        return
    dialect = conn.dialect
    names = list(rows[0])
    defaults = _defaults(table, names)
    columns = [table.c[name] for name in names] + [c for c, _ in defaults]
    converters = [
        (index, processor)
        for index, column in enumerate(columns)
        if (processor := column.type.dialect_impl(dialect).bind_processor(dialect))
    ]
    quote = dialect.identifier_preparer
    statement = "COPY {} ({}) FROM STDIN".format(
        quote.format_table(table), ", ".join(quote.quote(c.name) for c in columns)
    )
    fixed = [value for _, value in defaults]
    raw = conn.connection.driver_connection
    if raw is None:
        raise RuntimeError("the connection is closed")
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            values = [row[name] for name in names] + fixed
            for index, processor in converters:
                if values[index] is not None:
                    values[index] = processor(values[index])
            copy.write_row(values)


def _defaults(table: Table, names: list[str]) -> list[tuple[Column[Any], Any]]:
    """The Python-side defaults of the columns rows leave out (one value each)."""
    found: list[tuple[Column[Any], Any]] = []
    for column in table.columns:
        default = column.default
        if column.name in names or default is None or column.primary_key:
            continue
        arg = getattr(default, "arg", None)
        if getattr(default, "is_scalar", False):
            found.append((column, arg))
        elif getattr(default, "is_callable", False) and callable(arg):
            found.append((column, arg(None)))
    return found


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
