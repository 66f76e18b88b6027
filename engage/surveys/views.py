"""Survey staff pages: the builder, distribution and staff entry of responses."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import segno
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

from engage.accounts.access import EDITORS
from engage.accounts.access import READERS
from engage.accounts.access import roles_required
from engage.clock import today
from engage.clock import utcnow
from engage.edge import change
from engage.edge import saved_since_opened
from engage.errors import EngageError
from engage.extensions import db
from engage.formtools import parse_id
from engage.mail.services import absolute_url
from engage.membership import lists
from engage.once import may_repeat
from engage.surveys import answering
from engage.surveys import distribution
from engage.surveys import services
from engage.surveys.answering import LONG_TEXT_MAX
from engage.surveys.answering import SHORT_TEXT_MAX
from engage.surveys.forms import CHOOSE_KIND
from engage.surveys.forms import InviteForm
from engage.surveys.forms import QuestionForm
from engage.surveys.forms import QuestionKindForm
from engage.surveys.forms import SurveyForm
from engage.surveys.forms import answer_form
from engage.surveys.models import LIKERT_LABELS
from engage.surveys.models import Question
from engage.surveys.models import QuestionKind
from engage.surveys.models import Survey
from engage.surveys.models import SurveyStatus

bp = Blueprint("surveys", __name__, url_prefix="/surveys")


def _user() -> Any:
    return current_user._get_current_object()


def _survey(survey_id: int) -> Survey:
    survey: Survey = db.get_or_404(Survey, survey_id)
    return survey


def _to_detail(survey: Survey, anchor: str = "") -> ResponseReturnValue:
    return redirect(url_for("surveys.detail", survey_id=survey.id) + anchor)


# Surveys ------------------------------------------------------------------------------


@bp.get("/")
@roles_required(*READERS)
def index() -> ResponseReturnValue:
    surveys = services.list_surveys()
    return render_template(
        "surveys/index.html",
        surveys=surveys,
        closes={s.id: services.closes_on(s) for s in surveys},
        responses=services.response_counts(),
    )


def _survey_data(form: SurveyForm) -> services.SurveyData:
    return services.SurveyData(
        title=form.title.data or "",
        introduction=form.introduction.data or "",
        opens_on=form.opens_on.data,
        closes_on=form.closes_on.data,
        anonymous=bool(form.anonymous.data),
    )


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*EDITORS)
def create() -> ResponseReturnValue:
    form = SurveyForm()
    if form.validate_on_submit():
        with change("Survey added. Now add its questions.", field=form.title) as done:
            survey = services.create_survey(
                _survey_data(form), actor=_user(), now=utcnow()
            )
        if done:
            return _to_detail(survey)
    return render_template("surveys/form.html", form=form, survey=None)


@bp.get("/<int:survey_id>")
@roles_required(*READERS)
def detail(survey_id: int) -> ResponseReturnValue:
    survey = _survey(survey_id)
    now = utcnow()
    return render_template(
        "surveys/detail.html",
        survey=survey,
        responses=services.count_responses(survey),
        problem=services.answering_problem(survey, now),
        opening_problems=services.problems_before_opening(survey),
        opens_on=services.opens_on(survey),
        closes_on=services.closes_on(survey),
        counts=distribution.invitation_counts(survey),
    )


@bp.route("/<int:survey_id>/edit", methods=["GET", "POST"])
@roles_required(*EDITORS)
def edit(survey_id: int) -> ResponseReturnValue:
    survey = _survey(survey_id)
    form = SurveyForm()
    form.may_have_closed = survey.status is not SurveyStatus.DRAFT
    if form.validate_on_submit() and not saved_since_opened(
        form, survey.updated_at, "survey"
    ):
        with change("Survey saved.", field=form.title) as done:
            services.update_survey(
                survey, _survey_data(form), actor=_user(), now=utcnow()
            )
        if done:
            return _to_detail(survey)
    elif not form.is_submitted():
        form.title.data = survey.title
        form.introduction.data = survey.introduction
        form.opens_on.data = services.opens_on(survey)
        form.closes_on.data = services.closes_on(survey)
        form.anonymous.data = survey.anonymous
        form.opened_at.data = survey.updated_at.isoformat()
    return render_template("surveys/form.html", form=form, survey=survey)


def _act(survey: Survey, action: Any, message: str) -> None:
    """Run a POST button's service call, then commit and flash (or say why not)."""
    with change(message):
        action()


@bp.post("/<int:survey_id>/delete")
@roles_required(*EDITORS)
def delete(survey_id: int) -> ResponseReturnValue:
    survey = _survey(survey_id)
    with change("Survey deleted.") as done:
        services.delete_survey(survey, actor=_user(), now=utcnow())
    if not done:
        return _to_detail(survey)
    return redirect(url_for("surveys.index"))


@bp.post("/<int:survey_id>/open")
@roles_required(*EDITORS)
def open_survey(survey_id: int) -> ResponseReturnValue:
    survey = _survey(survey_id)
    _act(
        survey,
        lambda: services.open_survey(survey, actor=_user(), now=utcnow()),
        "Survey opened.",
    )
    return _to_detail(survey)


@bp.post("/<int:survey_id>/close")
@roles_required(*EDITORS)
def close_survey(survey_id: int) -> ResponseReturnValue:
    survey = _survey(survey_id)
    _act(
        survey,
        lambda: services.close_survey(survey, actor=_user(), now=utcnow()),
        "Survey closed. No more answers are accepted.",
    )
    return _to_detail(survey)


@bp.post("/<int:survey_id>/duplicate")
@roles_required(*EDITORS)
def duplicate(survey_id: int) -> ResponseReturnValue:
    survey = _survey(survey_id)
    with change("Survey copied as a new draft.") as done:
        copy = services.duplicate_survey(survey, actor=_user(), now=utcnow())
    return _to_detail(copy if done else survey)


@bp.get("/<int:survey_id>/preview")
@roles_required(*READERS)
def preview(survey_id: int) -> ResponseReturnValue:
    survey = _survey(survey_id)
    form = answer_form(survey)(formdata=None, meta={"csrf": False})
    return render_template("surveys/preview.html", survey=survey, form=form)


@bp.post("/<int:survey_id>/public-link")
@roles_required(*EDITORS)
def public_link(survey_id: int) -> ResponseReturnValue:
    survey = _survey(survey_id)
    replaced = survey.public_token_hash is not None
    with change(
        "New public link made. The old one no longer works."
        if replaced
        else "Public link made."
    ) as done:
        services.set_public_link(survey, actor=_user(), now=utcnow())
    if not done:
        return _to_detail(survey)
    return redirect(url_for("surveys.show_public_link", survey_id=survey.id))


def _public_address(survey: Survey) -> str | None:
    if not survey.public_token:
        return None
    return absolute_url("answer.form", token=survey.public_token)


@bp.get("/<int:survey_id>/public-link")
@roles_required(*READERS)
def show_public_link(survey_id: int) -> ResponseReturnValue:
    """The public link and its QR code, to copy or print at any time."""
    survey = _survey(survey_id)
    return render_template(
        "surveys/public_link.html", survey=survey, address=_public_address(survey)
    )


@bp.get("/<int:survey_id>/public-link/new")
@roles_required(*EDITORS)
def new_public_link(survey_id: int) -> ResponseReturnValue:
    """Confirm making a (new) public link: the old one, if any, stops working."""
    survey = _survey(survey_id)
    return render_template(
        "surveys/public_link_new.html",
        survey=survey,
        address=_public_address(survey),
    )


@bp.get("/<int:survey_id>/public-link/qr.<any(png,svg):fmt>")
@roles_required(*READERS)
def public_link_qr(survey_id: int, fmt: str) -> ResponseReturnValue:
    """The public link as a QR code, for posters: PNG or SVG."""
    survey = _survey(survey_id)
    address = _public_address(survey)
    if address is None:
        abort(404)
    image = io.BytesIO()
    segno.make(address, error="m").save(image, kind=fmt, scale=10, border=4)
    return Response(
        image.getvalue(),
        mimetype="image/png" if fmt == "png" else "image/svg+xml",
        headers={"Cache-Control": "no-store"},
    )


@bp.post("/<int:survey_id>/public-link/remove")
@roles_required(*EDITORS)
def remove_public_link(survey_id: int) -> ResponseReturnValue:
    survey = _survey(survey_id)
    _act(
        survey,
        lambda: services.remove_public_link(survey, actor=_user(), now=utcnow()),
        "The public link no longer works.",
    )
    return _to_detail(survey)


# Questions ----------------------------------------------------------------------------


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _question_data(form: QuestionForm, kind: QuestionKind) -> services.QuestionData:
    # Only the fields of this type of question are on the form (QuestionForm.for_kind).
    choices_text = form.choices_text.data if form.choices_text else ""
    return services.QuestionData(
        kind=kind,
        text=form.text.data or "",
        help_text=form.help_text.data or "",
        required=bool(form.required.data),
        choices=services.parse_choices(choices_text or ""),
        min_value=_number(form.min_value.data) if form.min_value else None,
        max_value=_number(form.max_value.data) if form.max_value else None,
    )


def _kind_page(
    survey: Survey, question: Question | None, form: QuestionKindForm
) -> ResponseReturnValue:
    """The first step: choose the type of question (a GET form, so no JavaScript)."""
    return render_template(
        "surveys/question_kind.html", survey=survey, question=question, form=form
    )


def _chosen_kind(
    form: QuestionForm, question: Question | None
) -> QuestionKind | QuestionKindForm:
    """The type of question the page is for, or the first step's form to show."""
    if form.is_submitted():
        if isinstance(form.kind.data, QuestionKind):
            return form.kind.data
        choose = QuestionKindForm(formdata=None)
        choose.kind.errors = [CHOOSE_KIND]
        return choose
    choose = QuestionKindForm(request.args)
    # The first step's form sends ``chosen`` even when no type was ticked.
    if "kind" in request.args or "chosen" in request.args:
        if not choose.validate() or "change" in request.args:
            return choose
        kind: QuestionKind = choose.kind.data
        return kind
    if question is not None and "change" not in request.args:
        return question.kind
    choose.kind.data = question.kind if question else None
    return choose


def _fill_from(form: QuestionForm, question: Question) -> None:
    form.text.data = question.text
    form.help_text.data = question.help_text
    form.required.data = question.required
    form.choices_text.data = "\n".join(c.label for c in question.choices)
    form.min_value.data = question.min_value
    form.max_value.data = question.max_value


def _question_page(survey: Survey, question: Question | None) -> ResponseReturnValue:
    """Add or edit a question: its type first, then only the fields of that type.

    ``?kind=`` carries the type from the first step (or a changed type when editing)
    and ``?change=1`` goes back to choose another; the question form sends its type
    again, hidden.
    """
    form = QuestionForm()
    kind = _chosen_kind(form, question)
    if isinstance(kind, QuestionKindForm):
        return _kind_page(survey, question, kind)
    if not form.is_submitted():
        form.kind.data = kind
        if question is not None:
            _fill_from(form, question)
    form.for_kind(kind)
    if form.validate_on_submit():

        def show(error: EngageError) -> None:
            field = form.choices_text if "choice" in error.message else form.text
            (field or form.text).errors = [error.message]

        with change("Question saved.", on_error=show) as done:
            data = _question_data(form, kind)
            if question is None:
                services.add_question(survey, data, actor=_user(), now=utcnow())
            else:
                services.update_question(question, data, actor=_user(), now=utcnow())
        if done:
            return _to_detail(survey, "#questions")
    here: dict[str, Any] = {"survey_id": survey.id}
    if question is not None:
        here["question_id"] = question.id
    return render_template(
        "surveys/question_form.html",
        survey=survey,
        question=question,
        form=form,
        kind=kind,
        scale=LIKERT_LABELS.get(kind, ()),
        short_text_max=SHORT_TEXT_MAX,
        long_text_max=LONG_TEXT_MAX,
        change_url=url_for(str(request.endpoint), **here, kind=kind.value, change=1),
    )


@bp.route("/<int:survey_id>/questions/new", methods=["GET", "POST"])
@roles_required(*EDITORS)
def add_question(survey_id: int) -> ResponseReturnValue:
    return _question_page(_survey(survey_id), None)


@bp.route("/<int:survey_id>/questions/<int:question_id>/edit", methods=["GET", "POST"])
@roles_required(*EDITORS)
def edit_question(survey_id: int, question_id: int) -> ResponseReturnValue:
    survey = _survey(survey_id)
    return _question_page(survey, services.get_question(survey, question_id))


@bp.post("/<int:survey_id>/questions/<int:question_id>/delete")
@roles_required(*EDITORS)
def delete_question(survey_id: int, question_id: int) -> ResponseReturnValue:
    survey = _survey(survey_id)
    question = services.get_question(survey, question_id)
    _act(
        survey,
        lambda: services.delete_question(question, actor=_user(), now=utcnow()),
        "Question removed.",
    )
    return _to_detail(survey, "#questions")


@bp.post("/<int:survey_id>/questions/<int:question_id>/move")
@roles_required(*EDITORS)
def move_question(survey_id: int, question_id: int) -> ResponseReturnValue:
    survey = _survey(survey_id)
    question = services.get_question(survey, question_id)
    offset = -1 if request.form.get("direction") == "up" else 1
    _act(
        survey,
        lambda: services.move_question(question, offset, actor=_user(), now=utcnow()),
        "Question moved.",
    )
    return _to_detail(survey, "#questions")


# Distribution -------------------------------------------------------------------------


def _invite_form(formdata: Any = None) -> InviteForm:
    return InviteForm(
        formdata,
        topics=lists.topic_choices(),
        practices=lists.practice_choices(),
    )


def _criteria(form: InviteForm) -> distribution.InviteCriteria:
    return distribution.InviteCriteria(
        tier=form.tier.data,
        topic_id=form.topic.data,
        practice_id=form.practice.data,
        support_need=form.support.data,
    )


def _distribution_page(survey: Survey, **extra: Any) -> str:
    return render_template(
        "surveys/distribution.html",
        survey=survey,
        counts=distribution.invitation_counts(survey),
        progress=distribution.send_progress(survey),
        due_reminders=distribution.count_due_reminders(survey),
        problem=services.answering_problem(survey, utcnow()),
        form=extra.pop("form", None) or _invite_form(),
        batch_size=distribution.BATCH_SIZE,
        **extra,
    )


@bp.get("/<int:survey_id>/invitations")
@roles_required(*READERS)
def invitations(survey_id: int) -> ResponseReturnValue:
    return _distribution_page(_survey(survey_id))


@bp.post("/<int:survey_id>/invitations/new")
@roles_required(*EDITORS)
def invite(survey_id: int) -> ResponseReturnValue:
    survey = _survey(survey_id)
    form = _invite_form(request.form)
    if not form.validate():
        return _distribution_page(survey, form=form), 400
    criteria = _criteria(form)
    if form.confirm.data != "yes":
        plan = distribution.plan_invitations(survey, criteria)
        return render_template(
            "surveys/invite_confirm.html", survey=survey, form=form, plan=plan
        )
    with change() as done:
        plan = distribution.create_invitations(
            survey, criteria, actor=_user(), now=utcnow()
        )
    if done:
        flash(
            f"{plan.by_email:,} members invited by email and {plan.by_post:,} "
            "by post. Now send the emails.",
            "success",
        )
    return redirect(url_for("surveys.invitations", survey_id=survey.id))


@bp.post("/<int:survey_id>/invitations/send")
@roles_required(*EDITORS)
def send(survey_id: int) -> ResponseReturnValue:
    survey = _survey(survey_id)
    with change() as done:
        sent = distribution.send_invitations(survey, actor=_user(), now=utcnow())
    if not done:
        return redirect(url_for("surveys.invitations", survey_id=survey.id))
    return _distribution_page(survey, just_sent=sent)


@bp.post("/<int:survey_id>/invitations/remind")
@roles_required(*EDITORS)
def remind(survey_id: int) -> ResponseReturnValue:
    survey = _survey(survey_id)
    after = request.form.get("after", "0")
    with change() as done:
        batch = distribution.send_reminders(
            survey,
            actor=_user(),
            now=utcnow(),
            after_id=int(after) if after.isdigit() else 0,
        )
    if not done:
        return redirect(url_for("surveys.invitations", survey_id=survey.id))
    return _distribution_page(survey, reminders=batch)


@bp.get("/<int:survey_id>/post-list")
@roles_required(*EDITORS)
def post_list(survey_id: int) -> ResponseReturnValue:
    survey = _survey(survey_id)
    return render_template(
        "surveys/post_list.html", survey=survey, rows=distribution.post_list(survey)
    )


@bp.get("/<int:survey_id>/post-list.<any(csv,xlsx):fmt>")
@roles_required(*EDITORS)
def export_post_list(survey_id: int, fmt: str) -> ResponseReturnValue:
    survey = _survey(survey_id)
    filename, mimetype, content = distribution.export_post_list(
        survey, fmt, actor=_user(), now=utcnow()
    )
    db.session.commit()
    return Response(
        content,
        content_type=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


# Staff entry of paper and phone responses --------------------------------------------


@bp.route("/<int:survey_id>/responses/new", methods=["GET", "POST"])
@may_repeat  # many paper responses say the same
@roles_required(*EDITORS)
def enter_response(survey_id: int) -> ResponseReturnValue:
    survey = _survey(survey_id)
    form = answer_form(survey, staff=True)()
    problem = None
    if not form.is_submitted():
        form.submitted_on.data = today()
    elif _received_on_a_possible_day(form, survey):
        with change("Response saved. You can enter the next one.") as done:
            answering.record_staff_response(
                survey,
                form.values(),
                source=form.source.data,
                submitted_on=form.submitted_on.data,
                invitation_id=parse_id(form.invitation.data),
                actor=_user(),
                now=utcnow(),
            )
        if not done:
            problem = done.error.message if done.error else None
        else:
            return redirect(url_for("surveys.enter_response", survey_id=survey.id))
    return render_template(
        "surveys/entry.html", survey=survey, form=form, problem=problem
    )


def _received_on_a_possible_day(form: Any, survey: Survey) -> bool:
    """Whether the entry form is valid, its date received included (an error at
    that field otherwise)."""
    valid = form.validate()
    if form.submitted_on.data is not None:
        problem = answering.received_problem(form.submitted_on.data, now=utcnow())
        if problem:
            form.submitted_on.errors = [*form.submitted_on.errors, problem]
            return False
    return bool(valid)


# The "you said, we did" pages are routes of this blueprint too, in their own module
# (imported last: it takes ``bp`` and the helpers above from this one).
from engage.surveys import findings_views  # noqa: E402, F401
