"""Staff sessions: Flask-Login wiring, session versions, idle and absolute time-outs.

The session cookie is signed, so it cannot be forged, but a signed cookie alone cannot
be revoked. The user id in the cookie therefore carries the user's ``session_version``;
logout, password change and deactivation bump it and every older cookie stops working.
The cookie also records when the user signed in and was last seen, for the time-outs.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Flask
from flask import current_app
from flask import flash
from flask import redirect
from flask import request
from flask import session
from flask import url_for
from flask_login import LoginManager
from flask_login import current_user
from flask_login import login_user
from flask_login import logout_user
from werkzeug.wrappers import Response

from engage.accounts.models import User
from engage.accounts.models import Visitor
from engage.extensions import db

LOGIN_AT = "_engage_login_at"
SEEN_AT = "_engage_seen_at"
#: [user id, session version, started at, next URL] between password and code.
PENDING = "_engage_second_step"
#: The candidate TOTP secret while a user sets two-factor up (not yet saved).
# A session key name, not a secret.
SETUP_SECRET = "_engage_totp_setup"  # noqa: S105  # nosec B105
PENDING_SECONDS = 600

#: Endpoints that must not count as activity (static files, the time-out probe).
_PASSIVE_ENDPOINTS = frozenset(
    {"static", "web.nhsuk_assets", "accounts.session_status"}
)


def init_login_manager(app: Flask, manager: LoginManager) -> None:
    """Connect Flask-Login to our users and register the time-out check."""
    manager.init_app(app)
    manager.login_view = "accounts.login"
    manager.login_message = "Sign in to continue."
    manager.login_message_category = "info"
    # Our own version check replaces Flask-Login's IP/user-agent heuristics.
    manager.session_protection = None
    manager.user_loader(load_user)
    manager.anonymous_user = Visitor
    app.before_request(enforce_timeouts)


def load_user(user_id: str) -> User | None:
    """Return the user named in the cookie if that session is still valid."""
    try:
        raw_id, raw_version = user_id.split(":", 1)
        uid, version = int(raw_id), int(raw_version)
    except ValueError:
        return None
    user = db.session.get(User, uid)
    if user is None or not user.is_active or user.session_version != version:
        return None
    return user


def start_session(user: User) -> None:
    """Sign ``user`` in with a fresh session (never reuse the anonymous one)."""
    session.clear()
    now = int(time.time())
    login_user(user)
    session[LOGIN_AT] = now
    session[SEEN_AT] = now
    session.permanent = True


def begin_second_step(user: User, next_url: str | None) -> None:
    """Remember that ``user`` gave the right password; they are NOT signed in yet."""
    session.clear()
    session[PENDING] = [user.id, user.session_version, int(time.time()), next_url]


def pending_user() -> tuple[User, str | None] | None:
    """The user half-way through signing in (and where they were going), if any."""
    pending = session.get(PENDING)
    if not isinstance(pending, list) or len(pending) != 4:
        return None
    user_id, version, started, next_url = pending
    if time.time() - float(started) > PENDING_SECONDS:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.is_active or user.session_version != version:
        return None
    return user, next_url


def end_session() -> None:
    """Sign the current user out and forget the cookie's contents."""
    logout_user()
    session.clear()


def seconds_left() -> int:
    """Seconds until the current session times out through inactivity or age."""
    cfg = current_app.config
    now = time.time()
    idle_deadline = float(session.get(SEEN_AT, 0)) + cfg["SESSION_IDLE_MINUTES"] * 60
    absolute_deadline = (
        float(session.get(LOGIN_AT, 0)) + cfg["SESSION_ABSOLUTE_HOURS"] * 3600
    )
    return max(0, int(min(idle_deadline, absolute_deadline) - now))


def enforce_timeouts() -> Response | None:
    """Sign out sessions idle too long or older than the absolute limit."""
    if request.endpoint in _PASSIVE_ENDPOINTS or request.blueprint == "api":
        return None  # the JSON API ignores session cookies (bearer tokens only)
    if not current_user.is_authenticated:
        return None
    if seconds_left() <= 0:
        end_session()
        flash(
            "You were signed out because your session timed out. Sign in again.", "info"
        )
        if request.method == "GET":
            return redirect(
                url_for("accounts.login", next=request.full_path.rstrip("?"))
            )
        return redirect(url_for("accounts.login"))
    session[SEEN_AT] = int(time.time())
    return None


def session_info() -> dict[str, Any]:
    """Figures the page template needs for the time-out warning."""
    cfg = current_app.config
    return {
        "seconds_left": seconds_left(),
        "warning_seconds": cfg["SESSION_WARNING_MINUTES"] * 60,
    }
