"""How figures read: sensible rounding, quantities in their unit, rates in per cent."""

from __future__ import annotations


def sensible(value: float) -> int | float:
    """A figure rounded as people read it: whole numbers from 100 up (and for whole
    values), else one decimal place ("4,534", "4.5")."""
    if abs(value) >= 100 or float(value).is_integer():
        return round(value)
    return round(value, 1)


def quantity(value: float | None, unit: str = "") -> str:
    """ "4,534 readers" (never "4,533.88"); a dash for no value; "45.6%" for %."""
    if value is None:
        return "–"
    number = sensible(value)
    text = f"{number:,}"
    if unit == "%":
        return f"{text}%"
    return f"{text} {unit}" if unit else text


def percent(value: float | None) -> str:
    """A rate as a percentage with one decimal place ("45.6%")."""
    return "–" if value is None else f"{value:.1f}%"


def rate(numerator: float, denominator: float) -> float | None:
    """numerator ÷ denominator as a percentage to one decimal (None without output)."""
    if not denominator:
        return None
    return round(100 * numerator / denominator, 1)


STATUS_WORDS = {
    "met": "Met",
    "not met": "Not met",
    "no target": "No target",
    "no data": "No data",
}
