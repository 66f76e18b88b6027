"""Command-line interface: ``flask --app wsgi …`` and the ``engage`` console script."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup

from engage.accounts import services as accounts
from engage.accounts.models import Role
from engage.config import PRODUCTION
from engage.db import utcnow
from engage.errors import EngageError
from engage.extensions import db
from engage.imports import services as imports
from engage.imports.services import ImportPreview


def register_commands(app: Flask) -> None:
    """Attach Engage's commands to the app's CLI."""
    app.cli.add_command(create_user)
    app.cli.add_command(load_demo)
    app.cli.add_command(import_group)
    app.cli.add_command(apply_membership_retention)
    # Benchmarks (issue 7).
    from engage.bench.cli import bench

    app.cli.add_command(bench)


@click.command("membership-retention")
def apply_membership_retention() -> None:
    """Purge unconfirmed sign-ups and erase members withdrawn past the retention period.

    Safe to run again: what was done before is not done twice. The scheduled job of
    the measures-of-reach issue will run the same services nightly.
    """
    from engage.membership.registration import purge_unconfirmed
    from engage.membership.services import apply_retention

    now = utcnow()
    purged = purge_unconfirmed(now=now)
    erased = apply_retention(now=now)
    db.session.commit()
    click.echo(
        f"Unconfirmed sign-ups purged: {purged}. Withdrawn members erased: {erased}."
    )


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


@click.group("import")
def import_group() -> None:
    """Import audiences or the action plan from a CSV or Excel (.xlsx) file.

    The same importer as the web pages: every row is checked first, and nothing is
    written if any row has a problem. Importing the same file again changes nothing.
    """


_FILE = click.Path(exists=True, dir_okay=False, readable=True, path_type=Path)
_DRY_RUN = click.option(
    "--dry-run",
    is_flag=True,
    help="Check the file and show what would change; save nothing.",
)


@import_group.command("audiences")
@click.argument("file", type=_FILE)
@_DRY_RUN
def import_audiences(file: Path, dry_run: bool) -> None:
    """Import audiences (columns: audience, group, approach, notes, …)."""
    _import("audiences", file, dry_run=dry_run)


@import_group.command("actions")
@click.argument("file", type=_FILE)
@_DRY_RUN
def import_actions(file: Path, dry_run: bool) -> None:
    """Import the action plan (columns: action, channel, audiences, timescale, …)."""
    _import("actions", file, dry_run=dry_run)


def _import(kind: str, file: Path, *, dry_run: bool) -> None:
    with file.open("rb") as source:
        preview = imports.preview_import(kind, source, file.name)
    _echo_preview(preview)
    if not preview.is_valid:
        raise click.ClickException(
            "Nothing was imported: correct the file and try again."
        )
    if dry_run:
        click.echo("Dry run: nothing was saved.")
        return
    changes = len(preview.to_change)
    with (
        file.open("rb") as source,
        click.progressbar(length=changes, label="Importing", file=sys.stderr) as bar,
    ):
        done = imports.apply_import(
            kind, source, file.name, actor="cli", now=utcnow(), progress=bar.update
        )
    db.session.commit()
    click.echo(f"Imported {kind}: {done.summary()}.")


def _echo_preview(preview: ImportPreview) -> None:
    if preview.file_error is not None:
        click.echo(preview.file_error, err=True)
        return
    click.echo(f"Rows read: {preview.rows_read}")
    click.echo(f"To add: {preview.created}")
    click.echo(f"To update: {preview.updated}")
    click.echo(f"Unchanged: {preview.unchanged}")
    for note in preview.notes:
        click.echo(f"Note: {note}")
    for error in preview.errors:
        click.echo(f"Row {error.row}: {error.message}", err=True)
    hidden = preview.error_count - len(preview.errors)
    if hidden:
        click.echo(f"…and {hidden} more problems.", err=True)


def _create_app() -> Flask:
    from engage import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app)
def main() -> None:
    """Engage command line (the same commands as ``flask --app wsgi``)."""
