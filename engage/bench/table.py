"""The benchmark table: one ``Result`` per timed item, printed as plain text.

``format_table`` prints one run; ``format_growth`` prints the growth curve, one
median column per scale, the growth from the smallest scale to the largest, and
for the items the rollups serve whether they stayed nearly flat from county scale
(1) to the largest.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field


@dataclass(frozen=True)
class Result:
    """One line of the table."""

    item: str
    median: str
    p95: str
    baseline: str
    ratio: str
    target: str
    met: bool | None
    note: str = ""


@dataclass(frozen=True)
class Scaled:
    """One run at one scale: its results, the peak memory after it, its heading
    (engine, scale, counts) and notes."""

    scale: float
    results: list[Result]
    peak_mb: float
    heading: str = ""
    notes: list[str] = field(default_factory=list)


#: Items the rollups serve (their names begin so): nearly flat as the data grows.
ROLLUP_SERVED = (
    "dashboard",
    "membership figures",
    "survey response counts",
    "reach report",
)
#: The most a rollup-served item's median may grow from county scale to the largest.
FLAT_LIMIT = 1.5


def _lines(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [
        max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))
    ]
    lines = ["  ".join(str(v).ljust(w) for v, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += [
        "  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True))
        for row in rows
    ]
    return lines


def _machine() -> list[str]:
    if not hasattr(os, "getloadavg"):
        return []
    load = os.getloadavg()[0]
    return [
        f"  machine: load average {load:.1f} on {os.cpu_count()} CPUs in the run"
        " (timings grow with other work on the machine)"
    ]


def format_table(
    results: list[Result], *, heading: str = "", notes: Sequence[str] = ()
) -> str:
    """The results as a plain-text table (under ``heading``: engine and scale)."""
    header = ("item", "median", "p95", "baseline", "ratio", "target", "met?")
    rows = [
        (
            r.item,
            r.median,
            r.p95,
            r.baseline,
            r.ratio,
            r.target,
            "–" if r.met is None else ("yes" if r.met else "NO"),
        )
        for r in results
    ]
    lines = ([heading, ""] if heading else []) + _lines(header, rows)
    extra = [f"  {r.item}: {r.note}" for r in results if r.note]
    extra += [f"  {note}" for note in notes] + _machine()
    return "\n".join([*lines, "", *extra])


def milliseconds(median: str) -> float | None:
    """A median as the table shows it ("1,234.5 ms") in ms; None if not a time."""
    match = re.fullmatch(r"([\d,]+(?:\.\d+)?) ms", median.strip())
    return float(match.group(1).replace(",", "")) if match else None


def rollup_served(item: str) -> bool:
    """Whether the rollups serve an item (by its name)."""
    return item.casefold().startswith(ROLLUP_SERVED)


def _same_item(name: str) -> str:
    """An item's name with its numbers as "n" (they grow with the data set: "poll n
    local feeds", "interactions list (page n)"), to find it at every scale."""
    return re.sub(r"\d(?:[\d,.]*\d)?", "n", name)


def _factor(low: float | None, high: float | None) -> float | None:
    if low is None or high is None or low <= 0:
        return None
    return high / low


def format_growth(scales: Sequence[Scaled]) -> str:
    """One median column per scale, the growth from the smallest scale to the
    largest, and (for the rollup-served items) whether it stayed within
    ``FLAT_LIMIT`` from county scale (or the smallest, without it) to the largest."""
    ordered = sorted(scales, key=lambda s: s.scale)
    medians: dict[str, dict[float, str]] = {}
    names: dict[str, set[str]] = {}
    for scaled in ordered:
        for result in scaled.results:
            key = _same_item(result.item)
            medians.setdefault(key, {})[scaled.scale] = result.median
            names.setdefault(key, set()).add(result.item)
    smallest, largest = ordered[0].scale, ordered[-1].scale
    county = 1.0 if smallest < 1.0 < largest or smallest == 1.0 else smallest
    flat_label = f"{county:g} → {largest:g}"
    header = (
        "item",
        *(f"scale {s.scale:g}" for s in ordered),
        f"growth {smallest:g} → {largest:g}",
        flat_label,
        "flat?",
    )
    rows = []
    for item, by_scale in medians.items():
        growth = _factor(
            milliseconds(by_scale.get(smallest, "")),
            milliseconds(by_scale.get(largest, "")),
        )
        flat = _factor(
            milliseconds(by_scale.get(county, "")),
            milliseconds(by_scale.get(largest, "")),
        )
        verdict = "–"
        if rollup_served(item) and flat is not None:
            verdict = "yes" if flat <= FLAT_LIMIT else "NO"
        rows.append(
            (
                next(iter(names[item])) if len(names[item]) == 1 else item,
                *(by_scale.get(s.scale, "–") for s in ordered),
                "–" if growth is None else f"{growth:.1f}×",
                "–" if flat is None else f"{flat:.1f}×",
                verdict,
            )
        )
    notes = [f"  {s.heading}" for s in ordered if s.heading]
    notes += [
        f"  flat?: the items the rollups serve ({', '.join(ROLLUP_SERVED)}) may grow"
        f" at most {FLAT_LIMIT:g}× from scale {county:g} to scale {largest:g}.",
        "  peak memory (resident) after each scale: "
        + ", ".join(f"scale {s.scale:g} {s.peak_mb:,.0f} MB" for s in ordered),
    ]
    return "\n".join([*_lines(header, rows), "", *notes, *_machine()])
