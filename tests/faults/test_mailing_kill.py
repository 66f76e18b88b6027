"""F6: kill -9 the sending process three times during a 5,000-recipient send.

The send-mailings job runs as its own process (``flask run-job send-mailings``)
against an aiosmtpd sink or the fake GOV.UK Notify server on loopback, each of which
records every message it accepted. The process is killed with SIGKILL three times
at different points of the send, started again each time, then run to the end.

Over SMTP a copy killed mid-hand-off is left "handed over, outcome not known" and
never sent again (at most once): at most one such copy per kill, none received
twice, every other consenting member exactly one. Over Notify those copies are
looked up by their reference (engage.mailings.reconcile), so every consenting
member gets exactly one.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Callable
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine
from sqlalchemy import insert
from sqlalchemy import select

from engage.bench.fake_notify import FakeNotify
from engage.clock import utcnow
from engage.mailings.models import Mailing
from engage.mailings.models import MailingRecipient
from engage.mailings.models import MailingStatus
from engage.mailings.models import RecipientStatus
from engage.membership.models import ConsentMethod
from engage.membership.models import ConsentRecord
from engage.membership.models import ContactChannel
from engage.membership.models import Member
from engage.membership.models import MemberStatus
from engage.membership.models import Tier
from tests.faults.conftest import ROOT
from tests.faults.conftest import VENV_BIN
from tests.faults.conftest import Database
from tests.faults.conftest import Report
from tests.faults.conftest import env_number
from tests.faults.conftest import free_port
from tests.faults.conftest import server_env

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

#: Consenting members sent the mailing (``ENGAGE_FAULT_MAILING_RECIPIENTS``).
RECIPIENTS = int(env_number("ENGAGE_FAULT_MAILING_RECIPIENTS", 5000))
#: Members who must get nothing: no email consent, and withdrawn.
LEFT_OUT = 100
#: Kill the sender once the sink has had this share of the send.
KILL_AT = (0.15, 0.45, 0.75)


#: What a loopback server accepted so far: (recipient address, message id) each.
Accepted = Callable[[], list[tuple[str, str]]]


class _SinkHandler:
    """An aiosmtpd handler recording each message's recipient and Message-ID."""

    def __init__(self) -> None:
        self.accepted: list[tuple[str, str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        from email import message_from_bytes
        from email import policy

        message = message_from_bytes(envelope.content, policy=policy.default)
        for address in envelope.rcpt_tos:
            self.accepted.append((address.lower(), str(message["Message-ID"])))
        return "250 Message accepted for delivery"


@contextlib.contextmanager
def smtp_sink() -> Iterator[tuple[Accepted, dict[str, str]]]:
    from aiosmtpd.controller import Controller

    handler = _SinkHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield (
            lambda: list(handler.accepted),
            {"ENGAGE_SMTP_URL": f"smtp://127.0.0.1:{port}"},
        )
    finally:
        controller.stop()


@contextlib.contextmanager
def notify_sink() -> Iterator[tuple[Accepted, dict[str, str]]]:
    fake = FakeNotify()
    fake.start()

    def accepted() -> list[tuple[str, str]]:
        return [(r["body"]["email_address"], r["id"]) for r in list(fake.received)]

    try:
        yield (
            accepted,
            {
                "ENGAGE_MAILING_EMAIL_TRANSPORT": "notify",
                "ENGAGE_NOTIFY_API_KEY": fake.api_key,
                "ENGAGE_NOTIFY_BASE_URL": fake.base_url,
                "ENGAGE_NOTIFY_EMAIL_TEMPLATE_ID": str(uuid.uuid4()),
            },
        )
    finally:
        fake.stop()


def _setup(url: str) -> int:
    """Bulk-insert the members (most consenting to email) and a mailing due now."""
    engine = create_engine(url)
    now = utcnow()
    tag = uuid.uuid4().hex[:8]
    total = RECIPIENTS + LEFT_OUT
    members = [
        {
            "name": f"Member {i}",
            "email": f"m{i}-{tag}@kill.example",
            "tier": Tier.SILVER,
            "status": MemberStatus.WITHDRAWN
            if i >= RECIPIENTS + LEFT_OUT // 2
            else MemberStatus.ACTIVE,
            "joined_by": ConsentMethod.WEB_FORM,
            "is_champion": False,
            "created_at": now - timedelta(days=30),
            "updated_at": now - timedelta(days=30),
            "confirmed_at": now - timedelta(days=30),
        }
        for i in range(total)
    ]
    with engine.begin() as conn:
        conn.execute(insert(Member.__table__), members)
        ids = dict(
            conn.execute(
                select(Member.email, Member.id).where(Member.email.like(f"%-{tag}@%"))
            ).all()
        )
        consenting = [ids[f"m{i}-{tag}@kill.example"] for i in range(RECIPIENTS)]
        withdrawn = [
            ids[f"m{i}-{tag}@kill.example"]
            for i in range(RECIPIENTS + LEFT_OUT // 2, total)
        ]
        conn.execute(
            insert(ConsentRecord.__table__),
            [
                {
                    "member_id": member_id,
                    "channel": ContactChannel.EMAIL,
                    "granted": True,
                    "method": ConsentMethod.WEB_FORM,
                    "wording_version": "fault test",
                    "recorded_at": now - timedelta(days=30),
                }
                for member_id in consenting + withdrawn
            ],
        )
        mailing_id = conn.execute(
            insert(Mailing.__table__)
            .values(
                subject="Kill test newsletter",
                body="# News\n\nA [link](https://example.org/news) for members.",
                status=MailingStatus.SCHEDULED,
                scheduled_for=now - timedelta(minutes=1),
                by_email=True,
                by_sms=False,
                by_post=False,
                to_members=True,
            )
            .returning(Mailing.__table__.c.id)
        ).scalar_one()
    engine.dispose()
    return int(mailing_id)


def _copies(url: str, mailing_id: int) -> dict[str, tuple[RecipientStatus, str | None]]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                MailingRecipient.address,
                MailingRecipient.status,
                MailingRecipient.provider_ref,
            ).where(MailingRecipient.mailing_id == mailing_id)
        ).all()
        status = conn.scalar(select(Mailing.status).where(Mailing.id == mailing_id))
    engine.dispose()
    found = {str(a): (RecipientStatus(s), r) for a, s, r in rows}
    found["__mailing__"] = (RecipientStatus.SENT, str(status))
    return found


def _start_sender(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(  # noqa: S603 - our fixed flask command
            [str(VENV_BIN / "flask"), "--app", "wsgi", "run-job", "send-mailings"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _kill(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


@pytest.mark.parametrize("provider", ["smtp", "notify"])
def test_sender_killed_three_times_sends_each_copy_once(
    provider: str, database: Database, tmp_path: Path, report: Report
) -> None:
    mailing_id = _setup(database.url)
    log = tmp_path / "sender.log"
    sink_of = smtp_sink if provider == "smtp" else notify_sink
    with sink_of() as (accepted, provider_env):
        env = server_env(
            database.url,
            ENGAGE_MAILING_RATE="100000",
            ENGAGE_MAILING_RUN_SECONDS="600",
            ENGAGE_MAILING_LOOKUP_AFTER_SECONDS="1",
            ENGAGE_LOG_LEVEL="ERROR",
            **provider_env,
        )
        started = time.monotonic()
        kills: list[int] = []
        running: list[subprocess.Popen[bytes]] = []
        try:
            for share in KILL_AT:
                process = _start_sender(env, log)
                running.append(process)
                target = int(RECIPIENTS * share)
                deadline = time.monotonic() + 300
                while len(accepted()) < target and process.poll() is None:
                    assert time.monotonic() < deadline, log.read_text()[-3000:]
                    time.sleep(0.005)
                assert process.poll() is None, log.read_text()[-3000:]
                _kill(process)
                kills.append(len(accepted()))
            # Run to the end (copies handed to Notify are looked up a second on).
            for _ in range(10):
                process = _start_sender(env, log)
                running.append(process)
                assert process.wait(timeout=600) == 0, log.read_text()[-3000:]
                copies = _copies(database.url, mailing_id)
                if copies.pop("__mailing__")[1] == MailingStatus.SENT.value:
                    break
                time.sleep(1)
        finally:
            for process in running:
                _kill(process)
        seconds = time.monotonic() - started
        messages = accepted()

    received = Counter(address for address, _ in messages)
    message_ids = dict(messages)
    unknown = {a for a, (s, _) in copies.items() if s is RecipientStatus.SENDING}
    sent = {a for a, (s, _) in copies.items() if s is RecipientStatus.SENT}
    twice = {a for a, n in received.items() if n > 1}
    report(
        engine=database.kind,
        provider=provider,
        recipients=len(copies),
        kills_after_messages=kills,
        messages=len(messages),
        received_twice=len(twice),
        outcome_unknown=len(unknown),
        unknown_received=sum(1 for a in unknown if received[a]),
        seconds=round(seconds, 1),
    )
    assert len(copies) == RECIPIENTS, "only the consenting active members"
    assert not twice
    assert set(received) <= set(copies), "nobody outside the mailing got it"
    assert sent | unknown == set(copies)
    for address in sent:
        assert received[address] == 1, address
        assert copies[address][1] == message_ids[address]
    if provider == "smtp":
        assert len(unknown) <= len(KILL_AT)
        assert all(received[a] <= 1 for a in unknown)
    else:
        assert not unknown, "Notify's copies are all looked up"
        assert len(received) == RECIPIENTS
