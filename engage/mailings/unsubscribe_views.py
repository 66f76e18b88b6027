"""The one-click unsubscribe link in every mailing (RFC 8058): no sign-in needed."""

from __future__ import annotations

from flask import Blueprint
from flask import abort
from flask.typing import ResponseReturnValue

bp = Blueprint("unsubscribe", __name__)


@bp.route("/m/<token>/unsubscribe", methods=["GET", "POST"])
def unsubscribe(token: str) -> ResponseReturnValue:
    abort(404)
