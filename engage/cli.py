"""Command-line interface: ``flask --app wsgi …`` and the ``engage`` console script."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup

from engage.accounts import services as accounts
from engage.accounts.models import Role
from engage.config import PRODUCTION
from engage.db import utcnow
from engage.errors import EngageError
from engage.extensions import db


def register_commands(app: Flask) -> None:
    """Attach Engage's commands to the app's CLI."""
    app.cli.add_command(create_user)
    app.cli.add_command(load_demo)


@click.command("create-user")
@click.argument("email")
@click.option(
    "--name", default="", help="Full name (defaults to the e-mail's local part)."
)
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    required=True,
    help="The user's role.",
)
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input."
)
def create_user(email: str, name: str, role: str, password_stdin: bool) -> None:
    """Create a staff user with a password."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = accounts.create_user(
            actor="cli",
            email=email,
            name=name or email.split("@", 1)[0],
            role=Role(role),
            password=password,
            now=utcnow(),
        )
    except EngageError as error:
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(f"Created {user.role.value} user {user.email} (id {user.id}).")


@click.command("load-demo")
@click.option(
    "--force", is_flag=True, help="Allow demo data in a production configuration."
)
def load_demo(force: bool) -> None:
    """Load demo users and data (safe to run twice)."""
    from engage.demo import load_demo as load

    if current_app.config["ENVIRONMENT"] == PRODUCTION and not force:
        raise click.ClickException(
            "Refusing to load demo accounts in production (use --force)."
        )
    logins = load(now=utcnow())
    db.session.commit()
    click.echo("Demo data loaded. Sign in at http://127.0.0.1:5000/login with:")
    for login in logins:
        click.echo(
            f"  {login.role.value:<8} {login.email:<26} password: {login.password}"
        )


def _create_app() -> Flask:
    from engage import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app)
def main() -> None:
    """Engage command line (the same commands as ``flask --app wsgi``)."""
