"""Audience services: the grid's suggestion, overrides, the map and contact cadence."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engage.actions.deliveries import DeliveryData
from engage.actions.deliveries import log_delivery
from engage.audiences import services
from engage.audiences.models import Approach
from engage.audiences.models import AudienceGroup
from engage.clock import utcnow
from engage.errors import Conflict
from engage.errors import ValidationError
from engage.extensions import db
from tests.factories import ActionFactory
from tests.factories import AudienceFactory
from tests.factories import ProgrammeFactory


@pytest.mark.parametrize(
    ("influence", "interest", "expected"),
    [
        (5, 5, Approach.MANAGE),
        (3, 3, Approach.MANAGE),
        (4, 1, Approach.MANAGE),
        (2, 5, Approach.INFORM),
        (1, 3, Approach.INFORM),
        (3, 2, Approach.MONITOR),
        (1, 1, Approach.MONITOR),
    ],
)
def test_grid_suggests_an_approach(
    influence: int, interest: int, expected: Approach
) -> None:
    assert services.suggest_approach(influence, interest) is expected


def test_typical_scores_agree_with_the_suggestion() -> None:
    for approach, (influence, interest) in services.TYPICAL_SCORES.items():
        assert services.suggest_approach(influence, interest) is approach


def test_create_audience_refuses_duplicate_names(cast) -> None:
    data = services.AudienceData(
        "County council", AudienceGroup.PARTNER, Approach.MANAGE, 4, 4
    )
    services.create_audience(data, actor=cast["officer"], now=utcnow())
    with pytest.raises(Conflict):
        services.create_audience(
            services.AudienceData(
                "county COUNCIL ", AudienceGroup.PARTNER, Approach.MANAGE, 4, 4
            ),
            actor=cast["officer"],
            now=utcnow(),
        )


def test_scores_must_be_one_to_five(cast) -> None:
    with pytest.raises(ValidationError):
        services.create_audience(
            services.AudienceData("X", AudienceGroup.PUBLIC, Approach.INFORM, 6, 1),
            actor=cast["officer"],
            now=utcnow(),
        )


def test_programme_override_changes_the_effective_approach(cast) -> None:
    audience = AudienceFactory(approach=Approach.MONITOR)
    programme = ProgrammeFactory(name="Mental health review")
    services.set_programme_approach(
        audience,
        programme,
        Approach.MANAGE,
        "Service users' voice",
        actor=cast["officer"],
        now=utcnow(),
    )
    assert services.effective_approach(audience, programme.id) is Approach.MANAGE
    assert services.effective_approach(audience, None) is Approach.MONITOR
    stakeholder_map = services.build_map(today=utcnow().date(), programme=programme)
    assert audience in stakeholder_map.by_approach[Approach.MANAGE]


def test_map_places_each_audience_in_its_cell() -> None:
    a = AudienceFactory(influence=5, interest=1)
    b = AudienceFactory(influence=1, interest=5)
    archived = AudienceFactory(influence=3, interest=3, archived_at=utcnow())
    stakeholder_map = services.build_map(today=utcnow().date())
    assert stakeholder_map.cells[5][1] == [a]
    assert stakeholder_map.cells[1][5] == [b]
    assert archived not in stakeholder_map.cells[3][3]


def test_new_audience_is_due_for_contact_until_reached(cast) -> None:
    audience = AudienceFactory(approach=Approach.MANAGE)
    action = ActionFactory(audiences=[audience])
    today = utcnow().date()
    assert services.contact_statuses([audience], today=today)[audience.id].is_due
    log_delivery(
        action,
        DeliveryData(
            occurred_on=today - timedelta(days=29),
            description="Sent",
            audience_ids=(audience.id,),
        ),
        actor=cast["officer"],
        now=utcnow(),
    )
    db.session.commit()
    status = services.contact_statuses([audience], today=today)[audience.id]
    assert not status.is_due
    assert status.last_contact == today - timedelta(days=29)
    # Manage expects contact every 30 days: due again the day after tomorrow.
    later = services.contact_statuses([audience], today=today + timedelta(days=1))[
        audience.id
    ]
    assert later.is_due
    assert later.due_since == today + timedelta(days=1)


def test_admin_changes_contact_intervals(cast) -> None:
    services.set_contact_intervals(
        {Approach.MANAGE: 14, Approach.INFORM: 60, Approach.MONITOR: 365},
        actor=cast["admin"],
        now=utcnow(),
    )
    assert services.get_contact_intervals() == {
        Approach.MANAGE: 14,
        Approach.INFORM: 60,
        Approach.MONITOR: 365,
    }


def test_quadrants_match_the_suggested_approach_and_cover_the_grid() -> None:
    names = {
        (i, j): services.quadrant(i, j).name for i in range(1, 6) for j in range(1, 6)
    }
    assert names[(3, 3)] == names[(5, 5)] == "Key players"
    assert names[(4, 1)] == names[(5, 2)] == "Keep satisfied"
    assert names[(2, 3)] == names[(1, 5)] == "Keep informed"
    assert names[(3, 2)] == names[(1, 1)] == "Monitor"
    for (influence, interest), name in names.items():
        suggested = services.suggest_approach(influence, interest)
        expected = {
            "Key players": Approach.MANAGE,
            "Keep satisfied": Approach.MANAGE,
            "Keep informed": Approach.INFORM,
            "Monitor": Approach.MONITOR,
        }[name]
        assert suggested is expected
    # Each part's name is written in its own top-left cell.
    for part in services.QUADRANTS:
        assert services.quadrant(*part.corner) is part
        influence, interest = part.corner
        assert services.quadrant(influence + 1, interest) is not part or influence == 5
        assert interest == 1 or services.quadrant(influence, interest - 1) is not part


def test_map_lists_audiences_by_quadrant_strongest_first() -> None:
    weak = AudienceFactory(name="Weak key", influence=3, interest=3)
    strong = AudienceFactory(name="Strong key", influence=5, interest=4)
    quiet = AudienceFactory(name="Quiet", influence=1, interest=1)
    stakeholder_map = services.build_map(today=utcnow().date())
    by_name = {
        q.name: audiences for q, audiences in stakeholder_map.by_quadrant.items()
    }
    assert by_name["Key players"] == [strong, weak]
    assert by_name["Monitor"] == [quiet]
    assert by_name["Keep satisfied"] == by_name["Keep informed"] == []
