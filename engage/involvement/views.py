"""Staff pages for involvement activities: the list, the form and each activity."""

from __future__ import annotations

from flask import Blueprint
from flask import render_template
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from engage.accounts.access import READERS
from engage.accounts.access import roles_required
from engage.extensions import db
from engage.involvement.models import InvolvementActivity

bp = Blueprint("involvement", __name__, url_prefix="/involvement")


@bp.get("/")
@roles_required(*READERS)
def index() -> ResponseReturnValue:
    activities = db.session.scalars(
        select(InvolvementActivity).order_by(InvolvementActivity.id.desc())
    ).all()
    return render_template("involvement/index.html", activities=activities)
