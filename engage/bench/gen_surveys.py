"""Benchmark data: surveys with questions, choices, invitations, responses, answers."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from datetime import date
from datetime import datetime
from datetime import timedelta
from typing import Any

from engage.bench.gen_rows import CHUNK
from engage.bench.gen_rows import END
from engage.bench.gen_rows import START
from engage.bench.gen_rows import Context
from engage.bench.gen_rows import insert_rows
from engage.bench.gen_rows import row_ids
from engage.bench.gen_rows import some
from engage.clock import utcnow
from engage.membership.models import Member
from engage.membership.models import Tier
from engage.surveys.models import Answer
from engage.surveys.models import Choice
from engage.surveys.models import Delivery
from engage.surveys.models import Invitation
from engage.surveys.models import Question
from engage.surveys.models import QuestionKind
from engage.surveys.models import Response
from engage.surveys.models import ResponseSource
from engage.surveys.models import Survey
from engage.surveys.models import SurveyStatus
from engage.surveys.rollup import RESPONSE_DAYS

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
    now = utcnow()
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
    insert_rows(ctx, Survey.__table__, survey_rows, "surveys")
    survey_ids = row_ids(ctx, Survey.__table__)
    ctx.ids["surveys"] = survey_ids
    insert_rows(
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
    insert_rows(
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

        insert_rows(
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
        insert_rows(
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
        picked = some(rng, choices[question_id], 1, 3)
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

    insert_rows(ctx, Invitation.__table__, rows(), "invitations")
