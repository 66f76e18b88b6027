"""The do-not-send list: admins find an address and take it off, and it is audited."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from engage.audit.models import AuditEvent
from engage.extensions import db
from engage.mailings.models import Suppression
from engage.mailings.models import SuppressionReason
from engage.membership.models import ContactChannel
from tests.mailings.helpers import T0


def _entry(address: str, reason: SuppressionReason) -> Suppression:
    entry = Suppression(
        channel=ContactChannel.EMAIL,
        address=address,
        reason=reason,
        detail="The receiving mail server said the address does not exist",
        recorded_at=T0,
    )
    db.session.add(entry)
    db.session.commit()
    return entry


def test_admins_find_an_address_and_take_it_off(
    client: FlaskClient, login, cast
) -> None:
    wrong = _entry("fixed@example.org", SuppressionReason.BOUNCED)
    _entry("spam@example.org", SuppressionReason.COMPLAINED)
    login(cast["admin"])
    page = client.get("/admin/do-not-send/?q=FIXED").get_data(as_text=True)
    assert "fixed@example.org" in page
    assert "spam@example.org" not in page
    assert "Undeliverable (the address does not exist)" in page
    answer = client.post(f"/admin/do-not-send/{wrong.id}/lift", follow_redirects=True)
    assert "Taken off the do-not-send list" in answer.get_data(as_text=True)
    left = db.session.scalars(select(Suppression.address)).all()
    assert left == ["spam@example.org"]
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.entity_type == "suppression")
    ).all()
    # The list was read twice: the search, and again after the change.
    assert sorted(actions) == ["lift_suppression", "view", "view"]


def test_a_search_with_wildcards_matches_them_as_written(
    client: FlaskClient, login, cast
) -> None:
    _entry("a_b@example.org", SuppressionReason.BOUNCED)
    _entry("axb@example.org", SuppressionReason.BOUNCED)
    login(cast["admin"])
    page = client.get("/admin/do-not-send/?q=a_b").get_data(as_text=True)
    assert "a_b@example.org" in page
    assert "axb@example.org" not in page


def test_only_admins_see_the_list(client: FlaskClient, login, cast) -> None:
    entry = _entry("someone@example.org", SuppressionReason.BOUNCED)
    login(cast["officer"])
    assert client.get("/admin/do-not-send/").status_code == 403
    assert client.post(f"/admin/do-not-send/{entry.id}/lift").status_code == 403
    assert db.session.get(Suppression, entry.id) is not None
