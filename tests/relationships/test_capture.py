"""Emails staff copy to the capture mailbox: read from a real IMAP server and filed."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from flask import Flask
from flask.testing import FlaskClient
from imap_tools import MailMessageFlags
from sqlalchemy import func
from sqlalchemy import select

from engage.audit.models import AuditEvent
from engage.clock import utcnow
from engage.extensions import db
from engage.relationships import capture
from engage.relationships.models import CapturedMessage
from engage.relationships.models import CaptureStatus
from engage.relationships.models import Direction
from engage.relationships.models import Interaction
from engage.relationships.models import InteractionAttachment
from engage.relationships.models import InteractionStatus
from jobs.capture import read_capture
from tests import factories
from tests.imap_server import ImapServer
from tests.imap_server import deliver
from tests.imap_server import running_dovecot
from tests.imap_server import signed_in

PDF = b"%PDF-1.4\n% a tiny pdf\n"


def mail(
    *,
    sender: str,
    to: str,
    cc: str = "",
    subject: str = "Stroke services review",
    body: str = "Thank you for meeting us.",
    message_id: str | None = "m1@trust.example",
    files: tuple[tuple[str, bytes], ...] = (),
    html: bool = False,
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    if cc:
        message["Cc"] = cc
    message["Subject"] = subject
    message["Date"] = "Mon, 03 Mar 2025 23:30:00 +0000"
    if message_id:
        message["Message-ID"] = f"<{message_id}>"
    if html:
        message.set_content(f"<p>{body}</p>", subtype="html")
    else:
        message.set_content(body)
    for name, data in files:
        message.add_attachment(
            data, maintype="application", subtype="octet-stream", filename=name
        )
    return message.as_bytes()


@pytest.fixture
def imap(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[ImapServer]:
    with running_dovecot() as server:
        monkeypatch.setitem(app.config, "CAPTURE_IMAP_URL", server.url)
        yield server


@pytest.fixture
def people():
    officer = factories.UserFactory(email="Olive.Officer@trust.example")
    colleague = factories.UserFactory(email="colin@trust.example")
    council = factories.AudienceFactory(name="Borough Council")
    mp = factories.AudienceFactory(name="Local MP")
    cllr = factories.ContactFactory(
        audience=council, email="Cllr.Smith@council.example"
    )
    clerk = factories.ContactFactory(audience=council, email="clerk@council.example")
    # One address, contacts of two audiences: never filed against either alone.
    factories.ContactFactory(audience=council, email="shared@example.org")
    factories.ContactFactory(audience=mp, email="shared@example.org")
    db.session.commit()
    return {
        "officer": officer,
        "colleague": colleague,
        "council": council,
        "mp": mp,
        "cllr": cllr,
        "clerk": clerk,
    }


def _interactions() -> list[Interaction]:
    return list(db.session.scalars(select(Interaction).order_by(Interaction.id)))


def _waiting() -> list[CapturedMessage]:
    return list(
        db.session.scalars(
            select(CapturedMessage).where(
                CapturedMessage.status == CaptureStatus.WAITING
            )
        )
    )


def test_messages_read_over_imap_are_filed_once(
    app: Flask, imap: ImapServer, people
) -> None:
    deliver(
        imap,
        mail(
            sender="Olive Officer <olive.officer@trust.example>",
            to="cllr.smith@council.example",
            cc="clerk@council.example, colin@trust.example",
            files=(("minutes.pdf", PDF), ("notes.docx", b"PK\x03\x04word")),
        ),
        mail(
            sender="stranger@elsewhere.example",
            to="olive.officer@trust.example",
            message_id="m2@elsewhere.example",
            subject="Hello",
        ),
        mail(
            sender="olive.officer@trust.example",
            to="shared@example.org",
            message_id="m3@trust.example",
        ),
        mail(
            sender="clerk@council.example",
            to="colin@trust.example",
            message_id="m4@council.example",
            subject="Re: agenda",
            body="Agenda attached",
            html=True,
        ),
    )
    counts = read_capture(now=utcnow())
    assert (counts["read"], counts["filed"], counts["waiting"]) == (4, 2, 2)

    db.session.expire_all()
    outbound, inbound = _interactions()
    assert outbound.status is InteractionStatus.DRAFT
    assert outbound.direction is Direction.OUTBOUND
    assert outbound.owner_id == people["officer"].id
    assert outbound.source_key == "<m1@trust.example>"
    assert [a.id for a in outbound.audiences] == [people["council"].id]
    assert {c.id for c in outbound.contacts} == {
        people["cllr"].id,
        people["clerk"].id,
    }
    assert {u.id for u in outbound.staff} == {
        people["officer"].id,
        people["colleague"].id,
    }
    assert outbound.sentiment is None
    assert outbound.summary == "Thank you for meeting us."
    # 23:30 UTC on 3 March is still 3 March in the UK (GMT); the UK day is kept.
    assert outbound.occurred_on.isoformat() == "2025-03-03"
    assert [(f.filename, f.content_type) for f in outbound.attachments] == [
        ("minutes.pdf", "application/pdf")
    ]
    filed = db.session.scalar(
        select(CapturedMessage).where(CapturedMessage.interaction_id == outbound.id)
    )
    assert (
        "Files not kept: notes.docx is not a PDF, Word, Excel, JPEG, PNG or plain "
        "text file" in filed.reason
    )
    # Filed: its addresses and words live in the interaction, not here.
    assert (filed.sender, filed.recipients, filed.subject, filed.body) == (
        "",
        "",
        "",
        "",
    )

    assert inbound.direction is Direction.INBOUND
    assert inbound.owner_id == people["colleague"].id
    assert inbound.summary == "Agenda attached"

    reasons = "\n".join(sorted(m.reason for m in _waiting()))
    assert "Not a known contact or member of staff: stranger@elsewhere.example" in (
        reasons
    )
    assert (
        "The address shared@example.org belongs to contacts of more than one "
        "audience (Borough Council, Local MP): choose the audience"
    ) in reasons

    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.entity_type == "captured_message")
    ).all()
    assert len(events) == 4
    assert {e.actor_label for e in events} == {capture.ACTOR}

    with signed_in(imap) as mailbox:
        assert list(mailbox.fetch(mark_seen=False)) == []
        mailbox.folder.set("Processed")
        moved = list(mailbox.fetch(mark_seen=False))
        assert len(moved) == 4
        assert all(MailMessageFlags.SEEN in m.flags for m in moved)

    # A re-run reads nothing; the same message delivered again is not filed twice.
    assert read_capture(now=utcnow())["read"] == 0
    deliver(
        imap,
        mail(
            sender="olive.officer@trust.example",
            to="cllr.smith@council.example",
        ),
    )
    again = read_capture(now=utcnow())
    assert (again["read"], again["duplicate"], again["filed"]) == (1, 1, 0)
    assert db.session.scalar(select(func.count()).select_from(Interaction)) == 2


def test_oversized_messages_are_flagged_and_left(
    app: Flask, imap: ImapServer, people, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "CAPTURE_MAX_BYTES", 4000)
    deliver(
        imap,
        mail(
            sender="olive.officer@trust.example",
            to="cllr.smith@council.example",
            body="x" * 5000,
        ),
    )
    counts = read_capture(now=utcnow())
    assert (counts["read"], counts["too_large"]) == (1, 1)
    assert _interactions() == []
    with signed_in(imap) as mailbox:
        left = list(mailbox.fetch(mark_seen=False))
        assert MailMessageFlags.FLAGGED in left[0].flags
    assert read_capture(now=utcnow())["read"] == 0


def test_unconfigured_mailbox_reads_nothing(app: Flask) -> None:
    assert read_capture(now=utcnow())["read"] == 0


# Without a server ----------------------------------------------------------------


def test_a_message_without_message_id_is_keyed_by_its_bytes(people) -> None:
    raw = mail(
        sender="olive.officer@trust.example",
        to="cllr.smith@council.example",
        message_id=None,
    )
    assert capture.file_message(raw, now=utcnow()) == capture.FILED
    assert capture.file_message(raw, now=utcnow()) == capture.DUPLICATE
    assert _interactions()[0].source_key.startswith("sha256:")


def test_attachments_kept_within_the_limits(people) -> None:
    files = (
        *tuple((f"f{n}.pdf", PDF) for n in range(6)),
        ("big.pdf", PDF + b"0" * (capture.MAX_ATTACHMENT_BYTES + 1)),
    )
    raw = mail(sender="stranger@x.example", to="colin@trust.example", files=files)
    assert capture.file_message(raw, now=utcnow()) == capture.WAITING
    message = _waiting()[0]
    assert len(message.attachments) == 5
    assert "f5.pdf: more than 5 files" in message.reason
    assert "big.pdf: more than 5 files" in message.reason


def test_pictures_shown_in_the_message_are_not_files(people) -> None:
    """A signature's logos (inline, with a Content-ID) neither count nor are kept."""
    message = EmailMessage()
    message["From"] = "olive.officer@trust.example"
    message["To"] = "cllr.smith@council.example"
    message["Subject"] = "Papers\x00 attached"
    message["Message-ID"] = "<logos\x00@trust.example>"
    message.set_content("Papers attached.")
    message.add_alternative("<p>Papers attached.</p>", subtype="html")
    html = message.get_body(preferencelist=("html",))
    assert html is not None
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 20
    for n in range(6):
        html.add_related(png, "image", "png", cid=f"<logo{n}@trust.example>")
    message.add_attachment(PDF, maintype="application", subtype="pdf", filename="a.pdf")
    assert capture.file_message(message.as_bytes(), now=utcnow()) == capture.FILED
    (interaction,) = _interactions()
    assert [a.filename for a in interaction.attachments] == ["a.pdf"]
    # No control characters reach the database (PostgreSQL refuses NUL in text).
    assert interaction.subject == "Papers attached"
    assert interaction.source_key == "<logos @trust.example>"


def test_the_capture_mailbox_own_address_is_passed_over(people) -> None:
    raw = mail(
        sender="olive.officer@trust.example",
        to="cllr.smith@council.example",
        cc="capture@trust.example",
    )
    ignore = "Capture@trust.example"
    assert capture.file_message(raw, now=utcnow(), ignore=ignore) == capture.FILED


# The review pages -------------------------------------------------------------------


def _one_waiting(people, **kwargs) -> CapturedMessage:
    raw = mail(
        sender=kwargs.get("sender", "new.person@council.example"),
        to=kwargs.get("to", "olive.officer@trust.example"),
        files=(("minutes.pdf", PDF),),
        body="<b>Please</b> call me",
    )
    assert capture.file_message(raw, now=utcnow()) == capture.WAITING
    db.session.commit()
    return _waiting()[0]


def test_review_list_and_filing_with_a_new_contact(
    client: FlaskClient, login, cast, people
) -> None:
    message = _one_waiting(people)
    login(cast["officer"])
    page = client.get("/relationships/inbox/").get_data(as_text=True)
    assert "Stroke services review" in page
    assert "new.person@council.example" in page
    detail = client.get(f"/relationships/inbox/{message.id}")
    text = detail.get_data(as_text=True)
    assert "&lt;b&gt;Please&lt;/b&gt; call me" in text
    assert "minutes.pdf" in text
    viewed = db.session.scalar(
        select(func.count(AuditEvent.id)).where(
            AuditEvent.entity_type == "captured_message", AuditEvent.action == "view"
        )
    )
    assert viewed == 1

    bad = client.post(
        f"/relationships/inbox/{message.id}/file",
        data={"audience_id": "abc"},
    )
    assert bad.status_code == 400
    response = client.post(
        f"/relationships/inbox/{message.id}/file",
        data={
            "audience_id": str(people["council"].id),
            "new_contact_address": "new.person@council.example",
            "new_contact_name": "New Person",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    message = db.session.get(CapturedMessage, message.id)
    assert message.status is CaptureStatus.FILED
    interaction = message.interaction
    assert interaction.is_draft
    assert interaction.direction is Direction.INBOUND
    assert interaction.owner_id == cast["officer"].id  # the sender is not staff
    assert [c.name for c in interaction.contacts] == ["New Person"]
    # The day it was sent (its Date header), not the day the job read it.
    assert interaction.occurred_on.isoformat() == "2025-03-03"
    assert [c.id for c in interaction.audiences] == [people["council"].id]
    assert [a.filename for a in interaction.attachments] == ["minutes.pdf"]
    assert (
        db.session.scalar(
            select(InteractionAttachment.captured_id).where(
                InteractionAttachment.interaction_id == interaction.id
            )
        )
        is None
    )

    # Decided already (a second click, or another officer first): told, not an error.
    again = client.post(
        f"/relationships/inbox/{message.id}/dismiss", data={}, follow_redirects=True
    )
    assert again.status_code == 200
    assert "already been decided" in again.get_data(as_text=True)
    refiled = client.post(
        f"/relationships/inbox/{message.id}/file",
        data={"audience_id": str(people["council"].id)},
    )
    assert refiled.status_code == 400
    assert "already been decided" in refiled.get_data(as_text=True)


def test_filing_an_ambiguous_message_owned_by_its_staff_sender(
    client: FlaskClient, login, cast, people
) -> None:
    message = _one_waiting(
        people, sender="olive.officer@trust.example", to="shared@example.org"
    )
    login(cast["officer"])
    client.post(
        f"/relationships/inbox/{message.id}/file",
        data={"audience_id": str(people["mp"].id)},
    )
    db.session.expire_all()
    interaction = db.session.get(CapturedMessage, message.id).interaction
    assert interaction.owner_id == people["officer"].id
    assert interaction.direction is Direction.OUTBOUND
    assert [a.id for a in interaction.audiences] == [people["mp"].id]
    assert [c.audience_id for c in interaction.contacts] == [people["mp"].id]


def test_dismissing_clears_the_words_and_keeps_the_key(
    client: FlaskClient, login, cast, people
) -> None:
    message = _one_waiting(people)
    login(cast["admin"])
    response = client.post(f"/relationships/inbox/{message.id}/dismiss", data={})
    assert response.status_code == 302
    db.session.expire_all()
    message = db.session.get(CapturedMessage, message.id)
    assert message.status is CaptureStatus.DISMISSED
    assert (message.body, message.subject, message.sender) == ("", "", "")
    assert message.attachments == []
    assert message.message_key == "<m1@trust.example>"
    assert _interactions() == []


def test_home_counts_drafts_and_waiting_e_mails(
    client: FlaskClient, login, cast, people
) -> None:
    _one_waiting(people)
    raw = mail(
        sender=cast["officer"].email,
        to="cllr.smith@council.example",
        message_id="m9@trust.example",
    )
    assert capture.file_message(raw, now=utcnow()) == capture.FILED
    db.session.commit()
    login(cast["officer"])
    page = client.get("/").get_data(as_text=True)
    assert "1 draft interaction from email to confirm" in page
    assert "/relationships/interactions/?status=draft&amp;owner=mine" in page
    assert "1 email waiting for review" in page


def test_access_to_the_review_list(client: FlaskClient, login, cast, people) -> None:
    message = _one_waiting(people)
    assert client.get("/relationships/inbox/").status_code == 302
    assert client.post(f"/relationships/inbox/{message.id}/dismiss").status_code in (
        302,
        400,
    )
    login(cast["lead"])
    assert client.get("/relationships/inbox/").status_code == 403
    assert client.get(f"/relationships/inbox/{message.id}").status_code == 403
    assert client.post(f"/relationships/inbox/{message.id}/dismiss").status_code == 403
    db.session.expire_all()
    assert db.session.get(CapturedMessage, message.id).status is CaptureStatus.WAITING
