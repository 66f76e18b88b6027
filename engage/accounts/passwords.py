"""Password hashing (argon2id) and the password policy: length and a deny-list only.

Following NIST SP 800-63B and ASVS 6.2: no composition rules, long passphrases and
paste welcome, and anything on a list of commonly used passwords refused.
"""

from __future__ import annotations

import functools
import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError
from argon2.exceptions import VerificationError
from zxcvbn.frequency_lists import FREQUENCY_LISTS

MAX_LENGTH = 256

_hasher = PasswordHasher()  # argon2id with the library's RFC 9106 low-memory profile
#: Verified against when the account does not exist, so both paths cost the same.
_DUMMY_HASH = _hasher.hash("engage-dummy-password-for-timing")


@functools.cache
def _common_passwords() -> frozenset[str]:
    # zxcvbn ships the 30,000 most common passwords from public breach corpora.
    return frozenset(FREQUENCY_LISTS["passwords"])


def hash_password(password: str) -> str:
    """Return an argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check ``password`` against a hash; with no hash, spend the same time and fail."""
    try:
        if password_hash is None:
            _hasher.verify(_DUMMY_HASH, password)
            return False
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(password_hash)


def password_problems(
    password: str, *, min_length: int, context: tuple[str, ...] = ()
) -> list[str]:
    """Return the reasons ``password`` is not acceptable (empty when it is)."""
    if len(password) < min_length:
        return [f"Password must be {min_length} characters or more"]
    if len(password) > MAX_LENGTH:
        return [f"Password must be {MAX_LENGTH} characters or fewer"]
    lowered = password.lower()
    # "Password123!" is as guessable as "password123": also try without trailing digits
    # and symbols.
    stripped = re.sub(r"[\d\W_]+$", "", lowered)
    if lowered in _common_passwords() or (stripped and stripped in _common_passwords()):
        return [
            "Password is too common. Choose a password that is hard to guess, "
            "such as three random words"
        ]
    words = {
        w
        for part in context
        for w in re.split(r"[\s@._-]+", part.lower())
        if len(w) >= 4
    }
    if lowered in {c.lower() for c in context} or any(lowered == w for w in words):
        return ["Password must not be your name or email address"]
    if len(set(password)) < 3:
        return ["Password must not repeat the same few characters"]
    return []
