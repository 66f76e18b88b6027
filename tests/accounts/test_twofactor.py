"""Staff two-factor sign-in: TOTP, reuse, set-up, recovery codes (security A6)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pyotp
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from engage.accounts import twofactor
from engage.accounts.models import RecoveryCode
from engage.accounts.models import User
from engage.audit.models import AuditEvent
from engage.clock import utcnow
from engage.extensions import db
from tests.factories import DEFAULT_PASSWORD
from tests.factories import UserFactory
from tests.factories import sign_in
from tests.factories import totp_code


def _password(client: FlaskClient, user: User) -> Any:
    return client.post(
        "/login", data={"email": user.email, "password": DEFAULT_PASSWORD}
    )


def _signed_in(client: FlaskClient) -> bool:
    return client.get("/admin/audit/").status_code == 200 or (
        client.get("/account").status_code == 200
    )


def _actions(user: User) -> list[str]:
    db.session.rollback()
    return list(
        db.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.entity_id == str(user.id))
            .order_by(AuditEvent.id)
        )
    )


def _secret_from(html: str) -> str:
    match = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', html)
    assert match, "the secret is shown as text for manual entry"
    return match.group(1).replace(" ", "")


def _codes_from(html: str) -> list[str]:
    return re.findall(r"<li><code>([0-9a-f]{5}-[0-9a-f]{5})</code></li>", html)


def test_correct_password_without_code_is_not_signed_in(
    client: FlaskClient, cast: dict[str, Any]
) -> None:
    response = _password(client, cast["admin"])
    assert response.headers["Location"] == "/login/code"
    assert client.get("/admin/users").headers["Location"].startswith("/login")
    assert client.get("/").headers["Location"].startswith("/login")
    assert "login" not in _actions(cast["admin"])
    assert "login_password" in _actions(cast["admin"])


def test_current_code_completes_sign_in_and_is_audited(
    client: FlaskClient, cast: dict[str, Any]
) -> None:
    admin = cast["admin"]
    _password(client, admin)
    response = client.post("/login/code", data={"code": totp_code(admin)})
    assert response.headers["Location"] == "/"
    assert client.get("/admin/users").status_code == 200
    assert _actions(admin)[-1] == "login"


def test_reused_code_is_refused(client: FlaskClient, cast: dict[str, Any]) -> None:
    admin = cast["admin"]
    code = totp_code(admin)
    _password(client, admin)
    assert client.post("/login/code", data={"code": code}).status_code == 302
    client.post("/logout")
    _password(client, admin)
    again = client.post("/login/code", data={"code": code})
    assert again.status_code == 200
    assert twofactor.WRONG_CODE in again.get_data(as_text=True)
    assert client.get("/admin/users").status_code == 302
    assert _actions(admin)[-1] == "login_code_failed"


def test_code_from_an_earlier_step_than_the_last_used_is_refused(
    cast: dict[str, Any],
) -> None:
    admin = cast["admin"]
    totp = pyotp.TOTP(admin.totp_secret)
    now = utcnow()
    assert twofactor.verify_totp(admin, totp.now(), now=now)
    previous = totp.generate_otp(totp.timecode(now) - 1)
    assert not twofactor.verify_totp(admin, previous, now=now)
    assert not twofactor.verify_totp(admin, "12345", now=now)
    assert not twofactor.verify_totp(admin, "abcdef", now=now)


def test_wrong_codes_are_throttled_per_account(
    app: Flask, client: FlaskClient, cast: dict[str, Any]
) -> None:
    admin = cast["admin"]
    _password(client, admin)
    statuses = [
        client.post("/login/code", data={"code": "000000"}).status_code
        for _ in range(6)
    ]
    assert statuses[:5] == [200] * 5
    assert statuses[5] == 429
    # The real code is throttled too while the limit lasts.
    assert client.post("/login/code", data={"code": totp_code(admin)}).status_code == (
        429
    )


def test_code_step_expires(client: FlaskClient, cast: dict[str, Any]) -> None:
    admin = cast["admin"]
    with time_machine.travel(utcnow(), tick=False) as traveller:
        _password(client, admin)
        traveller.shift(timedelta(minutes=11))
        response = client.post("/login/code", data={"code": totp_code(admin)})
    assert response.status_code == 200
    assert "Sign in again" in response.get_data(as_text=True)
    assert client.get("/account").status_code == 302


def test_code_page_without_a_password_asks_to_sign_in(client: FlaskClient) -> None:
    response = client.get("/login/code")
    assert response.status_code == 200
    assert "Sign in again" in response.get_data(as_text=True)


def test_admin_without_two_factor_must_set_it_up_first(client: FlaskClient) -> None:
    admin = UserFactory(role="admin", totp_secret=None)
    assert _password(client, admin).headers["Location"] == "/login/code"
    page = client.get("/login/code")
    assert page.headers["Location"] == "/login/set-up-two-factor"
    setup = client.get("/login/set-up-two-factor")
    html = setup.get_data(as_text=True)
    assert 'src="data:image/svg+xml' in html
    assert client.get("/admin/users").headers["Location"].startswith("/login")
    secret = _secret_from(html)
    wrong = client.post("/login/set-up-two-factor", data={"code": "000000"})
    assert twofactor.WRONG_CODE in wrong.get_data(as_text=True)
    assert client.get("/account").status_code == 302
    done = client.post(
        "/login/set-up-two-factor", data={"code": pyotp.TOTP(secret).now()}
    )
    assert done.status_code == 200
    assert len(_codes_from(done.get_data(as_text=True))) == 10
    assert client.get("/admin/users").status_code == 200
    db.session.refresh(admin)
    assert admin.totp_secret == secret
    assert _actions(admin)[-2:] == ["two_factor_enabled", "login"]


def test_signed_in_admin_without_two_factor_can_use_nothing_else(
    client: FlaskClient, login: Any, cast: dict[str, Any]
) -> None:
    officer = cast["officer"]
    login(officer)
    officer.role = "admin"  # promoted while signed in
    db.session.commit()
    for path in ("/", "/admin/users", "/members/", "/account"):
        assert client.get(path).headers["Location"] == "/account/two-factor", path
    assert client.get("/account/two-factor").status_code == 200
    assert client.post("/logout").status_code == 302


def test_officer_sets_up_two_factor_then_needs_a_code(
    client: FlaskClient, login: Any, cast: dict[str, Any]
) -> None:
    officer = cast["officer"]
    login(officer)
    account = client.get("/account").get_data(as_text=True)
    assert "Set up two-factor sign-in" in account
    html = client.get("/account/two-factor").get_data(as_text=True)
    assert 'alt="QR code to scan with your authenticator app"' in html
    secret = _secret_from(html)
    # The same secret until it is confirmed (the QR code does not change on reload).
    assert _secret_from(client.get("/account/two-factor").get_data(as_text=True)) == (
        secret
    )
    done = client.post("/account/two-factor", data={"code": pyotp.TOTP(secret).now()})
    codes = _codes_from(done.get_data(as_text=True))
    assert len(codes) == 10
    stored = db.session.scalars(
        select(RecoveryCode.code_hash).where(RecoveryCode.user_id == officer.id)
    ).all()
    assert len(stored) == 10
    assert not any(code.replace("-", "") in h for code in codes for h in stored)
    client.post("/logout")
    assert _password(client, officer).headers["Location"] == "/login/code"
    assert not _signed_in(client)


def test_recovery_code_works_once(client: FlaskClient, cast: dict[str, Any]) -> None:
    admin = cast["admin"]
    codes = twofactor.regenerate_recovery_codes(admin, totp_code(admin), now=utcnow())
    db.session.commit()
    _password(client, admin)
    assert client.post("/login/code", data={"code": codes[0].upper()}).status_code == (
        302
    )
    assert "recovery_code_used" in _actions(admin)
    client.post("/logout")
    _password(client, admin)
    assert client.post("/login/code", data={"code": codes[0]}).status_code == 200
    db.session.refresh(admin)
    assert twofactor.count_unused_recovery_codes(admin) == 9


def test_regenerating_recovery_codes_replaces_them(
    client: FlaskClient, login: Any, cast: dict[str, Any]
) -> None:
    admin = cast["admin"]
    old = twofactor.regenerate_recovery_codes(admin, totp_code(admin), now=utcnow())
    db.session.commit()
    login(admin)
    response = client.post(
        "/account/two-factor/recovery-codes", data={"recovery-code": totp_code(admin)}
    )
    new = _codes_from(response.get_data(as_text=True))
    assert len(new) == 10
    assert set(new).isdisjoint(old)
    assert not twofactor.use_recovery_code(admin, old[0], now=utcnow())
    assert twofactor.use_recovery_code(admin, new[0], now=utcnow())
    assert "recovery_codes_regenerated" in _actions(admin)


def test_officer_turns_two_factor_off_with_password_and_code(
    client: FlaskClient, login: Any
) -> None:
    officer = UserFactory(role="officer", totp_secret=pyotp.random_base32(32))
    login(officer)
    refused = client.post(
        "/account/two-factor/disable",
        data={"disable-password": "wrong password", "disable-code": totp_code(officer)},
        follow_redirects=True,
    )
    assert "Two-factor sign-in is still on" in refused.get_data(as_text=True)
    client.post(
        "/account/two-factor/disable",
        data={
            "disable-password": DEFAULT_PASSWORD,
            "disable-code": totp_code(officer),
        },
    )
    db.session.refresh(officer)
    assert officer.totp_secret is None
    assert "two_factor_disabled" in _actions(officer)
    client.post("/logout")
    assert _password(client, officer).headers["Location"] == "/"


def test_admin_cannot_turn_two_factor_off(
    client: FlaskClient, login: Any, cast: dict[str, Any]
) -> None:
    admin = cast["admin"]
    login(admin)
    assert "Administrators must keep two-factor sign-in on" in client.get(
        "/account"
    ).get_data(as_text=True)
    client.post(
        "/account/two-factor/disable",
        data={"disable-password": DEFAULT_PASSWORD, "disable-code": totp_code(admin)},
    )
    db.session.refresh(admin)
    assert admin.totp_secret is not None


def test_sign_in_helper_goes_through_the_code_step(
    client: FlaskClient, cast: dict[str, Any]
) -> None:
    assert sign_in(client, cast["admin"]).headers["Location"] == "/"
    assert client.get("/admin/users").status_code == 200


def test_qr_code_is_allowed_by_the_content_security_policy(
    client: FlaskClient,
) -> None:
    policy = client.get("/login").headers["Content-Security-Policy"]
    assert "img-src 'self' data:" in policy
    assert twofactor.qr_data_uri("otpauth://totp/x?secret=AAAA").startswith(
        "data:image/svg+xml"
    )


def test_admin_resets_a_colleagues_two_factor(
    client: FlaskClient, login: Any, cast: dict[str, Any]
) -> None:
    colleague = UserFactory(role="admin", name="Cole League")
    other = client.application.test_client()
    sign_in(other, colleague)
    login(cast["admin"])
    page = client.get(f"/admin/users/{colleague.id}/edit").get_data(as_text=True)
    assert "Reset two-factor sign-in" in page
    response = client.post(f"/admin/users/{colleague.id}/reset-two-factor")
    assert response.headers["Location"] == "/admin/users"
    db.session.refresh(colleague)
    assert colleague.totp_secret is None
    assert "two_factor_reset" in _actions(colleague)
    # Signed out at once, and an admin must set it up again before anything else.
    assert other.get("/admin/users").headers["Location"].startswith("/login")
    assert _password(other, colleague).headers["Location"] == "/login/code"
    assert other.get("/login/code").headers["Location"] == "/login/set-up-two-factor"


def test_admin_cannot_reset_their_own_two_factor(
    client: FlaskClient, login: Any, cast: dict[str, Any]
) -> None:
    admin = cast["admin"]
    login(admin)
    client.post(f"/admin/users/{admin.id}/reset-two-factor")
    db.session.refresh(admin)
    assert admin.totp_secret is not None
