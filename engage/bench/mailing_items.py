"""The mailing benchmarks: preparing a send to every member, and delivering copies.

Each is measured against a baseline in the same run: preparing against one bare
``INSERT ... SELECT`` of as many rows (both rolled back), with the prepare call's
peak memory (tracemalloc); delivering through the real send-mailings path to an
aiosmtpd sink on loopback against a bare smtplib loop to the same sink, and through
GOV.UK Notify's client to the fake Notify server against bare HTTP POSTs, each with
a fresh JWT as the client makes. aiosmtpd is a development dependency, imported only
here, when run.
"""

from __future__ import annotations

import smtplib
import socket
import time
import tracemalloc
import uuid
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage

from flask import current_app
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy import update

from engage.bench.fake_notify import FakeNotify
from engage.bench.table import Result
from engage.bench.timing import ms
from engage.bench.timing import timings
from engage.clock import utcnow
from engage.extensions import db
from engage.mailings import recipients
from engage.mailings import sending
from engage.mailings import transports
from engage.mailings.models import Mailing
from engage.mailings.models import MailingRecipient
from engage.mailings.models import MailingStatus
from engage.mailings.models import RecipientStatus

#: Copies delivered by each delivery item (fewer when the data set has fewer).
DELIVERIES = 1000
#: Targets: preparing (ms, MB) and delivering (messages a second).
PREPARE_TARGET_MS = 10_000
PREPARE_TARGET_MB = 300
DELIVERY_TARGET = 100

#: The baseline for preparing: the same number of rows in one INSERT ... SELECT.
BARE_INSERT_SQL = """
INSERT INTO mailing_recipients
  (mailing_id, channel, member_id, address, status, attempts, outcome)
SELECT :mailing_id, 'email', id, lower(email), 'pending', 0, '' FROM members
WHERE email IS NOT NULL ORDER BY id LIMIT :rows
"""


def _new_mailing(subject: str) -> Mailing:
    mailing = Mailing(
        subject=subject,
        body="# Newsletter\n\nNews for members, with a [link](https://example.org/).",
        by_email=True,
        to_members=True,
    )
    db.session.add(mailing)
    db.session.commit()
    return mailing


def _drop(mailing_id: int) -> None:
    db.session.rollback()
    db.session.execute(
        delete(MailingRecipient).where(MailingRecipient.mailing_id == mailing_id)
    )
    db.session.execute(delete(Mailing).where(Mailing.id == mailing_id))
    db.session.commit()


def prepare_result(*, runs: int, warmup: int) -> Result:
    """Record a send to every member by email (rolled back), against a bare insert."""
    mailing = _new_mailing("Bench: a send to every member")
    mailing_id = mailing.id
    now = utcnow()
    added: list[int] = []

    def prepare() -> None:
        try:
            added.append(recipients.prepare(mailing, now))
        finally:
            db.session.rollback()

    def baseline() -> None:
        try:
            db.session.execute(
                text(BARE_INSERT_SQL), {"mailing_id": mailing_id, "rows": added[-1]}
            )
        finally:
            db.session.rollback()

    try:
        runs, warmup = min(runs, 5), min(warmup, 1)
        median, p95 = timings(prepare, runs=runs, warmup=warmup)
        base, _ = timings(baseline, runs=runs, warmup=warmup)
        tracemalloc.start()
        try:
            prepare()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    finally:
        _drop(mailing_id)
    peak_mb = peak / 1_000_000
    return Result(
        f"prepare a send to all members ({added[-1]:,} copies)",
        ms(median),
        ms(p95),
        ms(base),
        f"{median / base:.1f}×" if base else "–",
        f"≤ {PREPARE_TARGET_MS:g} ms, < {PREPARE_TARGET_MB} MB",
        median <= PREPARE_TARGET_MS and peak_mb < PREPARE_TARGET_MB,
        f"peak memory {peak_mb:.1f} MB (tracemalloc peak of one prepare call); "
        "baseline: one bare INSERT ... SELECT of as many rows; both rolled back",
    )


def _mailing_with_copies(subject: str, limit: int) -> tuple[int, int]:
    """A mailing being sent to at most ``limit`` members: (its id, its copies)."""
    mailing = _new_mailing(subject)
    recipients.prepare(mailing, utcnow())
    keep = select(MailingRecipient.id).where(MailingRecipient.mailing_id == mailing.id)
    cutoff = db.session.scalar(
        keep.order_by(MailingRecipient.id).offset(limit - 1).limit(1)
    )
    if cutoff is not None:
        db.session.execute(
            update(MailingRecipient)
            .where(
                MailingRecipient.mailing_id == mailing.id,
                MailingRecipient.id > cutoff,
            )
            .values(status=RecipientStatus.SKIPPED)
            .execution_options(synchronize_session=False)
        )
    mailing.status = MailingStatus.SENDING
    mailing.started_at = utcnow()
    db.session.commit()
    copies = db.session.scalar(
        select(func.count())
        .select_from(MailingRecipient)
        .where(
            MailingRecipient.mailing_id == mailing.id,
            MailingRecipient.status == RecipientStatus.PENDING,
        )
    )
    return mailing.id, int(copies or 0)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _send(mailing_id: int) -> tuple[int, float]:
    """Send the mailing through the send-mailings job's path: (sent, seconds)."""
    from jobs.mailings import send_mailing  # jobs/ builds on engage/: imported here

    started = time.perf_counter()
    counts = send_mailing(mailing_id, deadline=time.monotonic() + 600)
    return counts.get("sent", 0), time.perf_counter() - started


def _rate_result(
    name: str, sent: int, seconds: float, base_sent: int, base_seconds: float, note: str
) -> Result:
    rate = sent / seconds if seconds else 0.0
    base_rate = base_sent / base_seconds if base_seconds else 0.0
    return Result(
        name,
        f"{rate:,.0f} msg/s",
        "–",
        f"{base_rate:,.0f} msg/s",
        f"{base_rate / rate:.1f}×" if rate else "–",
        f"≥ {DELIVERY_TARGET} msg/s",
        rate >= DELIVERY_TARGET,
        note,
    )


@contextmanager
def _config(**values: object) -> Iterator[None]:
    saved = {key: current_app.config.get(key) for key in values}
    current_app.config.update(values)
    try:
        yield
    finally:
        current_app.config.update(saved)


def smtp_result(*, runs: int = 1, warmup: int = 0) -> Result:
    """The real sending path to an aiosmtpd sink, against a bare smtplib loop.

    Run once (``runs`` and ``warmup`` are for the timed items): each copy is sent once.
    """
    name = "deliver to a local SMTP sink"
    try:
        from aiosmtpd.controller import Controller
    except ImportError:
        return Result(
            name,
            "–",
            "–",
            "–",
            "–",
            f"≥ {DELIVERY_TARGET} msg/s",
            None,
            "not run: aiosmtpd (a development dependency) is not installed",
        )

    class Sink:
        received = 0

        async def handle_DATA(self, *args: object) -> str:  # noqa: N802
            Sink.received += 1
            return "250 OK"

    port = _free_port()
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        mailing_id, copies = _mailing_with_copies("Bench: SMTP delivery", DELIVERIES)
        try:
            with _config(
                SMTP_URL=f"smtp://127.0.0.1:{port}",
                MAILING_EMAIL_TRANSPORT="smtp",
                MAILING_RATE=1_000_000,
                MAILING_RUN_SECONDS=600,
            ):
                sent, seconds = _send(mailing_id)
                sample = _sample_message(mailing_id)
            accepted = Sink.received
        finally:
            _drop(mailing_id)
        started = time.perf_counter()
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
            for number in range(copies):
                del sample["To"]
                sample["To"] = f"member{number}@bench-members.example"
                client.send_message(sample)
        base_seconds = time.perf_counter() - started
    finally:
        controller.stop()
    return _rate_result(
        f"{name} ({sent:,} messages)",
        sent,
        seconds,
        copies,
        base_seconds,
        f"{accepted:,} accepted by the sink; baseline: a bare smtplib loop "
        "sending as many copies of one rendered message over one connection",
    )


def _sample_message(mailing_id: int) -> EmailMessage:
    """One copy of the mailing as the SMTP transport builds it (for the baseline)."""
    from engage.mail.services import build_message

    mailing = db.session.get(Mailing, mailing_id)
    recipient = db.session.scalar(
        select(MailingRecipient).where(MailingRecipient.mailing_id == mailing_id)
    )
    if mailing is None or recipient is None:
        raise RuntimeError("the bench mailing has no copies")
    copy = sending.outgoing(mailing, recipient, message_id="<bench@localhost>")
    if not isinstance(copy, transports.OutgoingEmail):
        raise RuntimeError("the bench mailing's copy is not an email")
    message = build_message(
        str(current_app.config["MAIL_FROM"]),
        copy.address,
        copy.subject,
        copy.text,
        copy.html,
    )
    return message


def notify_result(*, runs: int = 1, warmup: int = 0) -> Result:
    """GOV.UK Notify's client to the fake Notify server, against bare HTTP POSTs.

    Run once, as ``smtp_result``.
    """
    import requests
    from notifications_python_client.authentication import create_jwt_token

    fake = FakeNotify()
    fake.start()
    template_id = str(uuid.uuid4())
    try:
        mailing_id, copies = _mailing_with_copies("Bench: Notify delivery", DELIVERIES)
        try:
            with _config(
                MAILING_EMAIL_TRANSPORT="notify",
                NOTIFY_API_KEY=fake.api_key,
                NOTIFY_BASE_URL=fake.base_url,
                NOTIFY_EMAIL_TEMPLATE_ID=template_id,
                MAILING_RATE=1_000_000,
                MAILING_RUN_SECONDS=600,
            ):
                sent, seconds = _send(mailing_id)
                body = fake.received[-1]["body"] if fake.received else {}
        finally:
            _drop(mailing_id)
        started = time.perf_counter()
        with requests.Session() as session:
            for number in range(copies):
                # A token each request, as Notify's client makes them.
                token = create_jwt_token(fake.secret, fake.service_id)  # type: ignore[no-untyped-call]
                headers = {
                    "Content-type": "application/json",
                    "Authorization": f"Bearer {token}",
                }
                answer = session.post(
                    f"{fake.base_url}/v2/notifications/email",
                    json={**body, "reference": f"bench-{number}"},
                    headers=headers,
                    timeout=30,
                )
                answer.raise_for_status()
        base_seconds = time.perf_counter() - started
    finally:
        fake.stop()
    return _rate_result(
        f"deliver to the fake Notify server ({sent:,} messages)",
        sent,
        seconds,
        copies,
        base_seconds,
        "baseline: bare HTTP POSTs of the same body, each with a fresh JWT, over one "
        "keep-alive session",
    )


#: The mailing items, in table order (each makes one line of the table).
MAILING_ITEMS: list[tuple[str, Callable[..., Result]]] = [
    ("prepare a send to all members", prepare_result),
    ("deliver to a local SMTP sink", smtp_result),
    ("deliver to the fake Notify server", notify_result),
]
