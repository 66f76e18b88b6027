"""The full-page rows: pages served by gunicorn to a signed-in client over HTTP.

The other page rows go through Flask's test client, so they leave out the web server
and HTTP. Here the same page is fetched from gunicorn (2 workers, on a free loopback
port) by a client that signed in through the login form, one request at a time. Its
baseline is the test client's figure for the same page, measured in the same run;
each request's ``Server-Timing`` header (``engage.server_timing``) tells how the time
divides between the database, rendering, the rest of the app, and gunicorn with HTTP
(what the client waited beyond the app's own total).
"""

from __future__ import annotations

import statistics
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from flask.testing import FlaskClient

from engage.bench.items import BENCH_ITEMS
from engage.bench.join_load import csrf_token
from engage.bench.join_load import gunicorn_server
from engage.bench.join_load import opener
from engage.bench.join_load import server_env
from engage.bench.list_items import MEMBERS_PATH
from engage.bench.table import Result
from engage.bench.timing import ms
from engage.bench.timing import percentile
from engage.bench.timing import timings
from engage.server_timing import parse_header


@dataclass(frozen=True)
class FullPageItem:
    """A page timed through gunicorn against its test-client figure."""

    name: str
    path: str
    target_ms: float
    #: The most the median may be over the test client's for the same page.
    max_ratio: float = 2.0


def full_page_items() -> list[FullPageItem]:
    """The dashboard (this month) and the member list, as their test-client rows."""
    paths = {item.name: item.path for item in BENCH_ITEMS}
    return [
        FullPageItem(
            "dashboard (full page, gunicorn)", paths["dashboard (month)"], 150
        ),
        FullPageItem(
            "member list (full page, gunicorn)",
            MEMBERS_PATH,
            100,
        ),
    ]


@dataclass
class _Sample:
    """One request: the client's time, and the server's split of it, in ms."""

    elapsed: float
    db: float
    render: float
    server: float
    #: Waiting for parts queried side by side (engage.side_by_side), if any.
    parts: float = 0.0


def full_page_results(
    database_url: str,
    client: FlaskClient,
    *,
    email: str,
    password: str,
    runs: int,
    warmup: int,
    chosen: Callable[[str], bool],
    out: Callable[[str], None],
) -> list[Result]:
    """Time the chosen full-page items; ``client`` is signed in as ``email``."""
    items = [item for item in full_page_items() if chosen(item.name)]
    if not items:
        return []
    results = []
    with gunicorn_server("wsgi:app", server_env(database_url)) as base:
        browser = _sign_in(base, email, password)
        for item in items:
            out(f"timing {item.name}…")
            baseline, _ = timings(
                partial(client.get, item.path), runs=runs, warmup=warmup
            )
            samples = _fetch(browser, base + item.path, runs=runs, warmup=warmup)
            results.append(_result(item, samples, baseline))
    return results


def _sign_in(base: str, email: str, password: str) -> urllib.request.OpenerDirector:
    browser = opener()
    page = browser.open(base + "/login", timeout=30).read().decode()
    form = {"email": email, "password": password, "csrf_token": csrf_token(page)}
    with browser.open(
        base + "/login", data=urllib.parse.urlencode(form).encode(), timeout=30
    ) as response:
        if "/login" in response.geturl():
            raise RuntimeError("could not sign in to the bench server")
    return browser


def _fetch(
    browser: urllib.request.OpenerDirector, url: str, *, runs: int, warmup: int
) -> list[_Sample]:
    samples = []
    for number in range(warmup + runs):
        start = time.perf_counter()
        with browser.open(url, timeout=60) as response:
            response.read()
            header = response.headers.get("Server-Timing", "")
            status = response.status
        elapsed = (time.perf_counter() - start) * 1000
        if status != 200 or not header:
            raise RuntimeError(f"{url} answered {status} without its timing")
        if number >= warmup:
            split = parse_header(header)
            samples.append(
                _Sample(
                    elapsed,
                    split["db"],
                    split["render"],
                    split["total"],
                    split.get("parts", 0.0),
                )
            )
    return samples


def _result(item: FullPageItem, samples: list[_Sample], baseline: float) -> Result:
    elapsed = sorted(s.elapsed for s in samples)
    median = statistics.median(elapsed)
    ratio = median / baseline if baseline else float("inf")
    db = statistics.median(s.db for s in samples)
    render = statistics.median(s.render for s in samples)
    parts = statistics.median(s.parts for s in samples)
    python = statistics.median(s.server - s.db - s.parts - s.render for s in samples)
    http = statistics.median(s.elapsed - s.server for s in samples)
    return Result(
        item.name,
        ms(median),
        ms(percentile(elapsed, 95)),
        ms(baseline),
        f"{ratio:.1f}×",
        f"≤ {item.target_ms:g} ms, ≤ {item.max_ratio:g}× test client",
        median <= item.target_ms and ratio <= item.max_ratio,
        f"each request's time divided (medians): database {db:.1f} ms, "
        + (f"parts side by side {parts:.1f} ms, " if parts else "")
        + f"rendering {render:.1f} ms, the rest of the app {python:.1f} ms, "
        f"gunicorn and HTTP {http:.1f} ms; "
        "baseline: the same page through the test client",
    )
