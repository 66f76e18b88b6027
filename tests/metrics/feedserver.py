"""A feed server on loopback for the fetch tests: each path a behaviour."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from contextlib import suppress
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer

Handler = Callable[[BaseHTTPRequestHandler], None]

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Local news</title><link>https://news.example/</link>
<description>News</description>{items}</channel></rss>"""

ITEM = """<item><title>{title}</title><link>{link}</link><guid>{guid}</guid>
<description>{summary}</description><pubDate>{date}</pubDate></item>"""


def rss(*items: dict[str, str]) -> bytes:
    """An RSS 2.0 document with these items (title, link, guid, summary, date)."""
    defaults = {
        "link": "https://news.example/a",
        "summary": "",
        "date": "Tue, 24 Nov 2026 09:00:00 GMT",
    }
    body = "".join(ITEM.format(**{**defaults, **item}) for item in items)
    return RSS.format(items=body).encode()


class FeedServer:
    """Routes: path → handler; records every request path and its headers."""

    def __init__(self) -> None:
        self.routes: dict[str, Handler] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        server = self

        class _Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append((self.path, dict(self.headers.items())))
                route = server.routes.get(self.path)
                if route is None:
                    self.send_error(404)
                    return
                with suppress(BrokenPipeError, ConnectionResetError):
                    route(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def serve(self, path: str, body: bytes, *, etag: str | None = None) -> None:
        """Serve ``body``; answer 304 when the request carries the same ETag."""

        def handler(request: BaseHTTPRequestHandler) -> None:
            if etag and request.headers.get("If-None-Match") == etag:
                request.send_response(304)
                request.end_headers()
                return
            request.send_response(200)
            request.send_header("Content-Type", "application/rss+xml")
            request.send_header("Content-Length", str(len(body)))
            if etag:
                request.send_header("ETag", etag)
            request.end_headers()
            request.wfile.write(body)

        self.routes[path] = handler

    def redirect(self, path: str, location: str) -> None:
        def handler(request: BaseHTTPRequestHandler) -> None:
            request.send_response(302)
            request.send_header("Location", location)
            request.send_header("Content-Length", "0")
            request.end_headers()

        self.routes[path] = handler

    def drip(self, path: str, *, stop: threading.Event) -> None:
        """Send headers, then one byte a second (a slow-drip body)."""

        def handler(request: BaseHTTPRequestHandler) -> None:
            request.send_response(200)
            request.send_header("Content-Type", "application/rss+xml")
            request.end_headers()
            request.wfile.flush()
            while not stop.is_set():
                request.wfile.write(b" ")
                request.wfile.flush()
                time.sleep(1)

        self.routes[path] = handler

    def hang(self, path: str, *, stop: threading.Event) -> None:
        """Accept the request and never answer."""

        def handler(request: BaseHTTPRequestHandler) -> None:
            stop.wait(30)

        self.routes[path] = handler

    def huge(self, path: str, size: int) -> None:
        """A body of ``size`` bytes with no Content-Length (read until closed)."""

        def handler(request: BaseHTTPRequestHandler) -> None:
            request.send_response(200)
            request.send_header("Content-Type", "application/rss+xml")
            request.send_header("Connection", "close")
            request.end_headers()
            block = b"x" * 65536
            sent = 0
            while sent < size:
                request.wfile.write(block)
                sent += len(block)

        self.routes[path] = handler


@contextmanager
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer()
    thread = threading.Thread(target=server.httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()
