"""Absolute links written into a mailing: unsubscribe, tracked clicks, the web copy."""

from __future__ import annotations

from engage.mail.services import absolute_url
from engage.mailings.tokens import recipient_token


def unsubscribe_url(recipient_id: int) -> str:
    """The one-click unsubscribe link for one person's copy (footer and header)."""
    return absolute_url("unsubscribe.unsubscribe", token=recipient_token(recipient_id))


def click_url(recipient_id: int, link_id: int) -> str:
    """A counted link: it leads only to the mailing's own link ``link_id``."""
    return absolute_url(
        "mailing_tracking.click", token=recipient_token(recipient_id), link_id=link_id
    )


def open_pixel_url(recipient_id: int) -> str:
    """The image that counts an open (only in mailings sent with tracking on)."""
    return absolute_url("mailing_tracking.opened", token=recipient_token(recipient_id))


def web_copy_url(slug: str) -> str:
    """The public "view in a browser" page of a published mailing."""
    return absolute_url("newsletters.show", slug=slug)
