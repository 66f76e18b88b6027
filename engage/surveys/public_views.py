"""Public survey pages: answering through ``/s/<token>`` and "you said, we did".

Nothing here stores an IP address, user agent or session id with an answer
(docs/security.md D8); the rate limiter counts requests in its own store only.
"""

from __future__ import annotations

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import redirect
from flask import render_template
from flask import url_for
from flask.typing import ResponseReturnValue

from engage.clock import utcnow
from engage.edge import change
from engage.edge import csrf_token_valid
from engage.edge import refuse_tokenless_post
from engage.errors import NotFound
from engage.extensions import csrf
from engage.extensions import db
from engage.extensions import limiter
from engage.surveys import answering
from engage.surveys import findings
from engage.surveys.answering import AlreadyAnswered
from engage.surveys.answering import SurveyNotOpen
from engage.surveys.answering import Target
from engage.surveys.disclosure import Purpose
from engage.surveys.disclosure import suppresses
from engage.surveys.forms import AnswerForm
from engage.surveys.forms import answer_form
from engage.surveys.models import ResponseSource
from engage.surveys.models import Survey
from engage.surveys.results.frames import Filters
from engage.surveys.results.reports import results_for
from engage.surveys.services import answering_problem

bp = Blueprint("answer", __name__)

CSRF_EXPIRED = (
    "Your session expired before you sent your answers. Your answers are below: "
    "check them and send them again."
)


def _answer_limit() -> str:
    return str(current_app.config["SURVEY_ANSWER_LIMIT"])


def _target(token: str) -> Target:
    try:
        return answering.find_target(token)
    except NotFound:
        refuse_tokenless_post()
        raise


def _page(
    target: Target, form: AnswerForm, *, status: int = 200, problem: str | None = None
) -> ResponseReturnValue:
    return (
        render_template(
            "surveys/public/answer.html",
            survey=target.survey,
            form=form,
            problem=problem,
        ),
        status,
    )


# The answer form checks its own CSRF token, so that an expired one keeps the answers
# (CSRFProtect would answer with an error page and lose them), as /join does.
@bp.route("/s/<token>", methods=["GET", "POST"])
@csrf.exempt
@limiter.limit(_answer_limit, methods=["POST"])
def form(token: str) -> ResponseReturnValue:
    target = _target(token)
    survey = target.survey
    if target.invitation is not None and target.invitation.answered_at is not None:
        return render_template("surveys/public/already_answered.html", survey=survey)
    now = utcnow()
    problem = answering_problem(survey, now)
    if problem:
        return _closed(survey, problem)
    form = answer_form(survey)()
    if not form.is_submitted():
        return _page(target, form)
    if not csrf_token_valid():
        return _page(target, form, status=400, problem=CSRF_EXPIRED)
    if not form.validate():
        return _page(target, form)  # the error summary links each problem
    if form.is_bot():
        return _thanked(token)
    # A refusal is shown by the page that follows, chosen by its kind.
    with change(on_error=lambda error: None) as done:
        answering.record_response(
            survey,
            form.values(),
            source=ResponseSource.WEB,
            now=now,
            invitation=target.invitation,
        )
    if done:
        return _thanked(token)
    if isinstance(done.error, AlreadyAnswered):
        return render_template("surveys/public/already_answered.html", survey=survey)
    if isinstance(done.error, SurveyNotOpen):
        return _closed(survey, done.error.message)
    return _page(target, form, problem=done.error.message if done.error else None)


def _thanked(token: str) -> ResponseReturnValue:
    """On to the thank-you page by a GET of its own: reloading it, or going back to
    it, cannot send the answers a second time."""
    return redirect(url_for(".thank_you", token=token), code=303)


@bp.get("/s/<token>/thank-you")
def thank_you(token: str) -> ResponseReturnValue:
    target = _target(token)
    return render_template("surveys/public/thank_you.html", survey=target.survey)


def _closed(survey: Survey, problem: str) -> ResponseReturnValue:
    return (
        render_template("surveys/public/closed.html", survey=survey, problem=problem),
        410 if "closed" in problem else 200,
    )


@bp.get("/surveys/<int:survey_id>/you-said-we-did")
def you_said_we_did(survey_id: int) -> ResponseReturnValue:
    survey = db.session.get(Survey, survey_id)
    if survey is None or not survey.results_published:
        abort(404)
    # The figures of the questions the findings are about, suppressed as anything
    # published is (engage.surveys.disclosure): the same as the publication download.
    results = results_for(
        survey, Filters(), suppress=suppresses(Purpose.PUBLIC_PAGE, None, survey)
    )
    return render_template(
        "surveys/public/you_said_we_did.html",
        survey=survey,
        findings=findings.list_findings(survey, published_only=True),
        results=results,
        figures={q.id: q for q in results.questions if q.shown and q.counts},
    )
