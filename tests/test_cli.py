"""Command line: create-user and load-demo (names other tools rely on)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func
from sqlalchemy import select

from engage.accounts.models import Role
from engage.accounts.models import User
from engage.extensions import db


def test_create_user_reads_password_from_stdin(app: Flask) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "create-user",
            "New.Admin@Trust.example",
            "--role",
            "admin",
            "--password-stdin",
        ],
        input="a long and unusual passphrase\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(
        select(User).where(User.email == "new.admin@trust.example")
    )
    assert user is not None
    assert user.role is Role.ADMIN
    assert user.password_hash is not None
    assert user.password_hash.startswith("$argon2id$")


def test_create_user_refuses_a_common_password(app: Flask) -> None:
    result = app.test_cli_runner().invoke(
        args=["create-user", "x@trust.example", "--role", "lead", "--password-stdin"],
        input="Password123\n",
    )
    assert result.exit_code != 0
    assert "too common" in result.output


def test_load_demo_is_safe_to_run_twice(app: Flask) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(args=["load-demo"])
    second = runner.invoke(args=["load-demo"])
    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert "Sign in at http://engage.test/login" in second.output  # its own address
    from engage.demo import DEMO_USERS

    for login in DEMO_USERS:
        assert login.email in second.output
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(User)) == 4


def test_demo_login_works(app: Flask) -> None:
    app.test_cli_runner().invoke(args=["load-demo"])
    from engage.demo import DEMO_USERS

    client = app.test_client()
    officer = next(d for d in DEMO_USERS if d.role is Role.OFFICER)
    response = client.post(
        "/login", data={"email": officer.email, "password": officer.password}
    )
    assert response.status_code == 302


def test_load_demo_refuses_production(app: Flask) -> None:
    app.config["ENVIRONMENT"] = "production"
    result = app.test_cli_runner().invoke(args=["load-demo"])
    assert result.exit_code != 0
    assert "Refusing" in result.output


def test_membership_retention_purges_and_erases(app: Flask) -> None:
    from datetime import timedelta

    from engage.clock import utcnow
    from engage.membership.models import Member
    from engage.membership.models import MemberStatus
    from tests.factories import MemberFactory

    long_ago = utcnow() - timedelta(days=60)
    MemberFactory(
        name="Never confirmed", status=MemberStatus.PENDING, created_at=long_ago
    )
    MemberFactory(
        name="Left long ago",
        status=MemberStatus.WITHDRAWN,
        created_at=long_ago,
        withdrawn_at=long_ago,
    )
    result = app.test_cli_runner().invoke(args=["membership-retention"])
    assert result.exit_code == 0, result.output
    assert "purged: 1" in result.output
    assert "erased: 1" in result.output
    db.session.rollback()
    statuses = sorted(m.status.value for m in db.session.scalars(select(Member)))
    assert statuses == ["erased"]
    again = app.test_cli_runner().invoke(args=["membership-retention"])
    assert "purged: 0" in again.output
    assert "erased: 0" in again.output
