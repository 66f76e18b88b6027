"""Static files under fingerprinted names: cached a year, a new name on change."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient


def _stylesheet(html: str) -> str:
    match = re.search(r'href="(/static/css/engage\.[0-9a-f]{12}\.css)"', html)
    assert match, "the page links a fingerprinted stylesheet"
    return match.group(1)


def test_pages_link_fingerprinted_files_that_are_cached_for_a_year(
    client: FlaskClient,
) -> None:
    html = client.get("/login").get_data(as_text=True)
    address = _stylesheet(html)
    response = client.get(address)
    assert response.status_code == 200
    assert b".nhsuk-" in response.data or b"engage" in response.data
    assert response.cache_control.max_age == 31536000
    assert response.cache_control.immutable
    # The import map points the page's script at the fingerprinted NHS.UK module.
    assert re.search(
        r'"nhsuk-frontend": "/static/vendor/nhsuk/'
        r'nhsuk-frontend\.min\.[0-9a-f]{12}\.js"',
        html,
    )
    response.close()


def test_a_changed_file_gets_a_new_name_and_old_names_are_not_cached_long(
    app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    css = Path(str(app.static_folder)) / "css" / "engage.css"
    before = _stylesheet(client.get("/login").get_data(as_text=True))
    original = css.read_bytes()
    try:
        css.write_bytes(original + b"\n/* changed */\n")
        after = _stylesheet(client.get("/login").get_data(as_text=True))
        assert after != before
        stale = client.get(before)
        assert stale.status_code == 200  # a page cached before the change still works
        assert b"/* changed */" in stale.data
        assert not stale.cache_control.immutable
        assert stale.cache_control.max_age != 31536000
        stale.close()
    finally:
        css.write_bytes(original)


def test_plain_and_unknown_names(client: FlaskClient) -> None:
    plain = client.get("/static/css/engage.css")
    assert plain.status_code == 200
    assert not plain.cache_control.immutable
    plain.close()
    assert client.get("/static/css/missing.0123456789ab.css").status_code == 404
    assert client.get("/static/../engage/config.py").status_code == 404
