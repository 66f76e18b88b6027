"""The benchmark's servers run on the tests' clock (tests/clock.py), the
throttling its apps switch off is switched back on, and the collector it freezes
is thawed."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from engage.bench import join_load
from engage.extensions import limiter
from tests import clock


@pytest.fixture(autouse=True)
def _servers_on_the_tests_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(join_load, "python_command", clock.python_command)


@pytest.fixture(autouse=True)
def _collector_unfrozen() -> Iterator[None]:
    # The runner finishes start-up as a server does (engage.ready_to_serve), which
    # freezes everything alive into the collector's permanent generation: thaw it,
    # so that what this test left behind is collected now, not during a later test.
    yield
    gc.unfreeze()
    gc.collect()


@pytest.fixture(scope="module", autouse=True)
def _restore_limiter() -> Iterator[None]:
    # The bench apps switch throttling off, and Flask-Limiter keeps that on its one
    # global instance (later apps inherit it): put it back for the other tests.
    saved = (limiter.enabled, limiter._storage, limiter._limiter)
    yield
    limiter.enabled, limiter._storage, limiter._limiter = saved
