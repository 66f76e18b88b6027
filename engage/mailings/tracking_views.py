"""Counted clicks and opens of mailings sent with tracking on."""

from __future__ import annotations

import base64

from flask import Blueprint
from flask import Response
from flask import abort
from flask import redirect
from flask import request
from flask.typing import ResponseReturnValue

from engage.clock import utcnow
from engage.edge import change
from engage.extensions import limiter
from engage.mailings import tracking
from engage.mailings.tokens import recipient_from_token

bp = Blueprint("mailing_tracking", __name__)

#: Bad links per client address: enough for a mangled link or two, far too few to
#: guess a signed token. A working link is never counted or refused, because a whole
#: trust can sit behind one address and read the same newsletter.
CLICKS_PER_CLIENT = "300 per hour"
OPENS_PER_CLIENT = "600 per hour"
#: The highest link id looked up (ids are positive 63-bit integers).
MAX_ID = 2**63 - 1

#: A 1x1 transparent GIF: the same bytes whatever the token, so a reply tells
#: nobody whether a token is good.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


def _good_token() -> bool:
    """Whether the request's token names a copy we sent (then it is not limited)."""
    token = (request.view_args or {}).get("token")
    return isinstance(token, str) and recipient_from_token(token) is not None


def _not_found(response: Response) -> bool:
    return response.status_code == 404


@bp.get("/m/<token>/l/<int:link_id>")
@limiter.limit(CLICKS_PER_CLIENT, deduct_when=_not_found, exempt_when=_good_token)
def click(token: str, link_id: int) -> ResponseReturnValue:
    if not 0 < link_id <= MAX_ID:
        abort(404)
    recipient = recipient_from_token(token)
    if recipient is None:
        abort(404)
    with change(catch=()):
        url = tracking.record_click(recipient, link_id, now=utcnow())
    if url is None:
        abort(404)
    response = redirect(url, code=302)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.get("/m/<token>/o.gif")
@limiter.limit(OPENS_PER_CLIENT, exempt_when=_good_token)
def opened(token: str) -> ResponseReturnValue:
    recipient = recipient_from_token(token)
    if recipient is not None:
        with change(catch=()):
            tracking.record_open(recipient, now=utcnow())
    response = Response(PIXEL, mimetype="image/gif")
    response.headers["Cache-Control"] = "no-store, private"
    return response
