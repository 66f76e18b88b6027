"""Expense claims: amounts in pence, receipts, one claim a session, decisions, the
export for finance, the member's private link, the levels page and who may do what."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from engage.audit.models import AuditEvent
from engage.clock import utcnow
from engage.errors import PermissionDenied
from engage.errors import ValidationError
from engage.extensions import db
from engage.involvement import claims
from engage.involvement import rates
from engage.involvement.models import Attendance
from engage.involvement.models import ClaimStatus
from engage.involvement.models import ExpenseClaim
from engage.involvement.models import InvolvementInvitation
from engage.involvement.models import InvolvementRate
from engage.involvement.models import InvolvementSession
from engage.involvement.panels import panels_for
from engage.involvement.tokens import invitation_token
from engage.membership.models import ContactChannel
from engage.membership.models import Member
from engage.organisation.models import Organisation
from tests.conftest import comparable
from tests.involvement.helpers import activity
from tests.involvement.helpers import gold_member
from tests.pager import pager_links

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200


def _level(pence: int = 7500, name: str = "Level 4: partnership") -> InvolvementRate:
    level = db.session.scalar(select(InvolvementRate).filter_by(name=name))
    if level is None:
        level = InvolvementRate(name=name, position=4)
        db.session.add(level)
    level.session_pence = pence
    db.session.commit()
    return level


def _organisation(mileage: int = 45) -> Organisation:
    row = Organisation(
        id=1,
        name="NHS Northshire ICB",
        short_name="Northshire",
        mileage_pence_per_mile=mileage,
    )
    db.session.add(row)
    db.session.commit()
    return row


def _past_session(**fields: Any) -> InvolvementSession:
    """A session that started yesterday, of an activity at level 4 (£75)."""
    fields.setdefault("rate", _level())
    made = activity(starts=utcnow() - timedelta(days=1), **fields)
    return made.sessions[0]


def _invite(session: InvolvementSession, member: Member) -> InvolvementInvitation:
    invitation = InvolvementInvitation(
        session_id=session.id,
        member_id=member.id,
        channel=ContactChannel.EMAIL,
        address=member.email,
    )
    db.session.add(invitation)
    db.session.commit()
    return invitation


def _upload(data: bytes, name: str = "receipt.pdf") -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=name)


def _submit(
    who: Any, session: InvolvementSession, *, entered_by: Any = None, **given: Any
) -> ExpenseClaim:
    values: dict[str, Any] = {
        "miles": Decimal("12.5"),
        "fares_pence": 740,
        "carer_pence": 1000,
        "details": "Bus there, lift back",
        "receipts": [claims.read_receipt(_upload(PDF))],
        "entered_by": entered_by,
        "now": utcnow(),
    }
    values.update(given)
    made = claims.submit_claim(who, session, **values)
    db.session.commit()
    return made


# Amounts ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "pence"),
    [
        ("75", 7500),
        ("75.00", 7500),
        ("75.5", 7550),
        ("£7.40", 740),
        ("1,000", 100000),
        ("0.01", 1),
        ("", 0),
        (" 12 ", 1200),
    ],
)
def test_pounds_are_read_as_exact_pence(typed: str, pence: int) -> None:
    assert claims.parse_pounds(typed, most_pence=100_000, called="Fares") == pence


@pytest.mark.parametrize(
    "typed",
    ["12.345", "1e3", "-5", "½", "12,5", "NaN", "inf", "1,000.01", "0x10", "9" * 40],
)
def test_amounts_that_are_not_pounds_are_refused_in_words(typed: str) -> None:
    with pytest.raises(ValidationError, match="Fares"):
        claims.parse_pounds(typed, most_pence=100_000, called="Fares")


def test_miles_have_one_decimal_place_up_to_a_thousand() -> None:
    assert claims.parse_miles("12.5") == Decimal("12.5")
    assert claims.parse_miles("1000") == Decimal(1000)
    for typed, message in [
        ("12.55", "Miles can have one decimal place, like 12.5"),
        ("1000.1", "Miles must be 1,000 or fewer"),
        ("99999999", "Miles must be 1,000 or fewer"),
        ("-1", "Miles cannot be less than 0"),
        ("-10.5", "Miles cannot be less than 0"),
        ("1e2", "Miles must be a number, like 12 or 12.5"),
        ("12,5", "Miles must be a number, like 12 or 12.5"),
        ("twelve", "Miles must be a number, like 12 or 12.5"),
        ("9" * 40, "Miles must be a number, like 12 or 12.5"),
    ]:
        with pytest.raises(ValidationError) as refused:
            claims.parse_miles(typed)
        assert refused.value.message == message, typed


def test_mileage_is_rounded_to_the_nearest_penny_halves_up_exactly() -> None:
    assert claims.mileage_pence(Decimal("12.5"), 45) == 563  # 562.5
    assert claims.mileage_pence(Decimal("0.1"), 45) == 5  # 4.5
    # In binary floating point 0.3 × 45 is 13.4999…, which would round down.
    assert claims.mileage_pence(Decimal("0.3"), 45) == 14
    assert claims.mileage_pence(Decimal("1000"), 200) == 200_000
    assert claims.pounds(9803) == "£98.03"
    assert claims.pounds(100_000) == "£1,000.00"


def test_a_claim_pays_the_level_and_mileage_as_they_were_when_it_was_made(
    cast: dict[str, Any],
) -> None:
    _organisation(mileage=45)
    session = _past_session()
    member = gold_member()
    invitation = _invite(session, member)

    claim = _submit(invitation, session)

    assert claim.payment_pence == 7500
    assert claim.mileage_rate_pence == 45
    assert claim.mileage_pence == 563
    assert claim.total_pence == 7500 + 563 + 740 + 1000
    # Later changes leave the claim as it was made.
    rates.save_rate(
        session.activity.rate,
        name="Level 4: partnership",
        description="",
        session_pence=9000,
        is_active=True,
        actor=cast["admin"],
        now=utcnow(),
    )
    rates.set_mileage_rate(30, actor=cast["admin"], now=utcnow())
    db.session.commit()
    db.session.refresh(claim)
    assert (claim.payment_pence, claim.mileage_rate_pence) == (7500, 45)


# Receipts -----------------------------------------------------------------------------


def test_a_pdf_is_accepted_and_its_name_cleaned() -> None:
    receipt = claims.read_receipt(_upload(PDF, "..\\..\\my <bus> ticket.exe.PDF"))
    assert receipt.content_type == "application/pdf"
    assert receipt.filename == "my bus ticket.exe.pdf"
    assert receipt.data == PDF
    photo = claims.read_receipt(_upload(PNG, "photo"))
    assert (photo.content_type, photo.filename) == ("image/png", "photo.png")


def test_a_program_renamed_pdf_is_refused() -> None:
    with pytest.raises(ValidationError, match="not a PDF, JPEG or PNG"):
        claims.read_receipt(
            FileStorage(
                stream=io.BytesIO(EXE),
                filename="receipt.pdf",
                content_type="application/pdf",
            )
        )


class _Counting(io.BytesIO):
    """A file that counts the bytes read from it."""

    def __init__(self, data: bytes, *, seekable: bool = True) -> None:
        super().__init__(data)
        self.bytes_read = 0
        self._seekable = seekable

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk

    def seekable(self) -> bool:
        return self._seekable


def test_a_receipt_over_5_mb_is_refused_without_reading_it_all() -> None:
    six_mb = PDF + b"\x00" * (6 * 1024 * 1024)
    spooled = _Counting(six_mb)
    with pytest.raises(ValidationError, match="larger than 5 MB"):
        claims.read_receipt(FileStorage(stream=spooled, filename="big.pdf"))
    assert spooled.bytes_read == 0  # refused by its size alone
    # A stream that cannot tell its size is read to one byte past the limit only.
    streamed = _Counting(six_mb, seekable=False)
    with pytest.raises(ValidationError, match="larger than 5 MB"):
        claims.read_receipt(FileStorage(stream=streamed, filename="big.pdf"))
    assert streamed.bytes_read == claims.MAX_RECEIPT_BYTES + 1
    # Exactly 5 MB is fine.
    exact = PDF + b"\x00" * (claims.MAX_RECEIPT_BYTES - len(PDF))
    assert len(claims.read_receipt(_upload(exact)).data) == claims.MAX_RECEIPT_BYTES


def test_six_receipts_are_refused_and_empty_file_boxes_ignored() -> None:
    with pytest.raises(ValidationError, match="at most 5 receipts"):
        claims.read_receipts([_upload(PDF) for _ in range(6)])
    chosen = claims.read_receipts([_upload(PDF), _upload(b"", name="")])
    assert len(chosen) == 1


def test_receipts_kept_on_a_new_submission_count_towards_five() -> None:
    session = _past_session()
    invitation = _invite(session, gold_member())
    four = [claims.read_receipt(_upload(PDF)) for _ in range(4)]
    claim = _submit(invitation, session, receipts=four)
    with pytest.raises(ValidationError, match="at most 5 receipts"):
        _submit(invitation, session, receipts=four[:2])
    db.session.rollback()
    first = claim.receipts[0].id
    again = _submit(invitation, session, receipts=four[:2], remove_receipt_ids=[first])
    assert len(again.receipts) == 5
    assert first not in {r.id for r in again.receipts}


def test_fares_through_the_link_need_a_receipt() -> None:
    session = _past_session()
    invitation = _invite(session, gold_member())
    with pytest.raises(ValidationError, match="receipt or ticket"):
        _submit(invitation, session, receipts=[])
    db.session.rollback()
    assert _submit(invitation, session, receipts=[], fares_pence=0).fares_pence == 0


# One claim a session, and who may claim -----------------------------------------------


def test_a_second_claim_replaces_one_waiting_and_is_refused_once_decided(
    cast: dict[str, Any],
) -> None:
    session = _past_session()
    invitation = _invite(session, gold_member())
    first = _submit(invitation, session)
    second = _submit(invitation, session, miles=Decimal(0), carer_pence=0)
    assert second.id == first.id
    assert db.session.scalar(select(db.func.count(ExpenseClaim.id))) == 1
    assert (second.mileage_pence, second.carer_pence) == (0, 0)

    claims.decide(second, approve=True, note="", by=cast["officer"], now=utcnow())
    db.session.commit()
    with pytest.raises(ValidationError, match="already been approved"):
        _submit(invitation, session)


def test_a_claim_only_for_a_session_that_has_started_and_was_not_cancelled(
    cast: dict[str, Any],
) -> None:
    future = activity(rate=_level()).sessions[0]
    invitation = _invite(future, gold_member())
    with pytest.raises(ValidationError, match="once the session has started"):
        _submit(invitation, future)
    db.session.rollback()
    past = _past_session(rate=None, title="Another")
    past.cancelled_at = utcnow()
    db.session.commit()
    with pytest.raises(ValidationError, match="cancelled"):
        _submit(_invite(past, gold_member()), past)


def test_staff_claim_only_for_a_member_invited_or_who_came(
    cast: dict[str, Any],
) -> None:
    session = _past_session()
    stranger, came = gold_member(), gold_member()
    with pytest.raises(ValidationError, match="invited to this session"):
        _submit(stranger, session, entered_by=cast["officer"])
    db.session.rollback()
    db.session.add(
        Attendance(session_id=session.id, member_id=came.id, recorded_at=utcnow())
    )
    db.session.commit()
    claim = _submit(came, session, entered_by=cast["officer"], receipts=[])
    assert claim.entered_by_id == cast["officer"].id


# Decisions ----------------------------------------------------------------------------


def test_officers_decide_once_and_say_why_when_not_approving(
    cast: dict[str, Any],
) -> None:
    session = _past_session()
    claim = _submit(_invite(session, gold_member()), session)
    with pytest.raises(PermissionDenied):
        claims.decide(claim, approve=True, note="", by=cast["lead"], now=utcnow())
    with pytest.raises(ValidationError, match="Say why"):
        claims.decide(claim, approve=False, note="  ", by=cast["officer"], now=utcnow())
    claims.decide(
        claim, approve=False, note="No session that day", by=cast["admin"], now=utcnow()
    )
    db.session.commit()
    assert claim.status == ClaimStatus.REJECTED
    assert claim.decided_by_id == cast["admin"].id
    with pytest.raises(ValidationError, match="already been not approved"):
        claims.decide(claim, approve=True, note="", by=cast["admin"], now=utcnow())


def test_a_lead_cannot_approve_through_the_page(
    client: FlaskClient, login: Any, cast: dict[str, Any]
) -> None:
    session = _past_session()
    claim = _submit(_invite(session, gold_member()), session)
    login(cast["lead"])
    assert client.get(f"/involvement/claims/{claim.id}").status_code == 200
    response = client.post(
        f"/involvement/claims/{claim.id}/decision", data={"decision": "approve"}
    )
    assert response.status_code == 403
    receipt = claim.receipts[0]
    url = f"/involvement/claims/{claim.id}/receipts/{receipt.id}"
    assert client.get(url).status_code == 403
    db.session.refresh(claim)
    assert claim.status == ClaimStatus.SUBMITTED


def test_an_officer_approves_through_the_page(
    client: FlaskClient, login: Any, cast: dict[str, Any]
) -> None:
    session = _past_session()
    claim = _submit(_invite(session, gold_member()), session)
    login(cast["officer"])
    url = f"/involvement/claims/{claim.id}/decision"
    assert client.post(url, data={"decision": "reject"}).status_code == 400
    response = client.post(url, data={"decision": "approve", "note": "Checked"})
    assert response.status_code == 302
    db.session.refresh(claim)
    assert (claim.status, claim.decision_note) == (ClaimStatus.APPROVED, "Checked")


def test_a_visitor_gets_nothing(client: FlaskClient) -> None:
    session = _past_session()
    claim = _submit(_invite(session, gold_member()), session)
    for url in (
        "/involvement/claims",
        f"/involvement/claims/{claim.id}",
        f"/involvement/claims/{claim.id}/receipts/{claim.receipts[0].id}",
        "/involvement/claims/export",
        "/admin/involvement-rates",
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/login")
        assert b"%PDF" not in response.data


# The receipt download -----------------------------------------------------------------


def test_staff_download_a_receipt_as_an_attachment_and_it_is_audited(
    client: FlaskClient, login: Any, cast: dict[str, Any]
) -> None:
    session = _past_session()
    member = gold_member()
    claim = _submit(_invite(session, member), session)
    receipt = claim.receipts[0]
    login(cast["officer"])
    response = client.get(f"/involvement/claims/{claim.id}/receipts/{receipt.id}")
    assert response.status_code == 200
    assert response.data == PDF
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="receipt.pdf"'
    )
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    viewed = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "view")
    ).one()
    assert (viewed.entity_type, viewed.entity_id) == ("member", str(member.id))
    assert member.name not in viewed.summary
    # A receipt asked for under another claim is not found.
    other = f"/involvement/claims/{claim.id + 1}/receipts/{receipt.id}"
    assert client.get(other).status_code == 404


# The export for finance ---------------------------------------------------------------


def _approved(cast: dict[str, Any], name: str) -> ExpenseClaim:
    session = _past_session(title=f"Focus group for {name[:10]}")
    claim = _submit(_invite(session, gold_member(name=name)), session)
    claims.decide(claim, approve=True, note="", by=cast["officer"], now=utcnow())
    db.session.commit()
    return claim


HOSTILE = '=HYPERLINK("http://evil.example","Click")'


def test_export_is_formula_safe_and_marks_the_claims_sent(
    cast: dict[str, Any],
) -> None:
    claim = _approved(cast, HOSTILE)
    exported = claims.export_for_finance("csv", by=cast["officer"], now=utcnow())
    db.session.commit()
    text = exported.content.decode("utf-8-sig")
    assert "'=HYPERLINK" in text
    assert ",=HYPERLINK" not in text
    assert '"=HYPERLINK' not in text
    assert "98.03" in text  # 75.00 + 5.63 + 7.40 + 10.00
    db.session.refresh(claim)
    assert claim.status == ClaimStatus.EXPORTED
    assert claim.exported_at is not None
    assert exported.count == 1
    with pytest.raises(ValidationError, match="no approved claims"):
        claims.export_for_finance("csv", by=cast["officer"], now=utcnow())

    again = claims.export_again(claim.exported_at, "xlsx", by=cast["officer"])
    sheet = openpyxl.load_workbook(io.BytesIO(again.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    name_cell = sheet.cell(row=2, column=rows[0].index("Member name") + 1)
    assert name_cell.data_type == "s"
    assert str(name_cell.value).startswith("'=HYPERLINK")
    assert rows[1][rows[0].index("Total (£)")] == pytest.approx(98.03)
    assert rows[1][rows[0].index("Member number")] == claim.member_id


def test_export_page_downloads_the_waiting_claims_then_a_past_export_again(
    client: FlaskClient, login: Any, cast: dict[str, Any]
) -> None:
    first = _approved(cast, "Ada Lovelace")
    login(cast["officer"])
    assert client.get("/involvement/claims/export").status_code == 200
    response = client.post(
        "/involvement/claims/export", data={"batch": "waiting", "fmt": "xlsx"}
    )
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.mimetype.endswith("spreadsheetml.sheet")
    db.session.refresh(first)
    assert first.status == ClaimStatus.EXPORTED
    second = _approved(cast, "Grace Hopper")

    page = client.get("/involvement/claims/export").get_data(as_text=True)
    batch = page.split('name="batch" type="radio" value="')[2].split('"')[0]
    response = client.post(
        "/involvement/claims/export", data={"batch": batch, "fmt": "csv"}
    )
    text = response.get_data(as_text=True)
    assert "Ada Lovelace" in text
    assert "Grace Hopper" not in text
    db.session.refresh(second)
    assert second.status == ClaimStatus.APPROVED  # downloading again sends nothing new


# The member's private link ------------------------------------------------------------


def test_the_member_claims_through_their_link(client: FlaskClient) -> None:
    session = _past_session()
    invitation = _invite(session, gold_member())
    url = f"/i/{invitation_token(invitation.id)}/claim"
    page = client.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in html
    assert "Citizens Advice" in html
    assert "£75.00" in html

    response = client.post(
        url,
        data={
            "miles": "12.5",
            "fares": "7.40",
            "carer": "",
            "details": "Bus",
            "receipts": [(io.BytesIO(PDF), "ticket.pdf")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    claim = db.session.scalars(select(ExpenseClaim)).one()
    assert claim.total_pence == 7500 + 563 + 740
    assert claim.entered_by_id is None
    assert [r.filename for r in claim.receipts] == ["ticket.pdf"]
    shown = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Waiting for approval" in shown
    assert "£88.03" in shown


def test_a_member_may_claim_their_expenses_only(client: FlaskClient) -> None:
    """The benefits note says they always can: the form lets them."""
    session = _past_session()
    url = f"/i/{invitation_token(_invite(session, gold_member()).id)}/claim"
    html = client.get(url).get_data(as_text=True)
    assert "You can always choose to claim expenses only" in html
    assert "Pay my expenses only, not the involvement payment" in html
    response = client.post(
        url,
        data={"expenses_only": "y", "miles": "10"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    claim = db.session.scalars(select(ExpenseClaim)).one()
    assert (claim.payment_pence, claim.total_pence) == (0, 450)
    # Opened again to change it, the box is still ticked.
    again = client.get(url).get_data(as_text=True)
    assert re.search(r'name="expenses_only"[^>]*checked', again)


def test_staff_enter_a_claim_in_their_own_words(
    client: FlaskClient, login: Any, cast: dict[str, Any]
) -> None:
    session = _past_session()
    member = gold_member(name="Ada Lovelace")
    _invite(session, member)
    login(cast["officer"])
    url = f"/involvement/{session.activity_id}/sessions/{session.id}/claims/new"
    page = client.get(url).get_data(as_text=True)
    assert "Who is the claim for?" in page
    assert f"Ada Lovelace (member number {member.id})" in page
    assert "if they did not drive" in page
    assert "if you did not drive" not in page
    refused = client.post(url, data={"miles": "3"}).get_data(as_text=True)
    assert "Choose the member the claim is for" in refused
    assert "Select one of the options shown" not in refused


def test_the_link_refuses_a_program_and_six_files_in_words(client: FlaskClient) -> None:
    session = _past_session()
    url = f"/i/{invitation_token(_invite(session, gold_member()).id)}/claim"
    for files, words in (
        ([(io.BytesIO(EXE), "ticket.pdf")], "not a PDF, JPEG or PNG"),
        ([(io.BytesIO(PDF), f"r{i}.pdf") for i in range(6)], "at most 5 receipts"),
    ):
        response = client.post(
            url,
            data={"miles": "1", "fares": "2", "receipts": files},
            content_type="multipart/form-data",
        )
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert words in html
        assert "FileStorage" not in html  # the file box is shown empty again
    assert db.session.scalars(select(ExpenseClaim)).all() == []


def test_bad_tokens_are_the_same_404_as_unknown_pages(client: FlaskClient) -> None:
    session = _past_session()
    invitation = _invite(session, gold_member())
    good = invitation_token(invitation.id)
    unknown = comparable(client.get("/no-such-page"))
    for token in (
        "nonsense",
        good[:-2] + ("AA" if not good.endswith("AA") else "BB"),
        invitation_token(invitation.id + 1000),
        "x" * 500,
    ):
        response = client.get(f"/i/{token}/claim")
        assert response.status_code == 404
        assert comparable(response) == unknown
        assert client.post(f"/i/{token}/claim", data={}).status_code == 404


@pytest.mark.parametrize(
    "hostile",
    ["1e999", "NaN", "-0", "9" * 400, "١٢", "12.5.5", "<script>", "£", " ", "\u202e"],
)
def test_no_hostile_value_gives_a_500(
    client: FlaskClient, login: Any, cast: dict[str, Any], hostile: str
) -> None:
    session = _past_session()
    member = gold_member()
    url = f"/i/{invitation_token(_invite(session, member).id)}/claim"
    data = {
        "miles": hostile,
        "fares": hostile,
        "carer": hostile,
        "details": hostile * 3,
        "remove_receipts": hostile,
    }
    assert client.post(url, data=data).status_code < 500
    login(cast["officer"])
    staff = f"/involvement/{session.activity_id}/sessions/{session.id}/claims/new"
    assert client.post(staff, data={**data, "member": hostile}).status_code < 500
    export = "/involvement/claims/export"
    assert (
        client.post(export, data={"batch": hostile, "fmt": hostile}).status_code < 500
    )
    assert (
        client.get(f"/involvement/claims?status={hostile}&page={hostile}").status_code
        == 200
    )
    login(cast["admin"])
    assert (
        client.post("/admin/involvement-rates", data={"pence": hostile}).status_code
        < 500
    )
    response = client.post(
        "/admin/involvement-rates/new",
        data={"name": hostile, "session_pounds": hostile, "description": hostile},
    )
    assert response.status_code < 500


def test_staff_enter_a_claim_for_a_member_of_that_session(
    client: FlaskClient, login: Any, cast: dict[str, Any]
) -> None:
    session = _past_session()
    invited, stranger = (
        gold_member(name="Ada Lovelace"),
        gold_member(name="Bob Stranger"),
    )
    _invite(session, invited)
    login(cast["officer"])
    url = f"/involvement/{session.activity_id}/sessions/{session.id}/claims/new"
    page = client.get(url).get_data(as_text=True)
    assert "Ada Lovelace" in page
    assert "Bob Stranger" not in page
    refused = client.post(url, data={"member": str(stranger.id), "miles": "3"})
    assert refused.status_code == 200
    assert db.session.scalars(select(ExpenseClaim)).all() == []
    response = client.post(url, data={"member": str(invited.id), "miles": "3"})
    assert response.status_code == 302
    claim = db.session.scalars(select(ExpenseClaim)).one()
    assert (claim.member_id, claim.entered_by_id) == (invited.id, cast["officer"].id)
    wrong = f"/involvement/{session.activity_id + 1}/sessions/{session.id}/claims/new"
    assert client.get(wrong).status_code == 404


def test_claims_list_filters_by_status(
    client: FlaskClient, login: Any, cast: dict[str, Any]
) -> None:
    _approved(cast, "Ada Lovelace")
    session = _past_session(title="Waiting one")
    _submit(_invite(session, gold_member(name="Grace Hopper")), session)
    login(cast["lead"])
    everything = client.get("/involvement/claims").get_data(as_text=True)
    assert "Ada Lovelace" in everything
    assert "Grace Hopper" in everything
    waiting = client.get("/involvement/claims?status=submitted").get_data(as_text=True)
    assert "Grace Hopper" in waiting
    assert "Ada Lovelace" not in waiting


def test_claims_list_pages_newest_first(
    client: FlaskClient, login: Any, cast: dict[str, Any]
) -> None:
    session = _past_session(title="A busy focus group")
    for n in range(26):  # 25 a page
        _submit(_invite(session, gold_member(name=f"Claimant {n:02d}")), session)
    login(cast["lead"])
    first = client.get("/involvement/claims?status=submitted").get_data(as_text=True)
    assert re.findall(r"Claimant \d\d", first) == [
        f"Claimant {n:02d}" for n in range(25, 0, -1)
    ]
    links = pager_links(first)
    assert "status=submitted" in links["next"]
    second = client.get(links["next"]).get_data(as_text=True)
    assert re.findall(r"Claimant \d\d", second) == ["Claimant 00"]


# The levels page and the activity page's section --------------------------------------


def test_admins_set_levels_in_pounds_and_the_mileage_rate(
    client: FlaskClient, login: Any, cast: dict[str, Any]
) -> None:
    _organisation()
    login(cast["admin"])
    page = client.get("/admin/involvement-rates").get_data(as_text=True)
    assert "Citizens Advice" in page
    assert "/admin/involvement-rates" in client.get("/admin/").get_data(as_text=True)

    response = client.post(
        "/admin/involvement-rates/new",
        data={"name": "Level 4", "session_pounds": "75", "is_active": "y"},
    )
    assert response.status_code == 302
    level = db.session.scalars(select(InvolvementRate)).one()
    assert (level.session_pence, level.is_active) == (7500, True)
    client.post(
        f"/admin/involvement-rates/{level.id}",
        data={"name": "Level 4", "session_pounds": "80.50"},
    )
    db.session.refresh(level)
    assert (level.session_pence, level.is_active) == (8050, False)
    same = client.post(
        "/admin/involvement-rates/new", data={"name": "level 4", "session_pounds": "0"}
    )
    assert "already a level" in same.get_data(as_text=True)

    too_high = client.post("/admin/involvement-rates", data={"pence": "201"})
    assert too_high.status_code == 200
    assert "must be from 0 to 200 pence a mile" in too_high.get_data(as_text=True)
    assert rates.mileage_pence_per_mile() == 45
    # Left empty: one message, and the box is not marked optional.
    empty = client.post("/admin/involvement-rates", data={"pence": ""})
    page = empty.get_data(as_text=True)
    assert page.count("Enter the mileage rate in pence, like 45") == 2  # summary, box
    assert "Enter a whole number" not in page
    assert "(optional)" not in page.split("Mileage rate")[1][:40]
    assert (
        client.post("/admin/involvement-rates", data={"pence": "50"}).status_code == 302
    )
    assert rates.mileage_pence_per_mile() == 50
    actions = set(
        db.session.scalars(
            select(AuditEvent.entity_type).where(AuditEvent.actor_id.is_not(None))
        )
    )
    assert {"involvement_rate", "organisation"} <= actions


def test_the_activity_page_section_shows_claims_by_status_in_pounds(
    app: Any, cast: dict[str, Any]
) -> None:
    from flask import render_template

    session = _past_session()
    made = session.activity
    assert "involvement/_claims_panel.html" in [t for t, _ in panels_for(made)]
    _submit(_invite(session, gold_member()), session)
    values = dict(panels_for(made))["involvement/_claims_panel.html"]
    assert [(t.status, t.count, t.total_pence) for t in values["claims_totals"]] == [
        (ClaimStatus.SUBMITTED, 1, 9803)
    ]
    with app.test_request_context():
        from flask_login import login_user

        login_user(cast["officer"])
        html = render_template("involvement/_claims_panel.html", **values)
    assert "£98.03" in html
    assert "Waiting for approval" in html
    # An activity whose sessions are all to come has no section yet.
    assert "involvement/_claims_panel.html" not in [
        t for t, _ in panels_for(activity(title="Later"))
    ]


def test_the_claim_page_says_whether_the_register_shows_they_came(
    client: FlaskClient, login: Any, cast: dict[str, Any]
) -> None:
    session = _past_session()
    member = gold_member()
    claim = _submit(_invite(session, member), session)
    login(cast["officer"])
    page = client.get(f"/involvement/claims/{claim.id}").get_data(as_text=True)
    assert "Not recorded on the register" in page
    db.session.add(
        Attendance(session_id=session.id, member_id=member.id, recorded_at=utcnow())
    )
    db.session.commit()
    page = client.get(f"/involvement/claims/{claim.id}").get_data(as_text=True)
    assert "Came (ticked on the register)" in page
    assert "coming" not in page.split("Attendance</dt>")[1].split("</dd>")[0]


@pytest.mark.parametrize(
    ("miles", "words"),
    [
        (Decimal("12.5"), "Mileage: 12.5 miles at 45p a mile"),
        (Decimal("1"), "Mileage: 1 mile at 45p a mile"),
        (Decimal("20"), "Mileage: 20 miles at 45p a mile"),
        (Decimal("0"), "Mileage<"),
    ],
)
def test_the_claim_page_says_how_the_mileage_was_worked_out(
    client: FlaskClient, login: Any, cast: dict[str, Any], miles: Decimal, words: str
) -> None:
    _organisation(mileage=45)
    session = _past_session()
    claim = _submit(_invite(session, gold_member()), session, miles=miles)
    login(cast["officer"])
    page = client.get(f"/involvement/claims/{claim.id}").get_data(as_text=True)
    assert words in page
    assert re.search(r"(?<![\d.])0 miles", page) is None
