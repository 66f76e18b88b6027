"""The mail service: outbox without SMTP, real SMTP after commit only."""

from __future__ import annotations

from flask.testing import FlaskClient

from engage.extensions import db
from engage.mail.models import MailStatus
from engage.mail.services import Attachment
from engage.mail.services import send_mail
from tests.factories import UserFactory


def test_without_smtp_mail_goes_to_the_outbox(outbox) -> None:
    send_mail("someone@trust.example", "Hello", "Plain body", reason="a test needs it")
    db.session.commit()
    (message,) = outbox()
    assert (message.to_address, message.subject) == ("someone@trust.example", "Hello")
    body, foot = message.body_text.split("\n\n-- \n")
    assert body == "Plain body"
    # Every email ends with who sent it and why it came.
    assert foot.startswith("NHS Northshire Integrated Care Board\n")
    assert "Contact us: engagement@northshire.example or 0300 123 4567" in foot
    assert "You are getting this email because a test needs it." in foot
    assert "How we use your information: http://engage.test/privacy" in foot


def test_outbox_message_is_discarded_on_rollback(outbox) -> None:
    send_mail("someone@trust.example", "Hello", "Plain body", reason="a test needs it")
    db.session.rollback()
    assert outbox() == []


def test_smtp_sends_only_after_commit(smtp_server, outbox) -> None:
    send_mail(
        "someone@trust.example",
        "Report",
        "See attached",
        html="<p>See attached</p>",
        reason="a test needs it",
        attachments=(
            Attachment("report.xlsx", "application/octet-stream", b"PK\x03\x04"),
        ),
    )
    db.session.flush()
    assert smtp_server.messages == []
    db.session.commit()
    (message,) = smtp_server.messages
    assert message["To"] == "someone@trust.example"
    assert message["Subject"] == "Report"
    plain = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert plain.startswith("See attached\n\n-- \nNHS Northshire")
    html = message.get_body(("html",)).get_content()
    assert html.startswith("<p>See attached</p><hr>")
    assert "You are getting this email because a test needs it." in html
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == "report.xlsx"
    (kept,) = outbox()  # the outbox row records the delivery
    assert (kept.status, kept.attempts, kept.raw_message) == (MailStatus.SENT, 1, None)
    assert kept.sent_at is not None


def test_smtp_sends_nothing_after_rollback(smtp_server) -> None:
    send_mail("someone@trust.example", "Never", "Rolled back", reason="a test needs it")
    db.session.rollback()
    db.session.commit()
    assert smtp_server.messages == []


def test_unreachable_smtp_server_does_not_undo_the_work(app, outbox) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here once closed
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{port}"
    user = UserFactory.build()
    db.session.add(user)
    send_mail(
        "someone@trust.example", "Lost", "The server is down", reason="a test needs it"
    )
    db.session.commit()  # must not raise
    assert user.id is not None


def test_password_reset_arrives_by_real_smtp(smtp_server, client: FlaskClient) -> None:
    user = UserFactory()
    client.post("/forgot-password", data={"email": user.email})
    (message,) = smtp_server.messages
    assert message["To"] == user.email
    assert (
        "http://engage.test/set-password/" in message.get_body(("plain",)).get_content()
    )


def test_admin_reads_the_outbox(client: FlaskClient, login, cast, outbox) -> None:
    send_mail(
        "someone@trust.example",
        "Visible <subject>",
        "Body text",
        reason="a test needs it",
    )
    db.session.commit()
    login(cast["admin"])
    listing = client.get("/admin/outbox/")
    assert "Visible &lt;subject&gt;" in listing.get_data(as_text=True)
    message_id = outbox()[0].id
    detail = client.get(f"/admin/outbox/{message_id}")
    assert "Body text" in detail.get_data(as_text=True)
