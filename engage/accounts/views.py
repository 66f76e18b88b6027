"""Account views: sign in and out, passwords, session time-out, user administration."""

from __future__ import annotations

from flask import Blueprint
from flask import current_app
from flask import flash
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_login import login_required
from werkzeug.wrappers import Response

from engage.accounts import services
from engage.accounts import sessions
from engage.accounts import twofactor
from engage.accounts.access import ADMINS
from engage.accounts.access import roles_required
from engage.accounts.access import safe_next_url
from engage.accounts.forms import ChangePasswordForm
from engage.accounts.forms import DisableTwoFactorForm
from engage.accounts.forms import ForgotPasswordForm
from engage.accounts.forms import LoginForm
from engage.accounts.forms import SetPasswordForm
from engage.accounts.forms import TotpCodeForm
from engage.accounts.forms import UserForm
from engage.accounts.models import User
from engage.clock import utcnow
from engage.db import begin_write
from engage.edge import change
from engage.extensions import db
from engage.extensions import limiter
from engage.http import writes_late
from engage.mail.requests import request_mail

bp = Blueprint("accounts", __name__)
admin_bp = Blueprint("admin", __name__, url_prefix="/admin")

LOGIN_FAILED = "Enter a correct email address and password"


def _account_key() -> str:
    return "login-account:" + services.normalise_email(request.form.get("email", ""))


def _login_failed(response: Response) -> bool:
    return response.status_code != 302


def _login_limit_account() -> str:
    return str(current_app.config["LOGIN_LIMIT_PER_ACCOUNT"])


def _login_limit_client() -> str:
    return str(current_app.config["LOGIN_LIMIT_PER_CLIENT"])


def _public_form_limit() -> str:
    return str(current_app.config["PUBLIC_FORM_LIMIT"])


@bp.route("/login", methods=["GET", "POST"])
@writes_late
@limiter.limit(
    _login_limit_account,
    key_func=_account_key,
    methods=["POST"],
    deduct_when=_login_failed,
)
@limiter.limit(_login_limit_client, methods=["POST"], deduct_when=_login_failed)
def login() -> ResponseReturnValue:
    next_url = safe_next_url(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or url_for("web.home"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        now = utcnow()
        attempt = services.find_login(form.email.data)
        # End the read phase: no snapshot or lock is held during the argon2 check
        # (the view is writes_late), and the write lock is taken after it.
        db.session.rollback()
        attempt = services.check_login_password(attempt, form.password.data)
        begin_write(db.session())
        with change(catch=()):
            user = services.record_login(attempt, now=now)
        if user is not None and services.needs_second_step(user):
            sessions.begin_second_step(user, next_url)
            return redirect(url_for("twofactor.code"))
        if user is not None:
            sessions.start_session(user)
            return redirect(next_url or url_for("web.home"))
        error = LOGIN_FAILED
    elif request.method == "POST":
        error = LOGIN_FAILED
    form.password.data = ""
    return render_template("accounts/login.html", form=form, error=error)


@bp.post("/logout")
@login_required
def logout() -> ResponseReturnValue:
    with change(catch=()):
        services.record_logout(current_user, now=utcnow())
    sessions.end_session()
    flash("You have signed out.", "success")
    return redirect(url_for("accounts.login"))


@bp.get("/session/status")
def session_status() -> ResponseReturnValue:
    """Seconds left before time-out, for the warning script (does not extend)."""
    if not current_user.is_authenticated:
        return jsonify(signed_in=False, seconds_left=0)
    return jsonify(signed_in=True, **sessions.session_info())


@bp.post("/session/extend")
@login_required
def extend_session() -> ResponseReturnValue:
    """Count as activity (the time-out check already refreshed the session)."""
    if request.accept_mimetypes.best == "application/json":
        return jsonify(signed_in=True, **sessions.session_info())
    return redirect(safe_next_url(request.form.get("next")) or url_for("web.home"))


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit(_public_form_limit, methods=["POST"])
def forgot_password() -> ResponseReturnValue:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        # The same answer, and the same work, whether or not the address has an
        # account: whether to send is decided after the response.
        with change(catch=()):
            request_mail("password-reset", form.email.data, now=utcnow())
        return render_template("accounts/forgot_password_sent.html")
    return render_template("accounts/forgot_password.html", form=form)


@bp.route("/set-password/<token>", methods=["GET", "POST"])
@limiter.limit(_public_form_limit, methods=["POST"])
def set_password(token: str) -> ResponseReturnValue:
    record = services.find_password_token(token, now=utcnow())
    user = record.user
    form = SetPasswordForm(user_context=(user.email, user.name))
    if form.validate_on_submit():
        with change(catch=()):
            services.set_password_with_token(
                token, form.new_password.data, now=utcnow()
            )
        sessions.end_session()
        flash("Your password has been set. Sign in with your new password.", "success")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/set_password.html", form=form, user=user)


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account() -> ResponseReturnValue:
    user: User = current_user._get_current_object()
    form = ChangePasswordForm(user_context=(user.email, user.name))
    if form.validate_on_submit():
        with change(field=form.current_password) as done:
            services.change_password(
                user,
                current=form.current_password.data,
                new=form.new_password.data,
                now=utcnow(),
            )
        if done:
            sessions.start_session(user)
            flash(
                "Your password has been changed. Other sessions have been signed out.",
                "success",
            )
            return redirect(url_for("accounts.account"))
    return render_template(
        "accounts/account.html",
        form=form,
        user=user,
        two_factor=twofactor.account_summary(user),
        recovery_form=TotpCodeForm(prefix="recovery", formdata=None),
        disable_form=DisableTwoFactorForm(prefix="disable", formdata=None),
    )


# Administration ----------------------------------------------------------------------


@admin_bp.get("/")
@roles_required(*ADMINS)
def index() -> ResponseReturnValue:
    return render_template("accounts/admin_index.html")


@admin_bp.get("/users")
@roles_required(*ADMINS)
def users() -> ResponseReturnValue:
    return render_template("accounts/users.html", users=services.list_users())


@admin_bp.route("/users/new", methods=["GET", "POST"])
@roles_required(*ADMINS)
def create_user() -> ResponseReturnValue:
    form = UserForm()
    if form.validate_on_submit():
        with change(field=form.email) as done:
            user = services.create_user(
                actor=current_user,
                email=form.email.data,
                name=form.name.data,
                role=form.role.data,
                now=utcnow(),
            )
            services.issue_password_link(
                user, actor=current_user, now=utcnow(), reason="invitation"
            )
        if done:
            flash(
                f"{user.name} has been added and sent a link to set their password.",
                "success",
            )
            return redirect(url_for("admin.users"))
    return render_template("accounts/user_form.html", form=form, user=None)


@admin_bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@roles_required(*ADMINS)
def edit_user(user_id: int) -> ResponseReturnValue:
    user = db.get_or_404(User, user_id)
    form = UserForm(obj=user)
    if form.validate_on_submit():
        with change(field=form.email) as done:
            services.update_user(
                user,
                actor=current_user,
                name=form.name.data,
                email=form.email.data,
                role=form.role.data,
                is_active=form.is_active.data,
                now=utcnow(),
            )
        if done:
            flash(f"Changes to {user.name} saved.", "success")
            return redirect(url_for("admin.users"))
    return render_template("accounts/user_form.html", form=form, user=user)


@admin_bp.post("/users/<int:user_id>/send-link")
@roles_required(*ADMINS)
def send_password_link(user_id: int) -> ResponseReturnValue:
    user = db.get_or_404(User, user_id)
    if not user.is_active:
        flash("Activate the account before sending a link.", "error")
        return redirect(url_for("admin.edit_user", user_id=user.id))
    with change(f"A link to set their password has been sent to {user.name}."):
        services.issue_password_link(
            user, actor=current_user, now=utcnow(), reason="sent by admin"
        )
    return redirect(url_for("admin.users"))


# Production readiness: an admin resets a colleague's lost two-factor sign-in.
@admin_bp.post("/users/<int:user_id>/reset-two-factor")
@roles_required(*ADMINS)
def reset_two_factor(user_id: int) -> ResponseReturnValue:
    user = db.get_or_404(User, user_id)
    with change(f"Two-factor sign-in for {user.name} has been reset.") as done:
        twofactor.reset_totp(user, actor=current_user, now=utcnow())
    if not done:
        return redirect(url_for("admin.edit_user", user_id=user.id))
    return redirect(url_for("admin.users"))
