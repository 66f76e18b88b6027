"""Mailing views for staff: the list of mailings (composing and sending build on it)."""

from __future__ import annotations

from flask import Blueprint
from flask import render_template
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from engage.accounts.access import EDITORS
from engage.accounts.access import roles_required
from engage.extensions import db
from engage.mailings.models import Mailing

bp = Blueprint("mailings", __name__, url_prefix="/mailings")


@bp.get("/")
@roles_required(*EDITORS)
def index() -> ResponseReturnValue:
    mailings = db.session.scalars(
        select(Mailing).order_by(Mailing.created_at.desc(), Mailing.id.desc())
    ).all()
    return render_template("mailings/index.html", mailings=mailings)
