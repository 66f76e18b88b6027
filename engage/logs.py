"""Logging set-up: UTC timestamps, one line per event, control characters escaped.

Log messages name people by user id, never by e-mail, phone, postcode or token.
Request logs (werkzeug's and gunicorn's access log) record URL paths, and the paths of
e-mailed links carry private tokens: ``TokenPathFilter`` masks them.
"""

from __future__ import annotations

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

#: Paths whose next segment is a secret token (a link e-mailed or given to one person).
_TOKEN_PATH = re.compile(
    r"(/(?:join/confirm|membership/manage|set-password|calendar|s)/)[^/\s?#\"'.]+"
)
TOKEN_MASK = "[token]"  # noqa: S105 - the placeholder, not a secret


class SingleLineFormatter(logging.Formatter):
    """Format records on one line so user input cannot forge extra log lines."""

    converter = time.gmtime  # type: ignore[assignment]

    def format(self, record: logging.LogRecord) -> str:
        return super().format(record).translate(_LINE_BREAKING)


def mask_tokens(text: str) -> str:
    """``text`` with the token in each link path replaced by ``[token]``."""
    return _TOKEN_PATH.sub(lambda m: m.group(1) + TOKEN_MASK, text)


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


def configure_logging(level: str) -> None:
    """Attach one stderr handler to the ``engage`` logger (idempotent).

    Also masks link tokens in the request loggers' lines.
    """
    for name in REQUEST_LOGGERS:
        request_logger = logging.getLogger(name)
        if not any(isinstance(f, TokenPathFilter) for f in request_logger.filters):
            request_logger.addFilter(TokenPathFilter())
    logger = logging.getLogger("engage")
    logger.setLevel(level.upper())
    if any(getattr(h, "_engage", False) for h in logger.handlers):
        return
    handler = logging.StreamHandler()
    handler._engage = True  # type: ignore[attr-defined]
    handler.setFormatter(
        SingleLineFormatter(
            "%(asctime)sZ %(levelname)s %(name)s %(message)s", "%Y-%m-%dT%H:%M:%S"
        )
    )
    logger.addHandler(handler)
    logger.propagate = True
