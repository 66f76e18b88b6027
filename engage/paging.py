"""Lists shown a page at a time: the page number from the query string, bounded."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import request
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select

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
