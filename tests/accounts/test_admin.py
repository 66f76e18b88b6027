"""Admins manage staff users and set-password links (docs/security.md A5/A6)."""

from __future__ import annotations

import re
from datetime import timedelta

import time_machine
from flask.testing import FlaskClient
from sqlalchemy import select

from engage.accounts.models import PasswordToken
from engage.accounts.models import Role
from engage.accounts.models import User
from engage.audit.models import AuditEvent
from engage.clock import utcnow
from engage.extensions import db
from tests.factories import DEFAULT_PASSWORD


def _link_token(message) -> str:
    match = re.search(r"http://engage\.test/set-password/(\S+)", message.body_text)
    assert match, message.body_text
    return match.group(1)


def test_admin_creates_user_who_sets_password_through_link(
    client: FlaskClient,
    login,
    cast,
    outbox,
) -> None:
    login(cast["admin"])
    response = client.post(
        "/admin/users/new",
        data={
            "name": " Nia  New ",
            "email": "Nia.New@Trust.example",
            "role": "officer",
        },
    )
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "nia.new@trust.example"))
    assert user is not None
    assert user.name == "Nia New"  # one space between words, as people read it
    assert user.role is Role.OFFICER
    assert user.password_hash is None
    (message,) = outbox()
    assert message.to_address == "nia.new@trust.example"
    token = _link_token(message)
    # The token is stored only as a hash.
    assert db.session.scalar(select(PasswordToken.token_hash)) != token

    client.post("/logout")
    assert client.get(f"/set-password/{token}").status_code == 200
    weak = client.post(f"/set-password/{token}", data={"new_password": "Password123"})
    assert weak.status_code == 200
    assert "too common" in weak.get_data(as_text=True)
    passphrase = "a sixty four character passphrase with spaces is fine to use, ok"
    assert len(passphrase) == 64
    done = client.post(f"/set-password/{token}", data={"new_password": passphrase})
    assert done.status_code == 302
    stored = db.session.scalar(select(User.password_hash).where(User.id == user.id))
    assert stored is not None
    assert stored.startswith("$argon2id$")
    # Single use.
    assert client.get(f"/set-password/{token}").status_code == 404
    assert (
        client.post(
            "/login", data={"email": user.email, "password": passphrase}
        ).status_code
        == 302
    )


def test_password_link_expires_after_one_hour(
    app,
    client: FlaskClient,
    login,
    cast,
    outbox,
) -> None:
    login(cast["admin"])
    with time_machine.travel(utcnow(), tick=False) as traveller:
        client.post(f"/admin/users/{cast['officer'].id}/send-link")
        token = _link_token(outbox()[-1])
        recipient = app.test_client()
        traveller.shift(timedelta(minutes=59))
        assert recipient.get(f"/set-password/{token}").status_code == 200
        traveller.shift(timedelta(minutes=2))
        assert recipient.get(f"/set-password/{token}").status_code == 404


def test_password_change_invalidates_outstanding_links(
    app,
    client: FlaskClient,
    login,
    cast,
    outbox,
) -> None:
    officer = cast["officer"]
    client.post("/forgot-password", data={"email": officer.email})
    token = _link_token(outbox()[-1])
    login(officer)
    response = client.post(
        "/account",
        data={
            "current_password": DEFAULT_PASSWORD,
            "new_password": "another unusual passphrase",
        },
    )
    assert response.status_code == 302
    assert app.test_client().get(f"/set-password/{token}").status_code == 404


def test_wrong_current_password_is_refused(client: FlaskClient, login, cast) -> None:
    login(cast["officer"])
    response = client.post(
        "/account",
        data={
            "current_password": "not my password",
            "new_password": "another unusual passphrase",
        },
    )
    assert response.status_code == 200
    assert "Your current password is not correct" in response.get_data(as_text=True)


def test_admin_deactivates_user_and_it_is_audited(
    client: FlaskClient, login, cast
) -> None:
    login(cast["admin"])
    officer = cast["officer"]
    response = client.post(
        f"/admin/users/{officer.id}/edit",
        data={"name": officer.name, "email": officer.email, "role": "lead"},
    )
    assert response.status_code == 302
    db.session.refresh(officer)
    assert officer.is_active is False
    assert officer.role is Role.LEAD
    event = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "update")
        .order_by(AuditEvent.id.desc())
    ).first()
    assert event is not None
    assert event.actor_id == cast["admin"].id
    assert "deactivated" in event.summary
    assert "role officer→lead" in event.summary
    assert officer.email not in event.summary


def test_admin_cannot_demote_themselves(client: FlaskClient, login, cast) -> None:
    admin = cast["admin"]
    login(admin)
    response = client.post(
        f"/admin/users/{admin.id}/edit",
        data={
            "name": admin.name,
            "email": admin.email,
            "role": "lead",
            "is_active": "y",
        },
    )
    assert response.status_code == 200
    assert "cannot change your own role" in response.get_data(as_text=True)


def test_duplicate_email_is_a_field_error(client: FlaskClient, login, cast) -> None:
    login(cast["admin"])
    response = client.post(
        "/admin/users/new",
        data={"name": "Copy", "email": cast["lead"].email.upper(), "role": "lead"},
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "already exists" in html
    assert 'href="#email"' in html  # linked from the error summary


def test_invalid_user_form_shows_linked_errors_and_keeps_values(
    client: FlaskClient,
    login,
    cast,
) -> None:
    login(cast["admin"])
    response = client.post(
        "/admin/users/new",
        data={"name": "Kept Name", "email": "not-an-email", "role": "officer"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "There is a problem" in html
    assert 'href="#email"' in html
    assert 'value="Kept Name"' in html
    assert 'value="not-an-email"' in html


def test_overlong_field_is_a_field_error(client: FlaskClient, login, cast) -> None:
    login(cast["admin"])
    response = client.post(
        "/admin/users/new",
        data={"name": "x" * 201, "email": "ok@trust.example", "role": "officer"},
    )
    assert response.status_code == 200
    assert 'href="#name"' in response.get_data(as_text=True)


def test_role_field_on_own_account_is_ignored(client: FlaskClient, login, cast) -> None:
    """docs/security.md B2: extra fields the user may send change nothing else."""
    officer = cast["officer"]
    login(officer)
    response = client.post(
        "/account",
        data={
            "current_password": DEFAULT_PASSWORD,
            "new_password": "another unusual passphrase",
            "role": "admin",
            "is_active": "y",
            "session_version": "1",
        },
    )
    assert response.status_code == 302  # the form itself was accepted…
    db.session.refresh(officer)
    assert officer.role is Role.OFFICER  # …and the extra fields were not applied
    # The officer cannot reach the form that does change roles either.
    denied = client.post(
        f"/admin/users/{officer.id}/edit",
        data={
            "name": officer.name,
            "email": officer.email,
            "role": "admin",
            "is_active": "y",
        },
    )
    assert denied.status_code == 403
    db.session.refresh(officer)
    assert officer.role is Role.OFFICER
