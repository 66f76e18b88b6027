"""Coverage-guided fuzz targets for atheris (libFuzzer), run by hand: ``make fuzz``.

    .venv/bin/python -m tests.fuzz.atheris_targets csv -max_total_time=60

Targets: ``csv``, ``xlsx`` (tabular.read_table: a Table or TableError, nothing else),
``postcode``, ``phone`` (None or a canonical, stable value), ``formula``
(neutralise never starts a formula and restore undoes it) and ``feed``
(metrics.feeds.parse_feed: items with http(s) or no links, or FeedError). atheris is
an optional extra (``pip install -e '.[fuzz]'``): a wheel for CPython 3.11 on x86-64
Linux.
"""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Callable

import atheris

with atheris.instrument_imports(
    include=["engage.imports", "engage.membership", "engage.metrics"]
):
    from engage.imports.tabular import TableError
    from engage.imports.tabular import neutralise
    from engage.imports.tabular import read_table
    from engage.imports.tabular import restore
    from engage.membership.validators import normalise_phone
    from engage.membership.validators import normalise_postcode
    from engage.metrics.feeds import FeedError
    from engage.metrics.feeds import matched_phrases
    from engage.metrics.feeds import parse_feed


def _table(filename: str) -> Callable[[bytes], None]:
    def target(data: bytes) -> None:
        with contextlib.suppress(TableError):  # a refusal is a fine answer
            read_table(io.BytesIO(data), filename)

    return target


def _postcode(data: bytes) -> None:
    text = atheris.FuzzedDataProvider(data).ConsumeUnicodeNoSurrogates(64)
    result = normalise_postcode(text)
    if result is not None and normalise_postcode(result) != result:
        raise AssertionError(f"postcode not stable: {text!r} -> {result!r}")


def _phone(data: bytes) -> None:
    text = atheris.FuzzedDataProvider(data).ConsumeUnicodeNoSurrogates(64)
    result = normalise_phone(text)
    if result is not None and normalise_phone(result) != result:
        raise AssertionError(f"phone not stable: {text!r} -> {result!r}")


def _formula(data: bytes) -> None:
    text = atheris.FuzzedDataProvider(data).ConsumeUnicodeNoSurrogates(256)
    safe = neutralise(text)
    if safe[:1] in ("=", "+", "-", "@", "\t", "\r", "\n") or restore(safe) != text:
        raise AssertionError(f"neutralise failed on {text!r}")


def _feed(data: bytes) -> None:
    try:
        items = parse_feed(data)
    except FeedError:  # a refusal is a fine answer
        return
    for item in items:
        if item.link is not None and not item.link.lower().startswith(
            ("http://", "https://")
        ):
            raise AssertionError(f"unsafe link kept: {item.link!r}")
        matched_phrases(item, ["NHS Trust"])


TARGETS: dict[str, Callable[[bytes], None]] = {
    "csv": _table("fuzz.csv"),
    "xlsx": _table("fuzz.xlsx"),
    "postcode": _postcode,
    "phone": _phone,
    "formula": _formula,
    "feed": _feed,
}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: atheris_targets {{{','.join(TARGETS)}}} [libFuzzer options]")
    name = sys.argv.pop(1)
    atheris.Setup(sys.argv, TARGETS[name])
    atheris.Fuzz()


if __name__ == "__main__":
    main()
