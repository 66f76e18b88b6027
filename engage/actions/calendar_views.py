"""Calendar feed views: private .ics URLs for each staff user."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Blueprint
from flask import Response
from flask import abort
from flask import current_app
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_login import login_required

from engage.actions import calendar as services
from engage.clock import today
from engage.clock import utcnow
from engage.edge import change
from engage.extensions import limiter

bp = Blueprint("calendar", __name__)

#: Failed look-ups allowed per client address: enough for a mistyped link, far too few
#: to guess a 256-bit token. Successful fetches are not counted, because a whole trust
#: can sit behind one address.
FEED_MISSES_PER_CLIENT = "120 per hour"
#: Fetches of one working link; calendar apps poll every half hour or less often.
FEED_FETCHES_PER_LINK = "60 per hour"


def _not_found(response: Response) -> bool:
    return response.status_code == 404


def _token_key() -> str:
    # Key on a hash so the limiter's storage never holds a working token.
    token = (request.view_args or {}).get("token", "")
    return "calendar-token:" + hashlib.sha256(str(token).encode()).hexdigest()


@bp.app_context_processor
def _calendar_context() -> dict[str, Any]:
    # A function, so only the account page (which calls it) runs the query.
    return {"has_calendar_token": services.has_calendar_token}


@bp.get("/calendar/<token>.ics")
@limiter.limit(FEED_MISSES_PER_CLIENT, deduct_when=_not_found)
@limiter.limit(FEED_FETCHES_PER_LINK, key_func=_token_key)
def feed(token: str) -> ResponseReturnValue:
    user = services.user_for_calendar_token(token)
    if user is None:
        abort(404)
    body = services.build_calendar(
        user, today=today(), base_url=current_app.config["BASE_URL"]
    )
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="engage-actions.ics"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/account/calendar")
@login_required
def create_token() -> ResponseReturnValue:
    with change() as done:
        token = services.create_calendar_token(current_user, now=utcnow())
    if not done:
        return redirect(url_for("accounts.account"))
    feed_url = current_app.config["BASE_URL"].rstrip("/") + url_for(
        "calendar.feed", token=token
    )
    return render_template("actions/calendar_link.html", feed_url=feed_url)


@bp.post("/account/calendar/revoke")
@login_required
def revoke_token() -> ResponseReturnValue:
    with change("Your calendar link no longer works."):
        services.revoke_calendar_token(current_user, now=utcnow())
    return redirect(url_for("accounts.account"))
