"""Password policy and hashing (docs/security.md A5)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from engage.accounts.passwords import _common_passwords
from engage.accounts.passwords import hash_password
from engage.accounts.passwords import password_problems
from engage.accounts.passwords import verify_password


def test_hash_is_argon2id_and_verifies() -> None:
    hashed = hash_password("a long and unusual passphrase")
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "a long and unusual passphrase")
    assert not verify_password(hashed, "a long and unusual passphrasf")


def test_verify_without_hash_fails() -> None:
    assert verify_password(None, "anything at all") is False


@pytest.mark.parametrize(
    "password",
    ["Password123", "password123", "Password123!", "qwertyuiop", "iloveyou12"],
)
def test_common_passwords_are_refused(password: str) -> None:
    assert password_problems(password, min_length=10) != []


def test_every_listed_password_of_allowed_length_is_refused() -> None:
    long_enough = [p for p in _common_passwords() if 10 <= len(p) <= 256]
    assert len(long_enough) > 1000
    assert all(password_problems(p, min_length=10) for p in long_enough)


def test_long_passphrase_with_spaces_is_accepted() -> None:
    passphrase = "the quick brown fox jumps over the lazy dog near the river bank!"
    assert len(passphrase) == 64
    assert password_problems(passphrase, min_length=10) == []


def test_no_composition_rules() -> None:
    # Only lower-case letters and spaces, no digits or symbols: fine if uncommon.
    assert password_problems("purple elephant marmalade", min_length=10) == []


def test_too_short_is_refused() -> None:
    assert password_problems("tr0ub4dor", min_length=10) == [
        "Password must be 10 characters or more"
    ]


def test_own_email_is_refused() -> None:
    problems = password_problems(
        "jane.smith@trust.example", min_length=10, context=("jane.smith@trust.example",)
    )
    assert problems == ["Password must not be your name or email address"]


@settings(max_examples=50, deadline=None)
@given(st.text(min_size=10, max_size=300))
def test_policy_never_crashes_and_respects_max_length(password: str) -> None:
    problems = password_problems(password, min_length=10)
    if len(password) > 256:
        assert problems
