"""Jinja filters shared by every template."""

from __future__ import annotations

from datetime import date
from datetime import datetime

from flask import Flask
from flask import request
from flask import url_for

from engage.clock import local_day
from engage.clock import to_local
from engage.formtools import marks_optional


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


def format_date(value: date | None) -> str:
    """``3 March 2026`` (a moment's UK date), or an empty string."""
    if isinstance(value, datetime):
        value = local_day(value)
    return "" if value is None else value.strftime("%-d %B %Y")


def page_url(page: int) -> str:
    """This page's URL with the same filters and another page number."""
    args = {**(request.view_args or {}), **request.args.to_dict(), "page": page}
    return url_for(str(request.endpoint), **args)


def init_app(app: Flask) -> None:
    """Register the filters and helpers."""
    app.add_template_filter(format_datetime, "datetime")
    app.add_template_filter(format_date, "date")
    app.add_template_global(page_url)
    app.add_template_global(marks_optional)
