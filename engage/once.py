"""Create forms saved once: the same form sent again soon after (going back to it and
sending it again, or a reload that repeats the POST) leads to what the first send
made instead of making it twice. A delivery logged twice would count its reach twice.

When a POST to a create address (its rule ends in ``/new``) succeeds, that is,
answers with a redirect, the session remembers a digest of what was sent, with where
it led and when. The same address sent the same values within ``WINDOW`` is answered
with a redirect there and a note saying how to add a second one (change something).
A browser going back fetches the form page anew (pages are ``no-store``), so a value
kept in the page could not tell a second send from a new form: what was sent can.
The last few sends are kept, in the signed session cookie. A form whose identical
sends are each a record of their own (paper survey responses: many say the same) is
marked ``may_repeat``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from datetime import timedelta
from typing import Any
from typing import TypeVar

from flask import Flask
from flask import Response
from flask import current_app
from flask import flash
from flask import redirect
from flask import request
from flask import session
from flask.typing import ResponseReturnValue

from engage.clock import utcnow
from engage.templating import format_datetime

#: How long after a save the same form sent again is taken to be sent twice.
WINDOW = timedelta(minutes=10)
#: How many saves the session remembers.
KEPT = 5
_SESSION_KEY = "saved_forms"
#: Fields that differ between two sends of one form: not part of what was sent.
_IGNORED = frozenset({"csrf_token", "opened_at"})

View = TypeVar("View", bound=Callable[..., Any])
_MAY_REPEAT: set[Callable[..., Any]] = set()


def may_repeat(view: View) -> View:
    """Mark a create view whose identical sends are each a record of their own. Put
    it directly under the route decorator."""
    _MAY_REPEAT.add(view)
    return view


def init_app(app: Flask) -> None:
    """Answer a create form sent twice; remember each one saved."""
    app.before_request(_answer_second_send)
    app.after_request(_remember_send)


def _creates() -> bool:
    rule = request.url_rule
    return (
        request.method == "POST"
        and rule is not None
        and rule.rule.endswith("/new")
        and current_app.view_functions.get(request.endpoint or "") not in _MAY_REPEAT
    )


def _digest() -> str:
    """What was sent to this address: every field but the per-page ones, and each
    file by name and size."""
    sent = hashlib.sha256(request.path.encode())
    for name in sorted(request.form):
        if name not in _IGNORED:
            for value in request.form.getlist(name):
                sent.update(f"\0{name}\0{value}".encode())
    for name in sorted(request.files):
        for upload in request.files.getlist(name):
            sent.update(
                f"\1{name}\0{upload.filename}\0{upload.content_length}".encode()
            )
    return sent.hexdigest()[:32]


def _kept() -> list[list[str]]:
    kept = session.get(_SESSION_KEY)
    return kept if isinstance(kept, list) else []


def _answer_second_send() -> ResponseReturnValue | None:
    if not _creates():
        return None
    digest = _digest()
    for sent, location, at in _kept():
        saved_at = datetime.fromisoformat(at)
        if sent == digest and utcnow() - saved_at < WINDOW:
            flash(
                f"You saved this on {format_datetime(saved_at)}. The form was sent "
                "again with the same details, so nothing new was saved. To add a "
                "second one, open the form again and change something.",
                "info",
            )
            return redirect(location, 303)
    return None


def _remember_send(response: Response) -> Response:
    if response.status_code in (302, 303) and response.location and _creates():
        digest = _digest()
        kept = [entry for entry in _kept() if entry[0] != digest]
        entry = [digest, response.location, utcnow().isoformat()]
        session[_SESSION_KEY] = [*kept[-(KEPT - 1) :], entry]
    return response
