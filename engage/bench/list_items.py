"""The long lists' benchmarks: each list's first page and its last, reached by cursor.

The action plan, the member list (gold, active), the media mentions, the relationship
log's interactions and the free-text answers to the largest survey's text question
(its responses' own words) are read a
page at a time by their sort keys (``engage.paging.keyset_page``), so the last page
costs what the first does. Each is timed twice: its first page, and its last page
reached as the "Next page" link reaches it (``?after=`` the cursor of the row before
it, made here as the page makes it). The baselines are the same pages in hand-written
SQL: the rows after the cursor through the same index, and the count of every
matching row that the page shows ("1,234 members"), which reads the filters' index.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import ColumnElement
from sqlalchemy import Select
from sqlalchemy import select

from engage.actions import services as actions
from engage.actions import views as action_views
from engage.bench import pg_baselines
from engage.bench.gen_surveys import BIG_SURVEY_TITLE
from engage.bench.timing import PageItem
from engage.clock import today
from engage.extensions import db
from engage.membership import services as membership
from engage.membership import views as member_views
from engage.membership.models import MemberStatus
from engage.membership.models import Tier
from engage.metrics import feeds
from engage.metrics import views as metric_views
from engage.paging import count_matching
from engage.paging import cursor_for
from engage.paging import keys_at
from engage.relationships import timeline
from engage.relationships import views as relationship_views
from engage.surveys.models import HAS_WORDS_SQL
from engage.surveys.models import Question
from engage.surveys.models import Survey
from engage.surveys.results import reports
from engage.surveys.results import views as result_views

#: Median target of every page, first or last (ms).
LIST_TARGET_MS = 100

ACTIONS_SQL = """
SELECT a.*, c.name, (SELECT COUNT(*) FROM actions) AS matching
FROM actions a JOIN channels c ON c.id = a.channel_id
{where}
ORDER BY a.next_due_date IS NULL, a.next_due_date, a.id LIMIT :rows
"""
#: After a dated action: the undated ones, and those due later (or the same day).
ACTIONS_AFTER_DATED = """WHERE a.next_due_date IS NULL OR a.next_due_date > :due
  OR (a.next_due_date = :due AND a.id > :id)"""
ACTIONS_AFTER_UNDATED = "WHERE a.next_due_date IS NULL AND a.id > :id"

MEMBERS_SQL = """
SELECT m.*, (SELECT COUNT(*) FROM members
             WHERE status = 'active' AND tier = 'gold') AS matching
FROM members m WHERE m.status = 'active' AND m.tier = 'gold'
{where}
ORDER BY m.created_at DESC, m.id DESC LIMIT :rows
"""
MEMBERS_AFTER = "AND (m.created_at, m.id) < (:created, :id)"

MENTIONS_SQL = """
SELECT m.*, f.name, (SELECT COUNT(*) FROM mentions) AS matching
FROM mentions m JOIN feeds f ON f.id = m.feed_id
{where}
ORDER BY m.published_on DESC, m.id DESC LIMIT :rows
"""
MENTIONS_AFTER = "WHERE (m.published_on, m.id) < (:day, :id)"

#: The interactions list: a page, newest first, with each one's audiences and themes
#: and the number there are.
INTERACTIONS_SQL = """
SELECT p.*,
  (SELECT group_concat(a.name, ', ') FROM interaction_audiences ia
     JOIN audiences a ON a.id = ia.audience_id
     WHERE ia.interaction_id = p.id) AS audiences,
  (SELECT group_concat(t.name, ', ') FROM interaction_themes it
     JOIN relationship_themes t ON t.id = it.theme_id
     WHERE it.interaction_id = p.id) AS themes,
  (SELECT COUNT(*) FROM interactions) AS matching
FROM (
  SELECT id, occurred_on, kind, subject, sentiment, status FROM interactions
  {where}
  ORDER BY occurred_on DESC, id DESC LIMIT :rows
) p
ORDER BY p.occurred_on DESC, p.id DESC
"""
INTERACTIONS_AFTER = "WHERE (occurred_on, id) < (:day, :id)"

#: The free text with words in it (and, for the rule of five, the survey's responses
#: counted), read through the same partial index as the page.
ANSWERS_SQL = """
SELECT a.text,
  (SELECT COUNT(*) FROM survey_responses WHERE survey_id = :survey) AS responses,
  (SELECT COUNT(*) FROM survey_answers
     WHERE question_id = :question AND {words}) AS matching
FROM (SELECT * FROM survey_answers WHERE question_id = :question AND {words}) a
WHERE 1 = 1 {where}
ORDER BY a.response_id DESC, a.id DESC LIMIT :rows
"""
ANSWERS_AFTER = "AND (a.response_id, a.id) < (:response, :id)"


@dataclass(frozen=True)
class _List:
    """A list as its page reads it, and its baseline in SQL."""

    name: str
    path: str
    query: Select[Any]
    order: Sequence[ColumnElement[Any]]
    per_page: int
    sql: str
    #: The WHERE of the rows after a row, and its parameters, from its sort keys.
    after: Callable[[list[Any]], tuple[str, dict[str, Any]]]
    params: dict[str, Any]
    #: The baseline written again for PostgreSQL, where SQLite's will not run.
    sql_postgresql: str = ""


#: The member list as a lead opens it for the Gold scheme's active members.
MEMBERS_PATH = "/members/?tier=gold&status=active"


def _stored(moment: datetime) -> str:
    """A timestamp as the database stores it (naive UTC), for hand-written SQL."""
    return moment.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


def _action_after(keys: list[Any]) -> tuple[str, dict[str, Any]]:
    undated, due, action_id = keys
    if undated:
        return ACTIONS_AFTER_UNDATED, {"id": action_id}
    day: date = due
    return ACTIONS_AFTER_DATED, {"due": day.isoformat(), "id": action_id}


def _lists() -> list[_List]:
    plan = actions.ActionFilter()
    gold = membership.MemberFilter(tier=Tier.GOLD, status=MemberStatus.ACTIVE)
    question = _text_question()
    return [
        _List(
            "action plan list",
            "/actions/",
            actions.action_query(plan, today=today()),
            actions.action_order(plan),
            action_views.PER_PAGE,
            ACTIONS_SQL,
            _action_after,
            {},
        ),
        _List(
            "members list, gold and active",
            MEMBERS_PATH,
            membership.member_query(gold),
            membership.MEMBER_ORDER,
            member_views.PER_PAGE,
            MEMBERS_SQL,
            lambda k: (MEMBERS_AFTER, {"created": _stored(k[0]), "id": k[1]}),
            {},
        ),
        _List(
            "mentions list",
            "/feeds/mentions",
            feeds.mention_query(feeds.MentionFilter()),
            feeds.MENTION_ORDER,
            metric_views.PER_PAGE,
            MENTIONS_SQL,
            lambda k: (MENTIONS_AFTER, {"day": k[0].isoformat(), "id": k[1]}),
            {},
        ),
        _List(
            "interactions list",
            "/relationships/interactions/",
            timeline.list_query(timeline.Filters()),
            timeline.NEWEST_FIRST,
            relationship_views.PER_PAGE,
            INTERACTIONS_SQL,
            lambda k: (INTERACTIONS_AFTER, {"day": k[0].isoformat(), "id": k[1]}),
            {},
            pg_baselines.with_string_agg(INTERACTIONS_SQL),
        ),
        _List(
            "survey responses, free text of the largest",
            f"/surveys/{question.survey_id}/results/questions/{question.id}/answers",
            reports.text_answer_query(question),
            reports.TEXT_ANSWER_ORDER,
            result_views.PER_PAGE,
            ANSWERS_SQL,
            lambda k: (ANSWERS_AFTER, {"response": k[0], "id": k[1]}),
            {"survey": question.survey_id, "question": question.id},
        ),
    ]


def _text_question() -> Question:
    """The largest survey's free-text question."""
    found = db.session.scalars(
        select(Question)
        .join(Survey, Survey.id == Question.survey_id)
        .where(Survey.title == BIG_SURVEY_TITLE)
        .order_by(Question.position)
    )
    for question in found:
        if question.kind.is_text:
            return question
    raise RuntimeError("the bench database's big survey has no free-text question")


def _sql(template: str, where: str) -> str:
    return template.format(where=where, words=HAS_WORDS_SQL)


def _items(listed: _List) -> list[PageItem]:
    """The list's first page, and its last reached by the cursor of the row before."""
    total = count_matching(listed.query)
    rows = listed.per_page + 1
    first = PageItem(
        f"{listed.name} (first page)",
        listed.path,
        _sql(listed.sql, ""),
        lambda: {**listed.params, "rows": rows},
        target_ms=LIST_TARGET_MS,
        baseline_sql_postgresql=_sql(listed.sql_postgresql, ""),
    )
    pages = -(-total // listed.per_page)
    if pages < 2:  # the last page is the first
        return [first]
    keys = keys_at(listed.query, listed.order, (pages - 1) * listed.per_page - 1)
    if keys is None:
        raise RuntimeError(f"{listed.name}: no row before the last page")
    where, params = listed.after(keys)
    joiner = "&" if "?" in listed.path else "?"
    cursor = urlencode({"after": cursor_for(listed.order, keys)})
    last = PageItem(
        f"{listed.name} (last page, {pages:,})",
        f"{listed.path}{joiner}{cursor}",
        _sql(listed.sql, where),
        lambda: {**listed.params, **params, "rows": rows},
        target_ms=LIST_TARGET_MS,
        baseline_sql_postgresql=_sql(listed.sql_postgresql, where),
    )
    return [first, last]


def list_page_items() -> list[PageItem]:
    """Every long list's first and last page, in table order."""
    return [item for listed in _lists() for item in _items(listed)]
