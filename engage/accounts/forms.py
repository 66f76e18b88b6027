"""Account forms: sign in, passwords, and the admin's user form."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import EmailField
from wtforms import PasswordField
from wtforms import StringField
from wtforms.validators import DataRequired
from wtforms.validators import Email
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import ValidationError as FormValidationError

from engage.accounts.models import Role
from engage.accounts.passwords import MAX_LENGTH
from engage.accounts.passwords import password_problems
from engage.formtools import RadioField
from engage.formtools import choices
from engage.formtools import enum_parser
from engage.formtools import strip
from engage.formtools import too_long


class LoginForm(FlaskForm):  # type: ignore[misc]
    email = EmailField(
        "Email address",
        validators=[InputRequired("Enter your email address"), Length(max=254)],
        render_kw={"autocomplete": "username", "spellcheck": "false"},
    )
    password = PasswordField(
        "Password",
        validators=[InputRequired("Enter your password"), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )


class ForgotPasswordForm(FlaskForm):  # type: ignore[misc]
    email = EmailField(
        "Email address",
        validators=[
            InputRequired("Enter your email address"),
            Email(
                "Enter an email address in the correct format, like name@example.nhs.uk"
            ),
            Length(max=254),
        ],
        render_kw={"autocomplete": "username", "spellcheck": "false"},
    )


class _NewPasswordMixin:
    """A new password, checked against the policy, typed once (paste is welcome)."""

    new_password = PasswordField(
        "New password",
        description="Use 10 characters or more. A few random words make a strong, "
        "memorable password. You can paste from a password manager.",
        validators=[InputRequired("Enter a new password")],
        render_kw={"autocomplete": "new-password"},
    )

    def _policy_context(self) -> tuple[str, ...]:
        return ()

    def validate_new_password(self, field: Any) -> None:
        problems = password_problems(
            field.data or "",
            min_length=int(current_app.config["PASSWORD_MIN_LENGTH"]),
            context=self._policy_context(),
        )
        if problems:
            raise FormValidationError(problems[0])


class SetPasswordForm(_NewPasswordMixin, FlaskForm):  # type: ignore[misc]
    def __init__(
        self, *args: Any, user_context: tuple[str, ...] = (), **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self._context = user_context

    def _policy_context(self) -> tuple[str, ...]:
        return self._context


class ChangePasswordForm(SetPasswordForm):
    current_password = PasswordField(
        "Current password",
        validators=[InputRequired("Enter your current password")],
        render_kw={"autocomplete": "current-password"},
    )


ROLE_CHOICES = choices(
    [
        (Role.OFFICER.value, "Officer – plans and records engagement"),
        (Role.LEAD.value, "Lead – reads the dashboard and reports"),
        (Role.ADMIN.value, "Administrator – also manages users and settings"),
    ]
)


class UserForm(FlaskForm):  # type: ignore[misc]
    name = StringField(
        "Full name",
        filters=[strip],
        validators=[
            DataRequired("Enter the person's name"),
            Length(max=200, message=too_long("Full name", 200)),
        ],
        render_kw={"autocomplete": "off"},
    )
    email = EmailField(
        "Email address",
        validators=[
            InputRequired("Enter an email address"),
            Email(
                "Enter an email address in the correct format, like name@example.nhs.uk"
            ),
            Length(max=254),
        ],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    role = RadioField(
        "Role",
        choices=ROLE_CHOICES,
        validators=[InputRequired("Choose a role")],
        parse=enum_parser(Role),
    )
    is_active = BooleanField("Account is active", default=True)


# Two-factor sign-in ------------------------------------------------------------------

_CODE_KW = {"autocomplete": "one-time-code", "spellcheck": "false"}


class SecondFactorForm(FlaskForm):  # type: ignore[misc]
    code = StringField(
        "Code from your authenticator app",
        description="Or enter one of your recovery codes.",
        filters=[strip],
        validators=[InputRequired("Enter the code"), Length(max=20)],
        render_kw=_CODE_KW,
    )


class TotpCodeForm(FlaskForm):  # type: ignore[misc]
    code = StringField(
        "Code from your authenticator app",
        description="The 6-digit code the app shows now.",
        filters=[strip],
        validators=[InputRequired("Enter the 6-digit code"), Length(max=20)],
        render_kw={**_CODE_KW, "inputmode": "numeric"},
    )


class DisableTwoFactorForm(FlaskForm):  # type: ignore[misc]
    password = PasswordField(
        "Your password",
        validators=[InputRequired("Enter your password"), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )
    code = StringField(
        "Code from your authenticator app",
        description="Or one of your recovery codes.",
        filters=[strip],
        validators=[InputRequired("Enter the code"), Length(max=20)],
        render_kw=_CODE_KW,
    )
