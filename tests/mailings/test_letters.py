"""Letters: formats from support needs, PDF batches, the post list, marking posted."""

from __future__ import annotations

import csv
import io
from datetime import UTC
from datetime import datetime
from typing import Any

import openpyxl
import time_machine
from flask import render_template
from pypdf import PdfReader
from sqlalchemy import select

from engage.audit.models import AuditEvent
from engage.clock import utcnow
from engage.extensions import db
from engage.mailings import letters
from engage.mailings.letters import LetterFormat
from engage.mailings.letters import letter_format
from engage.mailings.models import Mailing
from engage.mailings.models import MailingRecipient
from engage.mailings.models import RecipientStatus
from engage.membership.consent import record_consents
from engage.membership.models import ConsentMethod
from engage.membership.models import ContactChannel
from engage.membership.models import MemberSupportNeed
from engage.membership.models import SupportNeed
from tests import factories

POST = ContactChannel.POST
NOON = datetime(2026, 7, 7, 11, 0, tzinfo=UTC)


def _mailing(**values: Any) -> Mailing:
    mailing = Mailing(
        subject=values.pop("subject", "Summer newsletter"),
        body=values.pop("body", "## News\n\nThe new clinic opens in **August**."),
        by_email=False,
        by_post=True,
        created_at=utcnow(),
        updated_at=utcnow(),
        **values,
    )
    db.session.add(mailing)
    db.session.flush()
    return mailing


def _letter(mailing: Mailing, name: str, *needs: SupportNeed, **member: Any) -> Any:
    """A member who agreed to letters, and their letter waiting to be printed."""
    found = factories.MemberFactory(
        name=name,
        address=member.pop("address", "1 High Street\nNorthtown"),
        postcode=member.pop("postcode", "NT1 1AA"),
        consents=[POST],
        **member,
    )
    for need in needs:
        db.session.add(MemberSupportNeed(member_id=found.id, need=need))
    db.session.add(
        MailingRecipient(mailing_id=mailing.id, channel=POST, member_id=found.id)
    )
    db.session.commit()
    return found


def _page_texts(pdf: bytes) -> list[str]:
    return [
        " ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf)).pages
    ]


def _font_sizes(pdf: bytes, page: int, words: str) -> set[float]:
    """The sizes (pt) of the text on ``page`` containing ``words``."""
    sizes: set[float] = set()

    def visit(text: str, cm: Any, tm: Any, font: Any, size: float) -> None:
        if words in text:
            sizes.add(round(size * tm[3] * cm[3], 1))

    PdfReader(io.BytesIO(pdf)).pages[page].extract_text(visitor_text=visit)
    return sizes


def _position_mm(pdf: bytes, page: int, words: str) -> tuple[float, float]:
    """Where the line ``words`` starts on ``page``: mm from the left and the top."""
    found: list[tuple[float, float]] = []
    height = 297 / 25.4 * 72

    def visit(text: str, cm: Any, tm: Any, font: Any, size: float) -> None:
        if text.strip() == words and not found:
            x, y = tm[4] * cm[0] + cm[4], cm[5] + tm[5] * cm[3]
            found.append((x * 25.4 / 72, (height - y) * 25.4 / 72))

    PdfReader(io.BytesIO(pdf)).pages[page].extract_text(visitor_text=visit)
    return found[0]


def test_the_format_follows_the_strongest_need() -> None:
    assert letter_format([]) is LetterFormat.STANDARD
    assert letter_format([SupportNeed.BSL, SupportNeed.OTHER]) is LetterFormat.STANDARD
    assert letter_format([SupportNeed.LARGE_PRINT]) is LetterFormat.LARGE_PRINT
    assert letter_format([SupportNeed.LARGE_PRINT, SupportNeed.EASY_READ]) is (
        LetterFormat.EASY_READ
    )
    assert (
        letter_format({SupportNeed.AUDIO, SupportNeed.EASY_READ}) is LetterFormat.AUDIO
    )
    assert (
        letter_format({SupportNeed.AUDIO, SupportNeed.BRAILLE}) is LetterFormat.BRAILLE
    )


def test_letters_are_grouped_by_format_in_bounded_batches() -> None:
    mailing = _mailing()
    other = _mailing(subject="Another mailing")
    for n in range(3):
        _letter(
            mailing, f"Standard {n}", SupportNeed.BSL if n == 0 else SupportNeed.OTHER
        )
    _letter(mailing, "Large A", SupportNeed.LARGE_PRINT)
    _letter(mailing, "Large B", SupportNeed.LARGE_PRINT)
    _letter(mailing, "Easy", SupportNeed.EASY_READ, SupportNeed.LARGE_PRINT)
    _letter(mailing, "Braille", SupportNeed.BRAILLE, SupportNeed.LARGE_PRINT)
    _letter(mailing, "Audio", SupportNeed.AUDIO)
    _letter(other, "Elsewhere")
    summary = letters.letter_summary(mailing, batch_size=2)
    assert summary.waiting == {
        LetterFormat.STANDARD: 3,
        LetterFormat.LARGE_PRINT: 2,
        LetterFormat.EASY_READ: 1,
        LetterFormat.BRAILLE: 1,
        LetterFormat.AUDIO: 1,
    }
    assert [(b.label, b.size) for b in summary.batches[LetterFormat.STANDARD]] == [
        ("Batch 1 of 2", 2),
        ("Batch 2 of 2", 1),
    ]
    assert len(summary.batches[LetterFormat.LARGE_PRINT]) == 1
    # No easy-read version: said so, and those letters are not printed at all.
    assert summary.easy_read_missing
    assert LetterFormat.EASY_READ not in summary.batches
    assert LetterFormat.BRAILLE not in summary.batches
    assert letters.letters_waiting(mailing) == 8
    mailing.easy_read_body = "We are opening a **new clinic**."
    summary = letters.letter_summary(mailing)
    assert not summary.easy_read_missing
    assert summary.batches[LetterFormat.EASY_READ][0].size == 1


def test_a_batch_prints_one_letter_a_page_to_the_right_people(cast) -> None:
    mailing = _mailing(
        body="## News\n\n<script>x</script> Visit [us](https://example.org)."
    )
    names = ["Ada Lovelace", "Bo Diddley", "Cy Twombly"]
    for name in names:
        _letter(mailing, name)
    _letter(mailing, "Large Print Person", SupportNeed.LARGE_PRINT)
    batch = letters.letter_summary(mailing).batches[LetterFormat.STANDARD][0]
    with time_machine.travel(NOON, tick=False):
        pdf, made = letters.letters_pdf(
            mailing,
            LetterFormat.STANDARD,
            batch.first_id,
            batch.last_id,
            actor=cast["officer"],
            now=utcnow(),
        )
    pages = _page_texts(pdf)
    assert len(pages) == 3 == len(made.letters)
    for name, text in zip(names, pages, strict=True):
        assert f"{name} 1 High Street Northtown NT1 1AA" in text
        assert f"Dear {name}," in text
        assert "7 July 2026" in text
        assert "NHS Northshire Integrated Care Board" in text
        assert "To stop getting letters from us" in text
        assert "Visit us (https://example.org)" in text
        assert "<script>" in text  # shown as text, never run as markup
        assert "Large Print Person" not in text
    assert "Summer newsletter" in pages[0]
    # The address shows through a DL or C5 window (20 mm in, 45 to 85 mm down).
    left, down = _position_mm(pdf, 1, "Bo Diddley")
    assert 19 <= left <= 30
    assert 45 <= down <= 80
    reader = PdfReader(io.BytesIO(pdf))
    catalog: Any = reader.trailer["/Root"]
    assert catalog["/Lang"] == "en-GB"
    assert "/StructTreeRoot" in catalog
    # Staff see the batch as the letters page names it, not by record ids.
    assert reader.metadata.title == (
        "Summer newsletter: Standard print letters, batch 1 of 1"
    )
    event = db.session.scalars(select(AuditEvent)).all()[-1]
    assert (event.action, event.entity_type) == ("export", "mailing")


def test_large_print_and_easy_read_letters(cast) -> None:
    mailing = _mailing(
        easy_read_body="We have a **new clinic**.\n\nIt opens in August."
    )
    _letter(mailing, "Lara Large", SupportNeed.LARGE_PRINT)
    _letter(mailing, "Eddie Easy", SupportNeed.EASY_READ)
    summary = letters.letter_summary(mailing)
    large = summary.batches[LetterFormat.LARGE_PRINT][0]
    pdf, _ = letters.letters_pdf(
        mailing,
        LetterFormat.LARGE_PRINT,
        large.first_id,
        large.last_id,
        actor=cast["officer"],
        now=utcnow(),
    )
    assert len(_page_texts(pdf)) == 1
    sizes = _font_sizes(pdf, 0, "clinic")
    assert sizes
    assert min(sizes) >= 16, sizes
    assert 18.0 in sizes
    easy = summary.batches[LetterFormat.EASY_READ][0]
    pdf, _ = letters.letters_pdf(
        mailing,
        LetterFormat.EASY_READ,
        easy.first_id,
        easy.last_id,
        actor=cast["officer"],
        now=utcnow(),
    )
    (text,) = _page_texts(pdf)
    assert "Eddie Easy" in text
    assert "It opens in August." in text
    assert "The new clinic opens" not in text  # the easy-read words, not the standard
    assert min(_font_sizes(pdf, 0, "August")) >= 16


def test_marking_posted_rechecks_consent_and_is_idempotent(cast) -> None:
    mailing = _mailing()
    kept = _letter(mailing, "Kept")
    withdrew = _letter(mailing, "Withdrew")
    _letter(mailing, "No Address", address="", postcode=None)
    record_consents(withdrew, {POST: False}, method=ConsentMethod.PHONE, now=utcnow())
    db.session.commit()
    batch = letters.letter_summary(mailing).batches[LetterFormat.STANDARD][0]
    made = letters.batch_letters(
        mailing, LetterFormat.STANDARD, batch.first_id, batch.last_id
    )
    assert [letter.member.name for letter in made.letters] == ["Kept"]
    assert [left.reason for left in made.left_out] == [
        "the member no longer agrees to letters",
        "no postal address on the member's record",
    ]
    with time_machine.travel(NOON, tick=False):
        posted = letters.mark_posted(
            mailing,
            LetterFormat.STANDARD,
            batch.first_id,
            batch.last_id,
            actor=cast["officer"],
            now=utcnow(),
        )
    db.session.commit()
    assert (posted.printed, posted.not_sent) == (1, 2)
    rows = {r.member_id: r for r in db.session.scalars(select(MailingRecipient)).all()}
    assert rows[kept.id].status is RecipientStatus.PRINTED
    assert rows[kept.id].outcome == "Printed for post on 7 July 2026"
    assert rows[kept.id].outcome_at is not None
    assert rows[withdrew.id].status is RecipientStatus.SKIPPED
    assert (
        rows[withdrew.id].outcome
        == "Not printed: the member no longer agrees to letters"
    )
    again = letters.mark_posted(
        mailing,
        LetterFormat.STANDARD,
        batch.first_id,
        batch.last_id,
        actor=cast["officer"],
        now=utcnow(),
    )
    assert (again.printed, again.not_sent) == (0, 0)
    summary = letters.letter_summary(mailing)
    assert (summary.printed, summary.not_sent, summary.total_waiting) == (1, 2, 0)


def test_the_post_list_has_one_row_a_letter_in_plain_words(client, login, cast) -> None:
    mailing = _mailing()
    _letter(mailing, '=HYPERLINK("http://x")', address="2 Low Road\nSouthville")
    _letter(mailing, "Brenda Braille", SupportNeed.BRAILLE, SupportNeed.ADVOCATE)
    _letter(mailing, "Audrey Audio", SupportNeed.AUDIO)
    _letter(mailing, "Easy Ed", SupportNeed.EASY_READ)
    gone = _letter(mailing, "Gone")
    record_consents(gone, {POST: False}, method=ConsentMethod.PHONE, now=utcnow())
    db.session.commit()
    login(cast["officer"])
    response = client.get(f"/mailings/{mailing.id}/post-list.csv")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    rows = list(
        csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")))
    )
    assert rows[0] == ["Name", "Address", "Postcode", "Format", "Notes"]
    by_name = {row[0]: row for row in rows[1:]}
    assert len(rows) == 5
    assert "Gone" not in by_name
    assert by_name['\'=HYPERLINK("http://x")'][1:4] == [
        "2 Low Road, Southville",
        "NT1 1AA",
        "Standard print",
    ]
    assert (
        by_name['\'=HYPERLINK("http://x")'][4]
        == "Batch 1 of 1 of standard print letters"
    )
    assert by_name["Brenda Braille"][3:] == [
        "Arrange in braille",
        "Not printed by Engage; Contact through a carer or advocate",
    ]
    assert by_name["Audrey Audio"][3] == "Arrange in audio"
    assert by_name["Easy Ed"][4].startswith("No easy-read version written yet")
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "export")
    ).one()
    assert event.summary == "post list (csv): 4 letters, 1 left out"
    workbook = client.get(f"/mailings/{mailing.id}/post-list.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(workbook.data)).active
    assert [c.value for c in sheet[1]] == [
        "Name",
        "Address",
        "Postcode",
        "Format",
        "Notes",
    ]
    assert sheet.max_row == 5


def test_the_letters_page_and_marking_a_batch_as_posted(client, login, cast) -> None:
    mailing = _mailing()
    _letter(mailing, "Pat Post")
    _letter(mailing, "Easy Em", SupportNeed.EASY_READ)
    batch = letters.letter_summary(mailing).batches[LetterFormat.STANDARD][0]
    login(cast["officer"])
    page = client.get(f"/mailings/{mailing.id}/letters").get_data(as_text=True)
    assert "No easy-read version" in page
    assert "Download batch 1 of 1 (standard print, 1 letter, PDF)" in page
    form = {"format": "standard", "first": batch.first_id, "last": batch.last_id}
    url = f"/mailings/{mailing.id}/letters/posted"
    assert client.get(url).status_code == 405
    assert letters.letter_summary(mailing).printed == 0
    response = client.post(url, data=form, follow_redirects=True)
    assert "1 letter marked as printed for post." in response.get_data(as_text=True)
    again = client.post(url, data=form, follow_redirects=True)
    assert "already marked as posted" in again.get_data(as_text=True)
    assert letters.letter_summary(mailing).printed == 1
    for bad in (
        {**form, "format": "braille"},
        {**form, "first": "x"},
        {**form, "last": 0},
    ):
        assert client.post(url, data=bad).status_code == 404
    assert client.get("/mailings/999999/letters").status_code == 404
    assert (
        client.get(
            f"/mailings/{mailing.id}/letters.pdf?format=easy_read&first=1&last=9"
        ).status_code
        == 404
    )


def test_letter_pdfs_are_limited_to_a_few_a_minute(
    client, login, cast, monkeypatch
) -> None:
    mailing = _mailing()
    _letter(mailing, "Pat Post")
    batch = letters.letter_summary(mailing).batches[LetterFormat.STANDARD][0]
    monkeypatch.setattr(letters, "letters_pdf", lambda *a, **k: (b"%PDF-1.7", None))
    login(cast["officer"])
    url = (
        f"/mailings/{mailing.id}/letters.pdf?format=standard"
        f"&first={batch.first_id}&last={batch.last_id}"
    )
    codes = [client.get(url).status_code for _ in range(6)]
    assert codes == [200] * 5 + [429]


def test_the_panel_shows_only_for_mailings_by_letter(app) -> None:
    mailing = _mailing()
    _letter(mailing, "Pat Post")
    with app.test_request_context():
        shown = render_template("mailings/_letters_panel.html", mailing=mailing)
        assert "1 letter to print and post." in shown
        assert f"/mailings/{mailing.id}/letters" in shown
        mailing.by_post = False
        assert (
            render_template("mailings/_letters_panel.html", mailing=mailing).strip()
            == ""
        )


def test_a_batch_nobody_can_be_sent_goes_back_with_the_reason(
    client, login, cast
) -> None:
    mailing = _mailing()
    gone = _letter(mailing, "Pat Post")
    batch = letters.letter_summary(mailing).batches[LetterFormat.STANDARD][0]
    record_consents(gone, {POST: False}, method=ConsentMethod.PHONE, now=utcnow())
    db.session.commit()
    login(cast["officer"])
    response = client.get(
        f"/mailings/{mailing.id}/letters.pdf?format=standard"
        f"&first={batch.first_id}&last={batch.last_id}",
        follow_redirects=True,
    )
    assert response.request.path == f"/mailings/{mailing.id}/letters"
    assert "Nobody in this batch can be sent a letter now" in response.get_data(
        as_text=True
    )
    # Nothing was printed, so no download is audited.
    assert (
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "export")
        ).all()
        == []
    )


def test_a_letter_keeps_one_main_heading_and_prints_pictures_as_words() -> None:
    mailing = _mailing(
        body="# Clinic news\n\nSee the map.\n\n![A map of the new clinic](https://example.org/map.png)"
    )
    _letter(mailing, "Pat Post")
    batch = letters.letter_summary(mailing).batches[LetterFormat.STANDARD][0]
    made = letters.batch_letters(
        mailing, LetterFormat.STANDARD, batch.first_id, batch.last_id
    )
    html = letters.letters_html(
        mailing, made, label="batch 1 of 1", today=datetime(2026, 7, 7).date()
    )
    assert html.count("<h1") == 1  # the letter's subject
    assert "<h2>Clinic news</h2>" in html
    assert "[Picture: A map of the new clinic]" in html
    assert "<img" not in html
