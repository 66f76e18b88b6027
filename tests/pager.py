"""Reading a list page's pager: its previous, next, first and last links."""

from __future__ import annotations

import re
from html import unescape

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
