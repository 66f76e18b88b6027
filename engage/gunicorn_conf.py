"""gunicorn settings for Engage: ``gunicorn -c python:engage.gunicorn_conf wsgi:app``.

Read from the environment so one systemd unit fits every host (docs/deployment.md):
``ENGAGE_BIND`` (default ``127.0.0.1:8000``, behind the reverse proxy),
``WEB_CONCURRENCY`` (workers, default 2 × cores + 1, at most 8), ``ENGAGE_LOG_FORMAT``
(``text`` or ``json``, as the app). The access log records method, path (never the
query string, which can hold search terms), status, size and time, with link tokens
masked; no client address, cookie or user agent.
"""

from __future__ import annotations

import os
from typing import Any

from engage.logs import TEXT_DATE_FORMAT
from engage.logs import TEXT_FORMAT


def _workers() -> int:
    configured = os.environ.get("WEB_CONCURRENCY")
    if configured:
        return max(1, int(configured))
    return min(2 * (os.cpu_count() or 1) + 1, 8)


bind = os.environ.get("ENGAGE_BIND", "127.0.0.1:8000")
workers = _workers()
worker_class = "sync"
timeout = 30  # a request running longer is killed and logged
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then (bounded memory growth); jitter avoids all at once.
max_requests = 2000
max_requests_jitter = 200
# The app, not gunicorn, trusts X-Forwarded-* (ENGAGE_PROXY_FIX_X_FOR): gunicorn
# believes them only from the local proxy.
forwarded_allow_ips = os.environ.get("ENGAGE_FORWARDED_ALLOW_IPS", "127.0.0.1")
limit_request_line = 8190
limit_request_fields = 100
preload_app = False  # each worker builds the app (no scheduler ever runs in workers)

accesslog = "-"
errorlog = "-"
access_log_format = 'access method=%(m)s path="%(U)s" status=%(s)s bytes=%(B)s ms=%(M)s'

_JSON = os.environ.get("ENGAGE_LOG_FORMAT", "text") == "json"

logconfig_dict: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"tokens": {"()": "engage.logs.TokenPathFilter"}},
    "formatters": {
        "engage": (
            {"()": "engage.logs.JsonFormatter"}
            if _JSON
            else {
                "()": "engage.logs.SingleLineFormatter",
                "fmt": TEXT_FORMAT,
                "datefmt": TEXT_DATE_FORMAT,
            }
        )
    },
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "engage",
            "filters": ["tokens"],
            "stream": "ext://sys.stderr",
        }
    },
    "loggers": {
        "gunicorn.error": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "gunicorn.access": {
            "handlers": ["stderr"],
            "level": "INFO",
            "propagate": False,
        },
    },
    "root": {"handlers": [], "level": "WARNING"},
}
