"""factory_boy factories, one section per feature; they commit so requests see rows."""

from __future__ import annotations

import functools
from typing import Any

import factory
import pyotp
from factory.alchemy import SQLAlchemyModelFactory

from engage.accounts.models import Role, User
from engage.accounts.passwords import hash_password
from engage.actions.models import Action, ActionStatus, Channel, Recurrence
from engage.audiences.models import Approach, Audience, AudienceGroup, Programme
from engage.clock import utcnow
from engage.extensions import db

DEFAULT_PASSWORD = "correct horse battery staple"


@functools.cache
def _default_hash() -> str:
    # argon2 is slow by design: hash the shared test password once per run.
    return hash_password(DEFAULT_PASSWORD)


class BaseFactory(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "commit"


# Accounts -----------------------------------------------------------------------------


class UserFactory(BaseFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@trust.example")
    name = factory.Sequence(lambda n: f"Staff Member {n}")
    role = Role.OFFICER
    is_active = True
    password_hash = factory.LazyFunction(_default_hash)
    created_at = factory.LazyFunction(utcnow)
    updated_at = factory.LazyFunction(utcnow)
    # Administrators must use two-factor sign-in (A6): they have it set up by default.
    totp_secret = factory.LazyAttribute(
        lambda user: pyotp.random_base32(32) if str(user.role) == "admin" else None
    )
    totp_enabled_at = factory.LazyAttribute(
        lambda user: utcnow() if user.totp_secret else None
    )


def totp_code(user: User) -> str:
    """A code for ``user``'s authenticator that the app has not accepted yet.

    The app takes each 30-second step once; a test that signs the same user in twice
    within a step forgets the used step here (test set-up, not the behaviour tested).
    """
    assert user.totp_secret, "the user has no two-factor set up"
    db.session.refresh(user)
    totp = pyotp.TOTP(user.totp_secret)
    step = totp.timecode(utcnow())
    if user.totp_last_step is not None and user.totp_last_step >= step:
        user.totp_last_step = None
        db.session.commit()
    return totp.generate_otp(step)


def sign_in(client: Any, user: User, password: str = DEFAULT_PASSWORD) -> Any:
    """Sign ``user`` in through the real form, with the code step when they have one."""
    response = client.post("/login", data={"email": user.email, "password": password})
    if response.status_code == 302 and response.headers["Location"] == "/login/code":
        response = client.post("/login/code", data={"code": totp_code(user)})
    return response


# Stakeholder map and action plan ------------------------------------------------------


class AudienceFactory(BaseFactory):
    class Meta:
        model = Audience

    name = factory.Sequence(lambda n: f"Audience {n}")
    group = AudienceGroup.PUBLIC
    approach = Approach.INFORM
    influence = 2
    interest = 4
    created_at = factory.LazyFunction(utcnow)
    updated_at = factory.LazyFunction(utcnow)


class ProgrammeFactory(BaseFactory):
    class Meta:
        model = Programme

    name = factory.Sequence(lambda n: f"Programme {n}")
    created_at = factory.LazyFunction(utcnow)
    updated_at = factory.LazyFunction(utcnow)


class ChannelFactory(BaseFactory):
    class Meta:
        model = Channel
        sqlalchemy_get_or_create = ("name",)

    name = "Newsletter"


class ActionFactory(BaseFactory):
    class Meta:
        model = Action

    title = factory.Sequence(lambda n: f"Action {n}")
    channel = factory.SubFactory(ChannelFactory)
    status = ActionStatus.PLANNED
    recurrence = Recurrence.NONE
    created_at = factory.LazyFunction(utcnow)
    updated_at = factory.LazyFunction(utcnow)

    @factory.post_generation
    def owners(self, create: bool, extracted: list[User] | None) -> None:
        if extracted:
            self.owners = list(extracted)
            db.session.commit()

    @factory.post_generation
    def audiences(self, create: bool, extracted: list[Audience] | None) -> None:
        if extracted:
            self.audiences = list(extracted)
            db.session.commit()
