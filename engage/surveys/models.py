"""Survey models: surveys, questions, invitations, responses, answers and findings.

Anonymity (docs/security.md D8): a response to an anonymous survey stores no member id,
no IP address, user agent or session id, and only the day it was submitted; nothing
links it to an invitation. Segments (tier, practice, topics) are snapshots taken at
submission.
"""

from __future__ import annotations

import enum
from datetime import date
from datetime import datetime

from sqlalchemy import Column
from sqlalchemy import Float
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import Table
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from engage.db import TimestampMixin
from engage.db import str_enum
from engage.extensions import db
from engage.membership.models import Tier


class SurveyStatus(enum.StrEnum):
    """Where a survey is in its life."""

    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class QuestionKind(enum.StrEnum):
    """The kinds of question the builder offers."""

    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    LIKERT_AGREEMENT = "likert_agreement"
    LIKERT_SATISFACTION = "likert_satisfaction"
    RATING_0_10 = "rating_0_10"
    NUMBER = "number"
    SHORT_TEXT = "short_text"
    LONG_TEXT = "long_text"

    @property
    def label(self) -> str:
        return {
            "single_choice": "Single choice",
            "multiple_choice": "Multiple choice",
            "likert_agreement": "Agreement scale (5 points)",
            "likert_satisfaction": "Satisfaction scale (5 points)",
            "rating_0_10": "Rating from 0 to 10",
            "number": "Number",
            "short_text": "Short text",
            "long_text": "Long text",
        }[self.value]

    @property
    def has_choices(self) -> bool:
        return self in (QuestionKind.SINGLE_CHOICE, QuestionKind.MULTIPLE_CHOICE)

    @property
    def is_likert(self) -> bool:
        return self in (QuestionKind.LIKERT_AGREEMENT, QuestionKind.LIKERT_SATISFACTION)

    @property
    def is_text(self) -> bool:
        return self in (QuestionKind.SHORT_TEXT, QuestionKind.LONG_TEXT)

    @property
    def is_numeric(self) -> bool:
        """Answers are stored in ``Answer.number``."""
        return self.is_likert or self in (QuestionKind.RATING_0_10, QuestionKind.NUMBER)


#: The fixed labels of the Likert scales; answers are stored as 1–5 (index + 1).
LIKERT_LABELS: dict[QuestionKind, tuple[str, ...]] = {
    QuestionKind.LIKERT_AGREEMENT: (
        "Strongly disagree",
        "Disagree",
        "Neither agree nor disagree",
        "Agree",
        "Strongly agree",
    ),
    QuestionKind.LIKERT_SATISFACTION: (
        "Very dissatisfied",
        "Dissatisfied",
        "Neither satisfied nor dissatisfied",
        "Satisfied",
        "Very satisfied",
    ),
}


class Delivery(enum.StrEnum):
    """How an invitation reaches the member."""

    EMAIL = "email"
    POST = "post"

    @property
    def label(self) -> str:
        return {"email": "Email", "post": "Post"}[self.value]


class ResponseSource(enum.StrEnum):
    """Where a response came from."""

    WEB = "web"
    PAPER = "paper"
    PHONE = "phone"
    IMPORT = "import"

    @property
    def label(self) -> str:
        return {"web": "Online", "import": "Imported"}.get(
            self.value, self.value.capitalize()
        )


class Survey(TimestampMixin, db.Model):  # type: ignore[name-defined,misc]
    """A questionnaire."""

    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    introduction: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[SurveyStatus] = mapped_column(
        str_enum(SurveyStatus), default=SurveyStatus.DRAFT, index=True
    )
    #: Answering is refused before ``opens_at`` and from ``closes_at`` on.
    opens_at: Mapped[datetime | None]
    closes_at: Mapped[datetime | None] = mapped_column(index=True)
    #: Responses store no member id (public-link responses never do).
    anonymous: Mapped[bool] = mapped_column(default=True)
    #: SHA-256 of the public link's token; None when there is no public link.
    public_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    #: The public link's token itself: the link is made to be shared (posters, QR
    #: codes), so staff can see it again. Answers find the survey by the hash.
    public_token: Mapped[str | None] = mapped_column(String(64))
    #: The "you said, we did" page is public.
    results_published: Mapped[bool] = mapped_column(default=False)
    #: How the dates of imported exports are written when a file cannot tell
    #: (05/03/2024: True is 5 March, False 3 May), as last said on an import.
    import_day_first: Mapped[bool | None]
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )

    questions: Mapped[list[Question]] = relationship(
        back_populates="survey",
        cascade="all, delete-orphan",
        order_by="Question.position",
    )
    created_by = relationship("User")

    def is_open_at(self, now: datetime) -> bool:
        """Whether answers are accepted at ``now``."""
        return (
            self.status is SurveyStatus.OPEN
            and (self.opens_at is None or self.opens_at <= now)
            and (self.closes_at is None or now < self.closes_at)
        )


class Question(db.Model):  # type: ignore[name-defined,misc]
    """One question of a survey."""

    __tablename__ = "survey_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(
        ForeignKey("surveys.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    kind: Mapped[QuestionKind] = mapped_column(str_enum(QuestionKind, length=30))
    text: Mapped[str] = mapped_column(String(500))
    help_text: Mapped[str] = mapped_column(Text, default="")
    required: Mapped[bool] = mapped_column(default=False)
    #: Bounds for a number question (inclusive), when set.
    min_value: Mapped[float | None] = mapped_column(Float)
    max_value: Mapped[float | None] = mapped_column(Float)

    survey: Mapped[Survey] = relationship(back_populates="questions")
    choices: Mapped[list[Choice]] = relationship(
        back_populates="question",
        cascade="all, delete-orphan",
        order_by="Choice.position",
    )

    @property
    def scale_labels(self) -> tuple[str, ...]:
        """The five labels of a Likert question (empty for other kinds)."""
        return LIKERT_LABELS.get(self.kind, ())


class Choice(db.Model):  # type: ignore[name-defined,misc]
    """One option of a single- or multiple-choice question."""

    __tablename__ = "survey_choices"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(
        ForeignKey("survey_questions.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    label: Mapped[str] = mapped_column(String(300))

    question: Mapped[Question] = relationship(back_populates="choices")


class Invitation(db.Model):  # type: ignore[name-defined,misc]
    """A member's invitation to a survey, with a one-use answering link (hash only)."""

    __tablename__ = "survey_invitations"
    __table_args__ = (
        UniqueConstraint("survey_id", "member_id"),
        # Covers survey_figures.invitation_counts (answered or not, per survey).
        Index("ix_survey_invitations_survey_answered", "survey_id", "answered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(
        ForeignKey("surveys.id", ondelete="CASCADE"), index=True
    )
    #: None once the member is erased (the invitation still counts for the rate).
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    delivery: Mapped[Delivery] = mapped_column(str_enum(Delivery))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]

    survey: Mapped[Survey] = relationship()
    member = relationship("Member")


response_topics = Table(
    "survey_response_topics",
    db.metadata,
    Column(
        "response_id",
        ForeignKey("survey_responses.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("topic_id", ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_survey_response_topics_topic_id", "topic_id"),
)


class Response(db.Model):  # type: ignore[name-defined,misc]
    """One completed questionnaire (docs/security.md D8: see the module docstring)."""

    __tablename__ = "survey_responses"
    __table_args__ = (
        UniqueConstraint("survey_id", "external_key"),
        # Covers the dashboard's responses per survey in a period (no table reads).
        Index("ix_survey_responses_submitted_survey", "submitted_on", "survey_id"),
        # The same survey by survey, so they need no sort (dashboard).
        Index("ix_survey_responses_survey_submitted", "survey_id", "submitted_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(
        ForeignKey("surveys.id", ondelete="CASCADE"), index=True
    )
    #: The day only: never a time of day.
    submitted_on: Mapped[date] = mapped_column(index=True)
    source: Mapped[ResponseSource] = mapped_column(str_enum(ResponseSource))
    #: Set only for a named (not anonymous) survey answered through an invitation.
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), index=True
    )
    #: Segment snapshots taken at submission (invited responses only).
    tier: Mapped[Tier | None] = mapped_column(str_enum(Tier, length=30))
    practice_id: Mapped[int | None] = mapped_column(
        ForeignKey("practices.id", ondelete="SET NULL")
    )
    #: The row's key in another tool's export, so re-importing adds nothing.
    external_key: Mapped[str | None] = mapped_column(String(200))
    #: The member of staff who typed in a paper or phone response.
    entered_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )

    survey: Mapped[Survey] = relationship()
    answers: Mapped[list[Answer]] = relationship(
        back_populates="response", cascade="all, delete-orphan"
    )
    topics = relationship("Topic", secondary=response_topics, order_by="Topic.name")
    practice = relationship("Practice")
    entered_by = relationship("User")


class ResponseDay(db.Model):  # type: ignore[name-defined,misc]
    """Rollup: how many responses a survey received on a day (engage.surveys.rollup).

    Derived from responses only; never edited by hand.
    """

    __tablename__ = "survey_response_days"
    # Covers the dashboard's sums over a range of days (every survey, or per survey).
    __table_args__ = (
        Index("ix_survey_response_days_day", "day", "survey_id", "responses"),
    )

    survey_id: Mapped[int] = mapped_column(
        ForeignKey("surveys.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(primary_key=True)
    responses: Mapped[int]


#: A free-text answer with words in it: not empty, nor only spaces and line breaks
#: (a tab, CR and LF in the SQL literal). Written once, the same in the index that
#: lists and counts such answers and in the query it serves, as the databases match
#: a partial index to a query by its text.
HAS_WORDS_SQL = "text IS NOT NULL AND trim(text, ' \t\r\n') != ''"


class Answer(db.Model):  # type: ignore[name-defined,misc]
    """One answer; a multiple-choice question has one row per ticked choice."""

    __tablename__ = "survey_answers"
    __table_args__ = (
        # A question's free-text answers with words in them, newest first, and how
        # many there are: read from this index alone (reports.text_answer_query).
        Index(
            "ix_survey_answers_question_words",
            "question_id",
            "response_id",
            sqlite_where=sql_text(HAS_WORDS_SQL),
            postgresql_where=sql_text(HAS_WORDS_SQL),
        ),
        # Covering indexes for the results page's counts (reports.summary_results).
        Index(
            "ix_survey_answers_question_values", "question_id", "choice_id", "number"
        ),
        Index("ix_survey_answers_question_response", "question_id", "response_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(
        ForeignKey("survey_responses.id", ondelete="CASCADE"), index=True
    )
    question_id: Mapped[int] = mapped_column(
        ForeignKey("survey_questions.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str | None] = mapped_column(Text)
    #: Likert 1–5, rating 0–10 or a number.
    number: Mapped[float | None] = mapped_column(Float)
    choice_id: Mapped[int | None] = mapped_column(
        ForeignKey("survey_choices.id", ondelete="CASCADE"), index=True
    )

    response: Mapped[Response] = relationship(back_populates="answers")
    question: Mapped[Question] = relationship()
    choice: Mapped[Choice | None] = relationship()


finding_actions = Table(
    "survey_finding_actions",
    db.metadata,
    Column(
        "finding_id",
        ForeignKey("survey_findings.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("action_id", ForeignKey("actions.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_survey_finding_actions_action_id", "action_id"),
)


class Finding(TimestampMixin, db.Model):  # type: ignore[name-defined,misc]
    """A "you said, we did" finding: what people said and what was done about it."""

    __tablename__ = "survey_findings"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(
        ForeignKey("surveys.id", ondelete="CASCADE"), index=True
    )
    question_id: Mapped[int | None] = mapped_column(
        ForeignKey("survey_questions.id", ondelete="SET NULL")
    )
    theme: Mapped[str] = mapped_column(String(200))
    you_said: Mapped[str] = mapped_column(Text)
    we_did: Mapped[str] = mapped_column(Text, default="")
    published: Mapped[bool] = mapped_column(default=False)

    survey: Mapped[Survey] = relationship()
    question: Mapped[Question | None] = relationship()
    actions = relationship("Action", secondary=finding_actions, order_by="Action.title")


# Keeps survey_response_days up to date on every flush of responses.
from engage.surveys import rollup as _rollup  # noqa: E402,F401
