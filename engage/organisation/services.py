"""The organisation's identity and notices: read on every page, changed by admins."""

from __future__ import annotations

import dataclasses
import time
from datetime import UTC
from datetime import datetime
from typing import TYPE_CHECKING
from typing import Any

from flask import current_app
from flask import g
from flask import has_request_context
from markdown_it import MarkdownIt
from markupsafe import Markup
from sqlalchemy import case
from sqlalchemy import event
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import ScalarSelect

from engage.audit.services import record_event
from engage.errors import ValidationError
from engage.extensions import db
from engage.organisation import defaults
from engage.organisation.defaults import Identity
from engage.organisation.models import BUILT_IN_VERSION
from engage.organisation.models import Notice
from engage.organisation.models import NoticeKind
from engage.organisation.models import Organisation

if TYPE_CHECKING:
    from engage.accounts.models import User

MAX_NOTICE_LENGTH = 50_000

# CommonMark with raw HTML shown as text and only safe link schemes: an admin's notice
# can never put script or markup of its own on a public page.
_markdown = MarkdownIt("commonmark", {"html": False})
_CACHE_KEY = "engage.organisation"


def render_markdown(text: str) -> Markup:
    """``text`` (Markdown) as HTML, with any HTML in it escaped."""
    # The one sanctioned Markup: the renderer escapes any HTML in ``text`` (html off).
    return Markup(_markdown.render(text))  # noqa: S704  # nosec B704  # nosemgrep: engage-markup


def _cache() -> dict[str, object]:
    """A memo: every page asks for the identity, and every contact checks consent
    against the notices; they change rarely.

    Kept for one request; outside a request (jobs, the CLI), for one transaction, so
    a later one reads what another saved.
    """
    if has_request_context():
        if not hasattr(g, "engage_organisation"):
            g.engage_organisation = {}
        request_cache: dict[str, object] = g.engage_organisation
        return request_cache
    cache: dict[str, object] = db.session().info.setdefault(_CACHE_KEY, {})
    return cache


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_CACHE_KEY, None)


def read_ahead(*also: ScalarSelect[Any], **params: Any) -> tuple[Any, ...]:
    """Read the identity and the notices' state now, in a read phase, so that work
    done later under the write lock (a join's consent and email) does not.

    ``also`` are the caller's own look-ups (scalar subqueries, their bound values
    in ``params``), read in the same query as the notices' state, so one round trip
    serves both; their values are returned in order.
    """
    identity()
    return _privacy_state(also, params)[2]


#: How long a process keeps the identity it read: every page shows it, it changes
#: rarely, and a change shows in other processes within this many seconds.
IDENTITY_SECONDS = 10.0


def forget_identity() -> None:
    """Make this process read the identity again at its next use."""
    current_app.extensions.pop(_CACHE_KEY, None)
    _cache().pop("identity", None)


def identity() -> Identity:
    """The organisation's details: as saved by an admin, else the sample ones."""
    kept = current_app.extensions.get(_CACHE_KEY)
    if kept is not None and time.monotonic() - kept[0] < IDENTITY_SECONDS:
        found: Identity = kept[1]
        return found
    cache = _cache()
    if "identity" not in cache:
        # Plain columns, not an ORM object: every public page reads this.
        columns = [getattr(Organisation, f.name) for f in dataclasses.fields(Identity)]
        with db.session.no_autoflush:
            row = db.session.execute(
                select(*columns).where(Organisation.id == 1)
            ).first()
        cache["identity"] = (
            Identity(**row._asdict()) if row is not None else defaults.SAMPLE
        )
    read = cache["identity"]
    result = read if isinstance(read, Identity) else defaults.SAMPLE
    current_app.extensions[_CACHE_KEY] = (time.monotonic(), result)
    return result


def save_identity(details: Identity, *, actor: User, now: datetime) -> None:
    """Save the organisation's details (the one row, made on first save)."""
    if not details.name.strip() or not details.short_name.strip():
        raise ValidationError("Enter the organisation's name and short name.")
    row = db.session.get(Organisation, 1)
    if row is None:
        row = Organisation(id=1, created_at=now)
        db.session.add(row)
    changed = [
        f.name
        for f in dataclasses.fields(Identity)
        if getattr(row, f.name, None) != getattr(details, f.name)
    ]
    for name in changed:
        setattr(row, name, getattr(details, name))
    row.updated_at = now
    record_event(
        actor,
        "organisation.update",
        "organisation",
        1,
        "Changed: " + (", ".join(n.replace("_", " ") for n in changed) or "nothing"),
        now=now,
    )
    db.session.flush()
    _cache().clear()
    forget_identity()


def mailing_tracking_on() -> bool:
    """Whether opens and clicks of mailings are counted (off until an admin, who
    has the readers' consent, turns it on)."""
    return bool(
        db.session.scalar(
            select(Organisation.mailing_tracking).where(Organisation.id == 1)
        )
    )


def set_mailing_tracking(on: bool, *, actor: User, now: datetime) -> None:
    """Turn counting of opens and clicks on or off (for mailings sent from now)."""
    row = db.session.get(Organisation, 1)
    if row is None:
        raise ValidationError("Save the organisation's details first.")
    if row.mailing_tracking == on:
        return
    row.mailing_tracking = on
    row.updated_at = now
    record_event(
        actor,
        "organisation.update",
        "organisation",
        1,
        "Counting of mailing opens and clicks turned " + ("on" if on else "off"),
        now=now,
    )
    db.session.flush()


# Notices ---------------------------------------------------------------------------


def versions(kind: NoticeKind) -> list[Notice]:
    """Every published version of ``kind``, newest first."""
    query = select(Notice).where(Notice.kind == kind).order_by(Notice.version.desc())
    return list(db.session.scalars(query))


def current_notice(kind: NoticeKind) -> Notice | None:
    """The version of ``kind`` in force, or None while the built-in text stands."""
    query = (
        select(Notice)
        .where(Notice.kind == kind)
        .order_by(Notice.version.desc())
        .limit(1)
    )
    return db.session.scalars(query).first()


def get_version(kind: NoticeKind, version: int) -> Notice | None:
    query = select(Notice).where(Notice.kind == kind, Notice.version == version)
    return db.session.scalars(query).first()


def default_text(kind: NoticeKind) -> str:
    """The built-in text of ``kind``, written from the organisation's details."""
    if kind is NoticeKind.PRIVACY:
        return defaults.privacy_notice(identity())
    return defaults.accessibility_statement(identity())


def current_text(kind: NoticeKind) -> str:
    notice = current_notice(kind)
    return notice.body if notice is not None else default_text(kind)


def publish_notice(
    kind: NoticeKind,
    body: str,
    *,
    fresh_consent: bool,
    actor: User,
    now: datetime,
) -> Notice:
    """Publish ``body`` as the next version of ``kind``; earlier ones stay readable."""
    body = body.strip().replace("\r\n", "\n")
    if not body:
        raise ValidationError("Enter the text to publish.")
    if len(body) > MAX_NOTICE_LENGTH:
        raise ValidationError(
            f"The text must be {MAX_NOTICE_LENGTH:,} characters or fewer."
        )
    if body == current_text(kind).strip():
        raise ValidationError("The text is the same as the version in force.")
    if fresh_consent and kind is not NoticeKind.PRIVACY:
        raise ValidationError("Only a privacy notice can ask for fresh consent.")
    latest = db.session.scalar(
        select(func.max(Notice.version)).where(Notice.kind == kind)
    )
    if latest is None:
        # The built-in text was in force until now: keep it readable as version 0.
        db.session.add(
            Notice(
                kind=kind,
                version=0,
                body=default_text(kind).strip(),
                fresh_consent=False,
                published_at=now,
                published_by=None,
            )
        )
    notice = Notice(
        kind=kind,
        version=(latest or 0) + 1,
        body=body,
        fresh_consent=fresh_consent,
        published_at=now,
        published_by=actor,
    )
    db.session.add(notice)
    db.session.flush()
    record_event(
        actor,
        "notice.publish",
        "notice",
        notice.id,
        f"{kind.label} version {notice.label} published"
        + (", asking members for fresh consent" if fresh_consent else ""),
        now=now,
    )
    _cache().clear()
    return notice


#: The privacy notice's version, and when fresh consent was last asked for. Built
#: once: every join and every contact reads it.
_PRIVACY_STATE = select(
    func.max(Notice.version),
    func.max(case((Notice.fresh_consent.is_(True), Notice.published_at))),
).where(Notice.kind == NoticeKind.PRIVACY)


def _privacy_state(
    also: tuple[ScalarSelect[Any], ...] = (), params: dict[str, Any] | None = None
) -> tuple[str, datetime | None, tuple[Any, ...]]:
    """The privacy notice's version label and when fresh consent was last asked for,
    read together in one small query (every consent and every contact needs them),
    with the values of ``also`` (see ``read_ahead``)."""
    cache = _cache()
    values: list[Any] = []
    # Plain statements on the session's connection, and only when there is
    # something to read: none of the ORM's work is needed for a row of values (and
    # nothing is flushed first).
    if "privacy" not in cache:
        query = _PRIVACY_STATE.add_columns(*also) if also else _PRIVACY_STATE
        connection = db.session.connection()
        version, since, *values = connection.execute(query, params).one()
        label = BUILT_IN_VERSION if version in (None, 0) else str(version)
        if since is not None and since.tzinfo is None:  # aggregates skip the type
            since = since.replace(tzinfo=UTC)
        cache["privacy"] = (label, since)
    elif also:
        values = list(db.session.connection().execute(select(*also), params).one())
    label, since = cache["privacy"]  # type: ignore[misc]
    return str(label), since if isinstance(since, datetime) else None, tuple(values)


def privacy_version_label() -> str:
    """The privacy notice version that consent given now is given under."""
    return _privacy_state()[0]


def fresh_consent_since() -> datetime | None:
    """When the latest notice that asked for fresh consent was published, if any.

    Consent recorded before then no longer allows contact.
    """
    return _privacy_state()[1]
