"""Command-line interface: ``flask --app wsgi …`` and the ``engage`` console script."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask import current_app
from flask.cli import FlaskGroup

from engage.accounts import services as accounts
from engage.accounts.models import Role
from engage.clock import utcnow
from engage.config import PRODUCTION
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
    app.cli.add_command(run_scheduler)
    app.cli.add_command(run_one_job)
    # Production readiness: backups.
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    # Benchmarks.
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


# Scheduled jobs -------------------------------------------------------------------


@click.command("jobs")
def run_scheduler() -> None:
    """Run the scheduler process (the same as `python -m jobs`; stop with Ctrl-C).

    Start it on one or more hosts: one is active, the others wait and take over if
    it stops.
    """
    from jobs.scheduler import main as scheduler_main

    scheduler_main(current_app._get_current_object())  # type: ignore[attr-defined]


@click.command("run-job")
@click.argument("name")
def run_one_job(name: str) -> None:
    """Run one scheduled job now, in this process, recorded like a scheduled run."""
    # jobs/ builds on engage/, so engage/ imports it only when a command runs.
    from engage.scheduling.models import RunOutcome
    from engage.scheduling.models import RunTrigger
    from engage.scheduling.services import get_spec
    from jobs.runner import run_job

    try:
        spec = get_spec(name)
    except EngageError as error:
        raise click.ClickException(error.message) from error
    run = run_job(spec, trigger=RunTrigger.CLI, holder="cli")
    if run is None or run.outcome is not RunOutcome.OK:
        reason = run.error if run is not None else "not run"
        raise click.ClickException(f"{name} failed: {reason}")
    counts = ", ".join(f"{key}: {value}" for key, value in run.counts.items())
    click.echo(f"{name}: ok ({counts or 'nothing to report'}).")


@click.command("create-user")
@click.argument("email")
@click.option(
    "--name", default="", help="Full name (defaults to the email's local part)."
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
    base = str(current_app.config["BASE_URL"]).rstrip("/")
    click.echo(f"Demo data loaded. Sign in at {base}/login with:")
    for login in logins:
        click.echo(
            f"  {login.role.value:<8} {login.email:<26} password: {login.password}"
        )
    click.echo(
        "The admin sets up two-factor sign-in at first sign-in: scan the QR code "
        "(or type the key) into an authenticator app, then enter its code."
    )


@click.group("import")
def import_group() -> None:
    """Import audiences, the action plan, interactions or survey responses (CSV/XLSX).

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


@import_group.command("observations")
@click.argument("file", type=_FILE)
@_DRY_RUN
def import_observations(file: Path, dry_run: bool) -> None:
    """Import metric values (columns: metric, date, value, note)."""
    _import("observations", file, dry_run=dry_run)


@import_group.command("interactions")
@click.argument("file", type=_FILE)
@_DRY_RUN
def import_interactions(file: Path, dry_run: bool) -> None:
    """Import an interaction log (columns: date, kind, direction, audiences, …).

    Rows already imported (by their reference, or the same values) are not added
    again.
    """
    _import("interactions", file, dry_run=dry_run)


# Survey responses --------------------------------------------------------------------


@import_group.command("responses")
@click.argument("survey_id", type=int)
@click.argument("file", type=_FILE)
@_DRY_RUN
@click.option(
    "--map",
    "maps",
    multiple=True,
    metavar="HEADING=N",
    help="Match the column HEADING to question number N (or '-' to leave it out); "
    "other columns are matched by their text.",
)
@click.option(
    "--dates",
    type=click.Choice(["day-first", "month-first"]),
    help="How the file writes dates, when none of them tells (05/03/2024: 5 March "
    "or 3 May); remembered for the survey's next import.",
)
def import_responses(
    survey_id: int,
    file: Path,
    dry_run: bool,
    maps: tuple[str, ...],
    dates: str | None,
) -> None:
    """Import a survey's responses from another tool's export.

    Google Forms, Microsoft Forms or SurveyMonkey, as CSV or .xlsx. Columns are
    matched to questions by their text; importing the same file again adds nothing.
    """
    from engage.surveys.models import Survey
    from engage.surveys.results import importing

    survey = db.session.get(Survey, survey_id)
    if survey is None:
        raise click.ClickException(f"There is no survey {survey_id}.")
    day_first = None if dates is None else dates == "day-first"
    with file.open("rb") as source:
        preview = importing.preview_responses(
            survey, source, file.name, day_first=day_first
        )
    if maps and preview.columns:
        mapping = _response_mapping(survey, preview, maps)
        with file.open("rb") as source:
            preview = importing.preview_responses(
                survey, source, file.name, mapping=mapping, day_first=day_first
            )
    else:
        mapping = preview.mapping
    _echo_response_preview(survey, preview)
    if not preview.is_valid:
        raise click.ClickException(
            "Nothing was imported: correct the file and try again."
        )
    if dry_run:
        click.echo("Dry run: nothing was saved.")
        return
    with (
        file.open("rb") as source,
        click.progressbar(
            length=preview.created, label="Importing", file=sys.stderr
        ) as bar,
    ):
        done = importing.apply_responses(
            survey,
            source,
            file.name,
            mapping=mapping,
            actor="cli",
            now=utcnow(),
            day_first=day_first,
            progress=bar.update,
        )
    db.session.commit()
    click.echo(f"Imported responses: {done.summary()}.")


def _response_mapping(
    survey: Any, preview: Any, maps: tuple[str, ...]
) -> dict[str, int | None]:
    from engage.surveys.results.tool_exports import fold

    mapping = dict(preview.mapping)
    keys = {fold(c.heading): c.key for c in preview.columns}
    numbers = {q.position: q.id for q in survey.questions}
    for item in maps:
        heading, _, number = item.rpartition("=")
        key = keys.get(fold(heading))
        if key is None:
            raise click.BadParameter(f"no column “{heading}”", param_hint="--map")
        if number.strip() in ("", "-"):
            mapping[key] = None
        elif number.strip().isdigit() and int(number) in numbers:
            mapping[key] = numbers[int(number)]
        else:
            raise click.BadParameter(f"no question {number}", param_hint="--map")
    return mapping


def _echo_response_preview(survey: Any, preview: Any) -> None:
    if preview.tool:
        click.echo(f"File from: {preview.tool}")
    texts = {q.id: f"{q.position}. {q.text}" for q in survey.questions}
    for column in preview.columns:
        target = preview.mapping.get(column.key)
        click.echo(
            f"Column “{column.heading}” → "
            + (texts[target] if target else "not imported")
        )
    if preview.date_example:
        order = {True: "day first", False: "month first", None: "not known"}
        click.echo(
            f"Dates such as “{preview.date_example}” read either way: "
            f"{order[preview.day_first]} (--dates day-first or month-first)."
        )
    if preview.file_error is None:
        click.echo(f"Rows read: {preview.rows_read}")
        click.echo(f"To add: {preview.created}")
        click.echo(f"Already imported: {preview.unchanged}")
    _echo_preview_problems(preview)


def _echo_preview_problems(preview: ImportPreview) -> None:
    if preview.file_error is not None:
        click.echo(preview.file_error, err=True)
        return
    for note in preview.notes:
        click.echo(f"Note: {note}")
    for error in preview.errors:
        click.echo(f"Row {error.row}: {error.message}", err=True)
    hidden = preview.error_count - len(preview.errors)
    if hidden:
        click.echo(f"…and {hidden} more problems.", err=True)


# --------------------------------------------------------------------------------------


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


# Backups (production readiness) -------------------------------------------------------


@click.command("backup")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Backup file (default: ENGAGE_BACKUP_DIR/engage-<UTC time>.sqlite|.dump).",
)
def backup_command(output: Path | None) -> None:
    """Back the database up, with a manifest of row counts and checksums beside it.

    Without --output, backups older than ENGAGE_BACKUP_RETENTION_DAYS in the backup
    folder are deleted afterwards.
    """
    from engage.backups import database as backups

    now = utcnow()
    try:
        result = backups.backup(output or backups.default_backup_path(now), now=now)
    except EngageError as error:
        raise click.ClickException(error.message) from error
    rows = sum(int(t["rows"]) for t in result.tables.values())
    click.echo(f"Backup written to {result.path} in {result.seconds:.2f} s")
    click.echo(
        f"Manifest: {result.manifest_path} ({len(result.tables)} tables, {rows} rows)"
    )
    if output is None:
        removed = backups.prune_backups(now=now)
        click.echo(f"Expired backups deleted: {removed}.")


@click.command("restore")
@click.argument("path", type=_FILE)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore_command(path: Path, yes: bool) -> None:
    """Replace the database with a backup, verify it, and re-apply erasures."""
    from engage.backups import database as backups

    if not yes:
        click.confirm(
            "This replaces everything in the configured database. Continue?",
            abort=True,
        )
    try:
        result = backups.restore(path, now=utcnow())
    except EngageError as error:
        raise click.ClickException(error.message) from error
    click.echo(
        f"Restored {result.path}: {result.tables_checked} tables match the manifest; "
        f"{result.erasures_reapplied} erasures re-applied; "
        f"restore time {result.seconds:.2f} s."
    )


def _create_app() -> Flask:
    from engage import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app)
def main() -> None:
    """Engage command line (the same commands as ``flask --app wsgi``)."""
