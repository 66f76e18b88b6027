"""Demo measures of reach: a year of values against targets, and media mentions.

Two metrics meet their targets and two fall short, so the dashboard and the reach
report show both. The example feed is never polled (the demo needs no network): its
mentions are stored here, each once (by its guid), in every tone and some not yet
rated. Values are counted back from the day the demo is loaded and are refreshed in
place on a later load, so nothing is added twice.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import timedelta

from sqlalchemy import select

from engage.actions.services import get_channel_by_name
from engage.clock import local_day
from engage.extensions import db
from engage.metrics.models import Feed
from engage.metrics.models import Mention
from engage.metrics.models import Metric
from engage.metrics.models import MetricKind
from engage.metrics.models import Source
from engage.metrics.models import TargetPeriod
from engage.metrics.models import Tone
from engage.metrics.services import upsert_observation
from engage.metrics.stages import metric_stage

DEMO_FEED_URL = "https://www.example.org/news/rss.xml"


@dataclass(frozen=True)
class DemoMetric:
    """A demo metric, its target and how its values run over the year."""

    key: str
    name: str
    unit: str
    kind: MetricKind
    channel: str
    target: float
    period: TargetPeriod
    first: int  #: the value a year ago
    rise: int  #: added at each observation
    monthly_on: int = 0  #: observed once a month on this day; 0 is weekly (Mondays)
    description: str = ""


DEMO_METRICS = (
    DemoMetric(
        "newsletter-readers",
        "Newsletter readership",
        "readers",
        MetricKind.FLOW,
        "Newsletter",
        1500.0,
        TargetPeriod.MONTH,
        1700,
        25,
        monthly_on=1,
        description="People who opened the members' newsletter at least once.",
    ),
    DemoMetric(
        "event-attendance",
        "Event attendance",
        "attendances",
        MetricKind.FLOW,
        "Event",
        500.0,
        TargetPeriod.QUARTER,
        240,
        6,
        monthly_on=20,
        description="People at our events, roadshows and drop-in sessions.",
    ),
    DemoMetric(
        "web-visits",
        "Website visits",
        "visits",
        MetricKind.FLOW,
        "Website",
        30000.0,
        TargetPeriod.MONTH,
        4400,
        18,
        description="Visits to the website's news and service pages.",
    ),
    DemoMetric(
        "social-followers",
        "Social media followers",
        "followers",
        MetricKind.LEVEL,
        "Social media",
        6000.0,
        TargetPeriod.YEAR,
        4100,
        20,
        description="Followers across our social media accounts.",
    ),
)


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def _dates(metric: DemoMetric, today: date) -> list[date]:
    """The year's observation days up to today: monthly on a day, or each Monday."""
    start = today - timedelta(days=365)
    if metric.monthly_on:
        days, current = [], _next_month(start).replace(day=metric.monthly_on)
        while current <= today:
            days.append(current)
            current = _next_month(current).replace(day=metric.monthly_on)
        return days
    monday = start - timedelta(days=start.weekday()) + timedelta(days=7)
    return [monday + timedelta(weeks=n) for n in range((today - monday).days // 7 + 1)]


#: (days ago, tone or None, headline, summary)
DEMO_MENTIONS = (
    (
        4,
        None,
        "Health chiefs urged to explain urgent care changes",
        "Councillors "
        "asked the integrated care board to set out its plans for urgent care.",
    ),
    (
        9,
        None,
        "Survey on urgent care opens",
        "Residents are asked for their views "
        "on NHS 111, A&E and the urgent treatment centre.",
    ),
    (
        13,
        Tone.NEUTRAL,
        "Urgent care plan published for local NHS",
        "The ICB and the hospital trust set out how they will manage demand.",
    ),
    (
        19,
        Tone.POSITIVE,
        "Vaccine uptake ahead of last year",
        "More over-65s have been vaccinated than at the same point last year.",
    ),
    (
        27,
        Tone.NEGATIVE,
        "Long queues at A&E as demand rises",
        "Patients describe waits of more than four hours at the county hospital.",
    ),
    (
        36,
        Tone.POSITIVE,
        "Library sessions help hundreds use the NHS App",
        "Digital champions have helped people order prescriptions online.",
    ),
    (
        48,
        Tone.NEUTRAL,
        "Board to meet in public next week",
        "Members of the public can ask questions at the board's meeting.",
    ),
    (
        55,
        Tone.NEGATIVE,
        "Parents frustrated by GP phone queues",
        "A parents' group says it can take an hour to get through at 8am.",
    ),
    (
        63,
        Tone.POSITIVE,
        "Call-back system cuts GP phone waits",
        "Practices using the new system report shorter queues on Monday mornings.",
    ),
    (
        71,
        Tone.NEUTRAL,
        "Health and wellbeing board agrees priorities",
        "Mental health and healthy ageing top the list for the next two years.",
    ),
    (
        84,
        Tone.POSITIVE,
        "Carers praise new drop-in sessions",
        "The carers' centre says its members feel listened to.",
    ),
    (
        96,
        Tone.NEGATIVE,
        "Concern over mental health waiting times",
        "Healthwatch reports long waits for talking therapies.",
    ),
    (
        110,
        Tone.POSITIVE,
        "Patients' views shape GP access plans",
        "The ICB publishes what members told it and what it changed as a result.",
    ),
    (
        124,
        Tone.NEUTRAL,
        "ICB appoints new director of nursing",
        "The new director joins from a neighbouring trust.",
    ),
    (
        118,
        Tone.POSITIVE,
        "Pharmacy First campaign reaches thousands",
        "Pharmacies report more people coming in for common conditions.",
    ),
    (
        152,
        Tone.NEUTRAL,
        "GP survey results due soon",
        "The ICB will publish findings from its members' survey.",
    ),
    (
        168,
        Tone.NEGATIVE,
        "Patients unhappy with online booking",
        "Some practices' online systems show no appointments, readers say.",
    ),
    (
        181,
        Tone.POSITIVE,
        "Roadshow brings health checks to market towns",
        "Free blood pressure checks were offered at six market stalls.",
    ),
    (
        199,
        Tone.NEUTRAL,
        "Consultation on community services begins",
        "People are invited to comment on plans for community nursing.",
    ),
    (
        216,
        Tone.POSITIVE,
        "Young people to advise NHS on services",
        "A youth panel will help shape services for under-25s.",
    ),
    (
        233,
        Tone.NEGATIVE,
        "MP raises GP access in Parliament",
        "The local MP asked the minister about appointment waits in Northshire.",
    ),
    (
        251,
        Tone.POSITIVE,
        "Stakeholder event draws record attendance",
        "More than 100 partners joined the stakeholder event.",
    ),
    (
        270,
        Tone.NEUTRAL,
        "NHS changes explained at council meeting",
        "The ICB's chief executive briefed the council's scrutiny committee.",
    ),
    (
        292,
        Tone.POSITIVE,
        "New urgent treatment centre opening hours",
        "The centre now opens until 10pm every day.",
    ),
    (
        315,
        Tone.NEGATIVE,
        "Ambulance handover delays at county hospital",
        "Crews waited more than an hour on several evenings.",
    ),
    (
        338,
        Tone.NEUTRAL,
        "ICB annual report published",
        "The report sets out spending and performance for the year.",
    ),
    (
        357,
        Tone.POSITIVE,
        "Membership scheme passes 50 members",
        "The patient membership scheme is growing across the county.",
    ),
)


def load_demo_metrics(*, now: datetime) -> None:
    """Create or refresh the demo metrics and their values; add the feed's mentions."""
    today = local_day(now)
    for spec in DEMO_METRICS:
        metric = db.session.scalar(select(Metric).where(Metric.key == spec.key))
        if metric is None:
            channel = get_channel_by_name(spec.channel)
            metric = Metric(
                key=spec.key,
                name=spec.name,
                unit=spec.unit,
                kind=spec.kind,
                description=spec.description,
                channel_id=channel.id if channel else None,
                created_at=now,
                updated_at=now,
            )
            db.session.add(metric)
        # The demo's story needs these targets (a metric from an earlier demo had
        # others): two are met and two are not.
        metric.target_value, metric.target_period = spec.target, spec.period
        # Attendances are an outtake, not reach; readers, visits and followers output.
        metric.stage = metric_stage(spec.key, spec.name, spec.unit)
        db.session.flush()
        for n, day in enumerate(_dates(spec, today)):
            # A steady rise with a seasonal wobble: deterministic, so reruns match.
            value = (
                spec.first + spec.rise * n + round(spec.first * 0.06 * math.sin(n / 2))
            )
            upsert_observation(
                metric,
                day,
                float(value),
                source=Source.IMPORT,
                note="Demo data",
                now=now,
            )
    _load_demo_feed(now=now)
    db.session.flush()


def _load_demo_feed(*, now: datetime) -> None:
    feed = db.session.scalar(select(Feed).where(Feed.url == DEMO_FEED_URL))
    if feed is None:
        feed = Feed(
            url=DEMO_FEED_URL,
            name="Local news (example, not polled)",
            phrases="Northshire\nICB\nGP",
            active=False,
            created_at=now,
            updated_at=now,
        )
        db.session.add(feed)
        db.session.flush()
    known = set(
        db.session.scalars(select(Mention.guid).where(Mention.feed_id == feed.id))
    )
    today = local_day(now)
    for days_ago, tone, title, summary in DEMO_MENTIONS:
        guid = "demo-" + re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
        if guid in known:
            continue
        db.session.add(
            Mention(
                feed_id=feed.id,
                guid=guid,
                published_on=today - timedelta(days=days_ago),
                title=title,
                link=f"https://www.example.org/news/{guid.removeprefix('demo-')}",
                summary=summary,
                phrases="Northshire",
                tone=tone,
                found_at=now - timedelta(days=days_ago) + timedelta(hours=3),
            )
        )
