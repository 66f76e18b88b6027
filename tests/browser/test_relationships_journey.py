"""A relationship from "due for contact" to the printed meeting brief, in Chromium.

A council the trust manages has not been reached for 60 days against its 30. Its
owner opens its page, logs a meeting with two of its contacts (the form refuses a
missing heading, and a contact of another audience), raises two themes, and adds a
commitment due tomorrow from the meeting's page. The council's page then shows the
contact on time, the health explained in words, the meeting, the commitment and the
themes. The commitment is not overdue on the to-do list today; the clock moves to the
day after tomorrow and it is. The meeting brief has all of it, prints without the
header, and fits one A4 page. axe runs on every page at 1280 and 390 px, and no page
on the way is a server error or has a JavaScript error.
"""

from __future__ import annotations

import re
import urllib.parse
from datetime import datetime
from datetime import time as wall_clock
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from playwright.sync_api import expect
from pypdf import PdfReader
from sqlalchemy import select

from engage.audiences.models import Approach
from engage.audiences.models import AudienceGroup
from engage.clock import local_to_utc
from engage.clock import today
from engage.clock import utcnow
from engage.extensions import db
from engage.organisation.models import Organisation
from engage.relationships.brief import COMMITMENTS_SHOWN
from engage.relationships.brief import CONTACTS_SHOWN
from engage.relationships.brief import INTERACTIONS_SHOWN
from engage.relationships.brief import THEMES_SHOWN
from engage.relationships.commitments import MAX_DESCRIPTION
from engage.relationships.models import Commitment
from engage.relationships.models import CommitmentStatus
from engage.relationships.models import Interaction
from engage.relationships.models import InteractionKind
from engage.relationships.models import InteractionStatus
from engage.relationships.models import Sentiment
from tests import factories
from tests.browser.conftest import DESKTOP
from tests.browser.conftest import SERVER_ERRORS
from tests.browser.conftest import Journey
from tests.browser.conftest import fill_date
from tests.browser.conftest import sign_in

COUNCIL = "Northshire County Council"
MEETING = "Stroke services: meeting with the health scrutiny chairs"
PROMISE = "Send the stroke review papers to the scrutiny committee"
THEMES = ("Stroke services review", "GP access")
#: A4 in PDF points (1/72 inch), as PDF page boxes give it.
A4_POINTS = (595, 842)


class LinkJourney(Journey):
    """A journey that also keeps every link on the pages it checks, to follow."""

    def __init__(self) -> None:
        super().__init__()
        self.links: set[str] = set()

    def check(self, page: Any) -> None:
        super().check(page)
        for href in page.eval_on_selector_all(
            "a[href]", "links => links.map(link => link.href)"
        ):
            address = urllib.parse.urlsplit(href)._replace(fragment="")
            if href.startswith(page.url.split("/", 3)[0] + "//" + address.netloc):
                self.links.add(address.geturl())

    def follow_links(self, page: Any) -> dict[str, int]:
        """Every link kept, fetched as the user signed in: those that fail."""
        broken = {}
        for link in sorted(self.links):
            response = page.request.get(link, max_redirects=0)
            if response.status >= 400:
                broken[link] = response.status
        return broken


@pytest.fixture
def journey() -> LinkJourney:
    return LinkJourney()


@pytest.fixture
def officer_page(page: Any, journey: Journey) -> Any:
    return journey.watch(page)


def _people() -> dict[str, Any]:
    """The organisation, the officer who owns the council, its two contacts (and one
    of another audience), the two themes; the council last reached 60 days ago."""
    db.session.add(Organisation(id=1, name="NHS Northshire ICB", short_name="NICB"))
    day = today()
    long_ago = utcnow() - timedelta(days=400)
    officer = factories.UserFactory(role="officer", name="Olu Officer")
    council = factories.AudienceFactory(
        name=COUNCIL,
        group=AudienceGroup.PARTNER,
        approach=Approach.MANAGE,
        influence=5,
        interest=4,
        owner=officer,
        created_at=long_ago,
        updated_at=long_ago,
    )
    other = factories.AudienceFactory(name="Northshire Healthwatch")
    people: dict[str, Any] = {
        "officer": officer,
        "council": council,
        "other": other,
        "chair": factories.ContactFactory(
            audience=council, name="Cllr Asha Patel", role="Chair, health scrutiny"
        ),
        "deputy": factories.ContactFactory(
            audience=council, name="Cllr Ben Hughes", role="Deputy chair"
        ),
        "stranger": factories.ContactFactory(
            audience=other, name="Chris Stranger", role="Manager"
        ),
        "themes": [factories.ThemeFactory(name=name) for name in THEMES],
    }
    factories.ActivityFactory(
        occurred_on=day - timedelta(days=60),
        description="Newsletter to partners",
        audiences=[council],
    )
    db.session.commit()
    return people


def _audience_page_before(page: Any, journey: Journey, council_id: int) -> None:
    """Due for contact, and the health section says why."""
    page.goto(f"/audiences/{council_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text(COUNCIL)
    main = page.locator("main")
    expect(main).to_contain_text("Due for contact")
    expect(main).to_contain_text("Expected every 30 days.")
    health = (
        page.locator("main")
        .get_by_role("list")
        .filter(has_text="No contact for 60 days against 30")
    )
    expect(health).to_have_count(1)
    journey.check(page)


def _log_meeting(page: Any, journey: Journey, people: dict[str, Any]) -> int:
    """Through "Log an interaction": refused twice, then logged. Its id."""
    page.get_by_role("link", name="Log an interaction").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Log an interaction")
    council_box = page.get_by_role("checkbox", name=COUNCIL, exact=True)
    expect(council_box).to_be_checked()
    journey.check(page)

    # Without JavaScript the contacts are offered by a button that saves nothing.
    page.get_by_role("button", name="Show the contacts of the audiences ticked").click()
    expect(page.locator(".nhsuk-error-summary")).to_have_count(0)
    chair = page.get_by_role("checkbox", name=re.compile(r"^Cllr Asha Patel"))
    deputy = page.get_by_role("checkbox", name=re.compile(r"^Cllr Ben Hughes"))
    expect(chair).to_have_count(1)
    expect(deputy).to_have_count(1)
    expect(page.get_by_text("Chris Stranger")).to_have_count(0)

    page.get_by_role("radio", name="Meeting", exact=True).check()
    chair.check()
    deputy.check()
    for theme in THEMES:
        page.get_by_role("checkbox", name=theme, exact=True).check()
    page.get_by_role("radio", name="Mixed", exact=True).check()
    page.get_by_label("Summary").fill(
        "They back the review but worry about travel to the new stroke unit."
    )

    # No heading: the error summary says so, and what was ticked is kept.
    page.get_by_role("button", name="Log the interaction").click()
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_contain_text("Enter a short heading for the interaction")
    expect(chair).to_be_checked()
    expect(page.get_by_role("checkbox", name=THEMES[1], exact=True)).to_be_checked()
    journey.check(page)

    # A contact of another audience, sent as a forged tick, is refused in words.
    page.get_by_label("Heading").fill(MEETING)
    page.evaluate(
        """id => {
            const box = document.createElement('input');
            box.type = 'checkbox'; box.name = 'contacts'; box.value = String(id);
            box.checked = true; box.hidden = true;
            document.querySelector('main form').appendChild(box);
        }""",
        people["stranger"].id,
    )
    page.get_by_role("button", name="Log the interaction").click()
    expect(page.locator(".nhsuk-error-summary")).to_have_count(1)
    expect(page.get_by_role("heading", level=1)).to_have_text("Log an interaction")
    db.session.rollback()
    assert db.session.scalars(select(Interaction)).all() == []
    expect(
        page.get_by_role("checkbox", name=re.compile(r"^Chris Stranger"))
    ).to_have_count(1)
    page.get_by_role("checkbox", name=re.compile(r"^Chris Stranger")).uncheck()

    page.get_by_role("button", name="Log the interaction").click()
    expect(page.locator(".nhsuk-error-summary")).to_have_count(0)
    expect(page.get_by_text("Interaction logged.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(MEETING)
    found = re.search(r"/relationships/interactions/(\d+)$", page.url)
    assert found, page.url
    main = page.locator("main")
    expect(main).to_contain_text("Cllr Asha Patel, Chair, health scrutiny")
    expect(main).to_contain_text("Cllr Ben Hughes, Deputy chair")
    expect(main).to_contain_text("GP access, Stroke services review")
    expect(main).to_contain_text("Mixed")
    journey.check(page)
    return int(found.group(1))


def _add_commitment(
    page: Any, journey: Journey, people: dict[str, Any], interaction_id: int
) -> None:
    """From the meeting's page: a commitment due tomorrow, owned by the officer."""
    page.get_by_role("link", name="Add a commitment").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a commitment")
    expect(page.get_by_label("To which audience")).to_have_value(
        str(people["council"].id)
    )
    expect(page.get_by_label("Owner")).to_have_value(str(people["officer"].id))
    expect(page.get_by_label("Made at")).to_have_value(str(interaction_id))
    journey.check(page)
    page.get_by_label("What was promised").fill(PROMISE)
    fill_date(page, "Due date", today() + timedelta(days=1))
    page.get_by_role("button", name="Save commitment").click()
    expect(page.locator(".nhsuk-error-summary")).to_have_count(0)
    expect(page.get_by_text("Commitment added.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(COUNCIL)
    # The meeting's page lists what was promised at it.
    page.goto(f"/relationships/interactions/{interaction_id}")
    made = page.locator("main").get_by_role("listitem").filter(has_text=PROMISE)
    expect(made).to_contain_text(f"due {_uk(today() + timedelta(days=1))} (Open)")


def _audience_page_after(page: Any, journey: Journey, council_id: int) -> None:
    """Contacted today; the health in words; the meeting, commitment and themes."""
    page.goto(f"/audiences/{council_id}")
    main = page.locator("main")
    contact = page.locator(".nhsuk-summary-list__row").filter(
        has=page.get_by_text("Contact", exact=True)
    )
    expect(contact).to_contain_text("Contacted")
    expect(contact).not_to_contain_text("Due for contact")
    expect(contact).to_contain_text(f"Last reached {_uk(today())}")

    health = main.get_by_role("list").filter(has_text="In contact on time")
    expect(health).to_have_count(1)
    reasons = [r.strip() for r in health.get_by_role("listitem").all_inner_texts()]
    assert reasons == ["In contact on time", "One mixed meeting"], reasons
    expect(main).to_contain_text("95 out of 100")

    timeline = page.get_by_role("region", name=f"Latest interactions with {COUNCIL}")
    row = timeline.get_by_role("row").filter(has_text=MEETING)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Cllr Asha Patel, Cllr Ben Hughes")
    expect(row).to_contain_text("Mixed")

    commitments = page.get_by_role("region", name=f"Commitments to {COUNCIL}")
    expect(commitments).to_contain_text(PROMISE)
    expect(commitments).to_contain_text(
        f"due {_uk(today() + timedelta(days=1))}, Olu Officer"
    )
    expect(commitments).not_to_contain_text("Overdue")

    themes = page.get_by_role("region", name="Themes raised")
    for theme in THEMES:
        expect(themes.get_by_role("link", name=theme, exact=True)).to_have_count(1)
    journey.check(page)

    page.get_by_role(
        "link", name=f"The interaction with {COUNCIL} in the list of interactions"
    ).click()
    expect(page.get_by_label("Audience")).to_have_value(str(council_id))
    rows = page.locator("main table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text(MEETING)
    journey.check(page)

    page.goto(f"/audiences/{council_id}")
    page.get_by_role("link", name=f"Health history of {COUNCIL}").click()
    expect(page.locator("main")).to_contain_text(
        "95 out of 100 (in contact on time; one mixed meeting)"
    )
    journey.check(page)


def _uk(day: Any) -> str:
    """A day as the app's ``date`` filter writes it: 1 January 2027."""
    return f"{day.day} {day:%B %Y}"


def _todo(page: Any, journey: Journey, *, overdue: bool) -> None:
    page.goto("/")
    main = page.locator("main")
    expect(main).to_contain_text(PROMISE)
    overdue_section = page.get_by_role(
        "region", name=re.compile("^Commitments overdue")
    )
    if overdue:
        expect(overdue_section).to_contain_text(PROMISE)
        expect(overdue_section).to_contain_text("Overdue by 1 day")
    else:
        expect(overdue_section).to_have_count(0)
        expect(main).not_to_contain_text("Overdue by")
        due_soon = page.get_by_role(
            "region", name=re.compile("^Commitments due in the next 7 days")
        )
        expect(due_soon).to_contain_text(PROMISE)
    journey.check(page)


def _brief(page: Any, journey: Journey, council_id: int, tmp_path: Path) -> None:
    """The meeting brief: contacts, the meeting, the commitment, themes, health;
    printed, the header and navigation are left out and it is one A4 page."""
    page.goto(f"/audiences/{council_id}")
    page.get_by_role("link", name=f"Meeting brief for {COUNCIL}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(COUNCIL)
    main = page.locator("main")
    for words in (
        "Cllr Asha Patel, Chair, health scrutiny",
        "Cllr Ben Hughes, Deputy chair",
        MEETING,
        PROMISE,
        "(overdue)",
        "Stroke services review: raised once",
        "GP access: raised once",
        "Contact expected every 30 days",
        "in contact on time; one mixed meeting; one overdue commitment",
    ):
        expect(main).to_contain_text(words)
    journey.check(page)

    header = page.locator("header.nhsuk-header")
    expect(header).to_be_visible()
    print_button = page.get_by_role("button", name="Print this brief")
    expect(print_button).to_be_visible()
    page.emulate_media(media="print")
    expect(header).to_be_hidden()
    expect(print_button).to_be_hidden()
    expect(page.locator("footer")).to_be_hidden()
    expect(page.get_by_role("link", name=COUNCIL)).to_be_hidden()  # the back link
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    pdf = tmp_path / "brief.pdf"
    page.pdf(path=str(pdf), prefer_css_page_size=True)
    page.emulate_media(media="screen")
    reader = PdfReader(str(pdf))
    assert len(reader.pages) == 1, f"the brief prints on {len(reader.pages)} pages"
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == A4_POINTS
    printed = reader.pages[0].extract_text()
    for words in (COUNCIL, PROMISE, "GP access"):
        assert words in printed, printed
    for words in ("Sign out", "Relationships"):  # the header's
        assert words not in printed, printed


def _other_pages(page: Any, journey: Journey, council_id: int) -> None:
    """The lists and overviews a lead reads, each with the meeting's traces."""
    page.goto("/relationships/themes")
    expect(page.locator("main")).to_contain_text(THEMES[0])
    journey.check(page)
    page.get_by_role("link", name=THEMES[0], exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(THEMES[0])
    expect(page.locator("main")).to_contain_text(COUNCIL)
    journey.check(page)

    page.goto("/relationships/commitments")
    expect(page.locator("main")).to_contain_text(PROMISE)
    journey.check(page)

    page.goto("/relationships/interactions")
    expect(page.locator("main")).to_contain_text(MEETING)
    journey.check(page)

    page.goto("/relationships/inbox")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    journey.check(page)

    page.goto("/map/?colour=health")
    expect(
        page.get_by_role("heading", name="Key to relationship health")
    ).to_be_visible()
    # Due for contact no more; 100, less 5 for the mixed meeting, 15 for the overdue
    # commitment.
    listed = page.locator("main li").filter(has_text=f"{COUNCIL}: influence")
    expect(listed).to_contain_text("manage; health good (80 out of 100)")
    expect(listed).not_to_contain_text("due for contact")
    journey.check(page)


def _done(page: Any, journey: Journey) -> None:
    """From the to-do list to the commitment, marked done: the list is clear."""
    page.goto("/")
    page.get_by_role("region", name=re.compile("^Commitments overdue")).get_by_role(
        "link", name=PROMISE
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Change a commitment")
    expect(page.locator("main")).to_contain_text("Overdue by 1 day")
    journey.check(page)
    page.get_by_role("button", name="Mark as done").click()
    expect(page.locator(".nhsuk-error-summary")).to_have_count(0)
    page.goto("/")
    expect(page.locator("main")).not_to_contain_text(PROMISE)


# A whole journey: under load it outlasts the suite's usual two minutes.
@pytest.mark.timeout(360)
def test_a_relationship_from_due_for_contact_to_the_printed_brief(
    officer_page: Any, journey: LinkJourney, tmp_path: Path
) -> None:
    page = officer_page
    people = _people()
    council_id = people["council"].id
    sign_in(page, people["officer"])

    # 1-2. Due for contact; a meeting logged through the form.
    _audience_page_before(page, journey, council_id)
    interaction_id = _log_meeting(page, journey, people)
    db.session.rollback()
    meeting = db.session.get(Interaction, interaction_id)
    assert meeting is not None
    assert (meeting.kind, meeting.sentiment, meeting.status) == (
        InteractionKind.MEETING,
        Sentiment.MIXED,
        InteractionStatus.CONFIRMED,
    )
    assert meeting.occurred_on == today()
    assert {c.id for c in meeting.contacts} == {
        people["chair"].id,
        people["deputy"].id,
    }
    assert {t.name for t in meeting.themes} == set(THEMES)
    assert [a.id for a in meeting.audiences] == [council_id]

    # 3. A commitment from the meeting's page.
    _add_commitment(page, journey, people, interaction_id)
    db.session.rollback()
    (promise,) = db.session.scalars(select(Commitment)).all()
    assert (promise.description, promise.status) == (PROMISE, CommitmentStatus.OPEN)
    assert promise.due_on == today() + timedelta(days=1)
    assert promise.owner_id == people["officer"].id
    assert promise.interaction_id == interaction_id

    # 4-5. The council's page now; the to-do list today.
    _audience_page_after(page, journey, council_id)
    _todo(page, journey, overdue=False)

    # 5-7. The day after tomorrow, at noon UK time: overdue by a day.
    later: datetime = local_to_utc(today() + timedelta(days=2), wall_clock(12, 0))
    with time_machine.travel(later, tick=True):
        page.context.clear_cookies()  # the sign-in has timed out since
        sign_in(page, people["officer"])
        _todo(page, journey, overdue=True)
        _brief(page, journey, council_id, tmp_path)
        _other_pages(page, journey, council_id)
        _done(page, journey)
        assert journey.follow_links(page) == {}

    body = page.locator("body").inner_text()
    assert not any(error in body for error in SERVER_ERRORS)
    assert journey.server_errors == []
    page.set_viewport_size(DESKTOP)
    # 14 different pages, each at 1280 and 390 px (the audience's page before and
    # after, the form with and without its errors, the list filtered and not, each
    # counted once).
    assert set(journey.axe_pages) == {
        "/",
        f"/audiences/{council_id}",
        f"/audiences/{council_id}/brief",
        f"/audiences/{council_id}/health",
        "/map/",
        "/relationships/commitments/",
        "/relationships/commitments/new",
        f"/relationships/commitments/{promise.id}/edit",
        "/relationships/interactions/",
        "/relationships/interactions/new",
        f"/relationships/interactions/{interaction_id}",
        "/relationships/themes",
        f"/relationships/themes/{people['themes'][0].id}",
        "/relationships/inbox/",
    }, sorted(journey.axe_pages)
    assert len(journey.links) > 30, sorted(journey.links)


def _prints_on_one_page(page: Any, tmp_path: Path) -> None:
    """The page printed to PDF (as the browser's Print command would) is one page."""
    page.emulate_media(media="print")
    pdf = tmp_path / "brief.pdf"
    page.pdf(path=str(pdf), prefer_css_page_size=True)
    pages = len(PdfReader(str(pdf)).pages)
    assert pages == 1, f"the brief prints on {pages} pages"


def test_a_full_meeting_brief_prints_on_one_a4_page(
    officer_page: Any, journey: LinkJourney, tmp_path: Path
) -> None:
    """Every list of the brief at its cap, with headings and promises of a usual
    length: still one A4 page when printed."""
    people = _people()
    council = people["council"]
    day = today()
    contacts = [people["chair"], people["deputy"]] + [
        factories.ContactFactory(
            audience=council,
            name=f"Cllr Firstname Longsurname-{n}",
            role="Cabinet member for adult social care and health",
            email=f"firstname.longsurname{n}@northshire-county.gov.example",
            phone="01632 960 123",
        )
        for n in range(8)
    ]
    themes = people["themes"] + [
        factories.ThemeFactory(name=f"Urgent and emergency care, winter {n}")
        for n in range(4)
    ]
    for n in range(7):
        meeting = factories.InteractionFactory(
            subject=f"Quarterly health scrutiny committee: stroke services {n}",
            occurred_on=day - timedelta(days=7 * n),
            sentiment=Sentiment.MIXED if n % 2 else Sentiment.POSITIVE,
            audiences=[council],
            contacts=contacts[:2],
            themes=themes[n % len(themes) :][:3],
        )
        db.session.add(meeting)
    for n in range(10):
        factories.CommitmentFactory(
            audience=council,
            owner=people["officer"],
            description=(
                "Send the committee the stroke review's options appraisal and the "
                f"travel-time analysis for each site ({n})"
            ),
            due_on=day + timedelta(days=n - 3),
        )
    db.session.commit()

    page = officer_page
    sign_in(page, people["officer"])
    page.goto(f"/audiences/{council.id}/brief")
    expect(page.locator("main")).to_contain_text("And 2 more on the audience's page.")
    expect(page.locator("main")).to_contain_text("And 2 more.")
    journey.check(page)
    _prints_on_one_page(page, tmp_path)
    assert journey.server_errors == []


def _longest(words: str, length: int) -> str:
    """``words`` repeated to exactly ``length`` characters (a field at its maximum)."""
    return (words * (length // len(words) + 1))[:length]


def test_a_brief_of_the_longest_words_still_prints_on_one_a4_page(
    officer_page: Any, journey: LinkJourney, tmp_path: Path
) -> None:
    """Every list at its cap and every field at its longest (a heading of 300
    characters with an unbroken link in it, promises of 1,000): the printout clips
    each to two lines and stays one A4 page; the screen shows every word."""
    day = today()
    officer = factories.UserFactory(
        role="officer", name=_longest("Olufunmilayo Officer-Longname ", 120)
    )
    council = factories.AudienceFactory(
        name=_longest("Northshire County Council health overview and scrutiny ", 200),
        owner=officer,
    )
    contacts = [
        factories.ContactFactory(
            audience=council,
            name=_longest(f"Cllr Firstname Longsurname-{n} ", 200),
            role=_longest("Cabinet member for adult social care and health ", 200),
            email=f"{'firstname.longsurname' * 5}{n}@northshire-county.gov.example",
            phone=_longest("01632 960 123 ", 40),
        )
        for n in range(CONTACTS_SHOWN + 1)
    ]
    themes = [
        factories.ThemeFactory(name=_longest(f"Urgent and emergency care {n} ", 200))
        for n in range(THEMES_SHOWN)
    ]
    heading = (
        "Scrutiny papers at https://northshire-county.gov.example/"
        + "committee-papers-" * 4
    )
    subjects = [_longest(f"{heading} {n} ", 300) for n in range(INTERACTIONS_SHOWN)]
    for n, subject in enumerate(subjects):
        db.session.add(
            factories.InteractionFactory(
                subject=subject,
                occurred_on=day - timedelta(days=7 * n),
                audiences=[council],
                contacts=contacts[:2],
                themes=themes,
            )
        )
    promise = _longest(
        "Send the committee the stroke review's options appraisal and the "
        "travel-time analysis for each site ",
        MAX_DESCRIPTION,
    )
    for n in range(COMMITMENTS_SHOWN + 1):
        factories.CommitmentFactory(
            audience=council,
            owner=officer,
            description=promise,
            due_on=day + timedelta(days=n - 3),
        )
    db.session.commit()

    page = officer_page
    sign_in(page, officer)
    page.goto(f"/audiences/{council.id}/brief")
    main = page.locator("main")
    for words in (council.name, subjects[0], promise, themes[0].name):
        expect(main).to_contain_text(words)
    journey.check(page)
    _prints_on_one_page(page, tmp_path)
    assert journey.server_errors == []


def test_without_javascript_the_form_offers_the_contacts_of_the_audiences_ticked(
    page_without_js: Any, journey: LinkJourney
) -> None:
    """No audience named in the link: tick the council, show its contacts, log."""
    people = _people()
    page = journey.watch(page_without_js)
    sign_in(page, people["officer"])
    page.goto("/relationships/interactions/new")
    expect(page.locator("#contacts")).to_have_text(
        "No contacts to choose from yet: tick the audiences, then show their contacts."
    )
    page.get_by_role("checkbox", name=COUNCIL, exact=True).check()
    page.get_by_role("button", name="Show the contacts of the audiences ticked").click()
    expect(page.locator(".nhsuk-error-summary")).to_have_count(0)
    expect(page.get_by_role("checkbox", name=COUNCIL, exact=True)).to_be_checked()
    page.get_by_role("checkbox", name=re.compile(r"^Cllr Asha Patel")).check()
    expect(page.get_by_text("Chris Stranger")).to_have_count(0)
    page.get_by_role("radio", name="Call", exact=True).check()
    page.get_by_label("Heading").fill("Call about the scrutiny agenda")
    page.get_by_role("radio", name="Positive", exact=True).check()
    page.get_by_role("button", name="Log the interaction").click()
    expect(page.get_by_text("Interaction logged.")).to_be_visible()
    expect(page.locator("main")).to_contain_text(
        "Cllr Asha Patel, Chair, health scrutiny (Northshire County Council)"
    )
    page.goto(f"/audiences/{people['council'].id}/brief")
    expect(
        page.get_by_text("To print this brief, use your browser's Print")
    ).to_be_visible()
    assert journey.server_errors == []
    assert (
        page.evaluate("() => document.documentElement.scrollWidth") <= DESKTOP["width"]
    )
