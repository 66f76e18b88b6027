"""The API's interactions and commitments: fields without personal data, filters."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from engage.clock import today
from engage.extensions import db
from engage.relationships.models import CommitmentStatus
from engage.relationships.models import InteractionKind
from engage.relationships.models import InteractionStatus
from engage.relationships.models import Sentiment
from tests import factories

INTERACTION_KEYS = {
    "id",
    "date",
    "kind",
    "direction",
    "audiences",
    "themes",
    "sentiment",
    "commitment_ids",
}
COMMITMENT_KEYS = {
    "id",
    "audience",
    "due_date",
    "status",
    "closed_date",
    "interaction_id",
}


@pytest.fixture
def log(cast: dict[str, Any]) -> dict[str, Any]:
    day = today()
    council = factories.AudienceFactory(name="Northshire County Council")
    mps = factories.AudienceFactory(name="Members of Parliament")
    grant = factories.ContactFactory(
        audience=council, name="Cllr Zebulon Grant", email="zebulon@council.example"
    )
    stroke = factories.ThemeFactory(name="Stroke services review")
    meeting = factories.InteractionFactory(
        kind=InteractionKind.MEETING,
        occurred_on=day - timedelta(days=20),
        subject="Briefing for Cllr Zebulon Grant",
        summary="Zebulon was worried about the stroke unit.",
        sentiment=Sentiment.NEGATIVE,
        audiences=[council, mps],
        contacts=[grant],
        themes=[stroke],
        staff=[cast["officer"]],
        owner=cast["officer"],
    )
    call = factories.InteractionFactory(
        kind=InteractionKind.CALL,
        occurred_on=day - timedelta(days=2),
        audiences=[mps],
        sentiment=Sentiment.POSITIVE,
    )
    factories.InteractionFactory(
        occurred_on=day - timedelta(days=1),
        audiences=[council],
        status=InteractionStatus.DRAFT,
        sentiment=None,
    )
    promise = factories.CommitmentFactory(
        description="Send Zebulon the papers",
        audience=council,
        owner=cast["officer"],
        due_on=day - timedelta(days=3),
        interaction=meeting,
    )
    done = factories.CommitmentFactory(
        audience=mps,
        due_on=day + timedelta(days=10),
        status=CommitmentStatus.DONE,
        closed_on=day,
    )
    db.session.commit()
    return {
        "council": council,
        "mps": mps,
        "meeting": meeting,
        "call": call,
        "promise": promise,
        "done": done,
        "officer": cast["officer"],
    }


def test_interactions_give_confirmed_ones_without_personal_data(
    client: Any, bearer: dict[str, str], log: dict[str, Any]
) -> None:
    response = client.get("/api/v1/interactions", headers=bearer)
    assert response.status_code == 200
    body = response.get_json()
    assert body["total"] == 2  # not the draft
    assert [i["id"] for i in body["items"]] == [log["call"].id, log["meeting"].id]
    meeting = body["items"][1]
    assert set(meeting) == INTERACTION_KEYS
    assert meeting == {
        "id": log["meeting"].id,
        "date": (today() - timedelta(days=20)).isoformat(),
        "kind": "meeting",
        "direction": "outbound",
        "audiences": [
            {"id": log["mps"].id, "name": "Members of Parliament"},
            {"id": log["council"].id, "name": "Northshire County Council"},
        ],
        "themes": ["Stroke services review"],
        "sentiment": "negative",
        "commitment_ids": [log["promise"].id],
    }
    text = response.get_data(as_text=True)
    assert "Zebulon" not in text
    assert "zebulon@" not in text
    assert log["officer"].name not in text
    assert log["officer"].email not in text


def test_interaction_filters(
    client: Any, bearer: dict[str, str], log: dict[str, Any]
) -> None:
    def ids(query: str) -> list[int]:
        response = client.get("/api/v1/interactions?" + query, headers=bearer)
        assert response.status_code == 200, response.get_json()
        return [i["id"] for i in response.get_json()["items"]]

    assert ids(f"audience_id={log['council'].id}") == [log["meeting"].id]
    assert ids(f"audience_id={log['mps'].id}") == [log["call"].id, log["meeting"].id]
    week_ago = (today() - timedelta(days=7)).isoformat()
    assert ids(f"since={week_ago}") == [log["call"].id]
    assert ids(f"until={week_ago}") == [log["meeting"].id]
    assert ids("audience_id=999999") == []
    assert ids("limit=1&offset=1") == [log["meeting"].id]


def test_commitments_give_no_description_or_owner(
    client: Any, bearer: dict[str, str], log: dict[str, Any]
) -> None:
    response = client.get("/api/v1/commitments", headers=bearer)
    assert response.status_code == 200
    body = response.get_json()
    assert body["total"] == 2
    first = body["items"][0]
    assert set(first) == COMMITMENT_KEYS
    assert first == {
        "id": log["promise"].id,
        "audience": {"id": log["council"].id, "name": "Northshire County Council"},
        "due_date": (today() - timedelta(days=3)).isoformat(),
        "status": "open",
        "closed_date": None,
        "interaction_id": log["meeting"].id,
    }
    assert body["items"][1]["closed_date"] == today().isoformat()
    text = response.get_data(as_text=True)
    assert "Zebulon" not in text
    assert log["officer"].name not in text


def test_commitment_filters(
    client: Any, bearer: dict[str, str], log: dict[str, Any]
) -> None:
    def ids(query: str) -> list[int]:
        response = client.get("/api/v1/commitments?" + query, headers=bearer)
        assert response.status_code == 200, response.get_json()
        return [i["id"] for i in response.get_json()["items"]]

    assert ids(f"audience_id={log['mps'].id}") == [log["done"].id]
    assert ids("status=open") == [log["promise"].id]
    assert ids(f"since={today().isoformat()}") == [log["done"].id]
    assert ids(f"until={today().isoformat()}") == [log["promise"].id]


@pytest.mark.parametrize("path", ["/api/v1/interactions", "/api/v1/commitments"])
@pytest.mark.parametrize(
    "query",
    [
        "audience_id=abc",
        "audience_id=0",
        "audience_id=-1",
        "audience_id=99999999999999999999",
        "since=yesterday",
        "until=2026-13-01",
        "since=2026-05-01&until=2026-04-01",
        "limit=0",
        "limit=101",
        "offset=-1",
    ],
)
def test_bad_query_values_give_400(
    client: Any, bearer: dict[str, str], log: dict[str, Any], path: str, query: str
) -> None:
    response = client.get(f"{path}?{query}", headers=bearer)
    assert response.status_code == 400
    assert response.get_json()["error"]["status"] == 400


def test_a_bad_commitment_status_gives_400(client: Any, bearer: dict[str, str]) -> None:
    response = client.get("/api/v1/commitments?status=late", headers=bearer)
    assert response.status_code == 400


@pytest.mark.parametrize("path", ["/api/v1/interactions", "/api/v1/commitments"])
def test_a_token_is_required(
    client: Any, login: Any, cast: dict[str, Any], path: str
) -> None:
    assert client.get(path).status_code == 401
    bad = client.get(path, headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401
    login(cast["officer"])  # a session is not enough
    assert client.get(path).status_code == 401


def test_the_openapi_document_says_what_is_left_out(client: Any) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    assert set(schemas["Interaction"]["properties"]) == INTERACTION_KEYS
    assert set(schemas["Commitment"]["properties"]) == COMMITMENT_KEYS
    assert "No personal data" in schemas["Interaction"]["description"]
    assert "description" in schemas["Commitment"]["description"]
    assert "/interactions" in document["paths"]
    assert "/commitments" in document["paths"]
