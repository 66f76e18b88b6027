"""Create forms saved once: sent again (after going back, or a reload that repeats the
POST), they lead to what the first send made instead of making it twice.

Every staff form page carries a random ``once`` value (``once_value``), kept when the
page comes back with errors. When a POST to a create address (its rule ends in
``/new``) succeeds, that is, answers with a redirect, the session remembers the value
with where it led. The same value sent to a create address again is answered with a
redirect there and a note that nothing new was saved: a delivery logged twice would
count its reach twice. The last few values are kept, in the signed session cookie.
"""

from __future__ import annotations

import re
import secrets

from flask import Flask
from flask import Response
from flask import flash
from flask import redirect
from flask import request
from flask import session
from flask.typing import ResponseReturnValue

#: The form field carrying the value.
FIELD = "once"
#: How many sent forms the session remembers.
KEPT = 10
_SESSION_KEY = "sent_once"
_VALUE = re.compile(r"[A-Za-z0-9_-]{16,64}")

ALREADY_SAVED = (
    "This form had already been saved (it was sent again, perhaps after going "
    "back), so nothing new was saved. This is what was saved."
)


def init_app(app: Flask) -> None:
    """Answer a create form sent twice; remember each one saved."""
    app.before_request(_answer_second_send)
    app.after_request(_remember_send)
    app.add_template_global(once_value)


def once_value() -> str:
    """The value for a form page's ``once`` field: the one sent, when the page comes
    back with errors, else a new one."""
    sent = _sent()
    return sent if sent is not None else secrets.token_urlsafe(16)


def _sent() -> str | None:
    if request.method != "POST":
        return None
    value = request.form.get(FIELD, "")
    return value if _VALUE.fullmatch(value) else None


def _creates() -> bool:
    rule = request.url_rule
    return request.method == "POST" and rule is not None and rule.rule.endswith("/new")


def _answer_second_send() -> ResponseReturnValue | None:
    if not _creates() or (sent := _sent()) is None:
        return None
    for value, location in session.get(_SESSION_KEY, []):
        if value == sent:
            flash(ALREADY_SAVED, "info")
            return redirect(location, 303)
    return None


def _remember_send(response: Response) -> Response:
    if (
        response.status_code in (302, 303)
        and response.location
        and _creates()
        and (sent := _sent()) is not None
    ):
        kept = [pair for pair in session.get(_SESSION_KEY, []) if pair[0] != sent]
        session[_SESSION_KEY] = [*kept[-(KEPT - 1) :], [sent, response.location]]
    return response
