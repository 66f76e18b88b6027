"""Audience pages and the map."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import select

from engage.audiences.models import Approach
from engage.audiences.models import Audience
from engage.extensions import db
from tests.factories import AudienceFactory
from tests.factories import ProgrammeFactory


def test_officer_creates_and_edits_an_audience(
    client: FlaskClient, login, cast
) -> None:
    login(cast["officer"])
    response = client.post(
        "/audiences/new",
        data={
            "name": "Youth groups",
            "group": "public",
            "influence": "2",
            "interest": "4",
            "approach": "inform",
            "owner_id": str(cast["officer"].id),
            "notes": "Schools and colleges",
        },
    )
    assert response.status_code == 302
    audience = db.session.scalar(
        select(Audience).where(Audience.name == "Youth groups")
    )
    assert audience is not None
    assert audience.owner_id == cast["officer"].id
    detail = client.get(f"/audiences/{audience.id}").get_data(as_text=True)
    assert "Due for contact" in detail
    assert "Inform (as chosen)" in detail
    client.post(
        f"/audiences/{audience.id}/edit",
        data={
            "name": "Youth groups",
            "group": "public",
            "influence": "5",
            "interest": "5",
            "approach": "manage",
        },
    )
    db.session.refresh(audience)
    assert audience.approach is Approach.MANAGE
    assert audience.influence == 5


def test_an_edit_opened_before_another_save_is_shown_back(
    client: FlaskClient, login, cast
) -> None:
    audience = AudienceFactory(name="Youth groups")
    login(cast["officer"])
    page = client.get(f"/audiences/{audience.id}/edit").get_data(as_text=True)
    opened = re.search(r'name="opened_at" type="hidden" value="([^"]+)"', page)
    assert opened is not None
    data = {"group": "public", "influence": "3", "interest": "3", "approach": "inform"}
    client.post(
        f"/audiences/{audience.id}/edit",
        data={**data, "opened_at": opened.group(1), "name": "Youth councils"},
    )
    late = client.post(
        f"/audiences/{audience.id}/edit",
        data={**data, "opened_at": opened.group(1), "name": "Young people"},
    ).get_data(as_text=True)
    assert "This audience was saved at" in late
    db.session.refresh(audience)
    assert audience.name == "Youth councils"


def test_archived_audience_leaves_the_map(client: FlaskClient, login, cast) -> None:
    audience = AudienceFactory(name="Parish councils")
    login(cast["officer"])
    assert "Parish councils" in client.get("/map/").get_data(as_text=True)
    client.post(f"/audiences/{audience.id}/archive", follow_redirects=True)
    assert "Parish councils" not in client.get("/map/").get_data(as_text=True)
    assert "Parish councils" in client.get("/audiences/?archived=y").get_data(
        as_text=True
    )
    client.post(f"/audiences/{audience.id}/restore", follow_redirects=True)
    assert "Parish councils" in client.get("/map/").get_data(as_text=True)


def test_contacts_are_added_and_removed(client: FlaskClient, login, cast) -> None:
    audience = AudienceFactory()
    login(cast["officer"])
    bad = client.post(
        f"/audiences/{audience.id}/contacts", data={"name": "", "email": "nope"}
    )
    assert bad.status_code == 200
    assert 'href="#name"' in bad.get_data(as_text=True)
    client.post(
        f"/audiences/{audience.id}/contacts",
        data={
            "name": "Dr Rao",
            "role": "Chair",
            "email": "rao@practice.example",
            "phone": "01234 567890",
        },
    )
    db.session.refresh(audience)
    (contact,) = audience.contacts
    assert contact.email == "rao@practice.example"
    # The same address again (any case) is refused at its box, not added twice.
    again = client.post(
        f"/audiences/{audience.id}/contacts",
        data={"name": "Dr A Rao", "email": "RAO@practice.example"},
    )
    page = again.get_data(as_text=True)
    assert "RAO@practice.example is already a contact of this audience" in page
    assert 'href="#email"' in page
    assert 'value="Dr A Rao"' in page
    db.session.refresh(audience)
    assert len(audience.contacts) == 1
    other = AudienceFactory()
    assert (
        client.post(f"/audiences/{other.id}/contacts/{contact.id}/delete").status_code
        == 404
    )
    client.post(f"/audiences/{audience.id}/contacts/{contact.id}/delete")
    db.session.refresh(audience)
    assert audience.contacts == []


def test_programme_filter_applies_overrides_on_the_map(
    client: FlaskClient, login, cast
) -> None:
    audience = AudienceFactory(name="Youth groups", approach=Approach.INFORM)
    programme = ProgrammeFactory(name="Children's services")
    login(cast["officer"])
    response = client.post(
        f"/audiences/{audience.id}/programmes",
        data={
            "programme_id": str(programme.id),
            "approach": "manage",
            "rationale": "Main users",
        },
    )
    assert response.status_code == 302
    html = client.get(f"/map/?programme={programme.id}").get_data(as_text=True)
    assert "(usually inform)" in html
    assert "(usually inform)" not in client.get("/map/").get_data(as_text=True)


def test_due_filter_lists_only_audiences_due_for_contact(
    client: FlaskClient, login, cast
) -> None:
    AudienceFactory(name="Never contacted")
    login(cast["lead"])
    assert "Never contacted" in client.get("/audiences/?due=y").get_data(as_text=True)


def test_admin_sets_contact_intervals(client: FlaskClient, login, cast) -> None:
    login(cast["admin"])
    response = client.post(
        "/audiences/contact-intervals",
        data={"manage": "14", "inform": "60", "monitor": "0"},
    )
    assert response.status_code == 200
    assert 'href="#monitor"' in response.get_data(as_text=True)
    response = client.post(
        "/audiences/contact-intervals",
        data={"manage": "14", "inform": "60", "monitor": "200"},
    )
    assert response.status_code == 302
    assert 'value="14"' in client.get("/audiences/contact-intervals").get_data(
        as_text=True
    )


def test_map_names_its_quadrants_with_a_key_and_a_list(
    client: FlaskClient, login, cast
) -> None:
    AudienceFactory(
        name="Council leaders", influence=5, interest=2, approach=Approach.MANAGE
    )
    AudienceFactory(
        name="Patient groups", influence=2, interest=5, approach=Approach.INFORM
    )
    login(cast["lead"])
    html = client.get("/map/").get_data(as_text=True)
    # The key names each part with its advice and the scores in it.
    assert "<strong>Key players</strong> (manage closely)" in html
    assert "<strong>Keep satisfied</strong>" in html
    assert "<strong>Keep informed</strong>" in html
    assert "<strong>Monitor</strong>" in html
    # Each name is written once on the grid, in its part's top-left cell.
    for name in ("Key players", "Keep satisfied", "Keep informed", "Monitor"):
        assert html.count(f'<span class="engage-grid__quadrant">{name}</span>') == 1
    # The same audiences, as a list by part (for screen readers and phones).
    listed = html.split('id="by-quadrant"', 1)[1]
    assert "Keep satisfied (keep them satisfied): 1 audience" in listed
    assert "Council leaders</a>: influence 5, interest 2; manage" in listed
    assert "Patient groups</a>: influence 2, interest 5; inform" in listed


def _colour_checked(html: str) -> list[str]:
    """The values of the "Colour by" radios shown checked."""
    radios = re.findall(r'<input[^>]*name="colour"[^>]*>', html)
    return [re.search(r'value="(\w+)"', r)[1] for r in radios if " checked" in r]


def test_the_map_shows_which_colouring_is_in_effect(
    client: FlaskClient, login, cast
) -> None:
    AudienceFactory(name="Council leaders")
    login(cast["lead"])
    # On first load the grid is coloured by approach, and says so.
    assert _colour_checked(client.get("/map/").get_data(as_text=True)) == ["approach"]
    html = client.get("/map/?colour=health").get_data(as_text=True)
    assert _colour_checked(html) == ["health"]
    assert "Key to relationship health" in html


def test_a_bad_programme_on_the_map_is_summed_up_at_the_top(
    client: FlaskClient, login, cast
) -> None:
    AudienceFactory(name="Council leaders")
    login(cast["lead"])
    response = client.get("/map/?programme=abc")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    summary = html.split('class="nhsuk-error-summary', 1)[1].split("<h1", 1)[0]
    assert "There is a problem" in summary
    assert 'href="#programme"' in summary
    assert "Council leaders" in html  # the usual map, all the same
    # A good filter, or none, shows no summary.
    assert "nhsuk-error-summary" not in client.get("/map/").get_data(as_text=True)
