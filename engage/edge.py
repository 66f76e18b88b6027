"""The web edge's one way to make a change: run the services, then commit or roll back.

Every view that changes something ends the same way: call one or more services; if a
service refuses (an :class:`~engage.errors.EngageError`), roll back and tell the user
why, on the form field or as a flash message; otherwise commit and say it is done.
:func:`change` does that once::

    with change("Action added to the plan.", field=form.title) as done:
        action = services.create_action(data, actor=current_user, now=utcnow())
    if done:
        return redirect(url_for("actions.detail", action_id=action.id))
    return render_template("actions/form.html", form=form)

Errors that are not the user's to fix (a lost database, a bug) pass through untouched:
the request's teardown discards the session and the error pages answer. So do the
refusals a page leaves to its error page (``catch`` names those it shows itself): an
unusable link, for one, gets the same 404 however it fails.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Any

from flask import abort
from flask import current_app
from flask import flash
from flask import request
from flask_wtf.csrf import CSRFError
from flask_wtf.csrf import validate_csrf
from wtforms.validators import ValidationError as FormValidationError

from engage.errors import EngageError
from engage.extensions import db
from engage.templating import format_datetime


class Change:
    """One change's transaction; true once it has been committed."""

    def __init__(
        self,
        success: str | None,
        field: Any | None,
        refusal: str,
        on_error: Callable[[EngageError], object] | None,
        catch: type[EngageError] | tuple[type[EngageError], ...] = EngageError,
    ) -> None:
        self.success = success
        self.field = field
        self.refusal = refusal
        self.on_error = on_error
        self.catch = catch
        self.error: EngageError | None = None
        self._committed = False

    def __bool__(self) -> bool:
        return self._committed

    def __enter__(self) -> Change:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        if exc is None:
            db.session.commit()
            self._committed = True
            if self.success:
                flash(self.success, "success")
            return False
        if not isinstance(exc, EngageError) or not isinstance(exc, self.catch):
            return False
        db.session.rollback()
        self.error = exc
        if self.on_error is not None:
            self.on_error(exc)
        elif self.field is not None:
            self.field.errors = [*(self.field.errors or ()), exc.message]
        else:
            flash(self.refusal.format(exc.message), "error")
        return True


def change(
    success: str | None = None,
    *,
    field: Any | None = None,
    refusal: str = "{}",
    on_error: Callable[[EngageError], object] | None = None,
    catch: type[EngageError] | tuple[type[EngageError], ...] = EngageError,
) -> Change:
    """Commit the block's work and flash ``success``, or roll back and show the refusal.

    The refusal goes on ``field`` (a WTForms field) when one is given, to ``on_error``
    when the page shows it its own way, else into a flash message worded by ``refusal``
    (``"{}"`` is the service's own message). Test the result (``if done:``) to choose
    between the page that follows a change and the form shown again. Only refusals of
    the kinds in ``catch`` are shown; others (all of them with ``catch=()``) go on to
    the error pages.
    """
    return Change(success, field, refusal, on_error, catch)


#: What a public form that checks its own token says when the token had expired.
FORM_EXPIRED = "Your session expired; check your answers and send the form again"


def form_token_expired(form: Any) -> bool:
    """Whether ``form``'s own CSRF token was refused (expired, or missing)."""
    token = getattr(form, "csrf_token", None)
    return bool(token is not None and token.errors)


def csrf_token_valid() -> bool:
    """Whether the form sent carries a valid CSRF token (always, with CSRF checks
    off): for a public form that checks its own token, so that an expired one sends
    the page back with its answers instead of an error page."""
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return True
    try:
        validate_csrf(request.form.get("csrf_token"))
    except (CSRFError, FormValidationError):
        return False
    return True


def saved_since_opened(form: Any, updated_at: datetime | None, what: str) -> bool:
    """Whether the record ``form`` edits was saved again after the form was opened
    (its ``opened_at`` field says when it had last been saved then).

    If so, the form says so at the top, keeping what was typed, and takes the newer
    time: looked over, the same form saved again goes through. A form sent without
    the time (an older page) is not held back.
    """
    current = updated_at.isoformat() if updated_at is not None else ""
    sent = form.opened_at.data or ""
    if not sent or sent == current:
        form.opened_at.data = current
        return False
    form.opened_at.data = current
    form.opened_at.errors = [
        f"This {what} was saved at {format_datetime(updated_at)}, after you opened "
        "this page (by someone else, or in another tab). Your changes are below, not "
        f"saved: check them against the {what} as it is now, then save again."
    ]
    return True


def refuse_tokenless_post() -> None:
    """Answer 400 to a form sent without a valid CSRF token, as every state change
    is answered: for a public form that checks its own token, when the link it was
    sent to does not work (so no page can be sent back with the answers)."""
    if request.method == "POST" and not csrf_token_valid():
        abort(400)
