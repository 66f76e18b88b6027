"""Logging set-up: UTC timestamps, one line per event, control characters escaped.

Log messages name people by user id, never by e-mail, phone, postcode or token.
"""

from __future__ import annotations

import logging
import time


class SingleLineFormatter(logging.Formatter):
    """Format records on one line so user input cannot forge extra log lines."""

    converter = time.gmtime  # type: ignore[assignment]

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        return text.replace("\r", "\\r").replace("\n", "\\n")


def configure_logging(level: str) -> None:
    """Attach one stderr handler to the ``engage`` logger (idempotent)."""
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
