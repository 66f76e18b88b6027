"""Turning a mailing's Markdown into the HTML and plain-text email each person gets."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup

from engage.mailings.models import Mailing

# CommonMark with raw HTML shown as text. Every link is parsed (even a scheme the
# renderer would drop) so that ``problems`` can name it; ``_allowed`` decides what is
# written as a link.
_markdown = MarkdownIt("commonmark", {"html": False})
_markdown.validateLink = lambda url: True  # type: ignore[method-assign]

#: The schemes a link in a mailing may use, and those an image may be loaded from.
LINK_SCHEMES = ("http://", "https://", "mailto:")
IMAGE_SCHEMES = ("http://", "https://")

# The NHS.UK palette: text on white, blue links, a blue band for the organisation.
BLUE = "#005eb8"
TEXT = "#212b32"
WHITE = "#ffffff"
GREY_BACKGROUND = "#f0f4f5"
SECONDARY_TEXT = "#4c6272"
BORDER = "#d8dde0"
FONT = "Arial, Helvetica, sans-serif"

#: The (text, background) colour pairs the email uses: each passes WCAG AA (4.5:1).
COLOUR_PAIRS = (
    (TEXT, WHITE),
    (BLUE, WHITE),
    (WHITE, BLUE),
    (TEXT, GREY_BACKGROUND),
    (BLUE, GREY_BACKGROUND),
    (SECONDARY_TEXT, GREY_BACKGROUND),
)

_FONT_16 = f"font-family:{FONT};font-size:16px;line-height:24px;color:{TEXT}"
_P = f"margin:0 0 16px 0;{_FONT_16}"
_HEADING = {
    1: "font-size:28px;line-height:34px",
    2: "font-size:22px;line-height:30px",
    3: "font-size:19px;line-height:26px",
}
_LINK = f"color:{BLUE};text-decoration:underline"
_LIST = f"margin:0 0 16px 0;padding:0 0 0 24px;{_FONT_16}"
_STYLES = {
    "p": _P,
    "ul": _LIST,
    "ol": _LIST,
    "li": "margin:0 0 8px 0",
    "blockquote": f"margin:0 0 16px 0;padding:0 0 0 16px;border-left:4px solid {BLUE}",
    "pre": (
        "margin:0 0 16px 0;white-space:pre-wrap;font-family:monospace;"
        f"font-size:14px;color:{TEXT}"
    ),
    "hr": f"border:0;border-top:1px solid {BORDER};margin:24px 0",
    "code": "font-family:monospace",
    "img": "display:block;max-width:100%;height:auto;border:0;margin:0 0 16px 0",
}


@dataclass(frozen=True)
class RenderedEmail:
    """One person's email: the HTML part and the plain-text part, same content."""

    subject: str
    html: str
    text: str


def _allowed(url: str, schemes: Sequence[str]) -> bool:
    return url.strip().lower().startswith(tuple(schemes))


def _plain(children: Sequence[Token] | None) -> str:
    """The words of an inline run (an image's alt text, a heading), without markup."""
    parts: list[str] = []
    for child in children or ():
        if child.type in ("text", "code_inline", "html_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            parts.append(_plain(child.children))
    return "".join(parts)


def problems(body: str) -> list[str]:
    """What stops ``body`` (Markdown) from going out: links of the wrong kind,
    images without a description. An empty list means it is fine."""
    found: list[str] = []
    for block in _markdown.parse(body):
        if block.type != "inline" or not block.children:
            continue
        line = (block.map[0] if block.map else 0) + 1
        for child in block.children:
            if child.type in ("softbreak", "hardbreak"):
                line += 1
            elif child.type == "link_open":
                href = str(child.attrs.get("href", ""))
                if not _allowed(href, LINK_SCHEMES):
                    found.append(
                        f"The link at line {line} must start with https://, http:// "
                        f"or mailto: (it goes to {href[:80] or 'nowhere'})"
                    )
            elif child.type == "image":
                if not _plain(child.children).strip():
                    found.append(
                        f"The image at line {line} needs a description (alt text): "
                        "write it between the square brackets, like "
                        "![Members at the spring event](https://…)"
                    )
                if not _allowed(str(child.attrs.get("src", "")), IMAGE_SCHEMES):
                    found.append(
                        f"The image at line {line} must be a web address starting "
                        "with https:// or http://"
                    )
    return found


def _heading_levels(tokens: Sequence[Token]) -> dict[int, int]:
    """The level each body heading is shown at (by token index): below the subject's
    h1, never skipping a level ("#" becomes h2, and "###" after an h2 becomes h3)."""
    levels: dict[int, int] = {}
    previous = 1
    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            level = min(int(token.tag[1]) + 1, previous + 1, 6)
            levels[index] = previous = level
    return levels


class _Inline:
    """One run of inline Markdown written as HTML and as plain text."""

    def __init__(
        self,
        link_for: Callable[[str], str] | None,
        styled: bool,
        *,
        pictures: bool = True,
    ) -> None:
        self.link_for = link_for
        self.styled = styled
        #: False on paper: each image is printed as its description instead.
        self.pictures = pictures

    def _href(self, url: str) -> str:
        # Web links go through ``link_for`` (counted clicks); an email address is
        # written as it is.
        if self.link_for is None or not _allowed(url, IMAGE_SCHEMES):
            return url
        return self.link_for(url)

    def _style(self, tag: str) -> str:
        style = _LINK if tag == "a" else _STYLES.get(tag, "")
        return f' style="{style}"' if self.styled and style else ""

    def html(self, children: Sequence[Token]) -> str:
        out: list[str] = []
        links: list[bool] = []  # whether each open link is written as a link
        for child in children:
            kind = child.type
            if kind == "link_open":
                href = str(child.attrs.get("href", ""))
                links.append(_allowed(href, LINK_SCHEMES))
                if links[-1]:
                    out.append(
                        f'<a href="{escape(self._href(href))}"{self._style("a")}>'
                    )
            elif kind == "link_close":
                out.append("</a>" if links and links.pop() else "")
            else:
                out.append(self._html_piece(child))
        return "".join(out)

    def _html_piece(self, child: Token) -> str:
        kind = child.type
        if kind in ("text", "html_inline"):
            return escape(child.content, quote=False)
        if kind in ("em_open", "strong_open", "em_close", "strong_close"):
            return f"<{'/' if kind.endswith('close') else ''}{child.tag}>"
        if kind == "code_inline":
            code = escape(child.content, quote=False)
            return f"<code{self._style('code')}>{code}</code>"
        if kind == "image":
            alt = _plain(child.children).strip()
            src = str(child.attrs.get("src", ""))
            if not self.pictures:
                return escape(f"[Picture: {alt}]", quote=False) if alt else ""
            if alt and _allowed(src, IMAGE_SCHEMES):
                return (
                    f'<img src="{escape(src)}" alt="{escape(alt)}"{self._style("img")}>'
                )
            return escape(f"[Image: {alt}]", quote=False) if alt else ""
        return {"softbreak": "\n", "hardbreak": "<br>\n"}.get(kind, "")

    def text(self, children: Sequence[Token]) -> str:
        buffers: list[list[str]] = [[]]
        hrefs: list[str | None] = []
        for child in children:
            kind = child.type
            if kind == "link_open":
                sent = str(child.attrs.get("href", ""))
                hrefs.append(sent if _allowed(sent, LINK_SCHEMES) else None)
                buffers.append([])
            elif kind == "link_close" and hrefs:
                words = "".join(buffers.pop())
                href = hrefs.pop()
                buffers[-1].append(words if href is None else self._link(words, href))
            elif kind in ("text", "code_inline", "html_inline"):
                buffers[-1].append(child.content)
            elif kind in ("softbreak", "hardbreak"):
                buffers[-1].append("\n")
            elif kind == "image" and _plain(child.children).strip():
                buffers[-1].append(f"[Image: {_plain(child.children).strip()}]")
        while len(buffers) > 1:  # a link left open: keep its words
            words = "".join(buffers.pop())
            buffers[-1].append(words)
        return "".join(buffers[0])

    def _link(self, words: str, href: str) -> str:
        shown = href.strip()
        if shown.lower().startswith("mailto:"):
            shown = shown[len("mailto:") :]
        target = self._href(href)
        if target == href:
            target = shown
        if words.strip() == target:
            return target
        return f"{words} ({target})"


class _HtmlBody:
    """A body's block Markdown as HTML, styled inline for email (or plain, for
    the web copy), headings placed below the subject's h1."""

    def __init__(self, inline: _Inline, *, styled: bool) -> None:
        self.inline = inline
        self.styled = styled
        self.out: list[str] = []
        self.headings: list[int] = []
        self.levels: dict[int, int] = {}

    def render(self, tokens: Sequence[Token]) -> str:
        self.levels = _heading_levels(tokens)
        for index, token in enumerate(tokens):
            handler = getattr(self, f"_{token.type}", None)
            if handler is not None:
                handler(token, index)
        return "".join(self.out)

    def _style(self, tag: str) -> str:
        value = _STYLES.get(tag, "")
        return f' style="{value}"' if self.styled and value else ""

    def _heading_open(self, token: Token, index: int) -> None:
        level = self.levels[index]
        self.headings.append(level)
        size = _HEADING.get(level, "font-size:16px;line-height:24px")
        style = (
            f' style="margin:24px 0 16px 0;font-family:{FONT};{size};'
            f'font-weight:bold;color:{TEXT}"'
        )
        self.out.append(f"<h{level}{style if self.styled else ''}>")

    def _heading_close(self, token: Token, index: int) -> None:
        self.out.append(f"</h{self.headings.pop()}>\n")

    def _inline(self, token: Token, index: int) -> None:
        self.out.append(self.inline.html(token.children or ()))

    def _paragraph_open(self, token: Token, index: int) -> None:
        if not token.hidden:  # a tight list's items have no paragraphs
            self.out.append(f"<p{self._style('p')}>")

    def _paragraph_close(self, token: Token, index: int) -> None:
        if not token.hidden:
            self.out.append("</p>\n")

    def _bullet_list_open(self, token: Token, index: int) -> None:
        start = token.attrs.get("start")
        begin = f' start="{int(start)}"' if start not in (None, 1) else ""
        self.out.append(f"<{token.tag}{begin}{self._style(token.tag)}>\n")

    _ordered_list_open = _bullet_list_open

    def _bullet_list_close(self, token: Token, index: int) -> None:
        self.out.append(f"</{token.tag}>\n")

    _ordered_list_close = _blockquote_close = _bullet_list_close

    def _list_item_open(self, token: Token, index: int) -> None:
        self.out.append(f"<li{self._style('li')}>")

    def _list_item_close(self, token: Token, index: int) -> None:
        self.out.append("</li>\n")

    def _blockquote_open(self, token: Token, index: int) -> None:
        self.out.append(f"<blockquote{self._style('blockquote')}>\n")

    def _fence(self, token: Token, index: int) -> None:
        code = escape(token.content, quote=False)
        self.out.append(f"<pre{self._style('pre')}><code>{code}</code></pre>\n")

    _code_block = _fence

    def _hr(self, token: Token, index: int) -> None:
        self.out.append(f"<hr{self._style('hr')}>\n")

    def _html_block(self, token: Token, index: int) -> None:
        # Not produced with HTML off; shown as text if it ever is.
        text = escape(token.content, quote=False)
        self.out.append(f"<p{self._style('p')}>{text}</p>\n")


class _TextBody:
    """A body's block Markdown as plain text: underlined headings, "-" and "1."
    list items, "> " quotes."""

    def __init__(self, inline: _Inline) -> None:
        self.inline = inline
        self.lines: list[str] = []
        self.lists: list[list[int]] = []  # [ordered (0 or 1), number] per open list
        self.quote = 0
        self.first_of_item = False
        self.heading = False

    def render(self, tokens: Sequence[Token]) -> str:
        for token in tokens:
            handler = getattr(self, f"_{token.type}", None)
            if handler is not None:
                handler(token)
        return "\n".join(self.lines).strip("\n")

    def _blank(self) -> None:
        if self.lines and self.lines[-1].strip(" >") != "":
            self.lines.append(">" * self.quote)

    def _emit(self, text: str) -> None:
        pad = "   " * (len(self.lists) - 1) if self.lists else ""
        first = rest = pad + ("   " if self.lists else "")
        if self.lists and self.first_of_item:
            ordered, number = self.lists[-1]
            mark = f"{number}. " if ordered else "- "
            first, rest = pad + mark, pad + " " * len(mark)
            self.first_of_item = False
        prefix = "> " * self.quote
        for i, line in enumerate(text.split("\n")):
            self.lines.append((prefix + (first if i == 0 else rest) + line).rstrip())

    def _heading_open(self, token: Token) -> None:
        self._blank()
        self.heading = True

    def _inline(self, token: Token) -> None:
        words = self.inline.text(token.children or ())
        self._emit(words)
        if self.heading:
            self._emit("-" * max(len(words), 3))
            self.heading = False

    def _heading_close(self, token: Token) -> None:
        self._blank()

    def _paragraph_close(self, token: Token) -> None:
        if not self.lists:
            self._blank()

    def _bullet_list_open(self, token: Token) -> None:
        start = token.attrs.get("start")
        ordered = int(token.type == "ordered_list_open")
        self.lists.append([ordered, int(start or 1) - 1])

    _ordered_list_open = _bullet_list_open

    def _bullet_list_close(self, token: Token) -> None:
        self.lists.pop()
        if not self.lists:
            self._blank()

    _ordered_list_close = _bullet_list_close

    def _list_item_open(self, token: Token) -> None:
        self.lists[-1][1] += 1
        self.first_of_item = True

    def _blockquote_open(self, token: Token) -> None:
        self.quote += 1

    def _blockquote_close(self, token: Token) -> None:
        if self.lines and self.lines[-1] == ">" * self.quote:
            self.lines.pop()
        self.quote -= 1
        self._blank()

    def _fence(self, token: Token) -> None:
        code = token.content.rstrip("\n").split("\n")
        self._emit("\n".join("    " + line for line in code))
        self._blank()

    _code_block = _fence

    def _hr(self, token: Token) -> None:
        self._emit("----------")
        self._blank()

    def _html_block(self, token: Token) -> None:
        self._emit(token.content.rstrip("\n"))
        self._blank()


def _body_html(tokens: Sequence[Token], inline: _Inline, *, styled: bool = True) -> str:
    return _HtmlBody(inline, styled=styled).render(tokens)


def _body_text(tokens: Sequence[Token], inline: _Inline) -> str:
    return _TextBody(inline).render(tokens)


def web_copy_url_of(mailing: Mailing) -> str | None:
    """The public "view in a browser" address of a published mailing, else None."""
    if not mailing.archive_slug or mailing.published_at is None:
        return None
    from engage.mailings.links import web_copy_url

    return web_copy_url(mailing.archive_slug)


def body_markup(body: str) -> Markup:
    """A mailing's body as HTML for a web page (the public newsletter archive):
    headings below the page's h1, only safe links and described images, any HTML in
    the Markdown escaped."""
    html = _body_html(_markdown.parse(body), _Inline(None, styled=False), styled=False)
    # Built from escaped text and checked links only (raw HTML is off).
    return Markup(html)  # noqa: S704  # nosec B704  # nosemgrep: engage-markup


def letter_markup(body: str) -> Markup:
    """A mailing's body as HTML for a printed letter: as ``body_markup`` (headings
    below the letter's own h1), but each image printed as its description,
    "[Picture: ...]", since a letter cannot load it."""
    inline = _Inline(None, styled=False, pictures=False)
    html = _body_html(_markdown.parse(body), inline, styled=False)
    # Built from escaped text and checked links only (raw HTML is off).
    return Markup(html)  # noqa: S704  # nosec B704  # nosemgrep: engage-markup


def body_text(body: str) -> str:
    """A mailing's body as plain text (headings, lists, "text (url)", images' alt)."""
    return _body_text(_markdown.parse(body), _Inline(None, styled=False))


def render_email(
    mailing: Mailing,
    *,
    unsubscribe_url: str | None,
    link_for: Callable[[str], str] | None = None,
    open_pixel_url: str | None = None,
    reason: str | None = None,
) -> RenderedEmail:
    """The email for one recipient.

    ``unsubscribe_url`` goes in the footer (None in a preview or test send);
    ``link_for`` turns each link of the body into the link written in the email
    (tracked clicks), and ``open_pixel_url`` adds the image that counts an open;
    both are given only for mailings sent with tracking on. ``reason`` finishes
    "You are getting this email because …" (by default: they agreed to hear from
    the organisation).
    """
    from engage.mail.services import absolute_url
    from engage.organisation.services import identity

    org = identity()
    tokens = _markdown.parse(mailing.body or "")
    inline = _Inline(link_for, styled=True)
    subject = mailing.subject.strip()
    why = reason or f"you agreed to receive news from {org.name}"
    web_copy = web_copy_url_of(mailing)
    privacy = absolute_url("organisation.privacy")
    contact = " or ".join(way for way in (org.email, org.phone) if way)

    html = _html_document(
        subject=subject,
        organisation=org.name,
        body=_body_html(tokens, inline),
        address=", ".join(org.address_lines),
        contact=contact,
        why=why,
        privacy=privacy,
        unsubscribe=unsubscribe_url,
        web_copy=web_copy,
        open_pixel=open_pixel_url,
    )

    text_lines = [org.name, "", subject, "=" * max(len(subject), 3), ""]
    text_body = _body_text(tokens, inline)
    if text_body:
        text_lines += [text_body, ""]
    text_lines += ["-- ", org.name]
    if org.address_lines:
        text_lines.append(", ".join(org.address_lines))
    if contact:
        text_lines.append(f"Contact us: {contact}")
    text_lines.append(f"You are getting this email because {why}.")
    if unsubscribe_url:
        text_lines.append(f"Unsubscribe from these emails: {unsubscribe_url}")
    if web_copy:
        text_lines.append(f"View this email in a browser: {web_copy}")
    text_lines.append(f"How we use your information: {privacy}")
    return RenderedEmail(subject=subject, html=html, text="\n".join(text_lines) + "\n")


def _html_document(
    *,
    subject: str,
    organisation: str,
    body: str,
    address: str,
    contact: str,
    why: str,
    privacy: str,
    unsubscribe: str | None,
    web_copy: str | None,
    open_pixel: str | None,
) -> str:
    small = (
        f"margin:0 0 8px 0;font-family:{FONT};font-size:14px;line-height:20px;"
        f"color:{SECONDARY_TEXT}"
    )
    link = f'style="{_LINK}"'
    name = f'<strong style="color:{TEXT}">{escape(organisation)}</strong>'
    foot = [f'<p style="{small}">{name}']
    if address:
        foot.append(f"<br>{escape(address)}")
    foot.append("</p>")
    if contact:
        foot.append(f'<p style="{small}">Contact us: {escape(contact)}</p>')
    foot.append(
        f'<p style="{small}">You are getting this email because {escape(why)}.</p>'
    )
    if unsubscribe:
        foot.append(
            f'<p style="{small}"><a href="{escape(unsubscribe)}" {link}>'
            "Unsubscribe from these emails</a></p>"
        )
    if web_copy:
        foot.append(
            f'<p style="{small}"><a href="{escape(web_copy)}" {link}>'
            "View this email in a browser</a></p>"
        )
    foot.append(
        f'<p style="{small}"><a href="{escape(privacy)}" {link}>'
        "How we use your information</a></p>"
    )
    pixel = (
        f'<img src="{escape(open_pixel)}" width="1" height="1" alt="" '
        'style="display:block;width:1px;height:1px;border:0">'
        if open_pixel
        else ""
    )
    table = 'role="presentation" cellpadding="0" cellspacing="0" border="0"'
    band = (
        f"margin:0;font-family:{FONT};font-size:19px;line-height:26px;"
        f"font-weight:bold;color:{WHITE}"
    )
    title = (
        f"margin:0 0 16px 0;font-family:{FONT};{_HEADING[1]};"
        f"font-weight:bold;color:{TEXT}"
    )
    card = f"width:100%;max-width:600px;background-color:{WHITE}"
    main = f"background-color:{WHITE};padding:24px;{_FONT_16}"
    footer = (
        f"background-color:{GREY_BACKGROUND};padding:16px 24px;"
        f"border-top:4px solid {BLUE}"
    )
    return f"""<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<meta name="supported-color-schemes" content="light">
<title>{escape(subject)}</title>
</head>
<body style="margin:0;padding:0;background-color:{GREY_BACKGROUND};color:{TEXT}">
<table {table} width="100%" style="width:100%;background-color:{GREY_BACKGROUND}">
<tr><td align="center" style="padding:16px 8px">
<table {table} width="100%" style="{card}">
<tr><td style="background-color:{BLUE};padding:16px 24px">
<p style="{band}">{escape(organisation)}</p>
</td></tr>
<tr><td style="{main}">
<h1 style="{title}">{escape(subject)}</h1>
{body}</td></tr>
<tr><td style="{footer}">
{"".join(foot)}
</td></tr>
</table>
{pixel}
</td></tr>
</table>
</body>
</html>
"""
