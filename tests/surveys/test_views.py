"""Survey staff pages: the builder, invitations, post list, staff entry and findings."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from engage.audit.models import AuditEvent
from engage.clock import today
from engage.extensions import db
from engage.membership.models import ContactChannel
from engage.membership.models import Tier
from engage.surveys import distribution
from engage.surveys import services
from engage.surveys.distribution import InviteCriteria
from engage.surveys.models import Finding
from engage.surveys.models import Invitation
from engage.surveys.models import QuestionKind
from engage.surveys.models import Response
from engage.surveys.models import ResponseSource
from engage.surveys.models import Survey
from engage.surveys.models import SurveyStatus
from tests.surveys.helpers import ALL_KINDS
from tests.surveys.helpers import NOW
from tests.surveys.helpers import form_data
from tests.surveys.helpers import make_member
from tests.surveys.helpers import make_survey
from tests.surveys.helpers import make_topic


def _only_survey() -> Survey:
    db.session.rollback()
    return db.session.scalars(select(Survey)).one()


def test_officer_builds_a_survey_with_every_kind(
    cast: dict[str, Any], client: FlaskClient, login: Any
) -> None:
    login(cast["officer"])
    response = client.post(
        "/surveys/new",
        data={
            "title": "Urgent care",
            "introduction": "Tell us",
            "opens_on": "",
            "closes_on": "2099-12-31",
            "anonymous": "y",
        },
    )
    survey = _only_survey()
    assert response.headers["Location"].endswith(f"/surveys/{survey.id}")
    for kind, text, choices in ALL_KINDS:
        added = client.post(
            f"/surveys/{survey.id}/questions/new",
            data={
                "kind": kind.value,
                "text": text,
                "choices_text": "\n".join(choices),
                "required": "y",
                "min_value": "0" if kind is QuestionKind.NUMBER else "",
                "max_value": "50" if kind is QuestionKind.NUMBER else "",
            },
        )
        assert added.status_code == 302, added.get_data(as_text=True)
    survey = _only_survey()
    assert [q.kind for q in survey.questions] == [k for k, _, _ in ALL_KINDS]
    assert survey.questions[5].max_value == 50
    assert [c.label for c in survey.questions[1].choices] == ["A&E", "GP", "111"]
    first, second = survey.questions[0].id, survey.questions[1].id
    client.post(
        f"/surveys/{survey.id}/questions/{second}/move", data={"direction": "up"}
    )
    survey = _only_survey()
    assert [q.id for q in survey.questions[:2]] == [second, first]
    preview = client.get(f"/surveys/{survey.id}/preview").get_data(as_text=True)
    assert "Nothing you enter here is saved" in preview
    assert "Strongly agree" in preview
    client.post(f"/surveys/{survey.id}/open")
    assert _only_survey().status is SurveyStatus.OPEN


def test_choice_question_without_choices_shows_an_error(
    cast: dict[str, Any], client: FlaskClient, login: Any
) -> None:
    survey = make_survey(cast["officer"], status=SurveyStatus.DRAFT)
    login(cast["officer"])
    response = client.post(
        f"/surveys/{survey.id}/questions/new",
        data={"kind": "single_choice", "text": "Pick one", "choices_text": "Only"},
    )
    html = response.get_data(as_text=True)
    assert "Give at least two choices" in html
    assert 'href="#choices_text"' in html


def test_lead_can_read_but_not_change(
    cast: dict[str, Any], client: FlaskClient, login: Any
) -> None:
    survey = make_survey(cast["officer"])
    login(cast["lead"])
    page = client.get(f"/surveys/{survey.id}").get_data(as_text=True)
    assert survey.title in page
    assert "Close the survey" not in page
    assert client.post(f"/surveys/{survey.id}/close").status_code == 403


def test_edit_keeps_dates(
    cast: dict[str, Any], client: FlaskClient, login: Any
) -> None:
    survey = make_survey(cast["officer"], status=SurveyStatus.DRAFT)
    login(cast["officer"])
    client.post(
        f"/surveys/{survey.id}/edit",
        data={
            "title": "Renamed",
            # The date boxes as a person fills them in; a single ISO date (a
            # script, an old bookmark) is read too.
            "opens_on-day": "1",
            "opens_on-month": "07",
            "opens_on-year": "2099",
            "closes_on": "2099-07-31",
            "anonymous": "y",
        },
    )
    page = client.get(f"/surveys/{survey.id}/edit").get_data(as_text=True)
    assert 'value="Renamed"' in page
    shown = dict(
        re.findall(r'name="((?:opens|closes)_on-\w+)" type="text" value="(\w*)"', page)
    )
    assert shown == {
        "opens_on-day": "1",
        "opens_on-month": "7",
        "opens_on-year": "2099",
        "closes_on-day": "31",
        "closes_on-month": "7",
        "closes_on-year": "2099",
    }


def test_a_draft_cannot_be_given_a_closing_date_gone_by(
    cast: dict[str, Any], client: FlaskClient, login: Any
) -> None:
    """It could never be opened; a survey already opened may have closed."""
    login(cast["officer"])
    gone = (today() - timedelta(days=1)).isoformat()
    page = client.post(
        "/surveys/new", data={"title": "Late", "closes_on": gone}
    ).get_data(as_text=True)
    assert "The closing date must be today or later" in page
    assert db.session.scalars(select(Survey)).all() == []
    opened = make_survey(cast["officer"])  # open
    response = client.post(
        f"/surveys/{opened.id}/edit",
        data={"title": "Renamed after closing", "closes_on": gone},
    )
    assert response.status_code == 302


def test_duplicate_and_delete_draft(
    cast: dict[str, Any], client: FlaskClient, login: Any
) -> None:
    survey = make_survey(cast["officer"])
    survey_id = survey.id
    login(cast["officer"])
    response = client.post(f"/surveys/{survey_id}/duplicate")
    db.session.rollback()
    copy = db.session.scalars(select(Survey).where(Survey.id != survey_id)).one()
    assert response.headers["Location"].endswith(f"/surveys/{copy.id}")
    assert copy.title == f"Copy of {survey.title}"
    copy_id = copy.id
    client.post(f"/surveys/{copy_id}/delete")
    client.post(f"/surveys/{survey_id}/delete")  # open: refused
    db.session.rollback()
    db.session.expunge_all()
    assert list(db.session.scalars(select(Survey.id))) == [survey_id]


def test_the_public_link_and_its_qr_code_can_be_seen_again_and_replaced_on_purpose(
    cast: dict[str, Any], client: FlaskClient, login: Any
) -> None:
    survey = make_survey(cast["officer"])
    login(cast["officer"])
    page = client.get(f"/surveys/{survey.id}/public-link/new").get_data(as_text=True)
    assert "Make a public link?" in page
    made = client.post(f"/surveys/{survey.id}/public-link")
    assert made.headers["Location"] == f"/surveys/{survey.id}/public-link"

    def shown() -> str:
        html = client.get(f"/surveys/{survey.id}/public-link").get_data(as_text=True)
        match = re.search(r'value="http://engage.test/s/([\w-]+)"', html)
        assert match, html
        return match.group(1)

    first = shown()
    assert shown() == first  # seen again, as often as needed
    assert client.get(f"/s/{first}").status_code == 200
    png = client.get(f"/surveys/{survey.id}/public-link/qr.png")
    assert png.mimetype == "image/png"
    assert png.data.startswith(b"\x89PNG")
    svg = client.get(f"/surveys/{survey.id}/public-link/qr.svg")
    assert svg.mimetype == "image/svg+xml"
    assert b"<svg" in svg.data

    # Replacing it is a separate, confirmed step that says the old link will stop.
    confirm = client.get(f"/surveys/{survey.id}/public-link/new").get_data(as_text=True)
    assert "The current link will stop working" in confirm
    assert f"http://engage.test/s/{first}" in confirm
    client.post(f"/surveys/{survey.id}/public-link")
    second = shown()
    assert second != first
    assert client.get(f"/s/{first}").status_code == 404
    assert client.get(f"/s/{second}").status_code == 200

    client.post(f"/surveys/{survey.id}/public-link/remove")
    assert client.get(f"/s/{second}").status_code == 404
    assert client.get(f"/surveys/{survey.id}/public-link/qr.png").status_code == 404
    assert "This survey has no public link." in client.get(
        f"/surveys/{survey.id}/public-link"
    ).get_data(as_text=True)


def test_invite_check_then_confirm_then_send(
    cast: dict[str, Any], client: FlaskClient, login: Any, outbox: Any
) -> None:
    topic = make_topic()
    make_member("Sam", "sam@example.org", topics=[topic])
    make_member("Gil", "gil@example.org", tier=Tier.GOLD, topics=[topic])
    survey = make_survey(cast["officer"])
    login(cast["officer"])
    criteria = {"tier": "silver", "topic": str(topic.id), "practice": "", "support": ""}
    check = client.post(f"/surveys/{survey.id}/invitations/new", data=criteria)
    assert "Invite 1 members" in check.get_data(as_text=True)
    assert db.session.scalars(select(Invitation)).all() == []
    client.post(
        f"/surveys/{survey.id}/invitations/new", data={**criteria, "confirm": "yes"}
    )
    page = client.get(f"/surveys/{survey.id}/invitations").get_data(as_text=True)
    assert "0 of 1 sent" in page
    sent = client.post(f"/surveys/{survey.id}/invitations/send")
    assert "1 of 1 sent" in sent.get_data(as_text=True)
    assert [m.to_address for m in outbox()] == ["sam@example.org"]


def test_remind_button_sends_reminders(
    cast: dict[str, Any], client: FlaskClient, login: Any, outbox: Any
) -> None:
    make_member()
    survey = make_survey(cast["officer"])
    distribution.create_invitations(
        survey, InviteCriteria(), actor=cast["officer"], now=NOW
    )
    distribution.send_invitations(survey, actor=cast["officer"], now=NOW)
    db.session.commit()
    login(cast["officer"])
    page = client.post(f"/surveys/{survey.id}/invitations/remind", data={"after": "0"})
    assert "1 reminders sent in this batch" in page.get_data(as_text=True)
    assert [m.subject for m in outbox()][-1].startswith("Reminder")


def test_post_list_page_escapes_names_and_download_is_audited(
    cast: dict[str, Any], client: FlaskClient, login: Any
) -> None:
    """docs/security.md C1 on a page this package owns."""
    make_member(
        "<script>alert(1)</script>",
        None,
        consents=(ContactChannel.POST,),
        address='"><svg onload=alert(1)>',
        postcode="LS1 4AP",
    )
    survey = make_survey(cast["officer"])
    distribution.create_invitations(
        survey, InviteCriteria(), actor=cast["officer"], now=NOW
    )
    db.session.commit()
    login(cast["officer"])
    html = client.get(f"/surveys/{survey.id}/post-list").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<svg onload" not in html
    download = client.get(f"/surveys/{survey.id}/post-list.xlsx")
    assert download.headers["Cache-Control"] == "no-store"
    assert "attachment" in download.headers["Content-Disposition"]
    db.session.rollback()
    assert db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "export")
    ).all()


#: The day the helpers' surveys are set up: a day a paper response may come in.
SET_UP_DAY = NOW.date().isoformat()


def test_staff_enter_a_paper_response(
    cast: dict[str, Any], client: FlaskClient, login: Any
) -> None:
    survey = make_survey(cast["officer"])
    login(cast["officer"])
    assert client.get(f"/surveys/{survey.id}/responses/new").status_code == 200
    response = client.post(
        f"/surveys/{survey.id}/responses/new",
        data={**form_data(survey), "source": "paper", "submitted_on": SET_UP_DAY},
    )
    assert response.status_code == 302
    db.session.rollback()
    stored = db.session.scalars(select(Response)).one()
    assert stored.source is ResponseSource.PAPER
    assert stored.entered_by_id == cast["officer"].id
    assert db.session.scalars(
        select(AuditEvent).where(AuditEvent.entity_type == "survey_response")
    ).one()


def test_identical_paper_responses_are_each_saved(
    cast: dict[str, Any], client: FlaskClient, login: Any
) -> None:
    """Many paper forms say the same: each one entered is a response of its own."""
    survey = make_survey(cast["officer"])
    login(cast["officer"])
    data = {**form_data(survey), "source": "paper", "submitted_on": SET_UP_DAY}
    for _ in range(3):
        sent = client.post(f"/surveys/{survey.id}/responses/new", data=data)
        assert sent.status_code == 302
    db.session.rollback()
    assert len(db.session.scalars(select(Response)).all()) == 3


def test_staff_entry_refuses_a_day_still_to_come(
    cast: dict[str, Any], client: FlaskClient, login: Any
) -> None:
    survey = make_survey(cast["officer"])
    login(cast["officer"])
    day = (today() + timedelta(days=1)).isoformat()
    problem = "The date received cannot be in the future"
    response = client.post(
        f"/surveys/{survey.id}/responses/new",
        data={**form_data(survey), "source": "paper", "submitted_on": day},
    )
    html = response.get_data(as_text=True)
    summary = html.split('class="nhsuk-error-summary"')[1].split("</div>")[0]
    assert problem in summary
    assert 'href="#submitted_on' in summary
    assert 'value="Leeds"' in html  # the answers are kept
    db.session.rollback()
    assert db.session.scalars(select(Response)).all() == []


def test_staff_entry_needs_a_source(
    cast: dict[str, Any], client: FlaskClient, login: Any
) -> None:
    survey = make_survey(cast["officer"])
    login(cast["officer"])
    html = client.post(
        f"/surveys/{survey.id}/responses/new",
        data={**form_data(survey), "submitted_on": SET_UP_DAY},
    ).get_data(as_text=True)
    assert "Choose paper or phone" in html
    assert 'value="Leeds"' in html


def test_findings_link_actions_and_escape_text(
    cast: dict[str, Any], client: FlaskClient, login: Any, outbox: Any
) -> None:
    from tests.factories import ActionFactory

    action = ActionFactory(title="Evening clinics pilot")
    survey = make_survey(cast["officer"])
    login(cast["officer"])
    client.post(
        f"/surveys/{survey.id}/findings/new",
        data={
            "theme": "Opening hours",
            "question": str(survey.questions[0].id),
            "you_said": "<img src=x onerror=alert(1)> evenings",
            "we_did": "Piloting evening clinics",
            "actions": [str(action.id)],
            "published": "y",
        },
    )
    db.session.rollback()
    finding = db.session.scalars(select(Finding)).one()
    assert [a.id for a in finding.actions] == [action.id]
    html = client.get(f"/surveys/{survey.id}/findings").get_data(as_text=True)
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt; evenings" in html
    assert "Evening clinics pilot" in html
    client.post(f"/surveys/{survey.id}/findings/publish", data={"published": "yes"})
    public = client.get(f"/surveys/{survey.id}/you-said-we-did")
    assert "Piloting evening clinics" in public.get_data(as_text=True)
    client.post(f"/surveys/{survey.id}/findings/tell")
    db.session.rollback()
    assert db.session.get(Survey, survey.id).results_published


def test_surveys_in_navigation_for_leads(
    cast: dict[str, Any], client: FlaskClient, login: Any
) -> None:
    login(cast["lead"])
    html = client.get("/surveys/").get_data(as_text=True)
    assert 'href="/surveys/"' in html
    assert "Create a survey" not in html


def test_closing_from_the_page(
    cast: dict[str, Any], client: FlaskClient, login: Any
) -> None:
    survey = make_survey(cast["officer"])
    login(cast["officer"])
    client.post(f"/surveys/{survey.id}/close")
    db.session.rollback()
    assert db.session.get(Survey, survey.id).status is SurveyStatus.CLOSED
    assert services.count_responses(survey) == 0
