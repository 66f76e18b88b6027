"""Staff two-factor sign-in: TOTP codes (RFC 6238, pyotp) and single-use recovery codes.

Required for administrators, optional for officers and leads (docs/security.md
A6). A code
is accepted for the current 30-second step or one either side (clock drift), and each
step only once: the last accepted step is stored per user, so a code seen over a
shoulder or replayed from a log cannot be used again. Recovery codes are stored as
salted SHA-256 hashes (they are long random strings, so a slow hash adds nothing) and
each works once. Services flush; the caller commits.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

import pyotp
import segno
from sqlalchemy import delete
from sqlalchemy import select

from engage.accounts.models import RecoveryCode
from engage.accounts.models import User
from engage.accounts.passwords import verify_password
from engage.audit.services import record_event
from engage.errors import ValidationError
from engage.extensions import db

ISSUER = "Engage"
RECOVERY_CODE_COUNT = 10
#: Steps either side of now that are still accepted (30 s each).
VALID_WINDOW = 1
WRONG_CODE = "Enter the 6-digit code from your authenticator app"


def is_enabled(user: User) -> bool:
    """Whether ``user`` has two-factor sign-in set up."""
    return user.totp_secret is not None


def is_required(user: User) -> bool:
    """Whether ``user`` must use two-factor sign-in (administrators must)."""
    return user.is_admin


def needs_setup(user: User) -> bool:
    """Whether ``user`` must set up two-factor before doing anything else."""
    return is_required(user) and not is_enabled(user)


def new_secret() -> str:
    """A fresh random base32 TOTP secret (160 bits)."""
    return pyotp.random_base32(32)


def provisioning_uri(user: User, secret: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_data_uri(uri: str) -> str:
    """An SVG QR code of ``uri`` as a data: URI (the CSP allows ``img-src data:``)."""
    return str(segno.make(uri, error="m").svg_data_uri(scale=5, border=4))


def format_secret(secret: str) -> str:
    """The secret in groups of four characters, for typing into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _matching_step(secret: str, code: str, *, now: datetime) -> int | None:
    code = "".join(code.split())
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def verify_totp(user: User, code: str, *, now: datetime) -> bool:
    """Accept a current code once: a code whose step was already used is refused."""
    if user.totp_secret is None:
        return False
    step = _matching_step(user.totp_secret, code, now=now)
    if step is None or (
        user.totp_last_step is not None and step <= user.totp_last_step
    ):
        return False
    user.totp_last_step = step
    db.session.flush()
    return True


def enable_totp(user: User, secret: str, code: str, *, now: datetime) -> list[str]:
    """Turn two-factor on once ``code`` proves the app holds ``secret``.

    Returns the new recovery codes, to show once.
    """
    step = _matching_step(secret, code, now=now)
    if step is None:
        raise ValidationError(WRONG_CODE)
    user.totp_secret = secret
    user.totp_last_step = step
    user.totp_enabled_at = now
    user.updated_at = now
    record_event(user, "two_factor_enabled", "user", user.id, "", now=now)
    return _replace_recovery_codes(user, now=now)


def disable_totp(user: User, *, password: str, code: str, now: datetime) -> None:
    """Turn two-factor off after checking the password and a current code."""
    if is_required(user):
        raise ValidationError("Administrators must use two-factor sign-in.")
    if not verify_password(user.password_hash, password):
        raise ValidationError("Your password is not correct.")
    if not (verify_totp(user, code, now=now) or use_recovery_code(user, code, now=now)):
        raise ValidationError(WRONG_CODE)
    _clear(user, now=now)
    record_event(user, "two_factor_disabled", "user", user.id, "", now=now)
    db.session.flush()


def reset_totp(user: User, *, actor: User, now: datetime) -> None:
    """An admin turns off a colleague's two-factor (lost phone); signs them out."""
    if user.id == actor.id:
        raise ValidationError("You cannot reset your own two-factor sign-in.")
    _clear(user, now=now)
    user.session_version += 1
    record_event(actor, "two_factor_reset", "user", user.id, "", now=now)
    db.session.flush()


def _clear(user: User, *, now: datetime) -> None:
    user.totp_secret = None
    user.totp_last_step = None
    user.totp_enabled_at = None
    user.updated_at = now
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def regenerate_recovery_codes(user: User, code: str, *, now: datetime) -> list[str]:
    """Replace every recovery code (after a current TOTP code); returns the new ones."""
    if not verify_totp(user, code, now=now):
        raise ValidationError(WRONG_CODE)
    record_event(user, "recovery_codes_regenerated", "user", user.id, "", now=now)
    return _replace_recovery_codes(user, now=now)


def _hash_code(code: str, salt: str) -> str:
    digest = hashlib.sha256((salt + code).encode()).hexdigest()
    return f"{salt}${digest}"


def _normalise_recovery(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def _replace_recovery_codes(user: User, *, now: datetime) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = secrets.token_hex(5)  # 40 bits, 10 hex digits, shown as xxxxx-xxxxx
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.session.add(
            RecoveryCode(
                user_id=user.id,
                code_hash=_hash_code(raw, secrets.token_hex(8)),
                created_at=now,
            )
        )
    db.session.flush()
    return codes


def use_recovery_code(user: User, code: str, *, now: datetime) -> bool:
    """Consume one unused recovery code matching ``code``; audited."""
    wanted = _normalise_recovery(code)
    if len(wanted) != 10:
        return False
    unused = db.session.scalars(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
        )
    )
    for record in unused:
        salt = record.code_hash.split("$", 1)[0]
        if hmac.compare_digest(_hash_code(wanted, salt), record.code_hash):
            record.used_at = now
            db.session.flush()
            left = count_unused_recovery_codes(user)
            record_event(
                user, "recovery_code_used", "user", user.id, f"{left} left", now=now
            )
            return True
    return False


def count_unused_recovery_codes(user: User) -> int:
    """How many of ``user``'s recovery codes are still unused."""
    return len(
        list(
            db.session.scalars(
                select(RecoveryCode.id).where(
                    RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
                )
            )
        )
    )


def verify_second_factor(user: User, code: str, *, now: datetime) -> bool:
    """Accept a TOTP code or, failing that, a recovery code; audit a refusal."""
    if verify_totp(user, code, now=now) or use_recovery_code(user, code, now=now):
        return True
    record_event("anonymous", "login_code_failed", "user", user.id, "", now=now)
    return False


def account_summary(user: User) -> dict[str, object]:
    """What the account page shows about two-factor sign-in."""
    return {
        "enabled": is_enabled(user),
        "required": is_required(user),
        "enabled_at": user.totp_enabled_at,
        "recovery_codes_left": count_unused_recovery_codes(user)
        if is_enabled(user)
        else 0,
    }
