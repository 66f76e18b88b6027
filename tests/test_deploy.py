"""Deployment: the gunicorn settings module and structured logs (D9)."""

from __future__ import annotations

import gc
import json
import logging
import os
import re
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from gunicorn.config import Config as GunicornConfig

from engage import gunicorn_conf
from engage import ready_to_serve
from engage.logs import JsonFormatter
from engage.logs import configure_logging
from engage.logs import make_formatter
from tests import clock
from tests.conftest import ROOT


def test_gunicorn_settings_are_valid_gunicorn_settings() -> None:
    config = GunicornConfig()
    names = [n for n in vars(gunicorn_conf) if n in config.settings]
    for name in names:
        config.set(name, getattr(gunicorn_conf, name))  # validates each value
    assert {"bind", "workers", "timeout", "accesslog", "logconfig_dict"} <= set(names)
    assert config.bind == ["127.0.0.1:8000"]
    assert "%(U)s" in config.access_log_format  # the path without the query string
    assert "%(h)s" not in config.access_log_format
    assert "%(q)s" not in config.access_log_format


def test_ready_to_serve_takes_start_up_objects_out_of_the_collector(app) -> None:
    gc.unfreeze()
    try:
        assert ready_to_serve(app) is app
        # The full passes no longer walk the modules, the app and its models.
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()


def test_json_log_lines_are_one_object_per_line() -> None:
    record = logging.LogRecord(
        "engage.test", logging.INFO, __file__, 1, "forged\n%s\u2028x", ("line",), None
    )
    line = JsonFormatter().format(record)
    assert "\n" not in line
    assert "\u2028" not in line
    payload = json.loads(line)
    assert payload["message"] == "forged\nline\u2028x"
    assert payload["level"] == "INFO"
    assert payload["time"].endswith("Z")


def test_log_format_is_text_or_json() -> None:
    with pytest.raises(ValueError, match="ENGAGE_LOG_FORMAT"):
        make_formatter("xml")
    handler = next(
        h for h in logging.getLogger("engage").handlers if getattr(h, "_engage", False)
    )
    try:
        configure_logging("INFO", "json")
        assert isinstance(handler.formatter, JsonFormatter)
    finally:
        configure_logging("INFO", "text")
    assert not isinstance(handler.formatter, JsonFormatter)


def _wait_for_port(process: subprocess.Popen[str], lines: list[str]) -> int:
    assert process.stderr is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        lines.append(line)
        match = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", line)
        if match:
            return int(match.group(1))
    raise AssertionError("gunicorn did not start:\n" + "".join(lines))


def test_gunicorn_serves_with_json_access_logs_without_personal_data(
    tmp_path: Path,
) -> None:
    env = {
        **os.environ,
        "ENGAGE_BIND": "127.0.0.1:0",
        "WEB_CONCURRENCY": "1",
        "ENGAGE_LOG_FORMAT": "json",
        "ENGAGE_SECRET_KEY": "x" * 40,
        "ENGAGE_DATABASE_URL": f"sqlite:///{tmp_path / 'engage.sqlite'}",
        "ENGAGE_ERASURE_LEDGER": str(tmp_path / "erasures.log"),
        "ENGAGE_BACKUP_DIR": str(tmp_path / "backups"),
    }
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        clock.python_command(
            "-m", "gunicorn", "-c", "python:engage.gunicorn_conf", "wsgi:app"
        ),
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    try:
        port = _wait_for_port(process, lines)
        base = f"http://127.0.0.1:{port}"
        # The master listens before its worker has loaded the app: on a busy
        # machine the first answer can take many seconds.
        with urllib.request.urlopen(f"{base}/login?q=pat@example.org", timeout=60) as r:  # noqa: S310
            assert r.status == 200
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"{base}/set-password/SECRETTOKEN123", timeout=30)  # noqa: S310
    finally:
        process.send_signal(signal.SIGTERM)
        _, rest = process.communicate(timeout=30)
    lines.extend(rest.splitlines())
    events = [json.loads(line) for line in lines if line.strip()]
    access = [e["message"] for e in events if e["logger"] == "gunicorn.access"]
    assert 'access method=GET path="/login" status=200' in access[0]
    # The database is empty (503): what matters here is the masked path.
    assert 'access method=GET path="/set-password/[token]" status=' in access[1]
    text = "\n".join(lines)
    assert "pat@example.org" not in text
    assert "SECRETTOKEN123" not in text
