"""Counted clicks and opens: only with tracking on, never an open redirect."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from engage.extensions import db
from engage.mailings import tracking
from engage.mailings.links import click_url
from engage.mailings.models import Mailing
from engage.mailings.models import MailingLink
from engage.mailings.models import MailingRecipient
from engage.mailings.models import RecipientStatus
from engage.mailings.tokens import recipient_token
from engage.mailings.tracking_views import PIXEL
from engage.organisation import services as organisation
from engage.organisation.models import Organisation
from tests.mailings.measure_helpers import sent_mailing

BODY = """# December news

Read [our plan](https://example.org/plan) and [the survey](https://example.org/s?a=1&b=2).
[Our plan again](https://example.org/plan), [write to us](mailto:ppi@example.org),
[a page here](/join) and [a script](javascript:alert(1)).
"""


def _copy(mailing: Mailing) -> MailingRecipient:
    return db.session.scalars(
        select(MailingRecipient).where(MailingRecipient.mailing_id == mailing.id)
    ).first()


def _tracked(tracking_on: bool = True) -> tuple[Mailing, MailingRecipient]:
    mailing = sent_mailing([RecipientStatus.SENT], tracking=tracking_on, body=BODY)
    tracking.record_links(mailing)
    db.session.commit()
    return mailing, _copy(mailing)


def _links(mailing: Mailing) -> list[MailingLink]:
    return list(
        db.session.scalars(
            select(MailingLink)
            .where(MailingLink.mailing_id == mailing.id)
            .order_by(MailingLink.position)
        )
    )


def _path(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def test_only_distinct_web_links_of_the_body_are_recorded_in_order() -> None:
    mailing, _ = _tracked()
    tracking.record_links(mailing)  # again, when a paused send starts again
    db.session.commit()
    assert [(link.position, link.url) for link in _links(mailing)] == [
        (1, "https://example.org/plan"),
        (2, "https://example.org/s?a=1&b=2"),
    ]


def test_link_for_counts_the_body_links_and_leaves_others_alone() -> None:
    mailing, copy = _tracked()
    plan = _links(mailing)[0]
    rewrite = tracking.link_for(mailing, copy.id)
    assert rewrite("https://example.org/plan") == click_url(copy.id, plan.id)
    assert rewrite("mailto:ppi@example.org") == "mailto:ppi@example.org"
    assert rewrite("https://elsewhere.example/") == "https://elsewhere.example/"

    untracked, other = _tracked(tracking_on=False)
    rewrite = tracking.link_for(untracked, other.id)
    assert rewrite("https://example.org/plan") == "https://example.org/plan"


def test_a_click_leads_to_the_link_and_counts_once_per_reader(
    client: FlaskClient,
) -> None:
    mailing, copy = _tracked()
    plan = _links(mailing)[0]
    path = _path(click_url(copy.id, plan.id))

    first = client.get(path)
    assert first.status_code == 302
    assert first.headers["Location"] == "https://example.org/plan"
    db.session.expire_all()
    clicked = _copy(mailing).clicked_at
    assert clicked is not None
    assert _copy(mailing).opened_at is not None  # a click shows it was opened

    assert client.get(path).status_code == 302
    db.session.expire_all()
    assert _links(mailing)[0].clicks == 2
    assert _copy(mailing).clicked_at == clicked  # the first click is kept


def test_no_open_redirect(client: FlaskClient) -> None:
    mailing, copy = _tracked()
    other_mailing, _other_copy = _tracked()
    theirs = _links(other_mailing)[0]
    token = recipient_token(copy.id)
    for path in (
        f"/m/{token}/l/{theirs.id}",  # another mailing's link
        f"/m/{token}/l/999999",
        f"/m/{token}/l/{2**64}",
        f"/m/{token}x/l/{_links(mailing)[0].id}",  # an altered token
        f"/m/{recipient_token(10**9)}/l/{_links(mailing)[0].id}",  # nobody's
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Location" not in response.headers
    # Whatever the query string says, a good link leads only to its own address.
    mine = _links(mailing)[0]
    response = client.get(f"/m/{token}/l/{mine.id}?next=https://evil.example/")
    assert response.headers["Location"] == "https://example.org/plan"
    db.session.expire_all()
    assert [link.clicks for link in _links(other_mailing)] == [0, 0]
    assert _copy(other_mailing).clicked_at is None


def test_tracking_off_records_nothing(client: FlaskClient) -> None:
    mailing, copy = _tracked(tracking_on=False)
    plan = _links(mailing)[0]
    token = recipient_token(copy.id)
    assert client.get(f"/m/{token}/l/{plan.id}").status_code == 302
    opened = client.get(f"/m/{token}/o.gif")
    assert opened.data == PIXEL
    db.session.expire_all()
    assert (_copy(mailing).opened_at, _copy(mailing).clicked_at) == (None, None)
    assert _links(mailing)[0].clicks == 0


def test_the_open_image_is_the_same_whatever_the_token(client: FlaskClient) -> None:
    mailing, copy = _tracked()
    good = client.get(f"/m/{recipient_token(copy.id)}/o.gif")
    bad = client.get("/m/not-a-token/o.gif")
    nobody = client.get(f"/m/{recipient_token(10**9)}/o.gif")
    for response in (good, bad, nobody):
        assert response.status_code == 200
        assert response.mimetype == "image/gif"
        assert response.data == PIXEL
    assert PIXEL.startswith(b"GIF89a")
    assert PIXEL[6:10] == b"\x01\x00\x01\x00"
    db.session.expire_all()
    assert _copy(mailing).opened_at is not None


def test_clicks_and_opens_are_rate_limited_per_client(
    client: FlaskClient, make_app: Any
) -> None:
    app = make_app(RATELIMIT_ENABLED=True)
    limited = app.test_client()
    codes = [limited.get("/m/bad/o.gif").status_code for _ in range(601)]
    assert codes[:600] == [200] * 600
    assert codes[600] == 429


def test_working_links_are_never_limited_only_bad_ones(
    client: FlaskClient, make_app: Any
) -> None:
    mailing, copy = _tracked()
    link = _links(mailing)[0]
    db.session.commit()
    limited = make_app(RATELIMIT_ENABLED=True).test_client()
    good = _path(click_url(copy.id, link.id))
    # A whole trust behind one address clicking the newsletter's link.
    assert {limited.get(good).status_code for _ in range(310)} == {302}
    bad = f"/m/not-a-token/l/{link.id}"
    assert {limited.get(bad).status_code for _ in range(300)} == {404}
    assert limited.get(bad).status_code == 429
    # Bad links used up the allowance; the working link still works.
    assert limited.get(good).status_code == 302
    assert limited.get(f"/m/{recipient_token(copy.id)}/o.gif").status_code == 200


def test_admins_turn_tracking_on_knowing_it_needs_consent(
    client: FlaskClient, login: Any, cast: dict[str, Any]
) -> None:
    assert organisation.mailing_tracking_on() is False
    login(cast["admin"])
    page = client.get("/admin/organisation").get_data(as_text=True)
    assert "Count opens and clicks of our mailings" in page
    assert "PECR" in page
    assert "consent" in page
    details = {
        "name": "NHS Westvale Integrated Care Board",
        "short_name": "Westvale ICB",
    }
    assert client.post("/admin/organisation", data=details).status_code == 302
    assert organisation.mailing_tracking_on() is False
    response = client.post(
        "/admin/organisation", data={**details, "mailing_tracking": "y"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Organisation, 1).mailing_tracking is True
    assert organisation.mailing_tracking_on() is True
    page = client.get("/admin/organisation").get_data(as_text=True)
    assert 'value="y" checked' in page
