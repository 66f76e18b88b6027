"""Dashboard figures against an independent, plain-Python computation of a known set."""

from __future__ import annotations

from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta
from typing import Any

import pytest

from engage.actions.models import ActionStatus
from engage.actions.models import Recurrence
from engage.audiences.models import Approach
from engage.audiences.models import ProgrammeApproach
from engage.dashboard import periods
from engage.dashboard.sections import DataTable
from engage.dashboard.sections import Scope
from engage.dashboard.services import build_dashboard
from engage.errors import ValidationError
from engage.extensions import db
from engage.membership.models import ConsentMethod
from engage.membership.models import MemberStatus
from engage.membership.models import Tier
from engage.metrics.models import Mention
from engage.metrics.models import MetricKind
from engage.metrics.models import Source
from engage.metrics.models import TargetPeriod
from engage.metrics.models import Tone
from engage.metrics.numbers import sensible
from engage.surveys.disclosure import HIDDEN
from engage.surveys.disclosure import Purpose
from engage.surveys.models import Delivery
from engage.surveys.models import Invitation
from engage.surveys.models import Response
from engage.surveys.models import ResponseSource
from engage.surveys.models import SurveyStatus
from tests import factories

TODAY = date(2026, 10, 15)
Q3 = periods.quarter(2026, 3)
Q2 = periods.quarter(2026, 2)


def _at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC)


# The known data set, as plain data ---------------------------------------------------

ACTIONS: list[dict[str, Any]] = [
    # key, channel, status, recurrence, next due, completed, created
    {"key": "a1", "channel": "Newsletter", "status": "done", "completed": "2026-08-10"},
    {"key": "a2", "channel": "Newsletter", "status": "done", "completed": "2026-05-01"},
    {"key": "a3", "channel": "Newsletter", "status": "planned", "due": "2026-09-01"},
    {"key": "a4", "channel": "Event", "status": "in_progress", "due": "2026-10-10"},
    {"key": "a5", "channel": "Event", "status": "planned"},
    {"key": "a6", "channel": "Event", "status": "planned", "recurrence": "ongoing"},
    {"key": "a7", "channel": "Event", "status": "cancelled", "due": "2026-07-01"},
    {
        "key": "a8",
        "channel": "Event",
        "status": "planned",
        "due": "2026-09-20",
        "created": "2026-10-05",
    },
]

ACTIVITIES: list[dict[str, Any]] = [
    {
        "action": "a1",
        "on": "2026-07-03",
        "figures": {"recipients": 400},
        "reach": ["au2"],
    },
    {
        "action": "a3",
        "on": "2026-08-15",
        "figures": {"recipients": 100, "opens": 50},
        "reach": [],
    },
    {
        "action": "a4",
        "on": "2026-09-30",
        "figures": {"attendees": 30},
        "reach": ["au1"],
    },
    {
        "action": "a4",
        "on": "2026-06-30",
        "figures": {"attendees": 10},
        "reach": ["au1"],
    },
    {
        "action": "a4",
        "on": "2026-10-01",
        "figures": {"attendees": 99},
        "reach": ["au3"],
    },
]

AUDIENCES = {"au1": "manage", "au2": "inform", "au3": "monitor"}
INTERVALS = {"manage": 30, "inform": 90, "monitor": 180}

MEMBERS: list[dict[str, Any]] = [
    {
        "tier": "gold",
        "by": "web-form",
        "created": "2026-06-01",
        "confirmed": "2026-06-02",
    },
    {
        "tier": "silver",
        "by": "web-form",
        "created": "2026-07-05",
        "confirmed": "2026-07-06",
    },
    {"tier": "gold", "by": "phone", "created": "2026-08-01"},
    {
        "tier": "silver",
        "by": "web-form",
        "created": "2026-07-10",
        "confirmed": "2026-07-11",
        "withdrawn": "2026-09-01",
    },
    {"tier": "silver", "by": "web-form", "created": "2026-09-10"},
    {
        "tier": "silver",
        "by": "web-form",
        "created": "2026-03-01",
        "confirmed": "2026-03-02",
        "withdrawn": "2026-05-01",
    },
]


def _load() -> dict[str, Any]:
    audiences = {
        key: factories.AudienceFactory(
            name=f"Audience {key}",
            approach=Approach(approach),
            created_at=_at("2026-01-01"),
        )
        for key, approach in AUDIENCES.items()
    }
    actions = {}
    for spec in ACTIONS:
        channel = factories.ChannelFactory(name=spec["channel"])
        action = factories.ActionFactory(
            title=spec["key"],
            channel=channel,
            status=ActionStatus(spec["status"]),
            recurrence=Recurrence(spec.get("recurrence", "none")),
            next_due_date=date.fromisoformat(spec["due"]) if "due" in spec else None,
            completed_at=_at(spec["completed"]) if "completed" in spec else None,
            created_at=_at(spec.get("created", "2026-01-01")),
        )
        actions[spec["key"]] = action
    for spec in ACTIVITIES:
        factories.ActivityFactory(
            action=actions[spec["action"]],
            occurred_on=date.fromisoformat(spec["on"]),
            created_at=_at(spec["on"]),
            figures=spec["figures"],
            audiences=[audiences[k] for k in spec["reach"]],
        )
    for spec in MEMBERS:
        withdrawn = spec.get("withdrawn")
        confirmed = spec.get("confirmed")
        status = (
            MemberStatus.WITHDRAWN
            if withdrawn
            else MemberStatus.ACTIVE
            if confirmed or spec["by"] == "phone"
            else MemberStatus.PENDING
        )
        factories.MemberFactory(
            tier=Tier(spec["tier"]),
            status=status,
            joined_by=ConsentMethod(spec["by"]),
            created_at=_at(spec["created"]),
            confirmed_at=_at(confirmed) if confirmed else None,
            withdrawn_at=_at(withdrawn) if withdrawn else None,
        )
    db.session.commit()
    return {"actions": actions, "audiences": audiences}


# Plain-Python expectations -----------------------------------------------------------


def _d(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def expected_actions(period: periods.Period) -> dict[str, int]:
    as_of = min(period.end, TODAY)
    counts = dict.fromkeys(["completed", "on_track", "overdue", "unscheduled"], 0)
    for spec in ACTIONS:
        completed = _d(spec.get("completed"))
        if (
            spec["status"] == "done"
            and completed
            and period.start <= completed <= period.end
        ):
            counts["completed"] += 1
        if spec["status"] not in ("planned", "in_progress"):
            continue
        if _d(spec.get("created", "2026-01-01")) > as_of:
            continue
        due = _d(spec.get("due"))
        if due is not None and due < as_of:
            counts["overdue"] += 1
        elif due is None and spec.get("recurrence") != "ongoing":
            counts["unscheduled"] += 1
        else:
            counts["on_track"] += 1
    return counts


def expected_reach(period: periods.Period) -> dict[str, dict[str, int]]:
    channel_of = {a["key"]: a["channel"] for a in ACTIONS}
    result: dict[str, dict[str, int]] = {}
    for spec in ACTIVITIES:
        if not period.start <= _d(spec["on"]) <= period.end:
            continue
        row = result.setdefault(channel_of[spec["action"]], {"deliveries": 0})
        row["deliveries"] += 1
        for label, value in spec["figures"].items():
            row[label] = row.get(label, 0) + value
    return result


def expected_rates(period: periods.Period) -> dict[str, float]:
    """Per channel, opens ÷ recipients (%) over the deliveries that record both."""
    channel_of = {a["key"]: a["channel"] for a in ACTIONS}
    pairs: dict[str, list[int]] = {}
    for spec in ACTIVITIES:
        figures = spec["figures"]
        if period.start <= _d(spec["on"]) <= period.end and {
            "opens",
            "recipients",
        } <= set(figures):
            pair = pairs.setdefault(channel_of[spec["action"]], [0, 0])
            pair[0] += figures["opens"]
            pair[1] += figures["recipients"]
    return {c: round(100 * n / d, 1) for c, (n, d) in pairs.items()}


def expected_due(as_of: date) -> dict[str, int]:
    due = dict.fromkeys(["manage", "inform", "monitor"], 0)
    for key, approach in AUDIENCES.items():
        contacts = [
            _d(s["on"])
            for s in ACTIVITIES
            if key in s["reach"] and _d(s["on"]) <= as_of
        ]
        if not contacts or max(contacts) + timedelta(days=INTERVALS[approach]) <= as_of:
            due[approach] += 1
    return due


def expected_members(period: periods.Period) -> dict[str, int]:
    end = min(period.end, TODAY)
    result = {"gold": 0, "silver": 0, "joined": 0, "withdrawn": 0}
    for spec in MEMBERS:
        active_from = _d(
            spec["created"] if spec["by"] == "phone" else spec.get("confirmed")
        )
        withdrawn = _d(spec.get("withdrawn"))
        if active_from and active_from <= end and not (withdrawn and withdrawn <= end):
            result[spec["tier"]] += 1
        if active_from and period.start <= active_from <= period.end:
            result["joined"] += 1
        if withdrawn and period.start <= withdrawn <= period.end:
            result["withdrawn"] += 1
    return result


def _figures(scope: Scope) -> dict[str, Any]:
    values = {}
    for section in build_dashboard(scope):
        for figure in section.figures:
            values[figure.key] = (figure.value, figure.previous)
        for table in section.tables:
            values[f"table:{table.key}"] = table.rows
    return values


# Tests --------------------------------------------------------------------------------


def test_dashboard_numbers_match_an_independent_computation() -> None:
    _load()
    got = _figures(Scope(period=Q3, today=TODAY))
    now, before = expected_actions(Q3), expected_actions(Q2)
    for key in now:
        assert got[f"actions_{key}"] == (now[key], before[key]), key

    reach, reach_before = expected_reach(Q3), expected_reach(Q2)
    assert got["deliveries"] == (
        sum(r["deliveries"] for r in reach.values()),
        sum(r["deliveries"] for r in reach_before.values()),
    )
    # Reach is the output stage only (recipients); opens are a rate of the
    # recipients of the deliveries that record both; attendees (an outtake) are
    # counted by their stage, never added to reach.
    opens = expected_rates(Q3)
    assert got["table:reach_by_channel"] == [
        [
            channel,
            reach[channel]["deliveries"],
            reach[channel].get("recipients"),
            opens.get(channel),
        ]
        for channel in sorted(reach)
    ]
    assert got["reach_recipients"][0] == 500
    assert got["rate_opens"][0] == 50.0  # 50 opens of the 100 recipients that day
    assert got["count_attendees"][0] == 30
    assert "reach_opens" not in got
    assert "reach_attendees" not in got

    due, due_before = expected_due(Q3.end), expected_due(Q2.end)
    assert got["audiences_due"] == (sum(due.values()), sum(due_before.values()))
    assert [row[:2] for row in got["table:audiences_due"]] == [
        [a.capitalize(), due[a]] for a in ("manage", "inform", "monitor")
    ]

    members, members_before = expected_members(Q3), expected_members(Q2)
    assert got["members_gold"] == (members["gold"], members_before["gold"])
    assert got["members_silver"] == (members["silver"], members_before["silver"])
    assert got["members_joined"] == (members["joined"], members_before["joined"])
    assert got["members_withdrawn"] == (
        members["withdrawn"],
        members_before["withdrawn"],
    )
    assert got["members_active"][0] == members["gold"] + members["silver"]


def test_known_values_spelled_out() -> None:
    """The same data set, with the expected values worked out by hand."""
    _load()
    got = _figures(Scope(period=Q3, today=TODAY))
    assert got["actions_completed"] == (1, 1)
    assert got["actions_overdue"] == (1, 0)
    assert got["actions_unscheduled"] == (1, 1)
    assert got["actions_on_track"] == (2, 3)
    assert got["deliveries"] == (3, 1)
    assert got["audiences_due"] == (1, 2)
    assert got["members_gold"] == (2, 1)
    assert got["members_joined"] == (3, 1)


def test_programme_filter_limits_actions_and_deliveries() -> None:
    data = _load()
    programme = factories.ProgrammeFactory(name="Stroke review")
    data["actions"]["a3"].programme_id = programme.id
    db.session.commit()
    got = _figures(Scope(period=Q3, today=TODAY, programme=programme))
    assert got["actions_overdue"][0] == 1
    assert got["actions_on_track"][0] == 0
    assert got["deliveries"][0] == 1
    # Recipients 100 (reach) and opens 50 as a rate of them: never 150.
    assert got["table:reach_by_channel"] == [["Newsletter", 1, 100, 50.0]]


def test_trend_tables_cover_the_period_in_months_or_weeks() -> None:
    _load()
    got = _figures(Scope(period=Q3, today=TODAY))
    assert got["table:deliveries_trend"] == [
        ["Jul 2026", 1],
        ["Aug 2026", 1],
        ["Sep 2026", 1],
    ]
    assert got["table:members_growth"] == [
        ["Jul 2026", 2, 0],
        ["Aug 2026", 1, 0],
        ["Sep 2026", 0, 1],
    ]
    month = _figures(Scope(period=periods.month(2026, 9), today=TODAY))
    assert month["table:deliveries_trend"][0][0] == "w/c 31 August 2026"
    # Whole ISO weeks: the last one (28 Sep to 4 Oct) also holds 1 October's delivery.
    assert month["table:deliveries_trend"][-1] == ["w/c 28 September 2026", 2]
    assert month["deliveries"][0] == 1


def test_trends_stop_at_the_current_month_and_a_future_period_has_none() -> None:
    _load_reach_and_surveys()
    # Mid-August: September has not begun, so it is not drawn as a fall to 0, and
    # August is labelled as the month so far.
    got = _figures(Scope(period=Q3, today=date(2026, 8, 20)))
    for key in ("deliveries_trend", "members_growth", "metrics_trend"):
        assert [row[0] for row in got[f"table:{key}"]] == [
            "Jul 2026",
            "Aug 2026 (to date)",
        ]
    later = _figures(Scope(period=periods.quarter(2027, 1), today=TODAY))
    assert later["table:survey_responses_trend"] == []
    assert later["table:metrics_trend"] == []


def test_table_cells_are_shown_with_separators_and_no_stray_decimals() -> None:
    table = DataTable("t", "Caption", ["Metric", "A", "B", "C", "D"], [])
    table.rows.append(["Visits", 2579.0, 4533.88, None, 12345])
    assert table.body() == [
        (
            "Visits",
            [(True, "2,579"), (True, "4,533.88"), (True, "–"), (True, "12,345")],
        )
    ]


def test_representativeness_only_for_admins(cast: dict[str, Any]) -> None:
    scope = Scope(period=Q3, today=TODAY, actor=cast["lead"], include_equality=True)
    assert "representativeness" not in [s.key for s in build_dashboard(scope)]
    scope = Scope(period=Q3, today=TODAY, actor=cast["admin"], include_equality=True)
    assert "representativeness" in [s.key for s in build_dashboard(scope)]


@pytest.mark.parametrize(
    ("kind", "value", "start", "end"),
    [
        ("month", "2026-07", date(2026, 7, 1), date(2026, 7, 31)),
        ("month", "2024-02", date(2024, 2, 1), date(2024, 2, 29)),
        ("quarter", "2026-Q4", date(2026, 10, 1), date(2026, 12, 31)),
        ("year", "2025", date(2025, 1, 1), date(2025, 12, 31)),
        (None, None, date(2026, 10, 1), date(2026, 12, 31)),
    ],
)
def test_parse_period(
    kind: str | None, value: str | None, start: date, end: date
) -> None:
    period = periods.parse_period(kind, value, today=TODAY)
    assert (period.start, period.end) == (start, end)


def test_previous_periods() -> None:
    assert periods.quarter(2026, 1).previous() == periods.quarter(2025, 4)
    assert periods.month(2026, 3).previous() == periods.month(2026, 2)
    custom = periods.custom(date(2026, 3, 10), date(2026, 3, 19))
    assert (custom.previous().start, custom.previous().end) == (
        date(2026, 2, 28),
        date(2026, 3, 9),
    )


@pytest.mark.parametrize(
    ("kind", "value", "start", "end"),
    [
        ("week", None, None, None),
        ("month", "2026-13", None, None),
        ("quarter", "2026-Q5", None, None),
        ("year", "99", None, None),
        ("custom", None, date(2026, 3, 1), None),
        ("custom", None, date(2026, 3, 1), date(2026, 2, 1)),
        ("custom", None, date(2000, 1, 1), date(2026, 1, 1)),
    ],
)
def test_parse_period_rejects_bad_input(
    kind: str, value: str | None, start: date | None, end: date | None
) -> None:
    with pytest.raises(ValidationError):
        periods.parse_period(kind, value, start=start, end=end, today=TODAY)


def test_audiences_due_use_the_programme_approach() -> None:
    data = _load()
    programme = factories.ProgrammeFactory(name="Urgent care")
    monitor = data["audiences"]["au3"]  # never reached: due whatever its approach
    inform = data["audiences"]["au2"]  # reached 3 July: due under "manage" (30 days)
    db.session.add_all(
        [
            ProgrammeApproach(
                audience_id=inform.id, programme_id=programme.id, approach="manage"
            ),
            ProgrammeApproach(
                audience_id=monitor.id, programme_id=programme.id, approach="manage"
            ),
        ]
    )
    db.session.commit()
    got = _figures(Scope(period=Q3, today=TODAY, programme=programme))
    rows = {row[0]: row[1:3] for row in got["table:audiences_due"]}
    assert rows["Manage"] == [2, 3]
    assert rows["Inform"] == [0, 0]
    assert rows["Monitor"] == [0, 0]


# Metrics, media mentions and surveys: a second known data set ------------------------

DAYS_IN = {"month": 365.25 / 12, "quarter": 365.25 / 4, "year": 365.25}
RANK = ["manual", "import", "feed", "system"]

METRICS: list[dict[str, Any]] = [
    {"key": "radio", "channel": "Radio", "kind": "flow", "target": (2500, "quarter")},
    {"key": "visits", "channel": "Web", "kind": "flow", "target": (1000, "month")},
    {"key": "followers", "channel": "Web", "kind": "level", "target": (500, "year")},
    {
        "key": "complaints",
        "channel": None,
        "kind": "flow",
        "target": (10, "quarter"),
        "higher": False,
    },
    {"key": "untargeted", "channel": None, "kind": "level"},
]

OBSERVATIONS: list[tuple[str, str, float, str]] = [
    ("radio", "2026-07-05", 1000, "manual"),
    ("radio", "2026-07-05", 1200, "import"),  # the manual value wins
    ("radio", "2026-08-10", 900, "import"),
    ("radio", "2026-09-30", 800, "system"),
    ("radio", "2026-06-15", 500, "manual"),  # Q2
    ("radio", "2026-10-01", 700, "manual"),  # after Q3
    ("visits", "2026-07-01", 400, "feed"),
    ("visits", "2026-07-01", 450, "system"),  # the feed value wins
    ("visits", "2026-09-15", 300, "import"),
    ("visits", "2026-04-01", 250, "manual"),
    ("followers", "2026-07-01", 300, "manual"),
    ("followers", "2026-08-01", 600, "import"),
    ("followers", "2026-09-20", 420, "import"),
    ("followers", "2026-09-20", 410, "manual"),  # latest day, manual wins
    ("followers", "2026-05-01", 250, "system"),
    ("complaints", "2026-08-01", 4, "manual"),
    ("complaints", "2026-09-01", 3, "manual"),
]

MENTIONS: list[tuple[str, str | None]] = [
    ("2026-07-02", "positive"),
    ("2026-07-20", "positive"),
    ("2026-08-05", "negative"),
    ("2026-09-01", None),
    ("2026-09-30", "neutral"),
    ("2026-06-30", "negative"),
    ("2026-05-01", "positive"),
    ("2026-10-01", "positive"),
]

SURVEYS: list[dict[str, Any]] = [
    {"title": "Access", "status": "closed", "opens": "2026-06-20",
     "closes": "2026-07-15", "invited": 4, "answered": 3},
    {"title": "Maternity", "status": "open", "opens": "2026-08-01", "closes": None,
     "invited": 2, "answered": 0},
    {"title": "Old", "status": "closed", "opens": "2026-03-01", "closes": "2026-05-31",
     "invited": 5, "answered": 5},
    {"title": "Draft", "status": "draft", "opens": None, "closes": None, "invited": 0,
     "answered": 0},
    # A draft with a date was never open; an open survey whose opening date was
    # cleared counts as open from its creation.
    {"title": "Planned", "status": "draft", "opens": "2026-08-15", "closes": None,
     "invited": 0, "answered": 0},
    {"title": "Undated", "status": "open", "opens": None, "created": "2026-09-10",
     "closes": None, "invited": 1, "answered": 1},
]  # fmt: skip

RESPONSES: list[tuple[str, str]] = [
    ("Access", "2026-06-25"),
    ("Access", "2026-07-01"),
    ("Access", "2026-07-10"),
    ("Maternity", "2026-08-02"),
    ("Maternity", "2026-09-30"),
    ("Old", "2026-04-01"),
    ("Old", "2026-04-01"),
    ("Maternity", "2026-10-02"),
]


def _load_reach_and_surveys() -> dict[str, Any]:
    channels = {name: factories.ChannelFactory(name=name) for name in ("Radio", "Web")}
    metrics = {}
    for spec in METRICS:
        target = spec.get("target")
        metrics[spec["key"]] = factories.MetricFactory(
            key=spec["key"],
            name=spec["key"].capitalize(),
            kind=MetricKind(spec["kind"]),
            higher_is_better=spec.get("higher", True),
            target_value=target[0] if target else None,
            target_period=TargetPeriod(target[1]) if target else None,
            channel=channels[spec["channel"]] if spec["channel"] else None,
        )
    for key, day, value, source in OBSERVATIONS:
        factories.ObservationFactory(
            metric=metrics[key],
            observed_on=date.fromisoformat(day),
            value=value,
            source=Source(source),
            recorded_at=_at(day),
        )
    feed = factories.FeedFactory(url="https://news.example/rss", name="Local news")
    for index, (day, tone) in enumerate(MENTIONS):
        db.session.add(
            Mention(
                feed_id=feed.id,
                guid=f"entry-{index}",
                published_on=date.fromisoformat(day),
                title=f"Story {index}",
                tone=Tone(tone) if tone else None,
                found_at=_at(day),
            )
        )
    surveys = {}
    for spec in SURVEYS:
        survey = factories.SurveyFactory(
            title=spec["title"],
            status=SurveyStatus(spec["status"]),
            opens_at=_at(spec["opens"]) if spec["opens"] else None,
            closes_at=_at(spec["closes"]) if spec["closes"] else None,
            created_at=_at(spec.get("created") or spec["opens"] or "2026-01-05"),
        )
        surveys[spec["title"]] = survey
        for number in range(spec["invited"]):
            db.session.add(
                Invitation(
                    survey_id=survey.id,
                    token_hash=f"{survey.id:032d}{number:032d}",
                    delivery=Delivery.EMAIL,
                    created_at=_at(spec.get("created") or spec["opens"]),
                    sent_at=_at(spec.get("created") or spec["opens"]),
                    answered_at=_at(spec.get("created") or spec["opens"])
                    if number < spec["answered"]
                    else None,
                )
            )
    for title, day in RESPONSES:
        db.session.add(
            Response(
                survey_id=surveys[title].id,
                submitted_on=date.fromisoformat(day),
                source=ResponseSource.WEB,
            )
        )
    db.session.commit()
    return {"metrics": metrics, "surveys": surveys}


def expected_metric(key: str, period: periods.Period) -> float | None:
    """The reach report's rules, in plain Python: best source per day; sum or latest."""
    kind = next(m["kind"] for m in METRICS if m["key"] == key)
    best: dict[date, tuple[int, float]] = {}
    for metric, day, value, source in OBSERVATIONS:
        on = date.fromisoformat(day)
        if metric != key or not period.start <= on <= period.end:
            continue
        if on not in best or RANK.index(source) < best[on][0]:
            best[on] = (RANK.index(source), value)
    if not best:
        return None
    if kind == "flow":
        return sum(value for _, value in best.values())
    return best[max(best)][1]


def expected_target(spec: dict[str, Any], period: periods.Period) -> float | None:
    if "target" not in spec:
        return None
    value, per = spec["target"]
    if spec["kind"] == "level":
        return value
    return round(value * period.days / DAYS_IN[per], 2)


MONTHS = [(7, "Jul 2026"), (8, "Aug 2026"), (9, "Sep 2026")]


def test_metrics_match_an_independent_computation() -> None:
    _load_reach_and_surveys()
    got = _figures(Scope(period=Q3, today=TODAY))

    # Every metric with a target against it; the others only counted in a note.
    rows = {row[0]: row for row in got["table:metrics_targets"]}
    met = untargeted = 0
    for spec in METRICS:
        value, prior = (
            expected_metric(spec["key"], Q3),
            expected_metric(spec["key"], Q2),
        )
        target = expected_target(spec, Q3)
        if target is None:
            untargeted += 1
            assert spec["key"].capitalize() not in rows, spec["key"]
            continue
        higher = spec.get("higher", True)
        status = (
            "no data"
            if value is None
            else "met"
            if (value >= target if higher else value <= target)
            else "not met"
        )
        met += status == "met"
        change = None if value is None or prior is None else value - prior
        assert rows[spec["key"].capitalize()] == [
            spec["key"].capitalize(),
            "Output",
            spec["channel"] or "–",
            value,
            prior,
            change,
            sensible(target),
            status.capitalize(),
        ], spec["key"]
    assert len(rows) == len(METRICS) - untargeted
    assert got["metrics_on_target"] == (met, None)

    # Reach by channel: the channel's flow metrics summed.
    by_channel: dict[str, list[float]] = {}
    for spec in METRICS:
        if spec["channel"] and spec["kind"] == "flow":
            row = by_channel.setdefault(spec["channel"], [0, 0])
            row[0] += expected_metric(spec["key"], Q3) or 0
            row[1] += expected_metric(spec["key"], Q2) or 0
    assert got["table:metrics_by_channel"] == [
        [name, now, before, now - before]
        for name, (now, before) in sorted(by_channel.items())
    ]
    trend = [
        [
            label,
            *(
                sum(
                    expected_metric(spec["key"], periods.month(2026, number)) or 0
                    for spec in METRICS
                    if spec["channel"] == name and spec["kind"] == "flow"
                )
                for name in sorted(by_channel)
            ),
        ]
        for number, label in MONTHS
    ]
    assert got["table:metrics_trend"] == trend


def test_mentions_match_an_independent_computation() -> None:
    _load_reach_and_surveys()
    got = _figures(Scope(period=Q3, today=TODAY))

    def tones(period: periods.Period) -> dict[str, int]:
        counts = dict.fromkeys(["positive", "neutral", "negative", "unset"], 0)
        for day, tone in MENTIONS:
            if period.start <= date.fromisoformat(day) <= period.end:
                counts[tone or "unset"] += 1
        return counts

    now_tones, before_tones = tones(Q3), tones(Q2)
    assert got["mentions"] == (sum(now_tones.values()), sum(before_tones.values()))
    for tone in now_tones:
        assert got[f"mentions_{tone}"] == (now_tones[tone], before_tones[tone]), tone
    assert [row[1:] for row in got["table:mentions_by_tone"]] == [
        [now_tones[t], before_tones[t]] for t in now_tones
    ]
    assert [row[1:] for row in got["table:mentions_trend"]] == [
        list(tones(periods.month(2026, number)).values()) for number, _ in MONTHS
    ]


def test_survey_figures_match_an_independent_computation(cast) -> None:
    """Responses in the period; rate = answered invitations ÷ invitations (the
    staff dashboard: the team's real counts)."""
    _load_reach_and_surveys()
    got = _figures(
        Scope(period=Q3, today=TODAY, actor=cast["lead"], purpose=Purpose.TEAM)
    )

    def responses(period: periods.Period, title: str | None = None) -> int:
        return sum(
            1
            for survey, day in RESPONSES
            if period.start <= date.fromisoformat(day) <= period.end
            and title in (None, survey)
        )

    def open_in(period: periods.Period) -> list[dict[str, Any]]:
        return [
            s
            for s in SURVEYS
            if s["status"] != "draft"
            and date.fromisoformat(s["opens"] or s["created"]) <= period.end
            and (s["closes"] is None or date.fromisoformat(s["closes"]) >= period.start)
        ]

    def rate(surveys: list[dict[str, Any]]) -> float | None:
        invited = sum(s["invited"] for s in surveys)
        answered = sum(s["answered"] for s in surveys)
        return round(100 * answered / invited, 1) if invited else None

    assert got["survey_responses"] == (responses(Q3), responses(Q2))
    assert got["surveys_open"] == (len(open_in(Q3)), len(open_in(Q2)))
    overall, overall_before = rate(open_in(Q3)), rate(open_in(Q2))
    assert overall is not None
    assert overall_before is not None
    assert got["survey_response_rate"] == (round(overall), round(overall_before))
    assert got["table:survey_response_rates"] == [
        *(
            [
                s["title"],
                responses(Q3, s["title"]),
                s["invited"],
                s["answered"],
                rate([s]),
            ]
            for s in open_in(Q3)
        ),
        [
            "All surveys open in the period",
            responses(Q3),
            sum(s["invited"] for s in open_in(Q3)),
            sum(s["answered"] for s in open_in(Q3)),
            overall,
        ],
    ]
    assert [row[1] for row in got["table:survey_responses_trend"]] == [
        responses(periods.month(2026, number)) for number, _ in MONTHS
    ]


@pytest.mark.parametrize("purpose", [Purpose.BOARD_REPORT, Purpose.API])
def test_survey_counts_under_five_are_suppressed_outside_the_team(
    cast, purpose
) -> None:
    """The board report and the API show a survey's counts of 1 to 4 as "fewer than
    5", with the total (the only other count) hidden so they cannot be worked out;
    a rate worked out from a hidden count goes with it."""
    _load_reach_and_surveys()
    scope = Scope(period=Q3, today=TODAY, actor=cast["admin"], purpose=purpose)
    got = _figures(scope)
    # Real counts: Access 2 responses, 4 invited, 3 answered; Maternity 2, 2, 0;
    # Undated 0, 1, 1; all 4, 7, 4 (rate 57%). Responses before: 3 (Q2).
    section = next(s for s in build_dashboard(scope) if s.key == "surveys")
    assert {f.key: (f.value, f.previous) for f in section.figures} == {
        "surveys_open": (3, 2)
    }
    assert section.notes[:2] == [
        "Response rate of invitations (%): not shown, as fewer than 5 answered.",
        "Survey responses: fewer than 5 in the period.",
    ]
    # The trend by month: July 2, August 1, September 1 (all 4 hidden).
    assert [row[1] for row in got["table:survey_responses_trend"]] == [HIDDEN] * 3
    assert got["table:survey_response_rates"] == [
        ["Access", HIDDEN, 4, HIDDEN, HIDDEN],
        ["Maternity", HIDDEN, 2, 0, 0.0],
        ["Undated", 0, 1, HIDDEN, HIDDEN],
        ["All surveys open in the period", HIDDEN, 7, HIDDEN, HIDDEN],
    ]


def test_metrics_mentions_and_surveys_spelled_out(cast) -> None:
    """The same second data set, worked out by hand (the staff dashboard)."""
    _load_reach_and_surveys()
    scope = Scope(period=Q3, today=TODAY, actor=cast["lead"], purpose=Purpose.TEAM)
    got = _figures(scope)
    # Radio 1000 + 900 + 800 (manual beats import on 5 July); Web visits 400 + 300
    # (feed beats system on 1 July); followers are a level, so not in channel reach.
    assert got["table:metrics_by_channel"] == [
        ["Radio", 2700, 500, 2200],
        ["Web", 700, 250, 450],
    ]
    targets = {row[0]: row[6:] for row in got["table:metrics_targets"]}
    assert targets["Radio"] == [2519, "Met"]  # 2500 × 92 / 91.3125 = 2518.82
    assert targets["Visits"] == [3023, "Not met"]  # 1000 × 92 / 30.4375
    assert targets["Followers"] == [500, "Not met"]  # level: latest value 410
    assert targets["Complaints"] == [10.1, "Met"]  # lower is better: 7
    assert "Untargeted" not in targets
    (metrics,) = [s for s in build_dashboard(scope) if s.key == "metrics"]
    assert "1 metric has no target, so no line against targets." in metrics.notes
    assert got["metrics_on_target"] == (2, None)
    assert got["mentions"] == (5, 2)
    assert got["mentions_unset"] == (1, 0)
    assert got["survey_responses"] == (4, 3)
    assert got["survey_response_rate"] == (57, 89)  # 4 of 7 (Undated counts); 8 of 9
