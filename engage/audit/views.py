"""Audit views: the administrators' filtered list of audit events."""

from __future__ import annotations

from flask import Blueprint
from flask import Response
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from engage.accounts.access import ADMINS
from engage.accounts.access import roles_required
from engage.accounts.services import list_users
from engage.audit import services
from engage.audit.forms import AuditFilterForm
from engage.audit.words import describe
from engage.clock import utcnow
from engage.edge import change
from engage.paging import keyset_page
from engage.templating import url_with_query

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")

PER_PAGE = 50


def _filters() -> tuple[AuditFilterForm, services.AuditFilter]:
    """The filter form from the query string, and the criteria it gives."""
    form = AuditFilterForm(
        request.args,
        actors=[(u.id, u.name) for u in list_users()],
        actions=services.list_actions(),
        entity_types=services.list_entity_types(),
    )
    criteria = services.AuditFilter()
    if request.args and form.validate():
        criteria = services.AuditFilter(
            actor_id=form.actor.data,
            action=form.action.data or None,
            entity_type=form.entity_type.data or None,
            date_from=form.date_from.data,
            date_to=form.date_to.data,
        )
    return form, criteria


@bp.get("/")
@roles_required(*ADMINS)
def index() -> ResponseReturnValue:
    form, criteria = _filters()
    # By its keys: the log grows with every change anyone makes, and a deep page
    # then costs what the first does.
    page = keyset_page(
        services.audit_query(criteria), services.NEWEST_FIRST, per_page=PER_PAGE
    )
    sentences = describe(page.items, current_user)
    return render_template(
        "audit/index.html",
        form=form,
        page=page,
        sentences=sentences,
    )


@bp.get("/export.<any(csv,xlsx):fmt>")
@roles_required(*ADMINS)
def export(fmt: str) -> ResponseReturnValue:
    """The events the filters select, as CSV or Excel (the download is audited)."""
    form, criteria = _filters()
    if form.errors:
        # Never the whole log in place of the events asked for: back to the filters.
        flash("Correct the filters, then download the events they choose.", "error")
        return redirect(url_with_query("audit.index"))
    with change(catch=()):
        filename, mimetype, content = services.export_events(
            criteria, fmt, actor=current_user, now=utcnow()
        )
    return Response(
        content,
        content_type=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )
