"""Browser fixtures: a live Engage server on loopback and Debian's headless Chromium.

Playwright drives /usr/bin/chromium (``CHROMIUM_PATH`` to override); it never downloads
a browser. Requests that leave 127.0.0.1 (such as the NHS font CDN) fail: Chromium
resolves no other host. (Playwright's own request routing would do the same through a
Python callback per request, with the browser's cache off: far slower.)
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import urllib.parse
from collections.abc import Iterator
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parents[2]
AXE_PATH = ROOT / "node_modules" / "axe-core" / "axe.min.js"
_AXE_SOURCE = AXE_PATH.read_text() if AXE_PATH.exists() else ""
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
#: axe's best-practice rules the pages keep as well: everything inside a landmark (the
#: back link too), landmarks told apart by their names, headings in order.
BEST_PRACTICE_RULES = ["region", "landmark-unique", "heading-order"]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    # Every host but loopback is unknown, so nothing leaves the machine.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


def _buffered(app: Flask) -> Any:
    """Read each response whole before sending it, so file responses are closed at once.

    Otherwise a static file whose download the browser abandons (navigating on) stays
    open in a server thread and surfaces later as a ResourceWarning in another test.
    """

    def wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        body = app(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            if hasattr(body, "close"):
                body.close()

    return wsgi


@pytest.fixture(scope="session")
def live_server(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, _buffered(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    executable = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    if executable is None:
        # `make test` installs Debian's chromium: a missing browser fails, never skips.
        pytest.fail("Chromium not found: run `make browser` (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


def _new_page(browser: Any, live_server: str, **options: Any) -> Any:
    context = browser.new_context(base_url=live_server, **options)
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


@pytest.fixture
def page(browser: Any, live_server: str) -> Iterator[Any]:
    page = _new_page(browser, live_server)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # Console errors too (a module address the import map does not know, a script the
    # content security policy refuses), and any script or stylesheet that fails to load.
    # A page answered with an error status is a test's own business.
    page.on(
        "console",
        lambda message: (
            errors.append(message.text)
            if message.type == "error"
            and not message.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on(
        "response",
        lambda response: (
            errors.append(f"{response.status} {response.url}")
            if response.status >= 400
            and response.request.resource_type
            in ("script", "stylesheet", "font", "image")
            else None
        ),
    )
    yield page
    page.context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


@pytest.fixture
def page_without_js(browser: Any, live_server: str) -> Iterator[Any]:
    page = _new_page(browser, live_server, java_script_enabled=False)
    yield page
    page.context.close()


def settle(page: Any) -> None:
    """Let the page finish loading and laying out before it is judged.

    On a busy machine a click's new page can still be starting its scripts: the
    header moves navigation items into its "More" menu after the NHS.UK frontend has
    started, one animation frame after each resize. axe run in between judges a
    half-laid-out header.
    """
    page.wait_for_load_state("load")
    page.wait_for_function(
        "() => !document.querySelector('script[type=module]')"
        " || document.body.classList.contains('nhsuk-frontend-supported')"
    )
    page.evaluate(
        "() => new Promise(done =>"
        " requestAnimationFrame(() => requestAnimationFrame(done)))"
    )


def axe_violations(
    page: Any, *, rules: Sequence[str] = BEST_PRACTICE_RULES
) -> list[dict[str, Any]]:
    """Run axe-core (from npm) on the page for WCAG 2.2 A/AA and the best-practice
    ``rules``; return the violations.

    The mouse is moved to the page's bottom corner first: after a click it rests on
    the link clicked, which on the new page is often the same header link, and axe
    would judge its hover colours (sometimes: the hover is applied on the next mouse
    event) instead of the page as it is read.
    """
    size = page.viewport_size or {"width": 1280, "height": 720}
    page.mouse.move(size["width"] - 1, size["height"] - 1)
    settle(page)
    page.evaluate(_AXE_SOURCE)
    # Only the violations are asked for and sent back: the passes, a hundred times
    # larger, cost most of a run's time to gather and to carry out of the browser.
    return page.evaluate(
        """([tags, rules]) => axe.run(document, {
            runOnly: {type: 'tag', values: tags},
            rules: Object.fromEntries(rules.map(rule => [rule, {enabled: true}])),
            resultTypes: ['violations']
        }).then(result => result.violations.map(v => ({
            id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target)
        })))""",
        [WCAG_TAGS, list(rules)],
    )


def assert_accessible(page: Any, *, rules: Sequence[str] = BEST_PRACTICE_RULES) -> None:
    """Fail with a readable list if axe finds any violation (see axe_violations)."""
    violations = axe_violations(page, rules=rules)
    assert violations == [], json.dumps(violations, indent=2)


def sign_in(page: Any, user: Any, password: str | None = None) -> None:
    """Sign in through the login form, entering a code when the code step appears."""
    from tests.factories import DEFAULT_PASSWORD
    from tests.factories import totp_code

    page.goto("/login")
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password").fill(password or DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    if page.url.endswith("/login/code"):
        page.get_by_label("Code from your authenticator app").fill(totp_code(user))
        page.get_by_role("button", name="Continue").click()


def fill_date(page: Any, legend: str, day: Any) -> None:
    """Type ``day`` into the NHS.UK date input whose legend is ``legend``."""
    group = page.get_by_role("group", name=legend)
    group.get_by_label("Day").fill(str(day.day))
    group.get_by_label("Month").fill(str(day.month))
    group.get_by_label("Year").fill(str(day.year))


DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
#: What a page of the app says when the server fails (its error page, or Werkzeug's).
SERVER_ERRORS = ("Sorry, there is a problem with the service", "Internal Server Error")


def past_the_edge(page: Any) -> list[str]:
    """The innermost elements that reach past the window's right edge (what makes a
    page scroll sideways), each as its tag, classes and first words."""
    return list(
        page.evaluate(
            """() => {
              const edge = document.documentElement.clientWidth + 0.5;
              const wide = [...document.querySelectorAll("body *")].filter(
                (e) => e.getBoundingClientRect().right > edge);
              return wide.filter((e) => !wide.some((o) => o !== e && e.contains(o)))
                .slice(0, 5).map((e) => `${e.tagName.toLowerCase()}.${e.className}: `
                  + (e.textContent || "").trim().slice(0, 60));
            }"""
        )
    )


class Journey:
    """What a journey has seen: the pages checked with axe, and any server or
    JavaScript errors on the way."""

    def __init__(self) -> None:
        self.axe_pages: list[str] = []
        self.server_errors: list[str] = []  # and JavaScript errors

    def watch(self, page: Any) -> Any:
        """Record any answer from the server that is a server error, and any
        JavaScript error on the page."""
        page.on("pageerror", lambda error: self.server_errors.append(str(error)))
        page.on(
            "response",
            lambda response: (
                self.server_errors.append(f"{response.status} {response.url}")
                if response.status >= 500
                else None
            ),
        )
        return page

    def check(self, page: Any) -> None:
        """axe finds nothing at desktop nor phone width; nothing sideways on a phone;
        the page is not a server error."""
        words = page.locator("body").inner_text()
        for error in SERVER_ERRORS:
            assert error not in words, page.url
        for size in (DESKTOP, PHONE):
            page.set_viewport_size(size)
            assert_accessible(page)
            width = page.evaluate("() => document.documentElement.scrollWidth")
            assert width <= size["width"], (
                f"{page.url} scrolls sideways at {width}: {past_the_edge(page)}"
            )
        page.set_viewport_size(DESKTOP)
        self.axe_pages.append(urllib.parse.urlsplit(page.url).path)
