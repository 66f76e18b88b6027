"""The words of every message about an involvement activity, by email, text or letter.

An invitation, the reminders a week and a day before, "a place has come free and it
is yours", a change of time or place, and a cancellation. Each says what, when (UK
time: "Tuesday 16 March 2027 at 2pm"), where (the venue and the online link), the
support offered, and carries the person's private link to reply.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from flask import render_template

from engage.clock import local_day
from engage.clock import to_local
from engage.clock import utcnow
from engage.involvement import invitations
from engage.involvement.models import InvolvementActivity
from engage.involvement.models import InvolvementInvitation
from engage.involvement.models import InvolvementSession
from engage.involvement.models import Reply
from engage.organisation.services import identity
from engage.templating import format_datetime


class Notice(enum.StrEnum):
    """The kinds of message about an activity, in the order the sender sends them."""

    CANCELLATION = "cancellation"
    CHANGE = "change"
    PLACE = "place"
    INVITATION = "invitation"
    REMINDER_DAY = "reminder_day"
    REMINDER_WEEK = "reminder_week"

    @property
    def label(self) -> str:
        return {
            "cancellation": "Cancellation",
            "change": "Change of details",
            "place": "A place has come free",
            "invitation": "Invitation",
            "reminder_day": "Reminder the day before",
            "reminder_week": "Reminder a week before",
        }[self.value]


@dataclass(frozen=True)
class Message:
    """One message's subject and plain-text body (the email's HTML is made from it)."""

    subject: str
    text: str

    @property
    def html(self) -> str:
        """The body as simple HTML: paragraphs, with the links clickable."""
        return render_template(
            "involvement/message.html", subject=self.subject, text=self.text
        )


def when(session: InvolvementSession) -> str:
    """A session's time in UK words: "Tuesday 16 March 2027 at 2pm to 3:30pm"."""
    starts = to_local(session.starts_at)
    ends = to_local(session.ends_at)
    text = f"{starts.strftime('%A')} {format_datetime(session.starts_at)}"
    if ends.date() == starts.date():
        end_words = format_datetime(session.ends_at).split(" at ", 1)[1]
        return f"{text} to {end_words}"
    return f"{text} to {ends.strftime('%A')} {format_datetime(session.ends_at)}"


def where(activity: InvolvementActivity) -> list[str]:
    """Where it is: the venue and its address, and the online link."""
    lines = []
    venue = ", ".join(
        part
        for part in (
            activity.venue_name.strip(),
            " ".join(activity.venue_address.split()),
        )
        if part
    )
    if venue:
        lines.append(f"Where: {venue}")
    if activity.online_link.strip():
        lines.append(f"Online: {activity.online_link.strip()}")
    if not lines:
        lines.append("Where: we will tell you nearer the time")
    return lines


def support_offered(activity: InvolvementActivity) -> str:
    """The support offered to those who come, in a sentence ("" if none)."""
    offered = []
    if activity.offers_interpreters:
        offered.append("an interpreter")
    if activity.offers_bsl:
        offered.append("a British Sign Language interpreter")
    if activity.offers_travel:
        offered.append("travel costs paid back")
    if activity.offers_carers:
        offered.append("a carer's costs paid back")
    text = ""
    if offered:
        listed = ", ".join(offered[:-1]) + (" and " if len(offered) > 1 else "")
        text = f"We can offer {listed}{offered[-1]}."
    notes = activity.support_notes.strip()
    return f"{text} {notes}".strip()


def _greeting(invitation: InvolvementInvitation) -> str:
    name = invitations.person_name(invitation)
    if invitation.member is not None and not invitation.member.name:
        name = ""
    return f"Dear {name}," if name else "Hello,"


def _details(activity: InvolvementActivity, session: InvolvementSession) -> list[str]:
    return [f"When: {when(session)} (UK time)", *where(activity)]


def _how_soon(session: InvolvementSession) -> str:
    """When the session is, counted in UK days from now: "today", "tomorrow", "on
    Friday" (within the week), "in a week's time", or its date."""
    days = (local_day(session.starts_at) - local_day(utcnow())).days
    if days <= 0:
        return "today"
    if days == 1:
        return "tomorrow"
    if days < 7:
        return f"on {to_local(session.starts_at):%A}"
    if days == 7:
        return "in a week's time"
    starts = to_local(session.starts_at)
    return f"on {starts:%A} {starts.day} {starts:%B}"


def compose(kind: Notice, invitation: InvolvementInvitation) -> Message:
    """The message of ``kind`` to the person ``invitation`` names."""
    session = invitation.session
    activity = session.activity
    kind_words = activity.kind.label.lower()
    link = invitations.reply_url(invitation)
    title = activity.title
    blocks: list[str] = [_greeting(invitation)]
    support = support_offered(activity)
    if kind is Notice.INVITATION:
        subject = f"You are invited: {title}"
        blocks.append(f"We would like to invite you to a {kind_words}: {title}.")
        if activity.purpose.strip():
            blocks.append(activity.purpose.strip())
        blocks.append("\n".join(_details(activity, session)))
        if support:
            blocks.append(support)
        blocks.append(
            "Please tell us whether you can come, and what support would help you "
            f"take part, using your own link:\n{link}"
        )
    elif kind in (Notice.REMINDER_WEEK, Notice.REMINDER_DAY):
        soon = _how_soon(session)
        subject = f"Reminder: {title} is {soon}"
        said = (
            "You told us you are coming"
            if invitation.reply is Reply.ATTENDING
            else "You told us you might come"
        )
        blocks.append(f"A reminder that {title} is {soon}. {said}.")
        blocks.append("\n".join(_details(activity, session)))
        blocks.append(
            "If your plans have changed, or you need support to take part, please "
            f"tell us using your own link:\n{link}"
        )
    elif kind is Notice.PLACE:
        subject = f"A place has come free: {title}"
        blocks.append(
            f"A place has come free at {title}, and it is yours. We have put you "
            "down as coming."
        )
        blocks.append("\n".join(_details(activity, session)))
        blocks.append(
            f"If you can no longer come, please tell us using your own link, so "
            f"we can offer the place to someone else:\n{link}"
        )
    elif kind is Notice.CHANGE:
        subject = f"Changed: {title}"
        blocks.append(
            f"The time or place of {title} has changed. These are the new details:"
        )
        blocks.append("\n".join(_details(activity, session)))
        blocks.append(
            "Please check you can still come, and tell us if your plans have "
            f"changed, using your own link:\n{link}"
        )
    else:
        subject = f"Cancelled: {title}"
        reason = session.cancel_reason or activity.cancel_reason
        what = (
            f"{title} on {when(session)}"
            if activity.cancelled_at is None
            else f"{title}, including the session on {when(session)},"
        )
        blocks.append(f"We are sorry: {what} has been cancelled.")
        if reason.strip():
            blocks.append(f"Why: {reason.strip()}")
        blocks.append(
            f"You do not need to do anything. Your own link still works:\n{link}"
        )
    blocks.append(f"Thank you,\n{identity().name}")
    return Message(subject=subject, text="\n\n".join(blocks))


def sms_text(kind: Notice, invitation: InvolvementInvitation) -> str:
    """The text message of ``kind``: short, with the when and the private link."""
    session = invitation.session
    activity = session.activity
    title = activity.title
    link = invitations.reply_url(invitation)
    start = f"{to_local(session.starts_at).strftime('%A')} " + format_datetime(
        session.starts_at
    )
    words = {
        Notice.INVITATION: f"You are invited to {title} on {start}. "
        f"Please tell us if you can come: {link}",
        Notice.REMINDER_WEEK: f"Reminder: {title} is on {start}. "
        f"If your plans change, tell us: {link}",
        Notice.REMINDER_DAY: f"Reminder: {title} is tomorrow, {start}. "
        f"If your plans change, tell us: {link}",
        Notice.PLACE: f"A place has come free at {title} on {start} and it is "
        f"yours. If you cannot come, tell us: {link}",
        Notice.CHANGE: f"{title} has changed: it is now on {start}. "
        f"Details and to reply: {link}",
        Notice.CANCELLATION: f"Sorry: {title} on {start} has been cancelled. "
        f"Details: {link}",
    }
    return f"{words[kind]} - {identity().short_name or identity().name}"
