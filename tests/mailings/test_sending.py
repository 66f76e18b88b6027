"""Sending mailings: batches, claims before hand-off, pause, resume, cancel, SMTP."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from engage.accounts.models import User
from engage.errors import Conflict
from engage.errors import ValidationError
from engage.extensions import db
from engage.mailings import sending
from engage.mailings import transports
from engage.mailings.models import Mailing
from engage.mailings.models import MailingRecipient
from engage.mailings.models import MailingStatus
from engage.mailings.models import RecipientStatus
from engage.mailings.models import Suppression
from engage.mailings.models import SuppressionReason
from engage.mailings.tokens import recipient_from_token
from engage.membership.consent import record_consents
from engage.membership.models import ConsentMethod
from engage.membership.models import ContactChannel
from engage.membership.models import MemberStatus
from jobs.mailings import send_mailings
from tests.mailings.helpers import T0
from tests.mailings.helpers import mailing
from tests.mailings.helpers import member


@pytest.fixture(autouse=True)
def _quick(app: Flask) -> None:
    app.config.update(MAILING_RATE=10_000, MAILING_RUN_SECONDS=20)


class Recorder:
    """A transport that keeps what it is handed (or fails as told)."""

    def __init__(self, fail: dict[str, transports.SendError] | None = None) -> None:
        self.sent: list[Any] = []
        self.fail = fail or {}
        self.on_send: Any = None

    def send_email(self, email: transports.OutgoingEmail) -> str:
        if self.on_send:
            self.on_send(email)
        if email.address in self.fail:
            raise self.fail[email.address]
        self.sent.append(email)
        return f"ref-{email.recipient_id}"

    send_text = send_email

    def close(self) -> None:
        pass


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch, app: Flask) -> Recorder:
    app.config["SMTP_URL"] = "smtp://127.0.0.1:9"  # set up, never reached
    made = Recorder()
    monkeypatch.setattr(transports, "open_transport", lambda channel: made)
    return made


def _statuses(m: Mailing) -> dict[str, str]:
    rows = db.session.execute(
        select(MailingRecipient.address, MailingRecipient.status).where(
            MailingRecipient.mailing_id == m.id
        )
    )
    return {address: status.value for address, status in rows}


def _officer() -> User:
    from tests.factories import UserFactory

    officer: User = UserFactory(role="officer")
    return officer


def test_never_withdrawn_unconsented_or_undeliverable(smtp_server: Any) -> None:
    """The acceptance case, through a real SMTP server (SQLite and PostgreSQL)."""
    member(email="yes@example.org")
    member(email="gone@example.org", status=MemberStatus.WITHDRAWN, withdrawn_at=T0)
    member(email="no@example.org", consents=[ContactChannel.POST])
    member(email="bad@example.org")
    db.session.add(
        Suppression(
            channel=ContactChannel.EMAIL,
            address="bad@example.org",
            reason=SuppressionReason.BOUNCED,
            recorded_at=T0,
        )
    )
    sent = mailing()
    sending.send_now(sent, actor=_officer(), now=T0)
    db.session.commit()
    counts = send_mailings(now=T0)
    assert counts["sent"] == 1
    assert [m["To"] for m in smtp_server.messages] == ["yes@example.org"]
    db.session.refresh(sent)
    assert sent.status is MailingStatus.SENT
    assert sent.finished_at is not None


def test_smtp_message_has_both_parts_and_one_click_headers(smtp_server: Any) -> None:
    member(email="reader@example.org")
    sent = mailing(body="# Hello\n\nA [link](https://example.org).")
    sending.send_now(sent, actor=_officer(), now=T0)
    db.session.commit()
    send_mailings(now=T0)
    (message,) = smtp_server.messages
    recipient = db.session.scalars(select(MailingRecipient)).one()
    url = message["List-Unsubscribe"].strip().strip("<>")
    assert recipient_from_token(url.rsplit("/", 2)[-2]).id == recipient.id
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Message-ID"] == recipient.provider_ref
    assert message["Subject"] == "Spring newsletter"
    kinds = [part.get_content_type() for part in message.walk()]
    assert "text/plain" in kinds
    assert "text/html" in kinds
    html = message.get_body(("html",)).get_content()
    # The subject is the email's one heading; the body's headings sit below it.
    assert ">Spring newsletter</h1>" in html
    assert ">Hello</h2>" in html
    text = message.get_body(("plain",)).get_content()
    assert "Hello" in text
    assert "(https://example.org)" in text
    assert url in text
    assert recipient.status is RecipientStatus.SENT


def test_batches_until_done_and_a_claimed_copy_is_never_resent(
    recorder: Recorder, app: Flask
) -> None:
    app.config["MAILING_BATCH_SIZE"] = 2
    for n in range(5):
        member(email=f"m{n}@example.org")
    sent = mailing()
    sending.send_now(sent, actor=_officer(), now=T0)
    # A sender died after claiming this copy: its outcome is not known.
    stuck = db.session.scalars(
        select(MailingRecipient).where(MailingRecipient.address == "m2@example.org")
    ).one()
    stuck.status = RecipientStatus.SENDING
    stuck.claimed_at = T0
    db.session.commit()
    counts = send_mailings(now=T0)
    assert counts["sent"] == 4
    assert sorted(e.address for e in recorder.sent) == [
        "m0@example.org",
        "m1@example.org",
        "m3@example.org",
        "m4@example.org",
    ]
    assert send_mailings(now=T0 + timedelta(minutes=1)).get("sent", 0) == 0
    progress = sending.progress(sent)
    assert (progress.total, progress.sent, progress.unknown) == (5, 4, 1)
    assert db.session.get(Mailing, sent.id).status is MailingStatus.SENT


def test_failures_temporary_permanent_and_unknown(
    recorder: Recorder, app: Flask
) -> None:
    app.config["MAILING_MAX_ATTEMPTS"] = 2
    for name in ("ok", "busy", "bad", "lost"):
        member(email=f"{name}@example.org")
    recorder.fail = {
        "busy@example.org": transports.TemporaryFailure("busy"),
        "bad@example.org": transports.PermanentFailure("no such mailbox"),
        "lost@example.org": transports.OutcomeUnknown("connection broke off"),
    }
    sent = mailing()
    sending.send_now(sent, actor=_officer(), now=T0)
    db.session.commit()
    send_mailings(now=T0)
    assert _statuses(sent) == {
        "ok@example.org": "sent",
        "busy@example.org": "pending",  # refused for now: waits before a retry
        "bad@example.org": "failed",
        "lost@example.org": "sending",  # handed over, outcome not known
    }
    busy = db.session.scalars(
        select(MailingRecipient).where(MailingRecipient.address == "busy@example.org")
    ).one()
    assert busy.retry_after is not None
    assert send_mailings(now=T0).get("retry", 0) == 0  # still waiting
    busy.retry_after = None  # as if the wait were over
    db.session.commit()
    send_mailings(now=T0)
    db.session.refresh(busy)
    assert (busy.status.value, busy.attempts, busy.outcome) == ("failed", 2, "busy")


def test_an_unreachable_mail_server_uses_up_no_tries(
    recorder: Recorder, app: Flask
) -> None:
    for name in ("a", "b", "c"):
        member(email=f"{name}@example.org")
    down = transports.ProviderUnavailable("Could not reach the mail server")
    recorder.fail = {f"{name}@example.org": down for name in ("a", "b", "c")}
    sent = mailing()
    sending.send_now(sent, actor=_officer(), now=T0)
    db.session.commit()
    counts = send_mailings(now=T0)
    assert counts["unavailable"] == 1  # the run stops at the first refusal
    assert set(_statuses(sent).values()) == {"pending"}
    db.session.refresh(sent)
    assert sent.status is MailingStatus.SENDING  # not given up, not "sent"
    rows = db.session.scalars(select(MailingRecipient)).all()
    assert {r.attempts for r in rows} == {0}


def test_pause_resume_cancel(recorder: Recorder) -> None:
    member(email="a@example.org")
    member(email="b@example.org")
    officer = _officer()
    sent = mailing()
    sending.send_now(sent, actor=officer, now=T0)
    sending.pause(sent, actor=officer, now=T0)
    db.session.commit()
    assert send_mailings(now=T0).get("sent", 0) == 0
    with pytest.raises(Conflict):
        sending.pause(sent, actor=officer, now=T0)
    sending.resume(sent, actor=officer, now=T0)
    db.session.commit()
    assert send_mailings(now=T0)["sent"] == 2

    other = mailing(subject="Another")
    sending.send_now(other, actor=officer, now=T0)
    assert sending.cancel(other, actor=officer, now=T0) == 2
    db.session.commit()
    assert send_mailings(now=T0).get("sent", 0) == 0
    assert set(_statuses(other).values()) == {"skipped"}
    with pytest.raises(Conflict):
        sending.resume(other, actor=officer, now=T0)


def test_unsubscribe_between_batches_takes_effect(
    recorder: Recorder, app: Flask
) -> None:
    app.config["MAILING_BATCH_SIZE"] = 1
    member(email="first@example.org")
    second = member(email="second@example.org")
    sent = mailing()
    sending.send_now(sent, actor=_officer(), now=T0)
    db.session.commit()

    def unsubscribe_second(email: transports.OutgoingEmail) -> None:
        if email.address == "first@example.org":
            record_consents(
                second,
                {ContactChannel.EMAIL: False},
                method=ConsentMethod.UNSUBSCRIBE,
                now=T0 + timedelta(seconds=1),
            )

    recorder.on_send = unsubscribe_second
    send_mailings(now=T0)
    assert [e.address for e in recorder.sent] == ["first@example.org"]
    skipped = db.session.scalars(
        select(MailingRecipient).where(MailingRecipient.member_id == second.id)
    ).one()
    assert skipped.status is RecipientStatus.SKIPPED
    assert skipped.outcome == "They have not agreed to emails"


def test_scheduled_mailing_starts_when_due(recorder: Recorder) -> None:
    member(email="a@example.org")
    officer = _officer()
    sent = mailing()
    with pytest.raises(ValidationError):
        sending.schedule(sent, T0 - timedelta(minutes=1), actor=officer, now=T0)
    sending.schedule(sent, T0 + timedelta(hours=1), actor=officer, now=T0)
    db.session.commit()
    assert send_mailings(now=T0 + timedelta(minutes=59)).get("started") == 0
    assert not recorder.sent
    counts = send_mailings(now=T0 + timedelta(hours=1))
    assert (counts["started"], counts["sent"]) == (1, 1)
    assert db.session.get(Mailing, sent.id).status is MailingStatus.SENT


def test_a_channel_without_a_provider_cannot_start(app: Flask) -> None:
    app.config["SMTP_URL"] = None
    sent = mailing()
    with pytest.raises(Conflict, match="No mail server"):
        sending.send_now(sent, actor=_officer(), now=T0)


def test_a_finished_send_logs_its_delivery_on_the_action_with_tracked_links(
    smtp_server: Any,
) -> None:
    from engage.actions.models import Activity
    from engage.organisation.models import Organisation
    from engage.organisation.services import set_mailing_tracking
    from tests.factories import ActionFactory

    officer = _officer()
    db.session.add(
        Organisation(id=1, name="NHS Northshire ICB", short_name="Northshire")
    )
    set_mailing_tracking(True, actor=officer, now=T0)
    action = ActionFactory(title="Members' newsletter")
    member(email="one@example.org")
    member(email="two@example.org")
    sent = mailing(
        action_id=action.id, body="Read [the plan](https://example.org/plan)."
    )
    sending.send_now(sent, actor=officer, now=T0)
    db.session.commit()
    send_mailings(now=T0)
    db.session.refresh(sent)
    assert sent.status is MailingStatus.SENT
    activity = db.session.get(Activity, sent.activity_id)
    assert activity is not None
    assert activity.action_id == action.id
    figures = {f.label: f.value for f in activity.figures}
    assert figures["sent"] == 2
    # With tracking on, each email's link is its recipient's counted link.
    html = smtp_server.messages[0].get_body(("html",)).get_content()
    assert "https://example.org/plan" not in html
    assert "/m/" in html


def test_each_copy_carries_its_own_unsubscribe_link(smtp_server: Any) -> None:
    member(email="one@example.org")
    member(email="two@example.org")
    sent = mailing()
    sending.send_now(sent, actor=_officer(), now=T0)
    db.session.commit()
    send_mailings(now=T0)
    first, second = smtp_server.messages
    links = [m["List-Unsubscribe"].strip().strip("<>") for m in (first, second)]
    assert links[0] != links[1]
    for message, own, other in ((first, *links), (second, *reversed(links))):
        for part in ("html", "plain"):
            body = message.get_body((part,)).get_content()
            assert own in body
            assert other not in body
            assert "engage.invalid" not in body


def test_a_member_who_changes_address_mid_send_gets_it_at_the_new_one(
    smtp_server: Any,
) -> None:
    moving = member(email="old@example.org")
    sent = mailing()
    sending.send_now(sent, actor=_officer(), now=T0)
    db.session.commit()
    moving.email = "New@Example.org"
    db.session.commit()
    send_mailings(now=T0)
    assert [m["To"] for m in smtp_server.messages] == ["new@example.org"]
    assert _statuses(sent) == {"new@example.org": "sent"}
