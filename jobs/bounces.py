"""The read-bounces job: bounce and complaint reports read from a mailbox over IMAP.

The mailbox is read by jobs.imap (an edge owning its transactions: each report is
filed and committed on its own, engage.mailings.bounces does the filing). A report
filed is flagged seen and moved to the "Processed" folder; a message that is not a
report (or too large to read, or one whose filing failed) is flagged and left where
it is for a person to read, and later runs pass over it. A report already filed (by
its Message-ID) is not filed again.

``ENGAGE_BOUNCE_IMAP_URL`` names the mailbox: ``imap://user:password@host:143/INBOX``
or ``imaps://…:993/INBOX`` for TLS.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from flask import current_app

from engage.mailings.bounces import file_message
from jobs.imap import MailboxSettings
from jobs.imap import read_mailbox

PROCESSED_FOLDER = "Processed"
#: At most this many messages are read per run; the rest wait for the next.
MAX_MESSAGES = 200
#: Larger messages are not reports (a DSN quotes headers, or a short original).
MAX_BYTES = 1024 * 1024
TIMEOUT_SECONDS = 30.0


def read_bounces(now: datetime, *, limit: int | None = None) -> dict[str, int]:
    """Read new messages in the bounce mailbox and file the reports among them.

    Returns counts: ``read``, ``bounced``, ``complained``, ``failed``, ``soft``,
    ``unmatched``,
    ``duplicate``, ``not_reports`` (left, flagged), ``too_large`` (left, flagged)
    and ``unreadable`` (filing failed; left, flagged).
    """
    config = current_app.config
    url = config.get("BOUNCE_IMAP_URL")
    if not url:
        return _all_counts({})
    settings = MailboxSettings(
        url=str(url),
        name="bounce mailbox",
        processed_folder=str(config.get("BOUNCE_PROCESSED_FOLDER") or PROCESSED_FOLDER),
        max_messages=int(config.get("BOUNCE_MAX_MESSAGES") or MAX_MESSAGES),
        max_bytes=int(config.get("BOUNCE_MAX_BYTES") or MAX_BYTES),
        timeout=float(config.get("BOUNCE_IMAP_TIMEOUT_SECONDS") or TIMEOUT_SECONDS),
    )
    counts = read_mailbox(settings, lambda raw: file_message(raw, now=now), limit=limit)
    counts["not_reports"] = counts.pop("not_filed", 0)
    return _all_counts(counts)


def _all_counts(counts: Mapping[str, int]) -> dict[str, int]:
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
    return {name: int(counts.get(name, 0)) for name in names}
