"""Staff membership views: member list and records, exports, erasure, reports, SARs."""

from __future__ import annotations

import json
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any

from flask import Blueprint
from flask import Response
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from engage.accounts.access import ADMINS
from engage.accounts.access import EDITORS
from engage.accounts.access import READERS
from engage.accounts.access import roles_required
from engage.audit.services import record_event
from engage.clock import local_day
from engage.clock import today
from engage.clock import utcnow
from engage.edge import change
from engage.edge import saved_since_opened
from engage.errors import Conflict
from engage.errors import EngageError
from engage.extensions import db
from engage.formtools import id_or_none
from engage.involvement.history import involvement_for_member
from engage.mailings.history import sent_to_member
from engage.mailings.unsubscribe import undeliverable_for
from engage.membership import lists
from engage.membership import models
from engage.membership import reports
from engage.membership import sar
from engage.membership import services
from engage.membership.consent import current_consents
from engage.membership.equality import PREFER_NOT_TO_SAY
from engage.membership.equality import QUESTIONS
from engage.membership.forms import CONSENT_LABELS
from engage.membership.forms import AddMemberForm
from engage.membership.forms import EraseForm
from engage.membership.forms import MemberFilterForm
from engage.membership.forms import MemberForm
from engage.membership.forms import PopulationForm
from engage.membership.forms import PracticeForm
from engage.membership.forms import SubjectAccessRequestForm
from engage.membership.forms import TopicForm
from engage.membership.models import ContactChannel
from engage.membership.models import Member
from engage.membership.models import MemberStatus
from engage.membership.models import Practice
from engage.membership.models import SubjectAccessRequest
from engage.membership.models import Topic
from engage.paging import keyset_page

bp = Blueprint("members", __name__, url_prefix="/members")

PER_PAGE = 50


def _user() -> Any:
    return current_user._get_current_object()


def _download(content: bytes, mimetype: str, filename: str) -> Response:
    return Response(
        content,
        content_type=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


def _get_member(member_id: int) -> Member:
    member = db.get_or_404(Member, member_id)
    if member.status is MemberStatus.ERASED:
        abort(404)
    return member


# The list -----------------------------------------------------------------------------


@bp.get("/")
@roles_required(*READERS)
def index() -> ResponseReturnValue:
    form = MemberFilterForm(
        request.args, practices=lists.practice_choices(), topics=lists.topic_choices()
    )
    form.validate()
    criteria = services.MemberFilter(
        search=form.q.data or "",
        tier=form.tier.data,
        status=form.status.data,
        topic_id=form.topic.data,
        practice_id=form.practice.data,
        champion=True if form.champion.data else None,
        support_need=form.support.data,
    )
    page = keyset_page(
        services.member_query(criteria), services.MEMBER_ORDER, per_page=PER_PAGE
    )
    return render_template("membership/staff/index.html", form=form, page=page)


# Adding and editing -------------------------------------------------------------------


def _member_data(form: MemberForm) -> services.MemberData:
    consents: dict[ContactChannel, bool] = {}
    if isinstance(form, AddMemberForm):
        given = set(form.consents.data or ())
        consents = {c: c in given for c in ContactChannel}
    return services.MemberData(
        name=form.name.data or "",
        tier=form.tier.data,
        email=form.email.data or "",
        phone=form.phone.data or "",
        address=form.address.data or "",
        postcode=form.postcode.data or "",
        practice_id=form.practice_id.data,
        topic_ids=list(form.topics.data or ()),
        support_needs=list(form.support_needs.data or ()),
        support_other=form.support_other.data or "",
        is_champion=bool(form.is_champion.data),
        notes=form.notes.data or "",
        consents=consents,
    )


def _show_errors(form: MemberForm, error: EngageError) -> None:
    if isinstance(error, services.MemberDataError):
        for name, message in error.errors.items():
            getattr(form, name).errors = [message]
    elif isinstance(error, Conflict):
        form.email.errors = [error.message]
    else:
        form.name.errors = [error.message]


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*EDITORS)
def create() -> ResponseReturnValue:
    form = AddMemberForm(
        practices=lists.practice_choices(), topics=lists.topic_choices()
    )
    if form.validate_on_submit():
        with change(
            "Member added.", on_error=lambda error: _show_errors(form, error)
        ) as done:
            member = services.add_member(
                _member_data(form),
                method=form.method.data,
                actor=_user(),
                now=utcnow(),
            )
        if done:
            return redirect(url_for("members.detail", member_id=member.id))
    return render_template("membership/staff/form.html", form=form, member=None)


@bp.get("/<int:member_id>")
@roles_required(*READERS)
def detail(member_id: int) -> ResponseReturnValue:
    member = _get_member(member_id)
    record_event(_user(), "view", "member", member.id, "record viewed", now=utcnow())
    db.session.commit()
    return render_template(
        "membership/staff/detail.html",
        member=member,
        consents=current_consents(member),
        consent_labels=CONSENT_LABELS,
        history=services.member_history(member),
        mailings=sent_to_member(member),
        involvement=involvement_for_member(member),
        # Staff who may open mailings follow each subject to its page.
        link_subjects=_user().can_edit
        and "mailings.detail" in current_app.view_functions,
        undeliverable=undeliverable_for(member),
    )


@bp.route("/<int:member_id>/edit", methods=["GET", "POST"])
@roles_required(*EDITORS)
def edit(member_id: int) -> ResponseReturnValue:
    member = _get_member(member_id)
    # Keep a retired practice or topic the member already has, so saving works.
    practices = lists.practice_choices()
    if member.practice and (member.practice.id, member.practice.name) not in practices:
        practices.append((member.practice.id, member.practice.name))
    topics = lists.topic_choices()
    topics += [(t.id, t.name) for t in member.topics if (t.id, t.name) not in topics]
    form = MemberForm(obj=member, practices=practices, topics=topics)
    if request.method == "GET":
        form.topics.data = [t.id for t in member.topics]
        form.support_needs.data = [n.need for n in member.support_needs]
        form.opened_at.data = member.updated_at.isoformat()
    if form.validate_on_submit() and not saved_since_opened(
        form, member.updated_at, "member's record"
    ):
        with change(
            "Changes saved.", on_error=lambda error: _show_errors(form, error)
        ) as done:
            services.update_member(
                member, _member_data(form), actor=_user(), now=utcnow()
            )
        if done:
            return redirect(url_for("members.detail", member_id=member.id))
    return render_template("membership/staff/form.html", form=form, member=member)


@bp.post("/<int:member_id>/withdraw")
@roles_required(*EDITORS)
def withdraw(member_id: int) -> ResponseReturnValue:
    member = _get_member(member_id)
    services.withdraw_on_request(member, actor=_user(), now=utcnow())
    db.session.commit()
    flash("Member withdrawn. Nothing more will be sent to them.", "success")
    return redirect(url_for("members.detail", member_id=member.id))


@bp.route("/<int:member_id>/erase", methods=["GET", "POST"])
@roles_required(*ADMINS)
def erase(member_id: int) -> ResponseReturnValue:
    member = _get_member(member_id)
    form = EraseForm()
    if form.validate_on_submit():
        services.erase_member(
            member,
            actor=_user(),
            reason=form.reason.data,
            now=utcnow(),
        )
        db.session.commit()
        flash("The member's personal data has been erased.", "success")
        return redirect(url_for("members.index"))
    return render_template("membership/staff/erase.html", form=form, member=member)


# Subject access and export ------------------------------------------------------------


@bp.get("/<int:member_id>/subject-access.json")
@roles_required(*ADMINS)
def subject_access(member_id: int) -> ResponseReturnValue:
    member = _get_member(member_id)
    data = services.subject_access_export(member, actor=_user(), now=utcnow())
    db.session.commit()
    content = json.dumps(data, indent=2, ensure_ascii=False).encode()
    return _download(
        content,
        "application/json",
        f"member-{member.id}-subject-access.json",
    )


@bp.get("/export.<any(csv,xlsx):fmt>")
@roles_required(*EDITORS)
def export(fmt: str) -> ResponseReturnValue:
    include_equality = request.args.get("equality") == "1"
    if include_equality and not current_user.is_admin:
        abort(403)
    filename, mimetype, content = services.export_members(
        fmt, actor=_user(), include_equality=include_equality, now=utcnow()
    )
    db.session.commit()
    return _download(content, mimetype, filename)


# Equality report ----------------------------------------------------------------------


@bp.get("/equality")
@roles_required(*ADMINS)
def equality() -> ResponseReturnValue:
    report = reports.equality_report(actor=_user(), now=utcnow())
    db.session.commit()
    return render_template("membership/staff/equality.html", report=report)


@bp.route("/equality/population", methods=["GET", "POST"])
@roles_required(*ADMINS)
def population() -> ResponseReturnValue:
    profile = reports.population_profile()
    form = PopulationForm(
        data={f"{c}__{v}": percent for (c, v), percent in profile.items()}
    )
    if form.validate_on_submit():
        for question in QUESTIONS:
            for value, _label in question.answers:
                if value == PREFER_NOT_TO_SAY:
                    continue
                entered = form[f"{question.field}__{value}"].data
                reports.set_population_share(
                    question.field,
                    value,
                    None if entered is None else float(entered),
                    actor=_user(),
                    now=utcnow(),
                )
        db.session.commit()
        flash("Population profile saved.", "success")
        return redirect(url_for("members.equality"))
    return render_template(
        "membership/staff/population.html",
        form=form,
        questions=QUESTIONS,
        prefer_not=PREFER_NOT_TO_SAY,
    )


# Practices and topics -----------------------------------------------------------------


def _prefix(item_id: int | None) -> str:
    return f"item{item_id}" if item_id else "new"


def _list_page(
    model: type[Practice] | type[Topic],
    form_class: type[PracticeForm] | type[TopicForm],
    save: Callable[[Any, Any], object],
    items: Callable[[], Sequence[Any]],
    *,
    noun: str,
    endpoint: str,
    template: str,
    **extra: Any,
) -> ResponseReturnValue:
    """An admin list (practices, topics): each row its own form, plus one to add;
    ``extra`` goes to the template."""
    item_id = id_or_none(request.form.get("item_id"))
    item = db.get_or_404(model, item_id) if item_id else None
    submitted = form_class(prefix=_prefix(item_id))
    if submitted.validate_on_submit():
        with change(f"{noun} saved.", field=submitted.name) as done:
            save(item, submitted)
        if done:
            return redirect(url_for(endpoint))
    rows = items()
    forms = {
        row.id: submitted
        if row.id == item_id
        else form_class(formdata=None, obj=row, prefix=_prefix(row.id))
        for row in rows
    }
    new_form = submitted if item_id is None else form_class(formdata=None, prefix="new")
    return render_template(
        template, items=rows, forms=forms, new_form=new_form, **extra
    )


@bp.route("/practices", methods=["GET", "POST"])
@roles_required(*ADMINS)
def practices() -> ResponseReturnValue:
    def save(practice: Practice | None, form: Any) -> object:
        return lists.save_practice(
            practice,
            name=form.name.data,
            code=form.code.data or "",
            is_active=bool(form.is_active.data),
            actor=_user(),
            now=utcnow(),
        )

    return _list_page(
        Practice,
        PracticeForm,
        save,
        lists.list_practices,
        noun="Practice",
        endpoint="members.practices",
        template="membership/staff/practices.html",
        not_listed=lists.members_with_practice_not_listed(),
    )


@bp.route("/topics", methods=["GET", "POST"])
@roles_required(*ADMINS)
def topics() -> ResponseReturnValue:
    def save(topic: Topic | None, form: Any) -> object:
        return lists.save_topic(
            topic,
            name=form.name.data,
            is_active=bool(form.is_active.data),
            actor=_user(),
            now=utcnow(),
        )

    return _list_page(
        Topic,
        TopicForm,
        save,
        lists.list_topics,
        noun="Topic",
        endpoint="members.topics",
        template="membership/staff/topics.html",
    )


# Subject access request register ------------------------------------------------------


@bp.get("/subject-access-requests")
@roles_required(*ADMINS)
def sar_register() -> ResponseReturnValue:
    entries = sar.list_requests(today=today())
    return render_template("membership/staff/sar_register.html", entries=entries)


@bp.route("/subject-access-requests/new", methods=["GET", "POST"])
@roles_required(*ADMINS)
def sar_new() -> ResponseReturnValue:
    form = SubjectAccessRequestForm()
    if request.method == "GET":
        form.received_on.data = today()
        form.member_id.data = id_or_none(request.args.get("member_id"))
    if form.validate_on_submit():
        with change("Subject access request logged.", field=form.received_on) as done:
            sar.log_request(
                member=form.member,
                requester=form.requester.data,
                received_on=form.received_on.data,
                notes=form.notes.data or "",
                actor=_user(),
                now=utcnow(),
            )
        if done:
            return redirect(url_for("members.sar_register"))
    return render_template("membership/staff/sar_form.html", form=form)


@bp.post("/subject-access-requests/<int:request_id>/complete")
@roles_required(*ADMINS)
def sar_complete(request_id: int) -> ResponseReturnValue:
    sar_request = db.get_or_404(SubjectAccessRequest, request_id)
    now = utcnow()
    sar.complete_request(
        sar_request, completed_on=local_day(now), actor=_user(), now=now
    )
    db.session.commit()
    flash("Subject access request marked as completed.", "success")
    return redirect(url_for("members.sar_register"))


__all__ = ["bp", "models"]
