"""Lists shown a page at a time: the page number from the query string, bounded."""

from __future__ import annotations

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
