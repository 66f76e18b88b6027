"""Breach register views for administrators: list, record, detail, update."""

from __future__ import annotations

from flask import Blueprint
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from engage.accounts.access import ADMINS
from engage.accounts.access import roles_required
from engage.breaches import services
from engage.breaches.forms import MOMENTS
from engage.breaches.forms import BreachForm
from engage.breaches.models import Breach
from engage.clock import to_local
from engage.clock import utcnow
from engage.errors import NotFound
from engage.extensions import db

bp = Blueprint("breaches", __name__, url_prefix="/admin/breaches")


def _form_error(form: BreachForm, error: services.BreachFieldError) -> None:
    day, _clock = MOMENTS.get(error.field, (error.field, ""))
    form[day].errors = [error.message]


@bp.get("/")
@roles_required(*ADMINS)
def index() -> ResponseReturnValue:
    now = utcnow()
    rows = [(b, services.deadlines(b, now)) for b in services.list_breaches()]
    return render_template("breaches/index.html", rows=rows, to_local=to_local)


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*ADMINS)
def create() -> ResponseReturnValue:
    form = BreachForm()
    if form.validate_on_submit():
        try:
            breach = services.record_breach(
                form.values(), actor=current_user, now=utcnow()
            )
        except services.BreachFieldError as error:
            db.session.rollback()
            _form_error(form, error)
        else:
            db.session.commit()
            flash("Breach recorded.", "success")
            return redirect(url_for("breaches.detail", breach_id=breach.id))
    return render_template("breaches/form.html", form=form, breach=None)


def _get(breach_id: int) -> Breach:
    try:
        return services.get_breach(breach_id)
    except NotFound:
        abort(404)


@bp.get("/<int:breach_id>")
@roles_required(*ADMINS)
def detail(breach_id: int) -> ResponseReturnValue:
    breach = _get(breach_id)
    return render_template(
        "breaches/detail.html",
        breach=breach,
        deadlines=services.deadlines(breach, utcnow()),
        to_local=to_local,
    )


@bp.route("/<int:breach_id>/edit", methods=["GET", "POST"])
@roles_required(*ADMINS)
def edit(breach_id: int) -> ResponseReturnValue:
    breach = _get(breach_id)
    form = BreachForm()
    if not form.is_submitted():
        form.fill(breach)
    if form.validate_on_submit():
        try:
            services.update_breach(
                breach, form.values(), actor=current_user, now=utcnow()
            )
        except services.BreachFieldError as error:
            db.session.rollback()
            _form_error(form, error)
        else:
            db.session.commit()
            flash("Breach updated.", "success")
            return redirect(url_for("breaches.detail", breach_id=breach.id))
    return render_template("breaches/form.html", form=form, breach=breach)
