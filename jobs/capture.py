"""The read-capture job: emails staff copied to the capture mailbox, read over IMAP.

The mailbox is read by jobs.imap (an edge owning its transactions: each message is
filed and committed on its own; engage.relationships.capture does the filing). A
message read (filed as a draft, or waiting for review) is flagged seen and moved to
the processed folder; one too large to read, or whose filing failed, is flagged and
left for a person, and later runs pass over it. A message read before (by its
Message-ID) is not filed again.

``ENGAGE_CAPTURE_IMAP_URL`` names the mailbox: ``imap://user:password@host:143/INBOX``
or ``imaps://…:993/INBOX`` for TLS. Unset, the job reads nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from flask import current_app

from engage.relationships.capture import file_message
from jobs.imap import MailboxSettings
from jobs.imap import read_mailbox

PROCESSED_FOLDER = "Processed"
#: At most this many messages are read per run; the rest wait for the next.
MAX_MESSAGES = 200
#: Larger messages are flagged and left for a person.
MAX_BYTES = 10 * 1024 * 1024
TIMEOUT_SECONDS = 30.0


def read_capture(now: datetime, *, limit: int | None = None) -> dict[str, int]:
    """Read new messages in the capture mailbox and file each.

    Returns counts: ``read``, ``filed`` (drafts), ``waiting`` (for review),
    ``duplicate`` (read before), ``too_large`` and ``unreadable`` (left, flagged).
    """
    config = current_app.config
    url = config.get("CAPTURE_IMAP_URL")
    if not url:
        return _all_counts({})
    settings = MailboxSettings(
        url=str(url),
        name="capture mailbox",
        processed_folder=str(
            config.get("CAPTURE_PROCESSED_FOLDER") or PROCESSED_FOLDER
        ),
        max_messages=int(config.get("CAPTURE_MAX_MESSAGES") or MAX_MESSAGES),
        max_bytes=int(config.get("CAPTURE_MAX_BYTES") or MAX_BYTES),
        timeout=float(config.get("CAPTURE_IMAP_TIMEOUT_SECONDS") or TIMEOUT_SECONDS),
    )
    own_address = str(config.get("CAPTURE_ADDRESS") or "")
    counts = read_mailbox(
        settings,
        lambda raw: file_message(raw, now=now, ignore=own_address),
        limit=limit,
    )
    return _all_counts(counts)


def _all_counts(counts: Mapping[str, int]) -> dict[str, int]:
    names = ("read", "filed", "waiting", "duplicate", "too_large", "unreadable")
    return {name: int(counts.get(name, 0)) for name in names}
