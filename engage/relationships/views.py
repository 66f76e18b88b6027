"""The interaction log's pages: the list, logging one, its page, changing, confirming
and deleting it, its attachments, and the timeline on an audience's page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import Response
from flask import abort
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from engage.accounts.access import EDITORS
from engage.accounts.access import READERS
from engage.accounts.access import roles_required
from engage.audiences.models import Audience
from engage.audiences.panels import panel
from engage.clock import today
from engage.clock import utcnow
from engage.edge import change
from engage.edge import saved_since_opened
from engage.errors import EngageError
from engage.errors import ValidationError
from engage.extensions import db
from engage.formtools import id_or_none
from engage.paging import keyset_page
from engage.relationships import log
from engage.relationships import timeline
from engage.relationships.forms import DeleteForm
from engage.relationships.forms import InteractionFilterForm
from engage.relationships.forms import InteractionForm
from engage.relationships.models import Direction
from engage.relationships.models import Interaction
from engage.relationships.models import InteractionAttachment
from engage.relationships.services import InteractionData
from engage.relationships.services import record_interaction
from engage.relationships.services import update_interaction

bp = Blueprint("interactions", __name__, url_prefix="/relationships/interactions")

PER_PAGE = 25


@bp.after_request
def _close_uploads(response: Response) -> Response:
    """Close the files sent (a large one is spooled to a temporary file)."""
    if request.method == "POST":
        for _name, upload in request.files.items(multi=True):
            upload.close()
    return response


#: The button that shows the contacts of the audiences ticked, without saving.
SHOW_CONTACTS = "show_contacts"


# The list -----------------------------------------------------------------------------


def _ok(field: Any) -> Any:
    """A filter's value, or None when what was sent is not one of its choices."""
    return None if field.errors else field.data


@bp.get("/")
@roles_required(*READERS)
def index() -> ResponseReturnValue:
    form = InteractionFilterForm(request.args)
    form.set_choices(
        audiences=timeline.audience_choices(), themes=timeline.theme_choices()
    )
    form.validate()
    filters = timeline.Filters(
        audience_id=_ok(form.audience),
        theme_id=_ok(form.theme),
        kind=_ok(form.kind),
        sentiment=_ok(form.sentiment),
        status=_ok(form.status),
        owner_id=current_user.id if _ok(form.owner) == "mine" else None,
        since=_ok(form.since),
        until=_ok(form.until),
    )
    page = keyset_page(
        timeline.list_query(filters), timeline.NEWEST_FIRST, per_page=PER_PAGE
    )
    return render_template(
        "relationships/index.html", form=form, page=page, filters=filters
    )


# Logging and changing one -------------------------------------------------------------


def _sent_ids(name: str) -> list[int]:
    """The ids sent under ``name`` that are ids at all (a bounded number)."""
    found = []
    for value in request.form.getlist(name)[: timeline.MAX_SENT_CONTACTS]:
        number = id_or_none(value)
        if number is not None:
            found.append(number)
    return found


def _offer(form: InteractionForm, interaction: Interaction | None) -> None:
    """Set the form's choices: contacts of the audiences ticked (or pre-chosen)."""
    audiences = timeline.audience_choices()
    known = {audience_id for audience_id, _name in audiences}
    if form.is_submitted():
        ticked = _sent_ids("audiences")
    else:
        ticked = list(form.audiences.data or [])
    chosen = [i for i in ticked if i in known]
    sent_contacts = _sent_ids("contacts") if form.is_submitted() else []
    keep_staff = [u.id for u in interaction.staff] if interaction else []
    keep_themes = [t.id for t in interaction.themes] if interaction else []
    form.set_choices(
        audiences=audiences,
        contacts=timeline.contact_choices(chosen, sent_contacts),
        staff=timeline.staff_choices(keep_staff),
        themes=timeline.theme_choices(keep_themes),
        attachments=[(a.id, a.filename) for a in interaction.attachments]
        if interaction
        else [],
    )


#: Which field a refusal from the services belongs on, by the words it uses.
_REFUSAL_FIELDS = (
    ("contact", "contacts"),
    ("audience", "audiences"),
    ("future", "occurred_on"),
    ("how it went", "sentiment"),
    ("heading", "subject"),
    ("summary", "summary"),
    ("staff", "staff"),
    ("themes", "themes"),
    ("file", "attachments"),
)


def _place(form: InteractionForm, error: EngageError) -> None:
    lowered = error.message.lower()
    name = next((f for word, f in _REFUSAL_FIELDS if word in lowered), "subject")
    field = form[name]
    field.errors = [*(field.errors or ()), error.message]


def _data(form: InteractionForm) -> InteractionData:
    return InteractionData(
        kind=form.kind.data,
        direction=form.direction.data,
        occurred_on=form.occurred_on.data,
        subject=form.subject.data or "",
        summary=form.summary.data or "",
        sentiment=form.sentiment.data,
        audience_ids=tuple(form.audiences.data or ()),
        contact_ids=tuple(form.contacts.data or ()),
        staff_ids=tuple(form.staff.data or ()),
        theme_ids=tuple(form.themes.data or ()),
    )


def _save(
    form: InteractionForm, interaction: Interaction | None, success: str
) -> Interaction | None:
    """Record or change the interaction and its files; None if refused."""
    try:
        files = log.read_attachments(form.uploads)
    except ValidationError as error:
        form.attachments.errors = [error.message]
        return None
    saved: Interaction | None = None
    with change(success, on_error=lambda error: _place(form, error)) as done:
        now = utcnow()
        if interaction is None:
            saved = record_interaction(_data(form), actor=current_user, now=now)
        else:
            update_interaction(
                interaction, _data(form), actor=current_user, now=now, confirm=True
            )
            saved = interaction
        log.change_attachments(
            saved,
            files,
            actor=current_user,
            now=now,
            remove_ids=list(form.remove_attachments.data or ()),
        )
    return saved if done else None


def _showing_contacts() -> bool:
    return request.method == "POST" and SHOW_CONTACTS in request.form


def _form_page(form: InteractionForm, interaction: Interaction | None) -> str:
    return render_template(
        "relationships/form.html",
        form=form,
        interaction=interaction,
        show_contacts=SHOW_CONTACTS,
    )


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*EDITORS)
def new() -> ResponseReturnValue:
    form = InteractionForm()
    if not form.is_submitted():
        audience_id = id_or_none(request.args.get("audience_id"))
        audience = db.session.get(Audience, audience_id) if audience_id else None
        form.audiences.data = [audience.id] if audience else []
        form.direction.data = Direction.OUTBOUND
        form.occurred_on.data = today()
        form.staff.data = [current_user.id]
    _offer(form, None)
    if _showing_contacts():  # the form again, nothing saved and no errors yet
        return _form_page(form, None)
    if form.validate_on_submit():
        saved = _save(form, None, "Interaction logged.")
        if saved is not None:
            return redirect(url_for(".detail", interaction_id=saved.id))
    return _form_page(form, None)


def _interaction_or_404(interaction_id: int) -> Interaction:
    found = timeline.detail(interaction_id)
    if found is None:
        abort(404)
    return found


@bp.route("/<int:interaction_id>/edit", methods=["GET", "POST"])
@roles_required(*EDITORS)
def edit(interaction_id: int) -> ResponseReturnValue:
    interaction = _interaction_or_404(interaction_id)
    form = InteractionForm(
        data=None
        if request.method == "POST"
        else {
            "kind": interaction.kind,
            "direction": interaction.direction,
            "occurred_on": interaction.occurred_on,
            "subject": interaction.subject,
            "summary": interaction.summary,
            "sentiment": interaction.sentiment,
            "audiences": [a.id for a in interaction.audiences],
            "contacts": [c.id for c in interaction.contacts],
            "staff": [u.id for u in interaction.staff],
            "themes": [t.id for t in interaction.themes],
            "opened_at": interaction.updated_at.isoformat(),
        }
    )
    _offer(form, interaction)
    if _showing_contacts():
        return _form_page(form, interaction)
    if form.validate_on_submit() and not saved_since_opened(
        form, interaction.updated_at, "interaction"
    ):
        was_draft = interaction.is_draft
        saved = _save(
            form,
            interaction,
            "Interaction confirmed: it now counts as contact."
            if was_draft
            else "Changes saved.",
        )
        if saved is not None:
            return redirect(url_for(".detail", interaction_id=saved.id))
    return _form_page(form, interaction)


# Its page, deleting it, its files -----------------------------------------------------


def commitment_link(interaction: Interaction) -> str | None:
    """Where "Add a commitment" goes: the commitment form, told the audience and this
    interaction."""
    if not interaction.audiences:
        return None
    return url_for(
        "commitments.new",
        audience_id=interaction.audiences[0].id,
        interaction_id=interaction.id,
    )


@bp.get("/<int:interaction_id>")
@roles_required(*READERS)
def detail(interaction_id: int) -> ResponseReturnValue:
    interaction = _interaction_or_404(interaction_id)
    with change(catch=()):
        log.record_view(interaction, actor=current_user, now=utcnow())
    return render_template(
        "relationships/detail.html",
        interaction=interaction,
        commitment_href=commitment_link(interaction),
        today=today(),
    )


@bp.route("/<int:interaction_id>/delete", methods=["GET", "POST"])
@roles_required(*EDITORS)
def delete(interaction_id: int) -> ResponseReturnValue:
    interaction = _interaction_or_404(interaction_id)
    form = DeleteForm()
    if form.validate_on_submit():
        with change("Interaction deleted.") as done:
            log.delete_interaction(interaction, actor=current_user, now=utcnow())
        if done:
            return redirect(url_for(".index"))
        return redirect(url_for(".detail", interaction_id=interaction_id))
    return render_template(
        "relationships/delete.html", form=form, interaction=interaction
    )


@bp.get("/<int:interaction_id>/attachments/<int:attachment_id>")
@roles_required(*READERS)
def attachment(interaction_id: int, attachment_id: int) -> ResponseReturnValue:
    found = db.session.get(InteractionAttachment, attachment_id)
    if found is None or found.interaction_id != interaction_id:
        abort(404)
    with change(catch=()):
        log.record_download(found, actor=current_user, now=utcnow())
    response = Response(found.data, mimetype=found.content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{found.filename}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response


# The audience page's timeline ---------------------------------------------------------


@panel("relationships/_timeline_panel.html", order=10)
def _timeline_panel(audience: Audience) -> dict[str, Any] | None:
    return {
        "timeline_rows": timeline.audience_timeline(audience.id),
        "timeline_total": timeline.count_for_audience(audience.id),
    }
