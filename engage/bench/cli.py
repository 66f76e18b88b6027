"""The ``engage bench`` command (also ``make bench``)."""

from __future__ import annotations

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
    "--database",
    default=None,
    help="Use this already generated SQLite URL instead of a temporary file.",
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
    database: str | None,
    only: tuple[str, ...],
) -> None:
    """Generate a data set in a temporary SQLite file and print benchmark figures."""
    from engage.bench.runner import run

    run(
        scale=scale,
        runs=runs,
        warmup=warmup,
        join_total=join_requests,
        join_threads=join_clients,
        database_url=database,
        only=only,
        out=lambda line: click.echo(line, err=False),
    )
