"""Staff pages for the attendance register of a session, and who took part.

The register works without JavaScript on a phone: one form of "Came" boxes, saved
with one button; people who came without a place are added with small forms below.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms.validators import InputRequired

from engage.accounts.access import EDITORS
from engage.accounts.access import READERS
from engage.accounts.access import roles_required
from engage.audiences.models import Programme
from engage.clock import utcnow
from engage.edge import change
from engage.errors import EngageError
from engage.extensions import db
from engage.formtools import MAX_INT
from engage.formtools import RadioField
from engage.formtools import SelectField
from engage.formtools import choices
from engage.formtools import parse_id
from engage.formtools import text
from engage.involvement import attendance as services
from engage.involvement import participation as taking_part
from engage.involvement.models import InvolvementActivity
from engage.involvement.models import InvolvementSession

bp = Blueprint("involvement_register", __name__, url_prefix="/involvement")

#: The most "Came" boxes one save reads (far more than a session has people).
MAX_ROWS = 5000


class MemberPickForm(FlaskForm):  # type: ignore[misc]
    """One of the members a name search found."""

    member_id = RadioField("Which member came?", parse=parse_id)


class StaffForm(FlaskForm):  # type: ignore[misc]
    """A member of staff who came."""

    user_id = SelectField(
        "Member of staff",
        validators=[InputRequired("Choose a member of staff")],
        parse=parse_id,
    )


class GuestForm(FlaskForm):  # type: ignore[misc]
    """Someone who came who is not on our records."""

    name = text(
        "Their name",
        max_length=200,
        required="Enter the guest's name",
        description="As they gave it. Guests are counted as attending, not as members.",
    )


def _user() -> Any:
    return current_user._get_current_object()


def _session(activity_id: int, session_id: int) -> InvolvementSession:
    if not (1 <= activity_id <= MAX_INT and 1 <= session_id <= MAX_INT):
        abort(404)
    session = db.session.get(InvolvementSession, session_id)
    if session is None or session.activity_id != activity_id:
        abort(404)
    return session


def _back(session: InvolvementSession) -> ResponseReturnValue:
    return redirect(
        url_for(
            ".register",
            activity_id=session.activity_id,
            session_id=session.id,
        )
    )


def _activity_url(activity_id: int) -> str:
    """The activity's own page."""
    return url_for("involvement.detail", activity_id=activity_id)


def _staff_form(**kwargs: Any) -> StaffForm:
    form = StaffForm(**kwargs)
    form.user_id.choices = choices(
        [("", "Choose a member of staff"), *services.staff_choices()]
    )
    return form


@bp.get("/<int:activity_id>/sessions/<int:session_id>/register")
@roles_required(*READERS)
def register(activity_id: int, session_id: int) -> ResponseReturnValue:
    session = _session(activity_id, session_id)
    return _register_page(session, search=request.args.get("q", "", type=str))


def _register_page(
    session: InvolvementSession,
    *,
    search: str = "",
    pick: MemberPickForm | None = None,
    staff_form: StaffForm | None = None,
    guest_form: GuestForm | None = None,
    searched: tuple[list[Any] | None, str] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    """The register, with a name search's results and any add form sent back with
    its errors (the others empty); ``searched`` is what ``_find`` gave ``pick``,
    when the caller has searched already."""
    user = _user()
    search = search[: services.SEARCH_MAX + 50]
    if pick is None:
        pick = MemberPickForm(formdata=None)
    if searched is None:
        searched = _find(session, search, pick) if user.can_edit else (None, "")
    found, search_error = searched
    open_problem = ""
    try:
        services.check_open(session, now=utcnow())
    except EngageError as error:
        open_problem = error.message
    page = render_template(
        "involvement/register.html",
        session=session,
        activity=session.activity,
        register=services.register_for(session),
        search=search,
        search_error=search_error,
        found=found,
        pick=pick,
        staff_form=(staff_form or _staff_form(formdata=None))
        if user.can_edit
        else None,
        guest_form=(guest_form or GuestForm(formdata=None)) if user.can_edit else None,
        open_problem=open_problem,
        activity_url=_activity_url(session.activity_id),
        search_limit=services.SEARCH_LIMIT,
    )
    return page, status


def _find(
    session: InvolvementSession, search: str, pick: MemberPickForm
) -> tuple[list[Any] | None, str]:
    """The members whose names hold ``search``, offered as ``pick``'s choices (None
    when nothing was searched for), and the search's problem if any."""
    if not search.strip():
        return None, ""
    try:
        found = services.find_members(
            search, actor=_user(), session=session, now=utcnow()
        )
    except EngageError as error:
        return None, error.message
    db.session.commit()  # the search is audited
    on_register = services.register_for(session).keys
    pick.member_id.choices = choices(
        (
            member.id,
            f"{member.name}"
            + (f", {member.postcode}" if member.postcode else "")
            + f" ({member.tier.label}, {member.status.label.lower()})"
            + (" — already on the register" if f"m{member.id}" in on_register else ""),
        )
        for member in found
    )
    return found, ""


def _save_ticks(session: InvolvementSession) -> tuple[int, int]:
    known = services.register_for(session).keys
    ticked = services.clean_keys(request.form.getlist("came")[:MAX_ROWS], known)
    were = services.clean_keys(request.form.getlist("was")[:MAX_ROWS], known)
    return services.save_register(
        session, ticked=ticked, were_ticked=were, actor=_user(), now=utcnow()
    )


@bp.post("/<int:activity_id>/sessions/<int:session_id>/register/save")
@roles_required(*EDITORS)
def save(activity_id: int, session_id: int) -> ResponseReturnValue:
    session = _session(activity_id, session_id)
    with change() as done:
        added, removed = _save_ticks(session)
    if done:
        if added or removed:
            flash(
                f"Register saved: {added} ticked as came, {removed} taken off.",
                "success",
            )
        else:
            flash("Register saved: nothing had changed.", "success")
    return _back(session)


@bp.post("/<int:activity_id>/sessions/<int:session_id>/register/member")
@roles_required(*EDITORS)
def add_member(activity_id: int, session_id: int) -> ResponseReturnValue:
    session = _session(activity_id, session_id)
    # Any member may be added, not only those the search offered (the search may
    # find others by now): the service checks the one chosen.
    try:
        member_id = parse_id(request.form.get("member_id", "", type=str))
    except ValueError:
        member_id = None
    if member_id is None:
        search = request.form.get("q", "", type=str)[: services.SEARCH_MAX + 50]
        pick = MemberPickForm()
        searched = _find(session, search, pick)
        pick.member_id.errors = ["Choose which member came"]
        return _register_page(
            session, search=search, pick=pick, searched=searched, status=400
        )
    with change() as done:
        new = services.add_member(session, member_id, actor=_user(), now=utcnow())
    if done:
        flash(
            "Added to the register as came."
            if new
            else "They are already on the register.",
            "success",
        )
    return _back(session)


@bp.post("/<int:activity_id>/sessions/<int:session_id>/register/staff")
@roles_required(*EDITORS)
def add_staff(activity_id: int, session_id: int) -> ResponseReturnValue:
    session = _session(activity_id, session_id)
    form = _staff_form()
    if not form.validate() or form.user_id.data is None:
        return _register_page(session, staff_form=form, status=400)
    with change() as done:
        new = services.add_staff(
            session, form.user_id.data, actor=_user(), now=utcnow()
        )
    if done:
        flash(
            "Member of staff added to the register."
            if new
            else "They are already on the register.",
            "success",
        )
    return _back(session)


@bp.post("/<int:activity_id>/sessions/<int:session_id>/register/guest")
@roles_required(*EDITORS)
def add_guest(activity_id: int, session_id: int) -> ResponseReturnValue:
    session = _session(activity_id, session_id)
    form = GuestForm()
    if not form.validate():
        return _register_page(session, guest_form=form, status=400)
    with change() as done:
        added = services.add_guest(
            session, form.name.data or "", actor=_user(), now=utcnow()
        )
    if done:
        flash(
            "Guest added to the register."
            if added is not None
            else "A guest of that name is already on the register.",
            "success",
        )
    return _back(session)


@bp.post(
    "/<int:activity_id>/sessions/<int:session_id>/register/<int:attendance_id>/remove"
)
@roles_required(*EDITORS)
def remove(
    activity_id: int, session_id: int, attendance_id: int
) -> ResponseReturnValue:
    session = _session(activity_id, session_id)
    if not 1 <= attendance_id <= MAX_INT:
        abort(404)
    # The button is in the register's form: its other ticks are saved first.
    with change("Taken off the register."):
        _save_ticks(session)
        services.remove_attendance(session, attendance_id, actor=_user(), now=utcnow())
    return _back(session)


# Who took part ------------------------------------------------------------------------


def _participation_page(
    title: str,
    what: str,
    entity_id: int | None,
    report: taking_part.Participation,
    **extra: Any,
) -> ResponseReturnValue:
    user = _user()
    taking_part.audit_view(what, entity_id, report, actor=user, now=utcnow())
    db.session.commit()
    return render_template(
        "involvement/participation.html",
        title=title,
        report=report,
        # Equality figures are for admins, as on the equality report.
        show_equality=user.is_admin,
        **extra,
    )


@bp.get("/<int:activity_id>/participation")
@roles_required(*READERS)
def activity_participation(activity_id: int) -> ResponseReturnValue:
    if not 1 <= activity_id <= MAX_INT:
        abort(404)
    activity = db.get_or_404(InvolvementActivity, activity_id)
    report = taking_part.participation(activity_id=activity.id)
    return _participation_page(
        f"Who took part: {activity.title}",
        "activity",
        activity.id,
        report,
        activity=activity,
    )


@bp.get("/programmes/<int:programme_id>/participation")
@roles_required(*READERS)
def programme_participation(programme_id: int) -> ResponseReturnValue:
    if not 1 <= programme_id <= MAX_INT:
        abort(404)
    programme = db.get_or_404(Programme, programme_id)
    report = taking_part.participation(programme_id=programme.id)
    return _participation_page(
        f"Who took part: {programme.name}",
        "programme",
        programme.id,
        report,
        programme=programme,
    )


@bp.get("/participation")
@roles_required(*READERS)
def participation() -> ResponseReturnValue:
    report = taking_part.participation()
    now = utcnow()
    return _participation_page(
        "Who took part in involvement activities",
        "all activities",
        None,
        report,
        # Shown as the page shows every count of people: below 5 in words.
        active=taking_part.shown_count(taking_part.active_in_last_year(now)),
        programmes=db.session.scalars(
            db.select(Programme).order_by(Programme.name)
        ).all(),
    )
