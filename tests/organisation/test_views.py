"""The organisation: its identity, its privacy notice and accessibility statement."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import time_machine
from flask.testing import FlaskClient
from sqlalchemy import bindparam
from sqlalchemy import event
from sqlalchemy import select

from engage.clock import utcnow
from engage.extensions import db
from engage.membership import consent
from engage.membership.models import ConsentMethod
from engage.membership.models import ConsentRecord
from engage.membership.models import ContactChannel
from engage.membership.models import Member
from engage.membership.models import MemberStatus
from engage.organisation import services
from engage.organisation.models import Notice
from engage.organisation.models import NoticeKind

DETAILS = {
    "name": "NHS Westvale Integrated Care Board",
    "short_name": "Westvale ICB",
    "address": "Westvale House\n2 Bridge Road\nWestvale WV1 2BB",
    "email": "involve@westvale.example",
    "phone": "0300 765 4321",
    "website": "https://westvale.example",
    "data_controller": "NHS Westvale Integrated Care Board",
    "dpo_contact": "dpo@westvale.example",
    "ico_registration": "ZA765432",
    "lawful_basis": "Public task: our duty to involve the public.",
}


def _publish(client: FlaskClient, body: str, **extra: Any) -> Any:
    return client.post(
        "/admin/notices/privacy", data={"body": body, "publish": "Publish", **extra}
    )


def _member() -> Member:
    member = Member(
        name="Pat Doe",
        email="pat@example.com",
        status=MemberStatus.ACTIVE,
        tier="silver",
        joined_by="web-form",
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    db.session.add(member)
    consent.record_consents(
        member,
        {ContactChannel.EMAIL: True},
        method=ConsentMethod.WEB_FORM,
        now=utcnow(),
    )
    db.session.commit()
    return member


def test_the_sample_identity_stands_until_an_admin_saves_the_real_one(
    client: FlaskClient, login: Any, cast: dict[str, Any]
) -> None:
    html = client.get("/join").get_data(as_text=True)
    assert "Northshire ICB" in html  # the header of a public page
    assert "NHS Northshire Integrated Care Board" in html  # its footer

    login(cast["admin"])
    response = client.post("/admin/organisation", data=DETAILS)
    assert response.status_code == 302
    client.post("/logout")

    html = client.get("/join").get_data(as_text=True)
    assert "Northshire" not in html
    assert '<span class="nhsuk-header__service-name">Westvale ICB</span>' in html
    assert "Westvale House, 2 Bridge Road, Westvale WV1 2BB" in html
    assert 'href="mailto:involve@westvale.example"' in html
    assert 'href="/privacy"' in html
    assert 'href="/accessibility"' in html
    privacy = client.get("/privacy").get_data(as_text=True)
    # The built-in notice is written from the details just saved.
    assert "NHS Westvale Integrated Care Board is the data controller" in privacy
    assert "ZA765432" in privacy
    assert "dpo@westvale.example" in privacy


def test_only_admins_change_the_organisation(
    client: FlaskClient, login: Any, cast: dict[str, Any]
) -> None:
    login(cast["officer"])
    assert client.get("/admin/organisation").status_code == 403
    assert client.post("/admin/organisation", data=DETAILS).status_code == 403
    assert _publish(client, "Changed").status_code == 403
    assert services.identity().short_name == "Northshire ICB"
    assert db.session.scalars(select(Notice)).all() == []


def test_bad_details_are_refused_on_their_fields(
    client: FlaskClient, login: Any, cast: dict[str, Any]
) -> None:
    login(cast["admin"])
    bad = {
        **DETAILS,
        "name": "",
        "website": "javascript:alert(1)",
        "email": "nope",
        "phone": "abc",
    }
    html = client.post("/admin/organisation", data=bad).get_data(as_text=True)
    assert "Enter a phone number, like 0113 496 0000" in html
    assert "Enter the organisation&#39;s name" in html
    assert "Enter an address starting with https://" in html
    assert "Enter an email address like name@example.org" in html
    assert services.identity().short_name == "Northshire ICB"


def test_the_retention_periods_in_the_notice_are_the_ones_the_code_applies(
    client: FlaskClient, app: Any
) -> None:
    app.config["MEMBER_RETENTION_DAYS"] = 45
    try:
        text = client.get("/privacy").get_data(as_text=True)
    finally:
        app.config["MEMBER_RETENTION_DAYS"] = 30
    assert "works for 7 days" in text  # the confirmation link
    assert "we delete your details after 30 days" in text  # unconfirmed joins
    assert "erase your personal details 45 days later" in text


def test_publishing_keeps_old_versions_readable_and_old_consents_keep_theirs(
    client: FlaskClient, login: Any, cast: dict[str, Any]
) -> None:
    before = _member()
    (first,) = before.consents
    assert first.wording_version.startswith("2026-11/")

    login(cast["admin"])
    built_in = services.current_text(NoticeKind.PRIVACY)
    assert _publish(client, built_in + "\n\n## Surveys\n\nWe also run surveys.")
    assert client.get("/admin/notices/privacy").status_code == 200
    assert _publish(client, "## Version two\n\nShorter.").status_code == 302

    versions = services.versions(NoticeKind.PRIVACY)
    assert [n.label for n in versions] == ["2", "1", "2026-11"]
    assert "We also run surveys." in client.get("/privacy/version-1").get_data(
        as_text=True
    )
    old = client.get("/privacy/version-0").get_data(as_text=True)
    assert "no longer in force" in old
    assert "Who we are" in old
    assert client.get("/privacy/version-9").status_code == 404
    current = client.get("/privacy").get_data(as_text=True)
    assert "Version two" in current
    assert "Version 2, published" in current
    listed = client.get("/admin/notices/privacy").get_data(as_text=True)
    assert "The built-in text</a> (before version 1), in force until" in listed
    assert "Version 2026-11" not in listed

    db.session.refresh(before)
    assert [r.wording_version for r in before.consents] == [first.wording_version]
    assert consent.wording_version().startswith("2/")
    # The change did not ask for fresh consent: contact still allowed, nobody re-asked.
    assert consent.may_contact(before, ContactChannel.EMAIL)
    assert consent.stale_consents(before) == []


def test_a_change_that_needs_fresh_consent_stops_contact_until_given_again(
    client: FlaskClient, login: Any, cast: dict[str, Any]
) -> None:
    member = _member()
    login(cast["admin"])
    with time_machine.travel(utcnow() + timedelta(minutes=1), tick=False):
        response = _publish(
            client, "## New purpose\n\nWe now share.", fresh_consent="y"
        )
    assert response.status_code == 302
    db.session.refresh(member)
    assert not consent.may_contact(member, ContactChannel.EMAIL)
    assert consent.stale_consents(member) == [ContactChannel.EMAIL]

    with time_machine.travel(utcnow() + timedelta(minutes=2), tick=False):
        changed = consent.record_consents(
            member,
            {ContactChannel.EMAIL: True},
            method=ConsentMethod.WEB_FORM,
            now=utcnow(),
        )
        db.session.commit()
    assert changed == [ContactChannel.EMAIL]
    assert consent.may_contact(member, ContactChannel.EMAIL)
    versions = [r.wording_version.split("/")[0] for r in member.consents]
    assert versions == ["2026-11", "1"]


def test_the_preview_shows_the_text_safely_and_publishes_nothing(
    client: FlaskClient, login: Any, cast: dict[str, Any]
) -> None:
    login(cast["admin"])
    body = "## Heading\n\n<script>alert(1)</script>\n\n[bad](javascript:alert(1))"
    html = client.post(
        "/admin/notices/privacy", data={"body": body, "preview": "Preview"}
    ).get_data(as_text=True)
    assert "<h2>Heading</h2>" in html
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'href="javascript:' not in html
    assert db.session.scalars(select(Notice)).all() == []
    # Publishing the same text twice is refused; the first makes versions 0 and 1.
    assert _publish(client, body).status_code == 302
    again = _publish(client, body).get_data(as_text=True)
    assert "The text is the same as the version in force." in again
    assert len(services.versions(NoticeKind.PRIVACY)) == 2
    page = client.get("/privacy").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page


def test_the_accessibility_statement_is_linked_and_editable(
    client: FlaskClient, login: Any, cast: dict[str, Any]
) -> None:
    page = client.get("/accessibility").get_data(as_text=True)
    assert "WCAG" in page
    assert "without JavaScript" in page
    login(cast["admin"])
    response = client.post(
        "/admin/notices/accessibility",
        data={"body": "## Known problems\n\nNone.", "publish": "Publish"},
    )
    assert response.status_code == 302
    assert "Known problems" in client.get("/accessibility").get_data(as_text=True)
    # Only a privacy notice can ask for fresh consent.
    refused = client.post(
        "/admin/notices/accessibility",
        data={"body": "Other", "publish": "Publish", "fresh_consent": "y"},
    ).get_data(as_text=True)
    assert "Only a privacy notice can ask for fresh consent." in refused
    assert re.search(r"Version 1</a>, published", refused)


def test_consent_records_name_the_notice_version_they_were_given_under() -> None:
    member = _member()
    record = db.session.scalars(
        select(ConsentRecord).where(ConsentRecord.member_id == member.id)
    ).one()
    assert record.wording_version == consent.wording_version()


def test_a_member_asked_for_fresh_consent_sees_why_and_gives_it_by_saving(
    client: FlaskClient, login: Any, cast: dict[str, Any], outbox: Any
) -> None:
    member = _member()
    login(cast["admin"])
    with time_machine.travel(utcnow() + timedelta(minutes=1), tick=False):
        _publish(client, "## New purpose\n\nWe now share.", fresh_consent="y")
    client.post("/logout")
    client.post("/membership/manage", data={"email": "pat@example.com"})
    link = re.search(
        r"http://engage\.test(/membership/manage/\S+)", outbox()[-1].body_text
    )
    assert link is not None
    with time_machine.travel(utcnow() + timedelta(minutes=2), tick=False):
        page = client.get(link.group(1)).get_data(as_text=True)
        assert "We have changed how we use your information" in page
        assert "We will not contact you again by email until you agree" in page
        form = {
            "name": "Pat Doe",
            "email": "pat@example.com",
            "phone": "",
            "address": "",
            "postcode": "LS1 4AP",
            "practice": "",
            "tier": "silver",
            "consents": ["email"],
            "support_other": "",
        }
        saved = client.post(link.group(1), data=form).get_data(as_text=True)
    assert "Your details have been saved." in saved
    assert "We have changed how we use your information" not in saved
    db.session.refresh(member)
    assert consent.may_contact(member, ContactChannel.EMAIL)


def test_read_ahead_reads_the_callers_look_ups_with_the_notices_state(app: Any) -> None:
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("SELECT"):
            statements.append(statement)

    owner = (
        select(Member.id).where(Member.email == bindparam("address")).scalar_subquery()
    )
    member_id = _member().id
    db.session.commit()
    with app.test_request_context():
        services.identity()  # kept by the process: not read again here
        event.listen(db.engine, "before_cursor_execute", seen)
        try:
            assert services.read_ahead(owner, address="pat@example.com") == (member_id,)
            assert len(statements) == 1  # the look-up rode on the notices' query
            assert services.read_ahead(owner, address="bob@example.com") == (None,)
            assert len(statements) == 2  # the notices' state was kept
            db.session.commit()
            # Known for the rest of the request: no statement, no transaction.
            assert services.privacy_version_label() == services.BUILT_IN_VERSION
            assert services.fresh_consent_since() is None
            assert len(statements) == 2
            assert not db.session().in_transaction()
        finally:
            event.remove(db.engine, "before_cursor_execute", seen)
