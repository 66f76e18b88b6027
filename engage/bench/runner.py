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

import secrets
import shutil
import tempfile
import time
from collections.abc import Callable
from collections.abc import Sequence
from typing import Protocol
from typing import TypeVar

from flask import Flask
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import text

from engage import create_app
from engage import ready_to_serve
from engage.accounts.models import Role
from engage.accounts.models import User
from engage.bench.full_page import full_page_results
from engage.bench.gen_plan import BENCH_PASSWORD
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
from engage.bench.table import format_table
from engage.bench.timing import call_result
from engage.bench.timing import page_result
from engage.extensions import db
from engage.membership.models import Member


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


def prepare(
    database_url: str, *, scale: float, out: Callable[[str], None]
) -> dict[str, int]:
    """Apply the migrations to an empty database and generate the data set."""
    from flask_migrate import upgrade

    app = _bench_app(database_url)
    with app.app_context():
        out("applying migrations…")
        upgrade(directory=str(ROOT / "engage" / "migrations"))
        started = time.perf_counter()
        sizes = generate(db.engine, scale=scale, progress=out)
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        out(f"generated in {time.perf_counter() - started:.1f} s")
        db.engine.dispose()
    return sizes


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
) -> list[Result]:
    """Generate (unless ``database_url`` is given), time every item, print the table."""
    folder = None
    if database_url is None:
        folder = tempfile.mkdtemp(prefix="engage-bench-")
        database_url = f"sqlite:///{folder}/bench.sqlite"
        prepare(database_url, scale=scale, out=out)
    chosen = _chooser(only)
    try:
        results = _time_pages(
            database_url, runs=runs, warmup=warmup, chosen=chosen, out=out
        )
        if join_total and chosen("/join POSTs"):
            out("loading /join through gunicorn…")
            results += join_load(
                database_url,
                total=join_total,
                threads=join_threads,
                count_members=lambda pattern: _count_members(database_url, pattern),
            )
        out(format_table(results))
        return results
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def _chooser(only: tuple[str, ...]) -> Callable[[str], bool]:
    """Whether an item (by name) is timed: all of them, or those ``only`` names."""
    words = [word.casefold() for word in only if word.strip()]
    return lambda name: not words or any(w in name.casefold() for w in words)


def _count_members(database_url: str, pattern: str) -> int:
    app = _bench_app(database_url)
    with app.app_context():
        count = db.session.scalar(
            select(func.count()).select_from(Member).where(Member.email.like(pattern))
        )
        db.engine.dispose()
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
    app = ready_to_serve(_bench_app(database_url))
    results = []
    with app.app_context():
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
        db.session.remove()
        db.engine.dispose()
    return results
