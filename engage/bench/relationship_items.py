"""The relationship log's benchmarks: the audience page, the register, the scoring.

Timed as pages against hand-written SQL (see ``gen_relationships`` for the data): the
page of the audience in most interactions (its timeline and health are sections
other parts add), the themes overview and the commitments register (the
interactions list is one of the long lists, in ``list_items``); and the nightly
health scoring of every audience (``engage.relationships.health.score_all``, rolled
back) against one ``INSERT ... SELECT`` scoring every audience from the same facts."""

from __future__ import annotations

import sys
from datetime import timedelta

from flask import current_app
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import text

from engage.audiences.models import Audience
from engage.bench import pg_baselines
from engage.bench.gen_relationships import busiest_audience
from engage.bench.timing import CallItem
from engage.bench.timing import PageItem
from engage.bench.timing import on_engine
from engage.clock import today
from engage.clock import utcnow
from engage.extensions import db
from engage.relationships import health

#: Targets (medians, ms).
AUDIENCE_PAGE_TARGET_MS = 100
THEMES_TARGET_MS = 300
LIST_TARGET_MS = 100
HEALTH_TARGET_MS = 5_000
#: Rows a list shows when its view does not say (``PER_PAGE`` in its module).
DEFAULT_PER_PAGE = 25
#: The interactions the audience page's timeline shows at first.
TIMELINE_ROWS = 20
#: The period the baselines count over: the themes overview and recent contact.
THEMES_DAYS = 365
HEALTH_RECENT_DAYS = 90

#: The audience page's baseline: the first page of its timeline (themes, contacts,
#: how many there are) with its latest health score, in one query.
AUDIENCE_PAGE_SQL = """
SELECT p.*,
  (SELECT group_concat(t.name, ', ') FROM interaction_themes it
     JOIN relationship_themes t ON t.id = it.theme_id
     WHERE it.interaction_id = p.id) AS themes,
  (SELECT group_concat(c.name, ', ') FROM interaction_contacts ic
     JOIN audience_contacts c ON c.id = ic.contact_id
     WHERE ic.interaction_id = p.id) AS contacts,
  (SELECT COUNT(*) FROM interaction_audiences
     WHERE audience_id = :audience_id) AS total,
  (SELECT score || ' ' || band FROM audience_health WHERE audience_id = :audience_id
     ORDER BY day DESC LIMIT 1) AS health
FROM (
  SELECT i.id, i.occurred_on, i.kind, i.subject, i.sentiment, i.status
  FROM interactions i JOIN interaction_audiences ia ON ia.interaction_id = i.id
  WHERE ia.audience_id = :audience_id
  ORDER BY i.occurred_on DESC, i.id DESC LIMIT :rows
) p
ORDER BY p.occurred_on DESC, p.id DESC
"""

#: The themes overview's baseline: each theme's confirmed interactions over the
#: period, the audiences that raised it and how those went, read (as the page reads
#: them) from the day, sentiment and status the link rows carry.
THEMES_SQL = """
WITH counted AS (
  SELECT theme_id + 0 AS theme_id, COUNT(*) AS interactions,
    SUM(sentiment = 'negative') AS negative,
    SUM(sentiment = 'positive') AS positive, MAX(occurred_on) AS latest
  FROM interaction_themes
  WHERE confirmed = 1 AND occurred_on >= :since
  GROUP BY theme_id + 0
), reached AS (
  SELECT it.theme_id + 0 AS theme_id, COUNT(DISTINCT ia.audience_id) AS audiences
  FROM interaction_themes it
  JOIN interaction_audiences ia ON ia.interaction_id = it.interaction_id
  WHERE it.confirmed = 1 AND it.occurred_on >= :since
  GROUP BY it.theme_id + 0
)
SELECT t.id, t.name, COALESCE(c.interactions, 0) AS interactions,
  COALESCE(a.audiences, 0) AS audiences, c.negative, c.positive, c.latest
FROM relationship_themes t
LEFT JOIN counted c ON c.theme_id = t.id
LEFT JOIN reached a ON a.theme_id = t.id
WHERE t.is_active
ORDER BY interactions DESC, t.name
"""

#: The commitments register's baseline: the open ones, soonest due first, with the
#: audience and owner and the number there are.
COMMITMENTS_SQL = """
SELECT p.*, a.name, u.name,
  (SELECT COUNT(*) FROM commitments WHERE status = 'open') AS matching
FROM (
  SELECT id, description, audience_id, owner_id, due_on, status FROM commitments
  WHERE status = 'open' ORDER BY due_on, id LIMIT :per_page
) p
JOIN audiences a ON a.id = p.audience_id
LEFT JOIN users u ON u.id = p.owner_id
ORDER BY p.due_on, p.id
"""

#: The health scoring's baseline: every audience scored from its last contact, how
#: recent contact went and its overdue commitments, written in one INSERT ... SELECT.
HEALTH_SQL = """
INSERT INTO audience_health (audience_id, day, score, band, reasons, computed_at)
SELECT id, :day, score,
  CASE WHEN score >= 70 THEN 'good' WHEN score >= 40 THEN 'fair' ELSE 'poor' END,
  'Last contact ' || COALESCE(last, 'never') || char(10) || overdue || ' overdue',
  :now
FROM (
  SELECT a.id, x.last, COALESCE(c.overdue, 0) AS overdue,
    CAST(MAX(0, MIN(100, 100
      - MIN(60, COALESCE(julianday(:day) - julianday(x.last), 365) / 3)
      - 25.0 * COALESCE(x.negative, 0) / MAX(COALESCE(x.recent, 0), 1)
      - 5 * COALESCE(c.overdue, 0))) AS INTEGER) AS score
  FROM audiences a
  LEFT JOIN (
    SELECT ia.audience_id, MAX(i.occurred_on) AS last,
      SUM(i.occurred_on >= :since) AS recent,
      SUM(i.occurred_on >= :since AND i.sentiment = 'negative') AS negative
    FROM interaction_audiences ia JOIN interactions i ON i.id = ia.interaction_id
    WHERE i.status = 'confirmed' AND i.occurred_on <= :day
    GROUP BY ia.audience_id) x ON x.audience_id = a.id
  LEFT JOIN (
    SELECT audience_id, SUM(due_on < :day) AS overdue
    FROM commitments WHERE status = 'open' GROUP BY audience_id
  ) c ON c.audience_id = a.id
  WHERE a.archived_at IS NULL)
"""


def _per_page(endpoint: str) -> int:
    """The page size of a list: ``PER_PAGE`` in its view's module, if it says."""
    view = current_app.view_functions[endpoint]
    return int(getattr(sys.modules[view.__module__], "PER_PAGE", DEFAULT_PER_PAGE))


def audience_page_item() -> PageItem:
    """The page of the audience in most interactions."""
    audience_id = busiest_audience(db.session)
    if audience_id is None:
        raise RuntimeError("the bench database has no interactions")
    count = db.session.scalar(
        text("SELECT COUNT(*) FROM interaction_audiences WHERE audience_id = :a"),
        {"a": audience_id},
    )
    return PageItem(
        f"audience page (most interactions: {count:,})",
        f"/audiences/{audience_id}",
        AUDIENCE_PAGE_SQL,
        lambda: {"audience_id": audience_id, "rows": TIMELINE_ROWS},
        target_ms=AUDIENCE_PAGE_TARGET_MS,
        baseline_sql_postgresql=pg_baselines.with_string_agg(AUDIENCE_PAGE_SQL),
    )


def themes_item() -> PageItem:
    """The themes overview a lead reads."""
    return PageItem(
        "themes overview",
        "/relationships/themes",
        THEMES_SQL,
        lambda: {"since": (today() - timedelta(days=THEMES_DAYS)).isoformat()},
        target_ms=THEMES_TARGET_MS,
        baseline_sql_postgresql=pg_baselines.THEMES_SQL,
    )


def commitments_item() -> PageItem:
    """The register of every commitment (open ones first, as it opens)."""
    return PageItem(
        "commitments register",
        "/relationships/commitments/",
        COMMITMENTS_SQL,
        lambda: {"per_page": _per_page("commitments.index")},
        target_ms=LIST_TARGET_MS,
    )


def relationship_page_items() -> list[PageItem]:
    """Every relationship page item, in table order."""
    return [
        audience_page_item(),
        themes_item(),
        commitments_item(),
    ]


def health_item() -> CallItem:
    """Score every audience's health for today (rolled back), against one query."""
    audiences = db.session.scalar(
        select(func.count(Audience.id)).where(Audience.archived_at.is_(None))
    )
    name = f"health recompute of {audiences:,} audiences"
    day = today()

    def score() -> None:
        try:
            health.score_all(day)
        finally:
            db.session.rollback()

    def baseline() -> None:
        try:
            db.session.execute(
                text(on_engine(HEALTH_SQL, pg_baselines.HEALTH_SQL)),
                {
                    "day": day.isoformat(),
                    "since": (day - timedelta(days=HEALTH_RECENT_DAYS)).isoformat(),
                    "now": utcnow().replace(tzinfo=None).isoformat(sep=" "),
                },
            )
        finally:
            db.session.rollback()

    return CallItem(
        name,
        score,
        HEALTH_TARGET_MS,
        baseline,
        note="score_all for today, rolled back; baseline: one INSERT ... SELECT "
        "scoring every audience from its contact, sentiment and overdue commitments",
    )
