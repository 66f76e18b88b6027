"""Two-factor views: the code step of sign-in, set-up, recovery codes, turning it off.

After a correct password, a user with two-factor (and every administrator) is only
*pending*: the session names them but Flask-Login does not, so nothing else works
until the code is accepted (docs/security.md A6). An administrator who has not set
two-factor up yet is sent straight to the set-up page, and a signed-in administrator
without it (promoted mid-session) can use nothing else until it is done.
"""

from __future__ import annotations

from flask import Blueprint
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_login import login_required
from werkzeug.wrappers import Response

from engage.accounts import services
from engage.accounts import sessions
from engage.accounts import twofactor
from engage.accounts.forms import DisableTwoFactorForm
from engage.accounts.forms import SecondFactorForm
from engage.accounts.forms import TotpCodeForm
from engage.accounts.models import User
from engage.clock import utcnow
from engage.edge import change
from engage.extensions import db
from engage.extensions import limiter

bp = Blueprint("twofactor", __name__)

#: What an administrator still without two-factor may reach.
_ALLOWED_DURING_SETUP = frozenset(
    {
        "twofactor.setup",
        "accounts.logout",
        "accounts.session_status",
        "static",
        "web.nhsuk_assets",
    }
)


def _pending_key() -> str:
    pending = sessions.pending_user()
    return f"second-step:{pending[0].id if pending else 'none'}"


def _code_failed(response: Response) -> bool:
    return response.status_code != 302


def _account_limit() -> str:
    return str(current_app.config["TWO_FACTOR_LIMIT_PER_ACCOUNT"])


def _client_limit() -> str:
    return str(current_app.config["LOGIN_LIMIT_PER_CLIENT"])


def _user_key() -> str:
    # Limits are checked before login_required runs: anonymous users have no id.
    return f"second-step:{getattr(current_user, 'id', None)}"


@bp.before_app_request
def _require_setup_for_admins() -> ResponseReturnValue | None:
    if (
        current_user.is_authenticated
        and request.endpoint not in _ALLOWED_DURING_SETUP
        and twofactor.needs_setup(current_user)
    ):
        return redirect(url_for("twofactor.setup"))
    return None


def _expired() -> ResponseReturnValue:
    return render_template("accounts/two_factor_expired.html")


def _finish_login(user: User, next_url: str | None, detail: str) -> None:
    services.complete_login(user, now=utcnow(), detail=detail)
    db.session.commit()
    sessions.start_session(user)


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(
    _account_limit, key_func=_pending_key, methods=["POST"], deduct_when=_code_failed
)
@limiter.limit(_client_limit, methods=["POST"], deduct_when=_code_failed)
def code() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("web.home"))
    pending = sessions.pending_user()
    if pending is None:
        return _expired()
    user, next_url = pending
    if not twofactor.is_enabled(user):
        return redirect(url_for("twofactor.setup_at_login"))
    form = SecondFactorForm()
    if form.validate_on_submit():
        if twofactor.verify_second_factor(user, form.code.data, now=utcnow()):
            _finish_login(user, next_url, "with two-factor code")
            return redirect(next_url or url_for("web.home"))
        db.session.commit()  # the refusal's audit event
        form.code.errors = [twofactor.WRONG_CODE]
    form.code.data = ""
    return render_template("accounts/two_factor_code.html", form=form)


def _setup_secret() -> str:
    secret = session.get(sessions.SETUP_SECRET)
    if not isinstance(secret, str):
        secret = twofactor.new_secret()
        session[sessions.SETUP_SECRET] = secret
    return secret


def _render_setup(user: User, form: TotpCodeForm, secret: str) -> str:
    uri = twofactor.provisioning_uri(user, secret)
    return render_template(
        "accounts/two_factor_setup.html",
        form=form,
        qr=twofactor.qr_data_uri(uri),
        secret=twofactor.format_secret(secret),
        required=twofactor.is_required(user),
    )


@bp.route("/login/set-up-two-factor", methods=["GET", "POST"])
@limiter.limit(
    _account_limit, key_func=_pending_key, methods=["POST"], deduct_when=_code_failed
)
def setup_at_login() -> ResponseReturnValue:
    """An administrator's first sign-in: set two-factor up before anything else."""
    if current_user.is_authenticated:
        return redirect(url_for("twofactor.setup"))
    pending = sessions.pending_user()
    if pending is None:
        return _expired()
    user, next_url = pending
    if twofactor.is_enabled(user):
        return redirect(url_for("twofactor.code"))
    secret = _setup_secret()
    form = TotpCodeForm()
    if form.validate_on_submit():
        with change(field=form.code) as done:
            codes = twofactor.enable_totp(user, secret, form.code.data, now=utcnow())
            services.complete_login(
                user, now=utcnow(), detail="after setting up two-factor"
            )
        if done:
            sessions.start_session(user)
            return render_template(
                "accounts/recovery_codes.html", codes=codes, next_url=next_url
            )
    form.code.data = ""
    return _render_setup(user, form, secret)


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required
def setup() -> ResponseReturnValue:
    user: User = current_user._get_current_object()
    if twofactor.is_enabled(user):
        return redirect(url_for("accounts.account"))
    secret = _setup_secret()
    form = TotpCodeForm()
    if form.validate_on_submit():
        with change(field=form.code) as done:
            codes = twofactor.enable_totp(user, secret, form.code.data, now=utcnow())
        if done:
            session.pop(sessions.SETUP_SECRET, None)
            return render_template("accounts/recovery_codes.html", codes=codes)
    form.code.data = ""
    return _render_setup(user, form, secret)


@bp.post("/account/two-factor/recovery-codes")
@login_required
@limiter.limit(_account_limit, key_func=_user_key)
def recovery_codes() -> ResponseReturnValue:
    user: User = current_user._get_current_object()
    form = TotpCodeForm(prefix="recovery")
    if form.validate_on_submit():
        with change(refusal="New recovery codes were not made: {}.") as done:
            codes = twofactor.regenerate_recovery_codes(
                user, form.code.data, now=utcnow()
            )
        if done:
            return render_template("accounts/recovery_codes.html", codes=codes)
    else:
        flash("Enter the 6-digit code to make new recovery codes.", "error")
    return redirect(url_for("accounts.account"))


@bp.post("/account/two-factor/disable")
@login_required
@limiter.limit(_account_limit, key_func=_user_key)
def disable() -> ResponseReturnValue:
    user: User = current_user._get_current_object()
    form = DisableTwoFactorForm(prefix="disable")
    if form.validate_on_submit():
        with change(
            "Two-factor sign-in is off.",
            refusal="Two-factor sign-in is still on: {}.",
        ):
            twofactor.disable_totp(
                user, password=form.password.data, code=form.code.data, now=utcnow()
            )
    else:
        flash("Enter your password and a code to turn two-factor sign-in off.", "error")
    return redirect(url_for("accounts.account"))
