"""The list and report pages on a phone: no sideways page scroll, tables fit or scroll.

With the demo data (plus deliveries, mail and audit events), each main page is loaded
at 390 px: the page itself is no wider than the phone, and its main area does not
scroll sideways either; a wide table either stacks or scrolls inside its own
focusable, labelled box.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from engage.actions.models import Activity
from engage.actions.models import ReachFigure
from engage.audiences.models import Audience
from engage.audit.services import record_event
from engage.clock import utcnow
from engage.demo import load_demo
from engage.extensions import db
from engage.mail.services import send_mail
from engage.surveys.models import Survey
from tests.browser.conftest import assert_accessible
from tests.browser.conftest import sign_in
from tests.factories import ActionFactory
from tests.factories import UserFactory

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}

#: Every list and report page people read on a phone.
PAGES = (
    "/",
    "/actions/",
    "/actions/mine",
    "/actions/calendar",
    "/audiences/",
    "/map/",
    "/members/",
    "/members/equality",
    "/metrics",
    "/feeds",
    "/feeds/mentions",
    "/reports",
    "/surveys/",
    "/mailings/",
    "/admin/do-not-send/",
    "/admin/audit/",
    "/admin/outbox/",
    "/jobs/",
    "/admin/users",
    "/dashboard/",
    "/dashboard/board-report",
)

#: What overflows the main area, if anything: elements wider than it that are not
#: inside a box that scrolls (a table's own region).
_OVERFLOW = """() => {
  const main = document.querySelector('main');
  const limit = main.getBoundingClientRect().right + 1;
  const wide = [];
  for (const element of main.querySelectorAll('*')) {
    if (element.getBoundingClientRect().right <= limit) continue;
    let box = element.parentElement, inside = false;
    while (box && box !== main) {
      const style = getComputedStyle(box);
      if (['auto', 'scroll'].includes(style.overflowX) && box !== main.parentElement) {
        inside = box.matches('[role=region][tabindex="0"][aria-label]');
        if (inside) break;
      }
      box = box.parentElement;
    }
    if (!inside) wide.push(element.tagName + '.' + element.className);
  }
  return {page: document.documentElement.scrollWidth, main: main.scrollWidth,
          mainWidth: main.clientWidth, wide: wide.slice(0, 5)};
}"""


def _demo() -> Any:
    """The demo data, with a year of deliveries, emails and audit events."""
    now = utcnow()
    load_demo(now=now)
    admin = UserFactory(role="admin", name="Priya Shah")
    audience = db.session.scalars(db.select(Audience)).first()
    action = ActionFactory(
        title="Quarterly stakeholder newsletter for partner organisations",
        owners=[admin],
        audiences=[audience],
    )
    for month in range(12):
        activity = Activity(
            action_id=action.id,
            occurred_on=now.date() - timedelta(days=30 * month),
            description="Newsletter sent to every partner organisation on the list",
            created_at=now,
            figures=[
                ReachFigure(label="recipients", value=400 + month),
                ReachFigure(label="opens", value=180 + month),
            ],
        )
        activity.audiences = [audience]
        db.session.add(activity)
    send_mail(
        "someone.with.a.very.long.address@partner-organisation.example.org",
        "Your monthly reach report for the communications team",
        "Reach this month",
        reason="you asked for the monthly reach report",
    )
    record_event(admin, "update", "user", admin.id, "reach report on", now=now)
    record_event(admin, "update", "action", action.id, "title, channel_id", now=now)
    db.session.commit()
    return admin


def _measure(page: Any, path: str) -> dict[str, Any]:
    page.goto(path)
    page.wait_for_load_state("load")
    page.evaluate(
        "() => new Promise(done =>"
        " requestAnimationFrame(() => requestAnimationFrame(done)))"
    )
    return dict(page.evaluate(_OVERFLOW))


def test_no_page_scrolls_sideways_on_a_phone(page: Any) -> None:
    admin = _demo()
    survey = db.session.scalars(db.select(Survey)).first()
    sign_in(page, admin)
    page.set_viewport_size(PHONE)
    paths = [*PAGES, f"/surveys/{survey.id}/results"] if survey else list(PAGES)
    problems = {}
    for path in paths:
        found = _measure(page, path)
        if found["page"] > PHONE["width"] or found["main"] > found["mainWidth"]:
            problems[path] = found
        shots = _screenshots()
        if shots:
            page.screenshot(path=str(shots / f"phone{path.replace('/', '_')}.png"))
    assert problems == {}, json.dumps(problems, indent=1)


@pytest.mark.parametrize("path", ["/map/", "/admin/audit/", "/admin/outbox/", "/jobs/"])
def test_changed_pages_are_accessible_at_both_widths(page: Any, path: str) -> None:
    admin = _demo()
    sign_in(page, admin)
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        page.goto(path)
        assert_accessible(page)


def test_the_do_not_send_list_is_accessible_at_both_widths(page: Any) -> None:
    from engage.mailings.models import Suppression
    from engage.mailings.models import SuppressionReason
    from engage.membership.models import ContactChannel

    admin = _demo()
    db.session.add(
        Suppression(
            channel=ContactChannel.EMAIL,
            address="no.such.person@example.org",
            reason=SuppressionReason.BOUNCED,
            detail="The receiving mail server said the address does not exist",
            recorded_at=utcnow(),
        )
    )
    db.session.commit()
    sign_in(page, admin)
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        page.goto("/admin/do-not-send/")
        expect(page.get_by_text("no.such.person@example.org")).to_be_visible()
        assert_accessible(page)


def test_map_key_and_list_on_a_phone(page: Any) -> None:
    admin = _demo()
    sign_in(page, admin)
    page.set_viewport_size(PHONE)
    page.goto("/map/")
    key = page.locator(".engage-grid-legend")
    for name in ("Key players", "Keep satisfied", "Keep informed", "Monitor"):
        expect(key).to_contain_text(name)
    # The grid scrolls in its own labelled box; the page does not.
    grid = page.get_by_role("region", name="Influence and interest grid")
    assert grid.evaluate("box => box.scrollWidth > box.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # Each part looks different without colour: its pattern, or its shade of grey.
    looks = page.evaluate(
        """() => ['key', 'satisfied', 'informed', 'monitor'].map(key => {
            const style = getComputedStyle(
              document.querySelector('.engage-grid .engage-grid__cell--' + key));
            const [r, g, b] = style.backgroundColor.match(/\\d+/g).map(Number);
            const grey = Math.round((0.3 * r + 0.59 * g + 0.11 * b) / 16);
            return style.backgroundImage.split('(')[0] + '|' + grey;
        })"""
    )
    assert len(set(looks)) == 4, looks
    # A heavy line runs round each part: along the top row (5 cells), over monitor
    # (2) and over keep informed (3).
    edges = page.locator(".engage-grid td.engage-grid__cell--top").count()
    assert edges == 5 + 2 + 3
    page.get_by_role("link", name="same audiences are listed by part").click()
    expect(page.get_by_role("heading", name="The grid as a list")).to_be_visible()


def _screenshots() -> Path | None:
    """A folder to save phone screenshots in, when ENGAGE_SCREENSHOTS names one."""
    import os

    folder = os.environ.get("ENGAGE_SCREENSHOTS")
    return Path(folder) if folder else None


#: Each drawn chart: whether its figures are all whole numbers, its value axis's
#: ticks and the labels along its other axis.
_CHARTS = """() => Array.from(document.querySelectorAll('canvas')).map(canvas => {
  const chart = window.Chart && window.Chart.getChart(canvas);
  if (!chart) return null;
  const valueAxis = chart.options.indexAxis === 'y' ? 'x' : 'y';
  const labelAxis = valueAxis === 'y' ? 'x' : 'y';
  const values = chart.data.datasets.flatMap(d => d.data).filter(v => v !== null);
  return {
    whole: values.every(v => Number.isInteger(v)),
    ticks: chart.scales[valueAxis].ticks.map(t => t.value),
    labels: chart.scales[labelAxis].ticks.map(t => String(t.label)),
  };
}).filter(Boolean)"""


def test_count_charts_have_whole_number_axes_and_nhs_dates(page: Any) -> None:
    from engage.metrics.models import Metric

    admin = _demo()
    survey = db.session.scalars(db.select(Survey)).first()
    metric = db.session.scalars(db.select(Metric)).first()
    assert survey is not None
    assert metric is not None
    sign_in(page, admin)
    seen = 0
    for path in (
        "/dashboard/",
        f"/surveys/{survey.id}/results",
        f"/metrics/{metric.id}",
    ):
        page.goto(path)
        page.wait_for_load_state("load")
        charts = page.evaluate(_CHARTS)
        for chart in charts:
            if chart["whole"]:
                # Counts: no "2.5 members" on the axis.
                assert all(float(t).is_integer() for t in chart["ticks"]), (path, chart)
            for label in chart["labels"]:
                assert not re.fullmatch(r"\d{4}-\d{2}-\d{2}.*", label), (path, label)
        seen += len(charts)
    assert seen >= 5
