"""Benchmark runner: times pages and the public join form against a generated data set.

Benchmarks, not tests: ``run()`` prints a table of item, median, p95, a baseline
measured in the same run, their ratio, the target and whether it is met. Pages are
timed through the Flask test client (median and p95 over ``runs`` after warm-up);
``/join`` is loaded through gunicorn with 2 workers on a free loopback port. The
list ``BENCH_ITEMS`` holds the page items; the features still to come add theirs.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess  # nosec B404
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text

from engage import create_app, ready_to_serve
from engage.accounts.models import Role, User
from engage.bench import generate as generator
from engage.dashboard import periods
from engage.extensions import db
from engage.membership.models import Member

ROOT = Path(__file__).resolve().parents[2]
#: "Today" for the timed pages: the generated data set's last day.
TODAY = generator.END


@dataclass(frozen=True)
class Result:
    """One line of the table."""

    item: str
    median: str
    p95: str
    baseline: str
    ratio: str
    target: str
    met: bool | None
    note: str = ""


def _timings(call: Callable[[], Any], *, runs: int, warmup: int) -> tuple[float, float]:
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, max(0, round(0.95 * len(samples)) - 1))]
    return statistics.median(samples), p95


def _ms(value: float) -> str:
    return f"{value:,.1f} ms"


# Page items ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PageItem:
    """A page timed through the test client, with its hand-written SQL baseline."""

    name: str
    path: str
    baseline_sql: str
    baseline_params: Callable[[], dict[str, Any]]
    #: Median target in ms, and the most the median may be over the baseline.
    target_ms: float | None = None
    max_ratio: float | None = None


def _day_start(day: date) -> str:
    return datetime.combine(day, datetime.min.time()).strftime("%Y-%m-%d %H:%M:%S")


def _dashboard_params(period: periods.Period) -> Callable[[], dict[str, Any]]:
    def params() -> dict[str, Any]:
        previous = period.previous()
        today = datetime.now(UTC).date()
        as_of, prev_as_of = period.as_of(today), previous.as_of(today)
        return {
            "start": period.start,
            "end": period.end,
            "start_ts": _day_start(period.start),
            "end_ts": _day_start(period.end + timedelta(days=1)),
            "as_of": as_of,
            "as_of_ts": _day_start(as_of + timedelta(days=1)),
            "prev_start": previous.start,
            "prev_end": previous.end,
            "prev_start_ts": _day_start(previous.start),
            "prev_end_ts": _day_start(previous.end + timedelta(days=1)),
            "prev_as_of": prev_as_of,
            "prev_as_of_ts": _day_start(prev_as_of + timedelta(days=1)),
        }

    return params


#: The dashboard's headline figures in one hand-written SQLite query (the baseline).
DASHBOARD_SQL = """
WITH m AS (
  SELECT tier, created_at, withdrawn_at, erased_at,
         CASE WHEN joined_by IN ('phone', 'paper') THEN created_at
              ELSE confirmed_at END AS active_from
  FROM members
), intervals AS (
  SELECT 'manage' AS approach, COALESCE((SELECT days FROM contact_intervals
         WHERE approach = 'manage'), 30) AS days
  UNION ALL SELECT 'inform', COALESCE((SELECT days FROM contact_intervals
         WHERE approach = 'inform'), 90)
  UNION ALL SELECT 'monitor', COALESCE((SELECT days FROM contact_intervals
         WHERE approach = 'monitor'), 180)
), last_contact AS (
  SELECT aa.audience_id,
         MAX(CASE WHEN a.occurred_on <= :as_of THEN a.occurred_on END) AS now_last,
         MAX(CASE WHEN a.occurred_on <= :prev_as_of THEN a.occurred_on END) AS prev_last
  FROM activity_audiences aa JOIN activities a ON a.id = aa.activity_id
  GROUP BY aa.audience_id
)
SELECT
  (SELECT COUNT(*) FROM actions WHERE status = 'done'
     AND completed_at >= :start_ts AND completed_at < :end_ts) AS completed,
  (SELECT COUNT(*) FROM actions WHERE status IN ('planned', 'in_progress')
     AND created_at < :as_of_ts AND next_due_date < :as_of) AS overdue,
  (SELECT COUNT(*) FROM actions WHERE status IN ('planned', 'in_progress')
     AND created_at < :as_of_ts AND next_due_date IS NULL
     AND recurrence != 'ongoing') AS unscheduled,
  (SELECT COUNT(*) FROM actions WHERE status IN ('planned', 'in_progress')
     AND created_at < :as_of_ts) AS open_actions,
  (SELECT COUNT(*) FROM actions WHERE status = 'done'
     AND completed_at >= :prev_start_ts
     AND completed_at < :prev_end_ts) AS prev_completed,
  (SELECT COUNT(*) FROM actions WHERE status IN ('planned', 'in_progress')
     AND created_at < :prev_as_of_ts AND next_due_date < :prev_as_of) AS prev_overdue,
  (SELECT COUNT(*) FROM activities
     WHERE occurred_on BETWEEN :start AND :end) AS deliveries,
  (SELECT COUNT(*) FROM activities
     WHERE occurred_on BETWEEN :prev_start AND :prev_end) AS prev_deliveries,
  (SELECT json_group_array(json_array(channel_id, label, total)) FROM (
     SELECT ac.channel_id, lower(r.label) AS label, SUM(r.value) AS total
     FROM activities a JOIN actions ac ON ac.id = a.action_id
     JOIN reach_figures r ON r.activity_id = a.id
     WHERE a.occurred_on BETWEEN :start AND :end
     GROUP BY ac.channel_id, lower(r.label))) AS reach,
  (SELECT COUNT(*) FROM audiences au JOIN intervals i ON i.approach = au.approach
     LEFT JOIN last_contact lc ON lc.audience_id = au.id
     WHERE au.archived_at IS NULL AND au.created_at < :as_of_ts
       AND (lc.now_last IS NULL
            OR date(lc.now_last, '+' || i.days || ' days') <= :as_of)) AS due,
  (SELECT COUNT(*) FROM audiences au JOIN intervals i ON i.approach = au.approach
     LEFT JOIN last_contact lc ON lc.audience_id = au.id
     WHERE au.archived_at IS NULL AND au.created_at < :prev_as_of_ts
       AND (lc.prev_last IS NULL
            OR date(lc.prev_last, '+' || i.days || ' days') <= :prev_as_of))
     AS prev_due,
  (SELECT json_group_array(json_array(tier, n, p)) FROM (
     SELECT tier,
       SUM(created_at < :as_of_ts AND active_from < :as_of_ts
           AND (withdrawn_at IS NULL OR withdrawn_at >= :as_of_ts)
           AND (erased_at IS NULL OR erased_at >= :as_of_ts)) AS n,
       SUM(created_at < :prev_as_of_ts AND active_from < :prev_as_of_ts
           AND (withdrawn_at IS NULL OR withdrawn_at >= :prev_as_of_ts)
           AND (erased_at IS NULL OR erased_at >= :prev_as_of_ts)) AS p
     FROM m GROUP BY tier)) AS members_by_tier,
  (SELECT COUNT(*) FROM m WHERE active_from >= :start_ts
     AND active_from < :end_ts) AS joined,
  (SELECT COUNT(*) FROM m WHERE withdrawn_at >= :start_ts
     AND withdrawn_at < :end_ts) AS withdrawn,
  (SELECT COUNT(*) FROM m WHERE active_from >= :prev_start_ts
     AND active_from < :prev_end_ts) AS prev_joined,
  (SELECT COUNT(*) FROM m WHERE withdrawn_at >= :prev_start_ts
     AND withdrawn_at < :prev_end_ts) AS prev_withdrawn
"""

ACTION_LIST_SQL = """
SELECT a.*, c.name FROM actions a JOIN channels c ON c.id = a.channel_id
ORDER BY a.next_due_date IS NULL, a.next_due_date, a.id LIMIT 25;
"""

MEMBER_LIST_SQL = """
SELECT m.*, (SELECT COUNT(*) FROM members WHERE status = 'active' AND tier = 'gold')
FROM members m WHERE m.status = 'active' AND m.tier = 'gold'
ORDER BY m.created_at DESC, m.id DESC LIMIT 25
"""


def _dashboard_items() -> list[PageItem]:
    items = []
    for kind in (
        periods.PeriodKind.MONTH,
        periods.PeriodKind.QUARTER,
        periods.PeriodKind.YEAR,
    ):
        period = periods.current(kind, TODAY)
        items.append(
            PageItem(
                f"dashboard ({kind.value})",
                f"/dashboard/?period={kind.value}&value={period.value}",
                DASHBOARD_SQL,
                _dashboard_params(period),
                target_ms=150,
                max_ratio=2.0,
            )
        )
    return items


#: Timed pages; the survey results page (the largest survey, ≤ 1 s) is added at run
#: time, and the reach report job and the feed poll are timed as calls (``CallItem``).
BENCH_ITEMS: list[PageItem] = [
    *_dashboard_items(),
    PageItem("action plan list", "/actions/", ACTION_LIST_SQL, dict),
    PageItem(
        "member list (gold, active)",
        "/members/?tier=gold&status=active",
        MEMBER_LIST_SQL,
        dict,
        target_ms=100,
    ),
]

#: The survey results baseline: every question's answer counts (and means) in one
#: plain GROUP BY.
SURVEY_RESULTS_SQL = """
SELECT a.question_id, a.choice_id, COUNT(*), AVG(a.number)
FROM survey_answers a JOIN survey_responses r ON r.id = a.response_id
WHERE r.survey_id = :survey_id
GROUP BY a.question_id, a.choice_id
"""

#: The reach report baseline: each metric's total over the report's two months.
REACH_SQL = """
SELECT metric_id, source, COUNT(*), SUM(value) FROM observations
WHERE observed_on BETWEEN :start AND :end GROUP BY metric_id, source
"""


@dataclass(frozen=True)
class CallItem:
    """A service call timed in the bench app (rolled back after each run)."""

    name: str
    call: Callable[[], Any]
    target_ms: float
    baseline: Callable[[], Any] | None = None
    #: At most this many runs (slow calls): the table still shows median and p95.
    max_runs: int = 5


def _survey_results_item() -> PageItem:
    from engage.surveys.models import Survey

    survey_id = db.session.scalar(
        select(Survey.id).where(Survey.title == generator.BIG_SURVEY_TITLE)
    )
    if survey_id is None:
        raise RuntimeError("the bench database has no big survey")
    return PageItem(
        "survey results (largest survey)",
        f"/surveys/{survey_id}/results",
        SURVEY_RESULTS_SQL,
        lambda: {"survey_id": survey_id},
        target_ms=1000,
    )


def _reach_report_item() -> CallItem:
    from engage.metrics.models import ReportPeriod
    from engage.metrics.reach import send_reach_report
    from engage.metrics.report import last_complete_period

    period = last_complete_period(ReportPeriod.MONTH, TODAY)
    now = datetime.now(UTC)

    def make_and_send() -> None:
        # Computed afresh each run: the rollback forgets the stored report.
        try:
            counts = send_reach_report(ReportPeriod.MONTH, TODAY, now=now)
            if counts["reports"] != 1:
                raise RuntimeError(f"the reach report was not made: {counts}")
        finally:
            db.session.rollback()

    def baseline() -> None:
        db.session.execute(
            text(REACH_SQL), {"start": period.previous().start, "end": period.end}
        ).all()

    return CallItem(
        f"reach report job ({period.label})", make_and_send, 10_000, baseline
    )


#: Entries in each served feed (new each run: the poll's writes are rolled back).
FEED_ENTRIES = 20


def _feed_document(number: int) -> bytes:
    items = "".join(
        f"<item><title>Hospital news {number}-{k}</title>"
        f"<link>https://news.example/served/{number}/{k}</link>"
        f"<guid>served-{number}-{k}</guid>"
        f"<description>Our surgery and hospital, story {k}.</description>"
        f"<pubDate>Mon, {1 + k % 28:02d} Sep 2026 10:00:00 GMT</pubDate></item>"
        for k in range(FEED_ENTRIES)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>Bench feed {number}</title><link>https://news.example/</link>"
        f"<description>Bench</description>{items}</channel></rss>"
    ).encode()


@contextmanager
def feed_server() -> Iterator[str]:
    """A threaded HTTP server on a free loopback port serving /feeds/<n>.xml."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            match = re.fullmatch(r"/feeds/(\d+)\.xml", self.path)
            if match is None:
                self.send_error(404)
                return
            body = _feed_document(int(match.group(1)))
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _feed_poll_item(base: str) -> CallItem:
    from engage.metrics.models import Feed
    from jobs.feeds import poll_feeds  # jobs/ builds on engage/: imported when run

    feeds = list(db.session.scalars(select(Feed).order_by(Feed.id)))
    for number, feed in enumerate(feeds):
        feed.url = f"{base}/feeds/{number}.xml"
        feed.etag = feed.last_modified = feed.next_poll_after = None
        feed.active = True
    db.session.commit()
    urls = [f"{base}/feeds/{n}.xml" for n in range(len(feeds))]
    now = datetime.now(UTC)

    def poll() -> None:
        try:
            counts = poll_feeds(now)
            if counts["failed"] or counts["feeds"] != len(feeds):
                raise RuntimeError(f"the feed poll failed: {counts}")
        finally:
            db.session.rollback()

    def baseline() -> None:
        for url in urls:
            # Our own loopback feed server (the baseline for the feed poll).
            with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310  # nosec B310
                response.read()

    return CallItem(f"poll {len(feeds)} local feeds", poll, 10_000, baseline)


def _call_result(item: CallItem, *, runs: int, warmup: int) -> Result:
    runs, warmup = min(runs, item.max_runs), min(warmup, 1)
    median, p95 = _timings(item.call, runs=runs, warmup=warmup)
    base = ratio = "–"
    if item.baseline is not None:
        base_ms, _ = _timings(item.baseline, runs=runs, warmup=warmup)
        base = _ms(base_ms)
        ratio = f"{median / base_ms:.1f}×" if base_ms else "–"
    return Result(
        item.name,
        _ms(median),
        _ms(p95),
        base,
        ratio,
        f"≤ {item.target_ms:g} ms",
        median <= item.target_ms,
    )


def _page_result(
    item: PageItem, client: FlaskClient, *, runs: int, warmup: int
) -> Result:
    def page() -> None:
        response = client.get(item.path)
        if response.status_code != 200:
            raise RuntimeError(f"{item.path} answered {response.status_code}")

    def baseline() -> None:
        db.session.execute(text(item.baseline_sql), item.baseline_params()).all()

    median, p95 = _timings(page, runs=runs, warmup=warmup)
    base, _ = _timings(baseline, runs=runs, warmup=warmup)
    ratio = median / base if base else float("inf")
    targets, met = [], True
    if item.target_ms is not None:
        targets.append(f"≤ {item.target_ms:g} ms")
        met = met and median <= item.target_ms
    if item.max_ratio is not None:
        targets.append(f"≤ {item.max_ratio:g}× SQL")
        met = met and ratio <= item.max_ratio
    return Result(
        item.name,
        _ms(median),
        _ms(p95),
        _ms(base),
        f"{ratio:.1f}×",
        ", ".join(targets) or "–",
        met if targets else None,
    )


# The join load ------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _gunicorn(app_path: str, env: dict[str, str]) -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen(  # noqa: S603  # nosec B603
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            "2",
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


def _opener() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )


def join_load(
    database_url: str, *, total: int, threads: int, count_members: Callable[[str], int]
) -> list[Result]:
    """POST /join under load (gunicorn -w 2) against a bare one-insert endpoint."""
    from engage.bench import bare

    env = {
        "ENGAGE_DATABASE_URL": database_url,
        "ENGAGE_BENCH_DATABASE_URL": database_url,
        "ENGAGE_SECRET_KEY": secrets.token_urlsafe(48),
        "ENGAGE_ENVIRONMENT": "development",
        "ENGAGE_RATELIMIT_ENABLED": "false",  # the bench measures throughput
        "ENGAGE_LOG_LEVEL": "WARNING",
    }
    tag = secrets.token_hex(4)
    results = []
    with _gunicorn("wsgi:app", env) as base:

        def setup() -> tuple[urllib.request.OpenerDirector, str]:
            opener = _opener()
            html = opener.open(base + "/join", timeout=30).read().decode()
            match = re.search(
                r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html
            )
            return opener, match.group(1) if match else ""

        def post(number: int, state: tuple[urllib.request.OpenerDirector, str]) -> int:
            opener, token = state
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
            with opener.open(base + "/join", data=form, timeout=60) as response:
                return int(response.status)

        load, seconds = _load(post, setup, total=total, threads=threads)
    stored = count_members(f"join-{tag}-%")
    engine_url = database_url
    from sqlalchemy import create_engine

    engine = create_engine(engine_url)
    bare.metadata.create_all(engine)
    engine.dispose()
    with _gunicorn("engage.bench.bare:app", env) as base:

        def bare_post(number: int, state: urllib.request.OpenerDirector) -> int:
            form = urllib.parse.urlencode({"email": f"bare-{tag}-{number}@x.example"})
            with state.open(
                base + "/insert", data=form.encode(), timeout=60
            ) as response:
                return int(response.status)

        bare_load, bare_seconds = _load(
            bare_post, _opener, total=total, threads=threads
        )
    rate = load.ok / seconds if seconds else 0.0
    bare_rate = bare_load.ok / bare_seconds if bare_seconds else 0.0
    latencies = sorted(load.latencies) or [0.0]
    lost = load.ok - stored
    met = rate >= 150 and lost == 0 and load.server_errors == 0
    results.append(
        Result(
            f"/join POSTs ({threads} clients, gunicorn -w 2)",
            f"{rate:,.0f}/s",
            _ms(latencies[min(len(latencies) - 1, round(0.95 * len(latencies)))]),
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


# The run ------------------------------------------------------------------------------


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
        sizes = generator.generate(db.engine, scale=scale, progress=out)
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
            data={"email": lead.email, "password": generator.BENCH_PASSWORD},
        )
        if response.status_code != 302:
            raise RuntimeError("could not sign in to the bench database")
        for item in [*BENCH_ITEMS, _survey_results_item()]:
            out(f"timing {item.name}…")
            results.append(_page_result(item, client, runs=runs, warmup=warmup))
        with feed_server() as base:
            for call_item in (_reach_report_item(), _feed_poll_item(base)):
                out(f"timing {call_item.name}…")
                results.append(_call_result(call_item, runs=runs, warmup=warmup))
        db.session.remove()
        db.engine.dispose()
    return results


def format_table(results: list[Result]) -> str:
    """The results as a plain-text table."""
    header = ("item", "median", "p95", "baseline", "ratio", "target", "met?")
    rows = [
        (
            r.item,
            r.median,
            r.p95,
            r.baseline,
            r.ratio,
            r.target,
            "–" if r.met is None else ("yes" if r.met else "NO"),
        )
        for r in results
    ]
    widths = [
        max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))
    ]
    lines = ["  ".join(str(v).ljust(w) for v, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += [
        "  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True))
        for row in rows
    ]
    notes = [f"  {r.item}: {r.note}" for r in results if r.note]
    if hasattr(os, "getloadavg"):
        load = os.getloadavg()[0]
        notes.append(
            f"  machine: load average {load:.1f} on {os.cpu_count()} CPUs in the run"
            " (timings grow with other work on the machine)"
        )
    return "\n".join(lines + (["", *notes] if notes else []))
