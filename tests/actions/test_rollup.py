"""The deliveries rollup always gives the figures the deliveries themselves give."""

from __future__ import annotations

import random
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select

from engage.actions import figures
from engage.actions import rollup
from engage.actions.models import Action
from engage.actions.models import Activity
from engage.actions.models import DeliveryDay
from engage.actions.models import DeliveryMonth
from engage.actions.models import ReachFigure
from engage.extensions import db
from tests.factories import ActionFactory
from tests.factories import ChannelFactory
from tests.factories import ProgrammeFactory

START = date(2025, 1, 1)
NOW = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
LABELS = ["Recipients", "recipients", "Opens", "Clicks", "Views", "Attendees"]


def _stored() -> set[tuple[Any, ...]]:
    """Both rollups' rows (a day's or a month's, told apart by the table's name)."""
    db.session.flush()
    return {
        (table.name, *row)
        for table in (DeliveryDay.__table__, DeliveryMonth.__table__)
        for row in db.session.execute(select(*table.c))
    }


def _day(rng: random.Random) -> date:
    return START + timedelta(days=rng.randrange(120))


def _figures(rng: random.Random) -> list[ReachFigure]:
    return [
        ReachFigure(label=rng.choice(LABELS), value=rng.randrange(0, 500))
        for _ in range(rng.randrange(0, 4))
    ]


def _check(rng: random.Random, programme_id: int) -> None:
    # Every figure summed from what the flushes kept equals the same figure read
    # from the deliveries themselves (every action is in the one programme, whose
    # figures are read from the deliveries): whole months come from the months'
    # rollup, the days at their edges from the days' one…
    firsts = sorted({_day(rng) for _ in range(3)})
    spans = [(first, first + timedelta(days=rng.randrange(90))) for first in firsts]
    spans = [
        span
        for index, span in enumerate(spans)
        if index == 0 or span[0] > spans[index - 1][1]
    ]
    _same_figures(spans, programme_id)
    _same_figures([(date(2025, 1, 9), date(2025, 3, 31))], programme_id)
    # …and what they kept equals a recount from scratch.
    stored = _stored()
    days = sum(row[0] == DeliveryDay.__tablename__ for row in stored)
    assert rollup.rebuild(db.session.connection()) == days
    assert _stored() == stored


def _same_figures(spans: list[tuple[date, date]], programme_id: int) -> None:
    for of in (figures.count_deliveries, figures.reach_totals):
        assert of(spans, None) == of(spans, programme_id)
    for first, last in spans:
        assert figures.deliveries_by_channel(
            first, last, None
        ) == figures.deliveries_by_channel(first, last, programme_id)
    for label, outputs in (("opens", ["recipients"]), ("clicks", ["opens", "views"])):
        assert figures.paired_totals(
            spans, None, label, outputs
        ) == figures.paired_totals(spans, programme_id, label, outputs)


def _change(rng: random.Random, actions: list[Action], channels: list[Any]) -> None:
    activities = db.session.scalars(select(Activity).order_by(Activity.id)).all()
    change = rng.randrange(8)
    if change in (0, 7) or not activities:
        rng.choice(actions).activities.append(
            Activity(
                occurred_on=_day(rng),
                description="Delivery",
                created_at=NOW,
                figures=_figures(rng),
            )
        )
        return
    activity = rng.choice(activities)
    if change == 1:
        activity.occurred_on = _day(rng)
    elif change == 2 and activity.figures:
        figure = rng.choice(activity.figures)
        figure.value = rng.randrange(0, 500)
        figure.label = rng.choice(LABELS)
    elif change == 3:
        activity.figures.append(
            ReachFigure(label=rng.choice(LABELS), value=rng.randrange(500))
        )
    elif change == 4 and activity.figures:
        activity.figures.remove(rng.choice(activity.figures))
    elif change == 5:
        rng.choice(actions).channel = rng.choice(channels)
    elif change == 6:
        db.session.delete(activity)


def test_the_rollup_follows_every_change_to_deliveries(app: Flask) -> None:
    rng = random.Random(20261207)
    programme = ProgrammeFactory()
    channels = [ChannelFactory(name=name) for name in ("Email", "Web", "Events")]
    actions = [
        ActionFactory(channel=rng.choice(channels), programme=programme)
        for _ in range(4)
    ]
    for round_ in range(40):
        for _ in range(rng.randrange(1, 4)):
            _change(rng, actions, channels)
        if round_ % 3 == 0:
            db.session.commit()
        _check(rng, programme.id)
    assert _stored(), "the rounds left deliveries to count"


def test_deleting_an_action_takes_its_deliveries_off(app: Flask) -> None:
    action = ActionFactory()
    action.activities.append(
        Activity(
            occurred_on=START,
            description="Delivery",
            created_at=NOW,
            figures=[ReachFigure(label="Opens", value=4)],
        )
    )
    db.session.commit()
    assert {(row[0], row[4]) for row in _stored()} == {
        (table, label)
        for table in ("delivery_days", "delivery_months")
        for label in ("", "opens")
    }
    db.session.delete(action)
    db.session.commit()
    assert _stored() == set()


def test_sums_read_again_after_a_change(app: Flask) -> None:
    """A session keeps the sums it read only until its next flush."""
    action = ActionFactory()
    spans = [(date(2025, 1, 1), date(2025, 1, 31))]

    def log(value: int) -> None:
        action.activities.append(
            Activity(
                occurred_on=date(2025, 1, 5),
                description="Delivery",
                created_at=NOW,
                figures=[ReachFigure(label="Recipients", value=value)],
            )
        )
        db.session.flush()

    log(10)
    assert figures.reach_totals(spans, None)[0] == {"Newsletter": {"recipients": 10}}
    log(5)
    assert figures.reach_totals(spans, None)[0] == {"Newsletter": {"recipients": 15}}
    assert figures.count_deliveries(spans, None) == [2]
    # A change not flushed yet is counted too (the read flushes it first).
    action.activities.append(
        Activity(occurred_on=date(2025, 1, 6), description="Delivery", created_at=NOW)
    )
    assert figures.count_deliveries(spans, None) == [3]
    db.session.rollback()
    assert figures.count_deliveries(spans, None) == [0]
