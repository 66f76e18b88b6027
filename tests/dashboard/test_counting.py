"""Counts in date and time ranges: pieces, overlaps, bounds and series."""

from __future__ import annotations

import random
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta

import pytest

from engage.dashboard.counting import counts_in_ranges
from engage.dashboard.counting import pieces_of
from engage.dashboard.counting import series_in_ranges
from engage.extensions import db
from engage.metrics.models import Mention
from engage.metrics.models import MetricDay
from engage.metrics.models import MetricKind
from engage.metrics.models import Tone
from tests.factories import FeedFactory
from tests.factories import MetricFactory

START = date(2026, 1, 1)


def _mentions(days_and_tones: list[tuple[date, Tone | None]]) -> None:
    feed = FeedFactory(url="https://news.example/rss", name="Local news")
    for index, (day, tone) in enumerate(days_and_tones):
        db.session.add(
            Mention(
                feed_id=feed.id,
                guid=f"entry-{index}",
                published_on=day,
                title=f"Story {index}",
                tone=tone,
                found_at=datetime(day.year, day.month, day.day, 9, 30, tzinfo=UTC),
            )
        )
    db.session.commit()


def test_pieces_cut_overlapping_ranges_and_leave_out_gaps() -> None:
    d = [date(2026, 1, n) for n in range(1, 12)]
    # [1, 5) and [3, 8) overlap; [9, 11) is apart; [6, 6) is empty.
    assert pieces_of([(d[0], d[4]), (d[2], d[7]), (d[8], d[10]), (d[5], d[5])]) == [
        (d[0], d[2]),
        (d[2], d[4]),
        (d[4], d[5]),
        (d[5], d[7]),
        (d[8], d[10]),
    ]
    assert pieces_of([]) == []


def test_counts_match_counting_by_hand_for_overlapping_ranges() -> None:
    rng = random.Random(7)
    days = [START + timedelta(days=rng.randrange(120)) for _ in range(300)]
    _mentions([(day, None) for day in days])
    ranges = [
        (START, START + timedelta(days=31)),  # January
        (START + timedelta(days=20), START + timedelta(days=50)),  # overlaps it
        (START + timedelta(days=70), START + timedelta(days=71)),  # one day
        (START + timedelta(days=90), START + timedelta(days=90)),  # empty
        (START - timedelta(days=30), START + timedelta(days=400)),  # everything
    ]
    assert counts_in_ranges(Mention.published_on, ranges) == [
        sum(1 for day in days if low <= day < high) for low, high in ranges
    ]


def test_low_bound_counts_and_high_bound_does_not() -> None:
    _mentions([(date(2026, 3, 1), None), (date(2026, 3, 31), None)])
    march = (date(2026, 3, 1), date(2026, 3, 31))
    assert counts_in_ranges(Mention.published_on, [march]) == [1]
    moment = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    # Timestamps too: [moment, …) holds it, […, moment) does not.
    assert counts_in_ranges(
        Mention.found_at,
        [(moment, moment + timedelta(days=60)), (moment - timedelta(days=1), moment)],
    ) == [2, 0]


def test_where_narrows_every_range_and_series_count_apart() -> None:
    tones = [Tone.POSITIVE, Tone.NEGATIVE, None]
    rows = [(START + timedelta(days=n), tones[n % 3]) for n in range(60)]
    _mentions(rows)
    ranges = [(START, START + timedelta(days=30)), (START, START + timedelta(days=60))]
    assert counts_in_ranges(
        Mention.published_on, ranges, Mention.tone == Tone.POSITIVE
    ) == [10, 20]
    positive, unset = series_in_ranges(
        ranges,
        [
            (Mention.published_on, [Mention.tone == Tone.POSITIVE]),
            (Mention.published_on, [Mention.tone.is_(None)]),
        ],
    )
    assert positive == [10, 20]
    assert unset == [10, 20]


@pytest.mark.parametrize("ranges", [[], [(START, START)]])
def test_nothing_to_count_runs_no_query(ranges: list[tuple[date, date]]) -> None:
    assert counts_in_ranges(Mention.published_on, ranges) == [0] * len(ranges)


def test_total_sums_a_rollup_column_over_each_range() -> None:
    metric = MetricFactory(key="visits", name="Visits", kind=MetricKind.FLOW)
    values = {START + timedelta(days=n): float(n) for n in range(40)}
    db.session.add_all(
        MetricDay(metric_id=metric.id, day=day, value=v) for day, v in values.items()
    )
    db.session.flush()
    ranges = [
        (START, START + timedelta(days=10)),
        (START + timedelta(days=5), START + timedelta(days=40)),
        (START + timedelta(days=100), START + timedelta(days=110)),  # no rows: 0
    ]
    assert counts_in_ranges(MetricDay.day, ranges, total=MetricDay.value) == [
        sum(v for day, v in values.items() if low <= day < high) for low, high in ranges
    ]
