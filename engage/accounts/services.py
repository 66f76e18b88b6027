"""Account services: create and edit staff users, authenticate, set passwords.

Services flush and never commit; the caller (a view or the CLI) commits once.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from datetime import datetime
from datetime import timedelta

from flask import current_app
from flask import render_template
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update

from engage.accounts.models import PasswordToken
from engage.accounts.models import Role
from engage.accounts.models import User
from engage.accounts.passwords import hash_password
from engage.accounts.passwords import needs_rehash
from engage.accounts.passwords import password_problems
from engage.accounts.passwords import verify_password
from engage.audit.services import record_event
from engage.errors import Conflict
from engage.errors import NotFound
from engage.errors import ValidationError
from engage.extensions import db
from engage.mail.services import absolute_url
from engage.mail.services import send_mail

log = logging.getLogger(__name__)


def normalise_email(email: str) -> str:
    """Lower-case and trim an email address so each person has one account."""
    return email.strip().lower()


def get_user_by_email(email: str) -> User | None:
    """Return the user with this email address, if any."""
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def list_users() -> list[User]:
    """All staff users, active first, by name."""
    return list(
        db.session.scalars(select(User).order_by(User.is_active.desc(), User.name))
    )


def list_active_users() -> list[User]:
    """Active staff users by name (for owner pickers)."""
    return list(
        db.session.scalars(select(User).where(User.is_active).order_by(User.name))
    )


def check_password_policy(password: str, *, email: str = "", name: str = "") -> None:
    """Raise ValidationError if ``password`` is too short, too long or too common."""
    problems = password_problems(
        password,
        min_length=int(current_app.config["PASSWORD_MIN_LENGTH"]),
        context=(email, name),
    )
    if problems:
        raise ValidationError(problems[0])


def tidy_name(name: str) -> str:
    """A person's name as it should read: no spaces at the ends, one between words."""
    return " ".join(name.split())


def create_user(
    *,
    actor: User | str | None,
    email: str,
    name: str,
    role: Role,
    password: str | None = None,
    now: datetime,
) -> User:
    """Create a staff user; without a password they set one through an emailed link."""
    email = normalise_email(email)
    if get_user_by_email(email) is not None:
        raise Conflict("A user with that email address already exists.")
    user = User(
        email=email, name=tidy_name(name), role=role, created_at=now, updated_at=now
    )
    if password is not None:
        check_password_policy(password, email=email, name=name)
        user.password_hash = hash_password(password)
    db.session.add(user)
    db.session.flush()
    record_event(actor, "create", "user", user.id, f"as {role.label.lower()}", now=now)
    return user


def update_user(
    user: User,
    *,
    actor: User,
    name: str,
    email: str,
    role: Role,
    is_active: bool,
    now: datetime,
) -> User:
    """Edit a user; deactivating one ends their sessions at once."""
    email = normalise_email(email)
    other = get_user_by_email(email)
    if other is not None and other.id != user.id:
        raise Conflict("A user with that email address already exists.")
    if user.id == actor.id and (role != user.role or not is_active):
        raise ValidationError("You cannot change your own role or deactivate yourself.")
    name = tidy_name(name)
    changes = []
    if user.name != name:
        changes.append("name")
    if user.email != email:
        changes.append("email")
    if user.role != role:
        changes.append(f"role {user.role.label.lower()}→{role.label.lower()}")
    if user.is_active != is_active:
        changes.append("activated" if is_active else "deactivated")
        if not is_active:
            user.session_version += 1
    user.name, user.email, user.role, user.is_active = (
        name,
        email,
        role,
        is_active,
    )
    user.updated_at = now
    db.session.flush()
    record_event(
        actor, "update", "user", user.id, "; ".join(changes) or "no change", now=now
    )
    return user


@dataclass(frozen=True)
class LoginAttempt:
    """A sign-in between its phases: the account found and the hash to check.

    ``verified`` and ``new_hash`` are filled in by ``check_login_password``.
    """

    user_id: int | None
    candidate_hash: str | None = field(repr=False)
    verified: bool = False
    new_hash: str | None = field(default=None, repr=False)


def find_login(email: str) -> LoginAttempt:
    """The read phase of signing in: the account with ``email`` and its hash, if any.

    An unknown or inactive account has no hash: ``check_login_password`` then does
    the same argon2 work against a dummy hash, so neither the answer nor its timing
    tells whether an account exists (docs/security.md A7).
    """
    user = get_user_by_email(email)
    return LoginAttempt(
        user_id=user.id if user is not None else None,
        candidate_hash=(
            user.password_hash if user is not None and user.is_active else None
        ),
    )


def check_login_password(attempt: LoginAttempt, password: str) -> LoginAttempt:
    """The argon2 check of ``password`` (and a new hash if the stored one is dated).

    It touches no database: the login view runs it after ending the read phase and
    before beginning the write, so no snapshot or lock is held during argon2. On
    SQLite a write transaction holds the database-wide lock, and holding it through
    the hash made sign-ups wait and fail under load (docs/security.md F5).
    """
    verified = verify_password(attempt.candidate_hash, password)
    new_hash = (
        hash_password(password)
        if verified and needs_rehash(attempt.candidate_hash or "")
        else None
    )
    return replace(attempt, verified=verified, new_hash=new_hash)


def record_login(attempt: LoginAttempt, *, now: datetime) -> User | None:
    """The write phase: the active user whose password was right, or None; audited.

    For users with two-factor sign-in (and administrators, who must set it up) this
    is only the first step: check ``needs_second_step`` before signing them in.
    """
    user_id = attempt.user_id
    user = db.session.get(User, user_id) if user_id is not None else None
    if (
        not attempt.verified
        or user is None
        or not user.is_active
        or user.password_hash != attempt.candidate_hash  # changed while hashing
    ):
        record_event(
            "anonymous", "login_failed", "user", user.id if user else None, "", now=now
        )
        return None
    if attempt.new_hash is not None:
        user.password_hash = attempt.new_hash
    if needs_second_step(user):
        # Not signed in yet (A6): the login is recorded when the code is accepted.
        record_event(user, "login_password", "user", user.id, "code next", now=now)
        return user
    complete_login(user, now=now)
    return user


def needs_second_step(user: User) -> bool:
    """Whether a correct password must be followed by a code (or two-factor set-up)."""
    from engage.accounts import twofactor

    return twofactor.is_enabled(user) or twofactor.is_required(user)


def complete_login(user: User, *, now: datetime, detail: str = "") -> None:
    """Record a finished sign-in (after the password and, if needed, the code)."""
    user.last_login_at = now
    record_event(user, "login", "user", user.id, detail, now=now)


def record_logout(user: User, *, now: datetime) -> None:
    """End every session of ``user`` (the cookie they hold stops working)."""
    user.session_version += 1
    record_event(user, "logout", "user", user.id, "", now=now)


def change_password(user: User, *, current: str, new: str, now: datetime) -> None:
    """Change a user's own password after checking the current one."""
    if not verify_password(user.password_hash, current):
        raise ValidationError("Your current password is not correct.")
    _set_password(user, new, now=now)
    record_event(user, "password_change", "user", user.id, "", now=now)


def _set_password(user: User, password: str, *, now: datetime) -> None:
    check_password_policy(password, email=user.email, name=user.name)
    user.password_hash = hash_password(password)
    user.session_version += 1
    user.updated_at = now
    # A new password invalidates every outstanding set-password link.
    db.session.execute(
        update(PasswordToken)
        .where(PasswordToken.user_id == user.id, PasswordToken.used_at.is_(None))
        .values(used_at=now)
    )
    db.session.flush()


# Set-password links ------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_password_link(
    user: User, *, actor: User | str, now: datetime, reason: str
) -> str:
    """Create a single-use set-password link for ``user`` and email it to them.

    Returns the token (for tests and the CLI); it is stored only as a hash.
    """
    token = secrets.token_urlsafe(32)
    hours = int(current_app.config["PASSWORD_TOKEN_HOURS"])
    db.session.add(
        PasswordToken(
            user_id=user.id,
            token_hash=_token_hash(token),
            created_at=now,
            expires_at=now + timedelta(hours=hours),
        )
    )
    link = absolute_url("accounts.set_password", token=token)
    context = {"user": user, "link": link, "hours": hours, "reason": reason}
    send_mail(
        user.email,
        "Set your Engage password",
        render_template("accounts/email/set_password.txt", **context),
        reason="you have a staff account on Engage",
    )
    record_event(actor, "password_link", "user", user.id, reason, now=now)
    db.session.flush()
    return token


def find_password_token(token: str, *, now: datetime) -> PasswordToken:
    """Return the usable token record, or raise NotFound; every failure looks alike.."""
    record: PasswordToken | None = db.session.scalar(
        select(PasswordToken).where(PasswordToken.token_hash == _token_hash(token))
    )
    if (
        record is None
        or record.used_at is not None
        or record.expires_at <= now
        or not record.user.is_active
    ):
        raise NotFound(
            "This link has expired or has already been used. Ask for a new one."
        )
    return record


def set_password_with_token(token: str, password: str, *, now: datetime) -> User:
    """Use a set-password link once; every other link for the user stops working."""
    record = find_password_token(token, now=now)
    user = record.user
    _set_password(user, password, now=now)
    record.used_at = now
    record_event(user, "password_set", "user", user.id, "through emailed link", now=now)
    return user


def request_password_reset(email: str, *, now: datetime) -> None:
    """Email a reset link if the address is an active user's; silent otherwise."""
    user = get_user_by_email(email)
    if user is None or not user.is_active:
        return
    issue_password_link(user, actor="anonymous", now=now, reason="reset requested")


def count_admins() -> int:
    """Number of active administrators."""
    return (
        db.session.scalar(
            select(func.count())
            .select_from(User)
            .where(User.role == Role.ADMIN, User.is_active)
        )
        or 0
    )


@dataclass(frozen=True)
class DemoLogin:
    """A demo account printed by ``engage load-demo``."""

    role: Role
    email: str
    password: str


def ensure_user(
    email: str, name: str, role: Role, password: str, *, now: datetime
) -> User:
    """Create the user if missing, else reset their role and password (demo data)."""
    user = get_user_by_email(email)
    if user is None:
        return create_user(
            actor="system",
            email=email,
            name=name,
            role=role,
            password=password,
            now=now,
        )
    user.role, user.is_active, user.name = role, True, name
    if not verify_password(user.password_hash, password):
        _set_password(user, password, now=now)
    return user
