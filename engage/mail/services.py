"""Mail service: the one way Engage sends email.

``send_mail`` writes every message to the outbox table in the caller's transaction,
so nothing is lost and nothing is sent for work that was rolled back; it never
commits. Without ``SMTP_URL`` the message stays there for admins to read (a fresh
install works with no mail server). With it, the message is queued, and once the
caller commits engage.mail.delivery sends it from a background thread, so the request
never waits for the mail server (and known and unknown addresses take the same time:
docs/security.md A7); the ``deliver-mail`` job retries failures with back-off.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

from flask import current_app
from markupsafe import escape
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select

from engage.clock import utcnow
from engage.extensions import db
from engage.mail.models import MailStatus
from engage.mail.models import OutboxMessage

#: The session's messages to send once it commits (engage.mail.delivery's hooks).
PENDING_MAIL_KEY = "engage_pending_mail"


@dataclass(frozen=True)
class Attachment:
    """A file attached to an email."""

    filename: str
    content_type: str
    data: bytes


def footer(reason: str) -> str:
    """The foot of every email: who sent it, how to reach them, and why it came."""
    from engage.organisation.services import identity

    org = identity()
    lines = ["-- ", org.name]
    if org.address_lines:
        lines.append(", ".join(org.address_lines))
    contact = " or ".join(way for way in (org.email, org.phone) if way)
    if contact:
        lines.append(f"Contact us: {contact}")
    lines.append(f"You are getting this email because {reason}.")
    lines.append(f"How we use your information: {absolute_url('organisation.privacy')}")
    return "\n".join(lines)


def send_mail(
    to: str,
    subject: str,
    text: str,
    *,
    reason: str,
    html: str | None = None,
    attachments: tuple[Attachment, ...] = (),
    footed: bool = False,
) -> None:
    """Write an email to the outbox; with SMTP, it leaves once the caller commits.

    Every email ends with the organisation's details and ``reason``, the words after
    "You are getting this email because"; ``footed`` says the text and HTML already
    end with them (a mailing, whose renderer writes its own footer).
    """
    config = current_app.config
    if not footed:
        foot = footer(reason)
        text = f"{text.rstrip()}\n\n{foot}\n"
        if html is not None:
            lines = "<br>".join(str(escape(line)) for line in foot.splitlines()[1:])
            html = f'{html}<hr><p style="font-size:14px;color:#4c6272">{lines}</p>'
    message = OutboxMessage(
        to_address=to,
        subject=subject,
        body_text=text,
        body_html=html,
        attachment_names=", ".join(a.filename for a in attachments)[:500],
        status=MailStatus.KEPT,
        attempts=0,
    )
    if mail_server_set_up():
        mime = build_message(config["MAIL_FROM"], to, subject, text, html, attachments)
        message.raw_message = mime.as_bytes()
        message.status = MailStatus.QUEUED
        message.next_attempt_at = utcnow()
        session = db.session()
        session.info.setdefault(PENDING_MAIL_KEY, []).append(message)
    db.session.add(message)


def mail_server_set_up() -> bool:
    """Whether emails leave (an SMTP server is set up), or are only kept in the
    outbox for administrators to read."""
    return bool(current_app.config.get("SMTP_URL"))


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
    """An absolute link for an email, from BASE_URL (no request needed: emails are
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
