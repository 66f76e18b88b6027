"""Tampering with a signed token in tests, so that it can never still be valid."""

from __future__ import annotations


def tampered(token: str) -> str:
    """``token`` with one character changed: the last but one, every bit of which
    counts. (The last character of URL-safe base64 can carry unused bits: swapping
    "A" for "B" there may leave the decoded signature as it was.)"""
    at = len(token) - 2
    swapped = "A" if token[at] != "A" else "B"
    return token[:at] + swapped + token[at + 1 :]
