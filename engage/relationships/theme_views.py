"""Theme pages: the overview a lead reads, a theme's page, and the admins' list."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import abort
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy.orm import selectinload

from engage.accounts.access import ADMINS
from engage.accounts.access import EDITORS
from engage.accounts.access import READERS
from engage.accounts.access import roles_required
from engage.audiences.models import Audience
from engage.audiences.panels import panel
from engage.clock import today
from engage.clock import utcnow
from engage.edge import change
from engage.extensions import db
from engage.paging import page_of
from engage.relationships import themes as services
from engage.relationships.models import Sentiment
from engage.relationships.models import Theme
from engage.relationships.theme_forms import ThemeForm
from engage.relationships.theme_forms import ThemeOverviewForm
from engage.surveys.models import Finding

bp = Blueprint("themes", __name__, url_prefix="/relationships/themes")

PER_PAGE = 50


@bp.get("")
@roles_required(*READERS)
def index() -> ResponseReturnValue:
    form = ThemeOverviewForm(request.args)
    form.validate()
    months = form.months.data if form.months.data in services.PERIOD_MONTHS else 12
    sort = form.sort.data if form.sort.data in services.SORTS else "raised"
    figures, current, before = services.theme_overview(months, today(), sort=sort)
    return render_template(
        "relationships/themes/index.html",
        form=form,
        months=months,
        page=page_of(figures, per_page=PER_PAGE),
        current=current,
        before=before,
        sentiments=list(Sentiment),
    )


@bp.get("/<int:theme_id>")
@roles_required(*READERS)
def detail(theme_id: int) -> ResponseReturnValue:
    theme = db.session.get(
        Theme,
        theme_id,
        options=[
            selectinload(Theme.actions),
            selectinload(Theme.findings).selectinload(Finding.survey),
        ],
    )
    if theme is None:
        abort(404)
    audiences = services.theme_audiences(theme)
    return render_template(
        "relationships/themes/detail.html",
        theme=theme,
        audiences=audiences,
        quarters=services.theme_quarters(theme, today()),
        latest=services.latest_interactions(theme),
        commitments=services.open_commitments([a.audience_id for a in audiences]),
        sentiments=list(Sentiment),
        today=today(),
        # The interactions' pages are their own part: linked once they are there.
    )


@bp.get("/manage")
@roles_required(*EDITORS)
def manage() -> ResponseReturnValue:
    return render_template(
        "relationships/themes/manage.html", themes=services.list_themes()
    )


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*ADMINS)
def create() -> ResponseReturnValue:
    return _theme_form(None)


@bp.route("/<int:theme_id>/edit", methods=["GET", "POST"])
@roles_required(*EDITORS)
def edit(theme_id: int) -> ResponseReturnValue:
    return _theme_form(db.get_or_404(Theme, theme_id))


def _theme_form(theme: Theme | None) -> ResponseReturnValue:
    form = ThemeForm(
        obj=theme,
        actions=services.action_choices([a.id for a in theme.actions] if theme else ()),
        findings=services.finding_choices(
            [f.id for f in theme.findings] if theme else ()
        ),
    )
    if theme is not None and request.method == "GET":
        form.actions.data = [a.id for a in theme.actions]
        form.findings.data = [f.id for f in theme.findings]
    officer = theme is not None and not current_user.is_admin
    if officer:
        # Officers change the description and the links; the name and whether the
        # theme is in use are an admin's to change, so their form has neither.
        del form.name
        del form.is_active
    if form.validate_on_submit():
        data = services.ThemeData(
            name=theme.name if officer and theme else form.name.data,
            description=form.description.data or "",
            is_active=theme.is_active
            if officer and theme
            else bool(form.is_active.data),
            action_ids=tuple(form.actions.data or ()),
            finding_ids=tuple(form.findings.data or ()),
        )
        shown_on = form.description if officer else form.name
        with change("Theme saved.", field=shown_on) as done:
            saved = services.save_theme(theme, data, actor=current_user, now=utcnow())
        if done:
            return redirect(url_for("themes.detail", theme_id=saved.id))
    return render_template("relationships/themes/form.html", form=form, theme=theme)


@panel("relationships/_themes_panel.html", order=40)
def _themes_panel(audience: Audience) -> dict[str, Any]:
    return {"themes_raised": services.themes_raised_by(audience.id)}
