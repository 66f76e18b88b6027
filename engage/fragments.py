"""NHS.UK components drawn once for each set of parameters, then kept.

A form page draws the same fields on every visit, and a form sent back with one
mistake redraws every other field unchanged; each NHS.UK component costs hundreds of
small template calls (a label alone draws a heading and its attributes). A component's
HTML depends on nothing but its parameters (the macros are imported without context),
so it is kept under a key made of them, every value included, and served from there
while it is among the most recently used.

Only plain values make a key (text, marked-up text, numbers, truth values, None, and
lists and mappings of them); a component given anything else is drawn each time. What a
key holds (a form's values) is never shown to anyone who did not send exactly those
values; the store is bounded, and each process has its own.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from collections.abc import Hashable
from collections.abc import Mapping
from typing import Any

from jinja2 import Undefined
from markupsafe import Markup

#: How many drawn components each process keeps, and the longest it keeps (in
#: characters): a select of thousands of options is drawn each time instead.
MAX_ENTRIES = 512
MAX_CHARS = 16_384

_kept: OrderedDict[Hashable, Markup] = OrderedDict()
_lock = threading.Lock()


class _NotPlain(Exception):
    """A parameter that cannot be part of a key."""


def _key(value: object) -> Hashable:
    """``value`` as a hashable key; each kind tagged, so that 1, True and "1" differ.

    Types are matched exactly: a subclass may draw differently (an enum member, text
    that brings its own HTML), and equal numbers may be written differently (0.0 and
    -0.0), so numbers are kept as they are written.
    """
    kind = type(value)
    if kind is Markup:
        return ("markup", str(value))
    if kind is str:
        return value
    if value is None or kind in (bool, int, float):
        return (kind.__name__, repr(value))
    if isinstance(value, Mapping):
        return ("mapping", tuple((_key(k), _key(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return ("list", tuple(_key(v) for v in value))
    if isinstance(value, Undefined):
        return ("undefined",)
    raise _NotPlain


def component(macro: Callable[[Any], Markup], params: Mapping[str, Any]) -> Markup:
    """``macro(params)``, drawn once for these parameters and then kept."""
    try:
        key = (getattr(macro, "name", None), _key(params))
    except _NotPlain:
        return macro(params)
    with _lock:
        html = _kept.get(key)
        if html is not None:
            _kept.move_to_end(key)
            return html
    html = macro(params)
    if len(html) <= MAX_CHARS:
        with _lock:
            _kept[key] = html
            if len(_kept) > MAX_ENTRIES:
                _kept.popitem(last=False)
    return html


def forget() -> None:
    """Drop every kept component (tests that change the templates use it)."""
    with _lock:
        _kept.clear()
