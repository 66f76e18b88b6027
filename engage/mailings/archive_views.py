"""Published newsletters: the public "view in a browser" pages and their archive."""

from __future__ import annotations

from flask import Blueprint
from flask import abort
from flask.typing import ResponseReturnValue

bp = Blueprint("newsletters", __name__, url_prefix="/newsletters")


@bp.get("/<slug>")
def show(slug: str) -> ResponseReturnValue:
    abort(404)
