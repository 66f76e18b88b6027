"""The do-not-send list for admins: addresses found undeliverable or that complained."""

from __future__ import annotations

from flask import Blueprint
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from engage.accounts.access import ADMINS
from engage.accounts.access import roles_required
from engage.audit.services import record_event
from engage.clock import utcnow
from engage.edge import change
from engage.extensions import db
from engage.mailings import addresses
from engage.mailings.models import Suppression

bp = Blueprint("suppressions", __name__, url_prefix="/admin/do-not-send")


@bp.get("/")
@roles_required(*ADMINS)
def index() -> ResponseReturnValue:
    search = request.args.get("q", "", type=str)[:254]
    entries = addresses.list_suppressions(search)
    # The list shows people's addresses: reading it is recorded, as for members.
    record_event(
        current_user,
        "view",
        "suppression",
        None,
        f"{len(entries)} shown" + (" (searched)" if search.strip() else ""),
        now=utcnow(),
    )
    db.session.commit()
    return render_template(
        "mailings/suppressions.html",
        entries=entries,
        search=search,
        limit=addresses.LIST_LIMIT,
        words=addresses.CHANNEL_WORDS,
    )


@bp.post("/<int:entry_id>/lift")
@roles_required(*ADMINS)
def lift(entry_id: int) -> ResponseReturnValue:
    entry = db.get_or_404(Suppression, entry_id)
    with change("Taken off the do-not-send list: mailings may go to it again."):
        addresses.lift_suppression(entry, actor=current_user, now=utcnow())
    return redirect(url_for("suppressions.index"))
