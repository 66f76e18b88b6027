"""Each member's involvement (record, subject access, erasure), who took part with
small numbers suppressed, and "active in the last 12 months"."""

from __future__ import annotations

import json
from datetime import datetime
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy import func
from sqlalchemy import select

from engage.clock import utcnow
from engage.extensions import db
from engage.involvement.history import involvement_for_member
from engage.involvement.history import member_involvement_data
from engage.involvement.models import Attendance
from engage.involvement.models import ClaimReceipt
from engage.involvement.models import ClaimStatus
from engage.involvement.models import ExpenseClaim
from engage.involvement.models import InvolvementActivity
from engage.involvement.models import InvolvementInvitation
from engage.involvement.models import Reply
from engage.involvement.models import SendStatus
from engage.involvement.participation import FEWER
from engage.involvement.participation import active_in_last_year
from engage.involvement.participation import breakdown
from engage.involvement.participation import participation
from engage.membership.models import ContactChannel
from engage.membership.models import Member
from engage.membership.models import Practice
from engage.membership.models import Tier
from engage.membership.models import TokenPurpose
from engage.membership.records import member_data
from engage.membership.registration import issue_token
from engage.membership.reports import NOT_SHOWN
from engage.membership.services import ErasureReason
from engage.membership.services import erase_member
from tests.factories import ActionFactory
from tests.factories import ProgrammeFactory
from tests.involvement.helpers import activity
from tests.involvement.helpers import gold_member


def _past(days: int, **fields: Any) -> InvolvementActivity:
    """An activity with one session ``days`` days ago."""
    starts = (utcnow() - timedelta(days=days)).replace(microsecond=0)
    return activity(starts=starts, **fields)


def _invite(made: InvolvementActivity, member: Member, reply: Reply) -> None:
    db.session.add(
        InvolvementInvitation(
            session_id=made.sessions[0].id,
            member_id=member.id,
            channel=ContactChannel.EMAIL,
            address=member.email,
            send_status=SendStatus.SENT,
            reply=reply,
            support_request="A hearing loop",
        )
    )


def _came(made: InvolvementActivity, member: Member, index: int = 0) -> None:
    db.session.add(
        Attendance(
            session_id=made.sessions[index].id,
            member_id=member.id,
            recorded_at=utcnow(),
        )
    )


def _claim(made: InvolvementActivity, member: Member, status: ClaimStatus) -> None:
    claim = ExpenseClaim(
        session_id=made.sessions[0].id,
        member_id=member.id,
        status=status,
        payment_pence=2500,
        miles=10,
        mileage_rate_pence=45,
        fares_pence=0,
        carer_pence=0,
        submitted_at=utcnow(),
    )
    claim.receipts.append(
        ClaimReceipt(
            filename="bus.pdf",
            content_type="application/pdf",
            size=4,
            data=b"%PDF",
            uploaded_at=utcnow(),
        )
    )
    db.session.add(claim)


def _involved_member() -> tuple[Member, InvolvementActivity]:
    member = gold_member(name="Ivy Involved")
    made = _past(3, title="Cancer care reference group")
    _invite(made, member, Reply.ATTENDING)
    _came(made, member)
    _claim(made, member, ClaimStatus.APPROVED)
    walk_in = _past(20, title="Public event on stroke")
    _came(walk_in, member)
    later = activity(title="Maternity focus group")
    _invite(later, member, Reply.MAYBE)
    db.session.commit()
    return member, made


def test_a_members_involvement_lists_invitations_attendance_and_claims() -> None:
    member, _made = _involved_member()
    record = involvement_for_member(member)
    assert [line.activity for line in record.sessions] == [
        "Maternity focus group",
        "Cancer care reference group",
        "Public event on stroke",
    ]
    later, made, walk_in = record.sessions
    assert later.reply is Reply.MAYBE
    assert not later.attended
    assert made.attended
    assert made.reply is Reply.ATTENDING
    assert made.support_request == "A hearing loop"
    assert walk_in.reply is None
    assert walk_in.attended
    assert walk_in.reply_words == "Not invited"
    # 2500 + 10 miles at 45p.
    assert made.claims[0].total_pence == 2950
    assert made.claims[0].receipts == ("bus.pdf",)
    assert record.paid_pence == 2950
    assert record.attended == 2
    # The session still to come cannot have been missed.
    assert (record.held, record.to_come) == (2, 1)
    assert [line.came_words for line in record.sessions] == [
        "Not yet held",
        "Yes",
        "Yes",
    ]


def test_a_claim_not_approved_is_not_counted_as_paid() -> None:
    member = gold_member()
    made = _past(3)
    _claim(made, member, ClaimStatus.SUBMITTED)
    db.session.commit()
    record = involvement_for_member(member)
    assert record.sessions[0].claims[0].total_pence == 2950
    assert record.paid_pence == 0


def _queries(run: Any) -> int:
    seen_statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen_statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        run()
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    return len(seen_statements)


def test_the_record_takes_the_same_queries_for_2_sessions_or_200() -> None:
    few, many = gold_member(), gold_member()
    small = activity(sessions=2)
    big = activity(sessions=200, title="Weekly group")
    for index in range(2):
        db.session.add(
            Attendance(
                session_id=small.sessions[index].id,
                member_id=few.id,
                recorded_at=utcnow(),
            )
        )
        _claim_on = ExpenseClaim(
            session_id=small.sessions[index].id,
            member_id=few.id,
            submitted_at=utcnow(),
        )
        db.session.add(_claim_on)
    for index in range(200):
        db.session.add(
            InvolvementInvitation(
                session_id=big.sessions[index].id,
                member_id=many.id,
                channel=ContactChannel.EMAIL,
                reply=Reply.ATTENDING,
            )
        )
        db.session.add(
            Attendance(
                session_id=big.sessions[index].id,
                member_id=many.id,
                recorded_at=utcnow(),
            )
        )
        db.session.add(
            ExpenseClaim(
                session_id=big.sessions[index].id,
                member_id=many.id,
                submitted_at=utcnow(),
            )
        )
    db.session.commit()
    db.session.expire_all()
    small_count = _queries(lambda: member_involvement_data(few))
    db.session.expire_all()
    big_count = _queries(lambda: member_involvement_data(many))
    assert len(member_involvement_data(many)["involvement"]) == 200
    assert big_count == small_count
    # The member's row, invitations, attendance, claims (with receipts), sessions.
    assert big_count == 5


def test_the_staff_record_and_own_data_page_show_involvement(
    client: Any, login: Any, cast: dict[str, Any]
) -> None:
    member, _made = _involved_member()
    login(cast["lead"])
    page = client.get(f"/members/{member.id}").get_data(as_text=True)
    assert "Involvement" in page
    assert "Cancer care reference group" in page
    assert "Public event on stroke" in page
    assert "£29.50" in page
    assert "Came to 2 of 2 sessions held, with 1 still to come" in page
    assert "Not yet held" in page
    client.post("/logout")

    token = issue_token(member, TokenPurpose.MANAGE, timedelta(days=1), now=utcnow())
    db.session.commit()
    own = client.get(f"/membership/manage/{token}/data").get_data(as_text=True)
    assert "Meetings and groups you were invited to" in own
    assert "Cancer care reference group" in own
    assert "Maybe" in own
    assert "Came to 2 of 2 sessions held, with 1 still to come" in own
    # No link to staff pages from the member's own page.
    assert "/register" not in own


def test_the_subject_access_export_holds_the_involvement() -> None:
    member, _made = _involved_member()
    data = json.loads(json.dumps(member_data(member)))
    sessions = {row["activity"]: row for row in data["involvement"]}
    assert set(sessions) == {
        "Maternity focus group",
        "Cancer care reference group",
        "Public event on stroke",
    }
    held = sessions["Cancer care reference group"]
    assert held["reply"] == "attending"
    assert held["attended"] is True
    assert held["support_request"] == "A hearing loop"
    assert held["claims"][0]["total_pence"] == 2950
    assert held["claims"][0]["paid_pence"] == 2950
    assert held["claims"][0]["receipts"] == ["bus.pdf"]
    assert sessions["Public event on stroke"]["invited"] is False


def test_erasure_leaves_nothing_of_theirs_in_the_involvement_tables(
    cast: dict[str, Any],
) -> None:
    member, made = _involved_member()
    other = gold_member()
    _came(made, other)
    db.session.commit()
    erase_member(
        member, actor=cast["admin"], reason=ErasureReason.MEMBER_REQUEST, now=utcnow()
    )
    db.session.commit()
    for model in (InvolvementInvitation, Attendance, ExpenseClaim):
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(model)
                .where(model.member_id == member.id)
            )
            == 0
        )
    assert db.session.scalar(select(func.count()).select_from(ClaimReceipt)) == 0
    assert involvement_for_member(member).sessions == []
    # Others' attendance stays.
    assert db.session.scalar(
        select(Attendance.member_id).where(Attendance.member_id == other.id)
    )


# Who took part ------------------------------------------------------------------------


def test_a_group_of_two_is_never_shown_nor_left_to_work_out() -> None:
    counts = breakdown(
        "Tier",
        [("gold", "Gold"), ("silver", "Silver")],
        ["gold"] * 10 + ["silver"] * 2,
    )
    assert [line.count for line in counts.lines] == [None, None]
    # The 10 is hidden only so that the 2 cannot be worked out: never "fewer than 5".
    assert [line.shown for line in counts.lines] == [NOT_SHOWN, FEWER]

    three = breakdown(
        "Practice",
        [("a", "A"), ("b", "B"), ("c", "C")],
        ["a"] * 10 + ["b"] * 2 + ["c"] * 8,
    )
    shown = {line.label: line.count for line in three.lines}
    # The 2 is hidden, and so is another count, so 20 minus the rest tells nothing.
    assert shown["B"] is None
    assert sum(1 for value in shown.values() if value is None) >= 2
    assert (
        sum(
            count
            for value, count in {"a": 10, "b": 2, "c": 8}.items()
            if shown[value.upper()] is None
        )
        >= 5
    )


def test_participation_by_tier_practice_and_equality(
    client: Any, login: Any, cast: dict[str, Any]
) -> None:
    programme = ProgrammeFactory(name="Cancer programme")
    action = ActionFactory(programme=programme)
    made = _past(5, action_id=action.id, sessions=2)
    park = Practice(name="Park Lane Surgery")
    db.session.add(park)
    db.session.commit()
    gold = [
        gold_member(practice=park, equality={"age_band": "65_74"}) for _ in range(8)
    ]
    silver = [gold_member(tier=Tier.SILVER) for _ in range(2)]
    for member in gold + silver:
        _came(made, member)
    _came(made, gold[0], index=1)  # twice: still one person
    db.session.commit()

    report = participation(activity_id=made.id)
    assert report.total == 10
    tiers = {line.label: line.count for line in report.breakdowns[0].lines}
    # Silver is 2: hidden, and Gold with it (10 - Gold would give it away).
    assert tiers == {"Gold members": None, "Silver members": None}
    practices = {line.label: line.count for line in report.breakdowns[1].lines}
    # 2 with no practice: hidden, and the practice's 8 with it.
    assert practices == {"Park Lane Surgery": None, "No practice given": None}
    ages = {line.label: line.count for line in report.breakdowns[2].lines}
    assert ages["65 to 74"] is None
    assert ages["Not answered"] is None
    assert participation(programme_id=programme.id).total == 10
    assert participation().total == 10
    other = ProgrammeFactory(name="Other programme")
    assert participation(programme_id=other.id).total == 0

    login(cast["admin"])
    page = client.get(f"/involvement/{made.id}/participation").get_data(as_text=True)
    assert "People who took part" in page
    assert ">10<" in page
    assert "What is your age?" in page
    assert "Silver members" in page
    assert "<h2>By tier</h2>" in page
    assert "<h2>By GP practice</h2>" in page  # an abbreviation keeps its capitals
    client.post("/logout")
    login(cast["lead"])
    page = client.get(f"/involvement/{made.id}/participation").get_data(as_text=True)
    assert "What is your age?" not in page  # equality figures: admins only
    page = client.get(f"/involvement/programmes/{programme.id}/participation")
    assert page.status_code == 200
    overall = client.get("/involvement/participation").get_data(as_text=True)
    assert "Cancer programme" in overall
    assert "Active in the last 12 months" in overall


def test_fewer_than_five_people_show_no_breakdown(
    client: Any, login: Any, cast: dict[str, Any]
) -> None:
    made = _past(5)
    for _ in range(2):
        _came(made, gold_member())
    db.session.commit()
    report = participation(activity_id=made.id)
    assert report.total is None
    assert report.breakdowns == []
    login(cast["admin"])
    page = client.get(f"/involvement/{made.id}/participation").get_data(as_text=True)
    assert FEWER in page
    assert ">2<" not in page
    # Nor does the count of members active in the last 12 months give it away.
    overall = client.get("/involvement/participation").get_data(as_text=True)
    assert "Active in the last 12 months" in overall
    assert ">2<" not in overall


def test_active_in_the_last_12_months_leaves_out_a_session_13_months_ago() -> None:
    now = utcnow()
    recent, old, both = gold_member(), gold_member(), gold_member()
    eleven = _past(335, title="Eleven months ago")
    thirteen = _past(396, title="Thirteen months ago")
    _came(eleven, recent)
    _came(thirteen, old)
    _came(eleven, both)
    _came(thirteen, both)
    # Staff and guests are not members.
    db.session.add(
        Attendance(session_id=eleven.sessions[0].id, guest_name="G", recorded_at=now)
    )
    db.session.commit()
    assert active_in_last_year(now) == 2
    # Thirteen months ago, a year later, only the older session counted.
    assert active_in_last_year(now - timedelta(days=380)) == 2
    assert active_in_last_year(now - timedelta(days=400)) == 0


def test_active_in_the_last_12_months_is_on_the_dashboard(
    client: Any, login: Any, cast: dict[str, Any]
) -> None:
    made = _past(10)
    _came(made, gold_member())
    db.session.commit()
    login(cast["officer"])
    page = client.get("/dashboard/").get_data(as_text=True)
    assert "Members active in involvement (last 12 months)" in page


@pytest.mark.parametrize(
    "url",
    [
        "/involvement/2147483648/participation",
        "/involvement/99999999999999999999/participation",
        "/involvement/programmes/0/participation",
        "/involvement/programmes/2147483647/participation",
    ],
)
def test_hostile_ids_are_not_found(
    client: Any, login: Any, cast: dict[str, Any], url: str
) -> None:
    login(cast["admin"])
    assert client.get(url).status_code == 404


def test_year_before_handles_29_february() -> None:
    from engage.involvement.participation import year_before

    start = year_before(datetime(2028, 2, 29, 12, tzinfo=utcnow().tzinfo))
    assert (start.month, start.day, start.year) == (2, 28, 2027)
