"""Staff pages for an activity's invitations: who will be invited, the replies per
session (with an export), letters to print, and calling a session or the whole
activity off."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import Response
from flask import abort
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm

from engage.accounts.access import EDITORS
from engage.accounts.access import roles_required
from engage.audit.services import record_event
from engage.clock import utcnow
from engage.edge import change
from engage.extensions import db
from engage.formtools import text
from engage.imports.tabular import mimetype
from engage.imports.tabular import row_count
from engage.imports.tabular import write_table
from engage.involvement import invitations
from engage.involvement import letters
from engage.involvement.models import InvolvementActivity
from engage.involvement.models import InvolvementSession
from engage.involvement.panels import panel

bp = Blueprint("involvement_invitations", __name__, url_prefix="/involvement")


class ConfirmForm(FlaskForm):  # type: ignore[misc]
    """A button that only needs its CSRF token."""


class CancelForm(FlaskForm):  # type: ignore[misc]
    reason = text(
        "Why is it cancelled?",
        max_length=invitations.REASON_LIMIT,
        required="Say why it is cancelled",
        description="Everyone invited is told this, in these words.",
        lines=True,
    )


def _activity(activity_id: int) -> InvolvementActivity:
    found: InvolvementActivity = db.get_or_404(InvolvementActivity, activity_id)
    return found


def _back(activity: InvolvementActivity) -> str:
    return url_for("involvement_invitations.invitations_page", activity_id=activity.id)


@panel("involvement/_invitations_panel.html", order=20)
def _panel(activity: InvolvementActivity) -> dict[str, Any] | None:
    """The activity page's invitations section: the replies per session, and links."""
    return {"activity": activity, "lines": invitations.session_counts(activity)}


@bp.route("/<int:activity_id>/invite", methods=["GET", "POST"])
@roles_required(*EDITORS)
def invite(activity_id: int) -> ResponseReturnValue:
    activity = _activity(activity_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        with change("Invitations will be sent within a minute.") as done:
            invitations.invite(activity, actor=current_user, now=utcnow())
        if done:
            return redirect(_back(activity))
    return render_template(
        "involvement/invite.html",
        form=form,
        activity=activity,
        counts=invitations.invitation_counts(activity),
        sessions=invitations.upcoming_sessions(activity, utcnow()),
        back_href=_back(activity),
    )


@bp.get("/<int:activity_id>/invitations")
@roles_required(*EDITORS)
def invitations_page(activity_id: int) -> ResponseReturnValue:
    activity = _activity(activity_id)
    with change(catch=()):
        record_event(
            current_user._get_current_object(),
            "view",
            "involvement_activity",
            activity.id,
            "who was invited and their replies",
            now=utcnow(),
        )
    return render_template(
        "involvement/invitations.html",
        activity=activity,
        sessions=[
            (line, invitations.session_invitations(line.session))
            for line in invitations.session_counts(activity)
        ],
        letters_due=letters.letters_due_count(activity, utcnow()),
        now=utcnow(),
        title=f"Invitations: {activity.title}",
    )


@bp.get("/<int:activity_id>/invitations.<any(csv,xlsx):fmt>")
@roles_required(*EDITORS)
def export(activity_id: int, fmt: str) -> ResponseReturnValue:
    activity = _activity(activity_id)
    columns, rows = invitations.export_rows(activity)
    content = write_table(fmt, columns, rows, title="Invitations")
    with change(catch=()):
        record_event(
            current_user._get_current_object(),
            "export",
            "involvement_activity",
            activity.id,
            f"invitations list ({row_count(len(rows))})",
            now=utcnow(),
        )
    return Response(
        content,
        content_type=mimetype(fmt),
        headers={
            "Content-Disposition": (
                f'attachment; filename="invitations-{activity.id}.{fmt}"'
            ),
            "Cache-Control": "no-store",
        },
    )


@bp.get("/<int:activity_id>/letters")
@roles_required(*EDITORS)
def letters_page(activity_id: int) -> ResponseReturnValue:
    activity = _activity(activity_id)
    due = letters.letters_due(activity, utcnow())
    with change(catch=()):
        record_event(
            current_user._get_current_object(),
            "view",
            "involvement_activity",
            activity.id,
            f"letters to print ({len(due)})",
            now=utcnow(),
        )
    return render_template(
        "involvement/letters.html",
        activity=activity,
        letters=due,
        printed_key=letters.printed_key,
        form=ConfirmForm(),
        back_href=_back(activity),
        title=f"Letters to print: {activity.title}",
    )


@bp.post("/<int:activity_id>/letters/posted")
@roles_required(*EDITORS)
def letters_posted(activity_id: int) -> ResponseReturnValue:
    activity = _activity(activity_id)
    if ConfirmForm().validate_on_submit():
        printed = letters.read_printed(request.form.getlist("printed"))
        with change("Letters marked as posted."):
            letters.mark_posted(activity, printed, actor=current_user, now=utcnow())
    return redirect(_back(activity))


@bp.route("/<int:activity_id>/cancel", methods=["GET", "POST"])
@roles_required(*EDITORS)
def cancel(activity_id: int) -> ResponseReturnValue:
    activity = _activity(activity_id)
    form = CancelForm()
    if form.validate_on_submit():
        with change(
            "Activity cancelled. Everyone invited will be told.", field=form.reason
        ) as done:
            invitations.cancel_activity(
                activity, form.reason.data or "", actor=current_user, now=utcnow()
            )
        if done:
            return redirect(_back(activity))
    return render_template(
        "involvement/cancel.html",
        form=form,
        activity=activity,
        session=None,
        back_href=_back(activity),
    )


@bp.route(
    "/<int:activity_id>/sessions/<int:session_id>/cancel", methods=["GET", "POST"]
)
@roles_required(*EDITORS)
def cancel_session(activity_id: int, session_id: int) -> ResponseReturnValue:
    activity = _activity(activity_id)
    session = db.session.get(InvolvementSession, session_id)
    if session is None or session.activity_id != activity.id:
        abort(404)
    form = CancelForm()
    if form.validate_on_submit():
        with change(
            "Session cancelled. Everyone invited to it will be told.", field=form.reason
        ) as done:
            invitations.cancel_session(
                session, form.reason.data or "", actor=current_user, now=utcnow()
            )
        if done:
            return redirect(_back(activity))
    return render_template(
        "involvement/cancel.html",
        form=form,
        activity=activity,
        session=session,
        back_href=_back(activity),
    )
