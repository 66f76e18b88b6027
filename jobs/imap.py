"""Reading a mailbox over IMAP for the jobs that file email (bounces, capture).

An edge that owns its transactions: no transaction is open while the mail server is
talked to, and each message is filed and committed on its own, so a slow server
holds no lock and a crash loses nothing. A message filed is flagged seen and moved
to the processed folder; one too large to read, one the filing does not want (it
answers None) or one whose filing failed is flagged and left where it is for a
person to read, and later runs pass over it: one bad message never stops the
others. The filing must know a message it has filed already (by its Message-ID),
so a run that died between the commit and the move does no harm.

A mailbox is named by a URL: ``imap://user:password@host:143/INBOX``, or
``imaps://…:993/INBOX`` for TLS.
"""

from __future__ import annotations

import re
import ssl
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TypeVar
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

T = TypeVar("T")

_SIZE = re.compile(rb"RFC822\.SIZE\s+(\d+)")


@dataclass(frozen=True)
class MailboxSettings:
    """Where a job's mailbox is and how much of it one run reads."""

    url: str
    #: What the mailbox is called in messages (the log, errors): "bounce mailbox".
    name: str
    processed_folder: str
    max_messages: int
    max_bytes: int
    timeout: float


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
        raise ValueError(f"unsupported mailbox URL scheme: {parts.scheme!r}")
    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    mailbox.login(unquote(parts.username or ""), unquote(parts.password or ""), folder)
    return mailbox, folder


def message_size(mailbox: BaseMailBox, uid: str) -> int | None:
    """The message's size as the server tells it, without reading it."""
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


def fetch_raw(mailbox: BaseMailBox, uid: str, *, max_bytes: int) -> bytes | None:
    """The whole message, unread flag untouched; None if it is larger than
    ``max_bytes`` (asked of the server first, so a large one is never fetched)."""
    size = message_size(mailbox, uid)
    if size is None or size > max_bytes:
        return None
    status, data = mailbox.client.uid("FETCH", uid, "(BODY.PEEK[])")
    if status != "OK":
        return None
    for item in data:
        if isinstance(item, tuple) and isinstance(item[1], bytes):
            raw = item[1]
            return raw if len(raw) <= max_bytes else None
    return None


def in_own_transaction(work: Callable[[], T]) -> T:
    """Run ``work`` in a write transaction of its own and commit it (or roll back)."""
    session = db.session()
    if session.in_transaction():
        session.rollback()
    begin_write(session)
    try:
        outcome = work()
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return outcome


def read_mailbox(
    settings: MailboxSettings,
    file_one: Callable[[bytes], str | None],
    *,
    limit: int | None = None,
) -> Counter[str]:
    """Read the mailbox's new messages and file each with ``file_one(raw)``.

    ``file_one`` runs in a committed transaction of its own and answers the outcome
    to count (the message is then moved away) or None (flagged, left). Counts
    ``read``, each outcome, ``not_filed`` (None), ``too_large`` and ``unreadable``.
    """
    counts: Counter[str] = Counter()
    session = db.session()
    if not (session.new or session.dirty or session.deleted):
        session.rollback()  # no read snapshot held while the mail server answers
    mailbox, folder = connect(settings.url, timeout=settings.timeout)
    with mailbox:
        if not mailbox.folder.exists(settings.processed_folder):
            mailbox.folder.create(settings.processed_folder)
        mailbox.folder.set(folder)
        # Messages a person must look at are flagged; filed ones are moved away.
        uids = list(mailbox.uids(AND(flagged=False, deleted=False)))
        for uid in uids[: limit or settings.max_messages]:
            counts["read"] += 1
            raw = fetch_raw(mailbox, uid, max_bytes=settings.max_bytes)
            if raw is None:
                counts["too_large"] += 1
                mailbox.flag(uid, MailMessageFlags.FLAGGED, True)
                continue
            try:
                outcome = in_own_transaction(partial(file_one, raw))
            except Exception:
                current_app.logger.exception(
                    "%s message %s could not be filed; flagged, left",
                    settings.name.capitalize(),
                    uid,
                )
                counts["unreadable"] += 1
                mailbox.flag(uid, MailMessageFlags.FLAGGED, True)
                continue
            if outcome is None:
                counts["not_filed"] += 1
                mailbox.flag(uid, MailMessageFlags.FLAGGED, True)
                continue
            counts[outcome] += 1
            mailbox.flag(uid, MailMessageFlags.SEEN, True)
            mailbox.move(uid, settings.processed_folder)
    return counts
