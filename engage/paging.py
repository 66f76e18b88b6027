"""Lists shown a page at a time: by page number, or by their sort keys (keyset_page).

A long list is read by its sort keys: a page holds the rows after (or before) the row
a link names, found through an index whatever the page, so the last page costs what
the first does. Short lists made in Python, and lists not yet moved, use the page
number from the query string, bounded.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import replace
from datetime import date
from datetime import datetime
from typing import Any

from flask import current_app
from flask import request
from flask_sqlalchemy.pagination import Pagination
from itsdangerous import BadData
from itsdangerous import URLSafeSerializer
from sqlalchemy import ColumnElement
from sqlalchemy import Select
from sqlalchemy import and_
from sqlalchemy import false
from sqlalchemy import func
from sqlalchemy import literal
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import lazyload
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression

from engage.extensions import db

#: No list is this long; a larger page number is a mistyped or crafted link.
MAX_PAGE = 100_000


def page_number() -> int:
    """``?page=`` as a number from 1 to MAX_PAGE; 1 for anything else."""
    text = request.args.get("page", "")
    if not (text.isascii() and text.isdigit() and len(text) <= len(str(MAX_PAGE))):
        return 1
    return min(max(int(text), 1), MAX_PAGE)


def paginate(query: Select[Any], *, per_page: int) -> Pagination:
    """One page of ``query``'s results, of ``per_page`` items."""
    return db.paginate(
        query, page=page_number(), per_page=per_page, max_per_page=per_page, count=True
    )


class PageLinks:
    """The previous and next links of a page made in Python, named as
    Flask-SQLAlchemy's pagination names them (``_pagination.html`` reads either)."""

    page: int
    pages: int

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


@dataclass(frozen=True)
class ListPage(PageLinks):
    """One page of a list made in Python."""

    items: list[Any]
    page: int
    pages: int


def page_of(items: list[Any], *, per_page: int) -> ListPage:
    """The page of ``items`` the query string asks for (the last, if beyond it)."""
    pages = max(1, -(-len(items) // per_page))
    page = min(page_number(), pages)
    return ListPage(items[(page - 1) * per_page : page * per_page], page, pages)


# Pages by sort keys ----------------------------------------------------------------

#: ``?after=CURSOR`` is the page after a row, ``?before=CURSOR`` the page before
#: one, ``?page=last`` the last page; anything else (a page number from an older
#: link, a cursor altered or made for another order) is the first page.
AFTER = "after"
BEFORE = "before"
LAST_PAGE = "last"
#: The query string's keys that say where in a list to be, not what to list.
PAGING_KEYS = frozenset({"page", AFTER, BEFORE})
#: Cursors are signed: the page they name can only be one this app linked to.
_SALT = "engage.paging.cursor"
#: Longest cursor read; ours are far shorter (a few keys).
_MAX_CURSOR = 1_000


@dataclass(frozen=True)
class CursorPage:
    """One page of a list read by its sort keys (``keyset_page``).

    ``before`` and ``after`` are the cursors of the previous and next pages, None
    on the first and last page; ``total`` counts every row the filters match.
    """

    items: list[Any]
    total: int
    before: str | None
    after: str | None

    @property
    def is_first(self) -> bool:
        return self.before is None

    @property
    def is_last(self) -> bool:
        return self.after is None


@dataclass(frozen=True)
class _Key:
    """One sort key: a column or SQL expression, and its direction."""

    expression: ColumnElement[Any]
    descending: bool

    def ordered(self, *, reverse: bool) -> ColumnElement[Any]:
        down = self.descending != reverse
        return self.expression.desc() if down else self.expression.asc()

    def beyond(self, value: Any, *, reverse: bool, equal: bool = False) -> Any:
        """Rows past ``value`` in this key's direction (reversed: before it), or
        also level with it if ``equal``.

        A null key is never past another: a nullable column is preceded in the order
        by its own ``IS NULL`` key, so the rows compared here are all null or none.
        """
        if value is None:
            return self.expression.is_(None) if equal else false()
        # A bound value of the key's own type (comparing with a bare True or
        # False is refused, and dates and times are stored as the column keeps them).
        bound = literal(value, self.expression.type)
        down = self.descending != reverse
        if equal:
            return self.expression <= bound if down else self.expression >= bound
        return self.expression < bound if down else self.expression > bound

    def level(self, value: Any) -> Any:
        """Rows whose key equals ``value``."""
        if value is None:
            return self.expression.is_(None)
        return self.expression == literal(value, self.expression.type)


def _keys(order: Sequence[ColumnElement[Any]]) -> list[_Key]:
    """The keys of an ORDER BY made with ``.asc()``/``.desc()`` (else ascending)."""
    keys = []
    for element in order:
        if isinstance(element, UnaryExpression) and element.modifier in (
            operators.desc_op,
            operators.asc_op,
        ):
            keys.append(_Key(element.element, element.modifier is operators.desc_op))
        else:
            keys.append(_Key(element, False))
    return keys


def _shape(keys: Sequence[_Key]) -> str:
    """A short name for an order, so a cursor is only read by the order that made it."""
    text = "|".join(f"{key.expression} {key.descending}" for key in keys)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _past(keys: Sequence[_Key], values: Sequence[Any], *, reverse: bool) -> Any:
    """Rows past the row with ``values`` in the order (reversed: before it).

    Written as "the first key at least as far, and past on some key", so that an
    index on the first key bounds the scan on SQLite and PostgreSQL alike.
    """
    terms = []
    for index, key in enumerate(keys):
        same = [k.level(v) for k, v in zip(keys[:index], values[:index], strict=True)]
        terms.append(and_(*same, key.beyond(values[index], reverse=reverse)))
    return and_(keys[0].beyond(values[0], reverse=reverse, equal=True), or_(*terms))


def _plain(value: Any) -> Any:
    """A key's value as JSON (dates and times tagged, so they are read back as such)."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"a sort key of type {type(value).__name__} cannot be a cursor")


def _typed(value: Any) -> Any:
    """A key's value read back from JSON (``_plain`` the other way)."""
    if isinstance(value, dict) and set(value) == {"t"}:
        return datetime.fromisoformat(value["t"])
    if isinstance(value, dict) and set(value) == {"d"}:
        return date.fromisoformat(value["d"])
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise ValueError("not a sort key")


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt=_SALT)  # type: ignore[arg-type]


def cursor_for(order: Sequence[ColumnElement[Any]], values: Sequence[Any]) -> str:
    """The cursor naming the row with these sort-key ``values`` in ``order``."""
    return _cursor(_shape(_keys(order)), values)


def keys_at(
    query: Select[Any], order: Sequence[ColumnElement[Any]], position: int
) -> list[Any] | None:
    """The sort-key values of the row at ``position`` (from 0) of ``query`` in
    ``order``, None past its end: for links made outside a request."""
    keys = _keys(order)
    found = db.session.execute(
        query.add_columns(*(key.expression for key in keys))
        .order_by(None)
        .order_by(*order)
        .offset(position)
        .limit(1)
    ).first()
    return None if found is None else list(found[len(query.column_descriptions) :])


def _cursor(shape: str, values: Sequence[Any]) -> str:
    return str(_serializer().dumps([shape, [_plain(v) for v in values]]))


def _read_cursor(text: str, keys: Sequence[_Key]) -> list[Any] | None:
    """The key values a cursor holds; None unless this app made it for this order."""
    if not text or len(text) > _MAX_CURSOR:
        return None
    try:
        shape, values = _serializer().loads(text)
        if shape != _shape(keys) or len(values) != len(keys):
            return None
        return [_typed(v) for v in values]
    except (BadData, TypeError, ValueError):
        return None


class _Reader:
    """Reads the pages of ``query`` in the order of ``keys``."""

    def __init__(self, query: Select[Any], keys: list[_Key], per_page: int) -> None:
        self.query, self.keys, self.per_page = query.order_by(None), keys, per_page
        #: The query's own columns: the sort keys are read after them.
        self.width = len(query.column_descriptions)
        self.shape = _shape(keys)

    def _rows(self, values: list[Any] | None, *, reverse: bool) -> list[Any]:
        """Up to one row more than a page, past ``values`` (from either end if None)."""
        query = self.query.add_columns(*(key.expression for key in self.keys))
        if values is not None:
            query = query.where(_past(self.keys, values, reverse=reverse))
        query = query.order_by(*(key.ordered(reverse=reverse) for key in self.keys))
        return list(db.session.execute(query.limit(self.per_page + 1)))

    def _page(self, rows: list[Any], *, first: bool, last: bool) -> CursorPage:
        """A page of ``rows`` (in list order), linked to the pages either side."""
        width = self.width
        items = [row[0] if width == 1 else tuple(row[:width]) for row in rows]
        before = None if first or not rows else _cursor(self.shape, rows[0][width:])
        after = None if last or not rows else _cursor(self.shape, rows[-1][width:])
        return CursorPage(items, 0, before, after)  # counted by keyset_page

    def first(self) -> CursorPage:
        rows = self._rows(None, reverse=False)
        more = len(rows) > self.per_page
        return self._page(rows[: self.per_page], first=True, last=not more)

    def last(self) -> CursorPage:
        rows = self._rows(None, reverse=True)
        more = len(rows) > self.per_page
        return self._page(rows[: self.per_page][::-1], first=not more, last=True)

    def after(self, values: list[Any]) -> CursorPage:
        rows = self._rows(values, reverse=False)
        if not rows:  # nothing after that row any more
            return self.last()
        more = len(rows) > self.per_page
        return self._page(rows[: self.per_page], first=False, last=not more)

    def before(self, values: list[Any]) -> CursorPage:
        rows = self._rows(values, reverse=True)
        if not rows:  # nothing before that row any more
            return self.first()
        more = len(rows) > self.per_page
        return self._page(rows[: self.per_page][::-1], first=not more, last=False)


def count_matching(query: Select[Any]) -> int:
    """How many rows ``query`` matches (its page's "N results")."""
    counted = query.options(lazyload("*")).order_by(None).subquery()
    return int(db.session.scalar(select(func.count()).select_from(counted)) or 0)


def keyset_page(
    query: Select[Any],
    order: Sequence[ColumnElement[Any]],
    *,
    per_page: int,
) -> CursorPage:
    """The page of ``query`` the query string names, in ``order``.

    ``order`` is the list's whole ORDER BY (made with ``.asc()``/``.desc()``), ending
    with a unique key such as the id; a nullable column must come after its own
    ``IS NULL`` key (as "undated last" orders have it). The page also counts every
    row the query matches (the list's "N results").
    """
    keys = _keys(order)
    reader = _Reader(query, keys, per_page)
    after = _read_cursor(request.args.get(AFTER, ""), keys)
    before = _read_cursor(request.args.get(BEFORE, ""), keys)
    if after is not None:
        page = reader.after(after)
    elif before is not None:
        page = reader.before(before)
    elif request.args.get("page") == LAST_PAGE:
        page = reader.last()
    else:
        page = reader.first()
    return replace(page, total=count_matching(query))
