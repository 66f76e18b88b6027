"""The score-relationships job: each active audience's relationship health for today.

The runner commits once; a second run the same day replaces that day's rows.
"""

from __future__ import annotations

from datetime import datetime

from engage.clock import local_day
from engage.relationships.health import record_health


def score_relationships(now: datetime) -> dict[str, int]:
    """Score every active audience for the UK day ``now`` falls on and keep it."""
    return {"audiences": record_health(local_day(now), now=now)}
