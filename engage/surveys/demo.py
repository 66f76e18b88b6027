"""Demo surveys: one open to the public now, one closed with "you said, we did".

Each is added once (found again by its title). Answers are drawn with a fixed seed, so
every load makes the same results.
"""

from __future__ import annotations

import random
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta

from sqlalchemy import select

from engage.accounts.models import User
from engage.actions.services import get_action_by_title
from engage.clock import local_day
from engage.extensions import db
from engage.membership.models import ContactChannel
from engage.membership.models import Member
from engage.membership.models import MemberStatus
from engage.surveys import answering
from engage.surveys import findings
from engage.surveys import services
from engage.surveys.models import Delivery
from engage.surveys.models import Invitation
from engage.surveys.models import QuestionKind
from engage.surveys.models import ResponseSource
from engage.surveys.models import Survey

DEMO_TITLE = "Urgent care services: tell us what you think"
GP_TITLE = "Getting a GP appointment: your experience"

_QUESTIONS = (
    services.QuestionData(
        kind=QuestionKind.SINGLE_CHOICE,
        text="Which service did you use most recently?",
        choices=("NHS 111", "Urgent treatment centre", "A&E", "GP out of hours"),
        required=True,
    ),
    services.QuestionData(
        kind=QuestionKind.LIKERT_SATISFACTION,
        text="How satisfied were you with the care you received?",
        required=True,
    ),
    services.QuestionData(
        kind=QuestionKind.RATING_0_10,
        text="How likely are you to recommend the service to friends and family?",
    ),
    services.QuestionData(
        kind=QuestionKind.LONG_TEXT,
        text="What one thing would have made your experience better?",
        help_text="Please do not include names or personal details.",
    ),
)

_URGENT_COMMENTS = (
    "Quicker call back from 111.",
    "The wait in A&E was over four hours.",
    "Clearer signs to the urgent treatment centre.",
    "I was sent to A&E when a GP could have helped.",
    "Somewhere to park.",
    "Being told how long the wait would be.",
    "The nurse at the treatment centre was kind and quick.",
    "A call back time I could plan around, not 'within six hours'.",
    "Water and somewhere to charge a phone while waiting.",
    "Knowing the urgent treatment centre could do X-rays would have saved a trip.",
)

_GP_QUESTIONS = (
    services.QuestionData(
        kind=QuestionKind.SINGLE_CHOICE,
        text="How did you last try to get an appointment?",
        choices=(
            "By phone",
            "Online (NHS App or practice website)",
            "In person at reception",
            "Someone did it for me",
        ),
        required=True,
    ),
    services.QuestionData(
        kind=QuestionKind.LIKERT_SATISFACTION,
        text="How satisfied were you with how easy it was to get an appointment?",
        required=True,
    ),
    services.QuestionData(
        kind=QuestionKind.LIKERT_AGREEMENT,
        text="I was told about other services that could help, such as a pharmacy.",
        required=True,
    ),
    services.QuestionData(
        kind=QuestionKind.RATING_0_10,
        text="How likely are you to recommend your GP practice to friends and family?",
    ),
    services.QuestionData(
        kind=QuestionKind.MULTIPLE_CHOICE,
        text="What would make it easier to get an appointment?",
        help_text="Choose all that apply.",
        choices=(
            "More phone lines at 8am",
            "A call back instead of waiting in a queue",
            "Online booking that is easier to use",
            "Evening and weekend appointments",
            "Clearer information about pharmacies and other services",
            "Help using the NHS App",
        ),
    ),
    services.QuestionData(
        kind=QuestionKind.LONG_TEXT,
        text="Is there anything else you would like to tell us?",
        help_text="Please do not include names or personal details.",
    ),
)

_GP_COMMENTS = (
    "I rang at 8am and was 23rd in the queue.",
    "The receptionist was helpful but there were no appointments left.",
    "I did not know the pharmacist could treat my ear infection.",
    "The NHS App is fine once you are set up, but setting it up was hard.",
    "I work shifts, so evening appointments would help me.",
    "My mother cannot use the internet and relies on the phone.",
    "A call back would let me get on with my day.",
    "Online booking never shows any appointments.",
    "I was seen the same day and the doctor was excellent.",
    "It would help to know which days are quieter to call.",
    "Text reminders work well for me.",
    "Please keep face-to-face appointments for people who need them.",
)

#: theme, the question it is about (index), what people said, what was done, actions.
_GP_FINDINGS = (
    (
        "Phoning at 8am",
        0,
        "Most of you phone the practice, and many waited more than 20 minutes at "
        "8am. Over half asked for more phone lines or a call back.",
        "We funded call-back systems in the 12 practices with the longest queues and "
        "now publish the quieter times to call on each practice's website.",
        ("GP practice engagement visits",),
    ),
    (
        "Help with the NHS App",
        4,
        "One in four of you would book online if you knew how, and several said "
        "setting up the NHS App was the hard part.",
        "We ran eight NHS App help sessions in libraries with our digital "
        "champions, and the members' newsletter now carries a how-to each month.",
        ("NHS App help sessions in libraries", "Members' newsletter"),
    ),
    (
        "Other services that can help",
        2,
        "Fewer than half of you were told about other services, and many did not "
        "know pharmacists can now treat some common conditions.",
        "We ran a Pharmacy First campaign on social media, local radio and in "
        "pharmacies, and practices now mention it in their phone message.",
        ("Pharmacy First awareness campaign",),
    ),
)


def _officer() -> User | None:
    return db.session.scalar(select(User).where(User.email == "officer@engage.example"))


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=UTC)


def load_demo_survey(*, now: datetime) -> None:
    """Add the demo surveys and their responses, unless they are already there."""
    officer = _officer()
    if officer is None:
        return
    if not db.session.scalar(select(Survey.id).where(Survey.title == DEMO_TITLE)):
        _add_urgent_care_survey(officer, now=now)
    if not db.session.scalar(select(Survey.id).where(Survey.title == GP_TITLE)):
        _add_gp_survey(officer, now=now)


def _add_urgent_care_survey(officer: User, *, now: datetime) -> None:
    """Open three weeks so far, closing in six days; anonymous, with a public link."""
    # A fixed seed: every load makes the same demo.
    rng = random.Random(111)  # noqa: S311  # nosec B311
    started = now - timedelta(days=20)
    survey = services.create_survey(
        services.SurveyData(
            title=DEMO_TITLE,
            introduction=(
                "We are reviewing urgent care in our area. Your answers are "
                "anonymous and help us decide what to change."
            ),
            closes_on=local_day(now + timedelta(days=6)),
        ),
        actor=officer,
        now=started,
    )
    for data in _QUESTIONS:
        services.add_question(survey, data, actor=officer, now=started)
    services.open_survey(survey, actor=officer, now=started)
    services.set_public_link(survey, actor=officer, now=started)
    choice, satisfaction, rating, comment = survey.questions
    for n in range(28):
        days_ago = 19 - (n * 19) // 28
        satisfied = rng.choices(range(1, 6), weights=(3, 4, 4, 9, 6))[0]
        answering.record_response(
            survey,
            {
                choice.id: choice.choices[
                    rng.choices(range(4), weights=(5, 4, 3, 2))[0]
                ].id,
                satisfaction.id: satisfied,
                rating.id: min(10, max(0, satisfied * 2 + rng.randint(-2, 1))),
                comment.id: (
                    _URGENT_COMMENTS[n % len(_URGENT_COMMENTS)]
                    if rng.random() < 0.5
                    else None
                ),
            },
            source=ResponseSource.PAPER if n % 6 == 5 else ResponseSource.WEB,
            entered_by=officer if n % 6 == 5 else None,
            now=now - timedelta(days=days_ago),
            check_open=False,
        )


def _invited_members(opened: datetime) -> list[Member]:
    """Members active when the survey opened who agreed to email, oldest first."""
    found = db.session.scalars(
        select(Member)
        .where(
            Member.status == MemberStatus.ACTIVE,
            Member.created_at < opened,
            Member.email.is_not(None),
        )
        .order_by(Member.created_at, Member.id)
    )
    return [
        member
        for member in found
        if any(c.channel is ContactChannel.EMAIL and c.granted for c in member.consents)
    ]


def _add_gp_survey(officer: User, *, now: datetime) -> None:
    """A named survey of members, closed four months ago, with published findings."""
    # A fixed seed: every load makes the same demo.
    rng = random.Random(7)  # noqa: S311  # nosec B311
    today = local_day(now)
    opened = _at(today - timedelta(days=165), 9)
    closes_on = today - timedelta(days=137)
    survey = services.create_survey(
        services.SurveyData(
            title=GP_TITLE,
            introduction=(
                "Tell us how easy it is to get an appointment at your GP practice. "
                "Your answers are linked to your membership so that we can follow "
                "up on what you tell us."
            ),
            closes_on=closes_on,
            anonymous=False,
        ),
        actor=officer,
        now=opened,
    )
    for data in _GP_QUESTIONS:
        services.add_question(survey, data, actor=officer, now=opened)
    services.open_survey(survey, actor=officer, now=opened)
    invitations = []
    for index, member in enumerate(_invited_members(opened)):
        invitation = Invitation(
            survey_id=survey.id,
            member_id=member.id,
            token_hash=services.token_hash(f"demo-{survey.id}-{index}"),
            delivery=Delivery.EMAIL,
            created_at=opened,
            sent_at=opened + timedelta(minutes=5),
        )
        db.session.add(invitation)
        invitations.append(invitation)
    db.session.flush()
    how, satisfied, told, recommend, easier, comment = survey.questions
    answered = rng.sample(invitations, min(len(invitations), 46))
    for n, invitation in enumerate(sorted(answered, key=lambda i: i.id)):
        # Most answer in the first days, a few later, up to the closing day.
        day = opened.date() + timedelta(days=int(rng.expovariate(0.12)) % 28)
        score = rng.choices(range(1, 6), weights=(6, 12, 10, 13, 5))[0]
        picks = rng.sample(range(6), rng.randint(1, 3))
        answering.record_response(
            survey,
            {
                how.id: how.choices[rng.choices(range(4), weights=(11, 5, 2, 1))[0]].id,
                satisfied.id: score,
                told.id: rng.choices(range(1, 6), weights=(7, 12, 8, 10, 4))[0],
                recommend.id: min(10, max(0, score * 2 + rng.randint(-2, 1))),
                easier.id: [easier.choices[i].id for i in picks],
                comment.id: (
                    _GP_COMMENTS[n % len(_GP_COMMENTS)] if rng.random() < 0.45 else None
                ),
            },
            source=ResponseSource.WEB,
            invitation=invitation,
            now=_at(day, 12),
            check_open=False,
        )
    closed = _at(closes_on + timedelta(days=1), 0)
    services.close_survey(survey, actor=officer, now=closed)
    reported = closed + timedelta(days=21)
    for theme, question, said, did, titles in _GP_FINDINGS:
        actions = [get_action_by_title(t) for t in titles]
        findings.save_finding(
            survey,
            None,
            findings.FindingData(
                theme=theme,
                you_said=said,
                we_did=did,
                question_id=survey.questions[question].id,
                action_ids=[a.id for a in actions if a is not None],
                published=True,
            ),
            actor=officer,
            now=reported,
        )
    findings.publish_findings(survey, True, actor=officer, now=reported)
