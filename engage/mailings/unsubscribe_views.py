"""The one-click unsubscribe link in every mailing (RFC 8058): no sign-in needed.

Opening the link (GET) only asks; nothing changes until a POST. Mail programs that
offer "Unsubscribe" themselves POST ``List-Unsubscribe=One-Click`` with no cookie
and no CSRF token (RFC 8058), so the route is exempt from the app-wide CSRF check
and accepts exactly two bodies: that one, and the page's own form with its CSRF
token. A bad or altered link gets the same plain page, with status 404, whoever it
was for.
"""

from __future__ import annotations

from flask import Blueprint
from flask import Response
from flask import current_app
from flask import render_template
from flask import request
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm

from engage.clock import utcnow
from engage.edge import change
from engage.extensions import csrf
from engage.extensions import limiter
from engage.mailings import unsubscribe as service
from engage.mailings.models import MailingRecipient
from engage.mailings.tokens import recipient_from_token

bp = Blueprint("unsubscribe", __name__)

#: The body a mail program POSTs for a one-click unsubscribe (RFC 8058 section 3.1).
ONE_CLICK_FIELD = "List-Unsubscribe"
ONE_CLICK_VALUE = "One-Click"
DEFAULT_LIMIT = "60 per minute; 600 per hour"
_FORM_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}


class UnsubscribeForm(FlaskForm):  # type: ignore[misc]
    """Just the button and its CSRF token: the page itself asks the question."""


def _limit() -> str:
    return str(current_app.config.get("UNSUBSCRIBE_LIMIT") or DEFAULT_LIMIT)


def _good_link() -> bool:
    """Whether the request's link works: then it is never counted or refused (many
    NHS staff share one address, and everyone must be able to unsubscribe)."""
    token = (request.view_args or {}).get("token")
    return isinstance(token, str) and _recipient(token) is not None


def _refused(response: Response) -> bool:
    """Only requests with a bad link count towards the limit."""
    return response.status_code in (400, 404)


def _is_one_click() -> bool:
    """Whether the body is exactly RFC 8058's ``List-Unsubscribe=One-Click``."""
    if request.mimetype not in _FORM_TYPES or request.files:
        return False
    form = request.form
    return list(form.keys()) == [ONE_CLICK_FIELD] and form.getlist(ONE_CLICK_FIELD) == [
        ONE_CLICK_VALUE
    ]


def _recipient(token: str) -> MailingRecipient | None:
    return service.usable(recipient_from_token(token))


def _not_working(status: int = 404) -> ResponseReturnValue:
    page = render_template("mailings/unsubscribe.html", state="not-working")
    return page, status


@bp.route("/m/<token>/unsubscribe", methods=["GET", "POST"])
@csrf.exempt
@limiter.limit(_limit, deduct_when=_refused, exempt_when=_good_link)
def unsubscribe(token: str) -> ResponseReturnValue:
    form = UnsubscribeForm()
    if request.method == "POST":
        one_click = _is_one_click()
        if not one_click and not form.validate_on_submit():
            # Neither the one-click body nor the page's form (an expired token, say):
            # ask again, changing nothing.
            recipient = _recipient(token)
            if recipient is None:
                return _not_working(400)
            return _ask(recipient, form, status=400, problem=True)
        recipient = _recipient(token)
        if recipient is None:
            return _not_working()
        with change(catch=()):
            service.unsubscribe(recipient, one_click=one_click, now=utcnow())
            page = service.describe(recipient)
        return render_template(
            "mailings/unsubscribe.html",
            state="done",
            page=page,
        )
    recipient = _recipient(token)
    if recipient is None:
        return _not_working()
    return _ask(recipient, form)


def _ask(
    recipient: MailingRecipient,
    form: UnsubscribeForm,
    *,
    status: int = 200,
    problem: bool = False,
) -> ResponseReturnValue:
    page = service.describe(recipient)
    body = render_template(
        "mailings/unsubscribe.html",
        state="done" if page.done else "ask",
        page=page,
        form=form,
        problem=problem,
    )
    return body, status
