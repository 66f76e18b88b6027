"""Commitment pages: the register, adding and changing one, its export."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import Response
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select

from engage import clock
from engage.accounts.access import EDITORS
from engage.accounts.access import READERS
from engage.accounts.access import roles_required
from engage.accounts.models import User
from engage.audiences.models import Audience
from engage.audiences.panels import panel
from engage.audiences.services import list_audiences
from engage.edge import change
from engage.edge import saved_since_opened
from engage.errors import ValidationError
from engage.extensions import db
from engage.formtools import id_or_none
from engage.imports.tabular import mimetype
from engage.imports.tabular import write_table
from engage.paging import PAGING_KEYS
from engage.paging import keyset_page
from engage.relationships import commitments as services
from engage.relationships.commitment_forms import MINE
from engage.relationships.commitment_forms import CommitmentForm
from engage.relationships.commitment_forms import RegisterFilterForm
from engage.relationships.commitment_forms import StatusChangeForm
from engage.relationships.models import Commitment
from engage.relationships.models import Interaction
from engage.templating import format_date

bp = Blueprint("commitments", __name__, url_prefix="/relationships/commitments")

PER_PAGE = 25
#: The export formats, as the query string names them.
FORMATS = ("csv", "xlsx")


def _all_users() -> list[tuple[int, str]]:
    # Everyone, so that a leaver's commitments can still be found.
    return [
        (u.id, u.name if u.is_active else f"{u.name} (left)")
        for u in db.session.scalars(select(User).order_by(User.name))
    ]


def _filters() -> tuple[RegisterFilterForm, services.CommitmentFilter]:
    """The register's filter form and what it asks for (nothing if it is wrong)."""
    form = RegisterFilterForm(
        request.args,
        audiences=[(a.id, a.name) for a in list_audiences(include_archived=True)],
        owners=_all_users(),
    )
    criteria = services.CommitmentFilter()
    if form.validate():
        owner = form.owner.data
        criteria = services.CommitmentFilter(
            status=form.status.data or services.StatusFilter.OPEN,
            audience_id=form.audience.data,
            owner_id=current_user.id if owner == MINE else owner,
            due_from=form.due_from.data,
            due_to=form.due_to.data,
        )
    return form, criteria


@bp.get("/")
@roles_required(*READERS)
def index() -> ResponseReturnValue:
    form, criteria = _filters()
    today = clock.today()
    page = keyset_page(
        services.commitment_query(criteria, today=today),
        services.commitment_order(criteria),
        per_page=PER_PAGE,
    )
    filters = {
        key: value
        for key, value in request.args.items(multi=True)
        if key not in PAGING_KEYS and not form.errors
    }
    return render_template(
        "relationships/commitments/index.html",
        form=form,
        page=page,
        today=today,
        overdue_words=services.overdue_words,
        filters=filters,
    )


@bp.get("/export")
@roles_required(*READERS)
def export() -> ResponseReturnValue:
    fmt = request.args.get("format", "csv")
    if fmt not in FORMATS:
        raise ValidationError("Choose CSV or Excel for the download.")
    form, criteria = _filters()
    if form.errors:
        raise ValidationError("Those filters could not be read: " + _first(form))
    today = clock.today()
    content = write_table(
        fmt,
        services.EXPORT_COLUMNS,
        services.export_rows(criteria, today=today),
        title="Commitments",
    )
    filename = f"commitments-{today.isoformat()}.{fmt}"
    return Response(
        content,
        content_type=mimetype(fmt),
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


def _first(form: RegisterFilterForm) -> str:
    for errors in form.errors.values():
        for error in errors:
            return str(error)
    return ""


def _interaction_label(interaction: Interaction) -> str:
    return f"{interaction.subject}, {format_date(interaction.occurred_on)}"


def _form(
    commitment: Commitment | None,
    *,
    interaction: Interaction | None = None,
    data: dict[str, Any] | None = None,
) -> CommitmentForm:
    audiences = [(a.id, a.name) for a in list_audiences()]
    owners = [
        (u.id, u.name)
        for u in db.session.scalars(
            select(User).where(User.is_active).order_by(User.name)
        )
    ]
    interactions = []
    if commitment is not None:
        if commitment.audience.is_archived:
            audiences.append((commitment.audience.id, commitment.audience.name))
        if commitment.owner is not None and not commitment.owner.is_active:
            owners.append((commitment.owner.id, commitment.owner.name))
        if commitment.interaction is not None:
            interaction = commitment.interaction
    if interaction is not None:
        interactions.append((interaction.id, _interaction_label(interaction)))
    return CommitmentForm(
        obj=commitment,
        data=data,
        audiences=audiences,
        owners=owners,
        interactions=interactions,
    )


def _data(form: CommitmentForm) -> services.CommitmentData:
    return services.CommitmentData(
        description=form.description.data or "",
        audience_id=form.audience_id.data,
        owner_id=form.owner_id.data,
        due_on=form.due_on.data,
        interaction_id=form.interaction_id.data,
    )


def _prefill() -> tuple[Audience | None, Interaction | None]:
    """The audience and interaction the link names, if they can be used."""
    audience = interaction = None
    if "interaction_id" in request.args:
        interaction_id = id_or_none(request.args.get("interaction_id"))
        interaction = (
            db.session.get(Interaction, interaction_id) if interaction_id else None
        )
        if interaction is None:
            flash("The interaction in the link was not found.", "error")
    if "audience_id" in request.args:
        audience_id = id_or_none(request.args.get("audience_id"))
        audience = db.session.get(Audience, audience_id) if audience_id else None
        if audience is None:
            flash("The audience in the link was not found.", "error")
        elif audience.is_archived:
            flash(f"{audience.name} is archived: choose another audience.", "error")
            audience = None
    if audience is None and interaction is not None:
        live = [a for a in interaction.audiences if not a.is_archived]
        if len(live) == 1:
            audience = live[0]
    if (
        audience is not None
        and interaction is not None
        and audience not in interaction.audiences
    ):
        flash(
            f"The interaction in the link was not with {audience.name}: "
            "it has been left out.",
            "error",
        )
        interaction = None
    return audience, interaction


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*EDITORS)
def new() -> ResponseReturnValue:
    audience, interaction = _prefill() if request.method == "GET" else (None, None)
    if request.method == "POST":
        # The same link is posted back: offer the interaction it named.
        interaction_id = id_or_none(request.args.get("interaction_id"))
        interaction = (
            db.session.get(Interaction, interaction_id) if interaction_id else None
        )
    data = None
    if request.method == "GET":
        data = {
            "owner_id": current_user.id,
            "audience_id": audience.id if audience else None,
            "interaction_id": interaction.id if interaction else None,
        }
    form = _form(None, interaction=interaction, data=data)
    if form.validate_on_submit():
        with change("Commitment added.", field=form.description) as done:
            commitment = services.add_commitment(
                _data(form), actor=current_user, now=clock.utcnow()
            )
        if done:
            return redirect(
                url_for("audiences.detail", audience_id=commitment.audience_id)
            )
    back = (
        url_for("audiences.detail", audience_id=audience.id)
        if audience
        else url_for("commitments.index")
    )
    return render_template(
        "relationships/commitments/form.html",
        form=form,
        commitment=None,
        back_href=back,
    )


@bp.route("/<int:commitment_id>/edit", methods=["GET", "POST"])
@roles_required(*EDITORS)
def edit(commitment_id: int) -> ResponseReturnValue:
    commitment = db.get_or_404(Commitment, commitment_id)
    if request.method == "POST" and "status_change" in request.form:
        return _change_status(commitment)
    form = _form(commitment)
    if not form.is_submitted():
        form.opened_at.data = commitment.updated_at.isoformat()
    elif form.validate() and not saved_since_opened(
        form, commitment.updated_at, "commitment"
    ):
        with change("Changes saved.", field=form.description) as done:
            services.update_commitment(
                commitment, _data(form), actor=current_user, now=clock.utcnow()
            )
        if done:
            return redirect(
                url_for("audiences.detail", audience_id=commitment.audience_id)
            )
    today = clock.today()
    return render_template(
        "relationships/commitments/form.html",
        form=form,
        commitment=commitment,
        back_href=url_for("audiences.detail", audience_id=commitment.audience_id),
        overdue=services.overdue_words(commitment, today),
    )


def _change_status(commitment: Commitment) -> ResponseReturnValue:
    form = StatusChangeForm()
    if not form.validate():
        flash("That change could not be made: try again.", "error")
        return redirect(url_for("commitments.edit", commitment_id=commitment.id))
    chosen = form.status_change.data
    step = {
        "done": (services.mark_done, "Marked as done."),
        "dropped": (services.mark_dropped, "Commitment dropped."),
        "reopen": (services.reopen, "Commitment reopened."),
    }[chosen]
    with change(step[1], refusal="{}") as done:
        step[0](commitment, actor=current_user, now=clock.utcnow())
    if done and chosen != "reopen":
        return redirect(url_for("audiences.detail", audience_id=commitment.audience_id))
    return redirect(url_for("commitments.edit", commitment_id=commitment.id))


# The audience page's section --------------------------------------------------


@panel("relationships/_commitments_panel.html", order=30)
def commitments_panel(audience: Audience) -> dict[str, Any]:
    """The audience's open commitments (overdue first) and how many were done."""
    return {
        "commitments_found": services.for_audience(audience.id),
        "commitments_today": clock.today(),
        "commitments_overdue_words": services.overdue_words,
    }
