"""Jobs page: each scheduled job, its next run and last runs, and "Run now"."""

from __future__ import annotations

from flask import Blueprint
from flask import abort
from flask import redirect
from flask import render_template
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from engage.accounts.access import ADMINS
from engage.accounts.access import roles_required
from engage.clock import utcnow
from engage.edge import change
from engage.errors import NotFound
from engage.scheduling import services

bp = Blueprint("jobs", __name__, url_prefix="/jobs")


@bp.get("/")
@roles_required(*ADMINS)
def index() -> ResponseReturnValue:
    now = utcnow()
    next_runs = services.next_run_times()
    jobs = [
        {
            "spec": spec,
            "next_run": next_runs.get(spec.name),
            "runs": services.recent_runs(spec.name),
        }
        for spec in services.registry()
    ]
    return render_template(
        "jobs/index.html",
        jobs=jobs,
        lease=services.current_lease(),
        heartbeat_age=services.heartbeat_age(now=now),
        requests=services.pending_requests(),
        titles={spec.name: spec.words for spec in services.registry()},
        now=now,
    )


@bp.post("/<name>/run")
@roles_required(*ADMINS)
def run_now(name: str) -> ResponseReturnValue:
    try:
        spec = services.get_spec(name)
    except NotFound:
        abort(404)
    with change(
        f"“{spec.words}” will run within a few seconds, if the scheduler is running."
    ):
        services.request_run(name, actor=current_user, now=utcnow())
    return redirect(url_for("jobs.index"))
