"""Admin pages for reach-figure labels: each label's stage, unit and rate."""

from __future__ import annotations

from flask import Blueprint
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from engage.accounts.access import ADMINS
from engage.accounts.access import roles_required
from engage.clock import utcnow
from engage.edge import change
from engage.extensions import db
from engage.formtools import choices
from engage.metrics import stages
from engage.metrics.forms import ReachLabelForm
from engage.metrics.models import ReachLabel
from engage.metrics.models import Stage

bp = Blueprint("reach_labels", __name__, url_prefix="/admin/reach-labels")


@bp.get("/")
@roles_required(*ADMINS)
def index() -> ResponseReturnValue:
    return render_template(
        "metrics/labels.html", labels=stages.list_labels(), stages=list(Stage)
    )


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*ADMINS)
def create() -> ResponseReturnValue:
    # A label already used on deliveries but not saved yet comes with its defaults.
    asked = request.args.get("label", "", type=str)[:100]
    return _label_form(None, stages.default_setting(asked) if asked.strip() else None)


@bp.route("/<int:label_id>/edit", methods=["GET", "POST"])
@roles_required(*ADMINS)
def edit(label_id: int) -> ResponseReturnValue:
    return _label_form(db.get_or_404(ReachLabel, label_id), None)


def _label_form(
    row: ReachLabel | None, defaults: stages.LabelSetting | None
) -> ResponseReturnValue:
    start = row or defaults
    form = ReachLabelForm(
        obj=start,
        stage=start.stage.value if start else None,
    )
    units = stages.output_units()
    current = start.rate_of if start else ""
    form.rate_of.choices = choices(
        [
            ("", "Not a rate (a count on its own)"),
            *((unit, f"{unit} (output)") for unit in units),
            *([(current, current)] if current and current not in units else []),
        ]
    )
    if row is not None:
        del form.label  # the label is the key: it is not changed here
    if form.validate_on_submit():
        with change("Label saved.", field=form.unit if row else form.label) as done:
            stages.save_label(
                row.label if row is not None else form.label.data,
                stage=form.stage.data,
                unit=form.unit.data,
                rate_of=form.rate_of.data or "",
                actor=current_user,
                now=utcnow(),
                new=row is None,
            )
        if done:
            return redirect(url_for("reach_labels.index"))
    return render_template("metrics/label_form.html", form=form, row=row)
