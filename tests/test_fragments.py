"""Kept components: a page drawn from the store is the page drawn afresh."""

from __future__ import annotations

import re
from collections import OrderedDict
from typing import Any

import pytest
from markupsafe import Markup

from engage import fragments
from tests.conftest import without_request_values


class _CountingStore(OrderedDict[Any, Markup]):
    """The store, counting the components served from it."""

    served = 0

    def get(self, key: Any, default: Any = None) -> Any:
        html = super().get(key, default)
        self.served += html is not None
        return html


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> _CountingStore:
    counting = _CountingStore()
    monkeypatch.setattr(fragments, "_kept", counting)
    return counting


def test_form_pages_drawn_from_the_store_match_pages_drawn_afresh(
    client: Any,
    login: Any,
    cast: dict[str, Any],
    store: _CountingStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    login(cast["admin"])
    pages = ["/actions/new", "/members/new", "/audiences/new", "/join"]
    with monkeypatch.context() as nothing_kept:
        nothing_kept.setattr(fragments, "MAX_CHARS", -1)
        afresh = [client.get(page).get_data(as_text=True) for page in pages]
    assert store.served == 0
    for page in pages:
        client.get(page)  # fills the store
    kept = [client.get(page).get_data(as_text=True) for page in pages]
    assert store.served > 20
    for page, before, after in zip(pages, afresh, kept, strict=True):
        assert without_request_values(before) == without_request_values(after), page


def test_a_mistake_is_shown_although_the_clean_field_was_kept(
    client: Any, store: _CountingStore
) -> None:
    clean = client.get("/join").get_data(as_text=True)
    assert "nhsuk-input--error" not in clean
    response = client.post("/join", data={"name": "", "postcode": "nowhere"})
    page = response.get_data(as_text=True)
    assert store.served > 0  # the fields left alone came from the store
    postcode = next(line for line in page.splitlines() if 'id="postcode"' in line)
    assert "nhsuk-input--error" in postcode
    assert 'value="nowhere"' in postcode


def test_keys_tell_kinds_apart_and_the_store_is_bounded() -> None:
    values = (1, True, "1", Markup("1"), 1.0, -0.0, 0.0, None, "None")
    assert len({fragments._key(v) for v in values}) == len(values)
    drawn: list[Any] = []

    def macro(params: Any) -> Markup:
        drawn.append(params)
        return Markup("<p>") + str(params.get("n", "")) + Markup("</p>")

    macro.name = "test"  # type: ignore[attr-defined]
    fragments.forget()
    try:
        assert fragments.component(macro, {"n": 1}) == Markup("<p>1</p>")
        assert fragments.component(macro, {"n": 1}) == Markup("<p>1</p>")
        assert fragments.component(macro, {"n": True}) == Markup("<p>True</p>")
        assert len(drawn) == 2
        # A value that is not plain is drawn every time, and never kept.
        fragments.component(macro, {"n": object()})
        fragments.component(macro, {"n": object()})
        # Nor is a subclass of text, which may bring its own HTML.
        fragments.component(macro, {"n": _Shouting("hello")})
        assert len(drawn) == 5
        assert len(fragments._kept) == 2
        for n in range(fragments.MAX_ENTRIES + 10):
            fragments.component(macro, {"n": f"{n}"})
        assert len(fragments._kept) == fragments.MAX_ENTRIES
        # Too long to keep: drawn again each time.
        long = {"n": "x" * fragments.MAX_CHARS}
        fragments.component(macro, long)
        before = len(drawn)
        fragments.component(macro, long)
        assert len(drawn) == before + 1
    finally:
        fragments.forget()


class _Shouting(str):
    def __html__(self) -> str:
        return self.upper()


def test_every_page_opens_with_a_skip_link_to_its_main_content(
    client: Any, login: Any, cast: dict[str, Any], store: _CountingStore
) -> None:
    """The skip link is the same on every page: drawn once, then kept."""
    skip = re.compile(
        r'<a class="nhsuk-skip-link" data-module="nhsuk-skip-link" '
        r'href="#maincontent">\s*Skip to main content\s*</a>'
    )
    public = [client.get(path).get_data(as_text=True) for path in ("/join", "/login")]
    login(cast["officer"])
    staff = [client.get(path).get_data(as_text=True) for path in ("/", "/actions/")]
    for page in public + staff:
        assert len(skip.findall(page)) == 1
        # The first link on the page, and its target is there.
        assert page.index("<a ") == page.index('<a class="nhsuk-skip-link"')
        assert 'id="maincontent"' in page
    assert store.served >= 3  # drawn for the first page, kept for the others
