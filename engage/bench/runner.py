"""Benchmark runner: times pages and the public join form against a generated data set.

Benchmarks, not tests: ``run()`` prints a table of item, median, p95, a baseline
measured in the same run, their ratio, the target and whether it is met. Pages are
timed through the Flask test client (median and p95 over ``runs`` after warm-up);
``/join`` is loaded through gunicorn with 2 workers on a free loopback port. The
items are in ``items`` (the list ``BENCH_ITEMS`` holds the page items; the features
still to come add theirs), ``mailing_items`` (preparing and delivering a mailing)
and ``involvement_items`` (the activity list, a member's involvement record, and
preparing invitations to every member), the timing in ``timing``, the join load in
``join_load`` and the table in ``table``.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import time
from collections.abc import Callable

from flask import Flask
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import text

from engage import create_app
from engage import ready_to_serve
from engage.accounts.models import Role
from engage.accounts.models import User
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
from engage.bench.mailing_items import MAILING_ITEMS
from engage.bench.table import Result
from engage.bench.table import format_table
from engage.bench.timing import call_result
from engage.bench.timing import page_result
from engage.extensions import db
from engage.membership.models import Member


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
    out: Callable[[str], None] = print,
) -> list[Result]:
    """Generate (unless ``database_url`` is given), time every item, print the table."""
    folder = None
    if database_url is None:
        folder = tempfile.mkdtemp(prefix="engage-bench-")
        database_url = f"sqlite:///{folder}/bench.sqlite"
        prepare(database_url, scale=scale, out=out)
    try:
        results = _time_pages(database_url, runs=runs, warmup=warmup, out=out)
        if join_total:
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


def _count_members(database_url: str, pattern: str) -> int:
    app = _bench_app(database_url)
    with app.app_context():
        count = db.session.scalar(
            select(func.count()).select_from(Member).where(Member.email.like(pattern))
        )
        db.engine.dispose()
    return int(count or 0)


def _time_pages(
    database_url: str, *, runs: int, warmup: int, out: Callable[[str], None]
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
        pages = [*BENCH_ITEMS, survey_results_item(), *involvement_page_items()]
        for item in pages:
            out(f"timing {item.name}…")
            results.append(page_result(item, client, runs=runs, warmup=warmup))
        with feed_server() as base:
            for call_item in (reach_report_item(), feed_poll_item(base)):
                out(f"timing {call_item.name}…")
                results.append(call_result(call_item, runs=runs, warmup=warmup))
        for label, mailing_item in MAILING_ITEMS:
            out(f"timing {label}…")
            results.append(mailing_item(runs=runs, warmup=warmup))
        out("timing prepare invitations to every member…")
        results.append(prepare_invitations(runs=runs, warmup=warmup))
        db.session.remove()
        db.engine.dispose()
    return results
