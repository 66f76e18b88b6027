"""Benchmark data: a county-scale data set built fast with bulk inserts.

``generate(engine, scale=1.0)`` fills an empty schema with a deterministic (seeded)
data set: at scale 1, 50,000 members, 300 audiences, 5,000 actions and 20,000
deliveries over three years, 200 surveys with 500,000 responses (one of 100,000),
2,000,000 observations, and 100 feeds with 50,000 mentions. Rows go in with
SQLAlchemy Core ``insert`` in chunks, never through the ORM. ``STEPS`` is the
ordered list of generator steps.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Table, insert

from engage.accounts.models import Role, User
from engage.accounts.passwords import hash_password
from engage.actions.models import (
    Action,
    ActionStatus,
    Activity,
    Channel,
    ReachFigure,
    Recurrence,
    action_audiences,
    action_owners,
    activity_audiences,
)
from engage.actions.services import DEFAULT_CHANNELS
from engage.audiences.models import (
    Approach,
    Audience,
    AudienceGroup,
    Programme,
    ProgrammeApproach,
)
from engage.membership.equality import QUESTIONS
from engage.membership.lists import DEFAULT_TOPICS
from engage.membership.models import (
    ConsentMethod,
    EqualityAnswers,
    Member,
    MemberStatus,
    Practice,
    Tier,
    Topic,
    member_topics,
)
from engage.membership.rollup import MEMBER_DAYS
from engage.metrics.models import (
    Feed,
    Mention,
    Metric,
    MetricKind,
    Observation,
    Source,
    TargetPeriod,
    Tone,
)
from engage.metrics.rollup import rebuild_metric_rollups
from engage.surveys.models import (
    Answer,
    Choice,
    Delivery,
    Invitation,
    Question,
    QuestionKind,
    Response,
    ResponseSource,
    Survey,
    SurveyStatus,
)
from engage.surveys.rollup import RESPONSE_DAYS

SEED = 20261126
CHUNK = 5_000
#: The bench users' password (a throwaway database; never a real one).
BENCH_PASSWORD = "bench password for a throwaway database"  # noqa: S105  # nosec B105
#: The data set ends here; it covers the three years before.
END = date(2026, 11, 25)
START = END - timedelta(days=3 * 365)

#: Row counts at ``scale=1`` (the issue's county-scale figures).
SIZES = {
    "users": 25,
    "programmes": 20,
    "audiences": 300,
    "practices": 120,
    "members": 50_000,
    "actions": 5_000,
    "activities": 20_000,
    "surveys": 200,
    #: All surveys' responses; the first survey has ``big_survey_responses`` of them.
    "responses": 500_000,
    "big_survey_responses": 100_000,
    "invitations": 40_000,
    "metrics": 1_000,
    "observations": 2_000_000,
    "feeds": 100,
    "mentions": 50_000,
}


@dataclass
class Context:
    """What steps share: the connection, the seeded generator, sizes, ids so far."""

    conn: Connection
    rng: random.Random
    sizes: dict[str, int]
    ids: dict[str, list[int]]
    progress: Callable[[str], None]

    def moment(self, start: date = START, end: date = END) -> datetime:
        """A random moment between two days (UTC)."""
        span = (end - start).days * 86400
        offset = self.rng.randrange(max(span, 1))
        return datetime(start.year, start.month, start.day, tzinfo=UTC) + timedelta(
            seconds=offset
        )


def _chunks(rows: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _insert(
    ctx: Context, table: Table, rows: Iterable[dict[str, Any]], label: str
) -> int:
    total = 0
    for chunk in _chunks(rows):
        ctx.conn.execute(insert(table), chunk)
        total += len(chunk)
        if total % (CHUNK * 4) == 0:
            ctx.progress(f"  {label}: {total:,}")
    return total


def _ids(ctx: Context, table: Table) -> list[int]:
    # In id order: without ORDER BY, SQLite may read a covering index in its order.
    return [
        row[0]
        for row in ctx.conn.execute(
            table.select().with_only_columns(table.c.id).order_by(table.c.id)
        )
    ]


def _some(rng: random.Random, items: list[Any], low: int, high: int) -> list[Any]:
    return rng.sample(items, min(len(items), rng.randint(low, high)))


# Steps --------------------------------------------------------------------------------


def users(ctx: Context) -> None:
    """Staff: one admin, officers and leads, sharing one password hash."""
    password = hash_password(BENCH_PASSWORD)
    now = datetime.now(UTC)
    roles = [Role.ADMIN, Role.LEAD] + [Role.OFFICER] * (ctx.sizes["users"] - 2)
    _insert(
        ctx,
        User.__table__,
        (
            {
                "email": f"{role.value}{i}@bench.example",
                "name": f"Bench {role.label} {i}",
                "role": role,
                "password_hash": password,
                "is_active": True,
                # The lead and a few officers receive the reach report.
                "reach_report_subscribed": i < 6,
                "session_version": 1,
                "created_at": now,
                "updated_at": now,
            }
            for i, role in enumerate(roles)
        ),
        "users",
    )
    ctx.ids["users"] = _ids(ctx, User.__table__)


def reference_lists(ctx: Context) -> None:
    """Channels, programmes, GP practices and topics."""
    now = datetime.now(UTC)
    _insert(
        ctx,
        Channel.__table__,
        ({"name": n, "is_active": True} for n in DEFAULT_CHANNELS),
        "channels",
    )
    _insert(
        ctx,
        Programme.__table__,
        (
            {
                "name": f"Programme {i}",
                "description": "",
                "is_active": True,
                "created_at": now,
                "updated_at": now,
            }
            for i in range(ctx.sizes["programmes"])
        ),
        "programmes",
    )
    _insert(
        ctx,
        Practice.__table__,
        (
            {"name": f"Practice {i}", "code": f"P{i:05}", "is_active": True}
            for i in range(ctx.sizes["practices"])
        ),
        "practices",
    )
    _insert(
        ctx,
        Topic.__table__,
        ({"name": n, "is_active": True} for n in DEFAULT_TOPICS),
        "topics",
    )
    for name, table in (
        ("channels", Channel.__table__),
        ("programmes", Programme.__table__),
        ("practices", Practice.__table__),
        ("topics", Topic.__table__),
    ):
        ctx.ids[name] = _ids(ctx, table)


def audiences(ctx: Context) -> None:
    """Audiences on the map, a tenth with a programme override."""
    rng = ctx.rng
    groups, approaches = list(AudienceGroup), list(Approach)
    _insert(
        ctx,
        Audience.__table__,
        (
            {
                "name": f"Audience {i}",
                "group": rng.choice(groups),
                "influence": rng.randint(1, 5),
                "interest": rng.randint(1, 5),
                "approach": rng.choice(approaches),
                "owner_id": rng.choice(ctx.ids["users"]),
                "notes": "",
                "created_at": ctx.moment(START, START + timedelta(days=90)),
                "updated_at": ctx.moment(),
            }
            for i in range(ctx.sizes["audiences"])
        ),
        "audiences",
    )
    ctx.ids["audiences"] = _ids(ctx, Audience.__table__)
    _insert(
        ctx,
        ProgrammeApproach.__table__,
        (
            {
                "audience_id": audience_id,
                "programme_id": rng.choice(ctx.ids["programmes"]),
                "approach": rng.choice(approaches),
                "rationale": "",
            }
            for audience_id in ctx.ids["audiences"][::10]
        ),
        "overrides",
    )


def _member_row(ctx: Context, i: int) -> dict[str, Any]:
    rng = ctx.rng
    created = ctx.moment()
    joined_by = rng.choices(
        [ConsentMethod.WEB_FORM, ConsentMethod.PHONE, ConsentMethod.PAPER], [85, 10, 5]
    )[0]
    status = rng.choices(
        [
            MemberStatus.ACTIVE,
            MemberStatus.PENDING,
            MemberStatus.WITHDRAWN,
            MemberStatus.ERASED,
        ],
        [80, 4, 12, 4],
    )[0]
    confirmed = None
    if joined_by is ConsentMethod.WEB_FORM and status is not MemberStatus.PENDING:
        confirmed = created + timedelta(hours=rng.randint(1, 72))
    withdrawn = None
    if status in (MemberStatus.WITHDRAWN, MemberStatus.ERASED):
        withdrawn = created + timedelta(days=rng.randint(5, 400))
    erased = status is MemberStatus.ERASED
    return {
        "name": None if erased else f"Member {i} Benchmark",
        "email": None if erased else f"member{i}@bench-members.example",
        "phone": None if erased else f"07700 9{i % 100000:05}",
        "address": None,
        "postcode": None if erased else f"LS{i % 30} {i % 10}AB",
        "practice_id": rng.choice(ctx.ids["practices"]),
        "tier": rng.choices([Tier.GOLD, Tier.SILVER], [30, 70])[0],
        "status": status,
        "joined_by": joined_by,
        "is_champion": rng.random() < 0.02,
        "created_at": created,
        "updated_at": created,
        "confirmed_at": confirmed,
        "withdrawn_at": withdrawn,
        "erased_at": withdrawn + timedelta(days=30) if erased and withdrawn else None,
    }


def members(ctx: Context) -> None:
    """PPI members with topics and (for most) equality answers."""
    count = _insert(
        ctx,
        Member.__table__,
        (_member_row(ctx, i) for i in range(ctx.sizes["members"])),
        "members",
    )
    ctx.progress(f"  members: {count:,}")
    # Bulk inserts skip the ORM hook that keeps the dashboard's rollup up to date.
    MEMBER_DAYS.rebuild(ctx.conn)
    member_ids = _ids(ctx, Member.__table__)
    rng = ctx.rng
    topics = ctx.ids["topics"]
    _insert(
        ctx,
        member_topics,
        (
            {"member_id": member_id, "topic_id": topic_id}
            for member_id in member_ids
            for topic_id in _some(rng, topics, 0, 3)
        ),
        "member topics",
    )
    now = datetime.now(UTC)
    _insert(
        ctx,
        EqualityAnswers.__table__,
        (
            {
                "member_id": member_id,
                **{
                    q.field: rng.choice([None, *(value for value, _ in q.answers)])
                    for q in QUESTIONS
                },
                "recorded_at": now,
            }
            for member_id in member_ids
            if rng.random() < 0.6
        ),
        "equality answers",
    )


def actions(ctx: Context) -> None:
    """Actions in the plan with audiences and owners."""
    rng = ctx.rng
    statuses = [
        ActionStatus.PLANNED,
        ActionStatus.IN_PROGRESS,
        ActionStatus.DONE,
        ActionStatus.CANCELLED,
    ]
    recurrences = list(Recurrence)

    def row(i: int) -> dict[str, Any]:
        created = ctx.moment()
        status = rng.choices(statuses, [30, 25, 40, 5])[0]
        due = (
            None
            if rng.random() < 0.1
            else (created + timedelta(days=rng.randint(-30, 400))).date()
        )
        return {
            "title": f"Action {i}",
            "channel_id": rng.choice(ctx.ids["channels"]),
            "programme_id": rng.choice(ctx.ids["programmes"])
            if rng.random() < 0.5
            else None,
            "all_audiences": rng.random() < 0.05,
            "audience_note": "",
            "responsibility": "",
            "start_date": None,
            "due_date": due,
            "timescale": "",
            "recurrence": rng.choices(recurrences, [60, 5, 15, 3, 7, 2, 3, 5])[0],
            "next_due_date": due,
            "status": status,
            "success_measure": "",
            "completed_at": created + timedelta(days=rng.randint(1, 300))
            if status is ActionStatus.DONE
            else None,
            "created_at": created,
            "updated_at": created,
        }

    _insert(
        ctx, Action.__table__, (row(i) for i in range(ctx.sizes["actions"])), "actions"
    )
    ctx.ids["actions"] = _ids(ctx, Action.__table__)
    _insert(
        ctx,
        action_audiences,
        (
            {"action_id": action_id, "audience_id": audience_id}
            for action_id in ctx.ids["actions"]
            for audience_id in _some(rng, ctx.ids["audiences"], 1, 3)
        ),
        "action audiences",
    )
    _insert(
        ctx,
        action_owners,
        (
            {"action_id": a, "user_id": rng.choice(ctx.ids["users"])}
            for a in ctx.ids["actions"]
        ),
        "action owners",
    )


def activities(ctx: Context) -> None:
    """Deliveries over three years, each with audiences reached and reach figures."""
    rng = ctx.rng
    now = datetime.now(UTC)

    def row(i: int) -> dict[str, Any]:
        day = ctx.moment().date()
        return {
            "action_id": rng.choice(ctx.ids["actions"]),
            "occurred_on": day,
            "description": f"Delivery {i}",
            "notes": "",
            "created_by_id": rng.choice(ctx.ids["users"]),
            "created_at": now,
        }

    _insert(
        ctx,
        Activity.__table__,
        (row(i) for i in range(ctx.sizes["activities"])),
        "activities",
    )
    activity_ids = _ids(ctx, Activity.__table__)
    _insert(
        ctx,
        activity_audiences,
        (
            {"activity_id": activity_id, "audience_id": audience_id}
            for activity_id in activity_ids
            for audience_id in _some(rng, ctx.ids["audiences"], 1, 2)
        ),
        "activity audiences",
    )
    labels = ["recipients", "opens", "attendees", "views"]
    _insert(
        ctx,
        ReachFigure.__table__,
        (
            {"activity_id": activity_id, "label": label, "value": rng.randint(0, 5000)}
            for activity_id in activity_ids
            for label in _some(rng, labels, 1, 2)
        ),
        "reach figures",
    )


#: Every survey's questions (kind, choices); the big survey asks all of them, the
#: others the first three.
SURVEY_QUESTIONS: list[tuple[QuestionKind, tuple[str, ...]]] = [
    (QuestionKind.SINGLE_CHOICE, ("Yes", "No", "Not sure", "Prefer not to say")),
    (QuestionKind.LIKERT_AGREEMENT, ()),
    (QuestionKind.RATING_0_10, ()),
    (QuestionKind.MULTIPLE_CHOICE, ("Online", "Leaflet", "Radio", "Practice", "Other")),
    (QuestionKind.LIKERT_SATISFACTION, ()),
    (QuestionKind.NUMBER, ()),
    (QuestionKind.SHORT_TEXT, ()),
]
#: The ``surveys`` step's big survey (the one results are timed on) is the first.
BIG_SURVEY_TITLE = "Survey 0 (county-wide)"


def _survey_responses(sizes: dict[str, int]) -> list[int]:
    """Responses per survey: the first gets the big share, the rest split the others."""
    count = sizes["surveys"]
    big = min(sizes["big_survey_responses"], sizes["responses"])
    rest = sizes["responses"] - big
    others = count - 1
    if others <= 0:
        return [sizes["responses"]]
    return [big] + [
        rest // others + (1 if i < rest % others else 0) for i in range(others)
    ]


def surveys(ctx: Context) -> None:
    """Surveys with questions, choices, invitations, responses and their answers."""
    rng = ctx.rng
    now = datetime.now(UTC)
    per_survey = _survey_responses(ctx.sizes)
    survey_rows: list[dict[str, Any]] = []
    for i, _ in enumerate(per_survey):
        opens = ctx.moment(START, END - timedelta(days=60))
        survey_rows.append(
            {
                "title": BIG_SURVEY_TITLE if i == 0 else f"Survey {i}",
                "introduction": "",
                "status": SurveyStatus.CLOSED if i else SurveyStatus.OPEN,
                "opens_at": opens,
                "closes_at": None if i == 0 else opens + timedelta(days=45),
                "anonymous": True,
                "public_token_hash": None,  # nosec B105
                "results_published": False,
                "created_by_id": rng.choice(ctx.ids["users"]),
                "created_at": opens,
                "updated_at": opens,
            }
        )
    _insert(ctx, Survey.__table__, survey_rows, "surveys")
    survey_ids = _ids(ctx, Survey.__table__)
    ctx.ids["surveys"] = survey_ids
    _insert(
        ctx,
        Question.__table__,
        (
            {
                "survey_id": survey_id,
                "position": position,
                "kind": kind,
                "text": f"Question {position + 1} ({kind.label})",
                "help_text": "",
                "required": position == 0,
                "min_value": 0.0 if kind is QuestionKind.NUMBER else None,
                "max_value": 100.0 if kind is QuestionKind.NUMBER else None,
            }
            for n, survey_id in enumerate(survey_ids)
            for position, (kind, _) in enumerate(
                SURVEY_QUESTIONS if n == 0 else SURVEY_QUESTIONS[:3]
            )
        ),
        "questions",
    )
    questions: dict[int, list[tuple[int, QuestionKind]]] = {}
    for question_id, survey_id, kind in ctx.conn.execute(
        Question.__table__.select()
        .with_only_columns(
            Question.__table__.c.id,
            Question.__table__.c.survey_id,
            Question.__table__.c.kind,
        )
        .order_by(Question.__table__.c.id)
    ):
        questions.setdefault(survey_id, []).append((question_id, QuestionKind(kind)))
    labels = dict(SURVEY_QUESTIONS)
    _insert(
        ctx,
        Choice.__table__,
        (
            {"question_id": question_id, "position": position, "label": label}
            for survey_questions in questions.values()
            for question_id, kind in survey_questions
            for position, label in enumerate(labels[kind])
        ),
        "choices",
    )
    choices: dict[int, list[int]] = {}
    for choice_id, question_id in ctx.conn.execute(
        Choice.__table__.select()
        .with_only_columns(Choice.__table__.c.id, Choice.__table__.c.question_id)
        .order_by(Choice.__table__.c.id)
    ):
        choices.setdefault(question_id, []).append(choice_id)
    _invitations(ctx, survey_ids, now)
    sources = [ResponseSource.WEB, ResponseSource.PAPER, ResponseSource.PHONE]
    tiers = [Tier.GOLD, Tier.SILVER]
    done = 0
    for survey_id, row, count in zip(survey_ids, survey_rows, per_survey, strict=True):
        first_day = row["opens_at"].date()

        def response(
            _: int, first_day: date = first_day, survey_id: int = survey_id
        ) -> dict[str, Any]:
            invited = rng.random() < 0.3
            return {
                "survey_id": survey_id,
                "submitted_on": first_day + timedelta(days=rng.randrange(45)),
                "source": rng.choices(sources, [85, 10, 5])[0],
                "member_id": None,
                "tier": rng.choice(tiers) if invited else None,
                "practice_id": rng.choice(ctx.ids["practices"]) if invited else None,
                "external_key": None,
                "entered_by_id": None,
            }

        _insert(
            ctx,
            Response.__table__,
            (response(i) for i in range(count)),
            f"responses of survey {survey_id}",
        )
        response_ids = [
            r[0]
            for r in ctx.conn.execute(
                Response.__table__.select()
                .with_only_columns(Response.__table__.c.id)
                .where(Response.__table__.c.survey_id == survey_id)
                .order_by(Response.__table__.c.id)
            )
        ]
        _insert(
            ctx,
            Answer.__table__,
            (
                answer
                for response_id in response_ids
                for question_id, kind in questions[survey_id]
                for answer in _answers(rng, response_id, question_id, kind, choices)
            ),
            f"answers of survey {survey_id}",
        )
        done += count
        if count >= CHUNK * 4 or survey_id == survey_ids[-1] or survey_id % 20 == 0:
            ctx.progress(f"  responses: {done:,} (survey {survey_id})")
    # Bulk inserts skip the ORM hook that keeps the dashboard's rollup up to date.
    RESPONSE_DAYS.rebuild(ctx.conn)


def _answers(
    rng: random.Random,
    response_id: int,
    question_id: int,
    kind: QuestionKind,
    choices: dict[int, list[int]],
) -> list[dict[str, Any]]:
    if rng.random() < 0.08:  # skipped
        return []
    base = {"response_id": response_id, "question_id": question_id}
    if kind is QuestionKind.SINGLE_CHOICE:
        picked = [rng.choice(choices[question_id])]
    elif kind is QuestionKind.MULTIPLE_CHOICE:
        picked = _some(rng, choices[question_id], 1, 3)
    elif kind.is_likert:
        return [
            {
                **base,
                "text": None,
                "number": float(rng.randint(1, 5)),
                "choice_id": None,
            }
        ]
    elif kind is QuestionKind.RATING_0_10:
        return [
            {
                **base,
                "text": None,
                "number": float(rng.randint(0, 10)),
                "choice_id": None,
            }
        ]
    elif kind is QuestionKind.NUMBER:
        return [
            {
                **base,
                "text": None,
                "number": float(rng.randint(0, 100)),
                "choice_id": None,
            }
        ]
    else:
        if rng.random() < 0.7:
            return []
        return [
            {
                **base,
                "text": f"Comment {response_id}",
                "number": None,
                "choice_id": None,
            }
        ]
    return [{**base, "text": None, "number": None, "choice_id": c} for c in picked]


def _invitations(ctx: Context, survey_ids: list[int], now: datetime) -> None:
    """Invitations to the first tenth of the surveys (for response rates)."""
    rng = ctx.rng
    invited = survey_ids[: max(1, len(survey_ids) // 10)]
    per_survey = max(1, ctx.sizes["invitations"] // len(invited))
    member_ids = [
        r[0]
        for r in ctx.conn.execute(
            Member.__table__.select()
            .with_only_columns(Member.__table__.c.id)
            .order_by(Member.__table__.c.id)
        )
    ]

    def rows() -> Iterator[dict[str, Any]]:
        for survey_id in invited:
            for member_id in rng.sample(member_ids, min(per_survey, len(member_ids))):
                token = f"bench-invitation-{survey_id}-{member_id}"
                answered = rng.random() < 0.4
                yield {
                    "survey_id": survey_id,
                    "member_id": member_id,
                    "token_hash": hashlib.sha256(token.encode()).hexdigest(),
                    "delivery": Delivery.EMAIL if rng.random() < 0.8 else Delivery.POST,
                    "created_at": now,
                    "sent_at": now,
                    "reminded_at": None,
                    "answered_at": now if answered else None,
                }

    _insert(ctx, Invitation.__table__, rows(), "invitations")


#: Observations' sources in the order each metric's days fill them.
OBSERVATION_SOURCES = (Source.IMPORT, Source.MANUAL)


def metrics(ctx: Context) -> None:
    """Metrics with daily observations (one per metric, day and source)."""
    rng = ctx.rng
    now = datetime.now(UTC)
    days = (END - START).days + 1
    slots = days * len(OBSERVATION_SOURCES)
    total = ctx.sizes["observations"]
    count = max(ctx.sizes["metrics"], -(-total // slots))
    _insert(
        ctx,
        Metric.__table__,
        (
            {
                "key": f"bench-metric-{i}",
                "name": f"Bench metric {i}",
                "unit": "people",
                "description": "",
                "kind": MetricKind.FLOW if i % 3 else MetricKind.LEVEL,
                "higher_is_better": True,
                "target_value": float(rng.randint(100, 10_000)) if i % 4 == 0 else None,
                "target_period": TargetPeriod.MONTH if i % 4 == 0 else None,
                "channel_id": rng.choice(ctx.ids["channels"]) if i % 2 else None,
                "action_id": None,
                "is_system": False,
                "created_at": now,
                "updated_at": now,
            }
            for i in range(count)
        ),
        "metrics",
    )
    metric_ids = _ids(ctx, Metric.__table__)
    per_metric = [
        total // count + (1 if i < total % count else 0) for i in range(count)
    ]

    def rows() -> Iterator[dict[str, Any]]:
        for metric_id, n in zip(metric_ids, per_metric, strict=True):
            # The latest days first, so every metric has recent figures.
            for k in range(n):
                yield {
                    "metric_id": metric_id,
                    "observed_on": END - timedelta(days=k // len(OBSERVATION_SOURCES)),
                    "value": float(rng.randint(0, 5000)),
                    "source": OBSERVATION_SOURCES[k % len(OBSERVATION_SOURCES)],
                    "note": "",
                    "recorded_by_id": None,
                    "recorded_at": now,
                }

    _insert(ctx, Observation.__table__, rows(), "observations")
    # Bulk inserts skip the ORM hook that keeps the dashboard's rollups up to date.
    ctx.progress("  rolling up observations by day and month…")
    rebuild_metric_rollups(ctx.conn)


def feeds(ctx: Context) -> None:
    """Feeds (pointing nowhere until the runner serves them) with their mentions."""
    rng = ctx.rng
    now = datetime.now(UTC)
    count = ctx.sizes["feeds"]
    _insert(
        ctx,
        Feed.__table__,
        (
            {
                "url": f"http://127.0.0.1:9/feeds/{i}.xml",
                "name": f"Bench feed {i}",
                "phrases": "" if i % 2 else "hospital\nsurgery",
                "active": True,
                "etag": None,
                "last_modified": None,
                "last_polled_at": None,
                "last_success_at": None,
                "last_error": None,
                "failures": 0,
                "next_poll_after": None,
                "created_at": now,
                "updated_at": now,
            }
            for i in range(count)
        ),
        "feeds",
    )
    feed_ids = _ids(ctx, Feed.__table__)
    ctx.ids["feeds"] = feed_ids
    total = ctx.sizes["mentions"]
    tones = [None, Tone.POSITIVE, Tone.NEUTRAL, Tone.NEGATIVE]
    _insert(
        ctx,
        Mention.__table__,
        (
            {
                "feed_id": feed_ids[i % count],
                "guid": f"bench-{feed_ids[i % count]}-{i}",
                "published_on": ctx.moment().date(),
                "title": f"Hospital news {i}",
                "link": f"https://news.example/{i}",
                "summary": "A story about the local hospital.",
                "phrases": "hospital",
                "tone": rng.choices(tones, [40, 20, 30, 10])[0],
                "found_at": now,
            }
            for i in range(total)
        ),
        "mentions",
    )


#: The generator's steps in order (later steps use earlier ones' ids).
STEPS: list[Callable[[Context], None]] = [
    users,
    reference_lists,
    audiences,
    members,
    actions,
    activities,
    surveys,
    metrics,
    feeds,
]


def generate(
    engine: Engine,
    *,
    scale: float = 1.0,
    seed: int = SEED,
    progress: Callable[[str], None] = lambda _: None,
) -> dict[str, int]:
    """Fill an empty schema; return the row counts used. Deterministic for a seed."""
    if scale <= 0:
        raise ValueError("scale must be positive")
    sizes = {key: max(1, round(value * scale)) for key, value in SIZES.items()}
    sizes["users"] = max(sizes["users"], 3)
    with engine.begin() as conn:
        # A seeded generator for reproducible test data, not for secrets.
        rng = random.Random(seed)  # noqa: S311  # nosec B311
        ctx = Context(conn, rng, sizes, {}, progress)
        for step in STEPS:
            progress(f"generating {step.__name__}…")
            step(ctx)
    return sizes
