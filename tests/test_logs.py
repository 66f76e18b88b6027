"""Logs hold no personal data or secrets, and every line is one UTC-stamped event (D9).

The flows run through the test client with every logger at DEBUG; the captured records
(and stderr) must not contain what people typed or were sent.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engage.logs import SingleLineFormatter
from engage.logs import TokenPathFilter
from engage.logs import mask_tokens
from engage.membership.validators import normalise_phone
from tests import factories

MEMBER_EMAIL = "Priya.Logcheck@Example.com"
MEMBER_PHONE = "07700 900 461"
MEMBER_POSTCODE = "ls2 7uj"
MEMBER_NAME = "Priya Logcheck"
STAFF_EMAIL = "olu.staffcheck@trust.example"
WRONG_PASSWORD = "not-my-password-Quokka"
NEW_PASSWORD = "velvet lantern orbit meadow 42"
LINK = re.compile(
    r"http://engage\.test/(?:join/confirm|membership/manage|set-password)/([^\s/]+)"
)
TIMESTAMP = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})Z ")


def _engage_handler() -> logging.Handler:
    (handler,) = [
        h for h in logging.getLogger("engage").handlers if getattr(h, "_engage", False)
    ]
    return handler


class _CurrentStderr:
    """A stream that writes to whatever ``sys.stderr`` is now (capsys's in a test)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


@pytest.fixture
def captured(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> Iterator[Any]:
    """Every logger at DEBUG; the app's own handler writes to the captured stderr."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="engage")
    handler = _engage_handler()
    assert isinstance(handler, logging.StreamHandler)
    previous = handler.setStream(_CurrentStderr())
    try:
        yield caplog
    finally:
        handler.setStream(previous)


def _record_text(record: logging.LogRecord) -> str:
    parts = [record.getMessage(), repr(record.msg), repr(record.args)]
    if record.exc_info or record.exc_text:
        parts.append(logging.Formatter().formatException(record.exc_info))
    parts.append(repr(record.__dict__))
    return "\n".join(parts)


def _link_tokens(outbox: Any) -> list[str]:
    return [token for message in outbox() for token in LINK.findall(message.body_text)]


def test_realistic_flows_log_no_personal_data_or_secrets(
    app: Flask,
    client: FlaskClient,
    outbox: Any,
    captured: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    staff = factories.UserFactory(email=STAFF_EMAIL, name="Olu Staffcheck")
    cookies: set[str] = set()

    def keep_cookie() -> None:
        cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
        if cookie is not None and cookie.value:
            cookies.add(cookie.value)

    # Staff: a wrong password, then the right one, then sign out.
    assert (
        client.post(
            "/login", data={"email": STAFF_EMAIL, "password": WRONG_PASSWORD}
        ).status_code
        == 200
    )
    keep_cookie()
    response = client.post(
        "/login", data={"email": STAFF_EMAIL, "password": factories.DEFAULT_PASSWORD}
    )
    assert response.status_code == 302
    keep_cookie()
    assert client.get("/").status_code == 200
    keep_cookie()
    client.post("/logout")
    keep_cookie()

    # A member joins with every contact detail, answers nothing more, and confirms.
    joined = client.post(
        "/join",
        data={
            "name": MEMBER_NAME,
            "email": MEMBER_EMAIL,
            "phone": MEMBER_PHONE,
            "address": "",
            "postcode": MEMBER_POSTCODE,
            "practice": "",
            "tier": "silver",
            "consents": ["email", "sms"],
            "support_other": "",
            "website": "",
        },
    )
    assert "Check your email" in joined.get_data(as_text=True)
    keep_cookie()
    (confirm_token,) = _link_tokens(outbox)
    assert client.get(f"/join/confirm/{confirm_token}").status_code == 200
    confirmed = client.post(f"/join/confirm/{confirm_token}")
    assert "Your membership is confirmed" in confirmed.get_data(as_text=True)

    # The manage link: see, change, download, leave.
    client.post("/membership/manage", data={"email": MEMBER_EMAIL})
    manage_token = _link_tokens(outbox)[-1]
    assert manage_token != confirm_token
    assert client.get(f"/membership/manage/{manage_token}").status_code == 200
    saved = client.post(
        f"/membership/manage/{manage_token}",
        data={
            "name": MEMBER_NAME,
            "email": MEMBER_EMAIL,
            "phone": MEMBER_PHONE,
            "address": "",
            "postcode": MEMBER_POSTCODE,
            "practice": "",
            "tier": "gold",
            "consents": ["email", "sms"],
            "support_other": "",
        },
    )
    assert "Your details have been saved" in saved.get_data(as_text=True)
    download = client.get(f"/membership/manage/{manage_token}/data.json")
    assert download.get_json()["member"]["phone"] == normalise_phone(MEMBER_PHONE)
    left = client.post(f"/membership/manage/{manage_token}/withdraw")
    assert "You have left the scheme" in left.get_data(as_text=True)
    keep_cookie()

    # Staff: a password reset, used through its link.
    client.post("/forgot-password", data={"email": STAFF_EMAIL})
    reset_token = _link_tokens(outbox)[-1]
    assert client.get(f"/set-password/{reset_token}").status_code == 200
    done = client.post(
        f"/set-password/{reset_token}", data={"new_password": NEW_PASSWORD}
    )
    assert done.status_code == 302
    keep_cookie()

    secrets = {
        "member email": MEMBER_EMAIL,
        "member email (as stored)": MEMBER_EMAIL.lower(),
        "member email (local part)": MEMBER_EMAIL.split("@")[0],
        "phone (typed)": MEMBER_PHONE,
        "phone (digits)": MEMBER_PHONE.replace(" ", ""),
        "phone (normalised)": normalise_phone(MEMBER_PHONE) or "?",
        "postcode (typed)": MEMBER_POSTCODE,
        "postcode (normalised)": MEMBER_POSTCODE.upper(),
        "name": MEMBER_NAME,
        "staff email": STAFF_EMAIL,
        "wrong password": WRONG_PASSWORD,
        "password": factories.DEFAULT_PASSWORD,
        "new password": NEW_PASSWORD,
        "confirm token": confirm_token,
        "manage token": manage_token,
        "reset token": reset_token,
    }
    for n, cookie in enumerate(sorted(cookies)):
        secrets[f"session cookie {n}"] = cookie
    assert cookies, "no session cookie was set"
    assert staff.id is not None

    stderr = capsys.readouterr()
    records = captured.records
    assert records, "nothing was logged"
    texts = [_record_text(r) for r in records] + [captured.text, stderr.err, stderr.out]
    haystack = "\n".join(texts).lower()
    leaks = {label for label, value in secrets.items() if value.lower() in haystack}
    assert leaks == set(), [
        r.getMessage()
        for r in records
        if any(secrets[label].lower() in _record_text(r).lower() for label in leaks)
    ]

    # Login failure and success: one UTC-stamped line each, naming the account by id.
    lines = stderr.err.splitlines()
    failed = [line for line in lines if "action=login_failed " in line]
    success = [line for line in lines if "action=login " in line]
    assert (len(failed), len(success)) == (1, 1), lines
    assert failed == [
        f"{_stamp(failed[0])} INFO engage.audit.services "
        f"audit action=login_failed entity=user:{staff.id} actor=anonymous"
    ]
    assert success == [
        f"{_stamp(success[0])} INFO engage.audit.services "
        f"audit action=login entity=user:{staff.id} actor={staff.id}"
    ]


def _stamp(line: str) -> str:
    """The line's timestamp, checked to be UTC (within a minute of now) and ISO 8601."""
    match = TIMESTAMP.match(line)
    assert match, line
    when = datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    assert abs(datetime.now(UTC) - when) < timedelta(minutes=1), line
    return match.group(1) + "Z"


def test_a_newline_in_a_username_cannot_forge_a_log_line() -> None:
    formatter = _engage_handler().formatter
    assert isinstance(formatter, SingleLineFormatter)
    forged = "olu@trust.example\n2030-01-01T00:00:00Z INFO engage.audit.services audit"
    record = logging.LogRecord(
        "engage.accounts", logging.INFO, __file__, 1, "login for %s\r", (forged,), None
    )

    line = formatter.format(record)

    assert "\n" not in line
    assert "\r" not in line
    assert len(line.splitlines()) == 1
    assert "olu@trust.example\\n2030-01-01T00:00:00Z" in line


@pytest.mark.parametrize(
    ("breaker", "escaped"),
    [
        ("\r\n", "\\r\\n"),
        ("\u2028", "\\u2028"),
        ("\x85", "\\x85"),
        ("\x0b", "\\x0b"),
        ("\x1b[2K", "\\x1b[2K"),  # a terminal escape that erases the line
    ],
)
def test_other_line_breaks_and_escapes_are_escaped(breaker: str, escaped: str) -> None:
    formatter = SingleLineFormatter("%(message)s")
    record = logging.LogRecord(
        "engage", logging.INFO, __file__, 1, "user %s", (f"a{breaker}b\tc",), None
    )
    assert formatter.format(record) == f"user a{escaped}b\tc"


def test_a_newline_in_an_exception_stays_on_one_line() -> None:
    formatter = _engage_handler().formatter
    assert formatter is not None
    try:
        raise ValueError("bad\nforged line")
    except ValueError:
        record = logging.LogRecord(
            "engage", logging.ERROR, __file__, 1, "failed", (), sys.exc_info()
        )
    assert len(formatter.format(record).splitlines()) == 1


@pytest.mark.parametrize(
    ("path", "masked"),
    [
        ("/join/confirm/abc-DEF_123", "/join/confirm/[token]"),
        ("/membership/manage/abc-DEF_123", "/membership/manage/[token]"),
        (
            "/membership/manage/abc-DEF_123/data.json",
            "/membership/manage/[token]/data.json",
        ),
        (
            "/membership/manage/abc-DEF_123/withdraw?x=1",
            "/membership/manage/[token]/withdraw?x=1",
        ),
        ("/set-password/abc-DEF_123", "/set-password/[token]"),
        ("/calendar/abc-DEF_123.ics", "/calendar/[token].ics"),
        ("/calendar/abc%2FDEF.ics", "/calendar/[token].ics"),
        ("/membership/manage", "/membership/manage"),
        ("/calendar", "/calendar"),
        ("/join", "/join"),
    ],
)
def test_mask_tokens(path: str, masked: str) -> None:
    assert (
        mask_tokens(f'"GET {path} HTTP/1.1" 200 -') == f'"GET {masked} HTTP/1.1" 200 -'
    )


def _passes(logger_name: str, msg: str, args: Any) -> logging.LogRecord:
    record = logging.getLogger(logger_name).makeRecord(
        logger_name, logging.INFO, __file__, 1, msg, args, None
    )
    assert TokenPathFilter().filter(record)
    return record


def test_the_filter_masks_a_werkzeug_request_line() -> None:
    # werkzeug.serving logs: '<ip> - - [<date>] "%s" %s %s' % (request line, code, size)
    record = _passes(
        "werkzeug",
        '127.0.0.1 - - [01/Jan/2030 00:00:00] "%s" %s %s',
        ("GET /membership/manage/SeCrEt-ToKeN/data.json HTTP/1.1", "200", "-"),
    )
    assert "SeCrEt-ToKeN" not in record.getMessage()
    assert '"GET /membership/manage/[token]/data.json HTTP/1.1" 200 -' in (
        record.getMessage()
    )


def test_the_filter_masks_a_gunicorn_access_line() -> None:
    # gunicorn logs the access format with one mapping of atoms as its argument.
    atoms = {
        "h": "10.1.2.3",
        "r": "POST /join/confirm/SeCrEt-ToKeN HTTP/1.1",
        "U": "/join/confirm/SeCrEt-ToKeN",
        "s": "200",
        "f": "http://engage.test/set-password/OtHeR-ToKeN",
    }
    record = _passes("gunicorn.access", '%(h)s "%(r)s" %(s)s %(U)s "%(f)s"', (atoms,))
    message = record.getMessage()
    assert "ToKeN" not in message
    assert message == (
        '10.1.2.3 "POST /join/confirm/[token] HTTP/1.1" 200 /join/confirm/[token] '
        '"http://engage.test/set-password/[token]"'
    )


def test_request_loggers_carry_the_filter(app: Flask) -> None:
    for name in ("werkzeug", "gunicorn.access"):
        filters = logging.getLogger(name).filters
        assert sum(isinstance(f, TokenPathFilter) for f in filters) == 1, name


def test_the_filtered_logger_writes_no_token(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="werkzeug")
    logging.getLogger("werkzeug").info(
        '"%s" %s %s', "GET /join/confirm/SeCrEt-ToKeN HTTP/1.1", "200", "-"
    )
    assert "SeCrEt-ToKeN" not in caplog.text
    assert "/join/confirm/[token]" in caplog.text
