"""Published newsletters: the public "view in a browser" pages and their archive.

Public, with no tracking and nothing about who received them: the newsletter as
written, in the site's own layout.
"""

from __future__ import annotations

from flask import Blueprint
from flask import abort
from flask import render_template
from flask.typing import ResponseReturnValue

from engage.mailings.compose import body_markup
from engage.mailings.services import list_published
from engage.mailings.services import published_by_slug

bp = Blueprint("newsletters", __name__, url_prefix="/newsletters")


@bp.get("/")
def index() -> ResponseReturnValue:
    return render_template("newsletters/index.html", newsletters=list_published())


@bp.get("/<slug>")
def show(slug: str) -> ResponseReturnValue:
    mailing = published_by_slug(slug)
    if mailing is None:
        abort(404)
    return render_template(
        "newsletters/show.html", mailing=mailing, body=body_markup(mailing.body)
    )
