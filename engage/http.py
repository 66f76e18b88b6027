"""HTTP hardening and error pages: security headers, CSP nonce, request checks."""

from __future__ import annotations

import errno
import logging
import secrets
from collections.abc import Callable
from typing import Any
from typing import TypeVar
from urllib.parse import urlsplit

from flask import Flask
from flask import Response
from flask import current_app
from flask import g
from flask import render_template
from flask import request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import Forbidden
from werkzeug.exceptions import HTTPException

from engage.db import begin_write
from engage.errors import EngageError
from engage.extensions import db
from engage.logs import mask_tokens

log = logging.getLogger(__name__)

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

View = TypeVar("View", bound=Callable[..., Any])

#: POST views that do slow work before they write (see ``writes_late``).
_WRITES_LATE: set[Callable[..., Any]] = set()

ERROR_PAGES = {
    400: (
        "Sorry, there is a problem with your request",
        "Check what you entered and try again.",
    ),
    403: ("You do not have permission to see this page", ""),
    404: ("Page not found", "If you typed the web address, check it is correct."),
    405: ("Sorry, that action is not allowed", ""),
    409: ("Sorry, that could not be done", ""),
    413: ("The file is too large", "Upload a smaller file."),
    429: (
        "Too many attempts",
        "You have tried too many times. Wait a few minutes, then try again.",
    ),
    500: ("Sorry, there is a problem with the service", "Try again later."),
    503: ("Sorry, the service is unavailable", "Try again in a few minutes."),
}
#: A form sent for something no longer there: deleted, most likely, in another tab
#: or by someone else since the form was opened.
GONE_WHILE_EDITING = (
    "This is no longer here",
    "What you were changing may have been deleted since you opened it, so your "
    "changes were not saved.",
)


def init_app(app: Flask) -> None:
    """Register request checks, response headers and error handlers."""
    app.before_request(_reject_nul_bytes)
    app.before_request(_check_origin)
    app.before_request(_begin_write_transaction)
    app.after_request(_security_headers)
    # Runs before Flask-SQLAlchemy's own teardown (teardowns run in reverse order).
    app.teardown_appcontext(_close_session)
    app.context_processor(lambda: {"cspNonce": csp_nonce()})
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(EngageError, _engage_error)
    app.register_error_handler(OperationalError, _database_unavailable)
    app.register_error_handler(Exception, _unexpected_error)


def csp_nonce() -> str:
    """Return this request's CSP nonce (for the page template's one inline script)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return str(g.csp_nonce)


def _reject_nul_bytes() -> None:
    # PostgreSQL cannot store NUL in text and no real input contains it.
    values = list(request.args.values())
    if request.method in UNSAFE_METHODS and request.mimetype in {
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    }:
        values += list(request.form.values())
    if any("\x00" in v for v in values) or "\x00" in request.path:
        raise BadRequest("NUL byte in input")


def _check_origin() -> None:
    """Refuse cross-site state changes even if a CSRF token leaked."""
    if request.method not in UNSAFE_METHODS:
        return
    origin = request.headers.get("Origin")
    if origin is None or origin == "null":
        return
    parts = urlsplit(origin)
    if parts.netloc != request.host:
        raise Forbidden("cross-origin request refused")


def writes_late(view: View) -> View:
    """Mark a view whose POST reads or does slow work before it writes anything.

    It does not start as a write transaction: on SQLite that holds the database-wide
    write lock, so every other writer would wait behind the slow work (argon2 at
    login) or the reads (the lists and validation of the busy public ``/join`` form)
    and, under load, get "database is locked" (docs/security.md F5). The view ends
    its read phase and calls ``begin_write`` itself, before the first read that a
    write depends on. Put it directly under the route decorator.
    """
    _WRITES_LATE.add(view)
    return view


def _begin_write_transaction() -> None:
    # A request that may change data starts as a write transaction (see engage.db).
    if request.method not in UNSAFE_METHODS:
        return
    if current_app.view_functions.get(request.endpoint or "") in _WRITES_LATE:
        return
    session = db.session()
    if session.in_transaction() and not (
        session.new or session.dirty or session.deleted
    ):
        # Something read first (Flask-Login loading the user): end that read, or the
        # request would write in a deferred transaction, and SQLite answers a write
        # from a stale snapshot with an immediate "database is locked" (F5).
        session.rollback()
    begin_write(session)


def _security_headers(response: Response) -> Response:
    nonce = csp_nonce()
    headers = response.headers
    headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; "
        f"script-src 'self' 'nonce-{nonce}'; "
        "style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; "
        "frame-ancestors 'none'",
    )
    headers.setdefault("X-Content-Type-Options", "nosniff")
    # Links in emails carry private tokens: never pass the URL on as a referrer.
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    from flask import current_app

    if current_app.config["SESSION_COOKIE_SECURE"]:
        headers.setdefault(
            "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
        )
    if not request.path.startswith(("/static/", "/assets/")):
        # Pages can hold personal data: no shared or browser caching.
        headers.setdefault("Cache-Control", "no-store")
    return response


def error_page(status: int, detail: str | None = None) -> tuple[str, int]:
    """Render the friendly page for an HTTP status."""
    title, hint = ERROR_PAGES.get(status, ERROR_PAGES[500])
    if status == 404 and request.method == "POST" and _signed_in():
        title, hint = GONE_WHILE_EDITING
    return render_template(
        "errors/error.html", title=title, hint=detail or hint
    ), status


def _signed_in() -> bool:
    """Whether a member of staff is signed in (a public link's pages say the same
    whatever was sent, so as to tell nothing)."""
    from flask_login import current_user

    return bool(getattr(current_user, "is_authenticated", False))


def _is_api() -> bool:
    return request.path.startswith("/api/")


def _api_error(status: int, message: str | None = None) -> Any:
    # JSON API: errors are JSON, never an HTML page (engage.api).
    from engage.api.views import api_error

    title, _ = ERROR_PAGES.get(status, ERROR_PAGES[500])
    return api_error(status, message or title)


def _http_error(error: HTTPException) -> Any:
    status = error.code or 500
    if status < 400:
        return error
    if _is_api():
        response = _api_error(status)
        allowed = getattr(error, "valid_methods", None)
        if allowed:
            response.headers["Allow"] = ", ".join(allowed)
        return response
    response = error.get_response()
    body, code = error_page(status)
    response.set_data(body)
    response.mimetype = "text/html"
    response.status_code = code
    return response


def _csrf_error(error: CSRFError) -> tuple[str, int]:
    return error_page(
        400,
        "The form had expired or was sent from another site. Go back, reload the page "
        "and try again.",
    )


def _discard_transaction() -> None:
    """Roll back; if the connection died (database restarted), invalidate it instead.

    A rollback on a connection the server has closed raises again, which would turn
    the friendly error page into a bare 500 from the WSGI server.
    """
    try:
        db.session.rollback()
    except DBAPIError:
        db.session().invalidate()


def _close_session(_error: BaseException | None) -> None:
    try:
        db.session.remove()
    except DBAPIError:
        log.warning("database connection lost at the end of a request")
        db.session().invalidate()
        db.session.remove()


def _engage_error(error: EngageError) -> Any:
    _discard_transaction()
    if _is_api():
        return _api_error(error.status_code, error.message)
    return error_page(error.status_code, error.message)


def _database_unavailable(error: OperationalError) -> Any:
    _discard_transaction()
    # The driver's error code, never its message (which could quote data).
    code = getattr(error.orig, "sqlite_errorname", None) or getattr(
        error.orig, "sqlstate", None
    )
    log.error("database unavailable: %s %s", type(error.orig).__name__, code or "")
    if _is_api():
        return _api_error(503)
    # The page must not need the database: render it as for a signed-out visitor
    # (Flask-Login would otherwise query the user for the navigation, and fail again).
    g._login_user = current_app.login_manager.anonymous_user()  # type: ignore[attr-defined]
    return error_page(503)


def _unexpected_error(error: Exception) -> Any:
    _discard_transaction()
    if isinstance(error, OSError) and error.errno == errno.ENOSPC:
        # A full disk (an XLSX export writes a temporary file): nothing is served
        # half-written, and the person can try again once there is room.
        log.error("disk full on %s %s", request.method, mask_tokens(request.path))
        return _api_error(503) if _is_api() else error_page(503)
    # The path of an emailed link holds its token: log it masked.
    log.exception("unhandled error on %s %s", request.method, mask_tokens(request.path))
    return _api_error(500) if _is_api() else error_page(500)
