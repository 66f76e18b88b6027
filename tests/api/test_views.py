"""The JSON API: bearer tokens only, JSON errors, pagination, validation."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from engage.api.models import ApiToken
from engage.api.tokens import create_api_token
from engage.api.tokens import revoke_api_token
from engage.clock import utcnow
from engage.extensions import db
from tests import factories


def test_actions_list_with_pagination(client, bearer, plan) -> None:
    response = client.get("/api/v1/actions?limit=1&offset=0", headers=bearer)
    assert response.status_code == 200
    body = response.get_json()
    assert body["total"] == 1
    assert body["limit"] == 1
    assert body["offset"] == 0
    item = body["items"][0]
    assert item["title"] == "GP newsletter"
    assert item["audience_ids"] == sorted(a.id for a in plan["audiences"])
    assert item["programme_id"] == plan["programme"].id


def test_action_detail_has_deliveries_but_no_notes(client, bearer, plan) -> None:
    body = client.get(f"/api/v1/actions/{plan['action'].id}", headers=bearer).get_json()
    assert body["activities"][0]["figures"] == [{"label": "recipients", "value": 412}]
    assert "staff-only notes" not in str(body)


def test_audiences_list_and_detail(client, bearer, plan) -> None:
    body = client.get("/api/v1/audiences?approach=inform", headers=bearer).get_json()
    assert [a["name"] for a in body["items"]] == ["GPs", "Public"]
    gps = body["items"][0]
    assert gps["last_contact"] == "2026-01-04"
    detail = client.get(f"/api/v1/audiences/{gps['id']}", headers=bearer).get_json()
    assert detail["programme_approaches"] == []


def test_metrics_list_and_kind_filter(client, bearer, plan) -> None:
    body = client.get("/api/v1/metrics", headers=bearer).get_json()
    assert body["total"] == 1
    assert body["items"] == [
        {
            "key": "newsletter-readers",
            "name": "Newsletter readers",
            "unit": "readers",
            "stage": "output",
            "description": "",
            "kind": "flow",
            "higher_is_better": True,
            "target_value": 1000,
            "target_period": "month",
            "channel": plan["action"].channel.name,
            "action_id": None,
            "system": False,
        }
    ]
    levels = client.get("/api/v1/metrics?kind=level", headers=bearer).get_json()
    assert levels["items"] == []
    assert levels["total"] == 0


def test_metric_observations_by_date_range_source_and_page(
    client, bearer, plan
) -> None:
    url = "/api/v1/metrics/newsletter-readers"
    body = client.get(url, headers=bearer).get_json()
    assert body["key"] == "newsletter-readers"
    page = body["observations"]
    assert page["total"] == 4
    assert [(o["observed_on"], o["value"], o["source"]) for o in page["items"]] == [
        ("2026-01-01", 90.0, "import"),
        ("2026-01-01", 100.0, "manual"),
        ("2026-01-02", 120.5, "import"),
        ("2026-02-01", 130.0, "manual"),
    ]
    assert "staff-only observation note" not in str(body)
    january = client.get(
        url + "?start=2026-01-01&end=2026-01-31&source=import&limit=1&offset=1",
        headers=bearer,
    ).get_json()["observations"]
    assert january == {
        "items": [{"observed_on": "2026-01-02", "value": 120.5, "source": "import"}],
        "total": 2,
        "limit": 1,
        "offset": 1,
    }
    assert (
        client.get("/api/v1/metrics/no-such-metric", headers=bearer).status_code == 404
    )
    backwards = client.get(url + "?start=2026-02-01&end=2026-01-01", headers=bearer)
    assert backwards.status_code == 400
    assert backwards.get_json()["error"]["status"] == 400
    assert client.get(url + "?source=rumour", headers=bearer).status_code == 400


def test_summary_for_a_period(client, bearer, plan) -> None:
    response = client.get(
        f"/api/v1/summary?period=quarter&value=2026-Q1&programme_id={plan['programme'].id}",
        headers=bearer,
    )
    body = response.get_json()
    assert body["period"]["start"] == "2026-01-01"
    assert body["previous_period"]["value"] == "2025-Q4"
    figures = {f["key"]: f["value"] for s in body["sections"] for f in s["figures"]}
    assert figures["deliveries"] == 1
    assert figures["reach_recipients"] == 412
    assert "members_active" in figures
    assert "representativeness" not in [s["key"] for s in body["sections"]]


def test_surveys_list_leaves_out_drafts_and_a_draft_has_no_results(
    client, bearer
) -> None:
    from engage.surveys.models import SurveyStatus

    opened = factories.SurveyFactory(title="Access", status=SurveyStatus.OPEN)
    draft = factories.SurveyFactory(title="Not yet", status=SurveyStatus.DRAFT)
    body = client.get("/api/v1/surveys", headers=bearer).get_json()
    assert [s["title"] for s in body["items"]] == ["Access"]
    assert body["total"] == 1
    results = client.get(f"/api/v1/surveys/{opened.id}/results", headers=bearer)
    assert results.get_json()["shown"] is False  # no responses yet
    assert results.get_json()["respondents"] is None
    missing = client.get(f"/api/v1/surveys/{draft.id}/results", headers=bearer)
    assert missing.status_code == 404
    assert missing.get_json()["error"]["status"] == 404


@pytest.mark.parametrize(
    "query",
    [
        "/api/v1/actions?limit=0",
        "/api/v1/actions?limit=101",
        "/api/v1/actions?offset=-1",
        "/api/v1/actions?due_from=2026-02-30",
        "/api/v1/actions?due_to=tomorrow",
        "/api/v1/actions?status=overdue",
        "/api/v1/actions?overdue=maybe",
        "/api/v1/audiences?group=aliens",
        "/api/v1/summary?period=custom&start=2026-01-01",
        "/api/v1/summary?period=week",
        "/api/v1/summary?period=quarter&value=2026-Q9",
        "/api/v1/summary?programme_id=abc",
    ],
)
def test_bad_parameters_are_a_json_400(client, bearer, query: str) -> None:
    response = client.get(query, headers=bearer)
    assert response.status_code == 400
    assert response.mimetype == "application/json"
    assert response.get_json()["error"]["status"] == 400


def test_not_found_and_wrong_method_are_json(client, bearer) -> None:
    for url, status in [
        ("/api/v1/actions/999999", 404),
        ("/api/v1/nothing-here", 404),
        ("/api/v1/summary?programme_id=999", 404),
    ]:
        response = client.get(url, headers=bearer)
        assert response.status_code == status, url
        assert response.get_json()["error"]["status"] == status
    response = client.post("/api/v1/actions", headers=bearer)
    assert response.status_code == 405
    assert response.mimetype == "application/json"


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer nonsense", "Basic dXNlcjpwYXNz", "Bearer eng_" + "x" * 43],
)
def test_no_valid_token_is_a_json_401(client, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/v1/actions", headers=headers)
    assert response.status_code == 401
    assert response.mimetype == "application/json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Access-Control-Allow-Origin" not in response.headers


def test_a_session_cookie_is_not_enough(client, login, cast) -> None:
    login(cast["admin"])
    response = client.get("/api/v1/actions")
    assert response.status_code == 401
    assert "Set-Cookie" not in response.headers


def test_revoked_token_and_deactivated_user_are_refused(client, cast) -> None:
    record, secret = create_api_token(cast["officer"], name="t", now=utcnow())
    _, inactive_secret = create_api_token(cast["inactive"], name="t", now=utcnow())
    db.session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/actions", headers=headers).status_code == 200
    revoke_api_token(cast["officer"], record.id, now=utcnow())
    db.session.commit()
    assert client.get("/api/v1/actions", headers=headers).status_code == 401
    inactive = {"Authorization": f"Bearer {inactive_secret}"}
    assert client.get("/api/v1/actions", headers=inactive).status_code == 401


def test_tokens_are_stored_hashed_and_record_last_use(client, bearer, token) -> None:
    record = db.session.scalar(select(ApiToken))
    assert record is not None
    assert token not in record.token_hash
    assert len(record.token_hash) == 64
    assert record.last_used_at is None
    client.get("/api/v1/audiences", headers=bearer)
    db.session.refresh(record)
    assert record.last_used_at is not None


def test_account_page_creates_a_token_shown_once(client, login, cast) -> None:
    login(cast["lead"])
    response = client.post("/account/api-tokens", data={"name": "Power BI"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Copy this token now" in html
    secret = html.split('value="eng_', 1)[1].split('"', 1)[0]
    headers = {"Authorization": f"Bearer eng_{secret}"}
    assert client.get("/api/v1/actions", headers=headers).status_code == 200
    account = client.get("/account").get_data(as_text=True)
    assert "Power BI" in account
    assert secret not in account


def test_account_page_refuses_an_empty_name(client, login, cast) -> None:
    login(cast["lead"])
    response = client.post("/account/api-tokens", data={"name": "  "})
    assert response.status_code == 302
    assert db.session.scalar(select(ApiToken)) is None


def test_users_revoke_only_their_own_tokens(app, client, login, cast) -> None:
    record, _ = create_api_token(cast["admin"], name="admin's", now=utcnow())
    db.session.commit()
    login(cast["lead"])
    assert client.post(f"/account/api-tokens/{record.id}/revoke").status_code == 404
    db.session.refresh(record)
    assert record.revoked_at is None
    admin = app.test_client()
    # Admins have two-factor sign-in: sign_in completes the code step too.
    assert factories.sign_in(admin, cast["admin"]).status_code == 302
    assert admin.post(f"/account/api-tokens/{record.id}/revoke").status_code == 302
    db.session.refresh(record)
    assert record.revoked_at is not None


def test_openapi_document_lists_every_api_route(app, client) -> None:
    document: dict[str, Any] = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    routes = {
        re.sub(r"<\w+(\([^)]*\))?:(\w+)>", r"{\2}", rule.rule.removeprefix("/api/v1"))
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.") and rule.endpoint != "api.openapi"
    }
    assert routes == set(document["paths"])
