"""Mail service: the one way Engage sends e-mail.

``send_mail`` writes every message to the outbox table in the caller's transaction,
so nothing is lost and nothing is sent for work that was rolled back. Without
``SMTP_URL`` the message stays there for admins to read (a fresh install works with
no mail server). With it, the message is queued and delivered after the transaction
commits, by a background thread, so the request never waits for the mail server
(and known and unknown addresses take the same time: docs/security.md A7). Whoever sends
a message first claims it with a conditional UPDATE, so the thread and the
``deliver-mail`` job, which retries failures with back-off, never both send it.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from flask import Flask, current_app, has_app_context
from sqlalchemy import delete, event, func, inspect, or_, select, update
from sqlalchemy.orm import Session, SessionTransaction

from engage.clock import utcnow
from engage.extensions import db
from engage.mail.models import MailStatus, OutboxMessage

log = logging.getLogger(__name__)

_PENDING_KEY = "engage_pending_mail"
#: A claim older than this is taken to be from a sender that died mid-send.
STALE_CLAIM = timedelta(minutes=10)
#: Delay before retry n (1, 2, 4 … minutes), capped.
_FIRST_RETRY = timedelta(minutes=1)
_LONGEST_RETRY = timedelta(hours=4)

_threads: set[threading.Thread] = set()
_threads_lock = threading.Lock()


@dataclass(frozen=True)
class Attachment:
    """A file attached to an e-mail."""

    filename: str
    content_type: str
    data: bytes


def send_mail(
    to: str,
    subject: str,
    text: str,
    *,
    html: str | None = None,
    attachments: tuple[Attachment, ...] = (),
) -> None:
    """Write an e-mail to the outbox; with SMTP, it leaves once the caller commits."""
    config = current_app.config
    message = OutboxMessage(
        to_address=to,
        subject=subject,
        body_text=text,
        body_html=html,
        attachment_names=", ".join(a.filename for a in attachments)[:500],
        status=MailStatus.KEPT,
        attempts=0,
    )
    if config.get("SMTP_URL"):
        mime = build_message(config["MAIL_FROM"], to, subject, text, html, attachments)
        message.raw_message = mime.as_bytes()
        message.status = MailStatus.QUEUED
        message.next_attempt_at = utcnow()
        session = db.session()
        session.info.setdefault(_PENDING_KEY, []).append(message)
    db.session.add(message)


def build_message(
    sender: str,
    to: str,
    subject: str,
    text: str,
    html: str | None,
    attachments: tuple[Attachment, ...] = (),
) -> EmailMessage:
    """Build a MIME message with a plain-text body, optional HTML and attachments."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1].strip("> "))
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    for item in attachments:
        maintype, _, subtype = item.content_type.partition("/")
        message.add_attachment(
            item.data, maintype=maintype, subtype=subtype, filename=item.filename
        )
    return message


def absolute_url(endpoint: str, **values: object) -> str:
    """An absolute link for an e-mail, from BASE_URL (no request needed: e-mails are
    also written by jobs and by background threads, which have none)."""
    base = str(current_app.config["BASE_URL"]).rstrip("/")
    return base + current_app.url_map.bind("localhost").build(endpoint, values)


def list_outbox(limit: int = 200) -> list[OutboxMessage]:
    """The most recent outbox messages, newest first."""
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    return list(db.session.scalars(query))


def forget_address(address: str) -> int:
    """Delete every message to ``address``, queued or sent (erasure); how many."""
    result = db.session.execute(
        delete(OutboxMessage).where(
            func.lower(OutboxMessage.to_address) == address.strip().lower()
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


def deliver(smtp_url: str, message: EmailMessage | bytes, *, timeout: float) -> None:
    """Send one message through the SMTP server named by ``smtp_url``."""
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
    if isinstance(message, bytes):
        from email import message_from_bytes, policy

        message = message_from_bytes(message, policy=policy.SMTP)
    with client:
        if options.get("starttls", ["false"])[0].lower() in {"1", "true", "yes"}:
            client.starttls(context=context)
        if parts.username:
            client.login(unquote(parts.username), unquote(parts.password or ""))
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


def _deliver_in_background(app: Flask, message_ids: list[int]) -> None:
    with app.app_context():
        for message_id in message_ids:
            try:
                deliver_one(message_id)
            except Exception:  # the deliver-mail job will try again
                db.session.rollback()
                log.exception("mail delivery thread failed")
        db.session.remove()


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


@event.listens_for(Session, "after_commit")
def _send_after_commit(session: Session) -> None:
    pending: list[OutboxMessage] = session.info.pop(_PENDING_KEY, [])
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
        session.info.pop(_PENDING_KEY, None)
