"""Demo data for a fresh install: one user per role, the channels and the 2012 plan.

Loading is idempotent, so ``engage load-demo`` is safe to run twice: the reference
audiences and action plan go through the same importer as uploads, which matches
rows to what is saved by name and title.
"""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta
from importlib import resources

from engage.accounts.models import Role
from engage.accounts.services import DemoLogin
from engage.accounts.services import ensure_user
from engage.actions.services import seed_channels
from engage.imports.services import apply_import
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
    DemoLogin(Role.LEAD, "lead@engage.example", "demo lead reads the board report"),
)
DEMO_NAMES = {
    Role.ADMIN: "Ade Admin",
    Role.OFFICER: "Olu Officer",
    Role.LEAD: "Lee Lead",
}
#: The reference stakeholder map and action plan (2012), imported in this order.
DEMO_FILES = (
    ("audiences", "audiences-2012.csv"),
    ("actions", "action-plan-2012.csv"),
)


def load_demo(*, now: datetime) -> list[DemoLogin]:
    """Create or refresh the demo users, channels, audiences and plan.

    Returns the demo logins for printing. Flushes; the caller commits.
    """
    for login in DEMO_USERS:
        ensure_user(
            login.email, DEMO_NAMES[login.role], login.role, login.password, now=now
        )
    seed_channels(now=now)
    folder = resources.files("engage") / "demo_data"
    for kind, name in DEMO_FILES:
        with (folder / name).open("rb") as source:
            apply_import(kind, source, name, actor="system", now=now)
    _load_demo_members(now=now)
    load_demo_survey(now=now)
    # Measures of reach
    from engage.metrics.demo import load_demo_metrics

    load_demo_metrics(now=now)
    return list(DEMO_USERS)


DEMO_PRACTICES = (
    ("Riverside Medical Centre", "Y00001"),
    ("Castle Street Surgery", "Y00002"),
    ("Meadowbank Health Centre", "Y00003"),
    ("Old Mill Practice", "Y00004"),
    ("Station Road Surgery", "Y00005"),
)

#: name, e-mail, phone, tier, how they joined, days ago, what happened since, topics.
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
    if members.get_member_by_email(DEMO_MEMBERS[0][1]) is not None:
        return
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


def _as_web_member(member: Member, *, pending: bool, now: datetime) -> None:
    """Make a demo member look as if they joined on the web form."""
    member.joined_by = ConsentMethod.WEB_FORM
    for record in member.consents:
        record.method = ConsentMethod.WEB_FORM
    if pending:
        member.status = MemberStatus.PENDING
    else:
        member.confirmed_at = now + timedelta(hours=2)
