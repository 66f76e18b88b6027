"""Jinja filters shared by every template."""

from __future__ import annotations

from datetime import date
from datetime import datetime
from typing import Any

from flask import Flask
from flask import current_app
from flask import request
from flask import url_for

from engage.clock import local_day
from engage.clock import to_local
from engage.formtools import marks_optional
from engage.fragments import component
from engage.metrics.numbers import percent
from engage.metrics.numbers import quantity


def format_datetime(value: datetime | None) -> str:
    """``3 March 2026 at 2:05pm`` in UK time (the NHS style), or an empty string."""
    if value is None:
        return ""
    local = to_local(value) if value.tzinfo is not None else value
    if (local.hour, local.minute) in ((0, 0), (12, 0)):
        hour = "midnight" if local.hour == 0 else "midday"
    else:
        hour = local.strftime("%-I:%M%p").lower().replace(":00", "")
    return f"{local.strftime('%-d %B %Y')} at {hour}"


def format_date(value: date | str | None) -> str:
    """``3 March 2026`` (a moment's UK date), or an empty string.

    Also takes a date written as ``2026-03-03`` (figures kept as JSON, such as a
    reach report's), and leaves any other text as it is.
    """
    if isinstance(value, str):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return value
        return day.strftime("%-d %B %Y")
    if isinstance(value, datetime):
        value = local_day(value)
    return "" if value is None else value.strftime("%-d %B %Y")


def url_with_query(endpoint: str, **values: Any) -> str:
    """A URL to ``endpoint`` carrying this page's query string (its filters).

    ``values`` win (None leaves a key out). The route's own arguments and
    url_for's (``_external``, ``_method``…) are never taken from the query, so no
    query string can break the link or send it elsewhere.
    """
    own: set[str] = set()
    for rule in current_app.url_map.iter_rules(endpoint):
        own |= rule.arguments
    carried: dict[str, Any] = {
        key: value
        for key, value in request.args.items()
        if key not in own and key not in values and not key.startswith("_")
    }
    return url_for(endpoint, **carried, **values)


def page_url(page: int) -> str:
    """This page's URL with the same filters and another page number."""
    return url_with_query(str(request.endpoint), **(request.view_args or {}), page=page)


def list_url(
    *, after: str | None = None, before: str | None = None, page: str | None = None
) -> str:
    """This list's URL with the same filters, at another place (``keyset_page``):
    after or before a row, or ``page="last"``; its first page with none."""
    return url_with_query(
        str(request.endpoint),
        **(request.view_args or {}),
        after=after,
        before=before,
        page=page,
    )


#: A target's status in colour as well as words (NHS tag colours).
STATUS_TAGS = {
    "Met": "nhsuk-tag--green",
    "Not met": "nhsuk-tag--red",
    "No target": "nhsuk-tag--grey",
    "No data": "nhsuk-tag--grey",
}


def status_tag(text: object) -> str | None:
    """The tag class for a status cell ("Met", "Not met"…), None for other text."""
    return STATUS_TAGS.get(str(text).capitalize()) if text else None


def mid_sentence(words: str) -> str:
    """A heading's words within a sentence: "Tier" reads "tier"; an abbreviation
    stays as it is ("GP practice")."""
    first = words.split(" ", 1)[0]
    if sum(letter.isupper() for letter in first) > 1:
        return words
    return words[:1].lower() + words[1:]


def init_app(app: Flask) -> None:
    """Register the filters and helpers."""
    app.add_template_filter(format_datetime, "datetime")
    app.add_template_filter(format_date, "date")
    app.add_template_global(page_url)
    app.add_template_global(list_url)
    app.add_template_global(url_with_query)
    app.add_template_global(status_tag)
    app.add_template_filter(quantity, "quantity")
    app.add_template_filter(percent, "percent")
    app.add_template_filter(mid_sentence, "mid_sentence")
    app.add_template_global(marks_optional)
    app.add_template_global(component)
