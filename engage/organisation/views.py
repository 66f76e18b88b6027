"""Admin → Organisation and the notices; the public privacy and accessibility pages."""

from __future__ import annotations

from flask import Blueprint
from flask import Flask
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from engage.accounts.access import ADMINS
from engage.accounts.access import roles_required
from engage.clock import utcnow
from engage.edge import change
from engage.extensions import db
from engage.organisation import services
from engage.organisation.defaults import Identity
from engage.organisation.forms import NoticeForm
from engage.organisation.forms import OrganisationForm
from engage.organisation.models import Notice
from engage.organisation.models import NoticeKind

bp = Blueprint("organisation", __name__)

KINDS = "any(privacy,accessibility)"
_PUBLIC_ENDPOINTS = {
    NoticeKind.PRIVACY: "organisation.privacy",
    NoticeKind.ACCESSIBILITY: "organisation.accessibility",
}


@bp.route("/admin/organisation", methods=["GET", "POST"])
@roles_required(*ADMINS)
def settings() -> ResponseReturnValue:
    form = OrganisationForm(obj=services.identity())
    if not form.is_submitted():
        form.mailing_tracking.data = services.mailing_tracking_on()
    if form.validate_on_submit():
        details = Identity(
            **{name: form[name].data or "" for name in Identity.__dataclass_fields__}
        )
        with change("Organisation details saved.", field=form.name) as done:
            now = utcnow()
            services.save_identity(details, actor=current_user, now=now)
            services.set_mailing_tracking(
                bool(form.mailing_tracking.data), actor=current_user, now=now
            )
        if done:
            return redirect(url_for("organisation.settings"))
    return render_template("organisation/settings.html", form=form)


@bp.route(f"/admin/notices/<{KINDS}:kind>", methods=["GET", "POST"])
@roles_required(*ADMINS)
def edit_notice(kind: str) -> ResponseReturnValue:
    notice_kind = NoticeKind(kind)
    form = NoticeForm()
    if not form.is_submitted():
        form.body.data = services.current_text(notice_kind)
    preview = None
    if form.validate_on_submit():
        if form.publish.data:
            with change(field=form.body) as done:
                notice = services.publish_notice(
                    notice_kind,
                    form.body.data,
                    fresh_consent=bool(form.fresh_consent.data),
                    actor=current_user,
                    now=utcnow(),
                )
            if done:
                flash(
                    f"{notice_kind.label} version {notice.label} published.",
                    "success",
                )
                return redirect(url_for("organisation.edit_notice", kind=kind))
        else:
            preview = services.render_markdown(form.body.data)
    return render_template(
        "organisation/notice_form.html",
        form=form,
        kind=notice_kind,
        preview=preview,
        versions=services.versions(notice_kind),
        public_endpoint=_PUBLIC_ENDPOINTS[notice_kind],
    )


def _show(kind: NoticeKind, notice: Notice | None) -> ResponseReturnValue:
    current = services.current_notice(kind)
    body = notice.body if notice is not None else services.default_text(kind)
    return render_template(
        "organisation/notice.html",
        kind=kind,
        notice=notice,
        is_current=notice is None or current is None or notice.id == current.id,
        html=services.render_markdown(body),
        versions=services.versions(kind),
        public_endpoint=_PUBLIC_ENDPOINTS[kind],
    )


@bp.get("/privacy")
def privacy() -> ResponseReturnValue:
    return _show(NoticeKind.PRIVACY, services.current_notice(NoticeKind.PRIVACY))


@bp.get("/accessibility")
def accessibility() -> ResponseReturnValue:
    kind = NoticeKind.ACCESSIBILITY
    return _show(kind, services.current_notice(kind))


@bp.get(f"/<{KINDS}:kind>/version-<int:version>")
def notice_version(kind: str, version: int) -> ResponseReturnValue:
    notice = services.get_version(NoticeKind(kind), version)
    if notice is None:
        abort(404)
    return _show(NoticeKind(kind), notice)


#: Shown when the database cannot be read (the error pages still need a footer).
_UNKNOWN = Identity(name="Engage", short_name="Engage")


def _identity_for_templates() -> Identity:
    try:
        return services.identity()
    except SQLAlchemyError:
        db.session.rollback()
        return _UNKNOWN


def init_app(app: Flask) -> None:
    """Give every template ``organisation()``: the identity, read once a request."""
    app.context_processor(lambda: {"organisation": _identity_for_templates})
