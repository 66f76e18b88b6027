"""Logging set-up: UTC timestamps, one line per event, control characters escaped.

Log messages name people by user id, never by email, phone, postcode or token.
Request logs (werkzeug's and gunicorn's access log) record URL paths, and the paths of
emailed links carry private tokens: ``TokenPathFilter`` masks them.
"""

from __future__ import annotations

import json
import logging
import re
import time

#: Characters that some reader could take as the end of a line, or that drive a
#: terminal (escape sequences): each is written as an escape, so one event is one line.
_LINE_BREAKING = {
    **{code: f"\\x{code:02x}" for code in range(0x20) if code != ord("\t")},
    ord("\n"): "\\n",
    ord("\r"): "\\r",
    0x7F: "\\x7f",
    0x85: "\\x85",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}

#: Paths whose next segment is a secret token (a link emailed or given to one person).
_TOKEN_PATH = re.compile(
    r"(/(?:join/confirm|membership/manage|set-password|calendar|s)/)[^/\s?#\"'.]+"
    # An invitation's private link: a signed id, whose dot is part of the token.
    r"|(/i/)[^/\s?#\"']+"
)
# The placeholder written instead of a token, not a secret.
TOKEN_MASK = "[token]"  # noqa: S105  # nosec B105


class SingleLineFormatter(logging.Formatter):
    """Format records on one line so user input cannot forge extra log lines."""

    converter = time.gmtime  # type: ignore[assignment]

    def format(self, record: logging.LogRecord) -> str:
        return super().format(record).translate(_LINE_BREAKING)


class JsonFormatter(logging.Formatter):
    """One JSON object per line (``ENGAGE_LOG_FORMAT=json``) for log collectors.

    ``json.dumps`` escapes line breaks and, with ``ensure_ascii``, U+2028/U+2029, so
    user input cannot forge a second event. Only the message is logged: no request
    data, cookies or extra attributes that could carry personal data.
    """

    converter = time.gmtime  # type: ignore[assignment]

    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + "Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=True)


TEXT_FORMAT = "%(asctime)sZ %(levelname)s %(name)s %(message)s"
TEXT_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"


def make_formatter(fmt: str) -> logging.Formatter:
    """The formatter for ``ENGAGE_LOG_FORMAT``: ``text`` (default) or ``json``."""
    if fmt == "json":
        return JsonFormatter()
    if fmt != "text":
        raise ValueError(f"ENGAGE_LOG_FORMAT must be 'text' or 'json', not {fmt!r}")
    return SingleLineFormatter(TEXT_FORMAT, TEXT_DATE_FORMAT)


def mask_tokens(text: str) -> str:
    """``text`` with the token in each link path replaced by ``[token]``."""
    return _TOKEN_PATH.sub(lambda m: (m.group(1) or m.group(2)) + TOKEN_MASK, text)


class TokenPathFilter(logging.Filter):
    """Mask link tokens in a record's message and arguments (never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError, KeyError):
            # A message that does not format: mask the parts as they are.
            record.msg = mask_tokens(str(record.msg))
            if isinstance(record.args, tuple):
                record.args = tuple(mask_tokens(str(arg)) for arg in record.args)
            elif record.args:
                record.args = {k: mask_tokens(str(v)) for k, v in record.args.items()}
            return True
        masked = mask_tokens(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


#: Loggers that write request paths (the development server's and gunicorn's).
REQUEST_LOGGERS = ("werkzeug", "gunicorn.access")


def configure_logging(level: str, fmt: str = "text") -> None:
    """Attach one stderr handler to the ``engage`` logger (idempotent).

    Also masks link tokens in the request loggers' lines. ``fmt`` is ``text`` or
    ``json``; calling again switches the format of the existing handler.
    """
    formatter = make_formatter(fmt)
    for name in REQUEST_LOGGERS:
        request_logger = logging.getLogger(name)
        if not any(isinstance(f, TokenPathFilter) for f in request_logger.filters):
            request_logger.addFilter(TokenPathFilter())
    logger = logging.getLogger("engage")
    logger.setLevel(level.upper())
    for existing in logger.handlers:
        if getattr(existing, "_engage", False):
            existing.setFormatter(formatter)
            return
    handler = logging.StreamHandler()
    handler._engage = True  # type: ignore[attr-defined]
    handler.setFormatter(formatter)
    logger.addHandler(handler)
    logger.propagate = True
