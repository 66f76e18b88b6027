"""A confirmed interaction counts as contact for the cadence; a draft does not."""

from __future__ import annotations

from datetime import timedelta

from engage.actions.deliveries import last_contact_dates
from engage.actions.deliveries import last_contact_dates_on
from engage.audiences.figures import due_by_approach
from engage.audiences.models import Approach
from engage.audiences.services import contact_statuses
from engage.clock import today
from engage.clock import utcnow
from engage.relationships.models import InteractionStatus
from tests import factories


def test_a_confirmed_interaction_resets_the_cadence() -> None:
    day = today()
    council = factories.AudienceFactory(approach=Approach.MANAGE)
    factories.ActivityFactory(occurred_on=day - timedelta(days=60), audiences=[council])
    assert contact_statuses([council], today=day)[council.id].is_due

    factories.InteractionFactory(
        occurred_on=day - timedelta(days=3), audiences=[council]
    )

    status = contact_statuses([council], today=day)[council.id]
    assert status.last_contact == day - timedelta(days=3)
    assert not status.is_due


def test_a_draft_is_not_contact_until_confirmed() -> None:
    day = today()
    council = factories.AudienceFactory(approach=Approach.MANAGE)
    factories.InteractionFactory(
        occurred_on=day - timedelta(days=1),
        audiences=[council],
        status=InteractionStatus.DRAFT,
        sentiment=None,
    )
    assert last_contact_dates([council.id]) == {}
    assert last_contact_dates_on(None, [day]) == {}


def test_the_latest_of_a_delivery_and_an_interaction_is_taken_on_each_day() -> None:
    day = today()
    a, b = factories.AudienceFactory(), factories.AudienceFactory()
    factories.ActivityFactory(occurred_on=day - timedelta(days=10), audiences=[a, b])
    factories.InteractionFactory(occurred_on=day - timedelta(days=20), audiences=[a])
    factories.InteractionFactory(occurred_on=day - timedelta(days=5), audiences=[b])

    days = [day - timedelta(days=15), day]
    found = last_contact_dates_on([a.id, b.id], days, window=30)
    assert found[a.id] == [day - timedelta(days=20), day - timedelta(days=10)]
    assert found[b.id] == [None, day - timedelta(days=5)]
    assert last_contact_dates([a.id, b.id], until=day - timedelta(days=12)) == {
        a.id: day - timedelta(days=20)
    }


def test_the_dashboard_counts_an_audience_met_as_not_due() -> None:
    day = today()
    council = factories.AudienceFactory(
        approach=Approach.MANAGE, created_at=utcnow() - timedelta(days=90)
    )
    assert due_by_approach([day], None)[0][Approach.MANAGE] == (1, 1)
    factories.InteractionFactory(occurred_on=day, audiences=[council])
    assert due_by_approach([day], None)[0][Approach.MANAGE] == (0, 1)
