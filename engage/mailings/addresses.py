"""Addresses as mailings keep them: one normal form, the do-not-send look-up, words.

Every part of mailings (choosing recipients, unsubscribing, bounces and receipts,
a member's record) compares addresses in the form ``normalise_address`` gives, in
Python, or ``normalised_sql`` gives, in SQL; both agree. An email address is
trimmed and lower-cased as a member's own is (``registration.normalise_email``); a
mobile number is trimmed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy import exists
from sqlalchemy import false
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import QueryableAttribute

from engage.audit.services import record_event
from engage.extensions import db
from engage.mailings.models import Suppression
from engage.membership.models import ContactChannel
from engage.membership.registration import normalise_email

if TYPE_CHECKING:
    from engage.accounts.models import User


@dataclass(frozen=True)
class ChannelWords:
    """How a channel reads: its name, what it brings, and the detail it uses."""

    name: str  #: "Email"
    messages: str  #: "emails"
    address: str  #: "email address"


#: Each channel in plain words (the only such table in mailings).
CHANNEL_WORDS = {
    ContactChannel.EMAIL: ChannelWords("Email", "emails", "email address"),
    ContactChannel.SMS: ChannelWords("Text message", "text messages", "mobile number"),
    ContactChannel.POST: ChannelWords("Letter", "letters", "postal address"),
    ContactChannel.PHONE: ChannelWords("Phone call", "phone calls", "phone number"),
}


def normalise_address(channel: ContactChannel, address: str) -> str:
    """The form an address is compared and kept in ("" for none)."""
    if channel is ContactChannel.EMAIL:
        return normalise_email(address) or ""
    return address.strip()


def normalised_sql(
    channel: ContactChannel,
    column: ColumnElement[Any] | QueryableAttribute[Any],
) -> ColumnElement[str | None]:
    """``normalise_address`` in SQL, for an address column."""
    if channel is ContactChannel.EMAIL:
        return func.lower(func.trim(column))
    return func.trim(column)


def find_suppression(
    channel: ContactChannel, address: str | None
) -> Suppression | None:
    """The do-not-send entry for an address, if there is one (letters have none)."""
    if not address or channel is ContactChannel.POST:
        return None
    wanted = normalise_address(channel, address)[:254]
    return db.session.scalars(
        select(Suppression)
        .where(Suppression.channel == channel, Suppression.address == wanted)
        .order_by(Suppression.id)
    ).first()


def suppressed_sql(
    channel: ContactChannel, address: ColumnElement[str | None]
) -> ColumnElement[bool]:
    """SQL: whether a normalised ``address`` is on the do-not-send list."""
    if channel is ContactChannel.POST:
        return false()
    return exists().where(
        Suppression.channel == channel, Suppression.address == address
    )


#: Entries shown at once on the do-not-send list (the newest; search narrows it).
LIST_LIMIT = 200


def list_suppressions(search: str = "") -> list[Suppression]:
    """The do-not-send list, newest first, narrowed to addresses holding ``search``."""
    query = select(Suppression).order_by(
        Suppression.recorded_at.desc(), Suppression.id.desc()
    )
    wanted = search.strip().lower()[:254]
    if wanted:
        query = query.where(Suppression.address.contains(wanted, autoescape=True))
    return list(db.session.scalars(query.limit(LIST_LIMIT)))


def lift_suppression(entry: Suppression, *, actor: User, now: datetime) -> None:
    """Take an address off the do-not-send list (recorded wrongly, or fixed since).

    A member who unsubscribed is not on this list: their consent is withdrawn, and
    only they can give it again.
    """
    words = CHANNEL_WORDS[entry.channel]
    record_event(
        actor,
        "lift_suppression",
        "suppression",
        entry.id,
        f"{words.address} was {entry.reason.label.lower()}",
        now=now,
    )
    db.session.delete(entry)
    db.session.flush()
