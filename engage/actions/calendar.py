"""Calendar feed services: private, revocable iCalendar URLs of a user's actions."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date
from datetime import datetime
from datetime import timedelta
from urllib.parse import urlsplit

from icalendar import TRANSP
from icalendar import Calendar
from icalendar import Event
from sqlalchemy import exists
from sqlalchemy import select

from engage.accounts.models import User
from engage.actions.models import Action
from engage.actions.models import CalendarToken
from engage.actions.services import due_between
from engage.audit.services import record_event
from engage.extensions import db

#: How far back and ahead the feed looks. Older overdue dates drop off the feed.
FEED_PAST = timedelta(days=30)
FEED_AHEAD = timedelta(days=365)

PRODID = "-//Engage//Action plan calendar//EN"


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _token_for(user: User) -> CalendarToken | None:
    return db.session.scalar(
        select(CalendarToken).where(CalendarToken.user_id == user.id)
    )


def create_calendar_token(user: User, *, now: datetime) -> str:
    """Give ``user`` a new calendar token, revoking any previous one.

    Returns the token; only its SHA-256 hash is stored, so it can be shown once.
    """
    token = secrets.token_urlsafe(32)
    record = _token_for(user)
    # Update in place: a delete plus insert would be flushed insert-first and hit
    # the unique user_id constraint.
    action = "regenerate" if record is not None else "create"
    if record is None:
        record = CalendarToken(user_id=user.id)
        db.session.add(record)
    record.token_hash = _token_hash(token)
    record.created_at = now
    db.session.flush()
    record_event(user, action, "calendar_token", user.id, now=now)
    return token


def revoke_calendar_token(user: User, *, now: datetime) -> None:
    """Stop ``user``'s calendar URL working (nothing happens if there is none)."""
    record = _token_for(user)
    if record is None:
        return
    db.session.delete(record)
    db.session.flush()
    record_event(user, "revoke", "calendar_token", user.id, now=now)


def user_for_calendar_token(token: str) -> User | None:
    """The active user whose calendar token this is, or None.

    Always hashes and queries, so unknown, revoked and malformed tokens take the same
    work; the lookup compares hashes, never the secret itself.
    """
    user: User | None = db.session.scalar(
        select(User)
        .join(CalendarToken, CalendarToken.user_id == User.id)
        .where(CalendarToken.token_hash == _token_hash(token))
    )
    if user is None or not user.is_active:
        return None
    return user


def has_calendar_token(user: User) -> bool:
    """Whether ``user`` has a working calendar URL."""
    return bool(
        db.session.scalar(select(exists().where(CalendarToken.user_id == user.id)))
    )


def build_calendar(user: User, *, today: date, base_url: str) -> bytes:
    """Render ``user``'s open actions as an iCalendar (RFC 5545) document.

    One all-day event per due date of each open action the user owns, from 30 days
    ago to a year ahead, repeating actions once per occurrence. Each event links to
    the action on ``base_url``.
    """
    base = base_url.rstrip("/")
    domain = urlsplit(base).hostname or "engage"
    calendar = Calendar.new(
        prodid=PRODID,
        name="Engage actions",
        description="Due dates of the Engage actions you own.",
        uid=f"actions-user-{user.id}@{domain}",
    )
    items = due_between(today - FEED_PAST, today + FEED_AHEAD, owner_id=user.id)
    for item in items:
        calendar.add_component(
            _event(item.action, item.day, today=today, base=base, domain=domain)
        )
    ics: bytes = calendar.to_ical()
    return ics


def _event(action: Action, day: date, *, today: date, base: str, domain: str) -> Event:
    url = f"{base}/actions/{action.id}"
    lines = [f"Channel: {action.channel.name}"]
    if action.timescale:
        lines.append(f"Timescale: {action.timescale}")
    lines.append(url)
    prefix = "Overdue: " if day < today else ""
    return Event.new(
        # Stable per action and date, so calendars update events instead of adding.
        uid=f"action-{action.id}-{day:%Y%m%d}@{domain}",
        summary=prefix + action.title,
        start=day,
        end=day + timedelta(days=1),
        description="\n".join(lines),
        categories=[action.channel.name],
        url=url,
        # A due date is a reminder, not a meeting: don't show the day as busy.
        transparency=TRANSP.TRANSPARENT,
    )
