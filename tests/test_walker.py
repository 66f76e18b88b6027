"""No input gives a 500: every form and query parameter, fuzzed as every role.

The walker loads the demo data, crawls the app as an admin and as a visitor (links,
forms, and the query keys each view reads), submits each form once with plausible
values so that the emails it sends hold links with tokens (crawled in turn), and
then, as each role, sends every target Hypothesis-made submissions mixing valid
values with hostile ones; the admin also sweeps every field with each kind of value
that has broken a view, and every address with impossible ids (tests/walker.py).
Any 5xx fails, with the request that caused it. The database is put back after each
form, so every target starts from the same data. ``ENGAGE_WALKER_EXAMPLES`` sets how
many submissions a form gets (pages get half); ``make fuzz`` runs it longer.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck
from hypothesis import Phase
from hypothesis import given
from hypothesis import seed
from hypothesis import settings
from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy import update
from werkzeug.datastructures import MultiDict

from engage.accounts.models import User
from engage.actions.models import Action
from engage.extensions import db
from engage.extensions import limiter
from engage.relationships.models import Theme
from tests import factories
from tests import walker
from tests.factories import sign_in

#: The walks to take. ``ENGAGE_WALKER_ROLES`` (comma-separated) names some of
#: "anonymous", "lead", "officer", "admin" (each role's walk with Hypothesis-made
#: submissions) and "sweep" (the admin, who may use every page and form, sweeping
#: every field with each kind of hostile value). The SQLite run walks as every role;
#: the PostgreSQL run sweeps, since PostgreSQL refuses values SQLite stores (NUL
#: characters, numbers beyond 64 bits, over-long text); the runs at other clock
#: settings walk as the admin alone, since they test dates, not who may see what
#: (tests/test_access.py).
_CHOSEN = os.environ.get("ENGAGE_WALKER_ROLES", "anonymous,lead,officer,admin,sweep")
ROLES = tuple(
    role
    for role in ("anonymous", "lead", "officer", "admin")
    if role in _CHOSEN.split(",")
)
SWEEP = "sweep" in _CHOSEN.split(",")
#: Hypothesis-made submissions per form (pages get half). 0: each form only as its
#: page fills it in (the runs at other clock settings: those test dates, and every
#: page and form is still opened).
EXAMPLES = int(os.environ.get("ENGAGE_WALKER_EXAMPLES", "4"))
#: Forms the set-up pass does not send: they would remove the data it needs.
_DESTRUCTIVE = re.compile(
    r"/(delete|erase|withdraw|archive|logout|revoke|remove|disable|reset-two-factor|"
    r"close|edit)$|^/admin/users/|^/account|^/set-password|^/login"
)


@pytest.fixture
def walking_app(app: Flask) -> Iterator[Flask]:
    """The test app, recording what views read, without rate limits."""
    saved = app.request_class
    app.request_class = walker.RecordingRequest
    limiter.enabled = False
    yield app
    limiter.enabled = True
    app.request_class = saved


class _ServerErrors(logging.Handler):
    """The tracebacks the error handler logs, to show beside a failing request."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.last: str = ""

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            self.last = f"{type(error).__name__}: {str(error)[:200]}"


def _set_up(client: Any, found: walker.Crawl) -> None:
    """Send every form once with plausible values, then crawl what that made."""
    bodies = []
    for target in list(found.targets.values()):
        if target.method != "POST" or _DESTRUCTIVE.search(target.url.split("?")[0]):
            continue
        response = client.post(target.url, data=walker.valid_form(target))
        if response.status_code == 200 and response.mimetype == "text/html":
            bodies.append(response.get_data(as_text=True))
    # The outbox shows the emails sent, with their links (tokens included).
    walker.crawl(client, found, ["/admin/outbox/"], extra_bodies=bodies)


def _send(client: Any, target: walker.Target, data: MultiDict[str, Any]) -> Any:
    if target.method == "GET":
        return client.get(target.url, query_string=data)
    return client.open(target.url, method=target.method, data=data)


def _with_hostile_ids(target: walker.Target) -> Iterator[walker.Target]:
    """The same target with each id in its address replaced by an impossible one."""
    for value in walker.HOSTILE_IDS:
        url, replaced = re.subn(r"/\d+(?=/|$|\?|\.)", f"/{value}", target.url, count=1)
        if replaced:
            yield walker.Target(target.method, url, target.endpoint, target.fields)


def _walk(
    client: Any,
    target: walker.Target,
    examples: int,
    failures: list[str],
    errors: _ServerErrors,
    *,
    sweep: bool = False,
) -> int:
    """Fuzz one target (and sweep it, if asked); return the requests made."""
    statuses: list[int] = []

    def check(data: MultiDict[str, Any]) -> None:
        errors.last = ""
        response = _send(client, target, data)
        response.close()
        statuses.append(response.status_code)
        if response.status_code >= 500:
            request = walker.describe(target.method, target.url, data)
            failures.append(f"{response.status_code} {request} [{errors.last}]")
        if not walker.is_denied(response):
            allowed.append(True)

    allowed: list[bool] = []
    check(walker.valid_form(target))
    if allowed and sweep:
        for data in walker.sweep(target):
            check(data)
    if allowed and target.fields and examples > 0:
        seed(0)(
            settings(
                max_examples=examples,
                database=None,
                deadline=None,
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
            )(given(data=walker.submissions(target))(check))
        )()
    return len(statuses)


def _targets(app: Flask, admin: Any, visitor: Any) -> tuple[list[walker.Target], int]:
    """Everything to fuzz, found as an admin and as a visitor; the requests made."""
    found = walker.Crawl(app)
    starts = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in (rule.methods or ()) and not rule.arguments
    ]
    walker.crawl(admin, found, starts)
    walker.crawl(visitor, found, ["/join", "/membership/manage", "/login"])
    _set_up(admin, found)
    targets = sorted(found.targets.values(), key=lambda t: (t.method, t.url))
    return targets, found.requests


#: Each role's walk, and the admin's sweep in quarters so that they can run side
#: by side (tests/walker.py SWEEP).
SHARDS = 4
WALKS = [(role, None) for role in ROLES] + [
    ("admin", n) for n in range(SHARDS if SWEEP else 0)
]


def _sweep_cost(target: walker.Target) -> int:
    """The requests a target's sweep sends: the measure its shards are balanced by."""
    return 1 + sum(1 for _ in walker.sweep(target)) + len(walker.HOSTILE_IDS)


def _shard(targets: list[walker.Target], shard: int) -> list[walker.Target]:
    """The targets of one quarter of the sweep: each target, costliest first, goes to
    the quarter with the fewest requests so far (every process finds the same
    targets, so the quarters share them out exactly)."""
    loads = [0] * SHARDS
    mine = []
    for target in sorted(targets, key=_sweep_cost, reverse=True):
        lightest = loads.index(min(loads))
        loads[lightest] += _sweep_cost(target)
        if lightest == shard:
            mine.append(target)
    return mine


@pytest.mark.timeout(900)
@pytest.mark.parametrize(
    ("role", "shard"),
    WALKS,
    ids=[
        role if shard is None else f"{role}-sweep-{shard + 1}" for role, shard in WALKS
    ],
)
def test_no_input_gives_a_server_error(
    demo: None,
    walking_app: Flask,
    cast: dict[str, Any],
    record_property: Callable[[str, object], None],
    role: str,
    shard: int | None,
) -> None:
    admin = walking_app.test_client()
    assert sign_in(admin, cast["admin"]).status_code == 302
    client = admin if role == "admin" else walking_app.test_client()
    if role not in {"admin", "anonymous"}:
        assert sign_in(client, cast[role]).status_code == 302
    targets, requests = _targets(walking_app, admin, walking_app.test_client())
    if shard is not None:
        targets = _shard(targets, shard)
    snapshot = walker.Snapshot()

    errors = _ServerErrors()
    logging.getLogger("engage").addHandler(errors)
    failures: list[str] = []
    try:
        for target in targets:
            if shard is None:
                budget = EXAMPLES if target.method != "GET" else EXAMPLES // 2
                requests += _walk(client, target, budget, failures, errors)
            else:
                requests += _walk(client, target, 0, failures, errors, sweep=True)
                # Ids are checked before any view runs, whoever asks.
                for hostile in _with_hostile_ids(target):
                    requests += _walk(client, hostile, 1, failures, errors)
            if target.method != "GET":
                snapshot.restore()
                if role != "anonymous" and client.get("/account").status_code != 200:
                    sign_in(client, db.session.get(User, cast[role].id))
    finally:
        logging.getLogger("engage").removeHandler(errors)

    walk = role if shard is None else f"{role} (sweep {shard + 1} of {SHARDS})"
    record_property(
        "walker",
        f"as {walk} on {db.engine.dialect.name}: {requests:,} requests to "
        f"{len(targets)} forms and pages, {len(failures)} server errors",
    )
    assert failures == [], "\n".join(failures)


def test_a_snapshot_puts_back_what_a_delete_cascaded_to() -> None:
    """The snapshot puts back only the tables written since, so the rows a delete
    removed through the database's own cascade must come back too."""
    theme = factories.ThemeFactory(actions=[factories.ActionFactory()])
    db.session.commit()
    snapshot = walker.Snapshot()

    db.session.execute(delete(Action))  # the theme's link to it goes by cascade
    db.session.execute(update(Theme).values(name="Renamed"))
    db.session.commit()
    assert db.session.get(Theme, theme.id).actions == []  # type: ignore[union-attr]
    snapshot.restore()

    with db.engine.connect() as connection:
        for table, rows in snapshot.rows.items():
            now = [dict(row) for row in connection.execute(select(table)).mappings()]
            assert now == rows, table.name
