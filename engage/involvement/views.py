"""Staff pages for involvement activities: the list, the form and each activity."""

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
from sqlalchemy import func
from sqlalchemy import select

from engage.accounts.access import EDITORS
from engage.accounts.access import READERS
from engage.accounts.access import roles_required
from engage.actions.models import Action
from engage.audiences.services import list_audiences
from engage.clock import to_local
from engage.clock import utcnow
from engage.edge import change
from engage.edge import saved_since_opened
from engage.errors import EngageError
from engage.extensions import db
from engage.involvement import services
from engage.involvement.forms import ActivityFilterForm
from engage.involvement.forms import ActivityForm
from engage.involvement.forms import SessionForm
from engage.involvement.forms import initial_values
from engage.involvement.models import ActivityStatus
from engage.involvement.models import InvolvementActivity
from engage.involvement.models import InvolvementInvitation
from engage.involvement.models import InvolvementSession
from engage.involvement.panels import panel_context
from engage.membership.lists import practice_choices
from engage.membership.lists import topic_choices
from engage.membership.models import ContactChannel
from engage.membership.models import Practice
from engage.membership.models import Topic
from engage.paging import paginate

bp = Blueprint("involvement", __name__, url_prefix="/involvement")

PER_PAGE = 25


# The list -------------------------------------------------------------------------


@bp.get("/")
@roles_required(*READERS)
def index() -> ResponseReturnValue:
    form = ActivityFilterForm(request.args)
    criteria = services.ActivityFilter(when="upcoming")
    if form.validate():
        when = form.when.data
        criteria = services.ActivityFilter(
            kind=form.kind.data,
            status=form.status.data,
            when=None if when == "all" else when,
        )
    now = utcnow()
    page = paginate(services.activity_query(criteria, now=now), per_page=PER_PAGE)
    return render_template(
        "involvement/index.html",
        form=form,
        page=page,
        glances=services.glances(list(page.items), now=now),
        criteria=criteria,
        when=services.when_in_words,
    )


# Making and changing an activity --------------------------------------------------


def _activity(activity_id: int) -> InvolvementActivity:
    return db.get_or_404(InvolvementActivity, activity_id)


def _with_current(
    pairs: list[tuple[int, str]], current: int | None, model: Any
) -> list[tuple[int, str]]:
    """Active choices, plus the one the activity has if it was since retired."""
    if current is None or any(value == current for value, _ in pairs):
        return pairs
    row = db.session.get(model, current)
    return [*pairs, (current, row.name)] if row is not None else pairs


def _form(
    activity: InvolvementActivity | None, *, with_schedule: bool, **kwargs: Any
) -> ActivityForm:
    current_action = activity.action_id if activity is not None else None
    actions = [
        (a.id, a.title)
        for a in db.session.scalars(select(Action).order_by(Action.title))
        if a.status.is_open or a.id == current_action
    ]
    chosen = {a.id for a in activity.audiences} if activity is not None else set()
    audiences = [
        (a.id, a.name)
        for a in list_audiences(include_archived=True)
        if a.archived_at is None or a.id in chosen
    ]
    return ActivityForm(
        actions=actions,
        rates=services.rate_choices(activity.rate_id if activity else None),
        topics=_with_current(
            topic_choices(), activity.topic_id if activity else None, Topic
        ),
        practices=_with_current(
            practice_choices(), activity.practice_id if activity else None, Practice
        ),
        audiences=audiences,
        with_schedule=with_schedule,
        **kwargs,
    )


def _on_field(form: Any, fallback: str) -> Any:
    """Show a service's refusal on the field it is about (else on ``fallback``)."""

    def show(error: EngageError) -> None:
        name = getattr(error, "field", None)
        target = form[name] if name and name in form else form[fallback]
        target.errors = [*(target.errors or ()), error.message]

    return show


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*EDITORS)
def new() -> ResponseReturnValue:
    # Email is ticked to begin with; not once sent, where none ticked means none.
    initial = {"channels": [ContactChannel.EMAIL]} if request.method == "GET" else {}
    form = _form(None, with_schedule=True, data=initial)
    if form.validate_on_submit():
        with change(
            "Activity saved as a draft.", on_error=_on_field(form, "title")
        ) as done:
            activity = services.create_activity(
                form.data_for_service(),
                form.schedule(),  # type: ignore[arg-type]
                actor=current_user,
                now=utcnow(),
            )
        if done:
            return redirect(url_for("involvement.detail", activity_id=activity.id))
    return render_template("involvement/form.html", form=form, activity=None)


@bp.get("/<int:activity_id>")
@roles_required(*READERS)
def detail(activity_id: int) -> ResponseReturnValue:
    activity = _activity(activity_id)
    session_ids = [s.id for s in activity.sessions]
    invited: dict[int, int] = {}
    if session_ids:
        invited = dict(
            db.session.execute(
                select(InvolvementInvitation.session_id, func.count())
                .where(InvolvementInvitation.session_id.in_(session_ids))
                .group_by(InvolvementInvitation.session_id)
            ).all()
        )
    now = utcnow()
    sessions = [
        {
            "session": s,
            "when": services.when_in_words(s.starts_at, s.ends_at),
            "invited": invited.get(s.id, 0),
            "past": services.aware(s.ends_at) <= now,
            "started": services.aware(s.starts_at) <= now,
        }
        for s in activity.sessions
    ]
    page = {
        "activity": activity,
        "sessions": sessions,
        "rate": services.rate_in_words(activity.rate) if activity.rate else None,
        "duration": services.duration_in_words(activity.duration_minutes),
        "support": services.support_offered(activity),
        "who": services.invited_in_words(activity),
        "yes_no_unknown": services.yes_no_unknown,
        "can_edit": current_user.can_edit,
    }
    panels, values = panel_context(activity, page)
    return render_template("involvement/detail.html", panels=panels, **page, **values)


@bp.route("/<int:activity_id>/edit", methods=["GET", "POST"])
@roles_required(*EDITORS)
def edit(activity_id: int) -> ResponseReturnValue:
    activity = _activity(activity_id)
    if activity.status is ActivityStatus.CANCELLED:
        flash("This activity has been cancelled: it can no longer change.", "error")
        return redirect(url_for("involvement.detail", activity_id=activity.id))
    locked = services.schedule_locked(activity)
    schedule = None if locked else services.schedule_of(activity)
    form = _form(
        activity,
        with_schedule=not locked,
        data=initial_values(activity, schedule),
    )
    if not form.is_submitted():
        form.opened_at.data = activity.updated_at.isoformat()
    elif form.validate() and not saved_since_opened(
        form, activity.updated_at, "activity"
    ):
        with change("Changes saved.", on_error=_on_field(form, "title")) as done:
            services.update_activity(
                activity,
                form.data_for_service(),
                form.schedule(),
                duration_minutes=form.duration.data,
                actor=current_user,
                now=utcnow(),
            )
        if done:
            return redirect(url_for("involvement.detail", activity_id=activity.id))
    return render_template("involvement/form.html", form=form, activity=activity)


@bp.route("/<int:activity_id>/delete", methods=["GET", "POST"])
@roles_required(*EDITORS)
def delete(activity_id: int) -> ResponseReturnValue:
    activity = _activity(activity_id)
    back = url_for("involvement.detail", activity_id=activity.id)
    if activity.status is not ActivityStatus.DRAFT or services.schedule_locked(
        activity
    ):
        flash(
            "Only a draft no one has been invited to can be deleted; cancel it "
            "instead.",
            "error",
        )
        return redirect(back)
    if request.method == "POST":
        title = activity.title
        with change(f"{title} deleted.") as done:
            services.delete_activity(activity, actor=current_user, now=utcnow())
        return redirect(url_for("involvement.index") if done else back)
    return render_template("involvement/delete.html", activity=activity)


# Sessions -------------------------------------------------------------------------


def _session(activity: InvolvementActivity, session_id: int) -> InvolvementSession:
    session = db.session.get(InvolvementSession, session_id)
    if session is None or session.activity_id != activity.id:
        abort(404)
    return session


@bp.route("/<int:activity_id>/sessions/new", methods=["GET", "POST"])
@roles_required(*EDITORS)
def new_session(activity_id: int) -> ResponseReturnValue:
    activity = _activity(activity_id)
    back = url_for("involvement.detail", activity_id=activity.id)
    if activity.status is ActivityStatus.CANCELLED:
        flash("This activity has been cancelled: it can no longer change.", "error")
        return redirect(back)
    form = SessionForm(data={"duration": activity.duration_minutes})
    if form.validate_on_submit():
        with change("Session added.", on_error=_on_field(form, "day")) as done:
            services.add_session(
                activity,
                form.day.data,
                form.at.data,
                duration_minutes=form.duration.data,
                actor=current_user,
                now=utcnow(),
            )
        if done:
            return redirect(back)
    return render_template(
        "involvement/session_form.html", form=form, activity=activity, session=None
    )


@bp.route("/<int:activity_id>/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@roles_required(*EDITORS)
def edit_session(activity_id: int, session_id: int) -> ResponseReturnValue:
    activity = _activity(activity_id)
    session = _session(activity, session_id)
    back = url_for("involvement.detail", activity_id=activity.id)
    if activity.status is ActivityStatus.CANCELLED or session.cancelled_at:
        flash("A cancelled session cannot be moved.", "error")
        return redirect(back)
    starts = to_local(services.aware(session.starts_at))
    minutes = round((session.ends_at - session.starts_at).total_seconds() / 60)
    form = SessionForm(
        data={
            "day": starts.date(),
            "at": starts.time().replace(second=0, microsecond=0),
            "duration": minutes,
        }
    )
    if form.validate_on_submit():
        told = "Session moved." + (
            " Everyone invited to it will be told of the change."
            if services.was_sent(session)
            else ""
        )
        with change(told, on_error=_on_field(form, "day")) as done:
            moved = services.move_session(
                session,
                form.day.data,
                form.at.data,
                duration_minutes=form.duration.data,
                actor=current_user,
                now=utcnow(),
            )
            if not moved:
                done.success = "Nothing changed: the session was already then."
        if done:
            return redirect(back)
    return render_template(
        "involvement/session_form.html",
        form=form,
        activity=activity,
        session=session,
        when=services.when_in_words(session.starts_at, session.ends_at),
    )


@bp.post("/<int:activity_id>/sessions/<int:session_id>/remove")
@roles_required(*EDITORS)
def remove_session(activity_id: int, session_id: int) -> ResponseReturnValue:
    activity = _activity(activity_id)
    session = _session(activity, session_id)
    with change("Session removed.", refusal="The session was not removed: {}."):
        services.remove_session(session, actor=current_user, now=utcnow())
    return redirect(url_for("involvement.detail", activity_id=activity.id))
