"""Staff pages for an activity's outcome: what we heard and what changed."""

from __future__ import annotations

from flask import Blueprint
from flask import abort
from flask import redirect
from flask import render_template
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm

from engage import clock
from engage.accounts.access import EDITORS
from engage.accounts.access import roles_required
from engage.edge import change
from engage.extensions import db
from engage.formtools import MultiCheckboxField
from engage.formtools import choices
from engage.formtools import parse_id
from engage.formtools import text
from engage.involvement import outcomes
from engage.involvement.models import InvolvementActivity

bp = Blueprint("involvement_outcomes", __name__, url_prefix="/involvement")


class OutcomeForm(FlaskForm):  # type: ignore[misc]
    """What we heard, what changed, and the findings and actions linked."""

    what_we_heard = text(
        "What we heard",
        description="What people told us, in plain words. No names.",
        max_length=outcomes.MAX_HEARD,
        lines=True,
    )
    what_changed = text(
        "What changed",
        description="What we did or changed because of it, or what will change.",
        max_length=outcomes.MAX_CHANGED,
        lines=True,
    )
    finding_ids = MultiCheckboxField(
        "\u201cYou said, we did\u201d findings",
        description="Published findings this activity fed into.",
        parse=parse_id,
    )
    action_ids = MultiCheckboxField(
        "Actions in the plan that changed",
        parse=parse_id,
    )


def activity_url(activity: InvolvementActivity) -> str:
    """The activity's own page."""
    return url_for("involvement.detail", activity_id=activity.id)


@bp.route("/<int:activity_id>/outcome", methods=["GET", "POST"])
@roles_required(*EDITORS)
def outcome(activity_id: int) -> ResponseReturnValue:
    activity = db.session.get(InvolvementActivity, activity_id)
    if activity is None:
        abort(404)
    form = OutcomeForm(
        data={
            "what_we_heard": activity.what_we_heard,
            "what_changed": activity.what_changed,
            "finding_ids": [f.id for f in activity.findings],
            "action_ids": [a.id for a in activity.changed_actions],
        }
    )
    form.finding_ids.choices = choices(outcomes.finding_choices())
    form.action_ids.choices = choices(outcomes.action_choices())
    if form.validate_on_submit():
        data = outcomes.OutcomeData(
            what_we_heard=form.what_we_heard.data or "",
            what_changed=form.what_changed.data or "",
            finding_ids=[i for i in form.finding_ids.data or [] if i is not None],
            action_ids=[i for i in form.action_ids.data or [] if i is not None],
        )
        with change("Outcome saved.", field=form.what_we_heard) as done:
            outcomes.record_outcome(
                activity, data, actor=current_user, now=clock.utcnow()
            )
        if done:
            return redirect(activity_url(activity))
    return render_template(
        "involvement/outcome.html",
        form=form,
        activity=activity,
        back_href=activity_url(activity),
    )
