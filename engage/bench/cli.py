"""The ``engage bench`` command (also ``make bench``)."""

from __future__ import annotations

from typing import Any

import click


@click.command("bench")
@click.option(
    "--scale",
    type=click.FloatRange(min=0.0001, max=10),
    default=1.0,
    show_default=True,
    help="Data-set size: 1 is county scale (50,000 members); 0.01 is tiny.",
)
@click.option("--runs", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option("--warmup", type=click.IntRange(0, 100), default=3, show_default=True)
@click.option(
    "--join-requests",
    type=click.IntRange(0, 100_000),
    default=2000,
    show_default=True,
    help="POSTs to /join under load (0 skips the load test).",
)
@click.option(
    "--join-clients", type=click.IntRange(1, 256), default=16, show_default=True
)
@click.option(
    "--scales",
    default=None,
    metavar="SCALES",
    help="The growth curve: generate and time at each of these scales (e.g. "
    "0.1,1,5) and print one column per scale with the growth.",
)
@click.option(
    "--database",
    default=None,
    help="An SQLite URL of a data set already generated, or a PostgreSQL URL of "
    "an empty database to generate it in (instead of a temporary SQLite file).",
)
@click.option(
    "--replace",
    is_flag=True,
    help="PostgreSQL: delete everything in the database first if it holds tables.",
)
@click.option(
    "--reuse",
    is_flag=True,
    help="PostgreSQL: time the data set already in the database (no generating).",
)
@click.option(
    "--only",
    multiple=True,
    metavar="WORDS",
    help="Time only the items whose names contain these words (any case); may be "
    'given more than once, e.g. --only "audience page" --only relationships '
    "--only /join.",
)
def bench(
    scale: float,
    runs: int,
    warmup: int,
    join_requests: int,
    join_clients: int,
    scales: str | None,
    database: str | None,
    replace: bool,
    reuse: bool,
    only: tuple[str, ...],
) -> None:
    """Generate a data set (a temporary SQLite file, or the PostgreSQL database
    given) and print benchmark figures."""
    from engage.bench.runner import BenchRefused
    from engage.bench.runner import is_postgresql
    from engage.bench.runner import run
    from engage.bench.runner import run_scales

    if (replace or reuse) and (database is None or not is_postgresql(database)):
        raise click.UsageError("--replace and --reuse are for a PostgreSQL database.")
    if replace and reuse:
        raise click.UsageError("Give --replace or --reuse, not both.")
    options: dict[str, Any] = {
        "runs": runs,
        "warmup": warmup,
        "join_total": join_requests,
        "join_threads": join_clients,
        "only": only,
        "out": lambda line: click.echo(line, err=False),
    }
    try:
        if scales is not None:
            if reuse:
                raise click.UsageError("--scales generates afresh: leave out --reuse.")
            run_scales(
                _scales(scales), database_url=database, replace=replace, **options
            )
        else:
            run(
                scale=scale,
                database_url=database,
                replace=replace,
                reuse=reuse,
                **options,
            )
    except BenchRefused as refused:
        raise click.ClickException(str(refused)) from None


def _scales(given: str) -> list[float]:
    """The scales of ``--scales`` ("0.1,1,5"), each between 0.0001 and 10."""
    try:
        scales = [float(part) for part in given.split(",") if part.strip()]
    except ValueError:
        raise click.BadParameter(
            "give scales as numbers separated by commas, e.g. 0.1,1,5",
            param_hint="--scales",
        ) from None
    if not scales or any(not 0.0001 <= s <= 10 for s in scales):
        raise click.BadParameter(
            "give one or more scales between 0.0001 and 10, e.g. 0.1,1,5",
            param_hint="--scales",
        )
    return scales
