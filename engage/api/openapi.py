"""The OpenAPI 3.1 document of /api/v1, written by hand and checked by schemathesis."""

from __future__ import annotations

from typing import Any

from engage.actions.models import ActionStatus
from engage.actions.models import Recurrence
from engage.audiences.models import Approach
from engage.audiences.models import AudienceGroup
from engage.dashboard.periods import PeriodKind
from engage.formtools import MAX_INT
from engage.metrics.models import MetricKind
from engage.metrics.models import Source
from engage.metrics.models import Stage
from engage.metrics.models import TargetPeriod
from engage.relationships.models import CommitmentStatus
from engage.relationships.models import Direction
from engage.relationships.models import InteractionKind
from engage.relationships.models import Sentiment
from engage.surveys.models import QuestionKind
from engage.surveys.models import SurveyStatus


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(kind: str, **extra: Any) -> dict[str, Any]:
    return {"type": [kind, "null"], **extra}


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def _values(enum_type: Any) -> list[str]:
    return [m.value for m in enum_type]


DATE = {"type": "string", "format": "date"}
ID = {"type": "integer", "minimum": 1, "maximum": MAX_INT}

ACTIVITY = _object(
    {
        "id": ID,
        "occurred_on": DATE,
        "description": {"type": "string"},
        "audience_ids": {"type": "array", "items": ID},
        "figures": {
            "type": "array",
            "items": _object(
                {"label": {"type": "string"}, "value": {"type": "integer"}}
            ),
        },
    }
)

ACTION_FIELDS: dict[str, Any] = {
    "id": ID,
    "title": {"type": "string"},
    "channel": {"type": "string"},
    "programme_id": _nullable("integer"),
    "objective_id": _nullable("integer"),
    "status": {"type": "string", "enum": _values(ActionStatus)},
    "overdue": {"type": "boolean"},
    "unscheduled": {"type": "boolean"},
    "recurrence": {"type": "string", "enum": _values(Recurrence)},
    "timescale": {"type": "string"},
    "start_date": _nullable("string", format="date"),
    "due_date": _nullable("string", format="date"),
    "next_due_date": _nullable("string", format="date"),
    "all_audiences": {"type": "boolean"},
    "audience_ids": {"type": "array", "items": ID},
    "success_measure": {"type": "string"},
    "completed_at": _nullable("string", format="date-time"),
}

AUDIENCE_FIELDS: dict[str, Any] = {
    "id": ID,
    "name": {"type": "string"},
    "group": {"type": "string", "enum": _values(AudienceGroup)},
    "approach": {"type": "string", "enum": _values(Approach)},
    "influence": {"type": "integer", "minimum": 1, "maximum": 5},
    "interest": {"type": "integer", "minimum": 1, "maximum": 5},
    "archived": {"type": "boolean"},
    "last_contact": _nullable("string", format="date"),
    "due_for_contact": {"type": "boolean"},
    "contact_interval_days": {"type": "integer", "minimum": 1},
}

METRIC_KEY = {"type": "string", "pattern": "^[a-z0-9][a-z0-9._-]{0,99}$"}

METRIC_FIELDS: dict[str, Any] = {
    "key": METRIC_KEY,
    "name": {"type": "string"},
    "unit": {"type": "string"},
    "stage": {
        "type": "string",
        "enum": _values(Stage),
        "description": "Its stage in the Government Communication Service "
        "evaluation framework; only output is reach.",
    },
    "description": {"type": "string"},
    "kind": {"type": "string", "enum": _values(MetricKind)},
    "higher_is_better": {"type": "boolean"},
    "target_value": _nullable("number"),
    "target_period": {
        "type": ["string", "null"],
        "enum": [*_values(TargetPeriod), None],
    },
    "channel": _nullable("string"),
    "action_id": _nullable("integer"),
    "system": {"type": "boolean"},
}

PERIOD = _object(
    {
        "kind": {"type": "string", "enum": _values(PeriodKind)},
        "value": {"type": "string"},
        "label": {"type": "string"},
        "start": DATE,
        "end": DATE,
        "to_date": {"type": "boolean"},
        "counted_end": DATE,
        "days": {"type": "integer", "minimum": 1},
    }
)

SECTION = _object(
    {
        "key": {"type": "string"},
        "title": {"type": "string"},
        "figures": {
            "type": "array",
            "items": _object(
                {
                    "key": {"type": "string"},
                    "label": {"type": "string"},
                    "value": {"type": "number"},
                    "previous": _nullable("number"),
                    "change": _nullable("number"),
                    "target": _nullable("integer"),
                    "unit": {
                        "type": "string",
                        "description": 'What is counted ("recipients"); "%" for a '
                        "rate in per cent with one decimal (open rate = opens ÷ "
                        "recipients).",
                    },
                    "stage": {
                        "type": "string",
                        "description": "input, output (reach), outtake, outcome "
                        'or impact; "" for figures without one. Figures of '
                        "different stages or units are never added together.",
                    },
                }
            ),
        },
        "tables": {
            "type": "array",
            "items": _object(
                {
                    "key": {"type": "string"},
                    "caption": {"type": "string"},
                    "columns": {"type": "array", "items": {"type": "string"}},
                    "rows": {
                        "type": "array",
                        "items": {
                            "type": "array",
                            "items": {"type": ["string", "number", "null"]},
                        },
                    },
                }
            ),
        },
        "notes": {"type": "array", "items": {"type": "string"}},
    }
)


def _page_of(schema: str) -> dict[str, Any]:
    return _object(
        {
            "items": {"type": "array", "items": _ref(schema)},
            "total": {"type": "integer", "minimum": 0},
            "limit": {"type": "integer", "minimum": 1, "maximum": 100},
            "offset": {"type": "integer", "minimum": 0},
        }
    )


SURVEY_FIELDS: dict[str, Any] = {
    "id": ID,
    "title": {"type": "string"},
    "status": {"type": "string", "enum": _values(SurveyStatus)},
    "anonymous": {"type": "boolean"},
    "opens_at": _nullable("string", format="date-time"),
    "closes_at": _nullable("string", format="date-time"),
}

#: A count of 1 to 4 is null (suppressed), with another where a total would tell.
SUPPRESSED_COUNT = _nullable("integer", minimum=0)

QUESTION_RESULT = _object(
    {
        "id": ID,
        "position": {"type": "integer"},
        "text": {"type": "string"},
        "kind": {"type": "string", "enum": _values(QuestionKind)},
        "shown": {"type": "boolean"},
        "answered": SUPPRESSED_COUNT,
        "counts": {
            "type": "array",
            "items": _object(
                {
                    "label": {"type": "string"},
                    "count": SUPPRESSED_COUNT,
                    "percent": _nullable("number"),
                }
            ),
        },
        "mean": _nullable("number"),
        "net_score": _nullable("number"),
        "summary": {
            "oneOf": [
                {"type": "null"},
                _object(
                    {
                        name: {"type": "number"}
                        for name in (
                            "n",
                            "mean",
                            "median",
                            "minimum",
                            "maximum",
                            "lower_quartile",
                            "upper_quartile",
                        )
                    }
                ),
            ]
        },
    }
)

AUDIENCE_REF = _object({"id": ID, "name": {"type": "string"}})

INTERACTION = {
    **_object(
        {
            "id": ID,
            "date": {**DATE, "description": "The day it took place (UK)."},
            "kind": {"type": "string", "enum": _values(InteractionKind)},
            "direction": {"type": "string", "enum": _values(Direction)},
            "audiences": {"type": "array", "items": AUDIENCE_REF},
            "themes": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Names of the themes raised.",
            },
            "sentiment": {
                "type": ["string", "null"],
                "enum": [*_values(Sentiment), None],
            },
            "commitment_ids": {"type": "array", "items": ID},
        }
    ),
    "description": "A confirmed interaction with one or more audiences. No personal "
    "data: no contacts' names or email addresses, no staff names, and no heading or "
    "summary (either may name people).",
}

COMMITMENT = {
    **_object(
        {
            "id": ID,
            "audience": AUDIENCE_REF,
            "due_date": DATE,
            "status": {"type": "string", "enum": _values(CommitmentStatus)},
            "closed_date": _nullable("string", format="date"),
            "interaction_id": _nullable("integer"),
        }
    ),
    "description": "A promise made to an audience. Its description (which may name "
    "people) and its owner are left out.",
}

SCHEMAS: dict[str, Any] = {
    "Error": _object(
        {
            "error": _object(
                {"status": {"type": "integer"}, "message": {"type": "string"}}
            )
        }
    ),
    "Action": _object(ACTION_FIELDS),
    "ActionDetail": _object(
        {**ACTION_FIELDS, "activities": {"type": "array", "items": ACTIVITY}}
    ),
    "ActionPage": _page_of("Action"),
    "Audience": _object(AUDIENCE_FIELDS),
    "AudienceDetail": _object(
        {
            **AUDIENCE_FIELDS,
            "programme_approaches": {
                "type": "array",
                "items": _object(
                    {
                        "programme_id": ID,
                        "approach": {"type": "string", "enum": _values(Approach)},
                    }
                ),
            },
        }
    ),
    "AudiencePage": _page_of("Audience"),
    "Summary": _object(
        {
            "period": PERIOD,
            "previous_period": PERIOD,
            "comparison": {"type": "string"},
            "programme_id": _nullable("integer"),
            "sections": {"type": "array", "items": SECTION},
        }
    ),
    "Metric": _object(METRIC_FIELDS),
    "MetricPage": _page_of("Metric"),
    "Observation": _object(
        {
            "observed_on": DATE,
            "value": {"type": "number"},
            "source": {"type": "string", "enum": _values(Source)},
        }
    ),
    "ObservationPage": _page_of("Observation"),
    "MetricDetail": _object({**METRIC_FIELDS, "observations": _ref("ObservationPage")}),
    "Survey": _object(SURVEY_FIELDS),
    "SurveyPage": _page_of("Survey"),
    "Interaction": INTERACTION,
    "InteractionPage": _page_of("Interaction"),
    "Commitment": COMMITMENT,
    "CommitmentPage": _page_of("Commitment"),
    "SurveyResults": _object(
        {
            **SURVEY_FIELDS,
            "shown": {"type": "boolean"},
            "respondents": SUPPRESSED_COUNT,
            "suppressed": {"type": "boolean"},
            "questions": {"type": "array", "items": QUESTION_RESULT},
        }
    ),
}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def _path_id(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": ID}


PAGING = [
    _query(
        "limit", {"type": "integer", "minimum": 1, "maximum": 100}, "Page size (25)."
    ),
    _query(
        "offset",
        {"type": "integer", "minimum": 0, "maximum": 1000000},
        "Items to skip.",
    ),
]


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": _ref("Error")}},
    }


def _operation(
    summary: str, schema: str, parameters: list[dict[str, Any]], *, found: bool = False
) -> dict[str, Any]:
    responses: dict[str, Any] = {
        "200": {
            "description": "OK",
            "content": {"application/json": {"schema": _ref(schema)}},
        },
        "400": _error("A parameter is not valid."),
        "401": _error("No valid API token."),
        "403": _error("The token's user may not read this."),
    }
    if found:
        responses["404"] = _error("Not found.")
    return {
        "summary": summary,
        "operationId": summary.lower().replace(" ", "_").replace(",", ""),
        "parameters": parameters,
        "responses": responses,
    }


PATHS: dict[str, Any] = {
    "/summary": {
        "get": _operation(
            "Dashboard summary",
            "Summary",
            [
                _query(
                    "period",
                    {"type": "string", "enum": _values(PeriodKind)},
                    "Kind of period (quarter).",
                ),
                _query(
                    "value",
                    {"type": "string", "maxLength": 20},
                    "2026-07, 2026-Q3 or 2026; empty for the current one (which is "
                    "counted to date).",
                ),
                _query("start", DATE, "First day of a custom period."),
                _query("end", DATE, "Last day of a custom period."),
                _query(
                    "programme_id", ID, "Only this programme's actions and deliveries."
                ),
            ],
            found=True,
        )
    },
    "/actions": {
        "get": _operation(
            "List actions",
            "ActionPage",
            [
                _query(
                    "status",
                    {"type": "string", "enum": _values(ActionStatus)},
                    "Stored status.",
                ),
                _query("programme_id", ID, "Programme."),
                _query("channel_id", ID, "Channel."),
                _query("due_from", DATE, "Next due on or after."),
                _query("due_to", DATE, "Next due on or before."),
                _query("overdue", {"type": "boolean"}, "Only overdue actions."),
                *PAGING,
            ],
        )
    },
    "/actions/{action_id}": {
        "get": _operation(
            "Get action", "ActionDetail", [_path_id("action_id")], found=True
        )
    },
    "/audiences": {
        "get": _operation(
            "List audiences",
            "AudiencePage",
            [
                _query(
                    "group",
                    {"type": "string", "enum": _values(AudienceGroup)},
                    "Group.",
                ),
                _query(
                    "approach",
                    {"type": "string", "enum": _values(Approach)},
                    "Approach.",
                ),
                _query(
                    "include_archived",
                    {"type": "boolean"},
                    "Include archived audiences.",
                ),
                *PAGING,
            ],
        )
    },
    "/audiences/{audience_id}": {
        "get": _operation(
            "Get audience", "AudienceDetail", [_path_id("audience_id")], found=True
        )
    },
    "/metrics": {
        "get": _operation(
            "List metrics",
            "MetricPage",
            [
                _query(
                    "kind",
                    {"type": "string", "enum": _values(MetricKind)},
                    "Flow or level.",
                ),
                *PAGING,
            ],
        )
    },
    "/metrics/{key}": {
        "get": _operation(
            "Get metric",
            "MetricDetail",
            [
                {"name": "key", "in": "path", "required": True, "schema": METRIC_KEY},
                _query("start", DATE, "Observations on or after this day."),
                _query("end", DATE, "Observations on or before this day."),
                _query(
                    "source",
                    {"type": "string", "enum": _values(Source)},
                    "Only observations from this source.",
                ),
                *PAGING,
            ],
            found=True,
        )
    },
    "/interactions": {
        "get": {
            **_operation(
                "List interactions",
                "InteractionPage",
                [
                    _query("audience_id", ID, "Only interactions with this audience."),
                    _query("since", DATE, "Only interactions on or after this day."),
                    _query("until", DATE, "Only interactions on or before this day."),
                    *PAGING,
                ],
            ),
            "description": "Confirmed interactions, newest first (drafts are left "
            "out). No personal data: no contacts, no staff, no heading or summary.",
        }
    },
    "/commitments": {
        "get": {
            **_operation(
                "List commitments",
                "CommitmentPage",
                [
                    _query("audience_id", ID, "Only commitments to this audience."),
                    _query(
                        "status",
                        {"type": "string", "enum": _values(CommitmentStatus)},
                        "Only commitments in this state.",
                    ),
                    _query("since", DATE, "Only commitments due on or after this day."),
                    _query(
                        "until", DATE, "Only commitments due on or before this day."
                    ),
                    *PAGING,
                ],
            ),
            "description": "Commitments by due date. Their descriptions (which may "
            "name people) and owners are left out.",
        }
    },
    "/surveys": {
        "get": _operation("List surveys", "SurveyPage", [*PAGING]),
    },
    "/surveys/{survey_id}/results": {
        "get": _operation(
            "Get survey results",
            "SurveyResults",
            [_path_id("survey_id")],
            found=True,
        )
    },
}


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document served at /api/v1/openapi.json."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Engage API",
            "version": "1.0.0",
            "description": (
                "Read-only figures from Engage. Authenticate with a personal API token "
                "(Your account → API tokens): Authorization: Bearer <token>. Members "
                "appear only as aggregate counts; survey results show counts of 1 "
                "to 4 as null, with another count hidden where a total would tell."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearerAuth": []}],
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
    }
