"""Mailing views for staff: composing, preview, test send, publishing, templates."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import Response
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select

from engage.accounts.access import EDITORS
from engage.accounts.access import roles_required
from engage.actions.models import Action
from engage.audiences.services import list_audiences
from engage.clock import utcnow
from engage.edge import change
from engage.edge import saved_since_opened
from engage.extensions import db
from engage.formtools import parse_id
from engage.mail.services import mail_server_set_up
from engage.mailings import services
from engage.mailings.compose import problems
from engage.mailings.compose import render_email
from engage.mailings.compose import web_copy_url_of
from engage.mailings.forms import MailingForm
from engage.mailings.forms import TemplateForm
from engage.mailings.models import Mailing
from engage.mailings.models import MailingStatus
from engage.mailings.models import MailingTemplate
from engage.membership.lists import practice_choices
from engage.membership.lists import topic_choices
from engage.membership.models import ContactChannel
from engage.membership.models import Practice
from engage.membership.models import Topic

bp = Blueprint("mailings", __name__, url_prefix="/mailings")

#: The preview frames' policy: the email's own inline styles and its images, nothing
#: else (no script, no forms, no plug-ins), shown only inside Engage's own pages.
FRAME_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: http:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'; sandbox"
)


@bp.get("/")
@roles_required(*EDITORS)
def index() -> ResponseReturnValue:
    mailings = db.session.scalars(
        select(Mailing).order_by(Mailing.created_at.desc(), Mailing.id.desc())
    ).all()
    return render_template("mailings/index.html", mailings=mailings)


def _form(mailing: Mailing | None, **kwargs: Any) -> MailingForm:
    current_action = mailing.action_id if mailing is not None else None
    actions = [
        (a.id, a.title)
        for a in db.session.scalars(select(Action).order_by(Action.title))
        if a.status.is_open or a.id == current_action
    ]
    chosen = {a.id for a in mailing.audiences} if mailing is not None else set()
    audiences = [
        (a.id, a.name)
        for a in list_audiences(include_archived=True)
        if a.archived_at is None or a.id in chosen
    ]
    return MailingForm(
        actions=actions,
        topics=_with_current(topic_choices(), mailing, "topic_id"),
        practices=_with_current(practice_choices(), mailing, "practice_id"),
        audiences=audiences,
        **kwargs,
    )


def _with_current(
    pairs: list[tuple[int, str]], mailing: Mailing | None, attribute: str
) -> list[tuple[int, str]]:
    """Active choices, plus the one the mailing has if it was since retired."""
    current = getattr(mailing, attribute, None) if mailing is not None else None
    if current is None or any(value == current for value, _ in pairs):
        return pairs
    row: Topic | Practice | None = (
        db.session.get(Topic, current)
        if attribute == "topic_id"
        else db.session.get(Practice, current)
    )
    return [*pairs, (current, row.name)] if row is not None else pairs


def _initial(mailing: Mailing) -> dict[str, Any]:
    return {
        "subject": mailing.subject,
        "body": mailing.body,
        "easy_read_body": mailing.easy_read_body,
        "sms_text": mailing.sms_text,
        "action_id": mailing.action_id,
        "channels": mailing.channels,
        "to_members": mailing.to_members,
        "tier": mailing.tier,
        "topic_id": mailing.topic_id,
        "practice_id": mailing.practice_id,
        "support_need": mailing.support_need,
        "joined_from": mailing.joined_from,
        "joined_to": mailing.joined_to,
        "audience_ids": [a.id for a in mailing.audiences],
    }


def _data(form: MailingForm) -> services.MailingData:
    channels = set(form.channels.data or ())
    return services.MailingData(
        subject=form.subject.data or "",
        body=form.body.data or "",
        easy_read_body=form.easy_read_body.data or "",
        sms_text=form.sms_text.data or "",
        action_id=form.action_id.data,
        by_email=ContactChannel.EMAIL in channels,
        by_sms=ContactChannel.SMS in channels,
        by_post=ContactChannel.POST in channels,
        to_members=bool(form.to_members.data),
        tier=form.tier.data,
        topic_id=form.topic_id.data,
        practice_id=form.practice_id.data,
        support_need=form.support_need.data,
        joined_from=form.joined_from.data,
        joined_to=form.joined_to.data,
        audience_ids=list(form.audience_ids.data or ()),
    )


def _template_from_query() -> MailingTemplate | None:
    sent = request.args.get("template")
    if sent is None:
        return None
    try:
        template_id = parse_id(sent)
    except ValueError:
        abort(404)
    if template_id is None:
        return None
    return db.get_or_404(MailingTemplate, template_id)


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*EDITORS)
def new() -> ResponseReturnValue:
    template = _template_from_query()
    initial: dict[str, Any] = {"channels": [ContactChannel.EMAIL], "to_members": True}
    if template is not None:
        initial |= {"subject": template.subject, "body": template.body}
    form = _form(None, data=initial)
    if form.validate_on_submit():
        with change("Mailing saved as a draft.", field=form.subject) as done:
            mailing = services.create_mailing(
                _data(form), actor=current_user, now=utcnow(), template=template
            )
        if done:
            return redirect(url_for("mailings.detail", mailing_id=mailing.id))
    return render_template(
        "mailings/form.html",
        form=form,
        mailing=None,
        template=template,
        templates=services.list_templates(),
    )


@bp.get("/<int:mailing_id>")
@roles_required(*EDITORS)
def detail(mailing_id: int) -> ResponseReturnValue:
    mailing = db.get_or_404(Mailing, mailing_id)
    return render_template(
        "mailings/detail.html",
        mailing=mailing,
        editable=services.is_editable(mailing),
        who=services.recipients_in_words(mailing),
        problems=problems(mailing.body),
        web_copy=web_copy_url_of(mailing),
        action=db.session.get(Action, mailing.action_id) if mailing.action_id else None,
    )


@bp.route("/<int:mailing_id>/edit", methods=["GET", "POST"])
@roles_required(*EDITORS)
def edit(mailing_id: int) -> ResponseReturnValue:
    mailing = db.get_or_404(Mailing, mailing_id)
    if not services.is_editable(mailing):
        ended = {MailingStatus.SENT: "sent", MailingStatus.CANCELLED: "cancelled"}
        flash(
            "This mailing can no longer change: it has been "
            f"{ended.get(mailing.status, 'started')}.",
            "error",
        )
        return redirect(url_for("mailings.detail", mailing_id=mailing.id))
    form = _form(mailing, data=_initial(mailing))
    if not form.is_submitted():
        form.opened_at.data = mailing.updated_at.isoformat()
    elif form.validate() and not saved_since_opened(
        form, mailing.updated_at, "mailing"
    ):
        with change("Changes saved.", field=form.subject) as done:
            services.update_mailing(
                mailing, _data(form), actor=current_user, now=utcnow()
            )
        if done:
            return redirect(url_for("mailings.detail", mailing_id=mailing.id))
    return render_template(
        "mailings/form.html", form=form, mailing=mailing, template=None, templates=[]
    )


@bp.get("/<int:mailing_id>/preview")
@roles_required(*EDITORS)
def preview(mailing_id: int) -> ResponseReturnValue:
    mailing = db.get_or_404(Mailing, mailing_id)
    rendered = render_email(mailing, unsubscribe_url=None)
    return render_template(
        "mailings/preview.html",
        mailing=mailing,
        text=rendered.text,
        problems=problems(mailing.body),
    )


@bp.get("/<int:mailing_id>/preview/email")
@roles_required(*EDITORS)
def preview_frame(mailing_id: int) -> ResponseReturnValue:
    """The email's HTML alone, for the preview's frames (nothing of Engage's page)."""
    mailing = db.get_or_404(Mailing, mailing_id)
    rendered = render_email(mailing, unsubscribe_url=None)
    response = Response(rendered.html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = FRAME_POLICY
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@bp.post("/<int:mailing_id>/test-send")
@roles_required(*EDITORS)
def test_send(mailing_id: int) -> ResponseReturnValue:
    mailing = db.get_or_404(Mailing, mailing_id)
    address = current_user.email
    with change(refusal="The test email was not sent: {}") as done:
        services.send_test(mailing, to=address, actor=current_user, now=utcnow())
    if done and mail_server_set_up():
        flash(f"Test email sent to you at {address}.", "success")
    elif done:
        flash(
            "No mail server is set up, so the test email was not sent: it is kept "
            "in the outbox, where an administrator can read it.",
            "info",
        )
    return redirect(url_for("mailings.detail", mailing_id=mailing.id))


@bp.post("/<int:mailing_id>/publish")
@roles_required(*EDITORS)
def publish(mailing_id: int) -> ResponseReturnValue:
    mailing = db.get_or_404(Mailing, mailing_id)
    with change(
        "Published: anyone with the link can read it, and it is listed with the "
        "published newsletters.",
        refusal="Not published: {}",
    ):
        services.publish(mailing, actor=current_user, now=utcnow())
    return redirect(url_for("mailings.detail", mailing_id=mailing.id))


@bp.post("/<int:mailing_id>/unpublish")
@roles_required(*EDITORS)
def unpublish(mailing_id: int) -> ResponseReturnValue:
    mailing = db.get_or_404(Mailing, mailing_id)
    with change(
        "Taken down: its web page and its place in the published newsletters are gone.",
        refusal="Not taken down: {}",
    ):
        services.unpublish(mailing, actor=current_user, now=utcnow())
    return redirect(url_for("mailings.detail", mailing_id=mailing.id))


# Saved templates


@bp.get("/templates")
@roles_required(*EDITORS)
def templates() -> ResponseReturnValue:
    return render_template(
        "mailings/templates.html", templates=services.list_templates()
    )


def _template_data(form: TemplateForm) -> services.TemplateData:
    return services.TemplateData(
        name=form.name.data or "",
        subject=form.subject.data or "",
        body=form.body.data or "",
    )


@bp.route("/templates/new", methods=["GET", "POST"])
@roles_required(*EDITORS)
def create_template() -> ResponseReturnValue:
    form = TemplateForm()
    if form.validate_on_submit():
        with change("Template saved.", field=form.name) as done:
            services.create_template(
                _template_data(form), actor=current_user, now=utcnow()
            )
        if done:
            return redirect(url_for("mailings.templates"))
    return render_template("mailings/template_form.html", form=form, template=None)


@bp.route("/templates/<int:template_id>/edit", methods=["GET", "POST"])
@roles_required(*EDITORS)
def edit_template(template_id: int) -> ResponseReturnValue:
    template = db.get_or_404(MailingTemplate, template_id)
    form = TemplateForm(obj=template)
    if form.validate_on_submit():
        with change("Template saved.", field=form.name) as done:
            services.update_template(
                template, _template_data(form), actor=current_user, now=utcnow()
            )
        if done:
            return redirect(url_for("mailings.templates"))
    return render_template("mailings/template_form.html", form=form, template=template)


@bp.route("/templates/<int:template_id>/delete", methods=["GET", "POST"])
@roles_required(*EDITORS)
def delete_template(template_id: int) -> ResponseReturnValue:
    """Ask first; delete once confirmed (mailings made from it keep their words)."""
    template = db.get_or_404(MailingTemplate, template_id)
    if request.method == "GET":
        return render_template("mailings/template_delete.html", template=template)
    name = template.name
    with change(f"Template {name} deleted."):
        services.delete_template(template, actor=current_user, now=utcnow())
    return redirect(url_for("mailings.templates"))
