"""The poll-feeds job: network time is spent with no transaction open.

A poll reads which feeds are due, fetches them (which may take minutes) and writes
what came back (engage.metrics.feeds). This job, the edge for those phases, ends the
read transaction before fetching and begins the write transaction after, so a slow
feed never holds the database's write lock; the job runner commits the writes once.
"""

from __future__ import annotations

from datetime import datetime

from engage.db import begin_write
from engage.extensions import db
from engage.metrics import feeds
from engage.metrics.fetch import FetchLimits


def poll_feeds(now: datetime, *, limits: FetchLimits | None = None) -> dict[str, int]:
    """Poll every active feed that is due; record mentions and media coverage.

    Returns counts: ``feeds`` polled, ``failed``, ``not_modified``, ``mentions`` new.
    """
    limits = limits or feeds.fetch_limits()
    due = feeds.due_feeds(now)
    session = db.session()
    if not (session.new or session.dirty or session.deleted):
        session.rollback()  # end the read snapshot before minutes of network time
    outcomes = feeds.fetch_due(due, limits)
    begin_write(db.session())
    return feeds.record_polls(outcomes, now=now)
