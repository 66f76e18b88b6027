"""Media monitoring over real HTTP on loopback: mentions, re-polls, bad feeds (E)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func
from sqlalchemy import select

from engage.extensions import db
from engage.metrics.feeds import FeedData
from engage.metrics.feeds import FeedError
from engage.metrics.feeds import FeedItem
from engage.metrics.feeds import backoff
from engage.metrics.feeds import html_to_text
from engage.metrics.feeds import matched_phrases
from engage.metrics.feeds import parse_feed
from engage.metrics.feeds import safe_link
from engage.metrics.feeds import save_feed
from engage.metrics.models import Feed
from engage.metrics.models import Mention
from engage.metrics.models import Metric
from engage.metrics.models import Observation
from jobs.feeds import poll_feeds
from tests.factories import FeedFactory
from tests.metrics.feedserver import FeedServer
from tests.metrics.feedserver import feed_server
from tests.metrics.feedserver import rss

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
DAY = date(2026, 11, 24)

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>t</title>
<item><title>Engage &xxe; news</title><guid>x1</guid></item></channel></rss>"""

LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">'
        % (n, (b"&lol%d;" % (n - 1) if n > 1 else b"&lol;") * 10)
        for n in range(1, 10)
    )
    + b']><rss version="2.0"><channel><title>&lol9;</title>'
    b"<item><title>Engage &lol9;</title><guid>b1</guid></item></channel></rss>"
)


@pytest.fixture
def server(app: Flask) -> Iterator[FeedServer]:
    app.config.update(
        FEEDS_ALLOW_PRIVATE=True,
        FEEDS_CONNECT_TIMEOUT_SECONDS=1,
        FEEDS_TOTAL_TIMEOUT_SECONDS=2,
    )
    with feed_server() as running:
        yield running


def _mentions() -> list[Mention]:
    return list(db.session.scalars(select(Mention).order_by(Mention.guid)))


def _coverage(day: date) -> float | None:
    return db.session.scalar(
        select(Observation.value)
        .join(Metric)
        .where(Metric.key == "media-coverage", Observation.observed_on == day)
    )


ITEMS = [
    {
        "title": "Engage wins award",
        "guid": "a",
        "date": "Tue, 24 Nov 2026 09:00:00 GMT",
    },
    {"title": "Weather", "guid": "b", "summary": "Rain at engagement event"},
    {"title": "Local", "guid": "c", "summary": "<p>The <b>ENGAGE</b> team</p>"},
]


def test_matching_entries_become_mentions_once_across_re_polls(
    server: FeedServer,
) -> None:
    server.serve("/news", rss(*ITEMS), etag='"v1"')
    feed = FeedFactory(url=server.url("/news"), phrases="Engage")
    first = poll_feeds(NOW)
    db.session.commit()
    again = poll_feeds(NOW + timedelta(minutes=30))
    db.session.commit()
    # The ETag changes but the entries do not: still counted once.
    server.serve("/news", rss(*ITEMS), etag='"v2"')
    third = poll_feeds(NOW + timedelta(hours=1))
    db.session.commit()
    assert first == {"feeds": 1, "failed": 0, "not_modified": 0, "mentions": 2}
    assert again == {"feeds": 1, "failed": 0, "not_modified": 1, "mentions": 0}
    assert third == {"feeds": 1, "failed": 0, "not_modified": 0, "mentions": 0}
    assert [m.guid for m in _mentions()] == ["a", "c"]
    assert _mentions()[1].summary == "The ENGAGE team"
    assert _coverage(DAY) == 2
    assert db.session.scalar(select(func.count(Observation.id))) == 1
    assert server.requests[1][1]["If-None-Match"] == '"v1"'
    db.session.refresh(feed)
    assert feed.etag == '"v2"'
    assert feed.failures == 0
    assert feed.last_error is None


def test_a_failing_feed_records_its_error_backs_off_and_others_go_on(
    server: FeedServer,
) -> None:
    server.serve("/good", rss(*ITEMS))
    server.serve("/bad", b"this is <<< not a feed")
    bad = FeedFactory(url=server.url("/bad"), phrases="Engage")
    good = FeedFactory(url=server.url("/good"), phrases="Engage")
    counts = poll_feeds(NOW)
    db.session.commit()
    assert counts == {"feeds": 2, "failed": 1, "not_modified": 0, "mentions": 2}
    db.session.refresh(bad)
    assert "not an RSS or Atom feed" in (bad.last_error or "")
    assert bad.failures == 1
    assert bad.next_poll_after == NOW + timedelta(minutes=30)
    # Not due again until the back-off has passed; then it fails again and waits longer.
    assert poll_feeds(NOW + timedelta(minutes=10))["feeds"] == 1
    db.session.commit()
    poll_feeds(NOW + timedelta(minutes=31))
    db.session.commit()
    db.session.refresh(bad)
    assert bad.failures == 2
    assert bad.next_poll_after == NOW + timedelta(minutes=31 + 60)
    db.session.refresh(good)
    assert good.failures == 0


def test_backoff_doubles_up_to_a_day() -> None:
    assert [backoff(n) for n in (1, 2, 3)] == [
        timedelta(minutes=30),
        timedelta(hours=1),
        timedelta(hours=2),
    ]
    assert backoff(20) == timedelta(hours=24)


@pytest.mark.parametrize("body", [XXE, LAUGHS], ids=["xxe", "billion-laughs"])
def test_entity_declarations_are_refused_quickly_and_store_nothing(
    server: FeedServer, body: bytes
) -> None:
    server.serve("/evil", body)
    feed = FeedFactory(url=server.url("/evil"), phrases="")
    started = time.monotonic()
    counts = poll_feeds(NOW)
    db.session.commit()
    assert time.monotonic() - started < 2
    assert counts["failed"] == 1
    assert _mentions() == []
    db.session.refresh(feed)
    assert "entities" in (feed.last_error or "")


def _recoded(body: bytes, encoding: str) -> bytes:
    text = re.sub(r"^<\?xml[^>]*\?>", "", body.decode())
    return f'<?xml version="1.0" encoding="{encoding}"?>{text}'.encode(encoding)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32", "utf-32-le"])
@pytest.mark.parametrize("body", [XXE, LAUGHS], ids=["xxe", "billion-laughs"])
def test_entity_declarations_are_refused_in_every_unicode_encoding(
    body: bytes, encoding: str
) -> None:
    recoded = _recoded(body, encoding)
    assert b"<!ENTITY" not in recoded  # a byte search alone would miss it
    with pytest.raises(FeedError, match="declares XML entities"):
        parse_feed(recoded)


def test_a_feed_in_utf_16_without_entities_is_read() -> None:
    body = rss({"title": "Engage news", "guid": "u1"})
    items = parse_feed(_recoded(body, "utf-16"))
    assert [i.title for i in items] == ["Engage news"]


def test_feedparser_alone_would_not_expand_entities_either() -> None:
    # Defence in depth: even without our refusal, no file content comes back (but
    # feedparser takes seconds over the billion laughs here: hence the refusal).
    import feedparser

    for body in (XXE, LAUGHS):
        parsed = feedparser.parse(body)
        text = " ".join(e.get("title", "") for e in parsed.entries)
        assert "root:" not in text
        assert len(text) < 1000


def test_a_hanging_feed_times_out_and_the_others_still_import(
    server: FeedServer,
) -> None:
    stop = threading.Event()
    server.hang("/hang", stop=stop)
    server.serve("/good", rss(*ITEMS))
    hang = FeedFactory(url=server.url("/hang"), phrases="Engage")
    FeedFactory(url=server.url("/good"), phrases="Engage")
    started = time.monotonic()
    try:
        counts = poll_feeds(NOW)
        db.session.commit()
    finally:
        stop.set()
    assert time.monotonic() - started < 4
    assert counts["failed"] == 1
    assert counts["mentions"] == 2
    db.session.refresh(hang)
    assert "too long" in (hang.last_error or "")


def test_inactive_feeds_are_not_polled(server: FeedServer) -> None:
    server.serve("/news", rss(*ITEMS))
    FeedFactory(url=server.url("/news"), phrases="Engage", active=False)
    assert poll_feeds(NOW)["feeds"] == 0
    assert server.requests == []


def test_unsafe_items_are_stored_as_plain_text_with_safe_links(
    server: FeedServer, client: Any, login: Any, cast: dict[str, Any]
) -> None:
    server.serve(
        "/x",
        rss(
            {
                "title": "Engage &lt;script&gt;alert(1)&lt;/script&gt; news",
                "guid": "s1",
                "link": "javascript:alert(1)",
            },
            {
                "title": "Engage data",
                "guid": "s2",
                "link": "data:text/html;base64,PHNjcmlwdD4=",
            },
            {
                "title": "Engage img",
                "guid": "s3",
                "link": "https://news.example/ok",
                "summary": '&lt;img src=x onerror="alert(1)"&gt;Engage',
            },
        ),
    )
    FeedFactory(url=server.url("/x"), phrases="Engage")
    poll_feeds(NOW)
    db.session.commit()
    stored = {m.guid: m for m in _mentions()}
    assert stored["s1"].title == "Engage news"
    assert stored["s1"].link is None
    assert stored["s2"].link is None
    assert stored["s3"].summary == "Engage"
    login(cast["lead"])
    page = client.get("/feeds/mentions").get_data(as_text=True)
    assert "<script>alert" not in page
    assert "onerror" not in page
    assert "javascript:" not in page
    assert "data:text" not in page
    assert (
        '<a href="https://news.example/ok" rel="noopener noreferrer nofollow">'
        "Engage img</a>" in page
    )


def test_phrases_match_whole_phrases_in_any_case() -> None:
    item = FeedItem("g", "NHS Trust news", None, "Our Mental  Health review", "", None)
    assert matched_phrases(item, ["mental health review", "trust", "rust"]) == [
        "mental health review",
        "trust",
    ]


def test_html_is_stripped_and_links_filtered() -> None:
    assert html_to_text("<p>A <script>x()</script><b>b</b> &amp; c</p>") == "A b & c"
    assert safe_link(" https://a.example/x ") == "https://a.example/x"
    assert safe_link("java\tscript:alert(1)") is None
    assert safe_link("//a.example/x") is None


def test_a_feed_without_guids_uses_links_and_bozo_feeds_still_read() -> None:
    body = b"""<rss version="2.0"><channel><title>t</title>
    <item><title>One & two</title><link>https://a.example/1</link></item>
    </channel></rss>"""
    items = parse_feed(body)
    assert [i.guid for i in items] == ["https://a.example/1"]


def test_saving_a_feed_checks_its_address(
    monkeypatch: pytest.MonkeyPatch, cast: dict[str, Any]
) -> None:
    from engage.errors import ValidationError
    from engage.metrics import fetch

    monkeypatch.setattr(fetch, "resolve_host", lambda host, port: ["93.184.215.14"])
    feed = save_feed(
        None,
        FeedData("https://news.example/rss", " News ", "Engage\n\n  ICB \n"),
        actor=cast["officer"],
        now=NOW,
    )
    assert (feed.name, feed.phrase_list) == ("News", ["Engage", "ICB"])
    with pytest.raises(ValidationError):
        save_feed(
            feed,
            FeedData("file:///etc/passwd", "News", ""),
            actor=cast["officer"],
            now=NOW,
        )


def test_a_stored_private_address_is_refused_at_poll_time_without_connecting(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    attempts: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(args)
        raise AssertionError("a connection was attempted")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    app.config["FEEDS_ALLOW_PRIVATE"] = False
    for url in ("http://127.0.0.1:9/feed", "http://[::1]/", "http://10.0.0.1/"):
        FeedFactory(url=url)
    counts = poll_feeds(NOW)
    db.session.commit()
    assert counts["failed"] == 3
    assert attempts == []
    errors = db.session.scalars(select(Feed.last_error)).all()
    assert all(error and error.startswith("Refused:") for error in errors)
