"""Each way a mistyped link or a tampered form once gave a 500 now gets an answer.

The walker (tests/test_walker.py) finds such requests; these pin the ones reported
from a probe of the running app, each as it was sent: a page is read, its form
filled in as the page would send it, then one value changed.
"""

from __future__ import annotations

import io
import re
from typing import Any

import openpyxl
import pytest
from flask.testing import FlaskClient
from sqlalchemy import func
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from engage.actions.models import Action
from engage.audiences.models import Audience
from engage.clock import utcnow
from engage.extensions import db
from engage.extensions import limiter
from engage.membership.self_service import request_manage_link
from engage.metrics.models import Metric
from engage.surveys.models import Survey
from engage.surveys.models import SurveyStatus
from tests import walker

HUGE = "99999999999999999999999"
#: Beyond PostgreSQL's integer, though SQLite stores it.
PG_HUGE = "2147483648"


def _form(client: FlaskClient, page: str, action: str) -> walker.Target:
    """The form on ``page`` whose address ends with ``action``."""
    response = client.get(page)
    assert response.status_code == 200, page
    _, forms = walker.read_page(response.get_data(as_text=True))
    for form_action, method, fields in forms:
        url = form_action or page
        if url.split("?")[0].endswith(action):
            fields.pop("csrf_token", None)
            return walker.Target(method, url, "", fields)
    raise AssertionError(f"no form for {action} on {page}")


def _send(
    client: FlaskClient, page: str, action: str, **changes: str | list[str]
) -> Any:
    """Send the form as the page would, with ``changes`` made."""
    target = _form(client, page, action)
    data: MultiDict[str, Any] = walker.valid_form(target)
    for name, value in changes.items():
        data.setlist(name, value if isinstance(value, list) else [value])
    return client.open(target.url, method=target.method, data=data)


def _ids(page: str) -> str:
    """``page`` with ``{action}``, ``{metric}`` and ``{audience}`` as the first
    demo ones."""
    return page.format(
        action=db.session.scalar(select(func.min(Action.id))),
        metric=db.session.scalar(select(func.min(Metric.id))),
        audience=db.session.scalar(select(func.min(Audience.id))),
    )


def _survey() -> Survey:
    return db.session.query(Survey).filter_by(status=SurveyStatus.OPEN).first()


def _refused(
    response: Any, status: int = 200, text: str = "There is a problem"
) -> bool:
    return response.status_code == status and text in response.get_data(as_text=True)


@pytest.mark.usefixtures("demo")
def test_join_answers_a_tampered_form_with_its_errors(client: FlaskClient) -> None:
    cases = [
        {"support_needs": "bogus"},
        {"topics": HUGE},
        {"topics": PG_HUGE},
        {"practice": HUGE},
        {"practice": PG_HUGE},
        {"tier": "\r\n"},
    ]
    limiter.enabled = False
    try:
        wrong = [
            changes
            for changes in cases
            if not _refused(_send(client, "/join", "/join", website="", **changes))
        ]
    finally:
        limiter.enabled = True
    assert wrong == []


@pytest.mark.usefixtures("demo")
def test_the_manage_page_answers_a_tampered_form_with_its_errors(
    client: FlaskClient, outbox: Any
) -> None:
    # The member's own page shares the join form's fields.
    request_manage_link("amira.khan@example.org", now=utcnow())
    db.session.commit()
    link = re.search(r"/membership/manage/[\w-]+", outbox()[-1].body_text)
    assert link is not None
    cases = [{"support_needs": "bogus"}, {"topics": HUGE}, {"practice": PG_HUGE}]
    wrong = [
        changes
        for changes in cases
        if not _refused(_send(client, link.group(0), link.group(0), **changes))
    ]
    assert wrong == []


FILTERS = (
    "/audiences/?group=abc",
    "/audiences/?approach=abc",
    "/actions/?status=%0D%0A",
    "/actions/?channel=%0D%0A",
    "/actions/?owner=%0D%0A",
    "/actions/?audience=%0D%0A",
    "/actions/?programme=%0D%0A",
    "/actions/?sort=%0D%0A",
    "/actions/?page=1e23",
    f"/actions/?page={HUGE}",
    f"/members/?practice={HUGE}",
    f"/members/?topic={HUGE}",
    f"/members/?page={HUGE}",
    f"/dashboard/?programme={HUGE}",
    "/dashboard/?programme=%0D%0A",
    f"/dashboard/board-report?programme={HUGE}",
    f"/feeds/mentions?feed={HUGE}",
    "/feeds/mentions?from=9999-12-31&to=0001-01-01",
    f"/feeds/mentions?from-day={HUGE}&from-month=1&from-year=2026",
    "/feeds/mentions?to-day=31&to-month=2&to-year=2026",
    "/actions/?due_from=2026-02-30",
    f"/actions/?due_from-day=1&due_from-month={HUGE}&due_from-year=2026",
    "/actions/?due_to-day=abc&due_to-month=%0D%0A&due_to-year=1e23",
    "/admin/audit/?date_from-day=1&date_from-month=1&date_from-year=99999",
    "/admin/audit/?date_to=0001-01-01",
    "/dashboard/?period=custom&start-day=31&start-month=4&start-year=2026",
    f"/dashboard/?period=custom&start=9999-12-31&end-year={HUGE}",
    "/map/?programme=%0D%0A",
    f"/admin/audit/?page={HUGE}",
    "/admin/audit/?actor=%0D%0A",
)


@pytest.mark.usefixtures("demo")
def test_a_filter_that_cannot_apply_shows_the_page(
    client: FlaskClient, login: Any, cast: dict[str, Any]
) -> None:
    login(cast["admin"])
    assert [url for url in FILTERS if client.get(url).status_code != 200] == []
    for path in (f"/actions/{HUGE}", f"/members/{PG_HUGE}/edit"):
        assert client.get(path).status_code == 404, path


#: A list page's filter with a value it cannot take: the page says so at the top.
SUMMED_UP = (
    "/actions/?status=nonsense",
    "/members/?tier=nonsense",
    "/audiences/?group=nonsense",
    "/relationships/interactions/?owner=nonsense",
    "/admin/audit/?actor=%0D%0A",
    "/feeds/mentions?to-day=31&to-month=2&to-year=2026",
)


@pytest.mark.parametrize("url", SUMMED_UP)
def test_a_filter_that_cannot_apply_is_summed_up_at_the_top(
    client: FlaskClient, login: Any, cast: dict[str, Any], url: str
) -> None:
    login(cast["admin"])
    response = client.get(url)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "nhsuk-error-summary" in page, url
    assert page.index("nhsuk-error-summary") < page.index("<h1")


STAFF_FORMS = (
    ("/audiences/new", "/audiences/new", {"owner_id": "\r\n"}),
    ("/actions/new", "/actions/new", {"audience_ids": ""}),
    ("/actions/new", "/actions/new", {"owner_ids": ""}),
    ("/actions/new", "/actions/new", {"objective_id": "\r\n"}),
    ("/actions/new", "/actions/new", {"programme_id": "\r\n"}),
    ("/actions/new", "/actions/new", {"status": "\r\n"}),
    # A required list sent only a line break: refused, not taken as no channel.
    ("/actions/new", "/actions/new", {"channel_id": "\r\n"}),
    ("/metrics/new", "/metrics/new", {"target_period": "\r\n"}),
    ("/metrics/new", "/metrics/new", {"channel_id": "\r\n"}),
    ("/metrics/new", "/metrics/new", {"action_id": "\r\n"}),
    ("/metrics/new", "/metrics/new", {"target_value": "NaN"}),
    # The three boxes of a date: missing, impossible, huge, out of range, not digits.
    ("/actions/new", "/actions/new", {"due_date-month": "", "due_date-day": "3"}),
    ("/actions/new", "/actions/new", {"due_date-day": "31", "due_date-month": "2"}),
    ("/actions/new", "/actions/new", {"due_date-day": HUGE, "due_date-month": "1"}),
    (
        "/actions/new",
        "/actions/new",
        {"start_date-year": "9999", "start_date-day": "3"},
    ),
    (
        "/actions/{action}/deliveries/new",
        "/deliveries/new",
        {"occurred_on-day": "1", "occurred_on-month": "1", "occurred_on-year": "1e23"},
    ),
    (
        "/actions/{action}/deliveries/new",
        "/deliveries/new",
        {"occurred_on-day": "½", "occurred_on-month": "١", "occurred_on-year": "2026"},
    ),
    ("/actions/{action}/deliveries/new", "/deliveries/new", {"audience_ids": ""}),
    (
        "/actions/{action}/deliveries/new",
        "/deliveries/new",
        {"figures-0-measure": "recipients", "figures-0-number": PG_HUGE},
    ),
    (
        "/actions/{action}/deliveries/new",
        "/deliveries/new",
        {"figures-0-measure": "recipients", "figures-0-number": "1e23"},
    ),
)


@pytest.mark.usefixtures("demo")
def test_a_tampered_staff_form_is_shown_again_with_its_errors(
    client: FlaskClient, login: Any, cast: dict[str, Any]
) -> None:
    login(cast["admin"])
    wrong = [
        (page, changes)
        for page, action, changes in STAFF_FORMS
        if not _refused(_send(client, _ids(page), action, **changes))
    ]
    assert wrong == []


@pytest.mark.usefixtures("demo")
def test_a_link_between_stakeholders_needs_a_kind_not_a_line_break(
    client: FlaskClient, login: Any, cast: dict[str, Any]
) -> None:
    login(cast["admin"])
    sent = _send(client, _ids("/audiences/{audience}"), "/links", kind="\r\n")
    assert _refused(sent, text="Choose how they are linked")


@pytest.mark.usefixtures("demo")
def test_an_observation_must_be_a_real_number(
    client: FlaskClient, login: Any, cast: dict[str, Any]
) -> None:
    login(cast["admin"])
    wrong = [
        value
        for value in ("NaN", "inf", "1e400", HUGE)
        if not _refused(
            _send(client, _ids("/metrics/{metric}"), "/observations", value=value),
            400,
            "Enter a number between",
        )
    ]
    assert wrong == []


@pytest.mark.usefixtures("demo")
def test_survey_forms_refuse_tampered_values(
    client: FlaskClient, login: Any, cast: dict[str, Any]
) -> None:
    login(cast["admin"])
    survey = _survey()
    invitations = f"/surveys/{survey.id}/invitations"
    for changes in ({"tier": "\r\n"}, {"support": "\r\n"}):
        # The page again, with the field's error.
        response = _send(client, invitations, "/invitations/new", **changes)
        assert _refused(response, 400, "Select one of the options shown"), changes
    typed_in = f"/surveys/{survey.id}/responses/new"
    for reference in (PG_HUGE, HUGE, "-1"):
        response = _send(client, typed_in, "/responses/new", invitation=reference)
        assert _refused(response, 200, "Enter the reference as a number"), reference


@pytest.mark.usefixtures("demo")
def test_the_board_report_workbook_names_sheets_after_any_caption(
    client: FlaskClient, login: Any, cast: dict[str, Any]
) -> None:
    # Captions hold survey questions ("How satisfied are you?"): "?" cannot name a
    # sheet in a workbook.
    login(cast["lead"])
    response = client.get("/dashboard/board-report.xlsx")
    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    assert all("?" not in name for name in workbook.sheetnames)
    assert len(set(workbook.sheetnames)) == len(workbook.sheetnames)


@pytest.mark.parametrize(
    "query",
    [
        "fmt=pdf",
        "_method=POST",
        "_external=1&_scheme=javascript",
        "survey_id=abc",
        "page=1&fmt=x&_anchor=y",
    ],
)
def test_links_that_carry_the_query_string_cannot_be_broken_by_it(
    client: FlaskClient, login: Any, cast: dict[str, Any], query: str
) -> None:
    from tests.surveys.results.helpers import make_survey

    survey = make_survey()
    login(cast["admin"])
    for address in ("/admin/audit/", f"/surveys/{survey.id}/results", "/actions/"):
        response = client.get(f"{address}?{query}")
        assert response.status_code == 200, address
        page = response.get_data(as_text=True)
        assert "javascript:" not in page
    audit = client.get(f"/admin/audit/?{query}").get_data(as_text=True)
    # The download keeps the page's own filters but never the query's route values.
    assert 'href="/admin/audit/export.csv' in audit
