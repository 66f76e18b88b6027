"""Fixtures for the mailing tests: the fake GOV.UK Notify server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from flask import Flask

from engage.bench.fake_notify import FakeNotify


@pytest.fixture
def fake_notify(app: Flask) -> Iterator[FakeNotify]:
    """A fake Notify on loopback; the app is pointed at it for this test."""
    fake = FakeNotify()
    fake.start()
    app.config.update(
        NOTIFY_API_KEY=fake.api_key,
        NOTIFY_BASE_URL=fake.base_url,
        NOTIFY_EMAIL_TEMPLATE_ID=str(uuid.uuid4()),
        NOTIFY_SMS_TEMPLATE_ID=str(uuid.uuid4()),
    )
    try:
        yield fake
    finally:
        fake.stop()
