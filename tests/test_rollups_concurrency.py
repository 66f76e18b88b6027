"""Rollups kept by recounting stay right when two transactions change the same
rows' figures through different tables at once (PostgreSQL, where writers do not
wait for each other unless a row is locked)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from engage.actions import rollup as delivery_rollup
from engage.actions.models import Action
from engage.actions.models import Activity
from engage.actions.models import DeliveryDay
from engage.extensions import db
from engage.involvement import rollup as involvement_rollup
from engage.involvement.models import ActivityKind
from engage.involvement.models import ActivityStatus
from engage.involvement.models import Attendance
from engage.involvement.models import InvolvementActivity
from engage.involvement.models import InvolvementDay
from engage.involvement.models import InvolvementSession
from tests.conftest import DATABASE_URL
from tests.factories import ActionFactory
from tests.factories import ChannelFactory

pytestmark = pytest.mark.skipif(
    not DATABASE_URL.startswith("postgresql"),
    reason="SQLite writes one transaction at a time",
)

NOW = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
DAY = date(2025, 5, 20)


def _meanwhile(app: Flask, change: Callable[[Session], None]) -> threading.Thread:
    """``change`` committed by another transaction, started now (it should wait)."""

    def run() -> None:
        with app.app_context(), Session(db.engine) as other:
            change(other)
            other.commit()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=1.0)
    return thread


def _finish(thread: threading.Thread) -> None:
    assert thread.is_alive(), "the other transaction should wait for this one's lock"
    db.session.commit()
    thread.join(timeout=30)
    assert not thread.is_alive()
    db.session.expire_all()


def test_a_delivery_logged_while_its_action_moves_channel(app: Flask) -> None:
    one, two = ChannelFactory(name="One"), ChannelFactory(name="Two")
    action = ActionFactory(channel=one)

    def delivery() -> Activity:
        return Activity(occurred_on=DAY, description="Delivery", created_at=NOW)

    action.activities.append(delivery())
    db.session.commit()
    action_id, two_id = action.id, two.id
    action.activities.append(delivery())
    db.session.flush()

    def move(other: Session) -> None:
        moved = other.get(Action, action_id)
        assert moved is not None
        moved.channel_id = two_id

    _finish(_meanwhile(app, move))
    counted = db.session.execute(
        select(DeliveryDay.channel_id, DeliveryDay.deliveries).where(
            DeliveryDay.label == delivery_rollup.COUNT_ROW
        )
    ).all()
    assert counted == [(two_id, 2)]
    stored = sorted(db.session.execute(select(*DeliveryDay.__table__.c)).all())
    delivery_rollup.rebuild(db.session.connection())
    assert sorted(db.session.execute(select(*DeliveryDay.__table__.c)).all()) == stored


def test_attendance_recorded_while_its_activity_is_called_off(app: Flask) -> None:
    activity = InvolvementActivity(
        kind=ActivityKind.MEETING, title="Board", status=ActivityStatus.INVITING
    )
    starts = datetime.combine(DAY, datetime.min.time(), tzinfo=UTC) + timedelta(hours=9)
    session = InvolvementSession(starts_at=starts, ends_at=starts + timedelta(hours=1))
    activity.sessions.append(session)
    db.session.add(activity)
    db.session.commit()
    activity_id = activity.id
    db.session.add(Attendance(session=session, guest_name="Ann", recorded_at=NOW))
    db.session.flush()

    def call_off(other: Session) -> None:
        called_off = other.get(InvolvementActivity, activity_id)
        assert called_off is not None
        called_off.status = ActivityStatus.CANCELLED

    _finish(_meanwhile(app, call_off))
    assert db.session.execute(select(*InvolvementDay.__table__.c)).all() == []
    assert involvement_rollup.rebuild(db.session.connection()) == 0
