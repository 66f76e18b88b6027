"""Site-wide pages: home, health check and the NHS.UK frontend's asset path."""

from __future__ import annotations

from flask import Blueprint
from flask import current_app
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import send_from_directory
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_login import login_required
from sqlalchemy import text

from engage import todo
from engage.clock import today
from engage.clock import utcnow
from engage.extensions import db
from engage.extensions import limiter
from engage.relationships.commitments import overdue_words
from engage.scheduling.services import heartbeat_age

bp = Blueprint("web", __name__)


@bp.get("/")
@login_required
def home() -> ResponseReturnValue:
    """Each role's starting point: leads the dashboard, others their to-do list."""
    if not current_user.can_edit:
        return redirect(url_for("dashboard.index"))
    now, day = utcnow(), today()
    return render_template(
        "home.html",
        todo=todo.todo_for(current_user, today=day, now=now),
        todo_today=day,
        commitment_overdue_words=overdue_words,
        health=todo.health(now=now) if current_user.is_admin else None,
    )


@bp.get("/healthz")
@limiter.exempt
def healthz() -> ResponseReturnValue:
    """Report whether the database answers (for load balancers and monitoring).

    Also the age in seconds of the scheduler's last heartbeat (null if no scheduler
    ever ran), for monitoring to alert on; it does not change the status.
    """
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:
        db.session.rollback()
        return jsonify(status="error", database="unreachable"), 503
    try:
        age = heartbeat_age(now=utcnow())
    except Exception:  # no scheduling tables yet (before the migration)
        db.session.rollback()
        age = None
    return jsonify(status="ok", database="ok", scheduler_heartbeat_age_seconds=age)


@bp.get("/assets/<path:filename>")
@limiter.exempt
def nhsuk_assets(filename: str) -> ResponseReturnValue:
    """Serve NHS.UK frontend images where its precompiled CSS expects them."""
    folder = current_app.static_folder or "static"
    return send_from_directory(f"{folder}/vendor/nhsuk/assets", filename, max_age=86400)
