"""Checking and tidying members' postcodes and phone numbers."""

from __future__ import annotations

import re

#: The shape of a UK postcode (outward and inward parts), BS 7666 / GOV.UK pattern.
_POSTCODE = re.compile(
    r"^(GIR0AA|[A-PR-UWYZ][A-HK-Y]?[0-9][0-9A-HJKMNPR-Y]?[0-9][ABD-HJLNP-UW-Z]{2})$"
)
_PHONE_ALLOWED = re.compile(r"^[0-9+()\-\s.]+$")


def normalise_postcode(text: str) -> str | None:
    """Return the postcode in standard form ("SW1A 1AA"), or None if it is not one."""
    compact = re.sub(r"\s+", "", text).upper()
    if not _POSTCODE.match(compact):
        return None
    return f"{compact[:-3]} {compact[-3:]}"


def normalise_phone(text: str) -> str | None:
    """Return a UK phone number as digits ("07700900123"), or None if it is not one.

    Accepts spaces, dashes, brackets and the +44 prefix; a number must have 10 or 11
    digits in national form (or 5 to 15 for an international number starting +).
    """
    stripped = text.strip()
    if not stripped or not _PHONE_ALLOWED.match(stripped):
        return None
    digits = re.sub(r"\D", "", stripped)
    # Decided on the digits, not the text: "+4.4…" is UK too (found by fuzzing).
    if stripped.startswith("+") and digits.startswith("44"):
        digits = "0" + digits[2:].lstrip("0")
    elif stripped.startswith("+"):
        return "+" + digits if 5 <= len(digits) <= 15 else None
    if not digits.startswith("0") or len(digits) not in (10, 11):
        return None
    return digits
