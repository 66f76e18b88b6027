"""API fixtures: a user with a bearer token, and a small data set to read."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from engage.api.tokens import create_api_token
from engage.clock import utcnow
from engage.extensions import db
from engage.metrics.models import MetricKind
from engage.metrics.models import Source
from engage.metrics.models import TargetPeriod
from tests import factories


@pytest.fixture
def token(cast: dict[str, Any]) -> str:
    """A working API token of the lead."""
    _, secret = create_api_token(cast["lead"], name="Analysis", now=utcnow())
    db.session.commit()
    return secret


@pytest.fixture
def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def plan() -> dict[str, Any]:
    """Audiences, a programme, actions and a delivery with reach figures."""
    programme = factories.ProgrammeFactory(name="Mental health review")
    gps = factories.AudienceFactory(name="GPs")
    public = factories.AudienceFactory(name="Public")
    action = factories.ActionFactory(
        title="GP newsletter",
        programme_id=programme.id,
        next_due_date=date(2026, 1, 5),
        audiences=[gps, public],
    )
    factories.ActivityFactory(
        action=action,
        occurred_on=date(2026, 1, 4),
        description="January issue",
        notes="staff-only notes",
        figures={"recipients": 412},
        audiences=[gps],
    )
    metric = factories.MetricFactory(
        key="newsletter-readers",
        name="Newsletter readers",
        unit="readers",
        kind=MetricKind.FLOW,
        target_value=1000,
        target_period=TargetPeriod.MONTH,
        channel=action.channel,
    )
    for day, value, source in [
        (date(2026, 1, 1), 100.0, Source.MANUAL),
        (date(2026, 1, 1), 90.0, Source.IMPORT),
        (date(2026, 1, 2), 120.5, Source.IMPORT),
        (date(2026, 2, 1), 130.0, Source.MANUAL),
    ]:
        factories.ObservationFactory(
            metric=metric,
            observed_on=day,
            value=value,
            source=source,
            note="staff-only observation note",
        )
    return {
        "programme": programme,
        "action": action,
        "audiences": [gps, public],
        "metric": metric,
    }
