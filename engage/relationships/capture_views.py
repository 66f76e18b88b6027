"""The review list of emails from the capture mailbox that could not be filed alone."""

from __future__ import annotations

from flask import Blueprint
from flask import abort
from flask import redirect
from flask import render_template
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from engage.accounts.access import EDITORS
from engage.accounts.access import roles_required
from engage.audiences.models import Audience
from engage.audiences.services import list_audiences
from engage.audit.services import record_event
from engage.clock import utcnow
from engage.edge import change
from engage.errors import Conflict
from engage.errors import ValidationError
from engage.extensions import db
from engage.formtools import choices
from engage.paging import keyset_page
from engage.relationships import capture
from engage.relationships.capture_forms import FileCapturedForm
from engage.relationships.models import CapturedMessage
from engage.relationships.models import CaptureStatus

bp = Blueprint("capture", __name__, url_prefix="/relationships/inbox")

PER_PAGE = 25


@bp.get("/")
@roles_required(*EDITORS)
def index() -> ResponseReturnValue:
    page = keyset_page(capture.waiting_query(), capture.OLDEST_FIRST, per_page=PER_PAGE)
    return render_template("relationships/capture_index.html", page=page)


def _form(message: CapturedMessage) -> FileCapturedForm:
    form = FileCapturedForm()
    form.audience_id.choices = choices(
        [("", "Choose an audience")] + [(a.id, a.name) for a in list_audiences()]
    )
    unknown = (
        capture.unknown_addresses(message)
        if message.status is CaptureStatus.WAITING
        else []
    )
    form.new_contact_address.choices = choices(
        [("", "Do not add a contact")] + [(a, a) for a in unknown]
    )
    return form


def _show(message: CapturedMessage, form: FileCapturedForm) -> str:
    return render_template(
        "relationships/capture_detail.html", message=message, form=form
    )


@bp.get("/<int:message_id>")
@roles_required(*EDITORS)
def detail(message_id: int) -> ResponseReturnValue:
    message = db.get_or_404(CapturedMessage, message_id)
    # The email holds people's words and addresses: reading it is recorded.
    record_event(current_user, "view", "captured_message", message.id, now=utcnow())
    db.session.commit()
    return _show(message, _form(message))


def _locked(message_id: int) -> CapturedMessage:
    """The message, locked until the decision is committed: two officers deciding
    at once are taken one after the other, and the second is told it is decided."""
    message = db.session.get(CapturedMessage, message_id, with_for_update=True)
    if message is None:
        abort(404)
    return message


@bp.post("/<int:message_id>/file")
@roles_required(*EDITORS)
def file(message_id: int) -> ResponseReturnValue:
    message = _locked(message_id)
    form = _form(message)
    if not form.validate_on_submit():
        return _show(message, form), 400
    audience = db.get_or_404(Audience, form.audience_id.data)
    with change(
        "Filed as a draft interaction for its owner to confirm.",
        field=form.audience_id,
        catch=(ValidationError, Conflict),
    ) as done:
        capture.file_waiting(
            message,
            audience,
            actor=current_user,
            now=utcnow(),
            new_contact_address=form.new_contact_address.data or "",
            new_contact_name=form.new_contact_name.data or "",
        )
    if done:
        return redirect(url_for("capture.index"))
    return _show(message, form), 400


@bp.post("/<int:message_id>/dismiss")
@roles_required(*EDITORS)
def dismiss(message_id: int) -> ResponseReturnValue:
    message = _locked(message_id)
    with change(
        "Dismissed: it is not an interaction, and its words have been cleared.",
        catch=(ValidationError, Conflict),
    ):
        capture.dismiss(message, actor=current_user, now=utcnow())
    return redirect(url_for("capture.index"))
