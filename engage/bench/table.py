"""The benchmark table: one ``Result`` per timed item, printed as plain text."""

from __future__ import annotations

import os
from dataclasses import dataclass


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


def format_table(results: list[Result]) -> str:
    """The results as a plain-text table."""
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
    widths = [
        max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))
    ]
    lines = ["  ".join(str(v).ljust(w) for v, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += [
        "  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True))
        for row in rows
    ]
    notes = [f"  {r.item}: {r.note}" for r in results if r.note]
    if hasattr(os, "getloadavg"):
        load = os.getloadavg()[0]
        notes.append(
            f"  machine: load average {load:.1f} on {os.cpu_count()} CPUs in the run"
            " (timings grow with other work on the machine)"
        )
    return "\n".join(lines + (["", *notes] if notes else []))
