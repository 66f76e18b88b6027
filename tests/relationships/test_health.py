"""Relationship health: the score and its reasons, the nightly job, the pages."""

from __future__ import annotations

import re
import time
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from engage.audiences.models import Approach
from engage.extensions import db
from engage.relationships.health import in_words
from engage.relationships.health import score_all
from engage.relationships.health import score_one
from engage.relationships.models import AudienceHealth
from engage.relationships.models import CommitmentStatus
from engage.relationships.models import HealthBand
from engage.relationships.models import InteractionKind
from engage.relationships.models import Sentiment
from engage.scheduling.models import RunOutcome
from engage.scheduling.models import RunTrigger
from engage.scheduling.services import get_spec
from jobs.runner import run_job
from tests import factories
from tests.pager import pager_links

#: Midday UK time on a fixed day: nothing here depends on the real date.
NOW = datetime(2026, 6, 15, 11, 0, tzinfo=UTC)
DAY = date(2026, 6, 15)


@pytest.fixture(autouse=True)
def _fixed_clock(time_machine: Any) -> None:
    time_machine.move_to(NOW, tick=False)


def _audience(**kwargs: Any) -> Any:
    """A manage audience (every 30 days), on the map for a year."""
    kwargs.setdefault("approach", Approach.MANAGE)
    kwargs.setdefault("created_at", NOW - timedelta(days=365))
    return factories.AudienceFactory(**kwargs)


def _met(audience: Any, days_ago: int, **kwargs: Any) -> Any:
    return factories.InteractionFactory(
        audiences=[audience], occurred_on=DAY - timedelta(days=days_ago), **kwargs
    )


def test_in_contact_on_time_with_nothing_else_is_100() -> None:
    council = _audience()
    _met(council, 3)
    health = score_one(council, DAY)
    assert (health.score, health.band, health.reasons) == (
        100,
        HealthBand.GOOD,
        ("in contact on time",),
    )


def test_contact_against_its_cadence() -> None:
    due = _audience()
    _met(due, 40)
    long_due = _audience()
    _met(long_due, 95)
    never = _audience()
    assert score_one(due, DAY).score == 80
    assert score_one(due, DAY).reasons == ("no contact for 40 days against 30",)
    assert score_one(long_due, DAY).score == 60
    assert score_one(long_due, DAY).reasons == ("no contact for 95 days against 30",)
    assert score_one(never, DAY).score == 60
    assert score_one(never, DAY).reasons == ("never contacted",)
    # A delivery counts as contact too.
    reached = _audience()
    factories.ActivityFactory(occurred_on=DAY - timedelta(days=2), audiences=[reached])
    assert score_one(reached, DAY).reasons == ("in contact on time",)


def test_sentiment_counts_by_kind_in_words_and_is_capped() -> None:
    council = _audience()
    _met(council, 1, sentiment=Sentiment.NEGATIVE)
    _met(council, 10, sentiment=Sentiment.NEGATIVE)
    _met(council, 20, sentiment=Sentiment.MIXED, kind=InteractionKind.CALL)
    # Older than 90 days: not counted.
    _met(council, 120, sentiment=Sentiment.NEGATIVE)
    health = score_one(council, DAY)
    assert health.score == 75
    assert health.reasons == (
        "in contact on time",
        "two negative meetings",
        "one mixed call",
    )
    assert health.band is HealthBand.GOOD

    for days_ago in range(2, 8):
        _met(council, days_ago, sentiment=Sentiment.NEGATIVE)
    health = score_one(council, DAY)
    assert health.score == 70  # at most −30 for sentiment
    assert "eight negative meetings" in health.reasons


def test_positive_wins_back_points_but_never_above_100() -> None:
    council = _audience()
    for days_ago in (1, 2, 3):
        _met(council, days_ago, sentiment=Sentiment.POSITIVE)
    health = score_one(council, DAY)
    assert health.score == 100
    assert "three positive meetings" in health.reasons

    _met(council, 4, sentiment=Sentiment.NEGATIVE)
    factories.CommitmentFactory(audience=council, due_on=DAY - timedelta(days=1))
    # 100 − 10 − 15 + at most 10.
    assert score_one(council, DAY).score == 85


def test_overdue_commitments_are_capped() -> None:
    council = _audience()
    _met(council, 1)
    factories.CommitmentFactory(audience=council, due_on=DAY - timedelta(days=1))
    factories.CommitmentFactory(audience=council, due_on=DAY)  # due today: not late
    factories.CommitmentFactory(
        audience=council,
        due_on=DAY - timedelta(days=9),
        status=CommitmentStatus.DONE,
    )
    health = score_one(council, DAY)
    assert (health.score, health.reasons[-1]) == (85, "one overdue commitment")
    for _ in range(3):
        factories.CommitmentFactory(audience=council, due_on=DAY - timedelta(days=5))
    health = score_one(council, DAY)
    assert (health.score, health.reasons[-1]) == (55, "four overdue commitments")
    assert health.band is HealthBand.FAIR


def test_the_bands() -> None:
    council = _audience()  # never contacted: 60
    for _ in range(2):
        factories.CommitmentFactory(audience=council, due_on=DAY - timedelta(days=1))
    health = score_one(council, DAY)
    assert (health.score, health.band) == (30, HealthBand.POOR)
    for days_ago in (70, 75, 80):
        _met(council, days_ago, sentiment=Sentiment.NEGATIVE)
    factories.CommitmentFactory(audience=council, due_on=DAY - timedelta(days=1))
    assert score_one(council, DAY).score == 0  # 100 − 40 − 30 − 45, never below 0


def test_the_trend() -> None:
    worse = _audience()
    for days_ago in (100, 110, 120):
        _met(worse, days_ago, sentiment=Sentiment.POSITIVE)
    _met(worse, 5, sentiment=Sentiment.NEGATIVE)
    _met(worse, 6, sentiment=Sentiment.NEUTRAL)
    assert score_one(worse, DAY).reasons[-1] == "sentiment getting worse"

    better = _audience()
    for days_ago in (100, 110):
        _met(better, days_ago, sentiment=Sentiment.MIXED)
    _met(better, 5, sentiment=Sentiment.POSITIVE)
    assert score_one(better, DAY).reasons[-1] == "sentiment getting better"

    steady = _audience()
    _met(steady, 100, sentiment=Sentiment.NEGATIVE)
    _met(steady, 101, sentiment=Sentiment.POSITIVE)
    _met(steady, 5, sentiment=Sentiment.NEGATIVE)
    _met(steady, 6, sentiment=Sentiment.NEUTRAL)
    reasons = score_one(steady, DAY).reasons
    assert "sentiment getting worse" not in reasons
    assert "sentiment getting better" not in reasons


def test_drafts_and_later_interactions_do_not_count() -> None:
    from engage.relationships.models import InteractionStatus

    council = _audience()
    _met(council, 1)
    _met(council, 2, sentiment=None, status=InteractionStatus.DRAFT)
    _met(council, -3, sentiment=Sentiment.NEGATIVE)  # after the day
    assert score_one(council, DAY).score == 100


def test_counts_in_words() -> None:
    assert [in_words(n) for n in (1, 9, 10, 12)] == ["one", "nine", "10", "12"]


def test_score_all_equals_score_one_and_leaves_out_archived() -> None:
    a, b, c = _audience(), _audience(approach=Approach.INFORM), _audience()
    archived = _audience(archived_at=NOW)
    _met(a, 3, sentiment=Sentiment.NEGATIVE)
    _met(b, 120, sentiment=Sentiment.MIXED, kind=InteractionKind.EMAIL)
    factories.CommitmentFactory(audience=c, due_on=DAY - timedelta(days=2))
    everyone = score_all(DAY)
    assert archived.id not in everyone
    for audience in (a, b, c):
        assert everyone[audience.id] == score_one(audience, DAY)


def test_score_all_uses_a_fixed_number_of_queries(app: Any) -> None:
    from sqlalchemy import event

    audiences = [_audience() for _ in range(12)]
    for index, audience in enumerate(audiences):
        _met(audience, index, sentiment=Sentiment.NEGATIVE)
        factories.CommitmentFactory(audience=audience, due_on=DAY - timedelta(days=1))
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        started = time.perf_counter()
        score_all(DAY)
        assert time.perf_counter() - started < 5
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) <= 7


def test_the_job_writes_one_row_per_audience_a_day_and_replaces_it() -> None:
    a, b = _audience(), _audience()
    _met(a, 1)
    archived = _audience(archived_at=NOW)
    spec = get_spec("score-relationships")

    first = run_job(spec, trigger=RunTrigger.CLI, clock=lambda: NOW)
    assert first is not None
    assert first.outcome is RunOutcome.OK, first.error
    assert first.counts["audiences"] == 2
    rows = db.session.scalars(select(AudienceHealth)).all()
    assert {(r.audience_id, r.day) for r in rows} == {(a.id, DAY), (b.id, DAY)}
    assert archived.id not in {r.audience_id for r in rows}
    assert next(r for r in rows if r.audience_id == b.id).reasons == "never contacted"

    _met(b, 0, sentiment=Sentiment.NEGATIVE)
    again = run_job(
        spec, trigger=RunTrigger.CLI, clock=lambda: NOW + timedelta(minutes=5)
    )
    assert again is not None
    assert again.outcome is RunOutcome.OK
    db.session.expire_all()
    rows = db.session.scalars(select(AudienceHealth)).all()
    assert len(rows) == 2
    replaced = next(r for r in rows if r.audience_id == b.id)
    assert (replaced.score, replaced.band) == (90, HealthBand.GOOD)
    assert replaced.reasons == "in contact on time\none negative meeting"

    tomorrow = NOW + timedelta(days=1)
    run_job(spec, trigger=RunTrigger.CLI, clock=lambda: tomorrow)
    assert len(db.session.scalars(select(AudienceHealth)).all()) == 4


def test_the_audience_page_shows_todays_health_and_links(
    client: Any, login: Any, cast: dict[str, Any]
) -> None:
    council = _audience()
    factories.CommitmentFactory(audience=council, due_on=DAY - timedelta(days=1))
    login(cast["lead"])
    page = client.get(f"/audiences/{council.id}").get_data(as_text=True)
    assert "Relationship health" in page
    assert "Needs attention" in page
    assert "45 out of 100" in page
    assert "Never contacted" in page
    assert "One overdue commitment" in page
    assert f"/audiences/{council.id}/health" in page
    assert f"/audiences/{council.id}/brief" in page
    assert "Meeting brief" in page


def test_the_history_lists_the_rows_newest_first(
    client: Any, login: Any, cast: dict[str, Any]
) -> None:
    council = _audience()
    for days_ago, score in ((2, 40), (1, 80)):
        db.session.add(
            AudienceHealth(
                audience_id=council.id,
                day=DAY - timedelta(days=days_ago),
                score=score,
                band=HealthBand.GOOD if score >= 70 else HealthBand.FAIR,
                reasons="no contact for 40 days against 30",
                computed_at=NOW,
            )
        )
    db.session.commit()
    login(cast["lead"])
    response = client.get(f"/audiences/{council.id}/health")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert page.index("14 June 2026") < page.index("13 June 2026")
    assert "Needs attention" in page
    assert "No contact for 40 days against 30" in page
    assert client.get(f"/audiences/{council.id}/health?page=x").status_code == 200
    assert client.get("/audiences/999999/health").status_code == 404


def test_a_long_history_pages_by_its_days(
    client: Any, login: Any, cast: dict[str, Any]
) -> None:
    council = _audience()
    for days_ago in range(35):  # 30 a page
        db.session.add(
            AudienceHealth(
                audience_id=council.id,
                day=DAY - timedelta(days=days_ago),
                score=days_ago,
                band=HealthBand.POOR,
                reasons="no contact",
                computed_at=NOW,
            )
        )
    db.session.commit()
    login(cast["lead"])
    first = client.get(f"/audiences/{council.id}/health").get_data(as_text=True)
    second = client.get(pager_links(first)["next"]).get_data(as_text=True)

    def scores(page: str) -> list[int]:
        return [int(n) for n in re.findall(r'cell">(\d+)</td>', page)]

    assert scores(first) == list(range(30))
    assert scores(second) == list(range(30, 35))
    back = client.get(pager_links(second)["previous"]).get_data(as_text=True)
    assert scores(back) == list(range(30))


def test_the_map_coloured_by_health(
    client: Any, login: Any, cast: dict[str, Any]
) -> None:
    council = _audience(name="Northshire County Council")
    login(cast["lead"])
    page = client.get("/map/?colour=health").get_data(as_text=True)
    assert "Key to relationship health" in page
    assert re.search(
        r"Northshire County Council</a>\s*<strong[^>]*>\s*Needs attention", page
    )
    assert "health needs attention (60 out of 100)" in page

    usual = client.get("/map/").get_data(as_text=True)
    assert "Key to relationship health" not in usual
    for bad in ("purple", "HEALTH", "x" * 500):
        response = client.get(f"/map/?colour={bad}")
        assert response.status_code == 200
        assert "Key to relationship health" not in response.get_data(as_text=True)
    assert council.name in usual


def test_the_brief(client: Any, login: Any, cast: dict[str, Any]) -> None:
    council = _audience(name="Northshire County Council")
    factories.ContactFactory(audience=council, name="Cllr Ann Smith", role="Leader")
    theme = factories.ThemeFactory(name="Stroke services review")
    other = factories.ThemeFactory(name="Parking")
    for days_ago in range(1, 8):
        _met(
            council,
            days_ago,
            subject=f"Meeting {days_ago} days ago",
            themes=[theme] if days_ago < 4 else [theme, other],
            sentiment=Sentiment.MIXED if days_ago == 1 else Sentiment.NEUTRAL,
        )
    _met(council, 400, themes=[other], subject="Long ago")
    factories.CommitmentFactory(
        audience=council,
        description="Send the review papers",
        due_on=DAY - timedelta(days=3),
    )
    factories.CommitmentFactory(
        audience=council, description="Arrange a visit", due_on=DAY + timedelta(days=9)
    )
    login(cast["lead"])
    response = client.get(f"/audiences/{council.id}/brief")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Meeting brief" in page
    assert "Cllr Ann Smith" in page
    # The last five interactions only, newest first.
    assert "Meeting 1 days ago" in page
    assert "Meeting 5 days ago" in page
    assert "Meeting 6 days ago" not in page
    assert "Long ago" not in page
    assert page.index("Meeting 1 days ago") < page.index("Meeting 5 days ago")
    assert "Mixed" in page
    # Each promise and theme in a span the printout cuts to two lines, then what
    # follows it (when due, how often raised), never cut.
    clip = '<span class="engage-brief__clip">'
    assert (
        f"{clip}Send the review papers</span> {clip}– due 12 June 2026 "
        "<strong>(overdue)</strong></span>" in page
    )
    assert f"{clip}Arrange a visit</span> {clip}– due 24 June 2026</span>" in page
    line = '<span class="engage-brief__clip engage-brief__clip--line">'
    assert f"{line}Stroke services review:</span> <span>raised 7 times</span>" in page
    assert f"{line}Parking:</span> <span>raised 4 times</span>" in page
    assert "Contact expected every 30 days" in page
    assert "one mixed meeting" in page
    assert "Print this brief" in page
    assert "css/brief" in page


def test_access_to_the_pages(client: Any, login: Any, cast: dict[str, Any]) -> None:
    council = _audience()
    for path in (f"/audiences/{council.id}/health", f"/audiences/{council.id}/brief"):
        assert client.get(path).status_code == 302  # sign in first
    login(cast["lead"])
    for path in (f"/audiences/{council.id}/health", f"/audiences/{council.id}/brief"):
        assert client.get(path).status_code == 200
