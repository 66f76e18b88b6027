"""The feed HTTP client: SSRF refusals (E1), time limits (E3), redirects, size cap."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from engage.errors import ValidationError
from engage.metrics import fetch as fetch_module
from engage.metrics.feeds import validate_feed_url
from engage.metrics.fetch import FetchError
from engage.metrics.fetch import FetchLimits
from engage.metrics.fetch import UnsafeURL
from engage.metrics.fetch import fetch
from tests.metrics.feedserver import FeedServer
from tests.metrics.feedserver import feed_server
from tests.metrics.feedserver import rss

#: The HTTP client alone, no database: the SQLite run alone runs these.
pytestmark = pytest.mark.pure

FAST = FetchLimits(connect_timeout=1, total_timeout=3, allow_private=True)


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with feed_server() as running:
        yield running


@pytest.fixture
def stop() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()


@pytest.fixture
def no_connections(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Any attempt to open a connection fails the test (and is recorded)."""
    attempts: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(args)
        raise AssertionError(f"a connection was attempted: {args}")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts


REFUSED = [
    "file:///etc/passwd",
    "/etc/passwd",
    "etc/passwd",
    "ftp://ftp.example.org/feed.xml",
    "http://127.0.0.1:8080/",
    "http://[::1]/",
    "http://0.0.0.0/",
    "http://2130706433/",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/",
    "http://[::ffff:127.0.0.1]/",
    "http://user:pass@news.example/feed",
]


@pytest.mark.parametrize("url", REFUSED)
def test_unsafe_feed_urls_are_refused_at_save_time_without_connecting(
    url: str, no_connections: list[Any]
) -> None:
    with pytest.raises(ValidationError):
        validate_feed_url(url)
    assert no_connections == []


@pytest.mark.parametrize("url", REFUSED)
def test_unsafe_feed_urls_are_refused_at_fetch_time_without_connecting(
    url: str, no_connections: list[Any]
) -> None:
    with pytest.raises(FetchError):
        fetch(url, limits=FetchLimits())
    assert no_connections == []


def test_a_host_resolving_to_loopback_is_refused(
    monkeypatch: pytest.MonkeyPatch, no_connections: list[Any]
) -> None:
    monkeypatch.setattr(
        fetch_module, "resolve_host", lambda host, port: ["93.184.215.14", "127.0.0.1"]
    )
    with pytest.raises(ValidationError, match="private or local"):
        validate_feed_url("https://rebind.example/feed.xml")
    with pytest.raises(UnsafeURL):
        fetch("https://rebind.example/feed.xml", limits=FetchLimits())
    assert no_connections == []


def test_a_public_host_is_accepted_at_save_time(
    monkeypatch: pytest.MonkeyPatch, no_connections: list[Any]
) -> None:
    monkeypatch.setattr(
        fetch_module, "resolve_host", lambda host, port: ["93.184.215.14"]
    )
    assert validate_feed_url(" https://news.example/feed.xml ") == (
        "https://news.example/feed.xml"
    )


def test_the_connection_goes_to_the_checked_address_with_the_host_header(
    server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The name resolves once, to loopback; the request must carry the name as Host.
    calls: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        return ["127.0.0.1"]

    monkeypatch.setattr(fetch_module, "resolve_host", resolve)
    server.serve("/feed", rss({"title": "One", "guid": "1"}))
    result = fetch(f"http://feeds.test:{server.port}/feed", limits=FAST)
    assert result.status == 200
    assert b"<title>One</title>" in result.body
    assert calls == ["feeds.test"]
    assert server.requests[0][1]["Host"] == f"feeds.test:{server.port}"


def test_conditional_get_returns_not_modified(server: FeedServer) -> None:
    server.serve("/feed", rss({"title": "One", "guid": "1"}), etag='"v1"')
    first = fetch(server.url("/feed"), limits=FAST)
    again = fetch(server.url("/feed"), limits=FAST, etag=first.etag)
    assert (first.status, first.etag) == (200, '"v1"')
    assert again.not_modified
    assert server.requests[1][1]["If-None-Match"] == '"v1"'


def test_three_redirects_are_followed_but_not_four(server: FeedServer) -> None:
    server.serve("/feed", rss({"title": "One", "guid": "1"}))
    for n in range(4):
        server.redirect(f"/r{n}", f"/r{n + 1}" if n < 3 else "/feed")
    server.redirect("/r4", "/r0")
    assert fetch(server.url("/r1"), limits=FAST).status == 200  # 3 hops
    with pytest.raises(FetchError, match="More than 3 redirects"):
        fetch(server.url("/r0"), limits=FAST)  # 4 hops


def test_a_redirect_to_a_private_address_is_refused_without_connecting(
    server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Treat the test server's 127.0.0.1 as if it were public, and nothing else.
    monkeypatch.setattr(
        fetch_module, "is_public_address", lambda address: address == "127.0.0.1"
    )
    server.redirect("/feed", "http://169.254.169.254/latest/meta-data/")
    connects: list[Any] = []
    real = socket.create_connection

    def counting(address: Any, *args: Any, **kwargs: Any) -> Any:
        connects.append(address)
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", counting)
    with pytest.raises(UnsafeURL):
        fetch(
            server.url("/feed"), limits=FetchLimits(connect_timeout=1, total_timeout=3)
        )
    assert connects == [("127.0.0.1", server.port)]


def test_a_server_that_never_answers_times_out(
    server: FeedServer, stop: threading.Event
) -> None:
    server.hang("/feed", stop=stop)
    started = time.monotonic()
    with pytest.raises(FetchError, match="too long"):
        fetch(server.url("/feed"), limits=FAST)
    assert time.monotonic() - started < 4


@pytest.mark.timeout(25)
def test_a_one_byte_a_second_body_is_cut_off_at_the_default_15_seconds(
    server: FeedServer, stop: threading.Event
) -> None:
    assert FetchLimits().total_timeout == 15
    assert FetchLimits().connect_timeout == 5
    server.drip("/feed", stop=stop)
    started = time.monotonic()
    with pytest.raises(FetchError, match="too long"):
        fetch(server.url("/feed"), limits=FetchLimits(allow_private=True))
    assert 14 < time.monotonic() - started < 17


def test_a_slow_drip_is_cut_off_at_a_shorter_configured_total(
    server: FeedServer, stop: threading.Event
) -> None:
    server.drip("/feed", stop=stop)
    started = time.monotonic()
    with pytest.raises(FetchError, match="too long"):
        fetch(server.url("/feed"), limits=FAST)
    assert time.monotonic() - started < 4


def test_a_body_over_the_cap_is_refused(server: FeedServer) -> None:
    server.huge("/big", 5 * 1024 * 1024 + 65536)
    server.serve("/declared", b"x" * (1024 * 1024 + 1))
    with pytest.raises(FetchError, match="larger than 5 MB"):
        fetch(server.url("/big"), limits=FAST)
    small = FetchLimits(
        connect_timeout=1, total_timeout=3, allow_private=True, max_bytes=1024 * 1024
    )
    with pytest.raises(FetchError, match="larger than 1 MB"):
        fetch(server.url("/declared"), limits=small)


def test_http_errors_are_reported(server: FeedServer) -> None:
    with pytest.raises(FetchError, match="HTTP 404"):
        fetch(server.url("/missing"), limits=FAST)
