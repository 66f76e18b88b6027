"""Media monitoring: parse feed bytes, match phrases, poll feeds and record mentions.

feedparser only ever sees bytes fetched by ``engage.metrics.fetch`` (never a URL or
path, which it would open itself). Documents declaring entities are refused before
parsing (XXE, billion laughs), though feedparser does not expand them either.

A poll has three phases, run by the poll-feeds job (jobs/feeds.py), which ends the
read transaction before the network work and begins the write transaction after it:
``due_feeds`` reads, ``fetch_due`` fetches with no database, ``record_polls`` writes.
"""

from __future__ import annotations

import calendar
import hashlib
import io
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import feedparser
from flask import current_app
from sqlalchemy import Select
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from engage.accounts.models import User
from engage.audit.services import record_event
from engage.clock import local_day
from engage.errors import NotFound
from engage.errors import ValidationError
from engage.extensions import db
from engage.metrics.fetch import FetchError
from engage.metrics.fetch import FetchLimits
from engage.metrics.fetch import UnsafeURL
from engage.metrics.fetch import check_url
from engage.metrics.fetch import fetch
from engage.metrics.models import Feed
from engage.metrics.models import Mention
from engage.metrics.models import Source
from engage.metrics.models import Tone

log = logging.getLogger(__name__)

#: The metric that daily mention counts are recorded against.
MEDIA_COVERAGE_KEY = "media-coverage"
BACKOFF_START = timedelta(minutes=30)
BACKOFF_MAX = timedelta(hours=24)
_ENTITY = re.compile(rb"<!ENTITY", re.IGNORECASE)


class FeedError(Exception):
    """The bytes are not a feed we will read."""


@dataclass(frozen=True)
class FeedItem:
    """One entry of a feed, as plain text."""

    guid: str
    title: str
    link: str | None
    summary: str
    content: str
    published: datetime | None


# Parsing and matching ---------------------------------------------------------------


class _TextExtractor(HTMLParser):
    """HTML to plain text: tags dropped, script and style content dropped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("script", "style"):
            self._skipping += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skipping:
            self._skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Plain text from HTML (or from text that may hold tags), whitespace collapsed."""
    extractor = _TextExtractor()
    extractor.feed(markup)
    extractor.close()
    return " ".join("".join(extractor.parts).split())


def safe_link(link: str | None) -> str | None:
    """The link if it is an absolute http(s) URL; None otherwise (javascript:…)."""
    if not link:
        return None
    link = link.strip()
    parts = urlsplit(link)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return link[:2000]


def _when(entry: Any) -> datetime | None:
    # dict.get: feedparser's own get() warns (DeprecationWarning) when asked for
    # updated_parsed of an entry whose unparseable pubDate left published_parsed None.
    parsed = dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed")
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    except (ValueError, OverflowError, OSError):  # e.g. "0000-00-00" gives year -1
        return None


def _guid(entry: Any, title: str, summary: str) -> str:
    guid = str(entry.get("id") or entry.get("link") or "").strip()
    if not guid:
        guid = "sha256:" + hashlib.sha256(f"{title}\n{summary}".encode()).hexdigest()
    if len(guid) > 500:
        guid = "sha256:" + hashlib.sha256(guid.encode()).hexdigest()
    return guid


def parse_feed(body: bytes) -> list[FeedItem]:
    """The entries of an RSS or Atom document given as bytes; FeedError if unusable."""
    # In UTF-16 or UTF-32 the declaration's letters have NUL bytes between them.
    if _ENTITY.search(body.replace(b"\x00", b"")):
        raise FeedError("The feed declares XML entities, which are refused.")
    parsed = feedparser.parse(io.BytesIO(body))
    if not parsed.get("version") and not parsed.entries:
        problem = parsed.get("bozo_exception")
        raise FeedError(f"This is not an RSS or Atom feed ({problem or 'empty'}).")
    items = []
    for entry in parsed.entries:
        title = html_to_text(entry.get("title", ""))[:500]
        summary = html_to_text(entry.get("summary", ""))
        content = " ".join(
            html_to_text(part.get("value", "")) for part in entry.get("content", [])
        )
        items.append(
            FeedItem(
                guid=_guid(entry, title, summary),
                title=title,
                link=safe_link(entry.get("link")),
                summary=summary,
                content=content,
                published=_when(entry),
            )
        )
    return items


def phrase_pattern(phrase: str) -> re.Pattern[str]:
    """Whole-phrase, case-insensitive; any run of spaces matches any whitespace."""
    words = [re.escape(word) for word in phrase.split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", re.IGNORECASE)


def matched_phrases(item: FeedItem, phrases: Iterable[str]) -> list[str]:
    """The phrases found in the item's title, summary or content."""
    text = "\n".join((item.title, item.summary, item.content))
    return [p for p in phrases if p.split() and phrase_pattern(p).search(text)]


# Feeds ------------------------------------------------------------------------------


def fetch_limits() -> FetchLimits:
    """The limits from FEEDS_* configuration."""
    config = current_app.config
    return FetchLimits(
        connect_timeout=float(config["FEEDS_CONNECT_TIMEOUT_SECONDS"]),
        total_timeout=float(config["FEEDS_TOTAL_TIMEOUT_SECONDS"]),
        max_bytes=int(config["FEEDS_MAX_BYTES"]),
        max_redirects=int(config["FEEDS_MAX_REDIRECTS"]),
        allow_private=bool(config["FEEDS_ALLOW_PRIVATE"]),
    )


def validate_feed_url(url: str) -> str:
    """The URL, trimmed, if it may be fetched (scheme and resolved host); else raise."""
    url = url.strip()
    try:
        check_url(url, allow_private=fetch_limits().allow_private)
    except FetchError as error:
        raise ValidationError(str(error)) from error
    return url


@dataclass(frozen=True)
class FeedData:
    """A feed's editable fields."""

    url: str
    name: str
    phrases: str
    active: bool = True


def save_feed(feed: Feed | None, data: FeedData, *, actor: User, now: datetime) -> Feed:
    """Create or update a feed; the URL is checked now and again at every fetch (E1)."""
    url = validate_feed_url(data.url)
    if not data.name.strip():
        raise ValidationError("Enter a name for the feed.")
    phrases = "\n".join(
        line.strip() for line in data.phrases.splitlines() if line.strip()
    )
    if feed is None:
        feed = Feed(created_at=now)
        db.session.add(feed)
    elif feed.url != url:
        feed.etag = feed.last_modified = None
        feed.failures, feed.next_poll_after, feed.last_error = 0, None, None
    feed.url, feed.name, feed.phrases = url, data.name.strip(), phrases
    feed.active = data.active
    feed.updated_at = now
    db.session.flush()
    record_event(actor, "save", "feed", feed.id, feed.name, now=now)
    return feed


@dataclass(frozen=True)
class DueFeed:
    """A feed due for polling, as read before the network work (no ORM object)."""

    id: int
    url: str
    etag: str | None
    last_modified: str | None
    phrases: tuple[str, ...]


@dataclass(frozen=True)
class FeedOutcome:
    """What fetching one due feed gave: its items, "not modified", or an error."""

    feed: DueFeed
    items: tuple[FeedItem, ...] = ()
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None
    error: str | None = None


def backoff(failures: int) -> timedelta:
    """The wait after ``failures`` failures in a row (30 min doubling, ≤ 24 h)."""
    wait: timedelta = BACKOFF_START * 2 ** max(failures - 1, 0)
    return min(wait, BACKOFF_MAX)


def _fetch_one(due: DueFeed, limits: FetchLimits) -> FeedOutcome:
    try:
        result = fetch(
            due.url, limits=limits, etag=due.etag, last_modified=due.last_modified
        )
        if result.not_modified:
            return FeedOutcome(due, not_modified=True)
        items = parse_feed(result.body)
    except UnsafeURL as error:
        return FeedOutcome(due, error=f"Refused: {error}")
    except (FetchError, FeedError) as error:
        return FeedOutcome(due, error=str(error))
    except Exception as error:
        log.exception("feed %s failed", due.id)
        return FeedOutcome(due, error=f"Unexpected error: {type(error).__name__}")
    return FeedOutcome(
        due, tuple(items), etag=result.etag, last_modified=result.last_modified
    )


def due_feeds(now: datetime) -> list[DueFeed]:
    """The read phase of a poll: every active feed that is due, oldest id first."""
    feeds = db.session.scalars(
        select(Feed)
        .where(
            Feed.active.is_(True),
            (Feed.next_poll_after.is_(None)) | (Feed.next_poll_after <= now),
        )
        .order_by(Feed.id)
    )
    return [
        DueFeed(f.id, f.url, f.etag, f.last_modified, tuple(f.phrase_list))
        for f in feeds
    ]


def fetch_due(due: list[DueFeed], limits: FetchLimits) -> list[FeedOutcome]:
    """Fetch and parse each due feed; touches no database (run it with no transaction
    open). One failing feed never stops the others: its outcome holds the error."""
    return [_fetch_one(feed, limits) for feed in due]


def record_polls(outcomes: list[FeedOutcome], *, now: datetime) -> dict[str, int]:
    """The write phase of a poll: record each outcome, the mentions and media coverage.

    Run it in a write transaction begun after the fetches; the job runner commits.
    Returns counts: ``feeds`` polled, ``failed``, ``not_modified``, ``mentions`` new.
    """
    counts = {"feeds": len(outcomes), "failed": 0, "not_modified": 0, "mentions": 0}
    days: set[date] = set()
    for outcome in outcomes:
        feed = db.session.get(Feed, outcome.feed.id)
        if feed is None:  # deleted while we fetched
            continue
        feed.last_polled_at = now
        if outcome.error is not None:
            counts["failed"] += 1
            feed.failures += 1
            feed.last_error = outcome.error[:2000]
            feed.next_poll_after = now + backoff(feed.failures)
            continue
        feed.failures, feed.last_error, feed.next_poll_after = 0, None, None
        feed.last_success_at = now
        if outcome.not_modified:
            counts["not_modified"] += 1
            continue
        feed.etag = (outcome.etag or "")[:500] or None
        feed.last_modified = (outcome.last_modified or "")[:100] or None
        new = _record_mentions(feed, outcome, now=now)
        counts["mentions"] += len(new)
        days.update(m.published_on for m in new)
    db.session.flush()
    record_media_coverage(days, now=now)
    return counts


def _record_mentions(
    feed: Feed, outcome: FeedOutcome, *, now: datetime
) -> list[Mention]:
    known = set(
        db.session.scalars(select(Mention.guid).where(Mention.feed_id == feed.id))
    )
    new = []
    for item in outcome.items:
        if item.guid in known:
            continue
        phrases = matched_phrases(item, outcome.feed.phrases)
        if outcome.feed.phrases and not phrases:
            continue
        known.add(item.guid)
        mention = Mention(
            feed_id=feed.id,
            guid=item.guid,
            published_on=local_day(item.published or now),
            title=item.title,
            link=item.link,
            summary=item.summary[:5000],
            phrases="\n".join(phrases),
            found_at=now,
        )
        db.session.add(mention)
        new.append(mention)
    return new


def record_media_coverage(days: Iterable[date], *, now: datetime) -> int:
    """Recount the mentions on each day into "media coverage" observations (upsert).

    Counted from the stored mentions, so re-polls and re-runs never double count.
    """
    from engage.metrics.services import ensure_metric
    from engage.metrics.services import upsert_observation

    days = sorted(set(days))
    if not days:
        return 0
    metric = ensure_metric(MEDIA_COVERAGE_KEY)
    counts = dict(
        db.session.execute(
            select(Mention.published_on, func.count(Mention.id))
            .where(Mention.published_on.in_(days))
            .group_by(Mention.published_on)
        ).all()
    )
    for day in days:
        upsert_observation(
            metric,
            day,
            float(counts.get(day, 0)),
            source=Source.FEED,
            note="Mentions found by media monitoring",
            now=now,
        )
    return len(days)


# Mentions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MentionFilter:
    """Filters for the mentions list."""

    feed_id: int | None = None
    tone: str = ""  #: a Tone value, "unset", or "" for any
    start: date | None = None
    end: date | None = None
    text: str = ""


#: The mentions list's order, newest first: the keys its pages follow.
MENTION_ORDER = (Mention.published_on.desc(), Mention.id.desc())


def mention_query(criteria: MentionFilter) -> Select[tuple[Mention]]:
    """Mentions matching ``criteria``, newest first."""
    query = select(Mention).options(joinedload(Mention.feed)).order_by(*MENTION_ORDER)
    if criteria.feed_id:
        query = query.where(Mention.feed_id == criteria.feed_id)
    if criteria.tone == "unset":
        query = query.where(Mention.tone.is_(None))
    elif criteria.tone in {t.value for t in Tone}:
        query = query.where(Mention.tone == Tone(criteria.tone))
    if criteria.start:
        query = query.where(Mention.published_on >= criteria.start)
    if criteria.end:
        query = query.where(Mention.published_on <= criteria.end)
    if criteria.text.strip():
        like = f"%{criteria.text.strip().lower()}%"
        query = query.where(
            func.lower(Mention.title).like(like)
            | func.lower(Mention.summary).like(like)
        )
    return query


def list_mentions(criteria: MentionFilter, *, limit: int = 500) -> list[Mention]:
    """Mentions, newest first, filtered."""
    return list(db.session.scalars(mention_query(criteria).limit(limit)))


def set_tone(
    mention_id: int, tone: Tone | None, *, actor: User, now: datetime
) -> Mention:
    """Set (or clear) the tone of a mention."""
    mention = db.session.get(Mention, mention_id)
    if mention is None:
        raise NotFound("There is no such mention.")
    mention.tone = tone
    db.session.flush()
    record_event(
        actor, "tone", "mention", mention.id, tone.value if tone else "unset", now=now
    )
    return mention


def list_feeds() -> list[Feed]:
    """Every feed, by name."""
    return list(db.session.scalars(select(Feed).order_by(Feed.name, Feed.id)))
