"""The join benchmark: POST /join under load through gunicorn, against a bare insert.

Both apps are served by gunicorn with 2 workers on a free loopback port; client
threads post the forms and count what was acknowledged, refused or failed.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import secrets
import socket
import subprocess  # nosec B404
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

from engage.bench.table import Result
from engage.bench.timing import ms

#: The repository root (where ``wsgi.py`` is): gunicorn runs there.
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_env(database_url: str) -> dict[str, str]:
    """The environment of a bench server: the bench database, throttling off."""
    return {
        "ENGAGE_DATABASE_URL": database_url,
        "ENGAGE_BENCH_DATABASE_URL": database_url,
        "ENGAGE_SECRET_KEY": secrets.token_urlsafe(48),
        "ENGAGE_ENVIRONMENT": "development",
        "ENGAGE_RATELIMIT_ENABLED": "false",  # the bench measures throughput
        "ENGAGE_LOG_LEVEL": "WARNING",
    }


@contextmanager
def gunicorn_server(
    app_path: str, env: dict[str, str], *, workers: int = 2
) -> Iterator[str]:
    """Serve ``app_path`` with gunicorn on a free loopback port; yield its base URL."""
    port = _free_port()
    process = subprocess.Popen(  # noqa: S603  # nosec B603
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            app_path,
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    "gunicorn did not start: "
                    + (process.stderr.read().decode() if process.stderr else "")
                )
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not start in 60 s") from None
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr:
            process.stderr.close()


@dataclass
class _Load:
    ok: int = 0
    server_errors: int = 0
    other: int = 0
    latencies: list[float] = field(default_factory=list)


def _load(
    post: Callable[[int, Any], int],
    setup: Callable[[], Any],
    *,
    total: int,
    threads: int,
) -> tuple[_Load, float]:
    load = _Load()
    lock = threading.Lock()
    counter = iter(range(total))

    def worker() -> None:
        state = setup()
        while True:
            with lock:
                number = next(counter, None)
            if number is None:
                return
            start = time.perf_counter()
            try:
                status = post(number, state)
            except urllib.error.HTTPError as error:
                status = error.code
            except OSError:
                status = 0
            elapsed = (time.perf_counter() - start) * 1000
            with lock:
                load.latencies.append(elapsed)
                if 200 <= status < 400:
                    load.ok += 1
                elif status >= 500:
                    load.server_errors += 1
                else:
                    load.other += 1

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    started = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return load, time.perf_counter() - started


def opener() -> urllib.request.OpenerDirector:
    """An HTTP client that keeps its cookies (the session), as a browser does."""
    return urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )


def csrf_token(page: str) -> str:
    """The CSRF token of the form on ``page`` ("" if it has none)."""
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    return match.group(1) if match else ""


def join_load(
    database_url: str, *, total: int, threads: int, count_members: Callable[[str], int]
) -> list[Result]:
    """POST /join under load (gunicorn -w 2) against a bare one-insert endpoint."""
    from engage.bench import bare

    env = server_env(database_url)
    tag = secrets.token_hex(4)
    results = []
    with gunicorn_server("wsgi:app", env) as base:

        def setup() -> tuple[urllib.request.OpenerDirector, str]:
            client = opener()
            html = client.open(base + "/join", timeout=30).read().decode()
            return client, csrf_token(html)

        def post(number: int, state: tuple[urllib.request.OpenerDirector, str]) -> int:
            client, token = state
            form = urllib.parse.urlencode(
                {
                    "csrf_token": token,
                    "name": f"Bench Joiner {number}",
                    "email": f"join-{tag}-{number}@bench-load.example",
                    "postcode": "LS1 4AP",
                    "tier": "silver",
                    "consents": "email",
                    "website": "",
                }
            ).encode()
            with client.open(base + "/join", data=form, timeout=60) as response:
                return int(response.status)

        load, seconds = _load(post, setup, total=total, threads=threads)
    stored = count_members(f"join-{tag}-%")
    engine_url = database_url
    from sqlalchemy import create_engine

    engine = create_engine(engine_url)
    bare.metadata.create_all(engine)
    engine.dispose()
    with gunicorn_server("engage.bench.bare:app", env) as base:

        def bare_post(number: int, state: urllib.request.OpenerDirector) -> int:
            form = urllib.parse.urlencode({"email": f"bare-{tag}-{number}@x.example"})
            with state.open(
                base + "/insert", data=form.encode(), timeout=60
            ) as response:
                return int(response.status)

        bare_load, bare_seconds = _load(bare_post, opener, total=total, threads=threads)
    rate = load.ok / seconds if seconds else 0.0
    bare_rate = bare_load.ok / bare_seconds if bare_seconds else 0.0
    latencies = sorted(load.latencies) or [0.0]
    lost = load.ok - stored
    met = rate >= 150 and lost == 0 and load.server_errors == 0
    results.append(
        Result(
            f"/join POSTs ({threads} clients, gunicorn -w 2)",
            f"{rate:,.0f}/s",
            ms(latencies[min(len(latencies) - 1, round(0.95 * len(latencies)))]),
            f"{bare_rate:,.0f}/s",
            f"{bare_rate / rate:.1f}× faster" if rate else "–",
            "≥ 150/s, none lost, no 5xx",
            met,
            f"{load.ok} acknowledged, {stored} stored, {lost} lost, "
            f"{load.server_errors} 5xx, {load.other} other; bare: {bare_load.ok} ok, "
            f"{bare_load.server_errors} 5xx",
        )
    )
    return results
