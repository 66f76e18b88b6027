"""Answering at /s/<token>: the form, errors, CSRF expiry, one answer per invitation."""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func
from sqlalchemy import select

from engage.clock import today
from engage.extensions import db
from engage.surveys import distribution
from engage.surveys import findings
from engage.surveys import services
from engage.surveys.distribution import InviteCriteria
from engage.surveys.models import Invitation
from engage.surveys.models import QuestionKind
from engage.surveys.models import Response
from engage.surveys.models import SurveyStatus
from tests.surveys.helpers import NOW
from tests.surveys.helpers import form_data
from tests.surveys.helpers import make_member
from tests.surveys.helpers import make_survey
from tests.surveys.helpers import question


def _count() -> int:
    db.session.rollback()
    return int(db.session.scalar(select(func.count(Response.id))) or 0)


def _public(cast: dict[str, Any], **kwargs: Any) -> tuple[Any, str]:
    survey = make_survey(cast["officer"], **kwargs)
    token = services.set_public_link(survey, actor=cast["officer"], now=NOW)
    db.session.commit()
    return survey, token


def _invited(cast: dict[str, Any], outbox: Any, **kwargs: Any) -> tuple[Any, str]:
    make_member()
    survey = make_survey(cast["officer"], **kwargs)
    distribution.create_invitations(
        survey, InviteCriteria(), actor=cast["officer"], now=NOW
    )
    distribution.send_invitations(survey, actor=cast["officer"], now=NOW)
    db.session.commit()
    [mail] = outbox()
    match = re.search(r"/s/(\S+)", mail.body_text)
    assert match
    return survey, match.group(1)


def test_public_form_shows_every_question(
    cast: dict[str, Any], client: FlaskClient
) -> None:
    survey, token = _public(cast)
    html = client.get(f"/s/{token}").get_data(as_text=True)
    assert survey.title in html
    assert "Strongly disagree" in html
    assert "Very satisfied" in html
    assert 'inputmode="decimal"' in html
    assert "Your answers are anonymous" in html
    # Numbered as problems name them; optional ones say so.
    for position, asked in enumerate(survey.questions, start=1):
        assert f"{position}. {asked.text} (optional)" in html


def test_public_answer_is_stored_anonymously(
    cast: dict[str, Any], client: FlaskClient
) -> None:
    survey, token = _public(cast)
    response = client.post(
        f"/s/{token}",
        data=form_data(survey),
        headers={"User-Agent": "Tracker/1.0", "X-Forwarded-For": "203.0.113.9"},
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
        follow_redirects=True,
    )
    assert "Thank you" in response.get_data(as_text=True)
    row = db.session.execute(select(Response.__table__)).mappings().one()
    assert row["member_id"] is None
    assert row["tier"] is None
    assert row["entered_by_id"] is None
    assert row["source"] == "web"
    values = " ".join(str(v) for v in row.values())
    assert "198.51.100.7" not in values
    assert "203.0.113.9" not in values
    assert "Tracker" not in values
    assert db.session.scalars(select(Invitation)).all() == []


def test_reloading_the_thank_you_page_sends_nothing_again(
    cast: dict[str, Any], client: FlaskClient
) -> None:
    survey, token = _public(cast)
    sent = client.post(f"/s/{token}", data=form_data(survey))
    assert sent.status_code == 303
    assert sent.location.endswith(f"/s/{token}/thank-you")
    assert _count() == 1
    for _ in range(2):  # the page as a reload asks for it again
        page = client.get(sent.location)
        assert page.status_code == 200
        assert f'Your answers to "{survey.title}" have been sent' in (
            page.get_data(as_text=True)
        )
    assert _count() == 1
    assert client.get("/s/not-a-token/thank-you").status_code == 404


def test_errors_are_linked_and_answers_kept(
    cast: dict[str, Any], client: FlaskClient
) -> None:
    survey, token = _public(cast, required=True)
    data = form_data(survey)
    number = question(survey, QuestionKind.NUMBER)
    single = question(survey, QuestionKind.SINGLE_CHOICE)
    data[f"q{number.id}"] = "lots"
    del data[f"q{single.id}"]
    html = client.post(f"/s/{token}", data=data).get_data(as_text=True)
    assert "There is a problem" in html
    assert f'href="#q{number.id}"' in html
    assert f'href="#q{single.id}"' in html
    assert "Question 6: enter a number" in html
    assert "Question 1: select an answer" in html
    # The questions the problems name carry those numbers, and are not "optional".
    assert re.search(rf'for="q{number.id}">\s*6\. {re.escape(number.text)}\s*<', html)
    assert f"1. {single.text}" in html
    assert "(optional)" not in html
    assert 'value="lots"' in html
    assert 'value="Leeds"' in html
    assert "More evening appointments." in html
    assert _count() == 0


def test_a_long_answer_is_never_cut_without_a_word(
    cast: dict[str, Any], client: FlaskClient
) -> None:
    """The form says how long an answer may be and the browser is not told to cut
    it; one too long is refused, its words kept to shorten."""
    survey, token = _public(cast)
    long_text = question(survey, QuestionKind.LONG_TEXT)
    short_text = question(survey, QuestionKind.SHORT_TEXT)
    html = client.get(f"/s/{token}").get_data(as_text=True)
    assert "maxlength" not in html
    assert "Up to 10,000 characters." in html
    assert "Up to 500 characters." in html
    data = form_data(survey)
    pasted = "Evening appointments please. " * 400  # 11,600 characters
    data[f"q{long_text.id}"] = pasted
    html = client.post(f"/s/{token}", data=data).get_data(as_text=True)
    assert f'href="#q{long_text.id}"' in html
    assert f"Question {long_text.position}: use 10,000 characters or fewer" in html
    assert pasted.strip() in html
    assert f'href="#q{short_text.id}"' not in html
    assert _count() == 0


def test_expired_csrf_token_keeps_the_answers(
    app: Flask, cast: dict[str, Any], client: FlaskClient
) -> None:
    survey, token = _public(cast)
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post(
        f"/s/{token}", data={**form_data(survey), "csrf_token": "expired"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Your session expired before you sent your answers" in html
    assert 'value="Leeds"' in html
    assert _count() == 0
    fresh = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert fresh
    again = client.post(
        f"/s/{token}",
        data={**form_data(survey), "csrf_token": fresh.group(1)},
        follow_redirects=True,
    )
    assert "Thank you" in again.get_data(as_text=True)
    assert _count() == 1


def test_honeypot_stores_nothing(cast: dict[str, Any], client: FlaskClient) -> None:
    survey, token = _public(cast)
    response = client.post(
        f"/s/{token}",
        data={**form_data(survey), "website": "http://spam"},
        follow_redirects=True,
    )
    assert "Thank you" in response.get_data(as_text=True)
    assert _count() == 0


def test_closed_and_draft_surveys_refuse_answers(
    cast: dict[str, Any], client: FlaskClient
) -> None:
    survey, token = _public(cast)
    services.close_survey(survey, actor=cast["officer"], now=NOW)
    db.session.commit()
    response = client.post(f"/s/{token}", data=form_data(survey))
    assert response.status_code == 410
    assert "This survey has closed." in response.get_data(as_text=True)
    _draft, draft_token = _public(cast, status=SurveyStatus.DRAFT, title="Draft")
    page = client.get(f"/s/{draft_token}")
    assert "This survey is not open yet." in page.get_data(as_text=True)
    assert _count() == 0


def test_unknown_link_is_not_found(client: FlaskClient) -> None:
    assert client.get("/s/not-a-token").status_code == 404


def test_invitation_link_answers_once(
    cast: dict[str, Any], client: FlaskClient, outbox: Any
) -> None:
    survey, token = _invited(cast, outbox)
    page = client.get(f"/s/{token}").get_data(as_text=True)
    assert survey.title in page
    first = client.post(f"/s/{token}", data=form_data(survey), follow_redirects=True)
    assert "Thank you" in first.get_data(as_text=True)
    second = client.post(f"/s/{token}", data=form_data(survey))
    assert "You have already answered this survey" in second.get_data(as_text=True)
    again = client.get(f"/s/{token}")
    assert "You have already answered" in again.get_data(as_text=True)
    assert _count() == 1


def test_withdrawn_members_link_stops_working(
    cast: dict[str, Any], client: FlaskClient, outbox: Any
) -> None:
    from engage.membership.consent import withdraw_member
    from engage.membership.models import ConsentMethod
    from engage.membership.models import Member

    _survey, token = _invited(cast, outbox)
    member = db.session.scalars(select(Member)).one()
    withdraw_member(member, method=ConsentMethod.SELF_SERVICE, actor="member", now=NOW)
    db.session.commit()
    assert client.get(f"/s/{token}").status_code == 404


def test_concurrent_double_submit_gives_one_response(
    app: Flask, cast: dict[str, Any], outbox: Any
) -> None:
    survey, token = _invited(cast, outbox)
    data = form_data(survey)
    barrier = threading.Barrier(2)
    pages: list[str] = []

    def submit() -> None:
        client = FlaskClient(app)
        with app.app_context():
            barrier.wait()
            sent = client.post(f"/s/{token}", data=data, follow_redirects=True)
            pages.append(sent.get_data(as_text=True))
            db.session.remove()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert _count() == 1
    assert sum("have been sent" in p for p in pages) == 1
    assert sum("already answered" in p for p in pages) == 1


def test_answers_are_escaped_when_shown_again(
    cast: dict[str, Any], client: FlaskClient
) -> None:
    """docs/security.md C2: a text answer is shown as text when the form comes back."""
    survey, token = _public(cast, required=True)
    data = form_data(survey)
    text = question(survey, QuestionKind.SHORT_TEXT)
    data[f"q{text.id}"] = "</script><script>alert(1)</script>"
    del data[f"q{question(survey, QuestionKind.NUMBER).id}"]
    html = client.post(f"/s/{token}", data=data).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.parametrize("published", [True, False])
def test_you_said_we_did_page_shows_published_findings(
    cast: dict[str, Any], client: FlaskClient, published: bool
) -> None:
    survey = make_survey(cast["officer"])
    findings.save_finding(
        survey,
        None,
        findings.FindingData(
            theme="Opening hours",
            you_said="<b>Evenings</b> please",
            we_did="Added evening clinics",
            published=True,
        ),
        actor=cast["officer"],
        now=NOW,
    )
    findings.save_finding(
        survey,
        None,
        findings.FindingData(theme="Hidden theme", you_said="Draft", published=False),
        actor=cast["officer"],
        now=NOW,
    )
    findings.publish_findings(survey, published, actor=cast["officer"], now=NOW)
    db.session.commit()
    response = client.get(f"/surveys/{survey.id}/you-said-we-did")
    if not published:
        assert response.status_code == 404
        return
    html = response.get_data(as_text=True)
    assert "Opening hours" in html
    assert "&lt;b&gt;Evenings&lt;/b&gt; please" in html
    assert "Hidden theme" not in html


def test_public_answers_are_rate_limited(
    app: Flask, cast: dict[str, Any], client: FlaskClient
) -> None:
    app.config["SURVEY_ANSWER_LIMIT"] = "2 per hour"
    survey, token = _public(cast)
    codes = [
        client.post(f"/s/{token}", data=form_data(survey)).status_code for _ in range(3)
    ]
    assert codes == [303, 303, 429]


def test_answering_links_are_masked_in_logs() -> None:
    from engage.logs import mask_tokens

    line = '"POST /s/abc_DEF-123 HTTP/1.1" 200 -'
    assert mask_tokens(line) == '"POST /s/[token] HTTP/1.1" 200 -'
    assert mask_tokens("GET /surveys/3/invitations") == "GET /surveys/3/invitations"


def test_survey_not_yet_open_says_when_it_opens(
    cast: dict[str, Any], client: FlaskClient
) -> None:
    from datetime import date
    from datetime import timedelta

    survey, token = _public(cast)
    start = today() + timedelta(days=3)
    services.update_survey(
        survey,
        services.SurveyData(title=survey.title, opens_on=start),
        actor=cast["officer"],
        now=NOW,
    )
    db.session.commit()
    html = client.post(f"/s/{token}", data=form_data(survey)).get_data(as_text=True)
    assert f"This survey opens on {start:%-d %B %Y}." in html
    assert _count() == 0
    assert isinstance(start, date)


def test_named_survey_says_answers_are_linked(
    cast: dict[str, Any], client: FlaskClient, outbox: Any
) -> None:
    _survey, token = _invited(cast, outbox, anonymous=False)
    html = client.get(f"/s/{token}").get_data(as_text=True)
    assert "This survey is not anonymous" in html
