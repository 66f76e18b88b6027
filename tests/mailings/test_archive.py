"""Published newsletters: the public archive and each newsletter's web page."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient

from engage.clock import utcnow
from engage.extensions import db
from engage.mailings import services
from engage.mailings.models import Mailing


def _mailing(subject: str, body: str = "# Hello\n\nNews for members.") -> Mailing:
    mailing = Mailing(
        subject=subject, body=body, created_at=utcnow(), updated_at=utcnow()
    )
    db.session.add(mailing)
    db.session.flush()
    return mailing


def test_the_archive_lists_published_newsletters_newest_first(
    client: FlaskClient,
) -> None:
    now = utcnow()
    older = _mailing("January newsletter")
    newer = _mailing("February newsletter")
    _mailing("A draft nobody may see")
    services.publish(older, actor="system", now=now - timedelta(days=30))
    services.publish(newer, actor="system", now=now)
    db.session.commit()
    page = client.get("/newsletters/").get_data(as_text=True)
    assert page.index("February newsletter") < page.index("January newsletter")
    assert "A draft nobody may see" not in page
    assert f"/newsletters/{newer.archive_slug}" in page


def test_a_newsletter_page_shows_the_words_and_nothing_else(
    client: FlaskClient,
) -> None:
    mailing = _mailing(
        "Spring newsletter",
        "# Events\n\n- Coffee morning\n\n[Book](https://www.example.nhs.uk/book)\n\n"
        "![Members at the event](https://www.example.nhs.uk/p.jpg)\n\n<script>x</script>",
    )
    slug = services.publish(mailing, actor="system", now=utcnow())
    db.session.commit()
    response = client.get(f"/newsletters/{slug}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<h1>Spring newsletter</h1>" in page
    assert "<h2>Events</h2>" in page
    assert "<li>Coffee morning</li>" in page
    assert '<a href="https://www.example.nhs.uk/book">Book</a>' in page
    assert 'alt="Members at the event"' in page
    assert "&lt;script&gt;x&lt;/script&gt;" in page
    # No tracking, nobody's own links.
    assert "/m/" not in page
    assert "nsubscribe" not in page


def test_unknown_and_unpublished_slugs_are_not_found(client: FlaskClient) -> None:
    mailing = _mailing("Draft")
    mailing.archive_slug = "draftslug0000000"  # a slug without publishing
    db.session.commit()
    for slug in ("draftslug0000000", "nope", str(mailing.id), "x" * 41, "x" * 5000):
        assert client.get(f"/newsletters/{slug}").status_code == 404
