"""A stand-in for GOV.UK Notify for tests and benchmarks, never used in production.

It accepts ``POST /v2/notifications/email`` and ``/v2/notifications/sms`` signed by
an API key it knows (a JWT, HS256, signed with the key's secret, ``iss`` the service
id, ``iat`` within 30 seconds), checks the JSON body (required fields, a UUID
template id), answers 201 with a new notification id, and keeps what it accepted.
``GET /v2/notifications?reference=...`` lists the accepted notifications with that
reference, newest first, as Notify does. It can be told to answer 400, 429 or 500
for chosen addresses or numbers. ``start`` serves it from a thread of this process.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass
from dataclasses import field
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from typing import Any

import jwt

PATHS = {
    "/v2/notifications/email": "email_address",
    "/v2/notifications/sms": "phone_number",
}
_ERRORS = {
    400: "BadRequestError",
    403: "AuthError",
    429: "RateLimitError",
    500: "Exception",
}


@dataclass
class FakeNotify:
    """The server's state: its key, what it accepted, what it refused."""

    service_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    secret: str = field(default_factory=lambda: str(uuid.uuid4()))
    #: Each accepted request: {"kind": "email"/"sms", "body": {...}, "id": ...}.
    received: list[dict[str, Any]] = field(default_factory=list)
    #: Each refused request: (status, message).
    refused: list[tuple[int, str]] = field(default_factory=list)
    #: Address or phone number -> the status to answer for it.
    fail_for: dict[str, int] = field(default_factory=dict)
    port: int = 0
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def api_key(self) -> str:
        return f"engage_test-{self.service_id}-{self.secret}"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def lookup(self, path: str, headers: Any) -> tuple[int, dict[str, Any]]:
        """Answer ``GET /v2/notifications`` (by ``reference``) as Notify does."""
        parsed = urllib.parse.urlsplit(path)
        if parsed.path != "/v2/notifications":
            return 404, _error(404, "Not found")
        refused = self._check_token(headers)
        if refused is not None:
            return refused
        query = urllib.parse.parse_qs(parsed.query)
        reference: str | None = query["reference"][0] if "reference" in query else None
        with self._lock:
            found = [
                item
                for item in reversed(self.received)
                if reference is None or item["body"].get("reference") == reference
            ]
        return 200, {
            "notifications": [
                {
                    "id": item["id"],
                    "reference": item["body"].get("reference"),
                    "type": item["kind"],
                    "status": "sending",
                    "email_address": item["body"].get("email_address"),
                    "phone_number": item["body"].get("phone_number"),
                }
                for item in found[:250]
            ],
            "links": {"current": f"{self.base_url}{path}", "next": None},
        }

    def check(self, path: str, headers: Any, raw: bytes) -> tuple[int, dict[str, Any]]:
        """Check one request as Notify would; (status, JSON answer)."""
        if path not in PATHS:
            return 404, _error(404, "Not found")
        refused = self._check_token(headers)
        if refused is not None:
            return refused
        if headers.get("Content-Type") != "application/json":
            return 400, _error(400, "Content-Type must be application/json")
        try:
            body = json.loads(raw)
        except ValueError:
            return 400, _error(400, "Invalid JSON supplied in POST data")
        if not isinstance(body, dict):
            return 400, _error(400, "Invalid JSON supplied in POST data")
        address_key = PATHS[path]
        problems = _body_problems(body, address_key)
        if problems:
            return 400, _error(400, *problems)
        status = self.fail_for.get(str(body[address_key]))
        if status is not None:
            return status, _error(status, f"Refused for the test ({status})")
        notification_id = str(uuid.uuid4())
        kind = "email" if address_key == "email_address" else "sms"
        with self._lock:
            self.received.append({"kind": kind, "body": body, "id": notification_id})
        return 201, {
            "id": notification_id,
            "reference": body.get("reference"),
            "content": {"body": "…"},
            "uri": f"{self.base_url}/v2/notifications/{notification_id}",
            "template": {"id": body["template_id"], "version": 1, "uri": ""},
        }

    def _check_token(self, headers: Any) -> tuple[int, dict[str, Any]] | None:
        auth = headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return 401, _error(
                401, "Unauthorized: authentication token must be provided"
            )
        token = auth.removeprefix("Bearer ")
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") != "HS256":
                return 403, _error(403, "Invalid token: algorithm used is not HS256")
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=["HS256"],
                options={"verify_iat": False, "require": ["iss", "iat"]},
            )
        except jwt.InvalidTokenError as error:
            return 403, _error(403, f"Invalid token: {error}")
        if claims["iss"] != self.service_id:
            return 403, _error(403, "Invalid token: service not found")
        if abs(time.time() - float(claims["iat"])) > 30:
            return 403, _error(
                403, "Error: Your system clock must be accurate to within 30 seconds"
            )
        return None

    def start(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as Notify serves
            # Headers and body go out as separate writes: without this, each
            # answer waits on the client's delayed acknowledgement (about 40 ms).
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                status, answer = fake.lookup(self.path, self.headers)
                self._answer(status, answer)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                status, answer = fake.check(self.path, self.headers, raw)
                self._answer(status, answer)

            def _answer(self, status: int, answer: dict[str, Any]) -> None:
                if status not in (200, 201):
                    with fake._lock:
                        fake.refused.append((status, json.dumps(answer)))
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


class _Server(ThreadingHTTPServer):
    """Quiet about clients that went away mid-request (a killed sender)."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _error(status: int, *messages: str) -> dict[str, Any]:
    return {
        "status_code": status,
        "errors": [
            {"error": _ERRORS.get(status, "Error"), "message": m} for m in messages
        ],
    }


def _body_problems(body: dict[str, Any], address_key: str) -> list[str]:
    """What Notify's schema would refuse in a request body."""
    problems = [
        f"{name} is a required property"
        for name in ("template_id", address_key)
        if not isinstance(body.get(name), str) or not body.get(name)
    ]
    try:
        uuid.UUID(str(body.get("template_id")))
    except ValueError:
        problems.append("template_id is not a valid UUID")
    if address_key == "email_address" and "@" not in str(body.get(address_key, "")):
        problems.append("email_address Not a valid email address")
    if "personalisation" in body and not isinstance(body["personalisation"], dict):
        problems.append("personalisation is not of type object")
    if "reference" in body and not isinstance(body["reference"], str):
        problems.append("reference is not of type string")
    allowed = {"template_id", address_key, "personalisation", "reference"}
    if address_key == "email_address":
        allowed |= {"email_reply_to_id", "one_click_unsubscribe_url"}
    else:
        allowed.add("sms_sender_id")
    problems += [
        f"Additional property {key} is not allowed"
        for key in body
        if key not in allowed
    ]
    return problems
