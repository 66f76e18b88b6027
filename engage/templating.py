"""Jinja filters shared by every template."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask, request, url_for

from engage.clock import local_day


def format_datetime(value: datetime | None) -> str:
    """``3 Mar 2026 14:05`` (UTC), or an empty string."""
    return "" if value is None else value.strftime("%-d %b %Y %H:%M")


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
