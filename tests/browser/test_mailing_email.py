"""The rendered email and its preview in headless Chromium: axe finds nothing, and
the email fits a phone without sideways scrolling."""

from __future__ import annotations

from typing import Any

import pytest

from engage.clock import utcnow
from engage.extensions import db
from engage.mailings.compose import render_email
from engage.mailings.models import Mailing
from tests.browser.conftest import BEST_PRACTICE_RULES
from tests.browser.conftest import assert_accessible
from tests.browser.conftest import sign_in

BODY = """Thank you to everyone who came to the spring event.

# What you told us

- Waiting times for [blood tests](https://www.example.nhs.uk/bloods)
- Parking at the hospital

## Dates for your diary

1. Board meeting, 3 March
2. Write to [the team](mailto:engagement@example.nhs.uk)

![Members around a table](https://www.example.nhs.uk/p.jpg)

> A quote from a member.
"""


def _mailing() -> Mailing:
    mailing = Mailing(
        subject="Spring newsletter",
        body=BODY,
        created_at=utcnow(),
        updated_at=utcnow(),
        archive_slug="springslug000000",
        published_at=utcnow(),
    )
    db.session.add(mailing)
    db.session.commit()
    return mailing


@pytest.mark.parametrize("width", [600, 360])
def test_the_email_passes_axe_and_fits_the_width(
    page: Any,
    width: int,
) -> None:
    rendered = render_email(
        _mailing(), unsubscribe_url="http://engage.test/m/token/unsubscribe"
    )
    page.set_viewport_size({"width": width, "height": 900})
    page.set_content(rendered.html)
    # An email is shown inside a mail program, whose landmarks hold it: the rule
    # that everything be in a landmark is for pages.
    assert_accessible(
        page, rules=[rule for rule in BEST_PRACTICE_RULES if rule != "region"]
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.get_by_role("heading", level=1).inner_text() == "Spring newsletter"


def test_the_preview_page_passes_axe(page: Any, cast: Any) -> None:
    mailing = _mailing()
    sign_in(page, cast["officer"])
    page.goto(f"/mailings/{mailing.id}/preview")
    assert_accessible(page)
    frames = page.locator("iframe")
    assert frames.count() == 2
    frame = page.frame_locator("iframe").first
    assert frame.get_by_role("heading", level=1).inner_text() == "Spring newsletter"
