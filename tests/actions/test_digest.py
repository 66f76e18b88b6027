"""The daily action digest: one email per owner with due or overdue actions."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta

from engage.actions.digest import send_action_digests
from engage.actions.models import ActionStatus
from engage.actions.models import Recurrence
from engage.extensions import db
from engage.scheduling.models import RunTrigger
from engage.scheduling.services import get_spec
from jobs.runner import run_job
from tests.factories import ActionFactory
from tests.factories import UserFactory

NOW = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
TODAY = NOW.date()


def test_each_owner_gets_one_email_with_due_and_overdue_actions(outbox) -> None:
    owner = UserFactory(name="Olive Owner")
    other = UserFactory(name="Nadia Nothingdue")
    inactive = UserFactory(is_active=False)
    late = ActionFactory(
        title="Send the newsletter", next_due_date=TODAY - timedelta(days=2)
    )
    soon = ActionFactory(title="Patient forum", next_due_date=TODAY + timedelta(days=3))
    weekly = ActionFactory(
        title="Weekly bulletin",
        next_due_date=TODAY + timedelta(days=1),
        recurrence=Recurrence.WEEKLY,
    )
    ActionFactory(
        title="Too far ahead", next_due_date=TODAY + timedelta(days=8), owners=[other]
    )
    ActionFactory(
        title="Already done",
        next_due_date=TODAY - timedelta(days=1),
        status=ActionStatus.DONE,
        owners=[other],
    )
    ActionFactory(title="Inactive's", next_due_date=TODAY, owners=[inactive])
    for action in (late, soon, weekly):
        action.owners = [owner]
    db.session.commit()

    assert send_action_digests(now=NOW) == {"emails": 1, "already_sent": 0}
    db.session.commit()
    (message,) = outbox()
    assert message.to_address == owner.email
    assert message.subject == "Engage: 3 actions due soon or overdue"
    body = message.body_text
    assert "Hello Olive Owner" in body
    assert "Overdue (1):\n- Send the newsletter – was due 24 November 2026" in body
    assert "- Weekly bulletin – due 27 November 2026" in body
    assert "4 December" not in body  # its next occurrence is 8 days away
    assert "- Patient forum – due 29 November 2026" in body
    assert f"http://engage.test/actions/{late.id}" in body
    assert "http://engage.test/actions/mine" in body
    for absent in ("Too far ahead", "Already done", "Inactive's"):
        assert absent not in body


def test_not_twice_on_the_same_day_but_again_the_next(outbox) -> None:
    owner = UserFactory()
    ActionFactory(next_due_date=TODAY, owners=[owner])
    assert send_action_digests(now=NOW)["emails"] == 1
    db.session.commit()
    assert send_action_digests(now=NOW + timedelta(hours=5)) == {
        "emails": 0,
        "already_sent": 1,
    }
    db.session.commit()
    assert len(outbox()) == 1
    assert send_action_digests(now=NOW + timedelta(days=1))["emails"] == 1
    db.session.commit()
    assert len(outbox()) == 2


def test_nothing_is_sent_when_nothing_is_due(outbox) -> None:
    ActionFactory(next_due_date=TODAY + timedelta(days=30), owners=[UserFactory()])
    ActionFactory(next_due_date=None, owners=[UserFactory()])
    assert send_action_digests(now=NOW) == {"emails": 0, "already_sent": 0}
    assert outbox() == []


def test_the_job_runs_the_digest_and_records_its_counts(outbox) -> None:
    ActionFactory(next_due_date=TODAY, owners=[UserFactory()])
    run = run_job(get_spec("action-digest"), trigger=RunTrigger.CLI, clock=lambda: NOW)
    assert run is not None
    assert run.counts == {"emails": 1, "already_sent": 0}
    assert len(outbox()) == 1
