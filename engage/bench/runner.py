"""Benchmark runner: times pages and the public join form against a generated data set.

Benchmarks, not tests: ``run()`` prints a table of item, median, p95, a baseline
measured in the same run, their ratio, the target and whether it is met. Pages are
timed through the Flask test client (median and p95 over ``runs`` after warm-up);
``/join`` is loaded through gunicorn with 2 workers on a free loopback port. The
items are in ``items`` (the list ``BENCH_ITEMS`` holds the page items; the features
still to come add theirs), ``mailing_items`` (preparing and delivering a mailing)
and ``involvement_items`` (the activity list, a member's involvement record, and
preparing invitations to every member), the timing in ``timing``, the join load in
``join_load`` and the table in ``table``; the relationship log's (the audience page,
its lists and the nightly health scoring) in ``relationship_items``; the dashboard and
the member list served by gunicorn over HTTP in ``full_page``. ``only`` times
just the items whose names contain one of its words (the join load is "/join").
"""

from __future__ import annotations

import resource
import secrets
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol
from typing import TypeVar

from flask import Flask
from sqlalchemy import func
from sqlalchemy import inspect
from sqlalchemy import make_url
from sqlalchemy import select
from sqlalchemy import text

from engage import create_app
from engage import ready_to_serve
from engage.accounts.models import Role
from engage.accounts.models import User
from engage.bench.full_page import full_page_results
from engage.bench.gen_plan import BENCH_PASSWORD
from engage.bench.generate import SIZES
from engage.bench.generate import generate
from engage.bench.involvement_items import involvement_page_items
from engage.bench.involvement_items import prepare_result as prepare_invitations
from engage.bench.items import BENCH_ITEMS
from engage.bench.items import feed_poll_item
from engage.bench.items import feed_server
from engage.bench.items import reach_report_item
from engage.bench.items import survey_results_item
from engage.bench.join_load import ROOT
from engage.bench.join_load import join_load
from engage.bench.list_items import list_page_items
from engage.bench.mailing_items import MAILING_ITEMS
from engage.bench.relationship_items import health_item
from engage.bench.relationship_items import relationship_page_items
from engage.bench.table import Result
from engage.bench.table import Scaled
from engage.bench.table import format_growth
from engage.bench.table import format_table
from engage.bench.timing import call_result
from engage.bench.timing import page_result
from engage.extensions import db
from engage.membership.models import Member
from engage.metrics.models import Observation
from engage.surveys.models import Response


class _Named(Protocol):
    @property
    def name(self) -> str: ...


T = TypeVar("T", bound=_Named)


def _bench_app(database_url: str) -> Flask:
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": secrets.token_urlsafe(48),
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "LOG_LEVEL": "WARNING",
            # Page timings, not durability: the join load runs with FULL.
            "SQLITE_SYNCHRONOUS": "NORMAL",
            # The feed poll item fetches feeds served on the loopback address.
            "FEEDS_ALLOW_PRIVATE": True,
        }
    )


@contextmanager
def _bench_context(database_url: str, *, serving: bool = False) -> Iterator[Flask]:
    """An app on the bench database, in its context; its connections are closed
    on the way out, whatever happens (a refusal, an interrupted run)."""
    app = _bench_app(database_url)
    if serving:
        app = ready_to_serve(app)
    with app.app_context():
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


class BenchRefused(Exception):
    """The bench will not use the database it was given (the message says why)."""


def is_postgresql(database_url: str) -> bool:
    """Whether a database URL names a PostgreSQL database."""
    return make_url(database_url).get_backend_name() == "postgresql"


def prepare(
    database_url: str,
    *,
    scale: float,
    out: Callable[[str], None],
    replace: bool = False,
) -> dict[str, int]:
    """Apply the migrations to an empty database and generate the data set.

    A PostgreSQL database that already holds tables is refused, unless ``replace``
    (then everything in it is deleted first).
    """
    from flask_migrate import upgrade

    with _bench_context(database_url):
        postgresql = db.engine.dialect.name == "postgresql"
        if postgresql:
            _empty_database(replace=replace, out=out)
        out("applying migrations…")
        upgrade(directory=str(ROOT / "engage" / "migrations"))
        started = time.perf_counter()
        sizes = generate(db.engine, scale=scale, progress=out)
        out(f"generated in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        if postgresql:
            # As autovacuum would leave it: statistics, and the visibility map that
            # lets PostgreSQL answer from an index alone.
            with db.engine.connect().execution_options(
                isolation_level="AUTOCOMMIT"
            ) as conn:
                conn.execute(text("VACUUM (ANALYZE)"))
        else:
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        out(f"analysed in {time.perf_counter() - started:.1f} s")
        out(f"peak memory so far: {peak_memory_mb():,.0f} MB (this process)")
    return sizes


def _tables() -> list[str]:
    return sorted(inspect(db.engine).get_table_names())


def _empty_database(*, replace: bool, out: Callable[[str], None]) -> None:
    """Refuse a PostgreSQL database that holds tables, or (``replace``) empty it."""
    tables = _tables()
    if not tables:
        return
    name = db.engine.url.database
    if not replace:
        raise BenchRefused(
            f"The database {name} already holds {len(tables)} tables, so the bench "
            "will not generate its data set there. Give --replace to delete "
            "everything in it and generate afresh, or --reuse to time the data "
            "set already in it."
        )
    out(f"emptying the database {name} ({len(tables)} tables)…")
    with db.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))


def peak_memory_mb() -> float:
    """The most memory this process has held (resident), in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _children_peak_mb() -> float:
    """The most memory any finished child process (gunicorn) held, in MB."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def describe(database_url: str, scale: float | None = None) -> str:
    """The heading line: the engine, the scale and the data set's main counts."""
    with _bench_context(database_url):
        if db.engine.dialect.name == "postgresql":
            version = db.session.scalar(text("SHOW server_version"))
            engine = f"PostgreSQL {str(version).split()[0]}"
        else:
            engine = f"SQLite {sqlite3.sqlite_version}"
        counts = {
            label: int(db.session.scalar(select(func.count()).select_from(model)) or 0)
            for label, model in (
                ("members", Member),
                ("survey responses", Response),
                ("observations", Observation),
            )
        }
    if scale is None:
        # From the observations: the join load adds members, nothing adds these.
        scale = counts["observations"] / SIZES["observations"]
    figures = ", ".join(f"{count:,} {label}" for label, count in counts.items())
    return f"{engine}, scale {scale:g}: {figures}"


def run(
    *,
    scale: float = 1.0,
    runs: int = 20,
    warmup: int = 3,
    join_total: int = 2000,
    join_threads: int = 16,
    database_url: str | None = None,
    only: tuple[str, ...] = (),
    out: Callable[[str], None] = print,
    replace: bool = False,
    reuse: bool = False,
) -> list[Result]:
    """Generate (unless given an SQLite URL, or ``reuse``), time every item, print.

    Without ``database_url`` the data set goes in a temporary SQLite file; an SQLite
    URL names one already generated; a PostgreSQL URL names an empty database to
    generate it in (``replace`` empties one that is not, ``reuse`` times what is
    there).
    """
    timing = _Timing(runs, warmup, join_total, join_threads, only)
    scaled = _run_one(scale, timing, database_url, out, replace=replace, reuse=reuse)
    out(format_table(scaled.results, heading=scaled.heading, notes=scaled.notes))
    return scaled.results


@dataclass(frozen=True)
class _Timing:
    """How the items are timed, the same at every scale."""

    runs: int
    warmup: int
    join_total: int
    join_threads: int
    only: tuple[str, ...]


def _run_one(
    scale: float,
    timing: _Timing,
    database_url: str | None,
    out: Callable[[str], None],
    *,
    replace: bool,
    reuse: bool,
) -> Scaled:
    """Generate if need be and time the chosen items at one scale."""
    folder = None
    generated_scale: float | None = None
    generation_mb = generation_s = None
    if database_url is None:
        folder = tempfile.mkdtemp(prefix="engage-bench-")
        database_url = f"sqlite:///{folder}/bench.sqlite"
    chosen = _chooser(timing.only)
    try:
        if folder is not None or (is_postgresql(database_url) and not reuse):
            started = time.perf_counter()
            prepare(database_url, scale=scale, out=out, replace=replace)
            generated_scale, generation_mb = scale, peak_memory_mb()
            generation_s = time.perf_counter() - started
        heading = describe(database_url, generated_scale)
        out(heading)
        results = _time_pages(
            database_url,
            runs=timing.runs,
            warmup=timing.warmup,
            chosen=chosen,
            out=out,
        )
        if timing.join_total and chosen("/join POSTs"):
            out("loading /join through gunicorn…")
            results += join_load(
                database_url,
                total=timing.join_total,
                threads=timing.join_threads,
                count_members=lambda pattern: _count_members(database_url, pattern),
            )
        memory = []
        if generation_mb is not None:
            memory.append(f"generation {generation_mb:,.0f} MB")
        memory.append(f"generation and bench {peak_memory_mb():,.0f} MB")
        if _children_peak_mb():
            memory.append(f"largest gunicorn process {_children_peak_mb():,.0f} MB")
        notes = ["peak memory (resident): " + ", ".join(memory)]
        if generation_s is not None:
            notes.append(
                f"generated (migrations, data, analyse) in {generation_s:,.0f} s"
            )
        return Scaled(
            generated_scale if generated_scale is not None else scale,
            results,
            peak_memory_mb(),
            heading=heading,
            notes=notes,
        )
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def run_scales(
    scales: Sequence[float],
    *,
    database_url: str | None = None,
    replace: bool = False,
    out: Callable[[str], None] = print,
    runs: int = 20,
    warmup: int = 3,
    join_total: int = 2000,
    join_threads: int = 16,
    only: tuple[str, ...] = (),
) -> list[Scaled]:
    """Generate and time the items at each scale; print each scale's table, then
    one with a median column per scale.

    A PostgreSQL database is filled afresh for each scale (the first needs it empty,
    or ``replace``); without one, each scale has a temporary SQLite file.
    """
    if database_url is not None and not is_postgresql(database_url):
        raise BenchRefused(
            "--scales generates a data set for each scale: give a PostgreSQL "
            "database, or none for temporary SQLite files."
        )
    timing = _Timing(runs, warmup, join_total, join_threads, only)
    done: list[Scaled] = []
    for index, scale in enumerate(sorted(set(scales))):
        out(f"— scale {scale:g} —")
        scaled = _run_one(
            scale, timing, database_url, out, replace=replace or index > 0, reuse=False
        )
        # Each scale's full table as it is done, then the curve.
        out(format_table(scaled.results, heading=scaled.heading, notes=scaled.notes))
        done.append(scaled)
    out(format_growth(done))
    return done


def _chooser(only: tuple[str, ...]) -> Callable[[str], bool]:
    """Whether an item (by name) is timed: all of them, or those ``only`` names."""
    words = [word.casefold() for word in only if word.strip()]
    return lambda name: not words or any(w in name.casefold() for w in words)


def _count_members(database_url: str, pattern: str) -> int:
    with _bench_context(database_url):
        count = db.session.scalar(
            select(func.count()).select_from(Member).where(Member.email.like(pattern))
        )
    return int(count or 0)


def _time_each(
    items: Sequence[T],
    chosen: Callable[[str], bool],
    out: Callable[[str], None],
    time_one: Callable[[T], Result],
) -> list[Result]:
    """Time the chosen items."""
    results = []
    for item in items:
        if not chosen(item.name):
            continue
        out(f"timing {item.name}…")
        results.append(time_one(item))
    return results


def _time_pages(
    database_url: str,
    *,
    runs: int,
    warmup: int,
    chosen: Callable[[str], bool],
    out: Callable[[str], None],
) -> list[Result]:
    # Timed in this process as served: start-up finished as wsgi.py does.
    results = []
    with _bench_context(database_url, serving=True) as app:
        client = app.test_client()
        lead = db.session.scalar(select(User).where(User.role == Role.LEAD))
        if lead is None:
            raise RuntimeError("the bench database has no lead user")
        response = client.post(
            "/login",
            data={"email": lead.email, "password": BENCH_PASSWORD},
        )
        if response.status_code != 302:
            raise RuntimeError("could not sign in to the bench database")
        pages = [
            *BENCH_ITEMS,
            *list_page_items(),
            survey_results_item(),
            *involvement_page_items(),
            *relationship_page_items(),
        ]
        results += _time_each(
            pages,
            chosen,
            out,
            lambda item: page_result(item, client, runs=runs, warmup=warmup),
        )
        results += full_page_results(
            database_url,
            client,
            email=lead.email,
            password=BENCH_PASSWORD,
            runs=runs,
            warmup=warmup,
            chosen=chosen,
            out=out,
        )
        with feed_server() as base:
            calls = [reach_report_item(), feed_poll_item(base), health_item()]
            results += _time_each(
                calls,
                chosen,
                out,
                lambda item: call_result(item, runs=runs, warmup=warmup),
            )
        for label, mailing_item in MAILING_ITEMS:
            if chosen(label):
                out(f"timing {label}…")
                results.append(mailing_item(runs=runs, warmup=warmup))
        if chosen("prepare invitations for every member"):
            out("timing prepare invitations to every member…")
            results.append(prepare_invitations(runs=runs, warmup=warmup))
    return results
