"""Mail service: the one way Engage sends e-mail.

``send_mail`` never sends straight away. With ``SMTP_URL`` set, the message waits in
the session and goes out only after the transaction commits (nothing is sent for work
that was rolled back). Without it, the message is written to the outbox table in the
same transaction, so a fresh install works with no mail server.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app
from sqlalchemy import delete, event, func, select
from sqlalchemy.orm import Session, SessionTransaction

from engage.extensions import db
from engage.mail.models import OutboxMessage

log = logging.getLogger(__name__)

_PENDING_KEY = "engage_pending_mail"


@dataclass(frozen=True)
class Attachment:
    """A file attached to an e-mail."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class _Pending:
    smtp_url: str
    timeout: float
    message: EmailMessage = field(compare=False)


def send_mail(
    to: str,
    subject: str,
    text: str,
    *,
    html: str | None = None,
    attachments: tuple[Attachment, ...] = (),
) -> None:
    """Queue an e-mail to leave when the current transaction commits."""
    config = current_app.config
    if not config.get("SMTP_URL"):
        db.session.add(
            OutboxMessage(
                to_address=to,
                subject=subject,
                body_text=text,
                body_html=html,
                attachment_names=", ".join(a.filename for a in attachments)[:500],
            )
        )
        return
    message = build_message(config["MAIL_FROM"], to, subject, text, html, attachments)
    pending = _Pending(
        config["SMTP_URL"], float(config["SMTP_TIMEOUT_SECONDS"]), message
    )
    session = db.session()
    if not session.in_transaction():
        session.begin()  # so that a rollback is seen and discards the message
    session.info.setdefault(_PENDING_KEY, []).append(pending)


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


def list_outbox(limit: int = 200) -> list[OutboxMessage]:
    """The most recent outbox messages, newest first."""
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    return list(db.session.scalars(query))


def forget_address(address: str) -> int:
    """Delete every outbox message to ``address`` (erasure); return how many."""
    result = db.session.execute(
        delete(OutboxMessage).where(
            func.lower(OutboxMessage.to_address) == address.strip().lower()
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


def deliver(smtp_url: str, message: EmailMessage, *, timeout: float) -> None:
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
    with client:
        if options.get("starttls", ["false"])[0].lower() in {"1", "true", "yes"}:
            client.starttls(context=context)
        if parts.username:
            client.login(unquote(parts.username), unquote(parts.password or ""))
        client.send_message(message)


@event.listens_for(Session, "after_commit")
def _send_after_commit(session: Session) -> None:
    pending: list[_Pending] = session.info.pop(_PENDING_KEY, [])
    for item in pending:
        try:
            deliver(item.smtp_url, item.message, timeout=item.timeout)
        except (OSError, smtplib.SMTPException) as error:
            # The work is committed; a lost e-mail is logged (without the address).
            log.error(
                "mail delivery failed: %s %s",
                type(error).__name__,
                item.message["Message-ID"],
            )


@event.listens_for(Session, "after_soft_rollback")
def _discard_after_rollback(
    session: Session, previous_transaction: SessionTransaction
) -> None:
    if previous_transaction.parent is None:  # the whole unit of work, not a savepoint
        session.info.pop(_PENDING_KEY, None)
