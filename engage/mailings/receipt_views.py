"""GOV.UK Notify's delivery receipts, POSTed to us: authenticated by a bearer token.

Notify sends ``Authorization: Bearer <token>`` with the token set in the service's
callback settings; the same token is ``ENGAGE_NOTIFY_CALLBACK_TOKEN`` here. Without
it configured the address does not exist (404). Answers are short JSON; a receipt
about no copy of ours is still answered 200, so Notify does not send it again.
"""

from __future__ import annotations

import hmac
import json

from flask import Blueprint
from flask import current_app
from flask import jsonify
from flask import request
from flask.typing import ResponseReturnValue

from engage.clock import utcnow
from engage.edge import change
from engage.extensions import csrf
from engage.mailings.receipts import BadReceipt
from engage.mailings.receipts import record_receipt

bp = Blueprint("mailing_receipts", __name__)

#: A receipt is a few hundred bytes; anything much larger is not one.
MAX_BODY = 16 * 1024


def _problem(status: int, message: str) -> ResponseReturnValue:
    return jsonify({"error": message}), status


def _authorised(expected: str) -> bool:
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return False
    return hmac.compare_digest(given.strip().encode(), expected.encode())


@bp.post("/mailings/notify/receipts")
@csrf.exempt
def notify_receipt() -> ResponseReturnValue:
    # A body that is not JSON is refused before anything else (a form post, say).
    if request.mimetype != "application/json":
        return _problem(400, "The body must be JSON.")
    expected = current_app.config.get("NOTIFY_CALLBACK_TOKEN")
    if not isinstance(expected, str) or not expected:
        return _problem(404, "Not found.")
    if not _authorised(expected):
        response = jsonify({"error": "A valid bearer token is needed."})
        response.headers["WWW-Authenticate"] = 'Bearer realm="notify-receipts"'
        return response, 401
    length = request.content_length
    if length is None:
        return _problem(411, "The body's length is needed.")
    if length > MAX_BODY:
        return _problem(413, "The body is too large.")
    try:
        payload = json.loads(request.get_data(cache=False))
    except (ValueError, UnicodeDecodeError):
        return _problem(400, "The body is not valid JSON.")
    if not isinstance(payload, dict):
        return _problem(400, "The body must be a JSON object.")
    try:
        with change(catch=()):
            outcome = record_receipt(payload, now=utcnow())
    except BadReceipt as error:
        return _problem(400, str(error))
    return jsonify({"result": outcome}), 200
