"""Survey results pages: results, cross-tabulation, free text, exports and imports."""

from __future__ import annotations

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
from werkzeug.routing import BuildError

from engage.accounts.access import EDITORS
from engage.accounts.access import READERS
from engage.accounts.access import roles_required
from engage.accounts.models import Role
from engage.clock import utcnow
from engage.edge import change
from engage.errors import PermissionDenied
from engage.extensions import db
from engage.formtools import id_or_none
from engage.imports.forms import UploadForm
from engage.imports.services import ExportFile
from engage.membership.equality import QUESTIONS as EQUALITY_QUESTIONS
from engage.membership.models import Tier
from engage.paging import keyset_page
from engage.surveys.disclosure import Purpose
from engage.surveys.disclosure import suppresses
from engage.surveys.models import Question
from engage.surveys.models import QuestionKind
from engage.surveys.models import Survey
from engage.surveys.results import export
from engage.surveys.results import importing
from engage.surveys.results import reports
from engage.surveys.results.forms import CrossTabForm
from engage.surveys.results.forms import ResultsFilterForm
from engage.surveys.results.forms import TextSearchForm
from engage.surveys.results.frames import Filters
from engage.surveys.results.frames import load_frames
from engage.surveys.results.segments import EQUALITY_PREFIX
from engage.surveys.results.segments import cross_tab
from engage.surveys.results.segments import record_equality_view
from engage.surveys.results.segments import response_rate
from engage.surveys.results.segments import segment_labels

bp = Blueprint("survey_results", __name__, url_prefix="/surveys")

#: Free-text answers on a page.
PER_PAGE = 50

SEGMENT_LABELS = {"tier": "Tier", "practice": "GP practice", "topic": "Topic"}
TABLE_KINDS = (
    QuestionKind.SINGLE_CHOICE,
    QuestionKind.MULTIPLE_CHOICE,
    QuestionKind.LIKERT_AGREEMENT,
    QuestionKind.LIKERT_SATISFACTION,
    QuestionKind.RATING_0_10,
)


def _survey(survey_id: int) -> Survey:
    return db.get_or_404(Survey, survey_id)


def _back_url(survey: Survey) -> str:
    # The survey's own page belongs to the surveys blueprint, built alongside.
    try:
        return url_for("surveys.detail", survey_id=survey.id)
    except BuildError:
        return "/surveys"


def _filter_form() -> tuple[ResultsFilterForm, Filters]:
    form = ResultsFilterForm(
        request.args,
        tiers=[(t.value, t.value.capitalize()) for t in Tier],
        practices=sorted(segment_labels("practice").items(), key=_by_label),
        topics=sorted(segment_labels("topic").items(), key=_by_label),
    )
    if not form.validate():
        return form, Filters()
    return form, Filters(
        tier=form.tier.data or None,
        practice_id=form.practice.data,
        topic_id=form.topic.data,
    )


def _by_label(item: tuple[object, str]) -> str:
    return item[1].casefold()


def _suppress(survey: Survey, purpose: Purpose) -> bool:
    """Whether the signed-in viewer sees small numbers suppressed for ``purpose``."""
    return suppresses(purpose, current_user._get_current_object(), survey)


@bp.get("/<int:survey_id>/results")
@roles_required(*READERS)
def index(survey_id: int) -> ResponseReturnValue:
    survey = _survey(survey_id)
    form, filters = _filter_form()
    suppress = _suppress(survey, Purpose.TEAM)
    results = reports.results_for(survey, filters, suppress=suppress)
    return render_template(
        "surveys/results/index.html",
        survey=survey,
        back_url=_back_url(survey),
        form=form,
        filters=filters,
        results=results,
        rate=response_rate(survey, suppress=suppress),
        segment_labels=SEGMENT_LABELS,
    )


def _segments(survey: Survey) -> list[tuple[object, str]]:
    segments: list[tuple[object, str]] = list(SEGMENT_LABELS.items())
    if current_user.role is Role.ADMIN and not survey.anonymous:
        segments += [
            (EQUALITY_PREFIX + q.field, f"Equality: {q.text}")
            for q in EQUALITY_QUESTIONS
        ]
    return segments


@bp.get("/<int:survey_id>/results/crosstab")
@roles_required(*READERS)
def crosstab(survey_id: int) -> ResponseReturnValue:
    survey = _survey(survey_id)
    tabled = [q for q in survey.questions if q.kind in TABLE_KINDS]
    form = CrossTabForm(
        request.args,
        questions=[(q.id, f"{q.position}. {q.text}") for q in tabled],
        segments=_segments(survey),
    )
    segment = request.args.get("by", "tier")
    if segment.startswith(EQUALITY_PREFIX) and (
        current_user.role is not Role.ADMIN or survey.anonymous
    ):
        raise PermissionDenied(
            "Only administrators may break results down by equality answers, and "
            "only for surveys that are not anonymous."
        )
    table = None
    if tabled and form.validate() and segment in dict(_segments(survey)):
        chosen = form.question.data
        question = next((q for q in tabled if q.id == chosen), tabled[0])
        form.question.data = question.id
        frames = load_frames(survey.id)
        purpose = (
            Purpose.EQUALITY_BREAKDOWN
            if segment.startswith(EQUALITY_PREFIX)
            else Purpose.TEAM
        )
        table = cross_tab(
            question,
            segment,
            frames,
            segment_labels(segment),
            suppress=_suppress(survey, purpose),
        )
        if segment.startswith(EQUALITY_PREFIX):
            record_equality_view(
                survey.id,
                segment,
                actor=current_user._get_current_object(),
                now=utcnow(),
            )
            db.session.commit()
    return render_template(
        "surveys/results/crosstab.html",
        survey=survey,
        form=form,
        table=table,
        segment_label=dict(_segments(survey)).get(segment, ""),
    )


@bp.get("/<int:survey_id>/results/questions/<int:question_id>/answers")
@roles_required(*READERS)
def text_answers(survey_id: int, question_id: int) -> ResponseReturnValue:
    survey = _survey(survey_id)
    question = db.get_or_404(Question, question_id)
    if question.survey_id != survey.id or not question.kind.is_text:
        abort(404)
    form = TextSearchForm(request.args)
    search = form.q.data if form.validate() and form.q.data else ""
    page = None
    if reports.shows_free_text(survey):
        query = reports.text_answer_query(question, search=search)
        page = keyset_page(query, reports.TEXT_ANSWER_ORDER, per_page=PER_PAGE)
    return render_template(
        "surveys/results/text.html",
        survey=survey,
        question=question,
        form=form,
        search=search,
        page=page,
    )


def _download(exported: ExportFile) -> Response:
    return Response(
        exported.content,
        content_type=exported.mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{exported.filename}"',
            "Cache-Control": "no-store",
        },
    )


def _results_download(survey_id: int, fmt: str, purpose: Purpose) -> Response:
    survey = _survey(survey_id)
    _, filters = _filter_form()
    exported = export.export_results(
        survey,
        reports.results_for(survey, filters, suppress=_suppress(survey, purpose)),
        fmt,
        actor=current_user._get_current_object(),
        now=utcnow(),
        for_publication=purpose is Purpose.PUBLICATION,
    )
    db.session.commit()
    return _download(exported)


@bp.get("/<int:survey_id>/results/export.<any(csv,xlsx):fmt>")
@roles_required(*READERS)
def export_results(survey_id: int, fmt: str) -> ResponseReturnValue:
    """The results as the team sees them on the results page."""
    return _results_download(survey_id, fmt, Purpose.TEAM)


@bp.get("/<int:survey_id>/results/publication.<any(csv,xlsx):fmt>")
@roles_required(*READERS)
def export_for_publication(survey_id: int, fmt: str) -> ResponseReturnValue:
    """The results with small counts suppressed, as the public page shows them."""
    return _results_download(survey_id, fmt, Purpose.PUBLICATION)


@bp.get("/<int:survey_id>/responses/export.<any(csv,xlsx):fmt>")
@roles_required(*EDITORS)
def export_responses(survey_id: int, fmt: str) -> ResponseReturnValue:
    exported = export.export_responses(
        _survey(survey_id), fmt, actor=current_user._get_current_object(), now=utcnow()
    )
    db.session.commit()
    return _download(exported)


# Importing other tools' exports ------------------------------------------------------


@bp.route("/<int:survey_id>/responses/import", methods=["GET", "POST"])
@roles_required(*EDITORS)
def import_responses(survey_id: int) -> ResponseReturnValue:
    survey = _survey(survey_id)
    form = UploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        preview, pending = importing.prepare_responses(
            survey,
            upload.filename or "",
            upload.read(),
            actor=current_user._get_current_object(),
            now=utcnow(),
        )
        db.session.commit()
        if pending is not None:
            return _preview_page(survey, preview, pending.id)
        form.file.errors.append(preview.file_error)
    return render_template(
        "surveys/results/import_upload.html", survey=survey, form=form
    )


def _preview_page(
    survey: Survey, preview: importing.ResponsesPreview, pending_id: int
) -> str:
    return render_template(
        "surveys/results/import_preview.html",
        survey=survey,
        preview=preview,
        pending_id=pending_id,
        questions=[(q.id, f"{q.position}. {q.text}") for q in survey.questions],
    )


def _posted_mapping(preview_columns: list[str]) -> dict[str, int | None]:
    return {key: id_or_none(request.form.get(f"map-{key}")) for key in preview_columns}


#: The preview's answers to "how are the dates written?" (anything else: no answer).
DATE_ORDERS = {"day-first": True, "month-first": False}


@bp.post("/<int:survey_id>/responses/import/<int:pending_id>")
@roles_required(*EDITORS)
def confirm_import(survey_id: int, pending_id: int) -> ResponseReturnValue:
    survey = _survey(survey_id)
    user = current_user._get_current_object()
    pending = importing.get_pending_responses(
        survey, pending_id, user=user, now=utcnow()
    )
    first = importing.recheck_responses(survey, pending, {})
    mapping = _posted_mapping([c.key for c in first.columns])
    day_first = DATE_ORDERS.get(request.form.get("dates", ""))
    if request.form.get("action") != "import":
        preview = importing.recheck_responses(
            survey, pending, mapping, day_first=day_first
        )
        return _preview_page(survey, preview, pending.id)
    # A refused import shows its preview again, which lists every problem.
    with change(on_error=lambda error: None) as done:
        imported = importing.confirm_responses(
            survey, pending, mapping, actor=user, now=utcnow(), day_first=day_first
        )
    if not done:
        preview = importing.recheck_responses(
            survey, pending, mapping, day_first=day_first
        )
        return _preview_page(survey, preview, pending.id), 422
    flash(f"Import finished: {imported.summary()}.", "success")
    return redirect(url_for("survey_results.index", survey_id=survey.id))
