"""Public membership views: join, confirm, manage, download and withdraw."""

from __future__ import annotations

import json

from flask import Blueprint
from flask import Response
from flask import current_app
from flask import redirect
from flask import render_template
from flask import session
from flask import url_for
from flask.typing import ResponseReturnValue

from engage.clock import utcnow
from engage.db import write_after_read
from engage.edge import FORM_EXPIRED
from engage.edge import change
from engage.edge import form_token_expired
from engage.edge import refuse_tokenless_post
from engage.errors import EngageError
from engage.errors import NotFound
from engage.errors import ValidationError
from engage.extensions import csrf
from engage.extensions import db
from engage.extensions import limiter
from engage.http import writes_late
from engage.mail.requests import request_mail
from engage.membership import consent
from engage.membership import models  # noqa: F401 - registers the tables
from engage.membership import registration
from engage.membership import self_service
from engage.membership.equality import QUESTIONS
from engage.membership.models import Member
from engage.membership.models import MemberStatus
from engage.membership.public_forms import EqualityForm
from engage.membership.public_forms import JoinForm
from engage.membership.public_forms import ManageForm
from engage.membership.public_forms import ManageRequestForm
from engage.membership.public_forms import WithdrawForm
from engage.organisation.services import privacy_version_label

bp = Blueprint("join", __name__)

#: The session key holding an opaque, random value after every /join POST. Only a
#: newly created member's value matches a stored (hashed) equality token, so the
#: signed-but-readable session cookie never tells whether an address is a member's.
EQUALITY_KEY = "equality_step"
CSRF_EXPIRED = FORM_EXPIRED


def _join_limit() -> str:
    return str(current_app.config["MEMBERSHIP_JOIN_LIMIT"])


def _manage_request_limit() -> str:
    return str(current_app.config["MEMBERSHIP_MANAGE_REQUEST_LIMIT"])


def _token_limit() -> str:
    return str(current_app.config["MEMBERSHIP_TOKEN_LIMIT"])


#: One budget for every page opened with an emailed link, so guessing is slow.
token_limit = limiter.shared_limit(_token_limit, scope="membership-token")


# The join form checks its own CSRF token, so that an expired one can keep the answers
# (CSRFProtect would answer with an error page and lose them).
@bp.route("/join", methods=["GET", "POST"])
@writes_late
@csrf.exempt
@limiter.limit(_join_limit, methods=["POST"])
def index() -> ResponseReturnValue:
    form = JoinForm()
    if form.validate_on_submit():
        if form.is_bot():
            session[EQUALITY_KEY] = registration.start_equality_step(None, now=utcnow())
            return render_template("membership/public/check_email.html")
        now = utcnow()
        checked = registration.check_registration(form.registration())
        # The read phase is over: on SQLite its transaction ends and the write lock
        # is taken for the inserts alone, so concurrent joins queue only for each
        # other's writes.
        write_after_read(db.session())
        with change(catch=()):
            result = registration.store_registration(checked, now=now)
            member = result.member
            session[EQUALITY_KEY] = registration.start_equality_step(member, now=now)
            joined_without_email = member is not None and member.email is None
        if joined_without_email:
            return render_template("membership/public/joined.html")
        return render_template("membership/public/check_email.html")
    if form.csrf_expired():
        return _join_page(form, status=400, problem=CSRF_EXPIRED)
    return _join_page(form)


def _join_page(
    form: JoinForm, *, status: int = 200, problem: str | None = None
) -> ResponseReturnValue:
    page = render_template(
        "membership/public/join.html",
        form=form,
        problem=problem,
        notice_version=privacy_version_label(),
    )
    return page, status


@bp.route("/join/about-you", methods=["GET", "POST"])
@limiter.limit(_join_limit, methods=["POST"])
def equality() -> ResponseReturnValue:
    if EQUALITY_KEY not in session:
        return redirect(url_for("join.index"))
    form = EqualityForm()
    if form.validate_on_submit():
        value = session.pop(EQUALITY_KEY)
        now = utcnow()
        with change(catch=()):
            member = (
                registration.use_equality_token(value, now=now)
                if isinstance(value, str)
                else None
            )
            if form.save.data and member is not None:
                registration.save_equality_answers(member, form.answers(), now=now)
        return render_template("membership/public/thank_you.html")
    return render_template(
        "membership/public/equality.html", form=form, questions=QUESTIONS
    )


@bp.route("/join/confirm/<token>", methods=["GET", "POST"])
@token_limit
def confirm(token: str) -> ResponseReturnValue:
    registration.find_confirm_token(token, now=utcnow())
    form = WithdrawForm()
    if form.validate_on_submit():
        with change(catch=()):
            registration.confirm_member(token, now=utcnow())
        return render_template("membership/public/confirmed.html")
    return render_template("membership/public/confirm.html", form=form)


# It checks its own CSRF token, as /join does: an expired one sends the page back with
# the address typed.
@bp.route("/membership/manage", methods=["GET", "POST"])
@csrf.exempt
@limiter.limit(_manage_request_limit, methods=["POST"])
def manage_request() -> ResponseReturnValue:
    form = ManageRequestForm()
    if form.validate_on_submit():
        # The same answer, and the same work, whether or not the address is a
        # member's: whether to send is decided after the response.
        with change(catch=()):
            request_mail("manage-link", form.email.data, now=utcnow())
        return render_template("membership/public/manage_link_sent.html")
    expired = form.is_submitted() and form_token_expired(form)
    page = render_template(
        "membership/public/manage_request.html",
        form=form,
        problem=FORM_EXPIRED if expired else None,
    )
    return page, 400 if expired else 200


# The manage form checks its own CSRF token, as /join does: an expired one sends the
# page back with the changes typed, not to an error page that loses them.
@bp.route("/membership/manage/<token>", methods=["GET", "POST"])
@csrf.exempt
@token_limit
def manage(token: str) -> ResponseReturnValue:
    try:
        member = self_service.member_for_manage_token(token, now=utcnow())
    except NotFound:
        refuse_tokenless_post()
        raise
    editable = member.status in (MemberStatus.PENDING, MemberStatus.ACTIVE)
    form = ManageForm()
    saved = False
    email_sent_to = None
    if editable and form.validate_on_submit():
        with change(field=form.email, catch=ValidationError) as done:
            email_sent_to = self_service.update_own_details(
                member, form.registration(), now=utcnow()
            )
        saved = bool(done)
    if form.is_submitted() and form.csrf_expired():
        return _manage_page(member, token, form=form, problem=CSRF_EXPIRED, status=400)
    sent_back = form if form.is_submitted() and not saved else None
    return _manage_page(
        member, token, form=sent_back, saved=saved, email_sent_to=email_sent_to
    )


def _manage_page(
    member: Member,
    token: str,
    *,
    form: ManageForm | None = None,
    saved: bool = False,
    email_sent_to: str | None = None,
    confirmed: bool = False,
    problem: str | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    """The manage page: ``form`` as sent back with its errors, else the details as
    they stand."""
    editable = member.status in (MemberStatus.PENDING, MemberStatus.ACTIVE)
    if form is None:
        form = ManageForm(formdata=None)
        form.fill_from(self_service.registration_of(member))
    page = render_template(
        "membership/public/manage.html",
        form=form,
        member=member,
        token=token,
        editable=editable,
        saved=saved,
        email_sent_to=email_sent_to,
        confirmed=confirmed,
        problem=problem,
        confirm_form=WithdrawForm(formdata=None),
        # Consent given before a privacy notice that asked for it afresh: saving the
        # details with the box still ticked gives it again.
        stale=consent.stale_consents(member) if editable else [],
    )
    return page, status


@bp.post("/membership/manage/<token>/confirm")
@token_limit
def confirm_through_manage(token: str) -> ResponseReturnValue:
    """A member who never confirmed, and whose confirmation link was lost or ran
    out: the manage link came to the same address, so it proves it as well."""
    member = self_service.member_for_manage_token(token, now=utcnow())
    form = WithdrawForm()
    if not (form.validate_on_submit() and member.status is MemberStatus.PENDING):
        return redirect(url_for("join.manage", token=token))
    with change(catch=()):
        registration.activate(
            member, now=utcnow(), how="email confirmed through a manage link"
        )
    return _manage_page(member, token, confirmed=True)


@bp.route("/membership/email/<token>", methods=["GET", "POST"])
@token_limit
def confirm_email(token: str) -> ResponseReturnValue:
    member = self_service.member_for_email_change_token(token, now=utcnow())
    form = WithdrawForm()
    problem = None

    def show(error: EngageError) -> None:
        nonlocal problem
        problem = error.message

    if form.validate_on_submit():
        # Only the address being taken is shown here; an unusable link is the same
        # 404 as any other.
        with change(on_error=show, catch=ValidationError) as done:
            self_service.confirm_email_change(token, now=utcnow())
        if done:
            return render_template("membership/public/email_changed.html")
    return render_template(
        "membership/public/confirm_email.html",
        form=form,
        new_email=member.pending_email,
        problem=problem,
    )


@bp.get("/membership/manage/<token>/data.json")
@token_limit
def download(token: str) -> ResponseReturnValue:
    member = self_service.member_for_manage_token(token, now=utcnow())
    with change(catch=()):
        self_service.record_own_export(member, now=utcnow())
        data = self_service.export_own_data(member)
    response = Response(
        json.dumps(data, indent=2, ensure_ascii=False),
        mimetype="application/json",
    )
    response.headers["Content-Disposition"] = (
        'attachment; filename="my-ppi-membership.json"'
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/membership/manage/<token>/data")
@token_limit
def own_data(token: str) -> ResponseReturnValue:
    """The member's data as a page they can read and print (the JSON's twin)."""
    member = self_service.member_for_manage_token(token, now=utcnow())
    with change(catch=()):
        self_service.record_own_export(member, now=utcnow(), page=True)
        data = self_service.readable_own_data(member)
        response = Response(
            render_template(
                "membership/public/own_data.html",
                data=data,
                token=token,
                now=utcnow(),
            )
        )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/membership/manage/<token>/withdraw", methods=["GET", "POST"])
@token_limit
def withdraw(token: str) -> ResponseReturnValue:
    member = self_service.member_for_manage_token(token, now=utcnow())
    form = WithdrawForm()
    if form.validate_on_submit():
        with change(catch=()):
            self_service.withdraw_own_membership(member, now=utcnow())
        return render_template("membership/public/withdrawn.html")
    return render_template(
        "membership/public/withdraw.html", form=form, member=member, token=token
    )
