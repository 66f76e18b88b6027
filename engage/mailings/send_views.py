"""Staff pages for sending a mailing: who gets it, why not, schedule, send, progress."""

from __future__ import annotations

import contextlib

from flask import Blueprint
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import TimeField
from wtforms.validators import InputRequired

from engage.accounts.access import EDITORS
from engage.accounts.access import roles_required
from engage.clock import local_to_utc
from engage.clock import utcnow
from engage.edge import change
from engage.errors import EngageError
from engage.extensions import db
from engage.formtools import DateField
from engage.mailings import recipients
from engage.mailings import sending
from engage.mailings.models import Mailing
from engage.mailings.models import MailingStatus
from engage.membership.models import Member

bp = Blueprint("mailing_send", __name__, url_prefix="/mailings/<int:mailing_id>")

#: The longest name searched for in the "why not" lookup.
NAME_LIMIT = 100


class ScheduleForm(FlaskForm):  # type: ignore[misc]
    send_on = DateField(
        "Date to send", validators=[InputRequired("Enter the date to send it")]
    )
    send_at = TimeField(
        "Time to send",
        description="UK time (GMT or BST, as on a clock in England), 24-hour, "
        "e.g. 09:30.",
        validators=[InputRequired("Enter the time to send it")],
    )


class ConfirmForm(FlaskForm):  # type: ignore[misc]
    """A button that only needs its CSRF token."""


def _mailing(mailing_id: int) -> Mailing:
    mailing: Mailing = db.get_or_404(Mailing, mailing_id)
    return mailing


def _back(mailing: Mailing) -> str:
    return url_for("mailing_send.progress", mailing_id=mailing.id)


@bp.get("/recipients")
@roles_required(*EDITORS)
def recipients_page(mailing_id: int) -> ResponseReturnValue:
    mailing = _mailing(mailing_id)
    name = request.args.get("name", "", type=str)[:NAME_LIMIT].strip()
    answers: list[tuple[Member, list[str]]] = []
    if name:
        with change(catch=()):
            answers = recipients.why_not_lookup(
                mailing, name, actor=current_user._get_current_object(), now=utcnow()
            )
    return render_template(
        "mailings/recipients.html",
        mailing=mailing,
        counts=recipients.counts(mailing),
        name=name,
        answers=answers,
        title=f"Recipients: {mailing.subject}",
    )


@bp.route("/schedule", methods=["GET", "POST"])
@roles_required(*EDITORS)
def schedule(mailing_id: int) -> ResponseReturnValue:
    mailing = _mailing(mailing_id)
    form = ScheduleForm()
    if form.validate_on_submit():
        when = local_to_utc(form.send_on.data, form.send_at.data)
        problem = sending.time_problem(when, now=utcnow())
        if problem:
            form.send_on.errors = [problem]
        else:
            # What else may refuse it (no mail server, no text message written) is
            # about the mailing, not the time: said at the top of the page.
            with change(
                "Mailing scheduled.", refusal="The mailing was not scheduled: {}"
            ) as done:
                sending.schedule(mailing, when, actor=current_user, now=utcnow())
            if done:
                return redirect(_back(mailing))
    return render_template(
        "mailings/schedule.html", form=form, mailing=mailing, back_href=_back(mailing)
    )


@bp.route("/send-now", methods=["GET", "POST"])
@roles_required(*EDITORS)
def send_now(mailing_id: int) -> ResponseReturnValue:
    mailing = _mailing(mailing_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        with change("Sending has started.") as done:
            sending.send_now(mailing, actor=current_user, now=utcnow())
            _kick_job()
        if done:
            return redirect(_back(mailing))
    return render_template(
        "mailings/send_now.html",
        form=form,
        mailing=mailing,
        counts=recipients.counts(mailing),
        back_href=_back(mailing),
    )


def _kick_job() -> None:
    """Ask the scheduler to run the send-mailings job now, if it knows the job."""
    from engage.scheduling.services import request_run

    # No such job in this deployment: the next run sends it.
    with contextlib.suppress(EngageError):
        request_run("send-mailings", actor=current_user, now=utcnow())


@bp.get("/progress")
@roles_required(*EDITORS)
def progress(mailing_id: int) -> ResponseReturnValue:
    mailing = _mailing(mailing_id)
    return render_template(
        "mailings/progress.html",
        mailing=mailing,
        progress=sending.progress(mailing),
        refresh=mailing.status is MailingStatus.SENDING,
        # The person may stop the page updating itself (WCAG 2.2.1).
        stopped=request.args.get("refresh") == "off",
        title=f"Sending: {mailing.subject}",
    )


def _state_change(mailing_id: int, action: str) -> ResponseReturnValue:
    mailing = _mailing(mailing_id)
    services = {
        "pause": (sending.pause, "Sending paused."),
        "resume": (sending.resume, "Sending resumed."),
        "cancel": (sending.cancel, "Mailing cancelled. Nothing more will be sent."),
    }
    service, message = services[action]
    if ConfirmForm().validate_on_submit():
        with change(message, refusal="{}"):
            service(mailing, actor=current_user, now=utcnow())
    return redirect(_back(mailing))


@bp.post("/pause")
@roles_required(*EDITORS)
def pause(mailing_id: int) -> ResponseReturnValue:
    return _state_change(mailing_id, "pause")


@bp.post("/resume")
@roles_required(*EDITORS)
def resume(mailing_id: int) -> ResponseReturnValue:
    return _state_change(mailing_id, "resume")


@bp.post("/cancel")
@roles_required(*EDITORS)
def cancel(mailing_id: int) -> ResponseReturnValue:
    return _state_change(mailing_id, "cancel")


@bp.app_context_processor
def _send_globals() -> dict[str, object]:
    """The sending panel on the mailing's page reads its progress with this."""
    return {"send_progress": sending.progress}
