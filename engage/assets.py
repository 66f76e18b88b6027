"""Static files under fingerprinted names, so browsers keep them a year unasked.

``url_for("static", filename="css/engage.css")`` gives
``/static/css/engage.<digest>.css``, the digest taken from the file's content. A request
for that name is answered with ``Cache-Control: max-age=31536000, immutable``: a page
view never re-validates the stylesheets and scripts. When a file changes, its digest,
and so its address, change and pages ask for the new one. A plain name, or the digest
of an older version, is answered with the current file and the ordinary caching.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from pathlib import Path
from typing import Any

from flask import Flask
from flask import Response
from flask import current_app
from flask import send_from_directory
from werkzeug.security import safe_join

from engage.extensions import limiter

ONE_YEAR = 365 * 24 * 60 * 60
_FINGERPRINTED = re.compile(r"^(?P<stem>.+)\.(?P<digest>[0-9a-f]{12})(?P<ext>\.\w+)$")


class Fingerprints:
    """Content digests of a folder's files, re-read only when a file changes."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self._known: dict[str, tuple[int, int, str]] = {}
        self._lock = threading.Lock()

    def digest(self, filename: str) -> str | None:
        """The first 12 hex digits of the file's SHA-256, or None if there is none."""
        path = safe_join(self.folder, filename)
        if path is None or not os.path.isfile(path):
            return None
        stat = os.stat(path)
        with self._lock:
            known = self._known.get(filename)
        if known is not None and known[:2] == (stat.st_mtime_ns, stat.st_size):
            return known[2]
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]
        with self._lock:
            self._known[filename] = (stat.st_mtime_ns, stat.st_size, digest)
        return digest

    def name(self, filename: str) -> str:
        """``filename`` with its digest before the extension (unchanged if unknown)."""
        stem, dot, ext = filename.rpartition(".")
        digest = self.digest(filename) if dot and "/" not in ext else None
        return f"{stem}.{digest}.{ext}" if digest else filename


def _fingerprints() -> Fingerprints:
    found: Fingerprints = current_app.extensions["engage.assets"]
    return found


def _add_fingerprint(endpoint: str, values: dict[str, Any]) -> None:
    if endpoint == "static" and isinstance(values.get("filename"), str):
        values["filename"] = _fingerprints().name(values["filename"])


@limiter.exempt
def serve_static(filename: str) -> Response:
    """Answer ``/static/…``: fingerprinted names for a year, others as usual."""
    prints = _fingerprints()
    match = _FINGERPRINTED.match(filename)
    if match:
        original = match["stem"] + match["ext"]
        current = prints.digest(original)
        if current == match["digest"]:
            response = send_from_directory(prints.folder, original, max_age=ONE_YEAR)
            response.cache_control.immutable = True
            return response
        if current is not None:  # a page from before the file changed
            return send_from_directory(prints.folder, original)
    return send_from_directory(prints.folder, filename)


def init_app(app: Flask) -> None:
    """Serve the static folder under fingerprinted names."""
    app.extensions["engage.assets"] = Fingerprints(str(app.static_folder))
    app.view_functions["static"] = serve_static
    app.url_defaults(_add_fingerprint)
