"""Equality report: counts, suppression of small cells and the population comparison."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime

import pytest
from sqlalchemy import select

from engage.audit.models import AuditEvent
from engage.errors import ValidationError
from engage.extensions import db
from engage.membership import reports
from engage.membership.models import MemberStatus
from engage.membership.models import PopulationShare
from tests.factories import MemberFactory

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _rows(**answers: list[str | None]) -> list[dict[str, str | None]]:
    """Rows from columns: _rows(sex=["female", "male"]) → two members."""
    size = max(len(values) for values in answers.values())
    return [
        {field: values[i] for field, values in answers.items()} for i in range(size)
    ]


def _cells(report: reports.EqualityReport, field: str) -> dict[str, reports.Cell]:
    (question,) = [q for q in report.questions if q.field == field]
    return {cell.value: cell for cell in question.cells}


def test_counts_and_percentages_include_prefer_not_and_not_answered() -> None:
    rows = _rows(
        sex=["female"] * 6 + ["male"] * 6 + ["prefer_not_to_say"] * 5 + [None] * 8
    )
    cells = _cells(reports.build_report(rows, {}), "sex")
    assert cells["female"].count == 6
    assert cells["female"].percent == 24.0
    assert cells["prefer_not_to_say"].count == 5
    assert cells["not_answered"].count == 8
    assert cells["not_answered"].label == "Not answered"
    assert not any(c.suppressed for c in cells.values())


def test_small_counts_are_suppressed_with_a_second_cell() -> None:
    rows = _rows(sex=["female"] * 20 + ["male"] * 7 + ["prefer_not_to_say"] * 2)
    cells = _cells(reports.build_report(rows, {}), "sex")
    assert cells["prefer_not_to_say"].suppressed
    assert cells["prefer_not_to_say"].count is None
    assert cells["prefer_not_to_say"].percent is None
    assert cells["prefer_not_to_say"].shown_count == "fewer than 5"
    # Without a second hidden cell, 29 − 20 − 7 would give the 2 away.
    assert cells["male"].suppressed
    assert cells["male"].count is None
    # The 7 may be any size as far as a reader knows, and is not fewer than 5.
    assert cells["male"].shown_count == "not shown"
    assert cells["female"].count == 20
    assert cells["not_answered"].count == 0


def test_suppressed_values_hide_at_least_two_cells_holding_five_or_more() -> None:
    assert reports.suppressed_values({"a": 10, "b": 8, "c": 0}) == set()
    assert reports.suppressed_values({"a": 10, "b": 8, "c": 3}) == {"b", "c"}
    # Two cells of 1 add up to 2: one more cell is hidden so 1 + 1 is not revealed.
    assert reports.suppressed_values({"a": 10, "b": 6, "c": 1, "d": 1}) == {
        "b",
        "c",
        "d",
    }
    assert reports.suppressed_values({"a": 10, "b": 3, "c": 4}) == {"b", "c"}


def test_no_table_with_fewer_than_five_members() -> None:
    report = reports.build_report(_rows(sex=["female"] * 4), {})
    assert report.shown is False
    assert report.questions == []


@pytest.mark.parametrize(
    ("difference", "verdict"),
    [
        (-5.1, "under-represented"),
        (-5.0, "about right"),
        (5.0, "about right"),
        (5.1, "over-represented"),
    ],
)
def test_verdict_uses_five_points(difference: float, verdict: str) -> None:
    assert reports.verdict(difference) == verdict


def test_comparison_with_the_population_uses_members_who_answered() -> None:
    rows = _rows(
        disability=["yes"] * 10 + ["no"] * 30 + ["prefer_not_to_say"] * 10 + [None] * 10
    )
    population = {("disability", "yes"): 20.0, ("disability", "no"): 80.0}
    cells = _cells(reports.build_report(rows, population), "disability")
    assert cells["yes"].population_percent == 20.0
    assert cells["yes"].difference == 5.0  # 10 of 40 who answered: 25%
    assert cells["yes"].verdict == "about right"
    assert cells["no"].difference == -5.0
    assert cells["prefer_not_to_say"].verdict is None


def test_under_and_over_represented() -> None:
    rows = _rows(age_band=["75_plus"] * 5 + ["18_24"] * 15)
    population = {("age_band", "75_plus"): 10.0, ("age_band", "18_24"): 40.0}
    cells = _cells(reports.build_report(rows, population), "age_band")
    assert cells["75_plus"].verdict == "over-represented"  # 25% vs 10%
    assert cells["18_24"].verdict == "over-represented"  # 75% vs 40%
    rows = _rows(age_band=["75_plus"] * 5 + ["18_24"] * 45)
    cells = _cells(reports.build_report(rows, population), "age_band")
    assert cells["75_plus"].verdict == "about right"
    assert cells["18_24"].verdict == "over-represented"
    population = {("age_band", "75_plus"): 30.0}
    cells = _cells(reports.build_report(rows, population), "age_band")
    assert cells["75_plus"].verdict == "under-represented"  # 10% vs 30%


def test_equality_report_counts_active_members_and_is_audited(cast) -> None:
    MemberFactory.create_batch(5, equality={"ethnicity": "white_british"})
    MemberFactory()  # active, with no equality answers
    MemberFactory(status=MemberStatus.WITHDRAWN, equality={"ethnicity": "white_irish"})
    MemberFactory(status=MemberStatus.PENDING, equality={"ethnicity": "white_irish"})
    report = reports.equality_report(actor=cast["admin"], now=NOW)
    assert report.total == 6
    cells = _cells(report, "ethnicity")
    assert cells["white_irish"].count == 0
    assert cells["white_british"].suppressed  # 5 of 6: hidden with the 1 not answered
    assert cells["not_answered"].suppressed
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.entity_type == "equality_report")
    )
    assert event is not None
    assert event.actor_id == cast["admin"].id


def test_set_population_share_adds_changes_and_clears(cast) -> None:
    reports.set_population_share("sex", "female", 51.0, actor=cast["admin"], now=NOW)
    reports.set_population_share("sex", "female", 50.5, actor=cast["admin"], now=NOW)
    assert reports.population_profile() == {("sex", "female"): 50.5}
    reports.set_population_share("sex", "female", None, actor=cast["admin"], now=NOW)
    assert db.session.scalars(select(PopulationShare)).all() == []
    with pytest.raises(ValidationError):
        reports.set_population_share("sex", "other", 1.0, actor=cast["admin"], now=NOW)
    with pytest.raises(ValidationError):
        reports.set_population_share("sex", "male", 101.0, actor=cast["admin"], now=NOW)
