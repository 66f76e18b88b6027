"""Bounce and complaint reports: parsed, filed once, read from a real IMAP server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from imap_tools import MailMessageFlags
from sqlalchemy import func
from sqlalchemy import select

from engage.clock import utcnow
from engage.extensions import db
from engage.mailings import bounces
from engage.mailings.models import BounceReport
from engage.mailings.models import MailingRecipient
from engage.mailings.models import RecipientStatus
from engage.mailings.models import Suppression
from engage.mailings.models import SuppressionReason
from engage.membership.consent import current_consents
from engage.membership.models import ConsentMethod
from engage.membership.models import ContactChannel
from engage.membership.models import Member
from engage.membership.models import MemberStatus
from jobs import bounces as jobs_bounces
from jobs.bounces import read_bounces
from tests import imap_server
from tests.factories import MemberFactory
from tests.imap_server import ImapServer
from tests.imap_server import deliver
from tests.imap_server import running_dovecot
from tests.imap_server import signed_in
from tests.mailings.unsub_rows import copy_for
from tests.mailings.unsub_rows import sent_mailing


def dsn(
    *,
    report_id: str,
    address: str,
    status: str = "5.1.1",
    action: str = "failed",
    original_id: str | None = None,
    as_text_headers: bool = True,
) -> bytes:
    """A delivery status notification (RFC 3464) as Postfix would send it."""
    original = (
        f"Message-ID: <{original_id}>\r\nFrom: news@engage.test\r\nTo: {address}\r\n"
        "Subject: PPI newsletter\r\n"
        if original_id
        else ""
    )
    quoted = (
        "Content-Type: text/rfc822-headers\r\n\r\n" + original
        if as_text_headers
        else "Content-Type: message/rfc822\r\n\r\n"
        + original
        + "\r\nThe newsletter.\r\n"
    )
    return (
        "From: MAILER-DAEMON@mx.example.org (Mail Delivery System)\r\n"
        "To: bounces@engage.test\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        f"Message-ID: <{report_id}>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: multipart/report; report-type=delivery-status;\r\n"
        '\tboundary="BOUNDARY"\r\n'
        "\r\n"
        "--BOUNDARY\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
        "I'm sorry to have to inform you that your message could not be delivered.\r\n"
        "\r\n--BOUNDARY\r\n"
        "Content-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.org\r\n"
        "Arrival-Date: Mon, 3 Mar 2025 10:00:00 +0000\r\n\r\n"
        f"Final-Recipient: rfc822; {address}\r\n"
        f"Original-Recipient: rfc822;{address}\r\n"
        f"Action: {action}\r\n"
        f"Status: {status}\r\n"
        f"Diagnostic-Code: smtp; 550 {status} <{address}>: Recipient rejected\r\n"
        "\r\n--BOUNDARY\r\n" + quoted + "\r\n--BOUNDARY--\r\n"
    ).encode()


def arf(*, report_id: str, address: str, original_id: str) -> bytes:
    """An abuse report (RFC 5965), as a mailbox provider's feedback loop sends it."""
    return (
        "From: feedback@provider.example\r\n"
        "To: bounces@engage.test\r\n"
        "Subject: Abuse report\r\n"
        f"Message-ID: <{report_id}>\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=feedback-report; boundary="B"\r\n'
        "\r\n--B\r\n"
        "Content-Type: text/plain\r\n\r\n"
        "This is an email abuse report.\r\n"
        "\r\n--B\r\n"
        "Content-Type: message/feedback-report\r\n\r\n"
        "Feedback-Type: abuse\r\n"
        "User-Agent: SomeGenerator/1.0\r\n"
        "Version: 1\r\n"
        f"Original-Rcpt-To: {address}\r\n"
        "\r\n--B\r\n"
        "Content-Type: message/rfc822\r\n\r\n"
        f"Message-ID: <{original_id}>\r\nFrom: news@engage.test\r\nTo: {address}\r\n"
        "Subject: PPI newsletter\r\n\r\nThe newsletter.\r\n"
        "\r\n--B--\r\n"
    ).encode()


PLAIN = (
    b"From: someone@example.org\r\nTo: bounces@engage.test\r\n"
    b"Subject: Please take me off your list\r\nMessage-ID: <human-1@example.org>\r\n"
    b"\r\nHello, a person wrote this.\r\n"
)


@pytest.fixture
def imap(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[ImapServer]:
    with running_dovecot() as server:
        monkeypatch.setitem(app.config, "BOUNCE_IMAP_URL", server.url)
        yield server


def _people():
    mailing = sent_mailing()
    bounced = MemberFactory(
        email="gone@example.org", consents=[ContactChannel.EMAIL, ContactChannel.SMS]
    )
    annoyed = MemberFactory(
        email="annoyed@example.org", consents=[ContactChannel.EMAIL]
    )
    fine = MemberFactory(email="fine@example.org", consents=[ContactChannel.EMAIL])
    copies = {
        "bounced": copy_for(mailing, member=bounced, provider_ref="<m1@engage.test>"),
        "annoyed": copy_for(mailing, member=annoyed, provider_ref="<m2@engage.test>"),
        "fine": copy_for(mailing, member=fine, provider_ref="<m3@engage.test>"),
    }
    return copies


def _suppressions() -> dict[str, Suppression]:
    return {s.address: s for s in db.session.scalars(select(Suppression))}


def test_bounces_and_complaints_read_over_imap_are_filed_once(
    app: Flask, imap: ImapServer
) -> None:
    copies = _people()
    deliver(
        imap,
        dsn(
            report_id="dsn-1@mx.example.org",
            address="gone@example.org",
            original_id="m1@engage.test",
        ),
        arf(
            report_id="arf-1@provider.example",
            address="annoyed@example.org",
            original_id="m2@engage.test",
        ),
        PLAIN,
    )
    counts = read_bounces(now=utcnow())
    assert counts["read"] == 3
    assert (counts["bounced"], counts["complained"], counts["not_reports"]) == (1, 1, 1)

    db.session.expire_all()
    bounced = db.session.get(MailingRecipient, copies["bounced"].id)
    assert bounced.status is RecipientStatus.BOUNCED
    assert bounced.outcome.endswith("the address does not exist")
    fine = db.session.get(MailingRecipient, copies["fine"].id)
    assert fine.status is RecipientStatus.SENT
    listed = _suppressions()
    assert set(listed) == {"gone@example.org", "annoyed@example.org"}
    assert listed["gone@example.org"].reason is SuppressionReason.BOUNCED
    assert listed["gone@example.org"].detail == (
        "The receiving mail server said the address does not exist"
    )
    assert listed["annoyed@example.org"].reason is SuppressionReason.COMPLAINED
    annoyed = db.session.get(Member, copies["annoyed"].member_id)
    assert current_consents(annoyed)[ContactChannel.EMAIL] is False
    assert annoyed.consents[-1].method is ConsentMethod.COMPLAINT
    assert annoyed.status is MemberStatus.ACTIVE
    # A bounce says nothing about consent: the member's texts go on.
    gone = db.session.get(Member, copies["bounced"].member_id)
    assert current_consents(gone)[ContactChannel.SMS] is True

    with signed_in(imap) as mailbox:
        left = list(mailbox.fetch(mark_seen=False))
        assert [m.subject for m in left] == ["Please take me off your list"]
        assert MailMessageFlags.FLAGGED in left[0].flags
        assert MailMessageFlags.SEEN not in left[0].flags
        mailbox.folder.set("Processed")
        moved = list(mailbox.fetch(mark_seen=False))
        assert len(moved) == 2
        assert all(MailMessageFlags.SEEN in m.flags for m in moved)

    # Nothing new: the person's message is passed over, nothing is filed again.
    assert read_bounces(now=utcnow())["read"] == 0
    # The same report delivered again is read but not filed twice.
    deliver(
        imap,
        dsn(
            report_id="dsn-1@mx.example.org",
            address="gone@example.org",
            original_id="m1@engage.test",
        ),
    )
    again = read_bounces(now=utcnow())
    assert (again["read"], again["duplicate"], again["bounced"]) == (1, 1, 0)
    assert db.session.scalar(select(func.count()).select_from(BounceReport)) == 2
    assert db.session.scalar(select(func.count()).select_from(Suppression)) == 2


def test_limits_each_run_and_leaves_oversized_messages(
    app: Flask, imap: ImapServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _people()
    monkeypatch.setitem(app.config, "BOUNCE_MAX_BYTES", 4000)
    big = PLAIN.replace(b"Hello", b"x" * 5000)
    deliver(
        imap,
        big,
        *[
            dsn(
                report_id=f"soft-{n}@mx",
                address="fine@example.org",
                status="4.2.2",
                action="delayed",
                original_id="m3@engage.test",
            )
            for n in range(3)
        ],
    )
    first = read_bounces(now=utcnow(), limit=2)
    second = read_bounces(now=utcnow(), limit=2)
    assert (first["read"], first["too_large"], first["soft"]) == (2, 1, 1)
    assert (second["read"], second["soft"]) == (2, 2)
    db.session.expire_all()
    assert db.session.scalars(select(Suppression)).all() == []
    kinds = db.session.scalars(select(BounceReport.kind)).all()
    assert kinds == [bounces.SOFT] * 3


def test_a_message_that_cannot_be_filed_is_flagged_and_the_rest_go_on(
    app: Flask, imap: ImapServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _people()
    real = jobs_bounces.file_message

    def fragile(raw: bytes, *, now):
        if b"dsn-bad@mx" in raw:
            raise ValueError("a report this parser cannot read")
        return real(raw, now=now)

    monkeypatch.setattr(jobs_bounces, "file_message", fragile)
    deliver(
        imap,
        dsn(
            report_id="dsn-bad@mx",
            address="fine@example.org",
            original_id="m3@engage.test",
        ),
        dsn(
            report_id="dsn-good@mx",
            address="gone@example.org",
            original_id="m1@engage.test",
        ),
    )
    counts = read_bounces(now=utcnow())
    assert (counts["read"], counts["unreadable"], counts["bounced"]) == (2, 1, 1)
    with signed_in(imap) as mailbox:
        left = list(mailbox.fetch(mark_seen=False))
        assert len(left) == 1
        assert MailMessageFlags.FLAGGED in left[0].flags
    # Later runs pass over it.
    assert read_bounces(now=utcnow())["read"] == 0


def test_unconfigured_mailbox_reads_nothing(app: Flask) -> None:
    assert read_bounces(now=utcnow())["read"] == 0


# Parsing and matching, without a server -------------------------------------------


def test_a_report_naming_only_an_address_changes_nothing() -> None:
    copies = _people()
    raw = dsn(report_id="dsn-2@mx", address="Gone@Example.org", original_id=None)
    report = bounces.parse_report(raw)
    assert report is not None
    assert report.original_message_id is None
    assert report.findings[0].address == "gone@example.org"
    assert bounces.file_report(report, now=utcnow()) == "unmatched"
    db.session.flush()
    assert copies["bounced"].status is RecipientStatus.SENT
    assert db.session.scalars(select(Suppression)).all() == []
    assert db.session.scalar(select(BounceReport.kind)) == "unmatched"


def test_a_forged_complaint_quoting_no_message_id_of_ours_changes_nothing() -> None:
    copies = _people()
    raw = arf(
        report_id="arf-9@forger.example",
        address="annoyed@example.org",
        original_id="made-up@forger.example",
    )
    assert bounces.file_message(raw, now=utcnow()) == "unmatched"
    annoyed = db.session.get(Member, copies["annoyed"].member_id)
    assert current_consents(annoyed)[ContactChannel.EMAIL] is True
    assert db.session.scalars(select(Suppression)).all() == []


@pytest.mark.parametrize(
    ("status", "words"),
    [("5.7.1", "refused the message"), ("5.2.2", "the mailbox is full")],
)
def test_a_refusal_fails_the_copy_but_keeps_the_address(
    status: str, words: str
) -> None:
    copies = _people()
    raw = dsn(
        report_id=f"dsn-{status}@mx",
        address="gone@example.org",
        status=status,
        original_id="m1@engage.test",
    )
    assert bounces.file_message(raw, now=utcnow()) == "failed"
    copy = copies["bounced"]
    assert copy.status is RecipientStatus.FAILED
    assert words in copy.outcome
    assert db.session.scalars(select(Suppression)).all() == []


def test_the_quoted_message_id_wins_and_a_whole_original_is_read() -> None:
    copies = _people()
    # The address differs from the copy's (forwarded mail), but the Message-ID is ours.
    raw = dsn(
        report_id="dsn-4@mx",
        address="forwarded@elsewhere.example",
        original_id="m3@engage.test",
        as_text_headers=False,
    )
    report = bounces.parse_report(raw)
    assert report is not None
    assert report.original_message_id == "m3@engage.test"
    assert bounces.file_report(report, now=utcnow()) == "bounced"
    assert set(_suppressions()) == {"fine@example.org"}
    assert copies["fine"].status is RecipientStatus.BOUNCED


@pytest.mark.parametrize(
    "raw",
    [
        PLAIN,
        b"",
        b"\xff\xfe garbage",
        b"Content-Type: multipart/report; report-type=delivery-status\r\n\r\nno parts",
        b"Content-Type: multipart/report; report-type=disposition-notification;"
        b' boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n'
        b"read\r\n--b--\r\n",
    ],
)
def test_other_messages_are_not_reports(raw: bytes) -> None:
    assert bounces.parse_report(raw) is None


def test_a_report_without_its_own_message_id_is_filed_once() -> None:
    _people()
    raw = dsn(
        report_id="x", address="gone@example.org", original_id="m1@engage.test"
    ).replace(b"Message-ID: <x>\r\n", b"")
    assert bounces.file_message(raw, now=utcnow()) == "bounced"
    assert bounces.file_message(raw, now=utcnow()) == "duplicate"


def test_staff_see_why_an_address_is_undeliverable(
    client: FlaskClient, login, cast
) -> None:
    copies = _people()
    bounces.file_message(
        dsn(
            report_id="dsn-5@mx",
            address="gone@example.org",
            original_id="m1@engage.test",
        ),
        now=utcnow(),
    )
    db.session.commit()
    login(cast["officer"])
    page = client.get(f"/members/{copies['bounced'].member_id}").get_data(as_text=True)
    assert "Mailings cannot reach some of their details" in page
    assert "Email address gone@example.org: undeliverable" in page
    assert "the address does not exist" in page
    assert "5.1.1" not in page
    other = client.get(f"/members/{copies['fine'].member_id}").get_data(as_text=True)
    assert "Mailings cannot reach" not in other


def test_without_dovecot_the_imap_fixture_fails_clearly(monkeypatch) -> None:
    monkeypatch.setattr(imap_server, "DOVECOT", "/nonexistent/dovecot")
    monkeypatch.setattr(imap_server.shutil, "which", lambda name: None)
    with (
        pytest.raises(pytest.fail.Exception, match="make imap-server"),
        imap_server.running_dovecot(),
    ):
        pass  # pragma: no cover
