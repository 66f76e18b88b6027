"""Relationship health pages: the audience page's section, the history, the brief."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import render_template
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from engage.accounts.access import READERS
from engage.accounts.access import roles_required
from engage.audiences.models import Audience
from engage.audiences.panels import panel
from engage.clock import today
from engage.extensions import db
from engage.paging import keyset_page
from engage.relationships.brief import build_brief
from engage.relationships.health import score_one
from engage.relationships.models import AudienceHealth

bp = Blueprint("health", __name__, url_prefix="/audiences")

PER_PAGE = 30


@panel("relationships/_health_panel.html", order=5)
def health_panel(audience: Audience) -> dict[str, Any] | None:
    """Today's health, worked out now (not only last night's)."""
    return {"health_today": score_one(audience, today())}


@bp.get("/<int:audience_id>/health")
@roles_required(*READERS)
def history(audience_id: int) -> ResponseReturnValue:
    audience = db.get_or_404(Audience, audience_id)
    page = keyset_page(
        select(AudienceHealth).where(AudienceHealth.audience_id == audience.id),
        (AudienceHealth.day.desc(), AudienceHealth.id.desc()),
        per_page=PER_PAGE,
    )
    return render_template(
        "relationships/health_history.html",
        audience=audience,
        page=page,
        health=score_one(audience, today()),
    )


@bp.get("/<int:audience_id>/brief")
@roles_required(*READERS)
def brief(audience_id: int) -> ResponseReturnValue:
    audience = db.get_or_404(Audience, audience_id)
    day = today()
    return render_template(
        "relationships/brief.html", brief=build_brief(audience, day), today=day
    )
