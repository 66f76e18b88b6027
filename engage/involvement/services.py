"""Involvement activities: making and changing them and their sessions, and the list.

Times are entered in UK time and stored in UTC. A series repeats the first session's
UK wall-clock time, so a group that meets at 6pm meets at 6pm in winter and summer
alike (its UTC time moves by an hour across the clock change). Nothing here commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from typing import Any

from sqlalchemy import Select
from sqlalchemy import and_
from sqlalchemy import case
from sqlalchemy import exists
from sqlalchemy import func
from sqlalchemy import null
from sqlalchemy import select
from sqlalchemy import update

from engage.accounts.models import User
from engage.actions.models import Action
from engage.actions.models import Recurrence
from engage.actions.schedule import occurrences
from engage.actions.schedule import step
from engage.audiences.models import Audience
from engage.audit.services import record_event
from engage.clock import local_to_utc
from engage.clock import to_local
from engage.errors import Conflict
from engage.errors import ValidationError
from engage.extensions import db
from engage.involvement.models import ActivityKind
from engage.involvement.models import ActivityStatus
from engage.involvement.models import Attendance
from engage.involvement.models import ExpenseClaim
from engage.involvement.models import InvolvementActivity
from engage.involvement.models import InvolvementInvitation
from engage.involvement.models import InvolvementRate
from engage.involvement.models import InvolvementSession
from engage.involvement.models import Reply
from engage.involvement.models import SendStatus
from engage.involvement.replies import fill_freed_places
from engage.membership.models import Practice
from engage.membership.models import SupportNeed
from engage.membership.models import Tier
from engage.membership.models import Topic

#: The audit log's name for these records.
ENTITY = "involvement_activity"
#: The most sessions a series is made with at once.
MAX_SERIES = 52
#: The most sessions one activity may have (a long-standing group adds more later).
MAX_SESSIONS = 200
#: How long a session may be, in minutes (15 minutes to 12 hours).
MIN_DURATION, MAX_DURATION = 15, 12 * 60
#: The most places a session may offer.
MAX_CAPACITY = 10_000
#: How a series may repeat (not "ongoing", which has no dates).
SERIES_RECURRENCES = (
    Recurrence.NONE,
    Recurrence.WEEKLY,
    Recurrence.MONTHLY,
    Recurrence.BIMONTHLY,
    Recurrence.QUARTERLY,
    Recurrence.BIANNUALLY,
)


class Refused(ValidationError):
    """A refusal about one field of the form (``field`` names it, if known)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Schedule:
    """When the sessions are: the first in UK time, how long, how often, how many."""

    first_day: date
    first_time: time
    duration_minutes: int = 90
    recurrence: Recurrence = Recurrence.NONE
    count: int = 1


@dataclass(frozen=True)
class ActivityData:
    """What the activity form gives (ids still to be checked against the tables)."""

    kind: ActivityKind
    title: str
    purpose: str = ""
    programme: str = ""
    action_id: int | None = None
    rate_id: int | None = None
    venue_name: str = ""
    venue_address: str = ""
    step_free: bool | None = None
    hearing_loop: bool | None = None
    parking: str = ""
    public_transport: str = ""
    accessibility_notes: str = ""
    online_link: str = ""
    capacity: int | None = None
    offers_interpreters: bool = False
    offers_bsl: bool = False
    offers_travel: bool = False
    offers_carers: bool = False
    support_notes: str = ""
    to_members: bool = True
    tier: Tier | None = Tier.GOLD
    topic_id: int | None = None
    practice_id: int | None = None
    support_need: SupportNeed | None = None
    audience_ids: list[int] = field(default_factory=list)
    by_email: bool = True
    by_sms: bool = False
    by_post: bool = False


#: The activity's own columns the form sets, in the order they are compared.
_COLUMNS = (
    "kind",
    "title",
    "purpose",
    "programme",
    "action_id",
    "rate_id",
    "venue_name",
    "venue_address",
    "step_free",
    "hearing_loop",
    "parking",
    "public_transport",
    "accessibility_notes",
    "online_link",
    "capacity",
    "offers_interpreters",
    "offers_bsl",
    "offers_travel",
    "offers_carers",
    "support_notes",
    "to_members",
    "tier",
    "topic_id",
    "practice_id",
    "support_need",
    "by_email",
    "by_sms",
    "by_post",
)
#: Columns whose change people already invited are told of (where to go).
_PLACE = ("venue_name", "venue_address", "online_link")


# Dates and times ------------------------------------------------------------------


def session_times(schedule: Schedule) -> list[tuple[datetime, datetime]]:
    """Each session's start and end (UTC) for ``schedule``.

    Every session starts at the first one's UK wall-clock time on its own date, so
    the UTC time moves an hour across the clock change and the UK time does not.
    """
    _check_duration(schedule.duration_minutes)
    if schedule.recurrence not in SERIES_RECURRENCES:
        raise Refused("Choose how often the sessions repeat", "recurrence")
    count = schedule.count
    if schedule.recurrence is Recurrence.NONE:
        if count != 1:
            raise Refused(
                "Choose how often the sessions repeat, or make it one session",
                "session_count",
            )
        days = [schedule.first_day]
    else:
        if not 2 <= count <= MAX_SERIES:
            raise Refused(
                f"A series has between 2 and {MAX_SERIES} sessions", "session_count"
            )
        last = step(schedule.first_day, schedule.recurrence, count - 1)
        if last is None:  # pragma: no cover - every series recurrence has a step
            raise ValidationError("Choose how often the sessions repeat")
        days = occurrences(schedule.first_day, schedule.recurrence, last)[:count]
    length = timedelta(minutes=schedule.duration_minutes)
    starts = [local_to_utc(day, schedule.first_time) for day in days]
    return [(begins, begins + length) for begins in starts]


def _check_duration(minutes: int) -> None:
    if not MIN_DURATION <= minutes <= MAX_DURATION:
        raise Refused(
            f"A session lasts between {MIN_DURATION} minutes and "
            f"{MAX_DURATION // 60} hours",
            "duration",
        )


def schedule_of(activity: InvolvementActivity) -> Schedule | None:
    """The schedule an activity's sessions were made with (for the edit form)."""
    if not activity.sessions:
        return None
    first = to_local(activity.sessions[0].starts_at)
    recurrence = activity.recurrence
    count = len(activity.sessions)
    if recurrence not in SERIES_RECURRENCES or (
        recurrence is not Recurrence.NONE and count < 2
    ):
        recurrence = Recurrence.NONE
    return Schedule(
        first_day=first.date(),
        first_time=first.time().replace(second=0, microsecond=0),
        duration_minutes=activity.duration_minutes,
        recurrence=recurrence,
        count=count if recurrence is not Recurrence.NONE else 1,
    )


# Checks ---------------------------------------------------------------------------


#: The ids the form may send, each with its table and the refusal if it is not found.
_LOOKUPS = (
    ("action_id", Action, "Choose an action from the plan, or none"),
    ("rate_id", InvolvementRate, "Choose an involvement level from the list"),
    ("topic_id", Topic, "Choose a topic from the list"),
    ("practice_id", Practice, "Choose a GP practice from the list"),
)


def _check(data: ActivityData) -> list[Audience]:
    """Refuse data that points at nothing, or invites nobody; the audiences chosen."""
    if not data.title.strip():
        raise Refused("Enter a title", "title")
    for name, model, refusal in _LOOKUPS:
        value = getattr(data, name)
        if value is not None and db.session.get(model, value) is None:
            raise Refused(refusal, name)
    if data.capacity is not None and not 1 <= data.capacity <= MAX_CAPACITY:
        raise Refused(f"Places must be between 1 and {MAX_CAPACITY:,}", "capacity")
    if data.online_link and not data.online_link.startswith("https://"):
        raise Refused("The joining link must start https://", "online_link")
    if not (data.by_email or data.by_sms or data.by_post):
        raise Refused("Choose at least one way to send the invitations", "channels")
    wanted = sorted(set(data.audience_ids))
    audiences = (
        list(db.session.scalars(select(Audience).where(Audience.id.in_(wanted))))
        if wanted
        else []
    )
    if len(audiences) != len(wanted):
        raise Refused("Choose audiences from the list", "audience_ids")
    if not data.to_members and not audiences:
        raise Refused(
            "Choose at least one audience, or invite PPI members", "audience_ids"
        )
    return sorted(audiences, key=lambda a: a.name)


def _apply(
    activity: InvolvementActivity, data: ActivityData, audiences: list[Audience]
) -> list[str]:
    """Set the activity's columns from ``data``; the names of those that changed."""
    changed = []
    for name in _COLUMNS:
        value = getattr(data, name)
        if getattr(activity, name) != value:
            setattr(activity, name, value)
            changed.append(name)
    if [a.id for a in activity.audiences] != [a.id for a in audiences]:
        activity.audiences = audiences
        changed.append("audiences")
    return changed


def has_invitations(activity: InvolvementActivity) -> bool:
    """Whether anyone has been asked to any of its sessions (sent or waiting)."""
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    InvolvementInvitation.session_id == InvolvementSession.id,
                    InvolvementSession.activity_id == activity.id,
                )
            )
        )
    )


def schedule_locked(activity: InvolvementActivity) -> bool:
    """Whether its sessions are kept one by one (people invited, or records kept).

    Until then, editing the activity remakes its sessions from the schedule; after,
    sessions are added, moved and removed one at a time.
    """
    if activity.id is None:
        return False
    if has_invitations(activity):
        return True
    sessions = select(InvolvementSession.id).where(
        InvolvementSession.activity_id == activity.id
    )
    for model in (Attendance, ExpenseClaim):
        if db.session.scalar(select(exists().where(model.session_id.in_(sessions)))):
            return True
    return False


def was_sent(session: InvolvementSession) -> bool:
    """Whether an invitation to ``session`` has gone out."""
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    InvolvementInvitation.session_id == session.id,
                    InvolvementInvitation.send_status == SendStatus.SENT,
                )
            )
        )
    )


def _invited_to(session: InvolvementSession) -> bool:
    return bool(
        db.session.scalar(
            select(exists().where(InvolvementInvitation.session_id == session.id))
        )
    )


# Activities -----------------------------------------------------------------------


def create_activity(
    data: ActivityData, schedule: Schedule, *, actor: User, now: datetime
) -> InvolvementActivity:
    """A new draft activity with the sessions its schedule gives."""
    audiences = _check(data)
    times = session_times(schedule)
    activity = InvolvementActivity(
        status=ActivityStatus.DRAFT,
        recurrence=schedule.recurrence,
        duration_minutes=schedule.duration_minutes,
        created_by_id=actor.id,
    )
    _apply(activity, data, audiences)
    if data.tier is None:
        # "Members of any tier": None would let the column's default (Gold) fire.
        activity.tier = null()
    for begins, ends in times:
        activity.sessions.append(InvolvementSession(starts_at=begins, ends_at=ends))
    db.session.add(activity)
    db.session.flush()
    record_event(
        actor,
        "create",
        ENTITY,
        activity.id,
        f"{activity.kind.label}, {len(times)} session{'s' if len(times) != 1 else ''}",
        now=now,
    )
    return activity


def update_activity(
    activity: InvolvementActivity,
    data: ActivityData,
    schedule: Schedule | None,
    *,
    actor: User,
    now: datetime,
    duration_minutes: int | None = None,
) -> list[str]:
    """Change an activity; the names of what changed (empty: nothing did).

    ``schedule`` remakes the sessions, only while no one has been invited and no
    record kept (see :func:`schedule_locked`). Otherwise ``duration_minutes`` (if
    given) changes the length of its sessions yet to come; a change of time or place
    after invitations went out is marked on those sessions so everyone is told.
    """
    if activity.status is ActivityStatus.CANCELLED:
        raise Conflict("This activity has been cancelled: it can no longer change")
    audiences = _check(data)
    changed = _apply(activity, data, audiences)
    if schedule is not None:
        changed += _reschedule(activity, schedule)
    elif duration_minutes is not None:
        changed += _lengthen(activity, duration_minutes, now)
    if "duration_minutes" in changed or any(name in changed for name in _PLACE):
        for session in _coming(activity, now):
            if was_sent(session):
                session.changed_at = now
    if "capacity" in changed:
        # More places (or no limit): those waiting get them, in the order they asked.
        for session in _coming(activity, now):
            fill_freed_places(session, now)
    if changed:
        record_event(actor, "update", ENTITY, activity.id, ", ".join(changed), now=now)
    return changed


def _reschedule(activity: InvolvementActivity, schedule: Schedule) -> list[str]:
    """Remake the sessions from ``schedule`` (only before anyone is invited)."""
    if schedule_locked(activity):
        raise Conflict("People have been invited: change its sessions one at a time")
    if schedule == schedule_of(activity):
        return []
    times = session_times(schedule)
    activity.sessions.clear()
    db.session.flush()
    for begins, ends in times:
        activity.sessions.append(InvolvementSession(starts_at=begins, ends_at=ends))
    activity.recurrence = schedule.recurrence
    activity.duration_minutes = schedule.duration_minutes
    return ["sessions"]


def _lengthen(activity: InvolvementActivity, minutes: int, now: datetime) -> list[str]:
    """A new length for the sessions still to come."""
    if minutes == activity.duration_minutes:
        return []
    _check_duration(minutes)
    activity.duration_minutes = minutes
    for session in _coming(activity, now):
        session.ends_at = aware(session.starts_at) + timedelta(minutes=minutes)
    return ["duration_minutes"]


def _coming(activity: InvolvementActivity, now: datetime) -> list[InvolvementSession]:
    """Its sessions not yet over and not called off."""
    return [
        s
        for s in activity.sessions
        if s.cancelled_at is None and aware(s.ends_at) > now
    ]


def aware(moment: datetime) -> datetime:
    """A stored moment as aware UTC (SQLite gives naive datetimes back)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def delete_activity(
    activity: InvolvementActivity, *, actor: User, now: datetime
) -> None:
    """Delete a draft that no one has been invited to (and nothing recorded on)."""
    if activity.status is not ActivityStatus.DRAFT:
        raise Conflict("Only a draft can be deleted; cancel it instead")
    if schedule_locked(activity):
        raise Conflict("People have been invited or records kept: it cannot be deleted")
    record_event(actor, "delete", ENTITY, activity.id, activity.kind.label, now=now)
    db.session.delete(activity)
    db.session.flush()


# Sessions -------------------------------------------------------------------------


def add_session(
    activity: InvolvementActivity,
    day: date,
    at: time,
    *,
    duration_minutes: int | None = None,
    actor: User,
    now: datetime,
) -> InvolvementSession:
    """Add one session on ``day`` at ``at`` (UK time)."""
    if activity.status is ActivityStatus.CANCELLED:
        raise Conflict("This activity has been cancelled: it can no longer change")
    if len(activity.sessions) >= MAX_SESSIONS:
        raise ValidationError(f"An activity has at most {MAX_SESSIONS} sessions")
    minutes = duration_minutes or activity.duration_minutes
    _check_duration(minutes)
    begins = local_to_utc(day, at)
    if any(aware(s.starts_at) == begins for s in activity.sessions):
        raise Refused("There is already a session at that date and time", "at")
    session = InvolvementSession(
        starts_at=begins, ends_at=begins + timedelta(minutes=minutes)
    )
    activity.sessions.append(session)
    db.session.flush()
    record_event(actor, "add_session", ENTITY, activity.id, begins.isoformat(), now=now)
    return session


def move_session(
    session: InvolvementSession,
    day: date,
    at: time,
    *,
    duration_minutes: int | None = None,
    actor: User,
    now: datetime,
) -> bool:
    """Move a session to ``day`` at ``at`` (UK time); whether anything changed.

    If invitations to it have gone out, ``changed_at`` is set so everyone asked is
    told of the new time.
    """
    activity = session.activity
    if activity.status is ActivityStatus.CANCELLED or session.cancelled_at:
        raise Conflict("A cancelled session cannot be moved")
    minutes = duration_minutes or round(
        (session.ends_at - session.starts_at).total_seconds() / 60
    )
    _check_duration(minutes)
    begins = local_to_utc(day, at)
    ends = begins + timedelta(minutes=minutes)
    if begins == aware(session.starts_at) and ends == aware(session.ends_at):
        return False
    if any(
        s.id != session.id and aware(s.starts_at) == begins for s in activity.sessions
    ):
        raise Refused("There is already a session at that date and time", "at")
    before = aware(session.starts_at)
    session.starts_at, session.ends_at = begins, ends
    if was_sent(session):
        session.changed_at = now
    if begins != before:
        # Reminders count from the new date: those sent for the old one are not
        # enough (a week's notice of a session now a month away).
        db.session.execute(
            update(InvolvementInvitation)
            .where(InvolvementInvitation.session_id == session.id)
            .values(reminded_week_at=None, reminded_day_at=None)
            .execution_options(synchronize_session=False)
        )
    # Keep the list in date order for the rest of this request.
    activity.sessions.sort(key=lambda s: aware(s.starts_at))
    record_event(
        actor,
        "move_session",
        ENTITY,
        activity.id,
        f"{before.isoformat()} \u2192 {begins.isoformat()}",
        now=now,
    )
    return True


def remove_session(session: InvolvementSession, *, actor: User, now: datetime) -> None:
    """Remove a session no one has been invited to (never the activity's last)."""
    activity = session.activity
    if _invited_to(session):
        raise Conflict(
            "People have been invited to this session: cancel it instead of removing it"
        )
    for model in (Attendance, ExpenseClaim):
        if db.session.scalar(select(exists().where(model.session_id == session.id))):
            raise Conflict("Attendance or claims are recorded for this session")
    if len(activity.sessions) <= 1:
        raise Conflict("An activity needs at least one session")
    when = aware(session.starts_at).isoformat()
    activity.sessions.remove(session)
    db.session.flush()
    record_event(actor, "remove_session", ENTITY, activity.id, when, now=now)


# The list -------------------------------------------------------------------------


@dataclass(frozen=True)
class ActivityFilter:
    """Criteria for the list of activities; None means no filter."""

    kind: ActivityKind | None = None
    status: ActivityStatus | None = None
    #: "upcoming" (a session still to come), "past" (none), or None (both).
    when: str | None = None


def _session_times(now: datetime) -> Any:
    """Each activity's next session still to come and its latest session, in one
    pass over the sessions (a subquery to join)."""
    to_come = and_(
        InvolvementSession.cancelled_at.is_(None), InvolvementSession.ends_at > now
    )
    return (
        select(
            InvolvementSession.activity_id.label("activity_id"),
            func.min(case((to_come, InvolvementSession.starts_at))).label("next"),
            func.max(InvolvementSession.starts_at).label("last"),
        )
        .group_by(InvolvementSession.activity_id)
        .subquery("session_times")
    )


def activity_query(
    criteria: ActivityFilter, *, now: datetime
) -> Select[tuple[InvolvementActivity]]:
    """Activities matching ``criteria``: those to come by their next session, soonest
    first, then the past ones, latest first."""
    times = _session_times(now)
    query = select(InvolvementActivity).outerjoin(
        times, times.c.activity_id == InvolvementActivity.id
    )
    if criteria.kind is not None:
        query = query.where(InvolvementActivity.kind == criteria.kind)
    if criteria.status is not None:
        query = query.where(InvolvementActivity.status == criteria.status)
    if criteria.when == "upcoming":
        query = query.where(times.c.next.is_not(None))
    elif criteria.when == "past":
        query = query.where(times.c.next.is_(None))
    return query.order_by(
        times.c.next.is_(None),
        times.c.next.asc(),
        times.c.last.desc(),
        InvolvementActivity.id.desc(),
    )


@dataclass(frozen=True)
class Glance:
    """What the list shows of one activity beyond its own columns."""

    next_starts: datetime | None = None
    next_ends: datetime | None = None
    sessions: int = 0
    #: Places taken at the next session (replied "coming").
    taken: int = 0


def glances(
    activities: list[InvolvementActivity], *, now: datetime
) -> dict[int, Glance]:
    """Next session, number of sessions and places taken, for a page of the list.

    One query for the whole page, however many activities it shows.
    """
    ids = [a.id for a in activities]
    if not ids:
        return {}
    next_id = (
        select(InvolvementSession.id)
        .where(
            InvolvementSession.activity_id == InvolvementActivity.id,
            InvolvementSession.cancelled_at.is_(None),
            InvolvementSession.ends_at > now,
        )
        .order_by(InvolvementSession.starts_at, InvolvementSession.id)
        .limit(1)
        .correlate(InvolvementActivity)
        .scalar_subquery()
    )
    Next = db.aliased(InvolvementSession)  # noqa: N806 - a table alias
    count = (
        select(func.count(InvolvementSession.id))
        .where(InvolvementSession.activity_id == InvolvementActivity.id)
        .correlate(InvolvementActivity)
        .scalar_subquery()
    )
    taken = (
        select(func.count(InvolvementInvitation.id))
        .where(
            InvolvementInvitation.session_id == Next.id,
            InvolvementInvitation.reply == Reply.ATTENDING,
        )
        .correlate(Next)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(InvolvementActivity.id, Next.starts_at, Next.ends_at, count, taken)
        .select_from(InvolvementActivity)
        .outerjoin(Next, Next.id == next_id)
        .where(InvolvementActivity.id.in_(ids))
    )
    return {
        row[0]: Glance(
            next_starts=aware(row[1]) if row[1] is not None else None,
            next_ends=aware(row[2]) if row[2] is not None else None,
            sessions=row[3] or 0,
            taken=(row[4] or 0) if row[1] is not None else 0,
        )
        for row in rows
    }


# Words ----------------------------------------------------------------------------


def pounds(pence: int) -> str:
    """Pence as pounds: £75, £12.50."""
    whole, part = divmod(pence, 100)
    return f"\u00a3{whole:,}" if part == 0 else f"\u00a3{whole:,}.{part:02d}"


def rate_in_words(rate: InvolvementRate) -> str:
    """A level and its payment: Level 4: partnership (£75 a session)."""
    if rate.session_pence > 0:
        return f"{rate.name} ({pounds(rate.session_pence)} a session)"
    return f"{rate.name} (expenses only)"


def rate_choices(current: int | None = None) -> list[tuple[int, str]]:
    """The active involvement levels in words (and ``current`` if since retired)."""
    rates = db.session.scalars(
        select(InvolvementRate).order_by(InvolvementRate.position, InvolvementRate.name)
    )
    return [
        (rate.id, rate_in_words(rate))
        for rate in rates
        if rate.is_active or rate.id == current
    ]


def when_in_words(starts: datetime, ends: datetime) -> str:
    """A session's time in UK words: Tuesday 16 March 2027, 2pm to 4pm."""
    begins, finishes = to_local(aware(starts)), to_local(aware(ends))
    day = begins.strftime("%A %-d %B %Y")
    end_text = _clock(finishes)
    if finishes.date() != begins.date():
        end_text = f"{finishes.strftime('%A %-d %B %Y')}, {end_text}"
    return f"{day}, {_clock(begins)} to {end_text}"


def _clock(moment: datetime) -> str:
    """2pm, 6:30pm, midday, midnight."""
    if (moment.hour, moment.minute) == (12, 0):
        return "midday"
    if (moment.hour, moment.minute) == (0, 0):
        return "midnight"
    return moment.strftime("%-I:%M%p").lower().replace(":00", "")


def duration_in_words(minutes: int) -> str:
    """90 → "1 hour 30 minutes"."""
    hours, rest = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if rest:
        parts.append(f"{rest} minute{'s' if rest != 1 else ''}")
    return " ".join(parts) or "0 minutes"


def yes_no_unknown(value: bool | None) -> str:
    """A venue feature in words."""
    return "Not known" if value is None else ("Yes" if value else "No")


def support_offered(activity: InvolvementActivity) -> list[str]:
    """The support offered to those who come, in words."""
    offered = [
        (activity.offers_interpreters, "Spoken language interpreters"),
        (activity.offers_bsl, "British Sign Language (BSL) interpreters"),
        (activity.offers_travel, "Help with travel"),
        (activity.offers_carers, "Carers' costs"),
    ]
    return [words for on, words in offered if on]


def invited_in_words(activity: InvolvementActivity) -> list[str]:
    """Who is to be invited, as sentences."""
    lines = []
    if activity.to_members:
        tier = (
            f"{activity.tier.label} members" if activity.tier else "Members of any tier"
        )
        criteria = []
        if activity.topic_id is not None:
            topic = db.session.get(Topic, activity.topic_id)
            if topic is not None:
                criteria.append(f"interested in {topic.name}")
        if activity.practice_id is not None:
            practice = db.session.get(Practice, activity.practice_id)
            if practice is not None:
                criteria.append(f"registered with {practice.name}")
        if activity.support_need is not None:
            criteria.append(f"who need {activity.support_need.label.lower()}")
        lines.append(" ".join([tier, *criteria]))
    if activity.audiences:
        names = ", ".join(a.name for a in activity.audiences)
        lines.append(f"Contacts of these stakeholder audiences: {names}")
    return lines or ["No one chosen yet"]
