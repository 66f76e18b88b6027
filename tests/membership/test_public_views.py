"""Public membership pages: join, confirm, manage, download, withdraw."""

from __future__ import annotations

import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy import func
from sqlalchemy import select
from werkzeug.serving import make_server

from engage.audit.models import AuditEvent
from engage.extensions import db
from engage.membership import consent
from engage.membership.models import ConsentMethod
from engage.membership.models import ConsentRecord
from engage.membership.models import ContactChannel
from engage.membership.models import EqualityAnswers
from engage.membership.models import Member
from engage.membership.models import MemberStatus
from engage.membership.models import MemberToken
from engage.membership.models import Practice
from engage.membership.models import Tier
from engage.membership.models import TokenPurpose
from engage.membership.models import Topic
from engage.membership.registration import _token_hash
from engage.membership.registration import use_equality_token
from engage.templating import format_datetime
from tests.conftest import comparable

EMAIL = "sam@example.com"


def _form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Sam Jones",
        "email": EMAIL,
        "phone": "",
        "address": "",
        "postcode": "LS1 4AP",
        "practice": "",
        "tier": "silver",
        "consents": ["email"],
        "support_other": "",
        "website": "",
    }
    data.update(overrides)
    return data


def _members() -> list[Member]:
    return list(db.session.scalars(select(Member).order_by(Member.id)))


def _token_in(body: str) -> str:
    match = re.search(r"/(?:join/confirm|membership/manage)/([A-Za-z0-9_-]+)", body)
    assert match, body
    return match.group(1)


def _join_and_confirm(client: FlaskClient, outbox: Any, **overrides: Any) -> Member:
    client.post("/join", data=_form(**overrides))
    confirm_token = _token_in(outbox()[-1].body_text)
    assert client.post(f"/join/confirm/{confirm_token}").status_code == 200
    (member,) = _members()
    return member


def _manage_token(client: FlaskClient, outbox: Any, email: str = EMAIL) -> str:
    client.post("/membership/manage", data={"email": email})
    return _token_in(outbox()[-1].body_text)


# Joining ------------------------------------------------------------------------------


def test_join_page_explains_tiers_and_leaves_every_consent_unticked(
    client: FlaskClient,
) -> None:
    html = client.get("/join").get_data(as_text=True)
    # The public see the organisation's name, not Engage's, in the title.
    from engage.organisation.defaults import SAMPLE

    assert f"– {SAMPLE.short_name}</title>" in html
    assert "Engage</title>" not in client.get("/join").get_data(as_text=True)
    assert "– Engage</title>" in client.get("/login").get_data(as_text=True)
    assert "Gold members" in html
    assert "Silver members" in html
    assert "Privacy notice version 2026-11" in html
    boxes = re.findall(r'<input[^>]*name="consents"[^>]*>', html)
    assert len(boxes) == len(ContactChannel)
    assert not any("checked" in box for box in boxes)
    for wording in consent.CONSENT_WORDING.values():
        assert wording in html


def test_join_with_email_consent_records_it_and_sends_one_email(
    client: FlaskClient,
    outbox,
) -> None:
    response = client.post("/join", data=_form())

    assert response.status_code == 200
    assert "Check your email" in response.get_data(as_text=True)
    (member,) = _members()
    assert member.status is MemberStatus.PENDING
    assert member.equality is None  # equality questions are optional
    (record,) = db.session.scalars(select(ConsentRecord))
    assert (record.member_id, record.channel, record.granted) == (
        member.id,
        ContactChannel.EMAIL,
        True,
    )
    assert record.method is ConsentMethod.WEB_FORM
    assert record.method.value == "web-form"
    assert record.recorded_at.utcoffset() is not None
    assert record.recorded_at.utcoffset().total_seconds() == 0
    assert record.wording_version == consent.wording_version()
    (message,) = outbox()
    assert message.subject == "Confirm your PPI membership"


def test_join_takes_the_write_lock_only_to_register(client: FlaskClient) -> None:
    # On SQLite one writer runs at a time: validating, looking the address up and
    # writing the email happen before BEGIN IMMEDIATE, so concurrent joins wait
    # only for each other's inserts and commit.
    if db.engine.dialect.name != "sqlite":
        pytest.skip("BEGIN IMMEDIATE is SQLite's")
    topic, practice = Topic(name="Cancer care"), Practice(name="Park Lane Surgery")
    db.session.add_all([topic, practice])
    db.session.commit()
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        form = _form(topics=[str(topic.id)], practice=str(practice.id))
        assert client.post("/join", data=form).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    words = [s.split()[0] for s in statements]
    immediate = statements.index("BEGIN IMMEDIATE")
    assert "BEGIN IMMEDIATE" not in statements[immediate + 1 :]
    before = statements[:immediate]
    # The chosen practice and topics are checked before the lock…
    assert any(s.startswith("SELECT practices.id FROM practices") for s in before)
    assert any(s.startswith("SELECT topics.id FROM topics") for s in before)
    # …and so is the address (one look-up: nobody has it).
    by_email = [s for s in statements if "WHERE members.email = ?" in s]
    assert len(by_email) == 1
    assert by_email[0] in before
    # …and a valid join never reads the whole lists (only a page that shows them).
    assert not any("ORDER BY practices.name" in s for s in statements)
    assert not any("ORDER BY topics.name" in s for s in statements)
    assert "INSERT" not in words[:immediate]
    assert "INSERT" in words[immediate:]
    assert len(_members()) == 1


def test_join_without_consent_creates_nothing_and_sends_nothing(
    client: FlaskClient,
    outbox,
) -> None:
    response = client.post("/join", data=_form(consents=[]))

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'href="#consents"' in html
    assert "Select at least one way we may contact you" in html
    assert _members() == []
    assert outbox() == []


def test_join_with_a_known_email_answers_the_same_and_emails_a_manage_link(
    client: FlaskClient,
    outbox,
) -> None:
    first = client.post("/join", data=_form())
    confirm_token = _token_in(outbox()[0].body_text)
    client.post(f"/join/confirm/{confirm_token}")
    again = client.post("/join", data=_form(name="Not Sam", tier="gold"))

    assert again.status_code == first.status_code == 200
    assert comparable(again) == comparable(first)
    (member,) = _members()
    assert (member.name, member.tier) == ("Sam Jones", Tier.SILVER)
    confirmation, already = outbox()
    assert confirmation.subject == "Confirm your PPI membership"
    assert already.subject.startswith("You are already registered")
    assert "/membership/manage/" in already.body_text


def test_join_again_while_pending_answers_the_same_and_emails_a_new_confirm_link(
    client: FlaskClient,
    outbox,
) -> None:
    # D3: someone who never confirmed must be able to, without the page telling a
    # stranger that the address is known.
    first = client.post("/join", data=_form())
    other = FlaskClient(client.application, client.response_wrapper)
    new = other.post("/join", data=_form(email="someone.new@example.com"))
    again = client.post("/join", data=_form(name="Not Sam", tier="gold"))

    assert again.status_code == new.status_code == first.status_code == 200
    assert comparable(again) == comparable(new) == comparable(first)
    sam = [m for m in _members() if m.email == EMAIL]
    assert [(m.name, m.tier, m.status) for m in sam] == [
        ("Sam Jones", Tier.SILVER, MemberStatus.PENDING)
    ]
    to_sam = [m for m in outbox() if m.to_address == EMAIL]
    assert [m.subject for m in to_sam] == ["Confirm your PPI membership"] * 2
    first_token, fresh_token = (_token_in(m.body_text) for m in to_sam)
    assert fresh_token != first_token
    assert f"/join/confirm/{fresh_token}" in to_sam[1].body_text

    done = client.post(f"/join/confirm/{fresh_token}")
    assert "Your membership is confirmed" in done.get_data(as_text=True)
    assert [m.status for m in _members() if m.email == EMAIL] == [MemberStatus.ACTIVE]


def test_join_by_phone_only_is_active_at_once_without_email(
    client: FlaskClient,
    outbox,
) -> None:
    response = client.post(
        "/join", data=_form(email="", phone="07700 900 982", consents=["sms"])
    )
    page = response.get_data(as_text=True)
    assert "You have joined the scheme" in page
    # No link can reach them: the page says how to change or leave instead.
    assert "You did not give an email address" in page
    assert "contact us on" in page or "contact us at" in page
    (member,) = _members()
    assert member.status is MemberStatus.ACTIVE
    assert outbox() == []


def test_join_with_topics_and_practice(client: FlaskClient) -> None:
    topic = Topic(name="Cancer care")
    practice = Practice(name="Park Lane Surgery")
    db.session.add_all([topic, practice])
    db.session.commit()

    client.post("/join", data=_form(topics=[str(topic.id)], practice=str(practice.id)))

    (member,) = _members()
    assert [t.name for t in member.topics] == ["Cancer care"]
    assert member.practice_id == practice.id


@pytest.mark.parametrize("field", ["practice", "topics"])
def test_join_refuses_a_retired_or_unknown_practice_or_topic(
    client: FlaskClient, field: str
) -> None:
    retired = (
        Practice(name="Closed Surgery", is_active=False)
        if field == "practice"
        else Topic(name="Old topic", is_active=False)
    )
    db.session.add(retired)
    db.session.commit()
    message = {
        "practice": "Select your GP practice from the list",
        "topics": "Select topics from the list",
    }[field]
    for value in (str(retired.id), "999999", "x"):
        sent = value if field == "practice" else [value]
        response = client.post("/join", data=_form(**{field: sent}))

        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert f'href="#{field}' in html, value
        if value != "x" or field == "practice":
            assert message in html
        # The page shown again lists the active choices, not the retired one.
        assert "Closed Surgery" not in html
        assert "Old topic" not in html
    assert _members() == []


def test_join_page_lists_active_practices_and_topics_by_name(
    client: FlaskClient,
) -> None:
    db.session.add_all(
        [
            Practice(name="Zeta Surgery"),
            Practice(name="Alpha Medical Centre"),
            Practice(name="Gone Surgery", is_active=False),
            Topic(name="Stroke"),
            Topic(name="Cancer"),
        ]
    )
    db.session.commit()

    html = client.get("/join").get_data(as_text=True)

    assert html.index("Alpha Medical Centre") < html.index("Zeta Surgery")
    assert html.index("My practice is not listed") > html.index("Zeta Surgery")
    assert "Gone Surgery" not in html
    assert html.index("Cancer") < html.index("Stroke")


def test_join_with_practice_not_listed_keeps_none(client: FlaskClient) -> None:
    client.post("/join", data=_form(practice="not-listed"))
    (member,) = _members()
    assert member.practice_id is None


def test_honeypot_gets_the_same_page_and_creates_nothing(
    client: FlaskClient,
    outbox,
) -> None:
    human = client.post("/join", data=_form(email="human@example.com"))
    bot = client.post("/join", data=_form(website="http://spam.example"))

    assert comparable(bot) == comparable(human)
    assert [m.email for m in _members()] == ["human@example.com"]
    assert len(outbox()) == 1


def test_honeypot_is_hidden_from_people(client: FlaskClient) -> None:
    html = client.get("/join").get_data(as_text=True)
    wrapper = re.search(r'<div class="engage-hp" hidden>(.*?)</div>', html, re.S)
    assert wrapper
    assert "Leave this empty" in wrapper.group(1)
    assert 'tabindex="-1"' in wrapper.group(1)
    assert 'autocomplete="off"' in wrapper.group(1)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "not-an-email", "Enter an email address in the correct format"),
        ("phone", "12345", "Enter a UK phone number"),
        ("postcode", "XYZ", "Enter a real postcode"),
        ("name", "N" * 201, "Full name must be 200 characters or fewer"),
        ("support_other", "S" * 501, "500 characters or fewer"),
    ],
)
def test_join_shows_linked_field_errors_and_keeps_values(
    client: FlaskClient, field: str, value: str, message: str
) -> None:
    response = client.post("/join", data=_form(**{field: value}))

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'href="#{field}"' in html
    assert message in html
    assert f'value="{value}"' in html
    kept = 'value="LS1 4AP"' if field != "postcode" else 'value="Sam Jones"'
    assert kept in html
    assert _members() == []


@pytest.mark.parametrize(
    ("field", "message"),
    [("name", "Enter your full name"), ("postcode", "Enter your postcode")],
)
def test_join_refuses_a_name_or_postcode_of_only_spaces(
    client: FlaskClient, field: str, message: str
) -> None:
    response = client.post("/join", data=_form(**{field: "   "}))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'href="#{field}"' in html
    assert message in html
    assert _members() == []


def test_join_rejects_nul_bytes(client: FlaskClient) -> None:
    response = client.post("/join", data=_form(name="Sam\x00"))
    assert response.status_code == 400
    assert _members() == []


def test_expired_csrf_token_keeps_the_answers(app: Flask, client: FlaskClient) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post(
        "/join",
        data=_form(csrf_token="expired-token", name="Sam Kept", postcode="LS1 4AP"),
    )

    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Your session expired; check your answers and send the form again" in html
    assert "CSRF" not in html  # the words above say it, not WTForms' own
    assert 'value="Sam Kept"' in html
    assert f'value="{EMAIL}"' in html
    fresh = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert fresh
    assert _members() == []

    resent = client.post(
        "/join", data=_form(csrf_token=fresh.group(1), name="Sam Kept")
    )
    assert "Check your email" in resent.get_data(as_text=True)
    assert [m.name for m in _members()] == ["Sam Kept"]


def test_equality_step_saves_answers_for_the_new_member_only(
    client: FlaskClient,
) -> None:
    client.post("/join", data=_form())
    page = client.get("/join/about-you")
    assert "Prefer not to say" in page.get_data(as_text=True)

    response = client.post(
        "/join/about-you", data={"age_band": "25_34", "sex": "", "save": "y"}
    )

    assert "Thank you" in response.get_data(as_text=True)
    (member,) = _members()
    assert member.equality is not None
    assert (member.equality.age_band, member.equality.sex) == ("25_34", None)
    assert client.get("/join/about-you").status_code == 302


def test_equality_step_can_be_skipped(client: FlaskClient) -> None:
    client.post("/join", data=_form())
    response = client.post("/join/about-you", data={"age_band": "25_34", "skip": "y"})
    assert "Thank you" in response.get_data(as_text=True)
    (member,) = _members()
    assert member.equality is None


def test_equality_step_without_a_join_redirects(client: FlaskClient) -> None:
    response = client.get("/join/about-you")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/join")


def _session_of(app: Flask, response: Any) -> dict[str, Any]:
    """The session a response sets, decoded as anyone holding the cookie can."""
    name = app.config["SESSION_COOKIE_NAME"]
    (header,) = [
        h for h in response.headers.getlist("Set-Cookie") if h.startswith(name + "=")
    ]
    value = header.split(";", 1)[0].split("=", 1)[1]
    serializer = app.session_interface.get_signing_serializer(app)
    assert serializer is not None
    data = serializer.loads(value)
    assert isinstance(data, dict)
    return data


def _shape(data: dict[str, Any]) -> dict[str, type]:
    return {key: type(value) for key, value in data.items()}


def test_join_session_never_tells_whether_an_address_is_a_members(
    app: Flask,
) -> None:
    new = app.test_client().post("/join", data=_form())
    pending = app.test_client().post("/join", data=_form())  # pending re-join
    (member,) = _members()
    member.status = MemberStatus.ACTIVE
    db.session.commit()
    known = app.test_client().post("/join", data=_form())  # a confirmed member's
    bot = app.test_client().post("/join", data=_form(website="http://spam.example"))
    other = app.test_client().post("/join", data=_form(email="new@example.com"))

    responses = (new, pending, known, bot, other)
    sessions = [_session_of(app, r) for r in responses]
    assert all(_shape(s) == _shape(sessions[0]) for s in sessions)
    values = [s["equality_step"] for s in sessions]
    assert all(isinstance(v, str) and len(v) >= 40 for v in values)
    assert len(set(values)) == len(values)  # fresh for every join
    ids = {str(m.id) for m in _members()}
    for data in sessions:
        assert "equality_member_id" not in data
        assert not any(
            value is None or isinstance(value, int) or value in ids
            for value in data.values()
        )


def test_equality_token_is_stored_hashed_for_a_new_member_only(
    app: Flask,
) -> None:
    new = app.test_client().post("/join", data=_form())
    known = app.test_client().post("/join", data=_form())
    tokens = list(
        db.session.scalars(
            select(MemberToken).where(MemberToken.purpose == TokenPurpose.EQUALITY)
        )
    )
    (token,) = tokens
    assert token.token_hash == _token_hash(_session_of(app, new)["equality_step"])
    assert token.token_hash != _token_hash(_session_of(app, known)["equality_step"])
    assert token.expires_at - token.created_at == timedelta(hours=2)


def test_equality_step_token_is_single_use_and_expires(
    app: Flask,
) -> None:
    first = app.test_client()
    first.post("/join", data=_form())
    with first.session_transaction() as sess:
        value = sess["equality_step"]
    (member,) = _members()
    (token,) = db.session.scalars(
        select(MemberToken).where(MemberToken.purpose == TokenPurpose.EQUALITY)
    )
    assert use_equality_token(value, now=token.expires_at) is None  # expired
    assert use_equality_token(value, now=token.created_at) is member
    assert use_equality_token(value, now=token.created_at) is None  # used
    assert use_equality_token("not-a-token", now=token.created_at) is None
    db.session.rollback()


def test_equality_step_after_a_known_email_saves_nothing(
    client: FlaskClient,
) -> None:
    client.post("/join", data=_form())
    other = FlaskClient(client.application, client.response_wrapper)
    other.post("/join", data=_form())
    response = other.post("/join/about-you", data={"age_band": "25_34", "save": "y"})
    assert "Thank you" in response.get_data(as_text=True)
    (member,) = _members()
    assert member.equality is None


def test_equality_step_after_a_known_email_cannot_save_for_anyone(
    app: Flask,
) -> None:
    first = app.test_client()
    first.post("/join", data=_form())
    known = app.test_client()
    known.post("/join", data=_form())
    response = known.post("/join/about-you", data={"age_band": "25_34", "save": "y"})
    assert "Thank you" in response.get_data(as_text=True)
    db.session.expire_all()
    assert all(m.equality is None for m in _members())
    # The new member's own step still works afterwards.
    first.post("/join/about-you", data={"age_band": "35_44", "save": "y"})
    db.session.expire_all()
    (member,) = _members()
    assert member.equality is not None
    assert member.equality.age_band == "35_44"


def test_equality_skip_and_save_answer_alike_without_a_member(
    app: Flask,
) -> None:
    bot = app.test_client()
    bot.post("/join", data=_form(website="http://spam.example"))
    saved = bot.post("/join/about-you", data={"age_band": "25_34", "save": "y"})
    skipper = app.test_client()
    skipper.post("/join", data=_form(website="http://spam.example"))
    skipped = skipper.post("/join/about-you", data={"skip": "y"})
    assert saved.status_code == skipped.status_code == 200
    assert comparable(saved) == comparable(skipped)
    assert _members() == []


# Confirming ---------------------------------------------------------------------------


def test_confirm_get_changes_nothing_and_post_confirms(
    client: FlaskClient,
    outbox,
) -> None:
    client.post("/join", data=_form())
    token = _token_in(outbox()[0].body_text)

    page = client.get(f"/join/confirm/{token}")
    assert page.status_code == 200
    assert "Confirm my membership" in page.get_data(as_text=True)
    assert _members()[0].status is MemberStatus.PENDING

    done = client.post(f"/join/confirm/{token}")
    assert "Your membership is confirmed" in done.get_data(as_text=True)
    assert _members()[0].status is MemberStatus.ACTIVE
    assert _members()[0].confirmed_at is not None


def test_bad_used_and_altered_tokens_get_the_same_404(
    client: FlaskClient,
    outbox,
) -> None:
    client.post("/join", data=_form())
    token = _token_in(outbox()[0].body_text)
    client.post(f"/join/confirm/{token}")
    altered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")

    responses = [
        client.get("/join/confirm/missing-token"),
        client.get(f"/join/confirm/{token}"),  # used
        client.get(f"/join/confirm/{altered}"),
        client.get("/membership/manage/missing-token"),
        client.get(f"/membership/manage/{altered}"),
        client.get(f"/membership/manage/{token}"),  # a confirm token
        client.get("/membership/manage/missing-token/withdraw"),
        client.get("/membership/manage/missing-token/data.json"),
        client.get("/membership/manage/missing-token/data"),
        client.get(f"/membership/manage/{token}/data"),  # a confirm token
    ]

    assert {r.status_code for r in responses} == {404}
    assert len({comparable(r) for r in responses}) == 1


def test_token_pages_are_rate_limited(app: Flask, client: FlaskClient) -> None:
    app.config["MEMBERSHIP_TOKEN_LIMIT"] = "3 per hour"
    codes = [client.get(f"/membership/manage/guess-{n}").status_code for n in range(4)]
    assert codes == [404, 404, 404, 429]
    assert client.get("/join/confirm/another-guess").status_code == 429


def test_join_posts_are_rate_limited(app: Flask, client: FlaskClient) -> None:
    app.config["MEMBERSHIP_JOIN_LIMIT"] = "2 per hour"
    codes = [
        client.post("/join", data=_form(email=f"p{n}@example.com")).status_code
        for n in range(3)
    ]
    assert codes == [200, 200, 429]
    assert client.get("/join").status_code == 200


# Managing -----------------------------------------------------------------------------


def test_manage_request_answers_the_same_for_unknown_addresses(
    client: FlaskClient,
    outbox,
) -> None:
    _join_and_confirm(client, outbox)
    sent = len(outbox())

    known = client.post("/membership/manage", data={"email": EMAIL})
    unknown = client.post("/membership/manage", data={"email": "who@example.com"})

    assert comparable(known) == comparable(unknown)
    assert len(outbox()) == sent + 1
    assert outbox()[-1].to_address == EMAIL


def test_manage_page_saves_changes(
    client: FlaskClient,
    outbox,
) -> None:
    topic = Topic(name="Maternity")
    db.session.add(topic)
    db.session.commit()
    _join_and_confirm(client, outbox)
    token = _manage_token(client, outbox)

    page = client.get(f"/membership/manage/{token}")
    assert 'value="Sam Jones"' in page.get_data(as_text=True)
    response = client.post(
        f"/membership/manage/{token}",
        data=_form(
            tier="gold",
            topics=[str(topic.id)],
            consents=["email", "post"],
            address="1 High Street",
        ),
    )

    assert "Your details have been saved" in response.get_data(as_text=True)
    (member,) = _members()
    assert member.tier is Tier.GOLD
    assert [t.name for t in member.topics] == ["Maternity"]
    assert consent.current_consents(member)[ContactChannel.POST] is True
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "self_service_update")
    ).one()
    assert event.summary == "self-service update: address, tier, topic_ids, consents"


def test_a_new_address_is_greeted_by_the_name_given_with_it(
    client: FlaskClient, outbox
) -> None:
    _join_and_confirm(client, outbox)
    token = _manage_token(client, outbox)
    client.post(
        f"/membership/manage/{token}",
        data=_form(name="Samira Jones", email="samira@example.org"),
    )
    link = outbox()[-1]
    assert link.to_address == "samira@example.org"
    assert link.body_text.startswith("Hello Samira Jones,")


def test_other_support_needs_saying_what_it_is(client: FlaskClient) -> None:
    html = client.post(
        "/join", data=_form(support_needs=["other"], support_other="  ")
    ).get_data(as_text=True)
    assert "Tell us what other support you need" in html
    assert 'href="#support_other"' in html
    assert _members() == []
    long = client.post(
        "/join", data=_form(support_needs=["other"], support_other="x" * 501)
    ).get_data(as_text=True)
    assert "Other support you need must be 500 characters or fewer" in long


def test_the_manage_page_keeps_the_changes_when_the_session_expired(
    app: Flask, client: FlaskClient, outbox
) -> None:
    _join_and_confirm(client, outbox)
    token = _manage_token(client, outbox)
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post(
        f"/membership/manage/{token}",
        data=_form(csrf_token="expired", name="Sam Changed", address="1 High Street"),
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Your session expired; check your answers and send the form again" in html
    assert 'value="Sam Changed"' in html
    assert "CSRF" not in html
    (member,) = _members()
    assert member.name == "Sam Jones"  # nothing saved without a good token
    fresh = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert fresh
    saved = client.post(
        f"/membership/manage/{token}",
        data=_form(csrf_token=fresh.group(1), name="Sam Changed"),
    )
    assert "Your details have been saved" in saved.get_data(as_text=True)


def test_the_manage_link_request_keeps_the_address_when_the_session_expired(
    app: Flask, client: FlaskClient, outbox
) -> None:
    _join_and_confirm(client, outbox)
    sent_before = len(outbox())
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post(
        "/membership/manage", data={"csrf_token": "expired", "email": EMAIL}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Your session expired; check your answers and send the form again" in html
    assert f'value="{EMAIL}"' in html
    assert "CSRF" not in html
    assert len(outbox()) == sent_before  # nothing sent without a good token
    fresh = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert fresh
    sent = client.post(
        "/membership/manage", data={"csrf_token": fresh.group(1), "email": EMAIL}
    )
    assert "Check your email" in sent.get_data(as_text=True)
    assert len(outbox()) == sent_before + 1


def test_a_practice_not_in_the_list_is_kept_and_shown(
    client: FlaskClient, login: Any, cast: dict[str, Any], outbox: Any
) -> None:
    """Saying the practice is not listed is kept: the member sees it chosen again,
    staff see it (so the list may need the practice), and choosing one clears it."""
    member = _join_and_confirm(client, outbox, practice="not-listed")
    assert member.practice_id is None
    assert member.practice_not_listed
    token = _manage_token(client, outbox)
    page = client.get(f"/membership/manage/{token}").get_data(as_text=True)
    assert '<option value="not-listed" selected>' in page
    data = client.get(f"/membership/manage/{token}/data").get_data(as_text=True)
    assert "Not in our list, you told us" in data
    login(cast["officer"])
    record = client.get(f"/members/{member.id}").get_data(as_text=True)
    assert "Not in our list" in record
    client.post("/logout")
    login(cast["admin"])
    listed = client.get("/members/practices").get_data(as_text=True)
    assert "1 member says their practice is not in this list" in listed
    client.post("/logout")
    practice = Practice(name="Leeds Road Surgery")
    db.session.add(practice)
    db.session.commit()
    saved = client.post(
        f"/membership/manage/{token}", data=_form(practice=str(practice.id))
    )
    assert "Your details have been saved" in saved.get_data(as_text=True)
    db.session.refresh(member)
    assert (member.practice_id, member.practice_not_listed) == (practice.id, False)


def test_a_member_who_never_confirmed_confirms_through_a_manage_link(
    client: FlaskClient,
    outbox,
) -> None:
    """The confirmation link lost or run out: the manage link, sent to the same
    address, proves it too, and the manage page says how."""
    client.post("/join", data=_form())
    (member,) = _members()
    assert member.status is MemberStatus.PENDING
    token = _manage_token(client, outbox)
    page = client.get(f"/membership/manage/{token}").get_data(as_text=True)
    assert "You have not confirmed your membership yet" in page
    response = client.post(f"/membership/manage/{token}/confirm", follow_redirects=True)
    assert "Your membership is confirmed." in response.get_data(as_text=True)
    db.session.refresh(member)
    assert member.status is MemberStatus.ACTIVE
    assert member.confirmed_at is not None
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "confirm")
    ).one()
    assert event.summary == "email confirmed through a manage link"
    # Once is enough: the page no longer offers it, and sending it again changes
    # nothing.
    page = client.get(f"/membership/manage/{token}").get_data(as_text=True)
    assert "Confirm my membership" not in page
    client.post(f"/membership/manage/{token}/confirm")
    assert (
        len(
            db.session.scalars(
                select(AuditEvent).where(AuditEvent.action == "confirm")
            ).all()
        )
        == 1
    )
    assert client.post("/membership/manage/not-a-token/confirm").status_code == 404


def test_a_member_may_untick_every_way_to_be_contacted_and_still_save(
    client: FlaskClient,
    outbox,
) -> None:
    """Consent is never the price of correcting one's details; joining still asks
    for a way to be contacted."""
    refused = client.post("/join", data=_form(consents=[]))
    assert "Select at least one way we may contact you" in refused.get_data(
        as_text=True
    )
    _join_and_confirm(client, outbox)
    token = _manage_token(client, outbox)
    page = client.get(f"/membership/manage/{token}").get_data(as_text=True)
    assert "If you untick them all, we will not contact you" in page
    response = client.post(
        f"/membership/manage/{token}",
        data=_form(name="Sam Jones-Smith", consents=[]),
    )
    assert "Your details have been saved" in response.get_data(as_text=True)
    (member,) = _members()
    assert member.name == "Sam Jones-Smith"
    assert member.status is MemberStatus.ACTIVE
    assert not any(consent.current_consents(member).values())


def test_manage_page_escapes_what_members_typed(
    client: FlaskClient,
    outbox,
) -> None:
    _join_and_confirm(
        client,
        outbox,
        name="<script>alert(1)</script>",
        support_other="{{7*7}}",
    )
    token = _manage_token(client, outbox)

    response = client.get(f"/membership/manage/{token}")

    html = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'value="{{7*7}}"' in html
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]


def test_manage_page_shows_errors_and_keeps_values(
    client: FlaskClient,
    outbox,
) -> None:
    _join_and_confirm(client, outbox)
    token = _manage_token(client, outbox)

    response = client.post(
        f"/membership/manage/{token}", data=_form(postcode="nowhere", name="New")
    )

    html = response.get_data(as_text=True)
    assert 'href="#postcode"' in html
    assert 'value="nowhere"' in html
    assert 'value="New"' in html
    assert _members()[0].name == "Sam Jones"


def test_download_is_an_audited_no_store_attachment(
    client: FlaskClient,
    outbox,
) -> None:
    _join_and_confirm(client, outbox)
    token = _manage_token(client, outbox)

    response = client.get(f"/membership/manage/{token}/data.json")

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="my-ppi-membership.json"'
    )
    data = response.get_json()
    assert data["member"]["email"] == EMAIL
    assert data["consent_history"][0]["method"] == "web-form"
    assert "export" in {e["action"] for e in data["audit_events"]}
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "export")
    ).one()
    assert event.actor_label == "public"


def test_own_data_page_is_readable_audited_and_not_stored(
    client: FlaskClient,
    outbox,
) -> None:
    member = _join_and_confirm(client, outbox, phone="07700 900123")
    member.notes = "Prefers <b>morning</b> calls"
    db.session.commit()
    token = _manage_token(client, outbox)
    manage = client.get(f"/membership/manage/{token}").get_data(as_text=True)
    assert f'href="/membership/manage/{token}/data"' in manage

    response = client.get(f"/membership/manage/{token}/data")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.mimetype == "text/html"
    assert "The information we hold about you" in html
    for words in ("Sam Jones", EMAIL, "LS1 4AP", "Silver (surveys and consultations)"):
        assert words in html
    # Consents in words with their dates, and each change with how it was given.
    joined = format_datetime(member.consents[0].recorded_at)
    assert f"Yes, since {joined}" in html
    assert "On the join form" in html
    version, _, wording_hash = member.consents[0].wording_version.partition("/")
    assert f"Version {version}<" in html
    assert wording_hash not in html
    assert "Agreed" in html
    assert "You have not answered these questions." in html
    # Staff notes are the member's data too, escaped like everything else.
    assert "Prefers &lt;b&gt;morning&lt;/b&gt; calls" in html
    assert "own data shown as a page" in html  # the history includes this view
    # Dates in words, never as codes.
    assert not re.search(r"\d{4}-\d{2}-\d{2}", html.split("<main", 1)[1])
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "export")
    ).all()
    assert [(e.actor_label, e.summary) for e in events] == [
        ("public", "own data shown as a page")
    ]


def test_own_data_page_shows_equality_answers_in_words(
    client: FlaskClient,
    outbox,
) -> None:
    _join_and_confirm(client, outbox)
    token = _manage_token(client, outbox)
    member = _members()[0]
    member.equality = EqualityAnswers(age_band="25_34", recorded_at=member.created_at)
    db.session.commit()
    html = client.get(f"/membership/manage/{token}/data").get_data(as_text=True)
    assert "What is your age?" in html
    assert "25 to 34" in html
    assert "Not answered" in html


def test_withdraw_get_asks_and_post_withdraws_at_once(
    client: FlaskClient,
    outbox,
) -> None:
    _join_and_confirm(client, outbox)
    token = _manage_token(client, outbox)

    ask = client.get(f"/membership/manage/{token}/withdraw")
    assert "Are you sure" in ask.get_data(as_text=True)
    assert _members()[0].status is MemberStatus.ACTIVE

    done = client.post(f"/membership/manage/{token}/withdraw")

    assert "You have left the scheme" in done.get_data(as_text=True)
    (member,) = _members()
    assert member.status is MemberStatus.WITHDRAWN
    assert consent.current_consents(member) == dict.fromkeys(ContactChannel, False)
    withdrawal = [r for r in member.consents if not r.granted]
    assert [r.recorded_at for r in withdrawal] == [member.withdrawn_at]
    # The link still shows the (locked) record and the download.
    page = client.get(f"/membership/manage/{token}").get_data(as_text=True)
    assert "You have left the scheme" in page
    assert "Save my details" not in page


# Concurrency --------------------------------------------------------------------------


@pytest.fixture
def own_server(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_simultaneous_joins_with_one_email_make_one_member(
    app: Flask, own_server: str
) -> None:
    app.config["MEMBERSHIP_JOIN_LIMIT"] = "1000 per hour"
    db.session.commit()
    body = urllib.parse.urlencode(_form(), doseq=True).encode()
    start = threading.Barrier(50)
    statuses: list[int] = []

    def join() -> None:
        start.wait()
        # own_server is an http:// loopback address.
        request = urllib.request.Request(f"{own_server}/join", data=body)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                statuses.append(response.status)
        except urllib.error.HTTPError as error:
            statuses.append(error.code)
            error.close()

    threads = [threading.Thread(target=join) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)

    assert sorted(statuses) == [200] * 50
    db.session.rollback()
    count = db.session.scalar(select(func.count()).select_from(Member))
    assert count == 1


# Changing the email address ----------------------------------------------------------

NEW_EMAIL = "sam.new@example.com"
OTHER_EMAIL = "other@example.com"


def _email_change_token(body: str) -> str:
    match = re.search(r"/membership/email/([A-Za-z0-9_-]+)", body)
    assert match, body
    return match.group(1)


def _add_other_member(client: FlaskClient, outbox: Any) -> None:
    client.post("/join", data=_form(email=OTHER_EMAIL, name="Olu Other"))
    assert client.post(f"/join/confirm/{_token_in(outbox()[-1].body_text)}")


def _member(email: str) -> Member:
    db.session.rollback()
    return db.session.scalars(select(Member).where(Member.email == email)).one()


def test_changing_email_keeps_the_old_one_until_the_link_is_used(
    client: FlaskClient,
    outbox,
) -> None:
    _join_and_confirm(client, outbox)
    token = _manage_token(client, outbox)

    response = client.post(
        f"/membership/manage/{token}", data=_form(email=NEW_EMAIL.upper())
    )

    html = response.get_data(as_text=True)
    assert (
        f"We have sent a link to {NEW_EMAIL} — your address changes when you open it"
    ) in html
    assert f'value="{EMAIL}"' in html
    (member,) = _members()
    assert member.email == EMAIL
    assert member.pending_email == NEW_EMAIL
    mail = outbox()[-1]
    assert mail.to_address == NEW_EMAIL
    link = _email_change_token(mail.body_text)
    assert f"http://engage.test/membership/email/{link}" in mail.body_text
    record = db.session.scalars(
        select(MemberToken).where(MemberToken.purpose == TokenPurpose.EMAIL_CHANGE)
    ).one()
    assert record.token_hash == _token_hash(link)
    assert link not in record.token_hash
    assert record.expires_at - record.created_at == timedelta(hours=24)
    assert not db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "self_service_update")
    ).all()


def test_email_change_link_get_changes_nothing_and_post_confirms(
    client: FlaskClient,
    outbox,
) -> None:
    _join_and_confirm(client, outbox)
    token = _manage_token(client, outbox)
    client.post(f"/membership/manage/{token}", data=_form(email=NEW_EMAIL))
    link = _email_change_token(outbox()[-1].body_text)
    consents_before = consent.current_consents(_members()[0])

    page = client.get(f"/membership/email/{link}")
    assert page.status_code == 200
    assert "Use this email address" in page.get_data(as_text=True)
    assert NEW_EMAIL in page.get_data(as_text=True)
    assert _member(EMAIL).pending_email == NEW_EMAIL

    done = client.post(f"/membership/email/{link}")

    assert done.status_code == 200
    assert "Your email address has changed" in done.get_data(as_text=True)
    member = _member(NEW_EMAIL)
    assert member.pending_email is None
    assert consent.current_consents(member) == consents_before
    record = db.session.scalars(
        select(MemberToken).where(MemberToken.purpose == TokenPurpose.EMAIL_CHANGE)
    ).one()
    assert record.used_at is not None
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "self_service_update")
    ).one()
    assert event.summary == "self-service update: email"
    assert client.get(f"/membership/email/{link}").status_code == 404
    # The address it was is told, without the new one.
    notice = outbox()[-1]
    assert notice.to_address == EMAIL
    assert notice.subject == "The email address for your PPI membership has changed"
    assert "If you did not make this change, contact us" in notice.body_text
    assert NEW_EMAIL not in notice.body_text
    assert client.post(f"/membership/email/{link}").status_code == 404


def test_a_taken_address_looks_the_same_as_a_free_one_and_changes_nothing(
    client: FlaskClient,
    outbox,
) -> None:
    _join_and_confirm(client, outbox)
    _add_other_member(client, outbox)
    token = _manage_token(client, outbox)

    free = client.post(f"/membership/manage/{token}", data=_form(email=NEW_EMAIL))
    taken = client.post(f"/membership/manage/{token}", data=_form(email=OTHER_EMAIL))

    assert free.status_code == taken.status_code == 200
    assert comparable(free, NEW_EMAIL) == comparable(taken, OTHER_EMAIL)
    assert "cannot be used" not in taken.get_data(as_text=True)
    member = _member(EMAIL)
    assert member.pending_email is None
    assert _member(OTHER_EMAIL).name == "Olu Other"
    note = outbox()[-1]
    assert note.to_address == OTHER_EMAIL
    assert "already registered" in note.body_text
    assert "/membership/email/" not in note.body_text
    assert "/membership/manage/" not in note.body_text
    # The link sent to the free address no longer works once another was asked for.
    link = _email_change_token(outbox()[-2].body_text)
    assert client.get(f"/membership/email/{link}").status_code == 404
    assert _member(EMAIL).email == EMAIL


def test_email_taken_before_the_link_is_used_changes_nothing(
    client: FlaskClient,
    outbox,
) -> None:
    _join_and_confirm(client, outbox)
    token = _manage_token(client, outbox)
    client.post(f"/membership/manage/{token}", data=_form(email=NEW_EMAIL))
    link = _email_change_token(outbox()[-1].body_text)
    client.post("/join", data=_form(email=NEW_EMAIL, name="Nia New"))

    response = client.post(f"/membership/email/{link}")

    assert response.status_code == 200
    assert "We could not change your email address" in response.get_data(as_text=True)
    assert _member(EMAIL).pending_email == NEW_EMAIL
    assert _member(NEW_EMAIL).name == "Nia New"


def test_expired_used_and_bad_email_change_links_get_the_same_404(
    client: FlaskClient,
    outbox,
) -> None:
    _join_and_confirm(client, outbox)
    token = _manage_token(client, outbox)
    client.post(f"/membership/manage/{token}", data=_form(email=NEW_EMAIL))
    expired = _email_change_token(outbox()[-1].body_text)
    record = db.session.scalars(
        select(MemberToken).where(MemberToken.token_hash == _token_hash(expired))
    ).one()
    record.expires_at = record.created_at - timedelta(seconds=1)
    db.session.commit()

    responses = [
        client.get(f"/membership/email/{expired}"),
        client.post(f"/membership/email/{expired}"),
        client.get("/membership/email/missing-token"),
        client.get(f"/membership/email/{token}"),  # a manage token
        client.get("/membership/manage/missing-token"),
    ]

    assert {r.status_code for r in responses} == {404}
    assert len({comparable(r) for r in responses}) == 1
    assert _member(EMAIL).email == EMAIL


def test_removing_the_email_stays_immediate(
    client: FlaskClient,
    outbox,
) -> None:
    _join_and_confirm(client, outbox)
    token = _manage_token(client, outbox)

    response = client.post(
        f"/membership/manage/{token}",
        data=_form(email="", phone="07700 900982", consents=["sms"]),
    )

    assert "Your details have been saved." in response.get_data(as_text=True)
    (member,) = _members()
    assert member.email is None
    assert member.pending_email is None


def test_email_change_links_share_the_token_rate_limit(
    app: Flask, client: FlaskClient
) -> None:
    app.config["MEMBERSHIP_TOKEN_LIMIT"] = "2 per hour"
    codes = [client.get(f"/membership/email/guess-{n}").status_code for n in range(3)]
    assert codes == [404, 404, 429]
    assert client.get("/membership/manage/another-guess").status_code == 429
