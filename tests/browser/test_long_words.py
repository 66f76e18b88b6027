"""People's own words never push a page sideways, in Chromium: a public link, a
heading of 300 characters without a space and a commentary with a pasted link all
break to fit the window, on a desktop and on a phone; in a table, ordinary words are
never split to narrow a column."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engage.accounts.models import Role
from engage.clock import today
from engage.clock import utcnow
from engage.dashboard import periods
from engage.dashboard.models import BoardCommentary
from engage.demo import load_demo
from engage.extensions import db
from engage.surveys.models import Survey
from tests import factories
from tests.browser.conftest import DESKTOP
from tests.browser.conftest import PHONE
from tests.browser.conftest import past_the_edge
from tests.browser.conftest import settle

#: A heading pasted from somewhere with no space or hyphen to break it at, at the
#: longest allowed.
UNBROKEN = ("ScrutinyCommitteePapersStrokeServicesReview" * 7)[:300]
#: A link pasted into the board report's commentary (no hyphen to break it at).
LINK = "https://northshire.gov.example/" + "CommitteePapers" * 12 + "Final.pdf"


def _stays_within_the_window(page: Any, path: str, words: str) -> None:
    """The page does not scroll sideways, and the words are all inside the window."""
    page.goto(path)
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        settle(page)  # the header gathers its links into "More" after a resize
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= size["width"], (
            f"{path} at {size['width']}: {width}, {past_the_edge(page)}"
        )
        # The words' block neither runs past the window nor past its own edge
        # (where a box that clips would hide the rest).
        fits = page.get_by_text(words).first.evaluate(
            """element => {
              const block = element.closest("p, h1, h2, h3, li, dd, td, div");
              const box = block.getBoundingClientRect();
              return box.left >= 0 && box.right <= window.innerWidth
                && block.scrollWidth <= block.clientWidth + 1;
            }"""
        )
        assert fits, f"{path} at {size['width']}"
    page.set_viewport_size(DESKTOP)


def test_long_words_and_links_break_to_fit_the_window(page: Any) -> None:
    logins = load_demo(now=utcnow())
    officer = next(login for login in logins if login.role is Role.OFFICER)
    survey = db.session.scalars(
        select(Survey).where(Survey.public_token_hash.is_not(None))
    ).first()
    assert survey is not None, "the demo has a survey with a public link"
    interaction = factories.InteractionFactory(
        subject=UNBROKEN, audiences=[factories.AudienceFactory(name="Council")]
    )
    quarter = periods.current(periods.PeriodKind.QUARTER, today())
    db.session.add(
        BoardCommentary(
            quarter=quarter.value,
            body=f"The papers are at {LINK} for the board.",
            created_at=utcnow(),
            updated_at=utcnow(),
        )
    )
    db.session.commit()

    page.goto("/login")
    page.get_by_label("Email address").fill(officer.email)
    page.get_by_label("Password").fill(officer.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")
    _stays_within_the_window(
        page, f"/surveys/{survey.id}/public-link/new", f"/s/{survey.public_token}"
    )
    _stays_within_the_window(
        page, f"/relationships/interactions/{interaction.id}", UNBROKEN[:40]
    )
    _stays_within_the_window(
        page, f"/dashboard/board-report?quarter={quarter.value}", LINK[:40]
    )


def test_a_calendar_on_a_phone_keeps_its_words_whole(page: Any) -> None:
    officer = factories.UserFactory(role=Role.OFFICER)
    title = "Primary care practice engagement newsletter"
    factories.ActionFactory(title=title, due_date=today(), next_due_date=today())
    page.goto("/login")
    page.get_by_label("Email address").fill(officer.email)
    page.get_by_label("Password").fill(factories.DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")
    page.set_viewport_size(PHONE)
    page.goto("/actions/calendar")
    settle(page)
    link = page.locator(".engage-calendar").get_by_role("link", name=title)
    # A word split over two lines has two boxes.
    split = link.evaluate(
        """element => {
          const text = element.firstChild;
          const split = [];
          for (const match of text.data.matchAll(/\\S+/g)) {
            const range = document.createRange();
            range.setStart(text, match.index);
            range.setEnd(text, match.index + match[0].length);
            if (range.getClientRects().length > 1) split.push(match[0]);
          }
          return split;
        }"""
    )
    assert split == []
    page.set_viewport_size(DESKTOP)
