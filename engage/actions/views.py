"""Action plan views: the plan, my actions, the month calendar, deliveries."""

from __future__ import annotations

import calendar as calendar_module
from datetime import date
from datetime import timedelta

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
from engage.actions import deliveries
from engage.actions import services
from engage.actions.forms import ActionForm
from engage.actions.forms import ChannelForm
from engage.actions.forms import DeliveryForm
from engage.actions.forms import ObjectiveForm
from engage.actions.forms import PlanFilterForm
from engage.actions.forms import StatusForm
from engage.actions.models import Action
from engage.actions.models import ActionStatus
from engage.actions.models import Channel
from engage.actions.models import Objective
from engage.actions.models import Recurrence
from engage.audiences.services import list_audiences
from engage.audiences.services import list_programmes
from engage.clock import today
from engage.clock import utcnow
from engage.edge import change
from engage.edge import saved_since_opened
from engage.extensions import db
from engage.formtools import parse_month
from engage.metrics.services import observations_from_activities
from engage.paging import CursorPage
from engage.paging import keyset_page

bp = Blueprint("actions", __name__, url_prefix="/actions")

PER_PAGE = 25


def _options() -> dict[str, list[tuple[int, str]]]:
    return {
        "channels": [(c.id, c.name) for c in services.list_channels()],
        "audiences": [(a.id, a.name) for a in list_audiences()],
        "programmes": [(p.id, p.name) for p in list_programmes()],
        "owners": [(u.id, u.name) for u in list_active_users()],
    }


def _can_change(action: Action) -> bool:
    """Officers change the actions they own (or that nobody owns yet); admins any."""
    return bool(
        current_user.is_admin
        or (
            current_user.can_edit
            and (not action.owners or current_user in action.owners)
        )
    )


def _require_can_change(action: Action) -> None:
    if not _can_change(action):
        abort(403)


@bp.get("/")
@roles_required(*READERS)
def index() -> ResponseReturnValue:
    options = _options()
    form = PlanFilterForm(
        request.args,
        owners=options["owners"],
        channels=options["channels"],
        audiences=options["audiences"],
        programmes=options["programmes"],
    )
    criteria = services.ActionFilter()
    if form.validate():
        criteria = services.ActionFilter(
            search=form.q.data or "",
            owner_id=form.owner.data,
            status=form.status.data,
            channel_id=form.channel.data,
            audience_id=form.audience.data,
            programme_id=form.programme.data,
            due_from=form.due_from.data,
            due_to=form.due_to.data,
            overdue=bool(form.overdue.data),
            unscheduled=bool(form.unscheduled.data),
            sort=form.sort.data or services.SortKey.DUE,
            descending=form.order.data == "desc",
        )
    today = clock.today()
    page = _plan_page(criteria, today)
    return render_template(
        "actions/index.html", form=form, page=page, today=today, heading="Action plan"
    )


@bp.get("/mine")
@roles_required(*READERS)
def mine() -> ResponseReturnValue:
    today = clock.today()
    criteria = services.ActionFilter(owner_id=current_user.id, include_closed=False)
    page = _plan_page(criteria, today)
    return render_template("actions/mine.html", page=page, today=today)


def _plan_page(criteria: services.ActionFilter, today: date) -> CursorPage:
    """A page of the plan, in the order chosen."""
    query = services.action_query(criteria, today=today)
    return keyset_page(query, services.action_order(criteria), per_page=PER_PAGE)


@bp.get("/calendar")
@roles_required(*READERS)
def month() -> ResponseReturnValue:
    today = clock.today()
    first = parse_month(request.args.get("month")) or today.replace(day=1)
    last = first.replace(day=calendar_module.monthrange(first.year, first.month)[1])
    mine_only = request.args.get("mine") == "1"
    items = services.due_between(
        first, last, owner_id=current_user.id if mine_only else None
    )
    by_day: dict[date, list[services.DueItem]] = {}
    for item in items:
        by_day.setdefault(item.day, []).append(item)
    weeks = calendar_module.Calendar(firstweekday=0).monthdatescalendar(
        first.year, first.month
    )
    return render_template(
        "actions/month.html",
        first=first,
        weeks=weeks,
        by_day=by_day,
        items=items,
        previous=(first - timedelta(days=1)).replace(day=1),
        following=last + timedelta(days=1),
        mine_only=mine_only,
        today=today,
    )


def _action_form(action: Action | None) -> ActionForm:
    options = _options()
    form = ActionForm(
        obj=action,
        channels=[(c.id, c.name) for c in services.list_channels(active_only=True)]
        + (
            [(action.channel.id, action.channel.name)]
            if action and not action.channel.is_active
            else []
        ),
        audiences=options["audiences"],
        objectives=[(o.id, o.title) for o in services.list_objectives()],
        programmes=options["programmes"],
        owners=options["owners"],
    )
    if action is not None and request.method == "GET":
        form.audience_ids.data = [a.id for a in action.audiences]
        form.owner_ids.data = [u.id for u in action.owners]
    return form


def _action_data(form: ActionForm) -> services.ActionData:
    return services.ActionData(
        title=form.title.data,
        channel_id=form.channel_id.data,
        audience_ids=tuple(form.audience_ids.data or ()),
        all_audiences=bool(form.all_audiences.data),
        audience_note=form.audience_note.data or "",
        objective_id=form.objective_id.data,
        programme_id=form.programme_id.data,
        owner_ids=tuple(form.owner_ids.data or ()),
        responsibility=form.responsibility.data or "",
        start_date=form.start_date.data,
        due_date=form.due_date.data,
        timescale=form.timescale.data or "",
        recurrence=form.recurrence.data or Recurrence.NONE,
        success_measure=form.success_measure.data or "",
        status=form.status.data or ActionStatus.PLANNED,
    )


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*EDITORS)
def create() -> ResponseReturnValue:
    form = _action_form(None)
    if form.validate_on_submit():
        with change("Action added to the plan.", field=form.title) as done:
            action = services.create_action(
                _action_data(form), actor=current_user, now=utcnow()
            )
        if done:
            _say_who_may_change(action)
            return redirect(url_for("actions.detail", action_id=action.id))
    return render_template("actions/form.html", form=form, action=None)


def _say_who_may_change(action: Action) -> None:
    """Warn an officer who left themselves out of an action's owners: from now on
    only those owners (and administrators) may change it."""
    if not _can_change(action):
        names = ", ".join(owner.name for owner in action.owners)
        flash(
            f"Only its owners ({names}) and administrators can change this action "
            "now: ask one of them to add you as an owner if you need to.",
            "info",
        )


@bp.get("/<int:action_id>")
@roles_required(*READERS)
def detail(action_id: int) -> ResponseReturnValue:
    action = db.get_or_404(Action, action_id)
    return render_template(
        "actions/detail.html",
        action=action,
        today=today(),
        can_change=_can_change(action),
        status_form=StatusForm(data={"status": action.status.value}),
        unscheduled=services.is_unscheduled(action),
        overdue=services.is_overdue(action, today()),
    )


@bp.route("/<int:action_id>/edit", methods=["GET", "POST"])
@roles_required(*EDITORS)
def edit(action_id: int) -> ResponseReturnValue:
    action = db.get_or_404(Action, action_id)
    _require_can_change(action)
    form = _action_form(action)
    if not form.is_submitted():
        form.opened_at.data = action.updated_at.isoformat()
    elif form.validate() and not saved_since_opened(form, action.updated_at, "action"):
        with change("Changes saved.", field=form.title) as done:
            services.update_action(
                action, _action_data(form), actor=current_user, now=utcnow()
            )
        if done:
            _say_who_may_change(action)
            return redirect(url_for("actions.detail", action_id=action.id))
    return render_template("actions/form.html", form=form, action=action)


@bp.post("/<int:action_id>/status")
@roles_required(*EDITORS)
def set_status(action_id: int) -> ResponseReturnValue:
    action = db.get_or_404(Action, action_id)
    _require_can_change(action)
    form = StatusForm()
    if form.validate():
        services.change_status(
            action, form.status.data, actor=current_user, now=utcnow()
        )
        db.session.commit()
        flash(f"Status changed to {action.status.label.lower()}.", "success")
    return redirect(url_for("actions.detail", action_id=action.id))


@bp.route("/<int:action_id>/deliveries/new", methods=["GET", "POST"])
@roles_required(*EDITORS)
def log_delivery(action_id: int) -> ResponseReturnValue:
    action = db.get_or_404(Action, action_id)
    _require_can_change(action)
    form = DeliveryForm(audiences=[(a.id, a.name) for a in list_audiences()])
    if request.method == "GET":
        form.occurred_on.data = today()
        form.audience_ids.data = [
            a.id for a in deliveries.default_reached_audiences(action)
        ]
    if form.validate_on_submit():
        data = deliveries.DeliveryData(
            occurred_on=form.occurred_on.data,
            description=form.description.data,
            notes=form.notes.data or "",
            audience_ids=tuple(form.audience_ids.data or ()),
            figures=tuple(
                (entry.form.measure.data, entry.form.number.data)
                for entry in form.figures
                if entry.form.measure.data and entry.form.number.data is not None
            ),
            complete=bool(form.complete.data),
        )
        with change("Delivery logged.", field=form.description) as done:
            deliveries.log_delivery(action, data, actor=current_user, now=utcnow())
            # Measures of reach: the figures become observations.
            observations_from_activities([data.occurred_on], now=utcnow())
        if done:
            return redirect(url_for("actions.detail", action_id=action.id))
    return render_template("actions/delivery_form.html", form=form, action=action)


# Objectives and channels --------------------------------------------------------------


@bp.get("/objectives")
@roles_required(*READERS)
def objectives() -> ResponseReturnValue:
    return render_template(
        "actions/objectives.html", objectives=services.list_objectives()
    )


@bp.route("/objectives/new", methods=["GET", "POST"])
@roles_required(*EDITORS)
def create_objective() -> ResponseReturnValue:
    return _objective_form(None)


@bp.route("/objectives/<int:objective_id>/edit", methods=["GET", "POST"])
@roles_required(*EDITORS)
def edit_objective(objective_id: int) -> ResponseReturnValue:
    return _objective_form(db.get_or_404(Objective, objective_id))


def _objective_form(objective: Objective | None) -> ResponseReturnValue:
    form = ObjectiveForm(obj=objective)
    if form.validate_on_submit():
        data = services.ObjectiveData(
            title=form.title.data,
            message=form.message.data or "",
            desired_outcome=form.desired_outcome.data or "",
            responsible=form.responsible.data or "",
            due_date=form.due_date.data,
        )
        with change("Objective saved.", field=form.title) as done:
            services.save_objective(objective, data, actor=current_user, now=utcnow())
        if done:
            return redirect(url_for("actions.objectives"))
    return render_template(
        "actions/objective_form.html", form=form, objective=objective
    )


@bp.get("/channels")
@roles_required(*ADMINS)
def channels() -> ResponseReturnValue:
    return render_template("actions/channels.html", channels=services.list_channels())


@bp.route("/channels/new", methods=["GET", "POST"])
@roles_required(*ADMINS)
def create_channel() -> ResponseReturnValue:
    return _channel_form(None)


@bp.route("/channels/<int:channel_id>/edit", methods=["GET", "POST"])
@roles_required(*ADMINS)
def edit_channel(channel_id: int) -> ResponseReturnValue:
    return _channel_form(db.get_or_404(Channel, channel_id))


def _channel_form(channel: Channel | None) -> ResponseReturnValue:
    form = ChannelForm(obj=channel)
    if form.validate_on_submit():
        with change("Channel saved.", field=form.name) as done:
            services.save_channel(
                channel,
                name=form.name.data,
                is_active=form.is_active.data,
                actor=current_user,
                now=utcnow(),
            )
        if done:
            return redirect(url_for("actions.channels"))
    return render_template("actions/channel_form.html", form=form, channel=channel)
