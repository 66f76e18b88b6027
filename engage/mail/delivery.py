"""Mail delivery: an edge, run after the request's commit, that owns its transactions.

``send_mail`` (engage.mail.services) writes a message to the outbox in the caller's
transaction, and ``request_mail`` (engage.mail.requests) records an email asked for
by address; neither commits. What happens after the caller commits is here, outside
any request: the session hooks below start a background thread once the caller's
transaction commits (and forget the work on a rollback), and the ``deliver-mail``
job (``prepare_and_deliver``) catches up on whatever the thread did not finish. Like
the job runner, this code commits: each requested email is prepared, and each
message claimed, sent and marked, in its own short transaction, so a slow mail server
holds no lock and a crash loses nothing.

Whoever sends a message first claims it with a conditional UPDATE, so the thread and
the job never both send it; failures are retried with back-off (docs/security.md F7).
Requested emails are prepared after the response, so known and unknown addresses
cost the request the same (docs/security.md A8).
"""

from __future__ import annotations

import importlib
import logging
import smtplib
import ssl
import threading
import time
from collections.abc import Callable
from datetime import datetime
from datetime import timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import unquote
from urllib.parse import urlsplit

from flask import Flask
from flask import current_app
from flask import has_app_context
from sqlalchemy import delete
from sqlalchemy import event
from sqlalchemy import inspect
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlalchemy.orm import SessionTransaction

from engage.clock import utcnow
from engage.extensions import db
from engage.mail.models import MailRequest
from engage.mail.models import MailStatus
from engage.mail.models import OutboxMessage
from engage.mail.requests import HANDLERS
from engage.mail.requests import PENDING_REQUESTS_KEY
from engage.mail.services import PENDING_MAIL_KEY

log = logging.getLogger(__name__)

#: A claim older than this is taken to be from a sender that died mid-send.
STALE_CLAIM = timedelta(minutes=10)
#: Delay before retry n (1, 2, 4 … minutes), capped.
_FIRST_RETRY = timedelta(minutes=1)
_LONGEST_RETRY = timedelta(hours=4)

_threads: set[threading.Thread] = set()
_threads_lock = threading.Lock()


# Sending ---------------------------------------------------------------------------


def connect(smtp_url: str, *, timeout: float) -> smtplib.SMTP:
    """An open SMTP connection to the server named by ``smtp_url``, ready to send
    (STARTTLS and login done); the caller closes it (``with`` or ``quit``)."""
    parts = urlsplit(smtp_url)
    options = parse_qs(parts.query)
    host = parts.hostname or "localhost"
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if parts.scheme == "smtps":
        client = smtplib.SMTP_SSL(
            host, parts.port or 465, timeout=timeout, context=context
        )
    elif parts.scheme == "smtp":
        client = smtplib.SMTP(host, parts.port or 25, timeout=timeout)
    else:
        raise ValueError(f"unsupported mail URL scheme: {parts.scheme!r}")
    try:
        if options.get("starttls", ["false"])[0].lower() in {"1", "true", "yes"}:
            client.starttls(context=context)
        if parts.username:
            client.login(unquote(parts.username), unquote(parts.password or ""))
    except BaseException:
        client.close()
        raise
    return client


def deliver(smtp_url: str, message: EmailMessage | bytes, *, timeout: float) -> None:
    """Send one message through the SMTP server named by ``smtp_url``."""
    if isinstance(message, bytes):
        from email import message_from_bytes
        from email import policy

        message = message_from_bytes(message, policy=policy.SMTP)
    with connect(smtp_url, timeout=timeout) as client:
        client.send_message(message)


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt."""
    delay: timedelta = _FIRST_RETRY * (2 ** max(attempts - 1, 0))
    return min(delay, _LONGEST_RETRY)


def _claim(message_id: int, now: datetime) -> bool:
    """Take a due message for sending; False if someone else has it (or it is done)."""
    result = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.status.in_([MailStatus.QUEUED, MailStatus.FAILED]),
            OutboxMessage.next_attempt_at.is_not(None),
            OutboxMessage.next_attempt_at <= now,
        )
        .values(
            status=MailStatus.SENDING,
            claimed_at=now,
            attempts=OutboxMessage.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return int(getattr(result, "rowcount", 0) or 0) == 1


def deliver_one(message_id: int, *, now: datetime | None = None) -> bool | None:
    """Claim and send one message: True sent, False failed, None not ours to send."""
    now = now or utcnow()
    config = current_app.config
    if not config.get("SMTP_URL") or not _claim(message_id, now):
        return None
    raw, attempts = db.session.execute(
        select(OutboxMessage.raw_message, OutboxMessage.attempts).where(
            OutboxMessage.id == message_id
        )
    ).one()
    db.session.commit()
    try:
        if raw is None:
            raise ValueError("message has no content to send")
        deliver(config["SMTP_URL"], raw, timeout=float(config["SMTP_TIMEOUT_SECONDS"]))
    except (OSError, ValueError, smtplib.SMTPException) as error:
        code = getattr(error, "smtp_code", None)
        # Only the error class and code: server replies can quote the address.
        reason = type(error).__name__ + (f" {code}" if code else "")
        gave_up = attempts >= int(config["MAIL_MAX_ATTEMPTS"])
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .values(
                status=MailStatus.FAILED,
                last_error=reason[:200],
                next_attempt_at=None if gave_up else utcnow() + retry_delay(attempts),
            )
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        log.error(
            "mail delivery failed: message %s attempt %s: %s",
            message_id,
            attempts,
            reason,
        )
        return False
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(
            status=MailStatus.SENT,
            sent_at=utcnow(),
            last_error=None,
            next_attempt_at=None,
            raw_message=None,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return True


def deliver_queued(*, now: datetime) -> dict[str, int]:
    """Send every queued or failed message that is due (the ``deliver-mail`` job).

    Each message is claimed, sent and marked in its own short transaction, so a slow
    server holds no lock and a crash loses nothing (a claim older than
    ``STALE_CLAIM`` is released and tried again).
    """
    counts = {"sent": 0, "failed": 0}
    if not current_app.config.get("SMTP_URL"):
        return counts
    db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status == MailStatus.SENDING,
            OutboxMessage.claimed_at < now - STALE_CLAIM,
        )
        .values(status=MailStatus.FAILED, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    due = list(
        db.session.scalars(
            select(OutboxMessage.id)
            .where(
                or_(
                    OutboxMessage.status == MailStatus.QUEUED,
                    OutboxMessage.status == MailStatus.FAILED,
                ),
                OutboxMessage.next_attempt_at <= now,
            )
            .order_by(OutboxMessage.id)
        )
    )
    db.session.commit()
    for message_id in due:
        outcome = deliver_one(message_id, now=now)
        if outcome is True:
            counts["sent"] += 1
        elif outcome is False:
            counts["failed"] += 1
    return counts


# Emails asked for by address ------------------------------------------------------


def _handler(kind: str) -> Callable[..., Any]:
    module, _, name = HANDLERS[kind].partition(":")
    handler: Callable[..., Any] = getattr(importlib.import_module(module), name)
    return handler


def prepare_request(request_id: int, *, now: datetime) -> bool:
    """Claim one request and let its service write the email; False if taken.

    The claim (deleting the row) and the service's writes commit together, so a
    failure leaves the request for the next try and two workers never both send.
    """
    claimed = db.session.execute(
        delete(MailRequest)
        .where(MailRequest.id == request_id)
        .returning(MailRequest.kind, MailRequest.address)
    ).first()
    if claimed is None:
        db.session.rollback()
        return False
    _handler(claimed.kind)(claimed.address, now=now)
    db.session.commit()
    return True


def prepare_requested(*, now: datetime) -> int:
    """Prepare every request still waiting (the ``deliver-mail`` job); how many."""
    waiting = list(db.session.scalars(select(MailRequest.id).order_by(MailRequest.id)))
    db.session.commit()
    return sum(prepare_request(request_id, now=now) for request_id in waiting)


def prepare_and_deliver(*, now: datetime) -> dict[str, int]:
    """Prepare requested emails, then send those due (the ``deliver-mail`` job)."""
    prepared = prepare_requested(now=now)
    return {"prepared": prepared, **deliver_queued(now=now)}


# Background threads, started after each commit ---------------------------------------


def track_thread(thread: threading.Thread) -> None:
    """Start a background mail thread that ``wait_for_deliveries`` waits for."""
    target = thread.run

    def run() -> None:
        try:
            target()
        finally:
            with _threads_lock:
                _threads.discard(thread)

    thread.run = run  # type: ignore[method-assign]
    with _threads_lock:
        _threads.add(thread)
    thread.start()


def wait_for_deliveries(timeout: float = 30.0) -> bool:
    """Wait for the background mail threads, and those they start; False if some
    still run after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        with _threads_lock:
            running = list(_threads)  # each leaves the set when it ends
        if not running:
            return True
        if time.monotonic() >= deadline:
            return False
        for thread in running:
            if thread.ident is None:  # added, about to start
                time.sleep(0.001)
            else:
                thread.join(max(deadline - time.monotonic(), 0))


def _deliver_in_background(app: Flask, message_ids: list[int]) -> None:
    with app.app_context():
        for message_id in message_ids:
            try:
                deliver_one(message_id)
            except Exception:  # the deliver-mail job will try again
                db.session.rollback()
                log.exception("mail delivery thread failed")
        db.session.remove()


def _prepare_in_background(app: Flask, request_ids: list[int]) -> None:
    with app.app_context():
        for request_id in request_ids:
            try:
                prepare_request(request_id, now=utcnow())
            except Exception:  # the deliver-mail job will try again
                db.session.rollback()
                log.exception("preparing a requested email failed")
        db.session.remove()


@event.listens_for(Session, "after_commit")
def _send_after_commit(session: Session) -> None:
    pending: list[OutboxMessage] = session.info.pop(PENDING_MAIL_KEY, [])
    ids = []
    for message in pending:
        identity: tuple[Any, ...] | None = inspect(message).identity
        if identity is not None:
            ids.append(int(identity[0]))
    if not ids or not has_app_context():
        return  # without an app the deliver-mail job sends them
    track_thread(
        threading.Thread(
            target=_deliver_in_background,
            args=(current_app._get_current_object(), ids),  # type: ignore[attr-defined]
            name="engage-mail",
        )
    )


@event.listens_for(Session, "after_soft_rollback")
def _discard_after_rollback(
    session: Session, previous_transaction: SessionTransaction
) -> None:
    if previous_transaction.parent is None:  # the whole unit of work, not a savepoint
        session.info.pop(PENDING_MAIL_KEY, None)


@event.listens_for(Session, "after_commit")
def _prepare_after_commit(session: Session) -> None:
    pending: list[MailRequest] = session.info.pop(PENDING_REQUESTS_KEY, [])
    ids = [r.id for r in pending if r.id is not None]
    if not ids or not has_app_context():
        return  # without an app the deliver-mail job prepares them
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    track_thread(
        threading.Thread(
            target=_prepare_in_background, args=(app, ids), name="engage-mail-request"
        )
    )


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_rollback(
    session: Session, previous_transaction: SessionTransaction
) -> None:
    if previous_transaction.parent is None:  # the whole unit of work, not a savepoint
        session.info.pop(PENDING_REQUESTS_KEY, None)
