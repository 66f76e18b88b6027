"""API views: read-only JSON under /api/v1 (bearer tokens only) and token management.

Authentication is by ``Authorization: Bearer <token>`` alone: a session cookie is
ignored, so there is no CSRF exposure, and no CORS headers are sent. Every error
under /api/ is JSON (see engage.http). Members appear only as aggregate counts.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from typing import cast

from flask import Blueprint
from flask import Flask
from flask import abort
from flask import flash
from flask import g
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.blueprints import BlueprintSetupState
from flask.sessions import SecureCookieSessionInterface
from flask.sessions import SessionMixin
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_login import login_required
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from engage import clock
from engage.accounts.models import Role
from engage.accounts.models import User
from engage.actions.models import Action
from engage.actions.models import ActionStatus
from engage.actions.services import ActionFilter
from engage.actions.services import action_query
from engage.api import serialise
from engage.api.openapi import openapi_document
from engage.api.tokens import authenticate
from engage.api.tokens import create_api_token
from engage.api.tokens import revoke_api_token
from engage.audiences.models import Approach
from engage.audiences.models import Audience
from engage.audiences.models import AudienceGroup
from engage.audiences.models import Programme
from engage.audiences.services import AudienceFilter
from engage.audiences.services import audience_query
from engage.clock import today
from engage.clock import utcnow
from engage.dashboard import periods
from engage.dashboard.sections import Scope
from engage.dashboard.services import build_dashboard
from engage.errors import ValidationError
from engage.extensions import db
from engage.extensions import limiter
from engage.formtools import MAX_INT
from engage.metrics.models import Metric
from engage.metrics.models import MetricKind
from engage.metrics.models import Observation
from engage.metrics.models import Source
from engage.relationships.models import Commitment
from engage.relationships.models import CommitmentStatus
from engage.relationships.models import Interaction
from engage.relationships.models import InteractionStatus
from engage.relationships.models import interaction_audiences
from engage.surveys.disclosure import Purpose
from engage.surveys.disclosure import suppresses
from engage.surveys.models import Survey
from engage.surveys.models import SurveyStatus
from engage.surveys.results.frames import Filters
from engage.surveys.results.reports import results_for

bp = Blueprint("api", __name__, url_prefix="/api/v1")
tokens_bp = Blueprint("api_tokens", __name__)


class _SessionInterface(SecureCookieSessionInterface):
    """The app's cookie sessions, except that API responses never set the cookie."""

    def should_set_cookie(self, app: Flask, session: SessionMixin) -> bool:
        if request.blueprint == "api":
            return False
        return super().should_set_cookie(app, session)


@bp.record_once
def _install_session_interface(state: BlueprintSetupState) -> None:
    app = cast(Flask, state.app)
    if type(app.session_interface) is SecureCookieSessionInterface:
        app.session_interface = _SessionInterface()


MAX_LIMIT = 100
DEFAULT_LIMIT = 25
MAX_OFFSET = 1_000_000
#: Which roles may read each resource; today every staff role reads everything.
READ_ROLES = (Role.ADMIN, Role.OFFICER, Role.LEAD)


def api_error(status: int, message: str) -> ResponseReturnValue:
    """The JSON body every API error has."""
    response = jsonify(error={"status": status, "message": message})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="engage"'
    return response


@bp.before_request
def _authenticate() -> ResponseReturnValue | None:
    if request.endpoint == "api.openapi":
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    user = None
    if scheme.lower() == "bearer" and secret.strip():
        user = authenticate(secret.strip(), now=utcnow())
        db.session.commit()  # last_used_at
    if user is None:
        return api_error(401, "A valid API token is required (Authorization: Bearer).")
    if not user.has_role(*READ_ROLES):
        return api_error(403, "Your role may not use the API.")
    g.api_user = user
    return None


# Parameters ---------------------------------------------------------------------------


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit():
        raise ValidationError(f"{name} must be a whole number.")
    value = int(raw)
    if not low <= value <= high:
        raise ValidationError(f"{name} must be from {low} to {high}.")
    return value


def _optional_id(name: str) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    return _int_arg(name, 0, 1, MAX_INT)


def _date_arg(name: str) -> date | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    try:
        return date.fromisoformat(raw) if len(raw) == 10 else _bad_date(name)
    except ValueError:
        return _bad_date(name)


def _bad_date(name: str) -> date:
    raise ValidationError(f"{name} must be a date like 2026-07-31.")


def _enum_arg(name: str, enum_type: Any) -> Any:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    try:
        return enum_type(raw)
    except ValueError:
        allowed = ", ".join(m.value for m in enum_type)
        raise ValidationError(f"{name} must be one of: {allowed}.") from None


def _bool_arg(name: str) -> bool:
    raw = request.args.get(name, "")
    if raw in ("", "false", "0"):
        return False
    if raw in ("true", "1"):
        return True
    raise ValidationError(f"{name} must be true or false.")


def _page(query: Any) -> tuple[list[Any], dict[str, int]]:
    limit = _int_arg("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = _int_arg("offset", 0, 0, MAX_OFFSET)
    total = db.session.scalar(
        select(func.count()).select_from(query.order_by(None).subquery())
    )
    items = list(db.session.scalars(query.limit(limit).offset(offset)))
    return items, {"total": int(total or 0), "limit": limit, "offset": offset}


# Resources ----------------------------------------------------------------------------


@bp.get("/openapi.json")
@limiter.exempt
def openapi() -> ResponseReturnValue:
    return jsonify(openapi_document())


@bp.get("/summary")
def summary() -> ResponseReturnValue:
    today = clock.today()
    period = periods.parse_period(
        request.args.get("period"),
        request.args.get("value"),
        start=_date_arg("start"),
        end=_date_arg("end"),
        today=today,
    )
    programme_id = _optional_id("programme_id")
    programme = None
    if programme_id is not None:
        programme = db.session.get(Programme, programme_id)
        if programme is None:
            abort(404)
    # Never the equality aggregates: the API gives membership as counts only.
    scope = Scope(period=period, today=today, programme=programme, purpose=Purpose.API)
    return jsonify(serialise.summary(scope, build_dashboard(scope)))


@bp.get("/actions")
def actions() -> ResponseReturnValue:
    today = clock.today()
    criteria = ActionFilter(
        status=_enum_arg("status", ActionStatus),
        programme_id=_optional_id("programme_id"),
        channel_id=_optional_id("channel_id"),
        due_from=_date_arg("due_from"),
        due_to=_date_arg("due_to"),
        overdue=_bool_arg("overdue"),
    )
    items, page = _page(action_query(criteria, today=today))
    return jsonify(items=[serialise.action(a, today) for a in items], **page)


@bp.get("/actions/<int:action_id>")
def action(action_id: int) -> ResponseReturnValue:
    found = db.session.get(Action, action_id)
    if found is None:
        abort(404)
    return jsonify(serialise.action(found, today(), detail=True))


@bp.get("/audiences")
def audiences() -> ResponseReturnValue:
    criteria = AudienceFilter(
        group=_enum_arg("group", AudienceGroup),
        approach=_enum_arg("approach", Approach),
        include_archived=_bool_arg("include_archived"),
    )
    items, page = _page(audience_query(criteria))
    statuses = serialise.contact(items, today())
    return jsonify(items=[serialise.audience(a, statuses[a.id]) for a in items], **page)


@bp.get("/audiences/<int:audience_id>")
def audience(audience_id: int) -> ResponseReturnValue:
    found = db.session.scalar(
        select(Audience)
        .options(selectinload(Audience.overrides))
        .where(Audience.id == audience_id)
    )
    if found is None:
        abort(404)
    statuses = serialise.contact([found], today())
    return jsonify(serialise.audience(found, statuses[found.id], detail=True))


@bp.get("/metrics")
def metrics() -> ResponseReturnValue:
    query = (
        select(Metric)
        .options(selectinload(Metric.channel))
        .order_by(Metric.name, Metric.id)
    )
    kind = _enum_arg("kind", MetricKind)
    if kind is not None:
        query = query.where(Metric.kind == kind)
    items, page = _page(query)
    return jsonify(items=[serialise.metric(m) for m in items], **page)


@bp.get("/metrics/<string(maxlength=100):key>")
def metric(key: str) -> ResponseReturnValue:
    """A metric and a page of its observations (oldest first), by date and source."""
    found = db.session.scalar(
        select(Metric).options(selectinload(Metric.channel)).where(Metric.key == key)
    )
    if found is None:
        abort(404)
    start, end = _date_arg("start"), _date_arg("end")
    if start is not None and end is not None and end < start:
        raise ValidationError("end must be on or after start.")
    source = _enum_arg("source", Source)
    query = (
        select(Observation)
        .where(Observation.metric_id == found.id)
        .order_by(Observation.observed_on, Observation.source)
    )
    if start is not None:
        query = query.where(Observation.observed_on >= start)
    if end is not None:
        query = query.where(Observation.observed_on <= end)
    if source is not None:
        query = query.where(Observation.source == source)
    items, page = _page(query)
    return jsonify(
        {
            **serialise.metric(found),
            "observations": {
                "items": [serialise.observation(o) for o in items],
                **page,
            },
        }
    )


@bp.get("/surveys")
def surveys() -> ResponseReturnValue:
    """Surveys that have opened (never drafts), newest first."""
    query = (
        select(Survey)
        .where(Survey.status != SurveyStatus.DRAFT)
        .order_by(Survey.id.desc())
    )
    items, page = _page(query)
    return jsonify(items=[serialise.survey(s) for s in items], **page)


@bp.get("/surveys/<int:survey_id>/results")
def survey_results(survey_id: int) -> ResponseReturnValue:
    """A survey's results with small counts suppressed, as published figures are."""
    found = db.session.get(Survey, survey_id)
    if found is None or found.status is SurveyStatus.DRAFT:
        abort(404)
    suppress = suppresses(Purpose.API, g.api_user, found)
    results = results_for(found, Filters(), suppress=suppress)
    return jsonify(serialise.survey_results(found, results))


def _period() -> tuple[date | None, date | None]:
    since, until = _date_arg("since"), _date_arg("until")
    if since is not None and until is not None and until < since:
        raise ValidationError("until must be on or after since.")
    return since, until


@bp.get("/interactions")
def interactions() -> ResponseReturnValue:
    """Confirmed interactions, newest first, without personal data."""
    audience_id = _optional_id("audience_id")
    since, until = _period()
    query = (
        select(Interaction)
        .where(Interaction.status == InteractionStatus.CONFIRMED)
        .options(
            selectinload(Interaction.audiences),
            selectinload(Interaction.themes),
            selectinload(Interaction.commitments),
        )
        .order_by(Interaction.occurred_on.desc(), Interaction.id.desc())
    )
    if audience_id is not None:
        query = query.where(
            Interaction.id.in_(
                select(interaction_audiences.c.interaction_id).where(
                    interaction_audiences.c.audience_id == audience_id
                )
            )
        )
    if since is not None:
        query = query.where(Interaction.occurred_on >= since)
    if until is not None:
        query = query.where(Interaction.occurred_on <= until)
    items, page = _page(query)
    return jsonify(items=[serialise.interaction(i) for i in items], **page)


@bp.get("/commitments")
def commitments() -> ResponseReturnValue:
    """Commitments by due date, without their descriptions or owners."""
    audience_id = _optional_id("audience_id")
    status = _enum_arg("status", CommitmentStatus)
    since, until = _period()
    query = (
        select(Commitment)
        .options(selectinload(Commitment.audience))
        .order_by(Commitment.due_on, Commitment.id)
    )
    if audience_id is not None:
        query = query.where(Commitment.audience_id == audience_id)
    if status is not None:
        query = query.where(Commitment.status == status)
    if since is not None:
        query = query.where(Commitment.due_on >= since)
    if until is not None:
        query = query.where(Commitment.due_on <= until)
    items, page = _page(query)
    return jsonify(items=[serialise.commitment(c) for c in items], **page)


# Token management on the account page (session + CSRF, like every staff form) ---------


@tokens_bp.app_context_processor
def _tokens_context() -> dict[str, Any]:
    from engage.api.tokens import list_api_tokens

    return {"list_api_tokens": list_api_tokens}


@tokens_bp.post("/account/api-tokens")
@login_required
def create() -> ResponseReturnValue:
    user: User = current_user._get_current_object()
    try:
        token, secret = create_api_token(
            user, name=request.form.get("name", ""), now=utcnow()
        )
    except ValidationError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("accounts.account"))
    db.session.commit()
    return render_template("api/token_created.html", token=token, secret=secret)


@tokens_bp.post("/account/api-tokens/<int:token_id>/revoke")
@login_required
def revoke(token_id: int) -> ResponseReturnValue:
    revoke_api_token(current_user._get_current_object(), token_id, now=utcnow())
    db.session.commit()
    flash("The API token no longer works.", "success")
    return redirect(url_for("accounts.account"))
