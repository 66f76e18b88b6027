"""Access control helpers: role checks for views and safe post-login redirects."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from typing import TypeVar
from urllib.parse import urlsplit

from flask import abort
from flask import current_app
from flask import request
from flask_login import current_user
from flask_login.config import EXEMPT_METHODS

from engage.accounts.models import ADMINS
from engage.accounts.models import EDITORS
from engage.accounts.models import READERS
from engage.accounts.models import Role

__all__ = ["ADMINS", "EDITORS", "READERS", "roles_required", "safe_next_url"]

F = TypeVar("F", bound=Callable[..., Any])


def roles_required(*roles: Role) -> Callable[[F], F]:
    """Allow only signed-in users holding one of ``roles``; others get login or 403."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if request.method in EXEMPT_METHODS:
                return view(*args, **kwargs)
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def safe_next_url(target: str | None) -> str | None:
    """Return ``target`` if it is a path on this site, else None.

    Refuses absolute and scheme-relative URLs, backslash tricks (``/\\evil``), control
    characters and anything with a scheme (``javascript:``), so a crafted ``next=``
    can never send a signed-in user to another site.
    """
    if not target or len(target) > 2000:
        return None
    if any(ord(ch) < 32 or ch == "\\" for ch in target):
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
