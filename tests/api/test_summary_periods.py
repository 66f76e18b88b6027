"""The API summary of a period not yet over: to date, against the same days before."""

from __future__ import annotations

from typing import Any

from tests.dashboard.test_periods import NOON
from tests.dashboard.test_periods import _load_partial_quarter


def test_the_api_summary_says_to_date_and_what_is_compared(
    client: Any, bearer: dict[str, str], time_machine: Any
) -> None:
    _load_partial_quarter()
    time_machine.move_to(NOON, tick=False)
    body = client.get(
        "/api/v1/summary?period=quarter&value=2026-Q4", headers=bearer
    ).get_json()
    assert body["period"] == {
        "kind": "quarter",
        "value": "2026-Q4",
        "label": "Q4 2026 (October to December, to date)",
        "start": "2026-10-01",
        "end": "2026-12-31",
        "to_date": True,
        "counted_end": "2026-12-06",
        "days": 67,
    }
    assert body["previous_period"] == {
        "kind": "quarter",
        "value": "2026-Q3",
        "label": "1 July to 5 September 2026",
        "start": "2026-07-01",
        "end": "2026-09-30",
        "to_date": False,
        "counted_end": "2026-09-05",
        "days": 67,
    }
    assert "compared with 1 July to 5 September 2026" in body["comparison"]
    figures = {
        f["key"]: (f["value"], f["previous"])
        for section in body["sections"]
        for f in section["figures"]
    }
    assert figures["deliveries"] == (2, 3)
    assert figures["mentions"] == (2, 3)
    trend = next(
        t
        for section in body["sections"]
        for t in section["tables"]
        if t["key"] == "deliveries_trend"
    )
    assert trend["rows"][-1] == ["Dec 2026 (to date)", 1]

    whole = client.get(
        "/api/v1/summary?period=quarter&value=2026-Q3", headers=bearer
    ).get_json()
    assert whole["period"]["to_date"] is False
    assert whole["period"]["label"] == "Q3 2026 (July to September)"
    assert (whole["period"]["counted_end"], whole["period"]["days"]) == (
        "2026-09-30",
        92,
    )
