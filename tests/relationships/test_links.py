"""Links between stakeholders: the rules, the audience page's section, access."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from engage.audit.models import AuditEvent
from engage.clock import utcnow
from engage.errors import Conflict
from engage.errors import ValidationError
from engage.extensions import db
from engage.relationships.links import add_link
from engage.relationships.links import links_of
from engage.relationships.models import AudienceLink
from engage.relationships.models import LinkKind
from tests import factories


def test_links_read_naturally_both_ways(cast) -> None:
    healthwatch = factories.AudienceFactory(name="Healthwatch Kent")
    council = factories.AudienceFactory(name="Kent County Council")
    add_link(
        healthwatch, council, LinkKind.FUNDED_BY, actor=cast["officer"], now=utcnow()
    )
    db.session.commit()
    (mine,) = links_of(healthwatch)
    assert f"Healthwatch Kent {mine.words} {mine.other_name}" == (
        "Healthwatch Kent is funded by Kent County Council"
    )
    (theirs,) = links_of(council)
    assert f"Kent County Council {theirs.words} {theirs.other_name}" == (
        "Kent County Council funds Healthwatch Kent"
    )
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.entity_type == "audience_link")
    )
    assert event is not None
    assert event.action == "create"


def test_link_rules(cast) -> None:
    a = factories.AudienceFactory(name="A")
    b = factories.AudienceFactory(name="B")
    archived = factories.AudienceFactory(name="Gone", archived_at=utcnow())
    now = utcnow()
    with pytest.raises(ValidationError, match="itself"):
        add_link(a, a, LinkKind.PART_OF, actor=cast["officer"], now=now)
    with pytest.raises(ValidationError, match="archived"):
        add_link(a, archived, LinkKind.PART_OF, actor=cast["officer"], now=now)
    add_link(a, b, LinkKind.PARTNER_OF, actor=cast["officer"], now=now)
    with pytest.raises(Conflict, match="already recorded"):
        add_link(a, b, LinkKind.PARTNER_OF, actor=cast["officer"], now=now)
    # A partnership reads the same both ways.
    with pytest.raises(Conflict):
        add_link(b, a, LinkKind.PARTNER_OF, actor=cast["officer"], now=now)
    # Another kind between the same two is a different link.
    add_link(a, b, LinkKind.MEMBER_OF, actor=cast["officer"], now=now)
    db.session.commit()
    assert len(db.session.scalars(select(AudienceLink)).all()) == 2


def test_an_officer_adds_and_removes_a_link(client: FlaskClient, login, cast) -> None:
    healthwatch = factories.AudienceFactory(name="Healthwatch Kent")
    council = factories.AudienceFactory(name="Kent County Council")
    login(cast["officer"])
    page = client.get(f"/audiences/{healthwatch.id}").get_data(as_text=True)
    assert "Add a link to another stakeholder" in page
    response = client.post(
        f"/audiences/{healthwatch.id}/links",
        data={"kind": "funded_by", "other_id": str(council.id), "note": "Core grant"},
    )
    assert response.status_code == 302
    page = client.get(f"/audiences/{council.id}").get_data(as_text=True)
    assert "funds" in page
    assert "Healthwatch Kent" in page
    assert "Core grant" in page

    again = client.post(
        f"/audiences/{healthwatch.id}/links",
        data={"kind": "funded_by", "other_id": str(council.id)},
    )
    assert again.status_code == 200
    assert "already recorded" in again.get_data(as_text=True)

    link = db.session.scalar(select(AudienceLink))
    assert link is not None
    # Removed from either end; not through a stranger's address.
    stranger = factories.AudienceFactory()
    assert (
        client.post(f"/audiences/{stranger.id}/links/{link.id}/remove").status_code
        == 404
    )
    response = client.post(f"/audiences/{council.id}/links/{link.id}/remove")
    assert response.status_code == 302
    assert db.session.scalar(select(AudienceLink)) is None
    actions = [
        e.action
        for e in db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.entity_type == "audience_link")
            .order_by(AuditEvent.id)
        )
    ]
    assert actions == ["create", "delete"]


def test_errors_are_shown_beside_the_fields(client: FlaskClient, login, cast) -> None:
    audience = factories.AudienceFactory(name="Healthwatch Kent")
    archived = factories.AudienceFactory(name="Old forum", archived_at=utcnow())
    login(cast["officer"])
    for data, words in (
        ({"kind": "", "other_id": ""}, "Choose how they are linked"),
        ({"kind": "owns", "other_id": "1"}, "Select one of the options shown"),
        # Not offered: itself, an archived audience, one that is not there.
        ({"kind": "part_of", "other_id": str(audience.id)}, "Select one of the"),
        ({"kind": "part_of", "other_id": str(archived.id)}, "Select one of the"),
        ({"kind": "part_of", "other_id": "99999999999"}, "Select one of the"),
        ({"kind": "part_of", "other_id": "-1"}, "Select one of the"),
    ):
        response = client.post(f"/audiences/{audience.id}/links", data=data)
        assert response.status_code == 200, data
        text = response.get_data(as_text=True)
        assert words in text, data
        assert "nhsuk-error-message" in text
    assert db.session.scalar(select(AudienceLink)) is None


@pytest.mark.parametrize(
    ("role", "expected"),
    [("anonymous", 302), ("lead", 403), ("officer", 302), ("admin", 302)],
)
def test_access(client: FlaskClient, login, cast, role: str, expected: int) -> None:
    a = factories.AudienceFactory()
    b = factories.AudienceFactory()
    if role != "anonymous":
        login(cast[role])
    response = client.post(
        f"/audiences/{a.id}/links", data={"kind": "part_of", "other_id": str(b.id)}
    )
    assert response.status_code == expected
    saved = db.session.scalar(select(AudienceLink))
    assert (saved is not None) == (role in ("officer", "admin"))
    if role == "lead":
        page = client.get(f"/audiences/{a.id}").get_data(as_text=True)
        assert "Links to other stakeholders" in page
        assert "Add a link to another stakeholder" not in page


def test_hostile_inputs_give_no_error(client: FlaskClient, login, cast) -> None:
    a = factories.AudienceFactory()
    b = factories.AudienceFactory()
    login(cast["admin"])
    for data in (
        {"kind": "part_of", "other_id": str(b.id), "note": "x" * 5000},
        {"kind": "part_of", "other_id": str(b.id), "note": "a\r\nb"},
        {"kind": ["part_of", "member_of"], "other_id": [str(b.id), "x"]},
        {"kind": "\x00", "other_id": "1e3"},
        {},
    ):
        assert client.post(f"/audiences/{a.id}/links", data=data).status_code in (
            200,
            302,
            400,
        )
    assert client.post("/audiences/99999999999/links").status_code == 404
    assert client.post(f"/audiences/{a.id}/links/abc/remove").status_code == 404
    assert client.post(f"/audiences/{a.id}/links/999999/remove").status_code == 404
