"""Fuzz the feed wrapper (E2, E4): any bytes, and hostile RSS/Atom, through parse_feed.

The answer is always a clean ``FeedError`` refusal or a list of plain-text items whose
links are http(s) or None; a document declaring entities is always refused; phrase
matching never fails on what parsing produced.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from hypothesis import given
from hypothesis import strategies as st

from engage.metrics.feeds import FeedError
from engage.metrics.feeds import FeedItem
from engage.metrics.feeds import matched_phrases
from engage.metrics.feeds import parse_feed
from tests.fuzz.conftest import FUZZ

HOSTILE_TEXT = st.one_of(
    st.text(max_size=80),
    st.sampled_from(
        [
            "<script>alert(1)</script>NHS Trust",
            '<img src=x onerror="alert(1)">Hospital news',
            "<style>body{}</style><b>bold</b> &amp; &lt;tag&gt;",
            "]]><evil/>",
            "&#0; &#x1F600; &bogus; &",
            "\x00\x1b\ud7ff\ufffe",
            "<!-- comment --><![CDATA[ nested ]]>",
            "Royal   Hospital\nTrust",
        ]
    ),
)
LINKS = st.one_of(
    st.sampled_from(
        [
            "https://news.example.org/a?b=1",
            "http://example.com/",
            "HTTPS://EXAMPLE.ORG/x",
            "javascript:alert(1)",
            " JaVaScRiPt:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "vbscript:msgbox",
            "file:///etc/passwd",
            "//example.org/protocol-relative",
            "/relative/path",
            "http:/one-slash",
            "",
        ]
    ),
    st.text(max_size=60),
)
DATES = st.sampled_from(
    [
        "",
        "Mon, 02 Mar 2026 09:00:00 GMT",
        "2026-03-29T01:30:00+01:00",
        "Fri, 31 Dec 9999 23:59:59 +1400",
        "0000-00-00T00:00:00Z",
        "not a date",
    ]
)
PROLOGUES = st.sampled_from(
    [
        "",
        '<?xml version="1.0" encoding="utf-8"?>',
        '<!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
        '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>',
        "<!DOCTYPE rss>",
    ]
)


def _text(value: str, how: str) -> str:
    """Put hostile text in a document escaped, as CDATA, or raw (often malformed)."""
    if how == "escaped":
        return escape(value)
    if how == "cdata":
        return "<![CDATA[" + value.replace("]]>", "") + "]]>"
    return value


@st.composite
def feeds(draw: st.DrawFn) -> bytes:
    """An RSS 2.0 or Atom document with hostile titles, summaries and links."""
    atom = draw(st.booleans())
    how = draw(st.sampled_from(["escaped", "cdata", "raw"]))
    entries = []
    for _ in range(draw(st.integers(0, 4))):
        title = _text(draw(HOSTILE_TEXT), how)
        summary = _text(draw(HOSTILE_TEXT), how)
        link = escape(draw(LINKS), {'"': "&quot;"})
        when = escape(draw(DATES))
        guid = escape(draw(st.text(max_size=draw(st.sampled_from([10, 600])))))
        if atom:
            entries.append(
                f'<entry><title type="html">{title}</title><link href="{link}"/>'
                f"<id>{guid}</id><updated>{when}</updated>"
                f'<summary type="html">{summary}</summary>'
                f'<content type="html">{summary}</content></entry>'
            )
        else:
            entries.append(
                f"<item><title>{title}</title><link>{link}</link><guid>{guid}</guid>"
                f"<pubDate>{when}</pubDate><description>{summary}</description></item>"
            )
    body = "".join(entries)
    document = (
        f'<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title>{body}</feed>'
        if atom
        else f'<rss version="2.0"><channel><title>T</title>{body}</channel></rss>'
    )
    encoded = (draw(PROLOGUES) + document).encode("utf-8", "surrogatepass")
    if draw(st.booleans()):  # sometimes cut short, as a truncated download would be
        encoded = encoded[: draw(st.integers(0, len(encoded)))]
    return encoded


def _check(body: bytes, phrases: list[str]) -> None:
    try:
        items = parse_feed(body)
    except FeedError:
        return  # a clean refusal is a fine answer
    assert b"<!entity" not in body.lower(), "a document declaring entities was parsed"
    for item in items:
        _check_item(item)
        found = matched_phrases(item, phrases)
        assert set(found) <= set(phrases)


def _check_item(item: FeedItem) -> None:
    if item.link is not None:
        parts = urlsplit(item.link)
        assert parts.scheme.lower() in ("http", "https"), item.link
        assert parts.netloc
        assert len(item.link) <= 2000
    assert len(item.title) <= 500
    assert 0 < len(item.guid) <= 500
    assert item.published is None or (
        isinstance(item.published, datetime) and item.published.tzinfo is not None
    )


PHRASES = st.lists(st.one_of(st.text(max_size=20), st.just("NHS Trust")), max_size=3)


@FUZZ
@given(st.binary(max_size=2000), PHRASES)
def test_any_bytes_are_refused_or_parsed(body: bytes, phrases: list[str]) -> None:
    _check(body, phrases)


@FUZZ
@given(feeds(), PHRASES)
def test_hostile_feeds_give_safe_items_or_a_refusal(
    body: bytes, phrases: list[str]
) -> None:
    _check(body, phrases)


def test_a_well_formed_hostile_item_is_stored_as_safe_text() -> None:
    body = (
        b'<rss version="2.0"><channel><title>T</title><item>'
        b"<title>&lt;script&gt;alert(1)&lt;/script&gt;Royal   Hospital Trust</title>"
        b"<link>javascript:alert(1)</link>"
        b'<description>&lt;img src=x onerror="alert(1)"&gt;Good news</description>'
        b"</item></channel></rss>"
    )
    (item,) = parse_feed(body)
    assert item.link is None
    assert "script" not in item.title
    assert item.summary == "Good news"
    assert matched_phrases(item, ["royal hospital trust", "absent"]) == [
        "royal hospital trust"
    ]


# Found by this target: each used to escape parse_feed as an unexpected exception.


def test_an_impossible_date_gives_no_published_time() -> None:
    # "0000-00-00" parses to year -1, which calendar.timegm refused with ValueError.
    body = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><entry>'
        b"<title>News</title><id>x</id><updated>0000-00-00T00:00:00Z</updated>"
        b"</entry></feed>"
    )
    (item,) = parse_feed(body)
    assert item.published is None


def test_an_unparseable_pubdate_does_not_warn() -> None:
    # feedparser's get("updated_parsed") raised a DeprecationWarning (an error here).
    body = (
        b'<rss version="2.0"><channel><title>T</title><item><title>News</title>'
        b"<pubDate>not a date</pubDate></item></channel></rss>"
    )
    (item,) = parse_feed(body)
    assert item.published is None
