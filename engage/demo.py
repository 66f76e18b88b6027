"""Demo data for a fresh install: one user per role, the channels and the 2012 plan.

Loading is idempotent, so ``engage load-demo`` is safe to run twice: the reference
audiences and action plan go through the same importer as uploads, which matches
rows to what is saved by name and title.
"""

from __future__ import annotations

from datetime import datetime
from importlib import resources

from engage.accounts.models import Role
from engage.accounts.services import DemoLogin, ensure_user
from engage.actions.services import seed_channels
from engage.imports.services import apply_import

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
#: The reference stakeholder map and action plan (2012), imported in this order.
DEMO_FILES = (
    ("audiences", "audiences-2012.csv"),
    ("actions", "action-plan-2012.csv"),
)


def load_demo(*, now: datetime) -> list[DemoLogin]:
    """Create or refresh the demo users, channels, audiences and plan.

    Returns the demo logins for printing. Flushes; the caller commits.
    """
    for login in DEMO_USERS:
        ensure_user(
            login.email, DEMO_NAMES[login.role], login.role, login.password, now=now
        )
    seed_channels(now=now)
    folder = resources.files("engage") / "demo_data"
    for kind, name in DEMO_FILES:
        with (folder / name).open("rb") as source:
            apply_import(kind, source, name, actor="system", now=now)
    return list(DEMO_USERS)
