"""Action services: due dates, overdue, unscheduled, deliveries, filters, calendar."""

from __future__ import annotations

from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta

import pytest

from engage.actions import deliveries
from engage.actions import services
from engage.actions.models import ActionStatus
from engage.actions.models import Recurrence
from engage.audit.models import AuditEvent
from engage.clock import utcnow
from engage.errors import ValidationError
from engage.extensions import db
from tests.factories import ActionFactory
from tests.factories import AudienceFactory
from tests.factories import ChannelFactory
from tests.factories import UserFactory

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
TODAY = NOW.date()


def _data(**overrides) -> services.ActionData:
    channel = ChannelFactory()
    return services.ActionData(
        **{"title": "GP newsletter", "channel_id": channel.id, **overrides}
    )


def test_monthly_action_without_a_date_is_due_next_month(cast) -> None:
    action = services.create_action(
        _data(recurrence=Recurrence.MONTHLY, timescale="Monthly"),
        actor=cast["officer"],
        now=NOW,
    )
    assert action.next_due_date == date(2026, 12, 26)
    assert not services.is_unscheduled(action)


def test_tbc_action_is_unscheduled_not_overdue(cast) -> None:
    action = services.create_action(
        _data(timescale="TBC"), actor=cast["officer"], now=NOW
    )
    assert action.next_due_date is None
    assert services.is_unscheduled(action)
    assert not services.is_overdue(action, TODAY)


def test_ongoing_action_is_neither_unscheduled_nor_overdue(cast) -> None:
    action = services.create_action(
        _data(recurrence=Recurrence.ONGOING, timescale="On-going"),
        actor=cast["officer"],
        now=NOW,
    )
    assert not services.is_unscheduled(action)
    assert not services.is_overdue(action, TODAY)


def test_overdue_is_derived_and_ends_when_done(cast) -> None:
    action = services.create_action(
        _data(due_date=TODAY - timedelta(days=1)), actor=cast["officer"], now=NOW
    )
    assert services.is_overdue(action, TODAY)
    services.change_status(action, ActionStatus.DONE, actor=cast["officer"], now=NOW)
    assert not services.is_overdue(action, TODAY)
    assert action.completed_at == NOW


def test_due_date_before_start_date_is_refused(cast) -> None:
    with pytest.raises(ValidationError):
        services.create_action(
            _data(start_date=TODAY, due_date=TODAY - timedelta(days=3)),
            actor=cast["officer"],
            now=NOW,
        )


def test_logging_a_delivery_advances_a_monthly_action(cast) -> None:
    audience = AudienceFactory()
    action = services.create_action(
        _data(
            recurrence=Recurrence.MONTHLY,
            due_date=date(2026, 11, 3),
            audience_ids=(audience.id,),
        ),
        actor=cast["officer"],
        now=NOW,
    )
    activity = deliveries.log_delivery(
        action,
        deliveries.DeliveryData(
            occurred_on=date(2026, 11, 3),
            description="November GP newsletter sent",
            audience_ids=(audience.id,),
            figures=(("recipients", 412), ("opens", 188)),
        ),
        actor=cast["officer"],
        now=NOW,
    )
    db.session.commit()
    assert action.next_due_date == date(2026, 12, 3)
    assert action.status is ActionStatus.IN_PROGRESS
    assert [(f.label, f.value) for f in activity.figures] == [
        ("recipients", 412),
        ("opens", 188),
    ]
    assert deliveries.last_contact_dates([audience.id]) == {
        audience.id: date(2026, 11, 3)
    }
    assert db.session.query(AuditEvent).filter_by(action="deliver").count() == 1


def test_delivery_can_complete_a_one_off_action(cast) -> None:
    action = services.create_action(
        _data(due_date=TODAY), actor=cast["officer"], now=NOW
    )
    deliveries.log_delivery(
        action,
        deliveries.DeliveryData(occurred_on=TODAY, description="Done", complete=True),
        actor=cast["officer"],
        now=NOW,
    )
    assert action.status is ActionStatus.DONE


@pytest.mark.parametrize(
    "figures", [(("", 5),), (("opens", -1),)], ids=["no label", "negative"]
)
def test_bad_reach_figures_are_refused(cast, figures) -> None:
    action = services.create_action(_data(), actor=cast["officer"], now=NOW)
    with pytest.raises(ValidationError):
        deliveries.log_delivery(
            action,
            deliveries.DeliveryData(
                occurred_on=TODAY, description="x", figures=figures
            ),
            actor=cast["officer"],
            now=NOW,
        )


def test_future_delivery_is_refused(cast) -> None:
    action = services.create_action(_data(), actor=cast["officer"], now=NOW)
    with pytest.raises(ValidationError):
        deliveries.log_delivery(
            action,
            deliveries.DeliveryData(
                occurred_on=TODAY + timedelta(days=7), description="x"
            ),
            actor=cast["officer"],
            now=NOW,
        )


def test_plan_filters(cast) -> None:
    owner = UserFactory()
    gps = AudienceFactory(name="GPs")
    mine = ActionFactory(
        title="Mine", owners=[owner], next_due_date=TODAY - timedelta(days=2)
    )
    aimed = ActionFactory(
        title="For GPs", audiences=[gps], next_due_date=TODAY + timedelta(days=20)
    )
    everyone = ActionFactory(title="Website", all_audiences=True)
    done = ActionFactory(
        title="Done", status=ActionStatus.DONE, next_due_date=TODAY - timedelta(days=9)
    )

    def titles(**criteria) -> list[str]:
        query = services.action_query(services.ActionFilter(**criteria), today=TODAY)
        return [a.title for a in db.session.scalars(query)]

    assert titles(owner_id=owner.id) == ["Mine"]
    assert titles(overdue=True) == ["Mine"]
    assert titles(audience_id=gps.id) == ["For GPs", "Website"]
    assert titles(unscheduled=True) == ["Website"]
    assert titles(due_from=TODAY, due_to=TODAY + timedelta(days=30)) == ["For GPs"]
    assert titles(include_closed=False) == ["Mine", "For GPs", "Website"]
    assert titles(sort=services.SortKey.TITLE) == ["Done", "For GPs", "Mine", "Website"]
    assert titles(sort=services.SortKey.DUE, descending=True)[:3] == [
        "For GPs",
        "Mine",
        "Done",
    ]
    assert {mine.id, aimed.id, everyone.id, done.id}


def test_calendar_repeats_recurring_actions(cast) -> None:
    ActionFactory(
        title="Newsletter",
        recurrence=Recurrence.MONTHLY,
        next_due_date=date(2026, 11, 10),
    )
    ActionFactory(title="One-off", next_due_date=date(2026, 12, 24))
    items = services.due_between(date(2026, 12, 1), date(2027, 1, 31))
    assert [(i.day, i.action.title) for i in items] == [
        (date(2026, 12, 10), "Newsletter"),
        (date(2026, 12, 24), "One-off"),
        (date(2027, 1, 10), "Newsletter"),
    ]


def _deliver(action, on: date, officer) -> None:
    deliveries.log_delivery(
        action,
        deliveries.DeliveryData(occurred_on=on, description="Newsletter sent"),
        actor=officer,
        now=datetime(on.year, on.month, on.day, 12, tzinfo=UTC),
    )


def test_monthly_action_due_on_the_31st_keeps_the_month_end(cast) -> None:
    action = services.create_action(
        _data(recurrence=Recurrence.MONTHLY, due_date=date(2026, 1, 31)),
        actor=cast["officer"],
        now=datetime(2026, 1, 5, 9, tzinfo=UTC),
    )
    _deliver(action, date(2026, 1, 30), cast["officer"])
    assert action.next_due_date == date(2026, 2, 28)
    _deliver(action, date(2026, 2, 28), cast["officer"])
    assert action.next_due_date == date(2026, 3, 31)
    _deliver(action, date(2026, 3, 31), cast["officer"])
    assert action.next_due_date == date(2026, 4, 30)
    items = services.due_between(date(2026, 4, 1), date(2026, 6, 30))
    assert [i.day for i in items] == [
        date(2026, 4, 30),
        date(2026, 5, 31),
        date(2026, 6, 30),
    ]


def test_undated_monthly_action_remembers_its_day_of_the_month(cast) -> None:
    # Created 30 Dec with no date: first due 30 Jan, stored as its due date so the
    # 30th survives February.
    action = services.create_action(
        _data(recurrence=Recurrence.MONTHLY, timescale="Monthly"),
        actor=cast["officer"],
        now=datetime(2025, 12, 30, 9, tzinfo=UTC),
    )
    assert (action.due_date, action.next_due_date) == (
        date(2026, 1, 30),
        date(2026, 1, 30),
    )
    _deliver(action, date(2026, 1, 30), cast["officer"])
    assert action.next_due_date == date(2026, 2, 28)
    _deliver(action, date(2026, 2, 27), cast["officer"])
    assert action.next_due_date == date(2026, 3, 30)


def test_calendar_keeps_the_month_end_of_a_start_dated_action(cast) -> None:
    ActionFactory(
        title="Report",
        recurrence=Recurrence.MONTHLY,
        start_date=date(2026, 1, 31),
        next_due_date=date(2026, 2, 28),
    )
    items = services.due_between(date(2026, 2, 1), date(2026, 4, 30))
    assert [i.day for i in items] == [
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
    ]


def test_seed_channels_is_idempotent() -> None:
    assert services.seed_channels(now=utcnow()) == len(services.DEFAULT_CHANNELS)
    assert services.seed_channels(now=utcnow()) == 0


def test_last_contact_on_each_day_looks_only_within_its_window(cast) -> None:
    audience = AudienceFactory()
    action = services.create_action(
        _data(recurrence=Recurrence.ONGOING, audience_ids=(audience.id,)),
        actor=cast["officer"],
        now=NOW,
    )
    for day in (date(2025, 3, 1), date(2025, 11, 20), date(2026, 4, 1)):
        deliveries.log_delivery(
            action,
            deliveries.DeliveryData(
                occurred_on=day, description="Sent", audience_ids=(audience.id,)
            ),
            actor=cast["officer"],
            now=NOW,
        )
    db.session.commit()
    days = [date(2026, 11, 26), date(2025, 12, 31)]
    # Without a window: the latest delivery on or before each day.
    assert deliveries.last_contact_dates_on(None, days) == {
        audience.id: [date(2026, 4, 1), date(2025, 11, 20)]
    }
    # 90 days: 2026-04-01 is older than 2026-11-26's window, and 2025-03-01 falls
    # in the gap between the two windows, so it is not read for either day.
    assert deliveries.last_contact_dates_on(None, days, window=90) == {
        audience.id: [None, date(2025, 11, 20)]
    }
    # Overlapping windows (one range): each day still sees only its own window.
    assert deliveries.last_contact_dates_on(
        [audience.id], [date(2026, 4, 30), date(2026, 3, 31)], window=30
    ) == {audience.id: [date(2026, 4, 1), None]}
    assert deliveries.last_contact_dates_on(
        [audience.id], [date(2025, 5, 1), date(2025, 12, 1)], window=200
    ) == {audience.id: [date(2025, 3, 1), date(2025, 11, 20)]}
