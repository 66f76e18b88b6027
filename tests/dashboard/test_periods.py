"""Fair periods: a period not yet over is counted to date, labelled so and compared
with the same number of days of the one before; the trend's part week or month is
labelled and drawn apart; periods are chosen from menus.

Every test says which day it is (a ``Scope``'s ``today``, or the clock moved with
``time_machine``), so none depends on the real date.
"""

from __future__ import annotations

import json
import re
from datetime import UTC
from datetime import date
from datetime import datetime
from typing import Any

import pytest

from engage.dashboard import periods
from engage.dashboard.sections import Scope
from engage.dashboard.services import build_dashboard
from engage.extensions import db
from engage.metrics.models import Mention
from engage.metrics.models import Tone
from tests import factories

#: Sunday 6 December 2026: Q4 2026 has run 67 days (1 October to 6 December).
TODAY = date(2026, 12, 6)
Q4 = periods.quarter(2026, 4)
#: Noon UK time on TODAY, for the tests that move the clock.
NOON = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def _figures(scope: Scope) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for section in build_dashboard(scope):
        for figure in section.figures:
            values[figure.key] = (figure.value, figure.previous)
        for table in section.tables:
            values[f"table:{table.key}"] = table
    return values


def _load_partial_quarter() -> None:
    """Deliveries, mentions and a flow metric in Q3 and Q4 2026.

    Of Q3, only 1 July to 5 September (its first 67 days) are comparable with Q4
    to 6 December: what falls from 6 September to 30 September is not.
    """
    radio = factories.ChannelFactory(name="Radio")
    listeners = factories.MetricFactory(
        key="listeners", name="Listeners", channel=radio
    )
    feed = factories.FeedFactory(url="https://news.example/rss", name="Local news")
    days = {
        # Q3, within its first 67 days:
        "2026-07-01": 100,
        "2026-08-20": 200,
        "2026-09-05": 300,
        # Q3, after them:
        "2026-09-06": 4000,
        "2026-09-30": 5000,
        # Q4 to date:
        "2026-10-01": 10,
        "2026-12-06": 20,
    }
    for index, (day, value) in enumerate(days.items()):
        on = date.fromisoformat(day)
        factories.ActivityFactory(occurred_on=on, figures={"recipients": value})
        factories.ObservationFactory(metric=listeners, observed_on=on, value=value)
        db.session.add(
            Mention(
                feed_id=feed.id,
                guid=f"entry-{index}",
                published_on=on,
                title=f"Story {index}",
                tone=Tone.POSITIVE,
                found_at=datetime.combine(on, datetime.min.time(), tzinfo=UTC),
            )
        )
    db.session.commit()


# The acceptance test -----------------------------------------------------------------


def test_a_partial_quarter_is_compared_with_the_same_number_of_days() -> None:
    _load_partial_quarter()
    scope = Scope(period=Q4, today=TODAY)

    assert scope.period.to_date
    assert (scope.period.start, scope.period.end) == (date(2026, 10, 1), TODAY)
    assert scope.period.whole.end == date(2026, 12, 31)
    previous = scope.previous
    assert (previous.start, previous.end) == (date(2026, 7, 1), date(2026, 9, 5))
    assert previous.days == scope.period.days == 67
    assert scope.comparison == (
        "Figures for Q4 2026 to date, 1 October to 6 December 2026 (67 days), "
        "compared with 1 July to 5 September 2026: the first 67 days of Q3 2026."
    )

    got = _figures(scope)
    # Two deliveries so far against three in the same days of Q3 (not five).
    assert got["deliveries"] == (2, 3)
    assert got["mentions"] == (2, 3)
    assert got["mentions_positive"] == (2, 3)
    # The flow metric: 10 + 20 so far, against 100 + 200 + 300 (not 9,600).
    assert got["metric_reach_1"] == (30, 600)
    assert got["table:metrics_by_channel"].rows == [["Radio", 30.0, 600.0, -570.0]]
    # The deliveries' own reach figures, the same way.
    assert got["reach_recipients"] == (30, 600)


def test_a_finished_quarter_is_compared_with_the_whole_one_before() -> None:
    _load_partial_quarter()
    scope = Scope(period=periods.quarter(2026, 3), today=TODAY)
    assert not scope.period.to_date
    assert (scope.previous.start, scope.previous.end) == (
        date(2026, 4, 1),
        date(2026, 6, 30),
    )
    got = _figures(scope)
    # No delivery was logged in Q2 (a count of 0); no observation was made (no
    # figure to compare with, not a reach of 0).
    assert got["deliveries"] == (5, 0)
    assert got["metric_reach_1"] == (9600, None)
    assert got["reach_recipients"] == (9600, None)
    assert scope.comparison == (
        "Figures for Q3 2026 (July to September), compared with Q2 2026 "
        "(April to June)."
    )


def test_delivery_rates_and_reach_are_compared_only_with_what_was_recorded() -> None:
    """Q4 to 6 December against 1 July to 5 September: the open rate and each reach
    unit against the same days; a unit the earlier days never recorded has no
    previous figure (not 0)."""
    logged = {
        "2026-07-10": {"recipients": 400, "opens": 100},
        "2026-09-20": {"recipients": 1000, "opens": 900},  # not comparable
        "2026-10-05": {"recipients": 200, "opens": 100, "impressions": 50},
    }
    for day, figures in logged.items():
        factories.ActivityFactory(occurred_on=date.fromisoformat(day), figures=figures)
    db.session.commit()

    got = _figures(Scope(period=Q4, today=TODAY))
    assert got["reach_recipients"] == (200, 400)
    assert got["rate_opens"] == (50.0, 25.0)
    assert got["reach_impressions"] == (50, None)


# Periods and their labels ------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "today", "label", "previous"),
    [
        # On its last day a period has finished.
        (periods.quarter(2026, 4), date(2026, 12, 31), "Q4 2026 (October to December)",
         (date(2026, 7, 1), date(2026, 9, 30))),
        (periods.quarter(2026, 4), date(2026, 12, 30),
         "Q4 2026 (October to December, to date)",
         (date(2026, 7, 1), date(2026, 9, 29))),
        # New Year's Day: one day of Q1, against 1 October.
        (periods.quarter(2027, 1), date(2027, 1, 1),
         "Q1 2027 (January to March, to date)",
         (date(2026, 10, 1), date(2026, 10, 1))),
        (periods.month(2026, 12), date(2026, 12, 6), "December 2026 (to date)",
         (date(2026, 11, 1), date(2026, 11, 6))),
        # 30 days of March against the whole of a 28-day February: no further.
        (periods.month(2027, 3), date(2027, 3, 30), "March 2027 (to date)",
         (date(2027, 2, 1), date(2027, 2, 28))),
        (periods.year(2026), date(2026, 12, 6), "2026 (to date)",
         (date(2025, 1, 1), date(2025, 12, 6))),
        # A leap year to date: 341 days, and 2027 has only 365.
        (periods.year(2028), date(2028, 12, 6), "2028 (to date)",
         (date(2027, 1, 1), date(2027, 12, 7))),
        (periods.custom(date(2026, 12, 1), date(2027, 1, 31)), date(2026, 12, 6),
         "1 December 2026 to 31 January 2027 (to date)",
         (date(2026, 9, 30), date(2026, 10, 5))),
        # A period still to come is not "to date": nothing of it is counted yet.
        (periods.quarter(2027, 1), date(2026, 12, 6), "Q1 2027 (January to March)",
         (date(2026, 10, 1), date(2026, 12, 31))),
    ],
)  # fmt: skip
def test_labels_and_the_days_compared(
    period: periods.Period,
    today: date,
    label: str,
    previous: tuple[date, date],
) -> None:
    seen = period.on(today)
    assert seen.label == label
    assert (seen.previous().start, seen.previous().end) == previous
    if seen.to_date:
        assert seen.end == today
        assert seen.previous().days <= seen.days


def test_the_comparison_says_when_the_period_before_is_shorter() -> None:
    march = periods.month(2027, 3).on(date(2027, 3, 30))
    assert march.comparison(march.previous()) == (
        "Figures for March 2027 to date, 1 to 30 March 2027 (30 days), compared "
        "with 1 to 28 February 2027: the whole of February 2027, which is shorter."
    )
    first = periods.quarter(2027, 1).on(date(2027, 1, 1))
    assert first.comparison(first.previous()) == (
        "Figures for Q1 2027 to date, 1 January 2027 (1 day), compared with "
        "1 October 2026: the first day of Q4 2026."
    )


def test_period_values_stay_the_same_to_date() -> None:
    custom = periods.custom(date(2026, 12, 1), date(2027, 1, 31)).on(TODAY)
    assert custom.value == "2026-12-01..2027-01-31"
    assert Q4.on(TODAY).value == "2026-Q4"
    assert periods.parse_period("quarter", "2026-Q4", today=TODAY) == Q4


# Trends -------------------------------------------------------------------------------


def test_the_trend_labels_the_month_under_way_and_draws_it_apart() -> None:
    _load_partial_quarter()
    got = _figures(Scope(period=Q4, today=TODAY))
    table = got["table:deliveries_trend"]
    assert table.rows == [["Oct 2026", 1], ["Nov 2026", 0], ["Dec 2026 (to date)", 1]]
    chart = table.chart_data()
    assert chart["labels"][-1] == "Dec 2026 (to date)"
    assert chart["to_date"] == [2]
    assert "Dec 2026 (to date) counts only the days so far" in table.to_date_note
    # The page that draws the chart says how; a PDF, which draws none, does not.
    from flask import render_template

    drawn = {"key": "k", "title": "T", "figures": [], "notes": [], "tables": [table]}
    for pdf, says in ((False, True), (True, False)):
        html = render_template("dashboard/_section.html", section=drawn, pdf=pdf)
        assert ("hollow point" in html) is says
    # Every trend of the page marks the same month.
    for key in ("members_growth", "metrics_trend", "mentions_trend"):
        assert got[f"table:{key}"].chart_data()["to_date"] == [2], key
    # A finished quarter has no part month.
    done = _figures(Scope(period=periods.quarter(2026, 3), today=TODAY))
    assert done["table:deliveries_trend"].chart_data()["to_date"] == []
    assert done["table:deliveries_trend"].to_date_note == ""


def test_a_week_under_way_is_labelled_in_a_month_to_date() -> None:
    # Sunday 6 December: the week of 30 November ends today, so it is whole.
    scope = Scope(period=periods.month(2026, 12), today=TODAY)
    assert [slot.label for slot in scope.slots] == ["w/c 30 November 2026"]
    assert not scope.slots[-1].to_date
    # Monday 7 December: its week has six days to go.
    monday = Scope(period=periods.month(2026, 12), today=date(2026, 12, 7))
    assert [slot.label for slot in monday.slots] == [
        "w/c 30 November 2026",
        "w/c 7 December 2026 (to date)",
    ]
    assert monday.slots[-1].to_date


# Pages --------------------------------------------------------------------------------


def test_the_dashboard_says_to_date_and_what_is_compared(
    client: Any, login: Any, cast: dict[str, Any], time_machine: Any
) -> None:
    _load_partial_quarter()
    time_machine.move_to(NOON, tick=False)
    login(cast["lead"])
    html = client.get("/dashboard/").get_data(as_text=True)
    assert "Q4 2026 (October to December, to date)" in html
    assert "compared with 1 July to 5 September 2026" in html
    assert "Up 2 on the first 67 days of Q3 2026" not in html  # 2 against 3: down 1
    assert "Down 1 on the first 67 days of Q3 2026 (3)" in html
    assert "Dec 2026 (to date)" in html
    chart = re.search(r"data-chart='([^']*Dec 2026 \(to date\)[^']*)'", html)
    assert chart is not None
    assert json.loads(chart.group(1).replace("&#34;", '"'))["to_date"] == [2]


def test_the_board_report_says_to_date_and_what_is_compared(
    client: Any, login: Any, cast: dict[str, Any], time_machine: Any
) -> None:
    _load_partial_quarter()
    time_machine.move_to(NOON, tick=False)
    login(cast["lead"])
    html = client.get("/dashboard/board-report").get_data(as_text=True)
    assert "<title>Board report, Q4 2026 (October to December, to date)" in html
    assert "compared with 1 July to 5 September 2026" in html
    html = client.get("/dashboard/board-report?quarter=2026-Q3").get_data(as_text=True)
    assert "Figures for Q3 2026 (July to September), compared with Q2 2026" in html
    assert '<option value="2026-Q3" selected' in html
    assert "to date" not in html.split("<main", 1)[1].split("<select", 1)[0]


def _options(html: str, name: str) -> list[tuple[str, str, bool]]:
    select = re.search(rf'<select[^>]* name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select is not None, name
    return [
        (value, label.strip(), bool(selected))
        for value, selected, label in re.findall(
            r'<option value="([^"]*)"( selected)?[^>]*>([^<]*)</option>',
            select.group(1),
        )
    ]


def test_periods_are_chosen_from_menus_by_name(
    client: Any, login: Any, cast: dict[str, Any], time_machine: Any
) -> None:
    time_machine.move_to(NOON, tick=False)
    login(cast["officer"])
    html = client.get("/dashboard/").get_data(as_text=True)
    # Radios for the kind, the current quarter chosen; no box to type a code in.
    assert re.search(r'type="radio" value="quarter" checked', html)
    assert 'name="value"' not in html
    quarters = _options(html, "quarter")
    assert quarters[0] == ("2026-Q4", "Q4 2026 (October to December, to date)", False)
    assert quarters[1] == ("2026-Q3", "Q3 2026 (July to September)", False)
    assert len(quarters) == periods.MENU_LENGTHS[periods.PeriodKind.QUARTER]
    assert _options(html, "month")[:2] == [
        ("2026-12", "December 2026 (to date)", False),
        ("2026-11", "November 2026", False),
    ]
    assert _options(html, "year")[:2] == [
        ("2026", "2026 (to date)", False),
        ("2025", "2025", False),
    ]

    html = client.get("/dashboard/?period=month&month=2026-11").get_data(as_text=True)
    assert "<h1>Engagement dashboard" in html
    assert "November 2026</span></h1>" in html
    assert ("2026-11", "November 2026", True) in _options(html, "month")
    assert "Figures for November 2026, compared with October 2026." in html

    html = client.get("/dashboard/?period=year&year=2026").get_data(as_text=True)
    assert "Figures for 2026 to date, 1 January to 6 December 2026 (340 days)" in html
    assert "compared with 1 January to 6 December 2025" in html


def test_old_links_with_typed_values_still_work(
    client: Any, login: Any, cast: dict[str, Any], time_machine: Any
) -> None:
    time_machine.move_to(NOON, tick=False)
    login(cast["lead"])
    html = client.get("/dashboard/?period=quarter&value=2026-Q3").get_data(as_text=True)
    assert "Figures for Q3 2026 (July to September)" in html
    assert ("2026-Q3", "Q3 2026 (July to September)", True) in _options(html, "quarter")
    # A quarter older than the menu reaches is added to it, chosen.
    html = client.get("/dashboard/?period=quarter&quarter=2019-q2").get_data(
        as_text=True
    )
    assert "Figures for Q2 2019 (April to June)" in html
    assert ("2019-Q2", "Q2 2019 (April to June)", True) in _options(html, "quarter")
    html = client.get("/dashboard/board-report?quarter=2019-Q2").get_data(as_text=True)
    assert ("2019-Q2", "Q2 2019 (April to June)", True) in _options(html, "quarter")
    html = client.get(
        "/dashboard/?period=custom&start=2026-12-01&end=2027-01-31"
    ).get_data(as_text=True)
    assert "1 December 2026 to 31 January 2027 (to date)" in html
    assert "compared with 30 September to 5 October 2026" in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("period=month&month=2026-13", "Choose a month from the list"),
        ("period=quarter&quarter=2026-Q5", "Choose a quarter from the list"),
        # Periods still to come have no figures to show.
        ("period=quarter&quarter=2027-Q1", "Choose a quarter from the list"),
        ("period=month&month=2027-01", "Choose a month from the list"),
        ("period=year&year=2099", "Choose a year from the list"),
        ("period=year&year=abc", "Choose a year from the list"),
        ("period=year&value=1066", "Choose a year from the list"),
        ("period=week", "Select one of the options shown"),
        ("period=quarter&quarter=%0D%0A", "Choose a quarter from the list"),
        ("period=custom&start=2026-12-01", "Enter both the start and the end date."),
        ("period=custom&start=2026-12-01&end=2026-11-01", "The end date must be on"),
        (
            "period=custom&start=nonsense&end=2026-11-01",
            "The start date must be a real date",
        ),
        ("period=month&month=2026-11&month=2026-10", ""),
    ],
)
def test_bad_period_values_show_an_error_never_a_500(
    client: Any,
    login: Any,
    cast: dict[str, Any],
    time_machine: Any,
    query: str,
    message: str,
) -> None:
    time_machine.move_to(NOON, tick=False)
    login(cast["lead"])
    response = client.get(f"/dashboard/?{query}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    if message:
        assert "nhsuk-error-summary" in html
        assert message in html
        # The current month, quarter or year is shown instead.
        assert re.search(r"Figures for (December 2026|Q4 2026|2026) to date", html)
    response = client.get(f"/dashboard/board-report?{query}&quarter=bogus")
    assert response.status_code == 200


def test_a_menu_value_from_another_kind_is_not_used(
    client: Any, login: Any, cast: dict[str, Any], time_machine: Any
) -> None:
    time_machine.move_to(NOON, tick=False)
    login(cast["lead"])
    # The quarter radio is chosen: the month menu's value (even a bad one) is ignored.
    html = client.get(
        "/dashboard/?period=quarter&quarter=2026-Q2&month=bogus"
    ).get_data(as_text=True)
    assert "nhsuk-error-summary" not in html
    assert "Figures for Q2 2026 (April to June)" in html


def test_figures_taken_on_a_day_say_which_day_to_date() -> None:
    _load_partial_quarter()
    got = _figures(Scope(period=Q4, today=TODAY))
    assert got["table:members_by_tier"].columns == [
        "Tier",
        "On 6 December 2026 (today)",
        "On 5 September 2026",
    ]
    assert got["table:audiences_due"].columns[-1] == "Due on 5 September 2026"
    done = _figures(Scope(period=periods.quarter(2026, 3), today=TODAY))
    assert done["table:members_by_tier"].columns[1:] == [
        "End of this period",
        "End of the previous period",
    ]
