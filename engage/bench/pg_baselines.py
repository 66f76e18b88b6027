"""The SQL baselines written again for PostgreSQL, where SQLite's text will not run.

Each says the same as its SQLite text (in ``items`` and ``relationship_items``):
``json_agg`` for ``json_group_array``, ``string_agg`` for ``group_concat``,
``COUNT(*) FILTER`` for summing comparisons, date arithmetic for ``date()`` and
``julianday()``, ``GREATEST``/``LEAST`` for the two-argument ``MAX``/``MIN``.
"""

from __future__ import annotations


def with_string_agg(sql: str) -> str:
    """SQLite's ``sql`` for PostgreSQL, where the two differ only in joining names:
    ``group_concat(x, sep)`` is ``string_agg(x, sep)`` (the audience page and the
    interactions list)."""
    return sql.replace("group_concat(", "string_agg(")


#: The involvement section's figures, in SQL both engines run (``AS MATERIALIZED``,
#: ``FILTER``): sessions held and attendances, and people involved (members by
#: tier, contacts and guests, each once), this period and the previous one. The
#: dashboard shows them, so its baseline computes them too.
INVOLVEMENT_CTES = """
, held AS MATERIALIZED (
  SELECT s.id, s.starts_at >= :start_ts AS this_period
  FROM involvement_sessions s
  WHERE s.cancelled_at IS NULL AND s.starts_at < :now_ts
    AND ((s.starts_at >= :start_ts AND s.starts_at < :end_ts)
         OR (s.starts_at >= :prev_start_ts AND s.starts_at < :prev_end_ts))
    AND s.activity_id NOT IN (
      SELECT id FROM involvement_activities WHERE status = 'cancelled')
), came AS MATERIALIZED (
  SELECT h.this_period, a.member_id, a.contact_id, a.user_id, a.guest_name
  FROM held h JOIN involvement_attendances a ON a.session_id = h.id
), involved AS MATERIALIZED (
  SELECT m.tier, c.this_period, COUNT(*) AS n
  FROM (SELECT DISTINCT this_period, member_id FROM came
        WHERE member_id IS NOT NULL) c
  JOIN members m ON m.id = c.member_id
  GROUP BY m.tier, c.this_period
)
"""
INVOLVEMENT_COLUMNS = """,
  (SELECT COUNT(*) FILTER (WHERE this_period) FROM held) AS sessions_held,
  (SELECT COUNT(*) FILTER (WHERE NOT this_period) FROM held) AS prev_sessions_held,
  (SELECT COUNT(*) FILTER (WHERE this_period) FROM came
     WHERE user_id IS NULL) AS attendances,
  (SELECT COUNT(*) FILTER (WHERE NOT this_period) FROM came
     WHERE user_id IS NULL) AS prev_attendances,
  (SELECT SUM(n) FILTER (WHERE this_period AND tier = 'gold') FROM involved)
     AS involved_gold,
  (SELECT SUM(n) FILTER (WHERE this_period AND tier = 'silver') FROM involved)
     AS involved_silver,
  (SELECT SUM(n) FILTER (WHERE NOT this_period AND tier = 'gold') FROM involved)
     AS prev_involved_gold,
  (SELECT SUM(n) FILTER (WHERE NOT this_period AND tier = 'silver') FROM involved)
     AS prev_involved_silver,
  (SELECT COUNT(DISTINCT contact_id) FILTER (WHERE this_period) FROM came)
     AS involved_contacts,
  (SELECT COUNT(DISTINCT contact_id) FILTER (WHERE NOT this_period) FROM came)
     AS prev_involved_contacts,
  (SELECT COUNT(DISTINCT lower(trim(guest_name))) FILTER (WHERE this_period)
     FROM came WHERE member_id IS NULL AND contact_id IS NULL
       AND user_id IS NULL AND guest_name != '') AS involved_guests,
  (SELECT COUNT(DISTINCT lower(trim(guest_name))) FILTER (WHERE NOT this_period)
     FROM came WHERE member_id IS NULL AND contact_id IS NULL
       AND user_id IS NULL AND guest_name != '') AS prev_involved_guests
"""

#: The dashboard's headline figures in one query (``items.DASHBOARD_SQL``).
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
        INVOLVEMENT_CTES,
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
  (SELECT json_agg(json_build_array(channel_id, label, total)) FROM (
     SELECT ac.channel_id, lower(r.label) AS label, SUM(r.value) AS total
     FROM activities a JOIN actions ac ON ac.id = a.action_id
     JOIN reach_figures r ON r.activity_id = a.id
     WHERE a.occurred_on BETWEEN :start AND :end
     GROUP BY ac.channel_id, lower(r.label)) AS g) AS reach,
  (SELECT COUNT(*) FROM audiences au JOIN intervals i ON i.approach = au.approach
     LEFT JOIN last_contact lc ON lc.audience_id = au.id
     WHERE au.archived_at IS NULL AND au.created_at < :as_of_ts
       AND (lc.now_last IS NULL OR lc.now_last + i.days <= :as_of)) AS due,
  (SELECT COUNT(*) FROM audiences au JOIN intervals i ON i.approach = au.approach
     LEFT JOIN last_contact lc ON lc.audience_id = au.id
     WHERE au.archived_at IS NULL AND au.created_at < :prev_as_of_ts
       AND (lc.prev_last IS NULL OR lc.prev_last + i.days <= :prev_as_of))
     AS prev_due,
  (SELECT json_agg(json_build_array(tier, n, p)) FROM (
     SELECT tier,
       COUNT(*) FILTER (WHERE created_at < :as_of_ts AND active_from < :as_of_ts
           AND (withdrawn_at IS NULL OR withdrawn_at >= :as_of_ts)
           AND (erased_at IS NULL OR erased_at >= :as_of_ts)) AS n,
       COUNT(*) FILTER (WHERE created_at < :prev_as_of_ts
           AND active_from < :prev_as_of_ts
           AND (withdrawn_at IS NULL OR withdrawn_at >= :prev_as_of_ts)
           AND (erased_at IS NULL OR erased_at >= :prev_as_of_ts)) AS p
     FROM m GROUP BY tier) AS t) AS members_by_tier,
  (SELECT COUNT(*) FROM m WHERE active_from >= :start_ts
     AND active_from < :end_ts) AS joined,
  (SELECT COUNT(*) FROM m WHERE withdrawn_at >= :start_ts
     AND withdrawn_at < :end_ts) AS withdrawn,
  (SELECT COUNT(*) FROM m WHERE active_from >= :prev_start_ts
     AND active_from < :prev_end_ts) AS prev_joined,
  (SELECT COUNT(*) FROM m WHERE withdrawn_at >= :prev_start_ts
     AND withdrawn_at < :prev_end_ts) AS prev_withdrawn
""",
        INVOLVEMENT_COLUMNS,
    )
)


#: The themes overview (``relationship_items.THEMES_SQL``).
THEMES_SQL = """
WITH counted AS (
  SELECT theme_id + 0 AS theme_id, COUNT(*) AS interactions,
    COUNT(*) FILTER (WHERE sentiment = 'negative') AS negative,
    COUNT(*) FILTER (WHERE sentiment = 'positive') AS positive,
    MAX(occurred_on) AS latest
  FROM interaction_themes
  WHERE confirmed AND occurred_on >= CAST(:since AS date)
  GROUP BY theme_id + 0
), reached AS (
  SELECT it.theme_id + 0 AS theme_id, COUNT(DISTINCT ia.audience_id) AS audiences
  FROM interaction_themes it
  JOIN interaction_audiences ia ON ia.interaction_id = it.interaction_id
  WHERE it.confirmed AND it.occurred_on >= CAST(:since AS date)
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


#: The health scoring (``relationship_items.HEALTH_SQL``).
HEALTH_SQL = """
INSERT INTO audience_health (audience_id, day, score, band, reasons, computed_at)
SELECT id, CAST(:day AS date), score,
  CASE WHEN score >= 70 THEN 'good' WHEN score >= 40 THEN 'fair' ELSE 'poor' END,
  'Last contact ' || COALESCE(CAST(last AS text), 'never') || chr(10) || overdue
    || ' overdue',
  CAST(:now AS timestamp)
FROM (
  SELECT a.id, x.last, COALESCE(c.overdue, 0) AS overdue,
    CAST(GREATEST(0, LEAST(100, 100
      - LEAST(60, COALESCE(CAST(:day AS date) - x.last, 365) / 3.0)
      - 25.0 * COALESCE(x.negative, 0) / GREATEST(COALESCE(x.recent, 0), 1)
      - 5 * COALESCE(c.overdue, 0))) AS INTEGER) AS score
  FROM audiences a
  LEFT JOIN (
    SELECT ia.audience_id, MAX(i.occurred_on) AS last,
      COUNT(*) FILTER (WHERE i.occurred_on >= CAST(:since AS date)) AS recent,
      COUNT(*) FILTER (WHERE i.occurred_on >= CAST(:since AS date)
        AND i.sentiment = 'negative') AS negative
    FROM interaction_audiences ia JOIN interactions i ON i.id = ia.interaction_id
    WHERE i.status = 'confirmed' AND i.occurred_on <= CAST(:day AS date)
    GROUP BY ia.audience_id) x ON x.audience_id = a.id
  LEFT JOIN (
    SELECT audience_id, COUNT(*) FILTER (WHERE due_on < CAST(:day AS date))
      AS overdue
    FROM commitments WHERE status = 'open' GROUP BY audience_id
  ) c ON c.audience_id = a.id
  WHERE a.archived_at IS NULL) AS s
"""
