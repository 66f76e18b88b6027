"""Reading a list page's pager: its previous, next, first and last links."""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape
from typing import Any

_LINKS = {
    "previous": r'nhsuk-pagination__link--prev" href="([^"]+)"',
    "next": r'nhsuk-pagination__link--next" href="([^"]+)"',
    "first": r'<a href="([^"]+)">First page</a>',
    "last": r'<a href="([^"]+)">Last page</a>',
}


def pager_links(html: str) -> dict[str, str]:
    """The pager's links that the page shows, by name (previous, next, first, last)."""
    links = {}
    for name, pattern in _LINKS.items():
        found = re.search(pattern, html)
        if found:
            links[name] = unescape(found.group(1))
    return links


#: Links a keyset pager never makes but a visitor may hold: an old numbered link
#: from before lists paged by their keys, and forged or undecodable cursors.
STALE_QUERIES = ("page=2", "after=forged", "before=%ff")


def assert_stale_links_give_the_first_page(
    client: Any, path: str, first: Callable[[str], list[str]], expected: list[str]
) -> None:
    """Each of ``STALE_QUERIES`` added to ``path`` (which may carry filters) opens
    its list's first page: ``first(html)`` reads the rows shown, ``expected``."""
    joiner = "&" if "?" in path else "?"
    for stale in STALE_QUERIES:
        again = client.get(f"{path}{joiner}{stale}")
        assert again.status_code == 200, stale
        assert first(again.get_data(as_text=True)) == expected, stale
