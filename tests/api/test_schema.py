"""schemathesis over every API operation; no member personal data in any response."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

import schemathesis
from flask import Flask
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from engage.extensions import db
from engage.membership.models import Tier
from engage.surveys.models import Answer
from engage.surveys.models import QuestionKind
from engage.surveys.models import Response
from engage.surveys.models import ResponseSource
from engage.surveys.models import SurveyStatus
from tests.factories import MemberFactory
from tests.factories import QuestionFactory
from tests.factories import SurveyFactory


def test_api_conforms_to_its_openapi_document(
    make_app: Callable[..., Flask], plan: dict[str, Any], bearer: dict[str, str]
) -> None:
    """Every operation: no 5xx; status codes, content types and bodies as documented."""
    # A second app object, so each request gets its own app context and session.
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", make_app())
    checked = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=40,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            # Rules across parameters (a custom period needs start and end, in order;
            # years 1900-2200) cannot be written in OpenAPI: their documented JSON
            # 400 is right, so "schema-valid request rejected" is not checked.
            case.call_and_validate(
                headers=bearer, excluded_checks=[positive_data_acceptance]
            )

        check()
        checked.append(operation.label)
    assert len(checked) == 11, checked


DISTINCTIVE = [
    {
        "name": "Zebedee Quillfeather",
        "email": "zebedee.quillfeather@unique-member.example",
        "phone": "07700 900987",
        "postcode": "ZE2 9QQ",
        "address": "17 Marmalade Crescent",
    },
    {
        "name": "Ottoline Brackenridge",
        "email": "ottoline.b@unique-member.example",
        "phone": "01632 960555",
        "postcode": "OX9 7WW",
        "address": "The Old Bakehouse",
    },
]


def _walk(
    client: Any, bearer: dict[str, str], document: dict[str, Any], ids: dict[str, int]
) -> dict[str, str]:
    bodies = {}
    for path in document["paths"]:
        url = "/api/v1" + path
        for name, value in ids.items():
            url = url.replace("{" + name + "}", str(value))
        variants = [url] if "{" not in url else []
        if path == "/summary":
            variants += [
                url + "?period=month",
                url + "?period=year",
                url + "?period=custom&start=2022-01-01&end=2026-12-31",
            ]
        if path in ("/actions", "/audiences", "/metrics", "/surveys"):
            variants.append(url + "?limit=100&include_archived=true")
        if path == "/metrics/{key}":
            variants.append(url + "?limit=100&start=2020-01-01&end=2030-12-31")
        for variant in variants:
            response = client.get(variant, headers=bearer)
            assert response.status_code == 200, variant
            bodies[variant] = response.get_data(as_text=True)
    return bodies


def test_no_api_response_contains_member_personal_data(
    client: Any, bearer: dict[str, str], plan: dict[str, Any]
) -> None:
    for index, person in enumerate(DISTINCTIVE):
        MemberFactory(
            **person,
            tier=Tier.GOLD if index else Tier.SILVER,
            notes=f"Note about {person['name']}",
        )
    document = client.get("/api/v1/openapi.json").get_json()
    # Free text next to figures (an observation's note) is never exposed either.
    observation = plan["metric"].observations[0]
    observation.note = f"Reported by {DISTINCTIVE[0]['name']}"
    db.session.commit()
    # A survey's free text never leaves through the API either.
    survey = SurveyFactory(status=SurveyStatus.OPEN, anonymous=False)
    asked = QuestionFactory(survey=survey, kind=QuestionKind.LONG_TEXT, text="Why?")
    for _ in range(6):
        db.session.add(
            Response(
                survey_id=survey.id,
                submitted_on=date(2026, 1, 5),
                source=ResponseSource.WEB,
                answers=[Answer(question_id=asked.id, text=DISTINCTIVE[1]["address"])],
            )
        )
    db.session.commit()
    ids = {
        "action_id": plan["action"].id,
        "audience_id": plan["audiences"][0].id,
        "key": plan["metric"].key,
        "survey_id": survey.id,
    }
    bodies = _walk(client, bearer, document, ids)
    assert len(bodies) >= len(document["paths"])
    text = "\n".join(bodies.values())
    for person in DISTINCTIVE:
        for value in person.values():
            assert value.lower() not in text.lower(), value
            assert value.replace(" ", "").lower() not in text.replace(" ", "").lower()
    # Membership is there, but only as counts.
    summary = json.loads(bodies["/api/v1/summary"])
    figures = {f["key"]: f["value"] for s in summary["sections"] for f in s["figures"]}
    assert figures["members_active"] == 2
