"""The email renderer: Markdown to an accessible HTML email and its text part."""

from __future__ import annotations

import pytest

from engage.clock import utcnow
from engage.extensions import db
from engage.mailings.compose import COLOUR_PAIRS
from engage.mailings.compose import body_markup
from engage.mailings.compose import problems
from engage.mailings.compose import render_email
from engage.mailings.models import Mailing
from tests.mailings import email_check

BODY = """Thank you to everyone who came to the **spring** event.

# What you told us

- Waiting times for [blood tests](https://www.example.nhs.uk/bloods?a=1&b=2)
- Parking at the hospital
  1. Blue badge spaces
  2. Drop-off points

### Dates for your diary

1. Board meeting, 3 March
2. Write to [the team](mailto:engagement@example.nhs.uk)

![Members around a table at the spring event](https://www.example.nhs.uk/p.jpg)

> A quote from a member.

Visit <https://www.example.nhs.uk/news> for more.
"""


def _mailing(body: str = BODY, subject: str = "Spring newsletter") -> Mailing:
    mailing = Mailing(
        subject=subject, body=body, created_at=utcnow(), updated_at=utcnow()
    )
    db.session.add(mailing)
    db.session.flush()
    return mailing


def test_the_html_email_passes_the_accessibility_check() -> None:
    rendered = render_email(
        _mailing(),
        unsubscribe_url="http://engage.test/m/tok/unsubscribe",
        open_pixel_url="http://engage.test/m/tok/o.gif",
    )
    assert email_check.problems(rendered.html, rendered.text) == []
    root = email_check.parse(rendered.html)
    headings = [
        (e.tag, e.text().strip()) for e in root.walk() if e.tag in {"h1", "h2", "h3"}
    ]
    # The subject is the one h1; "#" and "###" fall in below it, without a gap.
    assert headings == [
        ("h1", "Spring newsletter"),
        ("h2", "What you told us"),
        ("h3", "Dates for your diary"),
    ]
    images = {e.attrs["src"]: e.attrs["alt"] for e in root.walk() if e.tag == "img"}
    assert images == {
        "https://www.example.nhs.uk/p.jpg": (
            "Members around a table at the spring event"
        ),
        "http://engage.test/m/tok/o.gif": "",
    }


def test_the_check_catches_what_it_checks() -> None:
    """The checker itself fails a bad email (so passing it means something)."""
    bad = (
        "<html><head><title>x</title></head><body><h2>Skipped</h2><h4>Deep</h4>"
        '<img src="a.png"><p style="color:#999999">grey</p>'
        '<a href="https://x" style="color:#005eb8">plain link</a></body></html>'
    )
    found = email_check.problems(bad, "grey missing-word")
    assert any("language" in p for p in found)
    assert any("h1" in p for p in found)
    assert any("skipped" in p for p in found)
    assert any("without alt" in p for p in found)
    assert any("contrast #999999" in p for p in found)
    assert any("not underlined" in p for p in found)
    assert any("'missing-word'" in p for p in found)


@pytest.mark.parametrize(("foreground", "background"), COLOUR_PAIRS)
def test_every_colour_pair_has_enough_contrast(
    foreground: str, background: str
) -> None:
    assert email_check.contrast(foreground, background) >= 4.5


def test_the_colour_pairs_used_are_the_ones_checked() -> None:
    rendered = render_email(_mailing(), unsubscribe_url="http://engage.test/u")
    used = email_check.colour_pairs(email_check.parse(rendered.html))
    assert used <= set(COLOUR_PAIRS)
    # Known ratios: black on white, and the lightest grey that passes on white.
    assert email_check.contrast("#000000", "#ffffff") == pytest.approx(21)
    assert email_check.contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)


def test_the_layout_is_one_fluid_column_with_the_organisation_at_the_top() -> None:
    rendered = render_email(_mailing(), unsubscribe_url=None)
    html = rendered.html
    assert '<html lang="en-GB">' in html
    assert "<title>Spring newsletter</title>" in html
    assert "max-width:600px" in html
    assert 'width="100%"' in html
    assert html.count('role="presentation"') == html.count("<table")
    assert html.index("NHS Northshire Integrated Care Board") < html.index("<h1")
    assert "<style" not in html
    assert "<script" not in html


def test_the_plain_text_part_has_the_same_content() -> None:
    text = render_email(
        _mailing(), unsubscribe_url="http://engage.test/m/tok/unsubscribe"
    ).text
    assert text.startswith(
        "NHS Northshire Integrated Care Board\n\nSpring newsletter\n"
    )
    assert "What you told us\n----------------" in text
    assert (
        "- Waiting times for blood tests (https://www.example.nhs.uk/bloods?a=1&b=2)"
        in text
    )
    assert "   1. Blue badge spaces" in text
    assert "1. Board meeting, 3 March" in text
    assert "Write to the team (engagement@example.nhs.uk)" in text
    assert "[Image: Members around a table at the spring event]" in text
    assert "> A quote from a member." in text
    assert "Visit https://www.example.nhs.uk/news for more." in text
    assert "Thank you to everyone who came to the spring event." in text
    foot = text.split("\n-- \n", 1)[1]
    assert "Unsubscribe from these emails: http://engage.test/m/tok/unsubscribe" in foot
    assert "You are getting this email because" in foot
    assert "Contact us: engagement@northshire.example" in foot


def test_footer_says_why_and_links_unsubscribe_and_web_copy() -> None:
    mailing = _mailing()
    plain = render_email(mailing, unsubscribe_url=None)
    assert "Unsubscribe" not in plain.html
    assert "in a browser" not in plain.html
    mailing.archive_slug, mailing.published_at = "abcDEF123456ghij", utcnow()
    rendered = render_email(
        mailing,
        unsubscribe_url="http://engage.test/m/tok/unsubscribe",
        reason="you are a member of our PPI group",
    )
    assert 'href="http://engage.test/m/tok/unsubscribe"' in rendered.html
    assert 'href="http://engage.test/newsletters/abcDEF123456ghij"' in rendered.html
    assert "because you are a member of our PPI group." in rendered.html
    assert (
        "View this email in a browser: http://engage.test/newsletters/abcDEF123456ghij"
        in rendered.text
    )


def test_link_for_rewrites_web_links_only() -> None:
    seen: list[str] = []

    def counted(url: str) -> str:
        seen.append(url)
        return f"http://engage.test/m/tok/l/{len(seen)}"

    rendered = render_email(_mailing(), unsubscribe_url=None, link_for=counted)
    assert seen[:2] == [
        "https://www.example.nhs.uk/bloods?a=1&b=2",
        "https://www.example.nhs.uk/news",
    ]
    assert 'href="http://engage.test/m/tok/l/1"' in rendered.html
    assert "https://www.example.nhs.uk/bloods" not in rendered.html
    assert 'href="mailto:engagement@example.nhs.uk"' in rendered.html
    # The text part counts the same links.
    assert "blood tests (http://engage.test/m/tok/l/" in rendered.text
    assert 'width="1"' not in rendered.html  # no open pixel unless asked


def test_html_and_scripts_in_markdown_are_only_text() -> None:
    body = (
        "<script>alert(1)</script>\n\n[x](javascript:alert(1)) [y](data:text/html,1) "
        '[z](/relative) ![a](javascript:alert(2))\n\n"quotes" & <b>'
    )
    rendered = render_email(
        _mailing(body, subject='A <b>"subject"</b>'), unsubscribe_url=None
    )
    html = rendered.html
    assert "<script" not in html
    assert "javascript:" not in html
    assert "data:" not in html
    assert "&lt;script&gt;" in html
    assert "<title>A &lt;b&gt;&quot;subject&quot;&lt;/b&gt;</title>" in html
    assert 'href="/relative"' not in html
    assert "<b>" not in html


def test_problems_name_images_without_alt_text_and_bad_links() -> None:
    body = "# News\n\nIntro\n\n![](https://x.example/a.png)\n\n[go](ftp://x) [ok](https://x)\n"
    assert problems(body) == [
        "The image at line 5 needs a description (alt text): write it between the "
        "square brackets, like ![Members at the spring event](https://…)",
        "The link at line 7 must start with https://, http:// or mailto: "
        "(it goes to ftp://x)",
    ]
    assert problems(BODY) == []
    assert problems("![  ](https://x.example/a.png)")[0].startswith(
        "The image at line 1 needs a description"
    )
    assert "web address" in problems("![A chart](chart.png)")[0]


def test_the_web_copy_body_has_no_email_styles() -> None:
    html = str(body_markup(BODY))
    assert "<h2>What you told us</h2>" in html
    assert "style=" not in html
    assert '<img src="https://www.example.nhs.uk/p.jpg" alt="Members' in html
