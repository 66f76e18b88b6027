"""The import pages in real Chromium: upload, preview with errors, confirm."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect
from sqlalchemy import func
from sqlalchemy import select

from engage.audiences.models import Audience
from engage.extensions import db
from tests.browser.conftest import assert_accessible
from tests.factories import DEFAULT_PASSWORD
from tests.imports.test_tabular import FIXTURES


def _count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_import_pages_are_accessible(page: Any, cast: dict[str, Any]) -> None:
    page.goto("/login")
    page.get_by_label("Email address").fill(cast["officer"].email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto("/audiences/import")
    assert_accessible(page)
    page.get_by_role("button", name="Check the file").click()  # no file: an error
    assert_accessible(page)
    for name in ("audiences-c4.csv", "audiences-clean.csv"):
        page.goto("/audiences/import")
        page.locator("input[type=file]").set_input_files(str(FIXTURES / name))
        page.get_by_role("button", name="Check the file").click()
        expect(page.locator("h1")).to_contain_text("Check the import of audiences")
        assert_accessible(page)
    page.get_by_role("button", name="Import 3 changes").click()
    assert page.url.endswith("/audiences/")
    db.session.rollback()  # end the test's read snapshot
    assert _count(Audience) == 3
