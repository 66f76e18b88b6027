"""Demo data for a fresh install: a team of four, a year of work and its results.

Loading is idempotent, so ``engage load-demo`` is safe to run twice: each record is
added only when nothing of that name (or email address) is there yet, and the
measures of reach are refreshed in place. Dates are counted back from the day it is
loaded, so the demo reads as current whenever it is loaded. Random choices use fixed
seeds, so every load makes the same demo.
"""

from __future__ import annotations

import random
from datetime import datetime
from datetime import timedelta

from sqlalchemy import select

from engage.accounts.models import Role
from engage.accounts.services import DemoLogin
from engage.accounts.services import ensure_user
from engage.actions.services import seed_channels
from engage.audit.models import AuditEvent
from engage.audit.services import PUBLIC
from engage.audit.services import record_event
from engage.demo_plan import load_demo_actions
from engage.demo_plan import load_demo_audiences
from engage.extensions import db
from engage.membership import lists
from engage.membership import services as members
from engage.membership.models import ConsentMethod
from engage.membership.models import ContactChannel
from engage.membership.models import EqualityAnswers
from engage.membership.models import Member
from engage.membership.models import MemberStatus
from engage.membership.models import SupportNeed
from engage.membership.models import Tier
from engage.surveys.demo import load_demo_survey

DEMO_USERS = (
    DemoLogin(Role.ADMIN, "admin@engage.example", "demo admin keeps the keys"),
    DemoLogin(
        Role.OFFICER, "officer@engage.example", "demo officer plans the newsletter"
    ),
    DemoLogin(
        Role.OFFICER, "officer2@engage.example", "demo officer runs the roadshows"
    ),
    DemoLogin(Role.LEAD, "lead@engage.example", "demo lead reads the board report"),
)
#: Plain names for the demo team, by email address.
DEMO_NAMES = {
    "admin@engage.example": "Sam Carter",
    "officer@engage.example": "Olu Adebayo",
    "officer2@engage.example": "Megan Hughes",
    "lead@engage.example": "Helen Price",
}


def load_demo(*, now: datetime) -> list[DemoLogin]:
    """Create or refresh the demo team and add the demo data that is missing.

    Returns the demo logins for printing. Flushes; the caller commits.
    """
    for login in DEMO_USERS:
        ensure_user(
            login.email, DEMO_NAMES[login.email], login.role, login.password, now=now
        )
    seed_channels(now=now)
    load_demo_audiences(now=now)
    load_demo_actions(now=now)
    _load_demo_members(now=now)
    load_demo_survey(now=now)
    # Measures of reach and media monitoring
    from engage.metrics.demo import load_demo_metrics

    load_demo_metrics(now=now)
    from engage.mailings.demo import load_demo_mailings

    load_demo_mailings(now=now)
    from engage.involvement.demo import load_demo_involvement

    load_demo_involvement(now=now)
    from engage.relationships.demo import load_demo_relationships

    load_demo_relationships(now=now)
    return list(DEMO_USERS)


DEMO_PRACTICES = (
    ("Riverside Medical Centre", "Y00001"),
    ("Castle Street Surgery", "Y00002"),
    ("Meadowbank Health Centre", "Y00003"),
    ("Old Mill Practice", "Y00004"),
    ("Station Road Surgery", "Y00005"),
)

#: name, email, phone, tier, how they joined, days ago, what happened since, topics.
DEMO_MEMBERS = (
    (
        "Amira Khan",
        "amira.khan@example.org",
        "07700 900001",
        Tier.GOLD,
        "web",
        200,
        "",
        0,
    ),
    ("Brian O'Neill", "brian.oneill@example.org", "", Tier.SILVER, "web", 180, "", 1),
    (
        "Chloe Davies",
        "chloe.davies@example.org",
        "07700 900003",
        Tier.SILVER,
        "phone",
        150,
        "",
        2,
    ),
    ("Dev Patel", "dev.patel@example.org", "", Tier.GOLD, "web", 120, "champion", 3),
    ("Eleanor Hughes", "", "01632 960004", Tier.SILVER, "paper", 110, "", 6),
    (
        "Femi Adeyemi",
        "femi.adeyemi@example.org",
        "",
        Tier.SILVER,
        "web",
        90,
        "withdrawn",
        4,
    ),
    (
        "Grace Lee",
        "grace.lee@example.org",
        "07700 900007",
        Tier.GOLD,
        "phone",
        75,
        "",
        5,
    ),
    ("Harry Wilson", "harry.wilson@example.org", "", Tier.SILVER, "web", 60, "", 0),
    ("Isla Murray", "isla.murray@example.org", "", Tier.SILVER, "web", 3, "pending", 1),
    ("Jack Thompson", "", "01632 960010", Tier.GOLD, "paper", 40, "", 6),
    (
        "Kiran Shah",
        "kiran.shah@example.org",
        "07700 900011",
        Tier.SILVER,
        "web",
        20,
        "gold",
        2,
    ),
    (
        "Lucy Evans",
        "lucy.evans@example.org",
        "",
        Tier.SILVER,
        "web",
        10,
        "withdrawn",
        3,
    ),
)
_DEMO_EQUALITY = (
    ("65_74", "female", "white_british", "yes"),
    ("45_54", "male", "asian_indian", "no"),
    ("75_plus", "female", "white_british", "yes"),
    (None, "prefer_not_to_say", None, None),
)


def _load_demo_members(*, now: datetime) -> None:
    """Topics, GP practices and a dozen members in every state (added only once)."""
    lists.seed_topics(now=now)
    known = {p.name for p in lists.list_practices()}
    for name, code in DEMO_PRACTICES:
        if name not in known:
            lists.save_practice(None, name=name, code=code, actor="system", now=now)
    if members.get_member_by_email(DEMO_MEMBERS[0][1]) is None:
        _add_named_members(now=now)
    if members.get_member_by_email(_generated_email(0)) is None:
        _add_generated_members(now=now)


def _add_named_members(*, now: datetime) -> None:
    """The dozen hand-written members, one in each state a member can be in."""
    practices = lists.list_practices()
    topics = lists.list_topics()
    for index, row in enumerate(DEMO_MEMBERS):
        name, email, phone, tier, how, days_ago, later, topic = row
        joined = now - timedelta(days=days_ago)
        data = members.MemberData(
            name=name,
            tier=tier,
            email=email,
            phone=phone,
            address="1 Example Street, Exampletown" if how == "paper" else "",
            postcode=("LS1 4AP", "M1 1AE", "B1 1BB")[index % 3],
            practice_id=practices[index % len(practices)].id,
            topic_ids=[topics[topic % len(topics)].id],
            support_needs=[SupportNeed.LARGE_PRINT] if how == "paper" else [],
            is_champion=later == "champion",
            consents={
                ContactChannel.EMAIL: bool(email),
                ContactChannel.PHONE: bool(phone),
                ContactChannel.POST: how == "paper",
            },
        )
        method = ConsentMethod.PAPER if how == "paper" else ConsentMethod.PHONE
        member = members.add_member(data, method=method, actor="system", now=joined)
        if how == "web":
            _as_web_member(member, pending=later == "pending", now=joined)
        if later == "gold":
            members.change_tier(member, Tier.GOLD, actor="system", now=now)
        if later == "withdrawn":
            members.withdraw_on_request(
                member, actor="system", now=joined + timedelta(days=days_ago // 2)
            )
        if index < len(_DEMO_EQUALITY):
            age, sex, ethnicity, disability = _DEMO_EQUALITY[index]
            member.equality = EqualityAnswers(
                age_band=age,
                sex=sex,
                ethnicity=ethnicity,
                disability=disability,
                recorded_at=joined,
            )


#: Names for the generated members: every pairing is used at most once.
_FIRST_NAMES = (
    "Aisha",
    "Alan",
    "Angela",
    "Barbara",
    "Bilal",
    "Carol",
    "Colin",
    "Daniel",
    "Deborah",
    "Emeka",
    "Fatima",
    "Gareth",
    "Hannah",
    "Ian",
    "Joan",
    "Joseph",
    "Karen",
    "Leon",
    "Margaret",
    "Mohammed",
    "Nasreen",
    "Patricia",
    "Paul",
    "Rachel",
    "Raj",
    "Sandra",
    "Stephen",
    "Susan",
    "Thomas",
    "Wendy",
    "Yusuf",
    "Zoe",
)
_SURNAMES = (
    "Ahmed",
    "Baker",
    "Bennett",
    "Brown",
    "Chowdhury",
    "Clarke",
    "Edwards",
    "Fletcher",
    "Green",
    "Hall",
    "Hussain",
    "Jackson",
    "Jones",
    "Kaur",
    "Kelly",
    "Lewis",
    "Martin",
    "Mensah",
    "Morgan",
    "Nowak",
    "Okoro",
    "Parker",
    "Roberts",
    "Robinson",
    "Scott",
    "Singh",
    "Smith",
    "Taylor",
    "Walker",
    "Ward",
    "White",
    "Wright",
)
#: How many members the demo generates beyond the hand-written dozen.
GENERATED_MEMBERS = 80
#: Equality answers, weighted roughly as a PPI scheme's members answer them: mostly
#: older and White British, so a breakdown has large groups and small (suppressed) ones.
_AGES = (
    ("25_34", 2),
    ("35_44", 4),
    ("45_54", 8),
    ("55_64", 14),
    ("65_74", 16),
    ("75_plus", 9),
    ("prefer_not_to_say", 1),
)
_SEXES = (("female", 30), ("male", 20), ("prefer_not_to_say", 2))
_ETHNICITIES = (
    ("white_british", 38),
    ("asian_indian", 4),
    ("asian_pakistani", 3),
    ("black_caribbean", 2),
    ("black_african", 2),
    ("mixed_white_asian", 1),
    ("prefer_not_to_say", 2),
)
_DISABILITIES = (("yes", 14), ("no", 32), ("prefer_not_to_say", 3))
#: Members who asked for communication support (the Accessible Information Standard).
_SUPPORT = {
    3: [SupportNeed.LARGE_PRINT],
    11: [SupportNeed.EASY_READ],
    19: [SupportNeed.BSL],
    28: [SupportNeed.LARGE_PRINT, SupportNeed.AUDIO],
    41: [SupportNeed.ADVOCATE],
}


def _generated_names() -> list[tuple[str, str]]:
    # A fixed seed: every load makes the same demo.
    rng = random.Random(2026)  # noqa: S311  # nosec B311
    pairs = [(first, last) for first in _FIRST_NAMES for last in _SURNAMES]
    return rng.sample(pairs, GENERATED_MEMBERS)


def _generated_email(index: int) -> str:
    first, last = _generated_names()[index]
    return f"{first}.{last}@example.org".lower()


def _weighted(rng: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([v for v, _ in table], weights=[w for _, w in table])[0]


def _add_generated_members(*, now: datetime) -> None:
    """Five dozen more members who joined steadily over two years.

    About a third are Gold; most joined on the web, some by phone or on paper; a few
    need communication support; most answered the equality questions.
    """
    # A fixed seed: every load makes the same demo.
    rng = random.Random(12)  # noqa: S311  # nosec B311
    practices = lists.list_practices()
    topics = lists.list_topics()
    for index, (first, last) in enumerate(_generated_names()):
        joined = now - timedelta(days=8 + index * 11 + rng.randint(0, 6))
        how = "paper" if index % 9 == 4 else "phone" if index % 7 == 5 else "web"
        support = _SUPPORT.get(index, [])
        by_post = how == "paper" or SupportNeed.LARGE_PRINT in support
        phone = f"07700 900{100 + index:03d}" if rng.random() < 0.4 else ""
        data = members.MemberData(
            name=f"{first} {last}",
            tier=Tier.GOLD if rng.random() < 0.35 else Tier.SILVER,
            email=_generated_email(index),
            phone=phone,
            address="12 Example Road, Exampletown" if by_post else "",
            postcode=("LS1 4AP", "M1 1AE", "B1 1BB", "S1 2HE")[index % 4],
            practice_id=practices[rng.randrange(len(practices))].id,
            topic_ids=sorted({t.id for t in rng.sample(topics, rng.randint(1, 3))}),
            support_needs=support,
            is_champion=index in (7, 30),
            consents={
                ContactChannel.EMAIL: True,
                ContactChannel.PHONE: bool(phone) and rng.random() < 0.7,
                ContactChannel.POST: by_post,
            },
        )
        method = ConsentMethod.PAPER if how == "paper" else ConsentMethod.PHONE
        member = members.add_member(data, method=method, actor="system", now=joined)
        if how == "web":
            _as_web_member(member, pending=False, now=joined)
        if index in (15, 50):
            members.withdraw_on_request(
                member, actor="system", now=joined + timedelta(days=40)
            )
        if rng.random() < 0.85:
            member.equality = EqualityAnswers(
                age_band=_weighted(rng, _AGES),
                sex=_weighted(rng, _SEXES),
                ethnicity=_weighted(rng, _ETHNICITIES),
                disability=_weighted(rng, _DISABILITIES),
                recorded_at=joined,
            )


def _as_web_member(member: Member, *, pending: bool, now: datetime) -> None:
    """Make a demo member look as if they joined on the web form (their record, its
    consents and its history: the join, and the confirmation once confirmed)."""
    member.joined_by = ConsentMethod.WEB_FORM
    for record in member.consents:
        record.method = ConsentMethod.WEB_FORM
    added = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.entity_type == "member",
            AuditEvent.entity_id == str(member.id),
            AuditEvent.action == "create",
        )
    ).one()
    added.actor_label, added.action = PUBLIC, "register"
    if pending:
        member.status = MemberStatus.PENDING
        added.summary = "joined online, awaiting confirmation"
    else:
        member.confirmed_at = now + timedelta(hours=2)
        added.summary = "joined online"
        record_event(
            PUBLIC,
            "confirm",
            "member",
            member.id,
            "email confirmed",
            now=member.confirmed_at,
        )
