"""The Server-Timing header: where a signed-in page's time went (database, rendering).

Each signed-in page answers with, for example::

    Server-Timing: db;dur=12.3;desc="Database", render;dur=4.1;desc="Render",
        total;dur=18.0;desc="Total"

``db`` is the time spent in the database driver's ``execute`` calls, ``render`` the
time in Jinja (less the queries run while rendering, which count in ``db``), and
``total`` the time from the start of the request to its response. A page whose
independent parts are queried side by side on connections of their own
(``engage.side_by_side``) adds ``parts``, the time it waited for them all, and
their queries are in it, not in ``db``. What is left of ``total`` is the rest of
Python (routing, forms, the ORM building objects). A browser's developer tools
show it beside each request, and the benchmark reads it.

Only signed-in staff get it. A public page's timing could tell a stranger something
its words do not (whether a query found rows, how much data lies behind a page), so
anonymous visitors never see one (docs/security.md C11). ``SERVER_TIMING = False``
(``ENGAGE_SERVER_TIMING=false``) turns it off: then nothing is measured at all.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from flask import Flask
from flask import Response
from flask import before_render_template
from flask import g
from flask import has_app_context
from flask import request_started
from flask import template_rendered
from sqlalchemy import event

from engage.extensions import db

#: Where a request's measurements are kept in ``g``.
_KEY = "engage_server_timing"


@dataclass
class _Timing:
    """One request's measurements, in seconds."""

    started: float
    db: float = 0.0
    render: float = 0.0
    #: Waiting for parts queried side by side (their queries are not in ``db``).
    parts: float = 0.0
    #: For each template being rendered: when it started, and ``db`` at that moment.
    rendering: list[tuple[float, float]] = field(default_factory=list)
    #: When the statement being executed started (None between statements).
    executing: float | None = None


def init_app(app: Flask) -> None:
    """Measure each request and add the header to signed-in pages (unless off)."""
    if not app.config["SERVER_TIMING"]:
        return
    request_started.connect(_start, app)
    before_render_template.connect(_render_starts, app)
    template_rendered.connect(_render_ends, app)
    with app.app_context():
        for engine in db.engines.values():
            event.listen(engine, "before_cursor_execute", _execute_starts)
            event.listen(engine, "after_cursor_execute", _execute_ends)
            event.listen(engine, "handle_error", _execute_ends)
    app.after_request(_add_header)


def _current() -> _Timing | None:
    # Jobs, the CLI and mail delivery's thread run queries outside any request.
    if not has_app_context():
        return None
    timing: _Timing | None = g.get(_KEY)
    return timing


def _start(_sender: Flask, **_extra: Any) -> None:
    setattr(g, _KEY, _Timing(started=time.perf_counter()))


def _execute_starts(*_args: Any) -> None:
    timing = _current()
    if timing is not None:
        timing.executing = time.perf_counter()


def _execute_ends(*_args: Any) -> None:
    # After the statement, or when it failed (handle_error).
    timing = _current()
    if timing is not None and timing.executing is not None:
        timing.db += time.perf_counter() - timing.executing
        timing.executing = None


def _render_starts(_sender: Flask, **_extra: Any) -> None:
    timing = _current()
    if timing is not None:
        timing.rendering.append((time.perf_counter(), timing.db))


def _render_ends(_sender: Flask, **_extra: Any) -> None:
    timing = _current()
    if timing is None or not timing.rendering:
        return
    started, db_before = timing.rendering.pop()
    if not timing.rendering:  # a template rendered inside another counts once
        elapsed = time.perf_counter() - started
        timing.render += elapsed - (timing.db - db_before)


@contextmanager
def waiting_for_parts() -> Iterator[None]:
    """Count the time in this block as waiting for parts run side by side."""
    started = time.perf_counter()
    try:
        yield
    finally:
        timing = _current()
        if timing is not None:
            timing.parts += time.perf_counter() - started


def _signed_in() -> bool:
    # The user Flask-Login loaded for this request, if any: a request that never
    # needed one (a public page, a static file) is not made to load one here.
    user = g.get("_login_user")
    return user is not None and bool(user.is_authenticated)


def _add_header(response: Response) -> Response:
    timing = _current()
    if timing is None or not _signed_in():
        return response
    total = time.perf_counter() - timing.started
    response.headers["Server-Timing"] = _header_value(
        timing.db, timing.render, total, parts_seconds=timing.parts
    )
    return response


def _header_value(
    db_seconds: float,
    render_seconds: float,
    total_seconds: float,
    *,
    parts_seconds: float = 0.0,
) -> str:
    """The header's value for these times (in seconds), as milliseconds."""
    parts = (
        f'parts;dur={parts_seconds * 1000:.1f};desc="Parts side by side", '
        if parts_seconds
        else ""
    )
    return (
        f'db;dur={db_seconds * 1000:.1f};desc="Database", '
        f"{parts}"
        f'render;dur={render_seconds * 1000:.1f};desc="Render", '
        f'total;dur={total_seconds * 1000:.1f};desc="Total"'
    )


def parse_header(value: str) -> dict[str, float]:
    """Name → milliseconds from a Server-Timing value (the benchmark reads it)."""
    durations: dict[str, float] = {}
    for metric in value.split(","):
        name, *params = (part.strip() for part in metric.split(";"))
        for param in params:
            key, _, number = param.partition("=")
            if key.strip() == "dur":
                try:
                    durations[name] = float(number)
                except ValueError:
                    continue
    return durations
