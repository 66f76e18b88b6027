"""Demo data for a fresh install: one user per role (and, later, the reference plan).

Loading is idempotent, so ``engage load-demo`` is safe to run twice.
"""

from __future__ import annotations

from datetime import datetime

from engage.accounts.models import Role
from engage.accounts.services import DemoLogin, ensure_user

DEMO_USERS = (
    DemoLogin(Role.ADMIN, "admin@engage.example", "demo admin keeps the keys"),
    DemoLogin(
        Role.OFFICER, "officer@engage.example", "demo officer plans the newsletter"
    ),
    DemoLogin(Role.LEAD, "lead@engage.example", "demo lead reads the board report"),
)
DEMO_NAMES = {
    Role.ADMIN: "Ade Admin",
    Role.OFFICER: "Olu Officer",
    Role.LEAD: "Lee Lead",
}


def load_demo(*, now: datetime) -> list[DemoLogin]:
    """Create or refresh the demo users; return their logins for printing."""
    for login in DEMO_USERS:
        ensure_user(
            login.email, DEMO_NAMES[login.role], login.role, login.password, now=now
        )
    return list(DEMO_USERS)
