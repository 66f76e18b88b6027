"""Counted clicks and opens of mailings sent with tracking on."""

from __future__ import annotations

from flask import Blueprint
from flask import abort
from flask.typing import ResponseReturnValue

bp = Blueprint("mailing_tracking", __name__)


@bp.get("/m/<token>/l/<int:link_id>")
def click(token: str, link_id: int) -> ResponseReturnValue:
    abort(404)


@bp.get("/m/<token>/o.gif")
def opened(token: str) -> ResponseReturnValue:
    abort(404)
