"""Letters about involvement activities, for those invited by post: a printable page.

The send-involvement job sends emails and texts; letters (invitations, freed
places, changes and cancellations — reminders would arrive too late) are listed here
to print, each with its words and the person's private link, then marked as posted.
Consent to letters is checked again when the page is made and when they are marked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from engage.accounts.models import User
from engage.audit.services import record_event
from engage.formtools import parse_id
from engage.involvement import invitations
from engage.involvement import messages
from engage.involvement import notices
from engage.involvement.messages import Message
from engage.involvement.messages import Notice
from engage.involvement.models import InvolvementActivity
from engage.involvement.models import InvolvementInvitation
from engage.membership.models import ContactChannel

#: The most letters listed at once (print these, mark them, then the next ones).
PAGE_LIMIT = 500


@dataclass(frozen=True)
class Letter:
    """One letter to print: what kind, to whom and where, and its words."""

    kind: Notice
    invitation: InvolvementInvitation
    name: str
    address: str
    message: Message


def _due(activity: InvolvementActivity, now: datetime) -> list[tuple[Notice, int]]:
    found: list[tuple[Notice, int]] = []
    for kind in notices.BY_LETTER:
        left = PAGE_LIMIT - len(found)
        if left <= 0:
            break
        ids = notices.due(
            kind, ContactChannel.POST, now, size=left, activity_id=activity.id
        )
        found += [(kind, invitation_id) for invitation_id in ids]
    return found


def letters_due_count(activity: InvolvementActivity, now: datetime) -> int:
    """How many letters are waiting to be printed (at most ``PAGE_LIMIT``)."""
    return len(_due(activity, now))


def letters_due(activity: InvolvementActivity, now: datetime) -> list[Letter]:
    """The letters to print now, each allowed by the person's consent to letters."""
    wanted = _due(activity, now)
    loaded = {item.id: item for item in notices.load([i for _, i in wanted])}
    checked = notices.recheck(list(loaded.values()))
    result = []
    for kind, invitation_id in wanted:
        invitation = loaded[invitation_id]
        verdict = checked[invitation_id]
        if verdict.reason is not None:
            continue
        member = invitation.member
        address = (member.address if member is not None else None) or ""
        result.append(
            Letter(
                kind=kind,
                invitation=invitation,
                name=invitations.person_name(invitation),
                address=address,
                message=messages.compose(kind, invitation),
            )
        )
    return result


def printed_key(letter: Letter) -> str:
    """How the letters page names a letter it showed (sent back when they are
    marked as posted, so that only letters that were printed are marked)."""
    return f"{letter.kind.value}:{letter.invitation.id}"


def read_printed(keys: Sequence[str]) -> set[tuple[Notice, int]]:
    """The letters named by ``printed_key`` values (anything else is ignored)."""
    kinds = {kind.value: kind for kind in Notice}
    found: set[tuple[Notice, int]] = set()
    for key in keys[:PAGE_LIMIT]:
        kind, _, number = str(key).partition(":")
        invitation_id = parse_id(number)
        if kind in kinds and invitation_id is not None:
            found.add((kinds[kind], invitation_id))
    return found


def mark_posted(
    activity: InvolvementActivity,
    printed: set[tuple[Notice, int]],
    *,
    actor: User,
    now: datetime,
) -> int:
    """Mark the ``printed`` letters that are still due as posted (those no longer
    allowed: invitations never sent, other letters left); how many were marked.
    A letter that fell due after the page was printed waits for the next print."""
    wanted = [letter for letter in _due(activity, now) if letter in printed]
    loaded = {item.id: item for item in notices.load([i for _, i in wanted])}
    checked = notices.recheck(list(loaded.values()))
    posted = 0
    for kind, invitation_id in wanted:
        reason = checked[invitation_id].reason
        if reason is not None:
            if kind is Notice.INVITATION:
                notices.skip(invitation_id, reason)
            continue
        if notices.claim(kind, invitation_id, now, address=None):
            posted += 1
    record_event(
        actor,
        "letters_posted",
        "involvement_activity",
        activity.id,
        f"{posted}",
        now=now,
    )
    return posted
