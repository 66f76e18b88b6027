"""Counted clicks and opens, for mailings sent while the organisation has tracking on.

Under PECR (the ICO's guidance on storage and access technologies) a tracking pixel
or a per-person link needs the reader's consent, so nothing here is used unless the
organisation has turned tracking on (it is off by default). A counted link leads
only to a link written in the mailing's own body: never an open redirect.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markdown_it.token import Token
from sqlalchemy import select
from sqlalchemy import update

from engage.extensions import db
from engage.mailings import links
from engage.mailings.models import Mailing
from engage.mailings.models import MailingLink
from engage.mailings.models import MailingRecipient

_markdown = MarkdownIt("commonmark", {"html": False})
#: The longest link kept (a longer one is left as it is, not counted).
MAX_LINK_LENGTH = 2000


def _walk(tokens: list[Token]) -> list[str]:
    found: list[str] = []
    for token in tokens:
        if token.type == "link_open":
            href = str(token.attrs.get("href") or "")
            if href:
                found.append(href)
        if token.children:
            found += _walk(token.children)
    return found


def _countable(url: str) -> bool:
    if len(url) > MAX_LINK_LENGTH or any(ord(ch) < 33 for ch in url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def body_links(body: str) -> list[str]:
    """Each distinct http or https link in a Markdown body, in order of first use."""
    seen: dict[str, None] = {}
    for url in _walk(_markdown.parse(body)):
        if _countable(url):
            seen.setdefault(url, None)
    return list(seen)


def record_links(mailing: Mailing) -> None:
    """Record the body's links (called when a send starts): only these are followed.

    Links already recorded keep their ids and counts; new ones are added after them.
    """
    known = {
        row.url: row
        for row in db.session.scalars(
            select(MailingLink).where(MailingLink.mailing_id == mailing.id)
        )
    }
    position = max((row.position for row in known.values()), default=0)
    for url in body_links(mailing.body):
        if url not in known:
            position += 1
            known[url] = MailingLink(mailing_id=mailing.id, position=position, url=url)
            db.session.add(known[url])
    db.session.flush()


def link_for(mailing: Mailing, recipient_id: int) -> Callable[[str], str]:
    """For one recipient's email: each recorded link becomes its counted link,
    anything else stays as written (``render_email(link_for=...)``)."""
    recorded = dict(
        db.session.execute(
            select(MailingLink.url, MailingLink.id).where(
                MailingLink.mailing_id == mailing.id
            )
        ).all()
    )

    def rewrite(url: str) -> str:
        link_id = recorded.get(url)
        if link_id is None or not mailing.tracking:
            return url
        return links.click_url(recipient_id, link_id)

    return rewrite


def record_click(
    recipient: MailingRecipient, link_id: int, *, now: datetime
) -> str | None:
    """Count a click on one of the recipient's mailing's links; return its address.

    None when the link is not that mailing's (nothing is counted). With tracking
    off the link is still followed, and nothing is recorded.
    """
    link = db.session.scalar(
        select(MailingLink).where(
            MailingLink.id == link_id, MailingLink.mailing_id == recipient.mailing_id
        )
    )
    if link is None:
        return None
    if recipient.mailing.tracking:
        db.session.execute(
            update(MailingLink)
            .where(MailingLink.id == link.id)
            .values(clicks=MailingLink.clicks + 1)
        )
        if recipient.clicked_at is None:
            recipient.clicked_at = now
        # Following a link shows the email was opened (images may be blocked).
        if recipient.opened_at is None:
            recipient.opened_at = now
        db.session.flush()
    return str(link.url)


def record_open(recipient: MailingRecipient | None, *, now: datetime) -> None:
    """Record the first open of a copy sent with tracking on (else nothing)."""
    if recipient is None or not recipient.mailing.tracking:
        return
    if recipient.opened_at is None:
        recipient.opened_at = now
        db.session.flush()
