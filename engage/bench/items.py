"""The benchmark items: the timed pages with their SQL baselines, and the timed calls.

``BENCH_ITEMS`` holds the page items; the survey results page, the reach report job
and the feed poll (against ``feed_server``, a loopback feed server) are made at run
time, in the bench app.
"""

from __future__ import annotations

import re
import threading
import urllib.request
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy import text

from engage.bench import pg_baselines
from engage.bench.gen_rows import END
from engage.bench.gen_surveys import BIG_SURVEY_TITLE
from engage.bench.timing import CallItem
from engage.bench.timing import PageItem
from engage.clock import start_of_day
from engage.clock import utcnow
from engage.dashboard import periods
from engage.extensions import db

#: "Today" for the timed pages: the generated data set's last day.
TODAY = END


def _moment(moment: datetime) -> str:
    """An aware moment as the database holds it (UTC, no zone)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _day_start(day: date) -> str:
    """The moment a UK day starts, as the database holds it."""
    return _moment(start_of_day(day))


def _dashboard_params(period: periods.Period) -> Callable[[], dict[str, Any]]:
    def params() -> dict[str, Any]:
        today = utcnow().date()
        # The days the dashboard counts: a period not yet over to date, and the
        # same number of days of the one before.
        seen = period.on(today)
        previous = seen.previous()
        as_of, prev_as_of = seen.as_of(today), previous.as_of(today)
        return {
            "start": seen.start,
            "end": seen.end,
            "start_ts": _day_start(seen.start),
            "end_ts": _day_start(seen.end + timedelta(days=1)),
            "as_of": as_of,
            "as_of_ts": _day_start(as_of + timedelta(days=1)),
            "prev_start": previous.start,
            "prev_end": previous.end,
            "prev_start_ts": _day_start(previous.start),
            "prev_end_ts": _day_start(previous.end + timedelta(days=1)),
            "prev_as_of": prev_as_of,
            "prev_as_of_ts": _day_start(prev_as_of + timedelta(days=1)),
            "now_ts": _moment(utcnow()),
        }

    return params


#: The dashboard's headline figures in one hand-written SQLite query (the baseline).
DASHBOARD_SQL = "".join(
    # Constant texts (every value is a bound parameter).
    (
        """
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
""",
        pg_baselines.INVOLVEMENT_CTES,
        """
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
""",
        pg_baselines.INVOLVEMENT_COLUMNS,
    )
)


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
                baseline_sql_postgresql=pg_baselines.DASHBOARD_SQL,
            )
        )
    return items


#: Timed pages; the survey results page (the largest survey, ≤ 1 s) is added at run
#: time, and the reach report job and the feed poll are timed as calls (``CallItem``).
BENCH_ITEMS: list[PageItem] = [
    *_dashboard_items(),
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


def survey_results_item() -> PageItem:
    """The results page of the largest survey (found in the bench database)."""
    from engage.surveys.models import Survey

    survey_id = db.session.scalar(
        select(Survey.id).where(Survey.title == BIG_SURVEY_TITLE)
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


def reach_report_item() -> CallItem:
    """The reach report job for the last complete month, against a plain GROUP BY."""
    from engage.metrics.models import ReportPeriod
    from engage.metrics.reach import send_reach_report
    from engage.metrics.report import last_complete_period

    period = last_complete_period(ReportPeriod.MONTH, TODAY)
    now = utcnow()

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
    from http.server import BaseHTTPRequestHandler
    from http.server import ThreadingHTTPServer

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


def feed_poll_item(base: str) -> CallItem:
    """Poll every feed, pointed at the loopback feed server, against raw fetches."""
    from engage.metrics.models import Feed
    from jobs.feeds import poll_feeds  # jobs/ builds on engage/: imported when run

    feeds = list(db.session.scalars(select(Feed).order_by(Feed.id)))
    for number, feed in enumerate(feeds):
        feed.url = f"{base}/feeds/{number}.xml"
        feed.etag = feed.last_modified = feed.next_poll_after = None
        feed.active = True
    db.session.commit()
    urls = [f"{base}/feeds/{n}.xml" for n in range(len(feeds))]
    now = utcnow()

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
