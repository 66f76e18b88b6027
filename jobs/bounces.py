"""The read-bounces job: bounce and complaint reports read from a mailbox over IMAP.

An edge that owns its transactions: no transaction is open while the mail server is
talked to, and each report is filed and committed on its own (engage.mailings.bounces
does the filing), so a slow server holds no lock and a crash loses nothing. A report
filed is flagged seen and moved to the "Processed" folder; a message that is not a
report (or too large to read, or one whose filing failed) is flagged and left where
it is for a person to read, and later runs pass over it: one bad message never
stops the others. A report already filed (by its Message-ID) is not filed
again, so a run that died between the commit and the move does no harm.

``ENGAGE_BOUNCE_IMAP_URL`` names the mailbox: ``imap://user:password@host:143/INBOX``
or ``imaps://…:993/INBOX`` for TLS.
"""

from __future__ import annotations

import re
import ssl
from collections import Counter
from datetime import datetime
from urllib.parse import unquote
from urllib.parse import urlsplit

from flask import current_app
from imap_tools import AND
from imap_tools import BaseMailBox
from imap_tools import MailBox
from imap_tools import MailBoxUnencrypted
from imap_tools import MailMessageFlags

from engage.db import begin_write
from engage.extensions import db
from engage.mailings.bounces import file_message

PROCESSED_FOLDER = "Processed"
#: At most this many messages are read per run; the rest wait for the next.
MAX_MESSAGES = 200
#: Larger messages are not reports (a DSN quotes headers, or a short original).
MAX_BYTES = 1024 * 1024
TIMEOUT_SECONDS = 30.0

_SIZE = re.compile(rb"RFC822\.SIZE\s+(\d+)")


def connect(url: str, *, timeout: float) -> tuple[BaseMailBox, str]:
    """A logged-in mailbox for ``url`` and the folder it names (INBOX by default)."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    mailbox: BaseMailBox
    if parts.scheme == "imaps":
        mailbox = MailBox(
            host,
            parts.port or 993,
            timeout=timeout,
            ssl_context=ssl.create_default_context(),
        )
    elif parts.scheme == "imap":
        mailbox = MailBoxUnencrypted(host, parts.port or 143, timeout=timeout)
    else:
        raise ValueError(f"unsupported bounce mailbox URL scheme: {parts.scheme!r}")
    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    mailbox.login(unquote(parts.username or ""), unquote(parts.password or ""), folder)
    return mailbox, folder


def _size(mailbox: BaseMailBox, uid: str) -> int | None:
    status, data = mailbox.client.uid("FETCH", uid, "(RFC822.SIZE)")
    if status != "OK":
        return None
    for item in data:
        chunk = item[0] if isinstance(item, tuple) else item
        if isinstance(chunk, bytes):
            match = _SIZE.search(chunk)
            if match:
                return int(match.group(1))
    return None


def _raw(mailbox: BaseMailBox, uid: str) -> bytes | None:
    status, data = mailbox.client.uid("FETCH", uid, "(BODY.PEEK[])")
    if status != "OK":
        return None
    for item in data:
        if isinstance(item, tuple) and isinstance(item[1], bytes):
            return item[1]
    return None


def _file(raw: bytes, now: datetime) -> str | None:
    """File one report in its own committed transaction; None if it is not one."""
    session = db.session()
    if session.in_transaction():
        session.rollback()
    begin_write(session)
    try:
        outcome = file_message(raw, now=now)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return outcome


def read_bounces(now: datetime, *, limit: int | None = None) -> dict[str, int]:
    """Read new messages in the bounce mailbox and file the reports among them.

    Returns counts: ``read``, ``bounced``, ``complained``, ``failed``, ``soft``,
    ``unmatched``,
    ``duplicate``, ``not_reports`` (left, flagged), ``too_large`` (left, flagged)
    and ``unreadable`` (filing failed; left, flagged).
    """
    config = current_app.config
    url = config.get("BOUNCE_IMAP_URL")
    counts: Counter[str] = Counter()
    if not url:
        return _all_counts(counts)
    limit = limit or int(config.get("BOUNCE_MAX_MESSAGES") or MAX_MESSAGES)
    max_bytes = int(config.get("BOUNCE_MAX_BYTES") or MAX_BYTES)
    timeout = float(config.get("BOUNCE_IMAP_TIMEOUT_SECONDS") or TIMEOUT_SECONDS)
    processed = str(config.get("BOUNCE_PROCESSED_FOLDER") or PROCESSED_FOLDER)
    session = db.session()
    if not (session.new or session.dirty or session.deleted):
        session.rollback()  # no read snapshot held while the mail server answers
    mailbox, folder = connect(str(url), timeout=timeout)
    with mailbox:
        if not mailbox.folder.exists(processed):
            mailbox.folder.create(processed)
        mailbox.folder.set(folder)
        # Messages a person must look at are flagged; filed reports are moved away.
        uids = list(mailbox.uids(AND(flagged=False, deleted=False)))[:limit]
        for uid in uids:
            counts["read"] += 1
            size = _size(mailbox, uid)
            raw = None if size is None or size > max_bytes else _raw(mailbox, uid)
            if raw is None or len(raw) > max_bytes:
                counts["too_large"] += 1
                mailbox.flag(uid, MailMessageFlags.FLAGGED, True)
                continue
            try:
                outcome = _file(raw, now)
            except Exception:
                current_app.logger.exception(
                    "Bounce mailbox message %s could not be filed; flagged, left", uid
                )
                counts["unreadable"] += 1
                mailbox.flag(uid, MailMessageFlags.FLAGGED, True)
                continue
            if outcome is None:
                counts["not_reports"] += 1
                mailbox.flag(uid, MailMessageFlags.FLAGGED, True)
                continue
            counts[outcome] += 1
            mailbox.flag(uid, MailMessageFlags.SEEN, True)
            mailbox.move(uid, processed)
    return _all_counts(counts)


def _all_counts(counts: Counter[str]) -> dict[str, int]:
    names = (
        "read",
        "bounced",
        "complained",
        "failed",
        "soft",
        "unmatched",
        "duplicate",
        "not_reports",
        "too_large",
        "unreadable",
    )
    return {name: int(counts[name]) for name in names}
