"""Demo stakeholder map and action plan: audiences, owners and a year of deliveries.

The content follows the shape of a real commissioning group's plan (newsletters, GP
visits, stakeholder events, the PPI scheme, outreach), rewritten for a present-day
integrated care board. Every date is counted back from the day the demo is loaded, so
the plan reads as current on any date. Each audience and action is added only when
no record of that name exists, with its deliveries, so loading twice adds nothing.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta

from engage.accounts.models import User
from engage.accounts.services import get_user_by_email
from engage.actions.deliveries import DeliveryData
from engage.actions.deliveries import log_delivery
from engage.actions.models import Action
from engage.actions.models import ActionStatus
from engage.actions.models import Recurrence
from engage.actions.schedule import step
from engage.actions.services import ActionData
from engage.actions.services import change_status
from engage.actions.services import create_action
from engage.actions.services import get_action_by_title
from engage.actions.services import get_channel_by_name
from engage.audiences.models import Approach
from engage.audiences.models import AudienceContact
from engage.audiences.models import AudienceGroup
from engage.audiences.services import AudienceData
from engage.audiences.services import create_audience
from engage.audiences.services import get_audience_by_name
from engage.clock import local_day
from engage.extensions import db

LEAD = "lead@engage.example"
OFFICER = "officer@engage.example"
EVENTS_OFFICER = "officer2@engage.example"
ADMIN = "admin@engage.example"

#: How long before the load the map and plan were set up (so a year of history fits).
SET_UP_DAYS_AGO = 400


@dataclass(frozen=True)
class DemoAudience:
    """One audience on the demo map, with its scores, owner and named contacts."""

    name: str
    group: AudienceGroup
    approach: Approach
    influence: int
    interest: int
    owner: str
    notes: str = ""
    #: (name, role, email, phone)
    contacts: tuple[tuple[str, str, str, str], ...] = ()


P, C, V, T, M, I = (  # noqa: E741 (short names keep the table readable)
    AudienceGroup.PUBLIC,
    AudienceGroup.CLINICAL,
    AudienceGroup.PROVIDER,
    AudienceGroup.PARTNER,
    AudienceGroup.MEDIA,
    AudienceGroup.INTERNAL,
)
MANAGE, INFORM, MONITOR = Approach.MANAGE, Approach.INFORM, Approach.MONITOR

#: The map: key players (both scores 3+), keep satisfied (influence 4-5, interest
#: 1-2), keep informed (influence 1-2, interest 3+) and monitor (both 1-2).
DEMO_AUDIENCES = (
    # Key players
    DemoAudience(
        "GP practices and primary care networks",
        C,
        MANAGE,
        5,
        5,
        LEAD,
        "41 member practices in 9 primary care networks; visited in rotation.",
        (
            (
                "Dr Ruth Okafor",
                "Clinical director, Northshire South PCN",
                "ruth.okafor@example.nhs.uk",
                "",
            ),
        ),
    ),
    DemoAudience(
        "Healthwatch Northshire",
        T,
        MANAGE,
        4,
        5,
        OFFICER,
        "The independent patient voice; shares what people tell it each quarter.",
        (
            (
                "Janet Moss",
                "Chief executive",
                "janet.moss@example.org",
                "01632 960120",
            ),
        ),
    ),
    DemoAudience(
        "PPI members",
        P,
        MANAGE,
        3,
        5,
        OFFICER,
        "Our Gold and Silver members: focus groups, readers' panel and surveys.",
    ),
    DemoAudience(
        "Patients and the public",
        P,
        MANAGE,
        3,
        4,
        OFFICER,
        "Two-way engagement through the membership scheme, events and surveys.",
    ),
    DemoAudience(
        "Northshire County Council",
        T,
        MANAGE,
        5,
        4,
        LEAD,
        "Adult social care and public health; joint commissioning.",
        (
            (
                "Cllr Peter Grant",
                "Cabinet member for adult social care",
                "peter.grant@example.gov.uk",
                "",
            ),
        ),
    ),
    DemoAudience(
        "Health and wellbeing board",
        T,
        MANAGE,
        5,
        3,
        LEAD,
        "Meets every two months; signs off the joint local health strategy.",
    ),
    DemoAudience(
        "Northshire Hospitals NHS Foundation Trust",
        V,
        MANAGE,
        4,
        4,
        LEAD,
        "Acute provider; its communications team shares urgent care messages.",
        (
            (
                "Mark Ellis",
                "Head of communications",
                "mark.ellis@example.nhs.uk",
                "01632 960155",
            ),
        ),
    ),
    # Keep satisfied
    DemoAudience(
        "Members of Parliament",
        T,
        MANAGE,
        5,
        2,
        LEAD,
        "Five constituencies; briefed before any service change is announced.",
    ),
    DemoAudience(
        "NHS England regional team",
        T,
        MANAGE,
        5,
        1,
        LEAD,
        "Assurance of our involvement duty; wants evidence, not updates.",
    ),
    DemoAudience(
        "Local print and broadcast media",
        M,
        MANAGE,
        4,
        2,
        OFFICER,
        "Two local papers, BBC local radio and a community station.",
        (
            (
                "Sophie Turner",
                "Health reporter, Northshire Echo",
                "newsdesk@example.com",
                "01632 960188",
            ),
        ),
    ),
    DemoAudience(
        "Neighbouring integrated care boards",
        T,
        MANAGE,
        4,
        2,
        LEAD,
        "Shared campaigns where patients cross the border for care.",
    ),
    # Keep informed
    DemoAudience(
        "Patient participation groups",
        P,
        INFORM,
        2,
        5,
        EVENTS_OFFICER,
        "About two practices in three have a group; we help the others start one.",
    ),
    DemoAudience(
        "Voluntary and community groups",
        P,
        INFORM,
        2,
        4,
        EVENTS_OFFICER,
        "Reached through the council for voluntary service's mailing list.",
    ),
    DemoAudience(
        "Unpaid carers",
        P,
        INFORM,
        1,
        4,
        EVENTS_OFFICER,
        "Through the carers' centre and its support groups.",
    ),
    DemoAudience(
        "Communities we seldom hear from",
        P,
        INFORM,
        2,
        3,
        EVENTS_OFFICER,
        "Outreach with faith groups, Gypsy and Traveller liaison and the food bank.",
    ),
    DemoAudience(
        "Young people's groups",
        P,
        INFORM,
        1,
        3,
        EVENTS_OFFICER,
        "Youth council and college student unions.",
    ),
    DemoAudience(
        "Community pharmacies",
        C,
        INFORM,
        2,
        4,
        OFFICER,
        "Through the local pharmaceutical committee.",
    ),
    DemoAudience(
        "ICB staff and board",
        I,
        INFORM,
        2,
        4,
        OFFICER,
        "Weekly staff briefing and the board's public meetings.",
    ),
    # Monitor
    DemoAudience(
        "Parish and town councils",
        T,
        MONITOR,
        2,
        2,
        EVENTS_OFFICER,
        "Contacted when a change affects their area.",
    ),
    DemoAudience(
        "Police, prisons and probation",
        T,
        MONITOR,
        2,
        1,
        LEAD,
        "Possible partners on health in the justice system.",
    ),
    DemoAudience(
        "Universities and colleges",
        T,
        MONITOR,
        1,
        2,
        OFFICER,
        "Student health and workforce placements.",
    ),
    DemoAudience(
        "Local employers",
        P,
        MONITOR,
        1,
        1,
        EVENTS_OFFICER,
        "Workplace health campaigns with the chamber of commerce.",
    ),
)


# Reach figures: each kind of delivery reports the figures its channel gives ----------


Figures = Callable[[random.Random, int], tuple[tuple[str, int], ...]]


def _mailing(base: int, growth: int, open_rate: float) -> Figures:
    """Recipients, opens and clicks of an emailed newsletter (growing each issue)."""

    def figures(rng: random.Random, n: int) -> tuple[tuple[str, int], ...]:
        recipients = base + growth * n + rng.randint(-6, 6)
        opens = round(recipients * (open_rate + rng.uniform(-0.05, 0.05)))
        clicks = round(opens * rng.uniform(0.12, 0.22))
        return (("recipients", recipients), ("opens", opens), ("clicks", clicks))

    return figures


def _social(rng: random.Random, n: int) -> tuple[tuple[str, int], ...]:
    impressions = 18_000 + 900 * n + rng.randint(-2_500, 2_500)
    return (
        ("impressions", impressions),
        ("clicks", round(impressions * rng.uniform(0.015, 0.03))),
    )


def _visits(rng: random.Random, n: int) -> tuple[tuple[str, int], ...]:
    return (("visits", 1_400 + 60 * n + rng.randint(-200, 200)),)


def _attendance(low: int, high: int) -> Figures:
    def figures(rng: random.Random, n: int) -> tuple[tuple[str, int], ...]:
        return (("attendances", rng.randint(low, high)),)

    return figures


def _press(rng: random.Random, n: int) -> tuple[tuple[str, int], ...]:
    return (("impressions", rng.randint(8_000, 42_000)),)


@dataclass(frozen=True)
class DemoAction:
    """One action in the demo plan and how it has been delivered over the year.

    ``plan`` says what its year looked like: "cycle" (delivered every cycle of its
    recurrence; ``missed`` cycles not yet delivered make it overdue), "ongoing"
    (delivered in the months ``months_ago``), "done" (a one-off delivered
    ``days`` ago), "due" (a one-off due in ``days`` days; negative is overdue),
    "unscheduled" (no date yet) or "cancelled".
    """

    title: str
    channel: str
    audiences: tuple[str, ...]
    owners: tuple[str, ...]
    recurrence: Recurrence
    timescale: str
    measure: str
    plan: str
    what: str = ""  #: the delivery's description; {month} is its month and year
    figures: Figures | None = None
    day: int = 10  #: the day of the month a cycle falls on
    month: int = 0  #: the month a yearly cycle falls in
    missed: int = 0
    months_ago: tuple[int, ...] = ()
    days: int = 0
    responsibility: str = ""


_PPI = ("PPI members", "Patients and the public")
_PARTNERS = (
    "Northshire County Council",
    "Health and wellbeing board",
    "Healthwatch Northshire",
    "Northshire Hospitals NHS Foundation Trust",
    "Members of Parliament",
    "NHS England regional team",
    "Neighbouring integrated care boards",
)
#: Partners who get the monthly briefing (MPs and NHS England hear at events).
_BRIEFED = _PARTNERS[:4] + _PARTNERS[-1:]
_COMMUNITY = (
    "Voluntary and community groups",
    "Unpaid carers",
    "Communities we seldom hear from",
)

DEMO_ACTIONS = (
    DemoAction(
        "Members' newsletter",
        "Newsletter",
        _PPI,
        (OFFICER,),
        Recurrence.MONTHLY,
        "Monthly",
        "Readers, opens and replies grow each quarter",
        "cycle",
        "{month} members' newsletter sent",
        _mailing(380, 12, 0.46),
        day=5,
    ),
    DemoAction(
        "GP bulletin",
        "Newsletter",
        ("GP practices and primary care networks", "Community pharmacies"),
        (OFFICER, LEAD),
        Recurrence.MONTHLY,
        "Monthly",
        "Practices open and use the bulletin; fewer repeat questions to the team",
        "cycle",
        "{month} GP bulletin sent",
        _mailing(640, 4, 0.55),
        day=12,
    ),
    DemoAction(
        "Stakeholder briefing",
        "Newsletter",
        _BRIEFED,
        (LEAD,),
        Recurrence.MONTHLY,
        "Monthly",
        "Partners hear of changes from us first",
        "cycle",
        "{month} stakeholder briefing sent",
        _mailing(170, 2, 0.62),
        day=20,
    ),
    DemoAction(
        "Social media: health campaigns and service updates",
        "Social media",
        ("Patients and the public",),
        (OFFICER,),
        Recurrence.ONGOING,
        "Ongoing",
        "Impressions, clicks and followers",
        "ongoing",
        "Social media round-up for {month}",
        _social,
        day=28,
        months_ago=tuple(range(1, 13)),
    ),
    DemoAction(
        "Website: news and service pages",
        "Website",
        ("Patients and the public",),
        (OFFICER,),
        Recurrence.ONGOING,
        "Ongoing",
        "Visits to service pages; fewer calls asking where to go",
        "ongoing",
        "Website news and service pages updated for {month}",
        _visits,
        day=27,
        months_ago=tuple(range(1, 13)),
    ),
    DemoAction(
        "Press office: proactive stories",
        "Press and media",
        ("Local print and broadcast media",),
        (OFFICER, LEAD),
        Recurrence.ONGOING,
        "Ongoing",
        "Positive coverage each month; every enquiry answered the same day",
        "ongoing",
        "Press release issued ({month})",
        _press,
        day=16,
        months_ago=(1, 2, 4, 5, 7, 9, 10, 11),
    ),
    DemoAction(
        "GP practice engagement visits",
        "Face-to-face",
        ("GP practices and primary care networks", "Patient participation groups"),
        (LEAD, EVENTS_OFFICER),
        Recurrence.QUARTERLY,
        "Quarterly, a network at a time",
        "Each network visited every quarter; actions agreed and followed up",
        "cycle",
        "Practice visits for the quarter ({month})",
        _attendance(14, 40),
        day=8,
    ),
    DemoAction(
        "Patient participation group network meeting",
        "Meeting",
        ("Patient participation groups", "PPI members"),
        (EVENTS_OFFICER,),
        Recurrence.QUARTERLY,
        "Quarterly",
        "Every practice with a group sends someone; new groups started",
        "cycle",
        "Network meeting held ({month})",
        _attendance(18, 35),
        day=22,
    ),
    DemoAction(
        "Stakeholder event",
        "Event",
        (*_BRIEFED, "Members of Parliament", "Voluntary and community groups"),
        (LEAD, EVENTS_OFFICER),
        Recurrence.BIANNUALLY,
        "Twice a year",
        "Partners shape our priorities; feedback score of 4 out of 5 or more",
        "cycle",
        "Stakeholder event held ({month})",
        _attendance(70, 120),
        day=18,
    ),
    DemoAction(
        "Community roadshows",
        "Outreach",
        (*_COMMUNITY, "Parish and town councils"),
        (EVENTS_OFFICER,),
        Recurrence.MONTHLY,
        "Monthly",
        "Conversations held in every district; views from people we seldom hear from",
        "cycle",
        "Roadshow stand ({month})",
        _attendance(25, 90),
        day=14,
        missed=3,
    ),
    DemoAction(
        "Carers' drop-in sessions",
        "Face-to-face",
        ("Unpaid carers",),
        (EVENTS_OFFICER,),
        Recurrence.BIMONTHLY,
        "Every two months",
        "Carers' views fed into the carers' strategy",
        "cycle",
        "Drop-in at the carers' centre ({month})",
        _attendance(8, 22),
        day=3,
    ),
    DemoAction(
        "Board meetings in public",
        "Meeting",
        ("ICB staff and board", "Patients and the public"),
        (LEAD, ADMIN),
        Recurrence.BIMONTHLY,
        "Every two months",
        "Public questions answered at every meeting",
        "cycle",
        "Board met in public ({month})",
        _attendance(20, 45),
        day=24,
    ),
    DemoAction(
        "Pharmacy First awareness campaign",
        "Social media",
        ("Patients and the public", "Community pharmacies"),
        (OFFICER,),
        Recurrence.NONE,
        "A six-week campaign",
        "More people use a pharmacy first for the seven common conditions",
        "done",
        "Campaign ran on social media, radio and in pharmacies",
        _social,
        days=125,
    ),
    DemoAction(
        "NHS App help sessions in libraries",
        "Face-to-face",
        ("PPI members", "Patients and the public", "Communities we seldom hear from"),
        (EVENTS_OFFICER,),
        Recurrence.NONE,
        "Over four weeks",
        "People leave able to order repeat prescriptions and book appointments",
        "done",
        "Eight sessions held in four libraries",
        _attendance(60, 95),
        days=120,
    ),
    DemoAction(
        "Involvement report to NHS England",
        "Partnership",
        ("NHS England regional team",),
        (LEAD,),
        Recurrence.NONE,
        "Once a year",
        "Assurance that we meet our legal duty to involve the public",
        "done",
        "Annual involvement report sent to the regional team",
        None,
        days=75,
    ),
    DemoAction(
        "Getting a GP appointment survey",
        "Survey",
        ("PPI members",),
        (OFFICER,),
        Recurrence.NONE,
        "Four weeks, then findings",
        "At least 40 responses; findings published as you said, we did",
        "done",
        "Findings published as you said, we did",
        None,
        days=115,
    ),
    DemoAction(
        "Urgent care review: public survey",
        "Survey",
        ("Patients and the public", "PPI members"),
        (OFFICER, EVENTS_OFFICER),
        Recurrence.NONE,
        "Four weeks",
        "Responses from every district and from people who used each service",
        "due",
        days=21,
    ),
    DemoAction(
        "Winter vaccination campaign",
        "Press and media",
        ("Patients and the public", "Local print and broadcast media", "Unpaid carers"),
        (OFFICER, LEAD),
        Recurrence.ANNUALLY,
        "Every autumn",
        "Uptake of flu and COVID-19 vaccines at least as high as last winter",
        "cycle",
        "Winter vaccination campaign launched ({month})",
        _press,
        day=1,
        month=10,
    ),
    DemoAction(
        "Crisis communications plan refresh",
        "Training",
        ("ICB staff and board",),
        (OFFICER, LEAD),
        Recurrence.NONE,
        "Six months",
        "Plan tested in an exercise; on-call staff trained",
        "due",
        days=-12,
    ),
    DemoAction(
        "Media training for spokespeople",
        "Training",
        ("ICB staff and board",),
        (LEAD,),
        Recurrence.NONE,
        "A one-day course",
        "Every director confident in a broadcast interview",
        "due",
        days=-26,
        responsibility="Regional communications team (training provider)",
    ),
    DemoAction(
        "Mental health services review: involvement plan",
        "Partnership",
        ("Healthwatch Northshire", "Voluntary and community groups", "PPI members"),
        (LEAD, OFFICER),
        Recurrence.NONE,
        "Before the review starts",
        "People who use services help design the review",
        "due",
        days=45,
    ),
    DemoAction(
        "Youth health ambassadors",
        "Outreach",
        ("Young people's groups", "Universities and colleges"),
        (EVENTS_OFFICER,),
        Recurrence.NONE,
        "TBC",
        "Ten young people recruited and trained",
        "unscheduled",
    ),
    DemoAction(
        "Workplace health talks",
        "Outreach",
        ("Local employers",),
        (EVENTS_OFFICER,),
        Recurrence.NONE,
        "TBC",
        "Talks at five large employers",
        "unscheduled",
    ),
    DemoAction(
        "Printed service directory",
        "Outreach",
        ("Patients and the public",),
        (OFFICER,),
        Recurrence.NONE,
        "Stopped",
        "Replaced by the website's service finder",
        "cancelled",
    ),
)


# Loading -----------------------------------------------------------------------------


def _at(day: date) -> datetime:
    """Mid-morning (UTC) of a day: when a demo delivery was logged."""
    return datetime.combine(day, time(10, 0), tzinfo=UTC)


def _user(email: str) -> User:
    user = get_user_by_email(email)
    if user is None:  # the demo users are made first
        raise LookupError(f"demo user {email} is missing")
    return user


def load_demo_audiences(*, now: datetime) -> int:
    """Add the demo audiences that are missing, with their contacts; return how many."""
    set_up = now - timedelta(days=SET_UP_DAYS_AGO)
    added = 0
    for spec in DEMO_AUDIENCES:
        if get_audience_by_name(spec.name) is not None:
            continue
        audience = create_audience(
            AudienceData(
                name=spec.name,
                group=spec.group,
                approach=spec.approach,
                influence=spec.influence,
                interest=spec.interest,
                owner_id=_user(spec.owner).id,
                notes=spec.notes,
            ),
            actor="system",
            now=set_up,
        )
        for name, role, email, phone in spec.contacts:
            audience.contacts.append(
                AudienceContact(name=name, role=role, email=email, phone=phone)
            )
        added += 1
    db.session.flush()
    return added


def _occurrences(spec: DemoAction, today: date) -> list[date]:
    """The days a cycle fell on in the last year, up to yesterday, less those missed."""
    last = today - timedelta(days=1)
    latest = date(last.year, spec.month or last.month, min(spec.day, 28))
    while latest > last:
        latest = step(latest, spec.recurrence, -1) or latest
    days = [latest]
    while True:
        earlier = step(days[0], spec.recurrence, -1)
        if earlier is None or earlier <= today - timedelta(days=365):
            break
        days.insert(0, earlier)
    return days[: len(days) - spec.missed] if spec.missed else days


def _month_day(today: date, months_ago: int, day: int) -> date:
    index = today.year * 12 + today.month - 1 - months_ago
    return date(index // 12, index % 12 + 1, min(day, 28))


def _schedule(spec: DemoAction, today: date) -> tuple[list[date], date | None]:
    """The delivery days of an action and its first due date."""
    if spec.plan == "cycle":
        days = _occurrences(spec, today)
        return days, days[0] if days else None
    if spec.plan == "ongoing":
        return sorted(_month_day(today, m, spec.day) for m in spec.months_ago), None
    if spec.plan == "done":
        delivered = today - timedelta(days=spec.days)
        return [delivered], delivered + timedelta(days=3)
    if spec.plan == "due":
        return [], today + timedelta(days=spec.days)
    return [], None


def load_demo_actions(*, now: datetime) -> int:
    """Add the demo actions that are missing, with a year of deliveries.

    Returns how many actions were added.
    """
    today = local_day(now)
    set_up = now - timedelta(days=SET_UP_DAYS_AGO)
    added = 0
    for spec in DEMO_ACTIONS:
        if get_action_by_title(spec.title) is not None:
            continue
        _add_action(spec, today=today, set_up=set_up, now=now)
        added += 1
    db.session.flush()
    return added


def _add_action(
    spec: DemoAction, *, today: date, set_up: datetime, now: datetime
) -> Action:
    channel = get_channel_by_name(spec.channel)
    if channel is None:
        raise LookupError(f"channel {spec.channel} is missing")
    audiences = [get_audience_by_name(name) for name in spec.audiences]
    audience_ids = tuple(a.id for a in audiences if a is not None)
    owners = [_user(email) for email in spec.owners]
    days, due = _schedule(spec, today)
    action = create_action(
        ActionData(
            title=spec.title,
            channel_id=channel.id,
            audience_ids=audience_ids,
            owner_ids=tuple(u.id for u in owners),
            responsibility=spec.responsibility,
            due_date=due,
            timescale=spec.timescale,
            recurrence=spec.recurrence,
            success_measure=spec.measure,
        ),
        actor="system",
        now=set_up,
    )
    rng = random.Random(zlib.crc32(spec.title.encode()))  # noqa: S311  # nosec B311
    for n, day in enumerate(days):
        log_delivery(
            action,
            DeliveryData(
                occurred_on=day,
                description=spec.what.format(month=day.strftime("%B %Y")),
                audience_ids=audience_ids,
                figures=spec.figures(rng, n) if spec.figures else (),
                complete=spec.plan == "done",
            ),
            actor=owners[n % len(owners)],
            now=_at(day),
        )
    if spec.plan == "cancelled":
        change_status(action, ActionStatus.CANCELLED, actor=owners[0], now=now)
    return action
