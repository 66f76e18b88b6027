"""Survey staff pages of "you said, we did": findings, publishing, telling members.

The routes belong to the surveys blueprint (``engage.surveys.views.bp``), which
imports this module, so their endpoints are ``surveys.<name>`` like the others.
"""

from __future__ import annotations

from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from engage.accounts.access import EDITORS
from engage.accounts.access import READERS
from engage.accounts.access import roles_required
from engage.clock import utcnow
from engage.edge import change
from engage.extensions import db
from engage.surveys import distribution
from engage.surveys import findings
from engage.surveys.forms import FindingForm
from engage.surveys.models import Finding
from engage.surveys.models import Survey
from engage.surveys.views import _survey
from engage.surveys.views import _user
from engage.surveys.views import bp


@bp.get("/<int:survey_id>/findings")
@roles_required(*READERS)
def findings_page(survey_id: int) -> ResponseReturnValue:
    survey = _survey(survey_id)
    return render_template(
        "surveys/findings.html",
        survey=survey,
        findings=findings.list_findings(survey),
    )


def _finding_form(survey: Survey) -> FindingForm:
    from engage.actions.models import Action

    actions = db.session.execute(select(Action.id, Action.title).order_by(Action.title))
    return FindingForm(
        questions=[(q.id, f"{q.position}. {q.text}") for q in survey.questions],
        actions=[(a_id, title) for a_id, title in actions],
    )


def _finding_page(survey: Survey, finding: Finding | None) -> ResponseReturnValue:
    form = _finding_form(survey)
    if form.validate_on_submit():
        data = findings.FindingData(
            theme=form.theme.data or "",
            you_said=form.you_said.data or "",
            we_did=form.we_did.data or "",
            question_id=form.question.data,
            action_ids=list(form.actions.data or ()),
            published=bool(form.published.data),
        )
        with change("Finding saved.", field=form.theme) as done:
            findings.save_finding(survey, finding, data, actor=_user(), now=utcnow())
        if done:
            return redirect(url_for("surveys.findings_page", survey_id=survey.id))
    elif not form.is_submitted() and finding is not None:
        form.theme.data = finding.theme
        form.you_said.data = finding.you_said
        form.we_did.data = finding.we_did
        form.question.data = finding.question_id
        form.actions.data = [a.id for a in finding.actions]
        form.published.data = finding.published
    return render_template(
        "surveys/finding_form.html", survey=survey, finding=finding, form=form
    )


@bp.route("/<int:survey_id>/findings/new", methods=["GET", "POST"])
@roles_required(*EDITORS)
def add_finding(survey_id: int) -> ResponseReturnValue:
    return _finding_page(_survey(survey_id), None)


@bp.route("/<int:survey_id>/findings/<int:finding_id>/edit", methods=["GET", "POST"])
@roles_required(*EDITORS)
def edit_finding(survey_id: int, finding_id: int) -> ResponseReturnValue:
    survey = _survey(survey_id)
    return _finding_page(survey, findings.get_finding(survey, finding_id))


@bp.post("/<int:survey_id>/findings/<int:finding_id>/delete")
@roles_required(*EDITORS)
def delete_finding(survey_id: int, finding_id: int) -> ResponseReturnValue:
    survey = _survey(survey_id)
    finding = findings.get_finding(survey, finding_id)
    with change("Finding deleted."):
        findings.delete_finding(finding, actor=_user(), now=utcnow())
    return redirect(url_for("surveys.findings_page", survey_id=survey.id))


@bp.post("/<int:survey_id>/findings/publish")
@roles_required(*EDITORS)
def publish_findings(survey_id: int) -> ResponseReturnValue:
    survey = _survey(survey_id)
    published = request.form.get("published") == "yes"
    message = (
        "The public page is showing." if published else "The public page is hidden."
    )
    with change(message):
        findings.publish_findings(survey, published, actor=_user(), now=utcnow())
    return redirect(url_for("surveys.findings_page", survey_id=survey.id))


@bp.post("/<int:survey_id>/findings/tell")
@roles_required(*EDITORS)
def tell_participants(survey_id: int) -> ResponseReturnValue:
    survey = _survey(survey_id)
    with change() as done:
        told = distribution.tell_participants(survey, actor=_user(), now=utcnow())
    if done:
        flash(f"{told:,} members who took part were told by email.", "success")
    return redirect(url_for("surveys.findings_page", survey_id=survey.id))
