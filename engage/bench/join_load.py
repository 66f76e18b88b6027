"""The join benchmark: POST /join under load through gunicorn, against a bare insert.

Both apps are served by gunicorn (2 workers; on PostgreSQL also 4) on a free
loopback port; client threads fetch the form, then post it, and count what was
acknowledged, refused or failed. The target is a share of the bare insert's rate
measured in the same run, so it holds on any machine.
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
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine

from engage.bench.table import Result
from engage.bench.timing import ms
from engage.bench.timing import percentile

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


def _python(*args: str) -> list[str]:
    return [sys.executable, *args]


#: How a server is started: ``python ARGS``. The tests start their servers on the
#: clock they run at (their data is dated by it, and a session signed in at another
#: time would not be accepted).
python_command: Callable[..., list[str]] = _python


@contextmanager
def gunicorn_server(
    app_path: str, env: dict[str, str], *, workers: int = 2
) -> Iterator[str]:
    """Serve ``app_path`` with gunicorn on a free loopback port; yield its base URL."""
    port = _free_port()
    process = subprocess.Popen(  # noqa: S603  # nosec B603
        python_command(
            "-m",
            "gunicorn",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            app_path,
        ),
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
            if _answers(base):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start in 60 s")
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


def _answers(base: str) -> bool:
    """Whether a worker has loaded the app and answers (with any status)."""
    try:
        with urllib.request.urlopen(base + "/", timeout=5):  # noqa: S310  # nosec B310
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


@dataclass
class _Load:
    ok: int = 0
    server_errors: int = 0
    other: int = 0
    latencies: list[float] = field(default_factory=list)

    def count(self, status: int, elapsed: float) -> None:
        """Count one answer (0: no answer) that took ``elapsed`` ms."""
        self.latencies.append(elapsed)
        if 200 <= status < 400:
            self.ok += 1
        elif status >= 500:
            self.server_errors += 1
        else:
            self.other += 1


def _status(post: Callable[[int, Any], int], number: int, state: Any) -> int:
    """The status of one post (0 when nothing answered)."""
    try:
        return post(number, state)
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


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
    # The clock starts once every client has set up (the form fetched, which also
    # warms the workers), so it times the posts alone.
    ready = threading.Barrier(threads + 1)

    def worker() -> None:
        try:
            state = setup()
        except BaseException:
            ready.abort()
            raise
        ready.wait()
        while True:
            with lock:
                number = next(counter, None)
            if number is None:
                return
            start = time.perf_counter()
            status = _status(post, number, state)
            elapsed = (time.perf_counter() - start) * 1000
            with lock:
                load.count(status, elapsed)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    ready.wait(timeout=120)
    started = time.perf_counter()
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


#: The join load's target: this share of the bare insert's rate, in the same run.
SHARE_OF_BARE = 0.30


def join_load(
    database_url: str,
    *,
    total: int,
    threads: int,
    count_members: Callable[[str], int],
    workers: Sequence[int] | None = None,
) -> list[Result]:
    """POST /join under load through gunicorn against a bare one-insert endpoint.

    One row per number of gunicorn workers: 2 on SQLite (one writer at a time,
    however many workers), 2 and 4 on PostgreSQL (which should scale with them).
    """
    from engage.bench import bare

    if workers is None:
        workers = (2, 4) if database_url.startswith("postgresql") else (2,)
    engine = create_engine(database_url)
    bare.metadata.create_all(engine)
    engine.dispose()
    env = server_env(database_url)
    return [
        _join_row(
            env,
            workers=count,
            total=total,
            threads=threads,
            count_members=count_members,
        )
        for count in workers
    ]


def _join_row(
    env: dict[str, str],
    *,
    workers: int,
    total: int,
    threads: int,
    count_members: Callable[[str], int],
) -> Result:
    tag = secrets.token_hex(4)
    with gunicorn_server("wsgi:app", env, workers=workers) as base:

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
    with gunicorn_server("engage.bench.bare:app", env, workers=workers) as base:

        def bare_post(number: int, state: urllib.request.OpenerDirector) -> int:
            form = urllib.parse.urlencode({"email": f"bare-{tag}-{number}@x.example"})
            with state.open(
                base + "/insert", data=form.encode(), timeout=60
            ) as response:
                return int(response.status)

        bare_load, bare_seconds = _load(bare_post, opener, total=total, threads=threads)
    rate = load.ok / seconds if seconds else 0.0
    bare_rate = bare_load.ok / bare_seconds if bare_seconds else 0.0
    share = rate / bare_rate if bare_rate else 0.0
    lost = load.ok - stored
    return Result(
        f"/join POSTs ({threads} clients, gunicorn -w {workers})",
        f"{rate:,.0f}/s",
        ms(percentile(sorted(load.latencies) or [0.0], 95)),
        f"{bare_rate:,.0f}/s",
        f"{share:.0%} of bare",
        f"≥ {SHARE_OF_BARE:.0%} of bare, none lost, no 5xx",
        share >= SHARE_OF_BARE and lost == 0 and load.server_errors == 0,
        f"{load.ok} acknowledged, {stored} stored, {lost} lost, "
        f"{load.server_errors} 5xx, {load.other} other; bare: {bare_load.ok} ok, "
        f"{bare_load.server_errors} 5xx",
    )
