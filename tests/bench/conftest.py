"""The benchmark's servers run on the tests' clock (tests/clock.py), and the
throttling its apps switch off is switched back on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from engage.bench import join_load
from engage.extensions import limiter
from tests import clock


@pytest.fixture(autouse=True)
def _servers_on_the_tests_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(join_load, "python_command", clock.python_command)


@pytest.fixture(scope="module", autouse=True)
def _restore_limiter() -> Iterator[None]:
    # The bench apps switch throttling off, and Flask-Limiter keeps that on its one
    # global instance (later apps inherit it): put it back for the other tests.
    saved = (limiter.enabled, limiter._storage, limiter._limiter)
    yield
    limiter.enabled, limiter._storage, limiter._limiter = saved
