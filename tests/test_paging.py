"""Lists read by their sort keys: every row once, either way, whatever the ties and
the order chosen; a cursor this app did not make for that order gives the first page."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import ColumnElement
from sqlalchemy import Select
from sqlalchemy import delete

from engage.actions import services as actions
from engage.actions.models import Action
from engage.actions.models import ActionStatus
from engage.clock import utcnow
from engage.extensions import db
from engage.membership.models import Member
from engage.membership.services import MEMBER_ORDER
from engage.membership.services import MemberFilter
from engage.membership.services import member_query
from engage.paging import CursorPage
from engage.paging import cursor_for
from engage.paging import keys_at
from engage.paging import keyset_page
from tests.factories import ActionFactory
from tests.factories import ChannelFactory
from tests.factories import MemberFactory

PER_PAGE = 3
TODAY = date(2026, 11, 16)


def _page(
    app: Flask,
    query: Select[Any],
    order: Sequence[ColumnElement[Any]],
    **args: str,
) -> CursorPage:
    with app.test_request_context("/list", query_string=args):
        return keyset_page(query, order, per_page=PER_PAGE)


def _ids(page: CursorPage) -> list[int]:
    return [item.id for item in page.items]


def _walk_forward(app: Flask, query: Select[Any], order: Any) -> list[int]:
    page = _page(app, query, order)
    assert page.is_first
    seen = _ids(page)
    while not page.is_last:
        assert page.after is not None
        page = _page(app, query, order, after=page.after)
        assert not page.is_first
        seen += _ids(page)
    return seen


def _walk_back(app: Flask, query: Select[Any], order: Any) -> list[int]:
    page = _page(app, query, order, page="last")
    assert page.is_last
    seen = _ids(page)
    while not page.is_first:
        assert page.before is not None
        page = _page(app, query, order, before=page.before)
        seen = _ids(page) + seen
    return seen


def _members_with_ties() -> Select[Any]:
    """Eleven members, seven of them joined at the same moment (ties on the key)."""
    now = utcnow()
    for index in range(11):
        moment = now if index < 7 else now - timedelta(days=index)
        MemberFactory(created_at=moment)
    return member_query(MemberFilter())


def test_pages_give_every_row_once_forward_and_back_through_ties(
    app: Flask,
) -> None:
    query = _members_with_ties()
    expected = [m.id for m in db.session.scalars(query)]
    assert _walk_forward(app, query, MEMBER_ORDER) == expected
    assert _walk_back(app, query, MEMBER_ORDER) == expected


def test_pages_are_full_and_the_first_and_last_know_it(app: Flask) -> None:
    query = _members_with_ties()
    first = _page(app, query, MEMBER_ORDER)
    assert first.total == 11
    assert len(first.items) == PER_PAGE
    assert first.before is None
    last = _page(app, query, MEMBER_ORDER, page="last")
    # Eleven rows in threes: the last page holds the last three, not two.
    assert len(last.items) == PER_PAGE
    assert last.after is None
    assert last.is_last
    assert not last.is_first
    # Back from the second page: the first page, full, with no previous link.
    second = _page(app, query, MEMBER_ORDER, after=str(first.after))
    back = _page(app, query, MEMBER_ORDER, before=str(second.before))
    assert _ids(back) == _ids(first)
    assert back.is_first


def test_a_single_page_has_no_links(app: Flask) -> None:
    MemberFactory()
    page = _page(app, member_query(MemberFilter()), MEMBER_ORDER)
    assert page.is_first
    assert page.is_last
    assert page.total == 1


def test_an_empty_list_is_one_empty_page(app: Flask) -> None:
    for args in ({}, {"page": "last"}):
        page = _page(app, member_query(MemberFilter()), MEMBER_ORDER, **args)
        assert page.items == []
        assert page.total == 0
        assert page.is_first
        assert page.is_last


@pytest.mark.parametrize("sort", list(actions.SortKey))
@pytest.mark.parametrize("descending", [False, True])
def test_the_plan_pages_follow_the_order_chosen_with_undated_actions_last(
    app: Flask, sort: actions.SortKey, descending: bool
) -> None:
    # Ties on every key: shared due dates, titles, statuses and channels, and
    # several undated actions (a nullable key).
    channels = [ChannelFactory(name=name) for name in ("Radio", "Newsletter")]
    for index in range(10):
        ActionFactory(
            title=f"{('Action', 'ACTION', 'action')[index // 4]} {index % 4}",
            channel=channels[index % 2],
            status=[ActionStatus.PLANNED, ActionStatus.IN_PROGRESS][index % 2],
            next_due_date=None if index % 4 == 0 else TODAY + timedelta(index % 3),
        )
    criteria = actions.ActionFilter(sort=sort, descending=descending)
    query = actions.action_query(criteria, today=TODAY)
    order = actions.action_order(criteria)
    expected = [a.id for a in db.session.scalars(query)]
    assert len(expected) == 10
    assert _walk_forward(app, query, order) == expected
    assert _walk_back(app, query, order) == expected


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "garbage",
        "W10.AAAA",  # well formed, not signed by this app
        "x" * 5000,
        "\x00",
        "%ff%fe",
        "WyJhIiwgW11d",  # an unsigned payload
    ],
)
@pytest.mark.parametrize("key", ["after", "before"])
def test_a_cursor_not_made_here_gives_the_first_page(
    app: Flask, cursor: str, key: str
) -> None:
    query = _members_with_ties()
    first = _page(app, query, MEMBER_ORDER)
    page = _page(app, query, MEMBER_ORDER, **{key: cursor})
    assert _ids(page) == _ids(first)
    assert page.is_first


def test_a_cursor_altered_or_made_for_another_order_gives_the_first_page(
    app: Flask,
) -> None:
    query = _members_with_ties()
    first = _page(app, query, MEMBER_ORDER)
    cursor = str(first.after)
    altered = cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")
    oldest_first = (Member.created_at.asc(), Member.id.asc())
    for args, order in (
        ({"after": altered}, MEMBER_ORDER),
        ({"after": cursor}, oldest_first),
        ({"page": "2"}, MEMBER_ORDER),
        ({"page": "-1"}, MEMBER_ORDER),
    ):
        page = _page(app, query, order, **args)
        assert page.is_first, args
        assert len(page.items) == PER_PAGE


def test_a_cursor_past_the_rows_left_gives_the_last_page(app: Flask) -> None:
    query = _members_with_ties()
    last = _page(app, query, MEMBER_ORDER, page="last")
    # The next page after the last row: nothing there, so the last page again.
    with app.test_request_context("/list"):
        after_last = cursor_for(MEMBER_ORDER, keys_at(query, MEMBER_ORDER, 10) or [])
    page = _page(app, query, MEMBER_ORDER, after=after_last)
    assert _ids(page) == _ids(last)
    assert page.is_last


def test_a_page_after_rows_since_deleted_starts_where_they_were(app: Flask) -> None:
    query = _members_with_ties()
    first = _page(app, query, MEMBER_ORDER)
    second = _page(app, query, MEMBER_ORDER, after=str(first.after))
    # The row the link names is gone: the next page still follows its place.
    db.session.execute(delete(Member).where(Member.id == first.items[-1].id))
    db.session.commit()
    again = _page(app, query, MEMBER_ORDER, after=str(first.after))
    assert _ids(again) == _ids(second)


def test_keys_of_every_type_make_cursors_that_read_back(app: Flask) -> None:
    # A timestamp (members), a day and an enum and a flag (actions).
    ActionFactory(next_due_date=TODAY, status=ActionStatus.IN_PROGRESS)
    criteria = actions.ActionFilter(sort=actions.SortKey.STATUS)
    order = [Action.next_due_date.is_(None), *actions.action_order(criteria)]
    query = actions.action_query(criteria, today=TODAY).order_by(None)
    with app.test_request_context("/list"):
        keys = keys_at(query, order, 0)
        assert keys is not None
        cursor = cursor_for(order, keys)
    page = _page(app, query, order, before=cursor)
    assert page.is_first
