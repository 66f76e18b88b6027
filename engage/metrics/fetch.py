"""Our own HTTP client for feeds: public addresses only, pinned, time-boxed and capped.

Every hop of a fetch is checked the same way: the scheme must be http or https, the
host is resolved here and *every* address it resolves to must be public (not private,
loopback, link-local, multicast, reserved, unspecified or IPv4-mapped to one of
those). The connection then goes to the address that was checked, so a second DNS
answer cannot swap in an internal one (DNS rebinding); the Host header and TLS SNI and
certificate checks still use the name. Redirects are followed by hand, at most
``max_redirects``, each hop checked again. A watchdog closes the socket at the total
deadline, so a server that drips one byte a second cannot hold the job.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import urljoin
from urllib.parse import urlsplit

REDIRECTS = {301, 302, 303, 307, 308}
USER_AGENT = "Engage media monitoring (+https://github.com/engage)"


class FetchError(Exception):
    """A feed could not be fetched; the message says why (shown to staff)."""


class UnsafeURL(FetchError):
    """The address is not allowed (scheme, or a non-public host)."""


@dataclass(frozen=True)
class FetchLimits:
    """How far a fetch may go (from FEEDS_* config; tests shorten the times)."""

    connect_timeout: float = 5.0
    total_timeout: float = 15.0
    max_bytes: int = 5 * 1024 * 1024
    max_redirects: int = 3
    allow_private: bool = False


@dataclass(frozen=True)
class FetchResult:
    """A fetched body (status 200) or "not modified" (status 304, empty body)."""

    status: int
    body: bytes
    url: str
    etag: str | None = None
    last_modified: str | None = None
    content_type: str = ""

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclass(frozen=True)
class Target:
    """One checked hop: the URL's parts and the public addresses to connect to."""

    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]


def resolve_host(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (tests replace this to mock DNS)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise FetchError(f"The address {host} could not be found.") from error
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def is_public_address(address: str) -> bool:
    """True for a globally routable unicast address (IPv4-mapped IPv6 unwrapped)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif ip.sixtofour is not None or ip.teredo is not None:
            return False
    return ip.is_global and not (
        ip.is_multicast
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_unspecified
    )


def check_url(url: str, *, allow_private: bool) -> Target:
    """Check one URL and resolve its host; UnsafeURL if it may not be fetched."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeURL("Only web addresses starting http:// or https:// can be used.")
    try:
        host, port = parts.hostname, parts.port
    except ValueError as error:
        raise UnsafeURL("The web address has an invalid port.") from error
    if not host:
        raise UnsafeURL("The web address has no host name.")
    if parts.username is not None or parts.password is not None:
        raise UnsafeURL("Web addresses with a user name or password are not allowed.")
    port = port or (443 if scheme == "https" else 80)
    addresses = resolve_host(host, port)
    if not addresses:
        raise FetchError(f"The address {host} could not be found.")
    if not allow_private:
        for address in addresses:
            if not is_public_address(address):
                raise UnsafeURL(
                    f"The address {host} is on a private or local network, which "
                    "feeds may not use."
                )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(scheme, host, port, path, tuple(addresses))


def fetch(
    url: str,
    *,
    limits: FetchLimits,
    etag: str | None = None,
    last_modified: str | None = None,
) -> FetchResult:
    """GET ``url`` within ``limits``, conditionally when an ETag or date is known."""
    deadline = time.monotonic() + limits.total_timeout
    headers = {"User-Agent": USER_AGENT, "Accept": "application/rss+xml, */*;q=0.5"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    for _hop in range(limits.max_redirects + 1):
        target = check_url(url, allow_private=limits.allow_private)
        status, response_headers, body = _request(target, headers, limits, deadline)
        if status in REDIRECTS:
            location = response_headers.get("location")
            if not location:
                raise FetchError(f"HTTP {status} without a Location header.")
            url = urljoin(url, location)
            continue
        if status == 304:
            return FetchResult(304, b"", url, etag, last_modified)
        if status != 200:
            raise FetchError(f"The server answered HTTP {status}.")
        return FetchResult(
            200,
            body,
            url,
            response_headers.get("etag"),
            response_headers.get("last-modified"),
            response_headers.get("content-type", ""),
        )
    raise FetchError(f"More than {limits.max_redirects} redirects.")


class _PinnedConnection(http.client.HTTPConnection):
    """An HTTP(S) connection to an address checked beforehand, named by its host."""

    def __init__(self, target: Target, address: str, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._target = target
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection(
            (self._address, self._target.port), timeout=self.timeout
        )
        if self._target.scheme == "https":
            context = ssl.create_default_context()
            sock = context.wrap_socket(sock, server_hostname=self._target.host)
        self.sock = sock


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise FetchError("The feed took too long to answer.")
    return left


def _request(
    target: Target, headers: dict[str, str], limits: FetchLimits, deadline: float
) -> tuple[int, dict[str, str], bytes]:
    """One request to the first address that accepts a connection."""
    last_error: OSError | None = None
    for address in target.addresses:
        timeout = min(limits.connect_timeout, _remaining(deadline))
        connection = _PinnedConnection(target, address, timeout)
        try:
            connection.connect()
        except TimeoutError as error:
            connection.close()
            raise FetchError(
                "The feed's server did not accept a connection."
            ) from error
        except OSError as error:
            connection.close()
            last_error = error
            continue
        try:
            return _exchange(connection, target, headers, limits, deadline)
        finally:
            connection.close()
    raise FetchError(f"Could not connect to {target.host}: {last_error}")


def _exchange(
    connection: _PinnedConnection,
    target: Target,
    headers: dict[str, str],
    limits: FetchLimits,
    deadline: float,
) -> tuple[int, dict[str, str], bytes]:
    sock = connection.sock
    timed_out = threading.Event()

    def _abort() -> None:
        # Unblocks a recv() that is trickle-fed, which a socket time-out alone cannot.
        timed_out.set()
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)

    watchdog = threading.Timer(_remaining(deadline), _abort)
    watchdog.daemon = True
    watchdog.start()
    try:
        sock.settimeout(_remaining(deadline))
        connection.request("GET", target.path, headers=headers)
        response = connection.getresponse()
        response_headers = {k.lower(): v for k, v in response.getheaders()}
        body = b""
        if response.status == 200:
            body = _read_body(response, response_headers, limits, deadline)
        if timed_out.is_set():
            raise FetchError("The feed took too long to answer.")
        return response.status, response_headers, body
    except (OSError, http.client.HTTPException) as error:
        if timed_out.is_set() or isinstance(error, TimeoutError):
            raise FetchError("The feed took too long to answer.") from error
        raise FetchError(f"The feed could not be read: {error}") from error
    finally:
        watchdog.cancel()


def _read_body(
    response: http.client.HTTPResponse,
    headers: dict[str, str],
    limits: FetchLimits,
    deadline: float,
) -> bytes:
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limits.max_bytes:
        raise FetchError(_too_big(limits))
    chunks: list[bytes] = []
    size = 0
    while True:
        _remaining(deadline)
        chunk = response.read1(64 * 1024)
        if not chunk:
            break
        size += len(chunk)
        if size > limits.max_bytes:
            raise FetchError(_too_big(limits))
        chunks.append(chunk)
    return b"".join(chunks)


def _too_big(limits: FetchLimits) -> str:
    return f"The feed is larger than {limits.max_bytes // (1024 * 1024)} MB."
