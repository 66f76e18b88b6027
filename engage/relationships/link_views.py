"""Links between stakeholders: added and removed from the audience's page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import abort
from flask import g
from flask import redirect
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from engage.accounts.access import EDITORS
from engage.accounts.access import roles_required
from engage.audiences.models import Audience
from engage.audiences.panels import panel
from engage.clock import utcnow
from engage.edge import change
from engage.errors import EngageError
from engage.extensions import db
from engage.relationships import links as services
from engage.relationships.models import AudienceLink
from engage.relationships.theme_forms import LinkForm

bp = Blueprint("audience_links", __name__, url_prefix="/audiences")


def _back(audience_id: int) -> ResponseReturnValue:
    return redirect(url_for("audiences.detail", audience_id=audience_id) + "#links")


@bp.post("/<int:audience_id>/links")
@roles_required(*EDITORS)
def add(audience_id: int) -> ResponseReturnValue:
    audience = db.get_or_404(Audience, audience_id)
    form = LinkForm(audiences=services.audience_choices(audience))
    if form.validate():
        other = db.session.get(Audience, form.other_id.data)
        if other is None:
            form.other_id.errors = ["Choose the other stakeholder from the list"]
        else:

            def show(error: EngageError) -> None:
                form.other_id.errors = [*form.other_id.errors, error.message]

            with change("Link saved.", on_error=show) as done:
                services.add_link(
                    audience,
                    other,
                    form.kind.data,
                    note=form.note.data or "",
                    actor=current_user,
                    now=utcnow(),
                )
            if done:
                return _back(audience.id)
    # Shown again on the audience's page, with the errors beside the fields.
    from engage.audiences.views import detail

    g.audience_link_form = form
    return detail(audience_id)


@bp.post("/<int:audience_id>/links/<int:link_id>/remove")
@roles_required(*EDITORS)
def remove(audience_id: int, link_id: int) -> ResponseReturnValue:
    link = db.get_or_404(AudienceLink, link_id)
    if audience_id not in (link.from_audience_id, link.to_audience_id):
        abort(404)
    with change("Link removed."):
        services.remove_link(link, actor=current_user, now=utcnow())
    return _back(audience_id)


@panel("relationships/_links_panel.html", order=60)
def _links_panel(audience: Audience) -> dict[str, Any]:
    form = g.get("audience_link_form")
    if form is None and current_user.can_edit and not audience.is_archived:
        form = LinkForm(formdata=None, audiences=services.audience_choices(audience))
    if form is not None:
        form.kind.label.text = f"How {audience.name} is linked"
    return {
        "links_lines": services.links_of(audience),
        "links_form": form,
    }
