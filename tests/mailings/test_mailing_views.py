"""Mailing pages for staff: compose, edit, preview, test send, publish, templates."""

from __future__ import annotations

from datetime import date

from flask.testing import FlaskClient
from sqlalchemy import select

from engage.audit.models import AuditEvent
from engage.clock import utcnow
from engage.extensions import db
from engage.mailings import services
from engage.mailings.models import Mailing
from engage.mailings.models import MailingStatus
from engage.mailings.models import MailingTemplate
from engage.membership.models import SupportNeed
from engage.membership.models import Tier
from tests.factories import ActionFactory
from tests.factories import AudienceFactory
from tests.factories import TopicFactory

FORM = {
    "subject": "Spring newsletter",
    "body": "## News\n\nHello [members](https://www.example.nhs.uk).",
    "channels": ["email", "post"],
    "to_members": "yes",
}


def _mailing(**values: object) -> Mailing:
    mailing = Mailing(
        subject=values.pop("subject", "March bulletin"),
        body=values.pop("body", "# Hello\n\nSome news."),
        created_at=utcnow(),
        updated_at=utcnow(),
        **values,
    )
    db.session.add(mailing)
    db.session.commit()
    return mailing


def _audit(action: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.entity_type == "mailing", AuditEvent.action == action
            )
        )
    )


def test_officer_composes_a_mailing(client: FlaskClient, login, cast) -> None:
    topic = TopicFactory(name="Cancer")
    action = ActionFactory(title="Monthly PPI newsletter")
    audience = AudienceFactory(name="Voluntary sector")
    AudienceFactory(name="Old partners", archived_at=utcnow())
    login(cast["officer"])
    page = client.get("/mailings/new").get_data(as_text=True)
    assert "Voluntary sector" in page
    assert "Old partners" not in page
    response = client.post(
        "/mailings/new",
        data={
            **FORM,
            "action_id": str(action.id),
            "tier": "gold",
            "topic_id": str(topic.id),
            "support_need": "large_print",
            "joined_from-day": "1",
            "joined_from-month": "1",
            "joined_from-year": "2025",
            "audience_ids": [str(audience.id)],
        },
    )
    assert response.status_code == 302
    mailing = db.session.scalars(select(Mailing)).one()
    assert response.headers["Location"] == f"/mailings/{mailing.id}"
    assert mailing.status is MailingStatus.DRAFT
    assert (mailing.by_email, mailing.by_sms, mailing.by_post) == (True, False, True)
    assert mailing.tier is Tier.GOLD
    assert mailing.support_need is SupportNeed.LARGE_PRINT
    assert mailing.joined_from == date(2025, 1, 1)
    assert mailing.action_id == action.id
    assert [a.name for a in mailing.audiences] == ["Voluntary sector"]
    assert mailing.created_by_id == cast["officer"].id
    assert len(_audit("create")) == 1
    detail = client.get(f"/mailings/{mailing.id}").get_data(as_text=True)
    assert "PPI members in the Gold tier, interested in Cancer" in detail
    assert "who joined on or after 1 January 2025" in detail
    assert "The contacts of these stakeholder audiences: Voluntary sector" in detail
    assert "Email, Letter" in detail  # as the form offers it
    assert f"/mailings/{mailing.id}/preview" in detail
    assert f"/mailings/{mailing.id}/edit" in detail
    assert "Monthly PPI newsletter" in detail


def test_the_form_refuses_what_cannot_be_sent(client: FlaskClient, login, cast) -> None:
    login(cast["officer"])
    page = client.post(
        "/mailings/new",
        data={
            "subject": "No way to send",
            "body": "Look:\n\n![](https://www.example.nhs.uk/a.png)",
            "sms_text": "x" * 613,
            "to_members": "no",
            "tier": "platinum",
            "joined_from-day": "1",
            "joined_from-month": "2",
            "joined_from-year": "2025",
            "joined_to-day": "1",
            "joined_to-month": "1",
            "joined_to-year": "2025",
        },
    ).get_data(as_text=True)
    assert "The image at line 3 needs a description (alt text)" in page
    assert "Choose at least one way to send it" in page
    assert "Choose at least one audience, or send it to PPI members" in page
    assert "Select one of the options shown" in page
    assert "The last join date must be the same as or after the first" in page
    assert "612 characters" in page
    assert db.session.scalars(select(Mailing)).all() == []


def test_a_template_starts_a_mailing(client: FlaskClient, login, cast) -> None:
    template = MailingTemplate(
        name="GP bulletin",
        subject="GP bulletin",
        body="# Action needed\n\n- One",
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    db.session.add(template)
    db.session.commit()
    login(cast["officer"])
    page = client.get("/mailings/new").get_data(as_text=True)
    assert f"/mailings/new?template={template.id}" in page
    page = client.get(f"/mailings/new?template={template.id}").get_data(as_text=True)
    assert "# Action needed" in page
    assert "Started from the template" in page
    for bad in ("abc", "0", "-1", "99999999999", "1e3", str(template.id + 1)):
        assert client.get(f"/mailings/new?template={bad}").status_code == 404
    client.post(f"/mailings/new?template={template.id}", data=FORM)
    assert db.session.scalars(select(Mailing)).one().template_id == template.id


def test_only_drafts_and_scheduled_mailings_change(
    client: FlaskClient, login, cast
) -> None:
    draft = _mailing()
    sent = _mailing(subject="Sent already", status=MailingStatus.SENT)
    login(cast["officer"])
    response = client.post(f"/mailings/{draft.id}/edit", data=FORM)
    assert response.status_code == 302
    db.session.refresh(draft)
    assert draft.subject == "Spring newsletter"
    assert "changed subject, body" in _audit("update")[0].summary
    assert client.get(f"/mailings/{draft.id}/edit").status_code == 200

    response = client.post(f"/mailings/{sent.id}/edit", data=FORM)
    assert response.headers["Location"] == f"/mailings/{sent.id}"
    db.session.refresh(sent)
    assert sent.subject == "Sent already"
    detail = client.get(f"/mailings/{sent.id}").get_data(as_text=True)
    assert f"/mailings/{sent.id}/edit" not in detail
    assert "can no longer change" in detail


def test_preview_shows_phone_and_desktop_frames_and_the_text(
    client: FlaskClient, login, cast
) -> None:
    mailing = _mailing(body="# Hello\n\nSee [our site](https://www.example.nhs.uk).")
    login(cast["officer"])
    page = client.get(f"/mailings/{mailing.id}/preview").get_data(as_text=True)
    frame = f"/mailings/{mailing.id}/preview/email"
    title = "The email as it looks on a computer"
    assert f'<iframe src="{frame}" title="{title}" width="600"' in page
    assert 'width="360"' in page
    assert "<pre>" in page
    assert "See our site (https://www.example.nhs.uk)" in page
    response = client.get(frame)
    assert response.mimetype == "text/html"
    body = response.get_data(as_text=True)
    assert body.startswith("<!DOCTYPE html>")
    assert "<h1" in body
    assert "nhsuk" not in body  # the email alone, not Engage's page
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in policy
    assert "default-src 'none'" in policy
    assert "script-src" not in policy
    assert "sandbox" in policy
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    # Engage's own pages still refuse every frame.
    assert client.get(f"/mailings/{mailing.id}").headers["X-Frame-Options"] == "DENY"


def test_test_send_goes_to_the_signed_in_person(
    client: FlaskClient, login, cast, outbox
) -> None:
    mailing = _mailing(subject="April news")
    login(cast["officer"])
    response = client.post(f"/mailings/{mailing.id}/test-send", follow_redirects=True)
    address = cast["officer"].email
    # No mail server here: it is kept, and the page does not say it was sent.
    page = response.get_data(as_text=True)
    assert "No mail server is set up, so the test email was not sent" in page
    assert "Test email sent" not in page
    assert "Success" not in page
    [message] = outbox()
    assert message.to_address == address
    assert message.subject == "Test: April news"
    assert message.body_html is not None
    assert "<h1" in message.body_html
    # The renderer writes the footer once, inside the email's own layout.
    assert message.body_html.rstrip().endswith("</html>")
    assert message.body_text.count("You are getting this email because") == 1
    assert len(_audit("test_send")) == 1


def test_test_send_refuses_a_body_with_problems(
    client: FlaskClient, login, cast, outbox
) -> None:
    mailing = _mailing(body="![](https://www.example.nhs.uk/a.png)")
    login(cast["officer"])
    page = client.post(
        f"/mailings/{mailing.id}/test-send", follow_redirects=True
    ).get_data(as_text=True)
    assert "The test email was not sent: The image at line 1 needs" in page
    assert outbox() == []


def test_publishing_gives_a_random_slug_once(client: FlaskClient, login, cast) -> None:
    mailing = _mailing()
    login(cast["officer"])
    client.post(f"/mailings/{mailing.id}/publish")
    db.session.refresh(mailing)
    slug = mailing.archive_slug
    assert slug is not None
    assert len(slug) == 16
    assert str(mailing.id) != slug
    assert mailing.published_at is not None
    assert len(_audit("publish_mailing")) == 1
    page = client.post(
        f"/mailings/{mailing.id}/publish", follow_redirects=True
    ).get_data(as_text=True)
    assert "Not published: This mailing is already published." in page
    db.session.refresh(mailing)
    assert mailing.archive_slug == slug
    other = _mailing(subject="Another")
    assert services.publish(other, actor="system", now=utcnow()) != slug


def test_taking_a_newsletter_off_the_web_and_back(
    client: FlaskClient, login, cast
) -> None:
    mailing = _mailing()
    login(cast["officer"])
    client.post(f"/mailings/{mailing.id}/publish")
    db.session.refresh(mailing)
    slug = mailing.archive_slug
    assert client.get(f"/newsletters/{slug}").status_code == 200
    page = client.post(
        f"/mailings/{mailing.id}/unpublish", follow_redirects=True
    ).get_data(as_text=True)
    assert "Taken down" in page
    assert client.get(f"/newsletters/{slug}").status_code == 404
    assert mailing.subject not in client.get("/newsletters/").get_data(as_text=True)
    assert len(_audit("unpublish_mailing")) == 1
    client.post(f"/mailings/{mailing.id}/publish")
    assert client.get(f"/newsletters/{slug}").status_code == 200  # the same address


def test_templates_are_listed_added_edited_and_deleted(
    client: FlaskClient, login, cast
) -> None:
    login(cast["officer"])
    response = client.post(
        "/mailings/templates/new",
        data={"name": "PPI newsletter", "subject": "Your news", "body": "# News"},
    )
    assert response.headers["Location"] == "/mailings/templates"
    template = db.session.scalars(select(MailingTemplate)).one()
    assert "PPI newsletter" in client.get("/mailings/templates").get_data(as_text=True)
    page = client.post(
        "/mailings/templates/new", data={"name": "PPI newsletter", "body": ""}
    ).get_data(as_text=True)
    assert "A template with that name already exists." in page
    page = client.post(
        f"/mailings/templates/{template.id}/edit",
        data={"name": "PPI newsletter", "body": "![](https://x.example/a.png)"},
    ).get_data(as_text=True)
    assert "needs a description (alt text)" in page
    client.post(
        f"/mailings/templates/{template.id}/edit",
        data={"name": "PPI monthly", "subject": "Your news", "body": "## Hi"},
    )
    db.session.refresh(template)
    assert (template.name, template.body) == ("PPI monthly", "## Hi")
    # Deleting asks first; nothing goes until the answer is yes.
    ask = client.get(f"/mailings/templates/{template.id}/delete")
    assert "Delete the template PPI monthly?" in ask.get_data(as_text=True)
    assert db.session.scalars(select(MailingTemplate)).all() == [template]
    client.post(f"/mailings/templates/{template.id}/delete")
    assert db.session.scalars(select(MailingTemplate)).all() == []


def test_leads_cannot_compose(client: FlaskClient, login, cast) -> None:
    mailing = _mailing()
    login(cast["lead"])
    assert client.get("/mailings/new").status_code == 403
    assert client.get(f"/mailings/{mailing.id}/preview/email").status_code == 403
    assert client.post(f"/mailings/{mailing.id}/publish").status_code == 403


def test_hostile_values_are_refused_not_errors(
    client: FlaskClient, login, cast
) -> None:
    mailing = _mailing()
    login(cast["officer"])
    hostile = {
        "channels": ["bogus", "", "phone"],
        "to_members": "maybe",
        "action_id": "99999999999",
        "topic_id": "1e3",
        "practice_id": "-1",
        "support_need": "\r\n",
        "audience_ids": ["2147483648", "abc"],
        "joined_from-day": "31",
        "joined_from-month": "2",
        "joined_from-year": "2025",
        "joined_to": "not-a-date",
    }
    for name, value in hostile.items():
        response = client.post(
            f"/mailings/{mailing.id}/edit", data={**FORM, name: value}
        )
        assert response.status_code == 200, name
        assert "There is a problem" in response.get_data(as_text=True), name
    # An audience or action that no longer exists, sent as if offered: refused.
    response = client.post(
        f"/mailings/{mailing.id}/edit", data={**FORM, "audience_ids": ["424242"]}
    )
    assert response.status_code == 200
    db.session.refresh(mailing)
    assert mailing.subject == "March bulletin"
