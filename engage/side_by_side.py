"""Read-only work run side by side, each part on a database connection of its own.

A page made of independent figures (the dashboard's sections) waits for one query
after another on one connection, while the database server has other cores idle.
:func:`read_side_by_side` runs such parts at once in a few threads, as Rails'
``load_async`` does for its queries: each thread works in an app context of its
own, so in a session and on a pooled connection of its own, and reads what was
committed when its queries ran. So the parts must only read (a part that writes,
an audit event say, stays in the request's own thread and session) and must not
lean on the request (``current_user``, ``g``): what they need is passed to them.
Any of the request's ORM objects passed to them (the user, a programme) is loaded
first, in the request's thread, with :func:`loaded_here`: a part that found one
expired would load it through the request's session, which is not for other
threads.

``READ_THREADS`` (``ENGAGE_READ_THREADS``) sets how many parts run at once; 1 runs
them one after another in the caller's session, as does an in-memory SQLite
database (each connection to it is a database of its own). The time the caller
waits is reported in the ``Server-Timing`` header as ``parts``.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from flask import Flask
from flask import current_app
from sqlalchemy import inspect as sa_inspect

from engage import server_timing
from engage.extensions import db

T = TypeVar("T")


def read_side_by_side(parts: Sequence[Callable[[], T]]) -> list[T]:
    """Each of ``parts`` called (read-only), at once where it pays; in order."""
    threads = min(int(current_app.config["READ_THREADS"]), len(parts))
    if threads <= 1 or _in_memory():
        return [part() for part in parts]
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with server_timing.waiting_for_parts(), ThreadPoolExecutor(threads) as pool:
        futures = [pool.submit(_in_own_context, app, part) for part in parts]
        return [future.result() for future in futures]


def loaded_here(*instances: object) -> None:
    """Load, in this thread, the columns of these ORM objects not loaded yet (a
    commit expires them; a query may have left some out), so that parts run side by
    side only read what is loaded. Their relationships are not loaded: parts must
    not follow them."""
    for instance in instances:
        state = sa_inspect(instance, raiseerr=False) if instance is not None else None
        if state is None or state.session is None:
            continue
        if state.unloaded & set(state.mapper.column_attrs.keys()):
            state.session.refresh(instance)


def _in_own_context(app: Flask, part: Callable[[], T]) -> T:
    # A new app context: Flask-SQLAlchemy's session (and so the connection) is the
    # context's own, and is removed with it.
    with app.app_context():
        return part()


def _in_memory() -> bool:
    url = db.engine.url
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")
