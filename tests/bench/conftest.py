"""The benchmark's servers run on the tests' clock (tests/clock.py)."""

from __future__ import annotations

import pytest

from engage.bench import join_load
from tests import clock


@pytest.fixture(autouse=True)
def _servers_on_the_tests_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(join_load, "python_command", clock.python_command)
