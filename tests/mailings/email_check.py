"""An accessibility check of a rendered HTML email: language, headings, alt text,
contrast, and the plain-text part's words (used by the compose tests)."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from dataclasses import field
from html.parser import HTMLParser

VOID = {"meta", "img", "br", "hr", "input", "link"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    parent: Element | None
    children: list[Element | str] = field(default_factory=list)

    def style(self, name: str) -> str | None:
        for part in self.attrs.get("style", "").split(";"):
            key, _, value = part.partition(":")
            if key.strip().lower() == name:
                return value.strip().lower()
        return None

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def walk(self) -> list[Element]:
        found = [self]
        for child in self.children:
            if isinstance(child, Element):
                found += child.walk()
        return found


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {}, None)
        self.current = self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs}, self.current)
        self.current.children.append(element)
        if tag not in VOID:
            self.current = element

    def handle_endtag(self, tag: str) -> None:
        node: Element | None = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        assert node is not None, f"stray </{tag}>"
        assert node.parent is not None
        self.current = node.parent

    def handle_data(self, data: str) -> None:
        self.current.children.append(data)


def parse(html: str) -> Element:
    parser = _Parser()
    parser.feed(html)
    parser.close()
    assert parser.current is parser.root, f"unclosed <{parser.current.tag}>"
    return parser.root


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(colour: str) -> float:
    colour = colour.lstrip("#")
    if len(colour) == 3:
        colour = "".join(ch * 2 for ch in colour)
    r, g, b = (int(colour[i : i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast(foreground: str, background: str) -> float:
    """The WCAG contrast ratio of two #rrggbb colours."""
    light, dark = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _inherited(element: Element, name: str, default: str) -> str:
    node: Element | None = element
    while node is not None:
        value = node.style(name)
        if value is None and name == "background-color":
            value = node.attrs.get("bgcolor")
        if value:
            return value
        node = node.parent
    return default


def colour_pairs(root: Element) -> set[tuple[str, str]]:
    """Every (text colour, background colour) pair text is shown in, in the body."""
    pairs = set()
    for body in (e for e in root.walk() if e.tag == "body"):
        for element in body.walk():
            if any(isinstance(c, str) and c.strip() for c in element.children):
                pairs.add(
                    (
                        _inherited(element, "color", "#000000"),
                        _inherited(element, "background-color", "#ffffff"),
                    )
                )
    return pairs


def _document(elements: list[Element]) -> list[str]:
    found = []
    htmls = [e for e in elements if e.tag == "html"]
    if len(htmls) != 1 or htmls[0].attrs.get("lang") != "en-GB":
        found.append("the document's language is not en-GB")
    titles = [e for e in elements if e.tag == "title"]
    if len(titles) != 1 or not titles[0].text().strip():
        found.append("no title")
    for table in (e for e in elements if e.tag == "table"):
        if table.attrs.get("role") != "presentation":
            found.append("a layout table without role=presentation")
    return found


def _headings(elements: list[Element]) -> list[str]:
    found = []
    headings = [int(e.tag[1]) for e in elements if re.fullmatch(r"h[1-6]", e.tag)]
    if headings.count(1) != 1 or headings[0] != 1:
        found.append(f"not exactly one h1, first: {headings}")
    for before, after in itertools.pairwise(headings):
        if after > before + 1:
            found.append(f"heading level skipped: h{before} then h{after}")
    return found


def _images_and_links(elements: list[Element]) -> list[str]:
    found = []
    for image in (e for e in elements if e.tag == "img"):
        if "alt" not in image.attrs:
            found.append(f"image without alt: {image.attrs.get('src')}")
        elif not image.attrs["alt"].strip() and image.attrs.get("width") != "1":
            found.append(f"a content image with empty alt: {image.attrs.get('src')}")
    for link in (e for e in elements if e.tag == "a"):
        if "underline" not in (link.style("text-decoration") or ""):
            found.append(f"link not underlined: {link.text()}")
    return found


def problems(html: str, text: str) -> list[str]:
    """What fails the check: an empty list means the email passes."""
    root = parse(html)
    elements = root.walk()
    found = _document(elements) + _headings(elements) + _images_and_links(elements)
    for foreground, background in colour_pairs(root):
        ratio = contrast(foreground, background)
        if ratio < 4.5:
            found.append(f"contrast {foreground} on {background} is {ratio:.2f}:1")
    shown = " ".join(
        [root.text()]
        + [e.attrs.get("alt", "") for e in elements if e.tag == "img"]
        + [e.attrs.get("href", "") for e in elements if e.tag == "a"]
    )
    found += [
        f"the text part's word {word!r} is not in the HTML"
        for word in words_of(text)
        if word not in shown
    ]
    return found


def words_of(text: str) -> list[str]:
    """The words of a plain-text part, without its own markers (underlines, list
    marks, "[Image: …]", the signature line)."""
    text = re.sub(r"\[Image: ([^\]]*)\]", r"\1", text)
    words = []
    for token in text.split():
        if re.fullmatch(r"[-=>]+|\d+\.", token):
            continue
        words.append(token.strip("()").rstrip(".,:;"))
    return [w for w in words if w]
