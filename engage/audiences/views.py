"""Audience views: the audience list and record, programmes, and the stakeholder map."""

from __future__ import annotations

from flask import Blueprint
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from engage import clock
from engage.accounts.access import ADMINS
from engage.accounts.access import EDITORS
from engage.accounts.access import READERS
from engage.accounts.access import roles_required
from engage.accounts.services import list_active_users
from engage.actions.services import ActionFilter
from engage.actions.services import action_query
from engage.audiences import services
from engage.audiences.forms import AudienceFilterForm
from engage.audiences.forms import AudienceForm
from engage.audiences.forms import ContactForm
from engage.audiences.forms import ContactIntervalForm
from engage.audiences.forms import MapFilterForm
from engage.audiences.forms import OverrideForm
from engage.audiences.forms import ProgrammeForm
from engage.audiences.models import Approach
from engage.audiences.models import Audience
from engage.audiences.models import AudienceContact
from engage.audiences.models import Programme
from engage.audiences.models import ProgrammeApproach
from engage.audiences.panels import panel_context
from engage.clock import today
from engage.clock import utcnow
from engage.edge import change
from engage.edge import saved_since_opened
from engage.extensions import db
from engage.relationships.health import score_all
from engage.relationships.models import HealthBand

bp = Blueprint("audiences", __name__, url_prefix="/audiences")
map_bp = Blueprint("map", __name__, url_prefix="/map")

PER_PAGE = 50


def _owner_choices() -> list[tuple[int, str]]:
    return [(u.id, u.name) for u in list_active_users()]


def _programme_choices() -> list[tuple[int, str]]:
    return [(p.id, p.name) for p in services.list_programmes(active_only=True)]


@bp.get("/")
@roles_required(*READERS)
def index() -> ResponseReturnValue:
    form = AudienceFilterForm(request.args)
    form.validate()
    criteria = services.AudienceFilter(
        search=form.q.data or "",
        group=form.group.data,
        approach=form.approach.data,
        include_archived=bool(form.archived.data),
    )
    audiences = list(db.session.scalars(services.audience_query(criteria)))
    statuses = services.contact_statuses(audiences, today=today())
    if form.due.data:
        audiences = [a for a in audiences if statuses[a.id].is_due]
    return render_template(
        "audiences/index.html", form=form, audiences=audiences, statuses=statuses
    )


def _audience_data(form: AudienceForm) -> services.AudienceData:
    return services.AudienceData(
        name=form.name.data,
        group=form.group.data,
        approach=form.approach.data,
        influence=form.influence.data,
        interest=form.interest.data,
        owner_id=form.owner_id.data,
        notes=form.notes.data or "",
    )


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*EDITORS)
def create() -> ResponseReturnValue:
    form = AudienceForm(owners=_owner_choices())
    if form.validate_on_submit():
        with change(field=form.name) as done:
            audience = services.create_audience(
                _audience_data(form), actor=current_user, now=utcnow()
            )
        if done:
            flash(f"{audience.name} added to the map.", "success")
            return redirect(url_for("audiences.detail", audience_id=audience.id))
    return render_template("audiences/form.html", form=form, audience=None)


@bp.get("/<int:audience_id>")
@roles_required(*READERS)
def detail(audience_id: int) -> ResponseReturnValue:
    return _render_detail(db.get_or_404(Audience, audience_id))


@bp.route("/<int:audience_id>/edit", methods=["GET", "POST"])
@roles_required(*EDITORS)
def edit(audience_id: int) -> ResponseReturnValue:
    audience = db.get_or_404(Audience, audience_id)
    form = AudienceForm(obj=audience, owners=_owner_choices())
    if not form.is_submitted():
        form.opened_at.data = audience.updated_at.isoformat()
    elif form.validate() and not saved_since_opened(
        form, audience.updated_at, "audience"
    ):
        with change("Changes saved.", field=form.name) as done:
            services.update_audience(
                audience, _audience_data(form), actor=current_user, now=utcnow()
            )
        if done:
            return redirect(url_for("audiences.detail", audience_id=audience.id))
    return render_template("audiences/form.html", form=form, audience=audience)


@bp.post("/<int:audience_id>/archive")
@roles_required(*EDITORS)
def archive(audience_id: int) -> ResponseReturnValue:
    audience = db.get_or_404(Audience, audience_id)
    services.archive_audience(audience, actor=current_user, now=utcnow())
    db.session.commit()
    flash(f"{audience.name} archived. Its history is kept.", "success")
    return redirect(url_for("audiences.detail", audience_id=audience.id))


@bp.post("/<int:audience_id>/restore")
@roles_required(*EDITORS)
def restore(audience_id: int) -> ResponseReturnValue:
    audience = db.get_or_404(Audience, audience_id)
    services.restore_audience(audience, actor=current_user, now=utcnow())
    db.session.commit()
    flash(f"{audience.name} is back on the map.", "success")
    return redirect(url_for("audiences.detail", audience_id=audience.id))


@bp.post("/<int:audience_id>/contacts")
@roles_required(*EDITORS)
def add_contact(audience_id: int) -> ResponseReturnValue:
    audience = db.get_or_404(Audience, audience_id)
    form = ContactForm()
    if not form.validate():
        return _render_detail(audience, contact_form=form)
    with change("Contact added.", field=form.email) as done:
        services.add_contact(
            audience,
            name=form.name.data,
            role=form.role.data or "",
            email=form.email.data or "",
            phone=form.phone.data or "",
            actor=current_user,
            now=utcnow(),
        )
    if not done:
        return _render_detail(audience, contact_form=form)
    return redirect(url_for("audiences.detail", audience_id=audience.id) + "#contacts")


@bp.post("/<int:audience_id>/contacts/<int:contact_id>/delete")
@roles_required(*EDITORS)
def delete_contact(audience_id: int, contact_id: int) -> ResponseReturnValue:
    contact = db.get_or_404(AudienceContact, contact_id)
    if contact.audience_id != audience_id:
        abort(404)
    services.remove_contact(contact, actor=current_user, now=utcnow())
    db.session.commit()
    flash("Contact removed.", "success")
    return redirect(url_for("audiences.detail", audience_id=audience_id) + "#contacts")


@bp.post("/<int:audience_id>/programmes")
@roles_required(*EDITORS)
def set_override(audience_id: int) -> ResponseReturnValue:
    audience = db.get_or_404(Audience, audience_id)
    form = OverrideForm(programmes=_programme_choices())
    if not form.validate():
        return _render_detail(audience, override_form=form)
    programme = db.get_or_404(Programme, form.programme_id.data)
    services.set_programme_approach(
        audience,
        programme,
        form.approach.data,
        form.rationale.data,
        actor=current_user,
        now=utcnow(),
    )
    db.session.commit()
    flash(f"Approach for {programme.name} saved.", "success")
    return redirect(
        url_for("audiences.detail", audience_id=audience.id) + "#programmes"
    )


@bp.post("/<int:audience_id>/programmes/<int:override_id>/delete")
@roles_required(*EDITORS)
def delete_override(audience_id: int, override_id: int) -> ResponseReturnValue:
    override = db.get_or_404(ProgrammeApproach, override_id)
    if override.audience_id != audience_id:
        abort(404)
    services.remove_programme_approach(override, actor=current_user, now=utcnow())
    db.session.commit()
    flash("The usual approach applies to that programme again.", "success")
    return redirect(
        url_for("audiences.detail", audience_id=audience_id) + "#programmes"
    )


def _render_detail(
    audience: Audience,
    *,
    contact_form: ContactForm | None = None,
    override_form: OverrideForm | None = None,
) -> ResponseReturnValue:
    """The audience's page, with a sub-form's errors when one was sent back."""
    today = clock.today()
    criteria = ActionFilter(audience_id=audience.id)
    page = {
        "audience": audience,
        "status": services.contact_statuses([audience], today=today)[audience.id],
        "actions": list(
            db.session.scalars(action_query(criteria, today=today).limit(50))
        ),
        "suggested": services.suggest_approach(audience.influence, audience.interest),
        "contact_form": contact_form or ContactForm(formdata=None),
        "override_form": override_form
        or OverrideForm(formdata=None, programmes=_programme_choices()),
        "today": today,
    }
    panels, values = panel_context(audience, page)
    return render_template("audiences/detail.html", panels=panels, **page, **values)


# Programmes ---------------------------------------------------------------------------


@bp.get("/programmes")
@roles_required(*READERS)
def programmes() -> ResponseReturnValue:
    return render_template(
        "audiences/programmes.html", programmes=services.list_programmes()
    )


@bp.route("/programmes/new", methods=["GET", "POST"])
@roles_required(*EDITORS)
def create_programme() -> ResponseReturnValue:
    return _programme_form(None)


@bp.route("/programmes/<int:programme_id>/edit", methods=["GET", "POST"])
@roles_required(*EDITORS)
def edit_programme(programme_id: int) -> ResponseReturnValue:
    return _programme_form(db.get_or_404(Programme, programme_id))


def _programme_form(programme: Programme | None) -> ResponseReturnValue:
    form = ProgrammeForm(obj=programme)
    if form.validate_on_submit():
        with change("Programme saved.", field=form.name) as done:
            services.save_programme(
                programme,
                name=form.name.data,
                description=form.description.data or "",
                is_active=form.is_active.data,
                actor=current_user,
                now=utcnow(),
            )
        if done:
            return redirect(url_for("audiences.programmes"))
    return render_template(
        "audiences/programme_form.html", form=form, programme=programme
    )


@bp.route("/contact-intervals", methods=["GET", "POST"])
@roles_required(*ADMINS)
def contact_intervals() -> ResponseReturnValue:
    current = services.get_contact_intervals()
    form = ContactIntervalForm(data={a.value: d for a, d in current.items()})
    if form.validate_on_submit():
        services.set_contact_intervals(
            {a: int(getattr(form, a.value).data) for a in Approach},
            actor=current_user,
            now=utcnow(),
        )
        db.session.commit()
        flash("Contact intervals saved.", "success")
        return redirect(url_for("audiences.contact_intervals"))
    return render_template("audiences/contact_intervals.html", form=form)


# The map ------------------------------------------------------------------------------


@map_bp.get("/", endpoint="index")
@roles_required(*READERS)
def stakeholder_map() -> ResponseReturnValue:
    form = MapFilterForm(request.args, programmes=_programme_choices())
    form.validate()
    programme = None
    if not form.programme.errors and form.programme.data:
        programme = db.session.get(Programme, form.programme.data)
    # A colour not among the choices is the usual map.
    by_health = not form.colour.errors and form.colour.data == "health"
    day = today()
    stakeholder_map = services.build_map(today=day, programme=programme)
    return render_template(
        "audiences/map.html",
        form=form,
        map=stakeholder_map,
        quadrant=services.quadrant,
        health=score_all(day) if by_health else None,
        bands=list(HealthBand),
    )
