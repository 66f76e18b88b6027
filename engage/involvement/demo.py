"""Demo involvement: a monthly reference group, a focus group to come, a co-design
workshop with its outcome, and a couple of expense claims.

Added once (the reference group's title marks it), with dates counted from the
``now`` the demo is loaded at, and no random choices: every load is the same.
"""

from __future__ import annotations

from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta

from sqlalchemy import select

from engage.accounts.models import User
from engage.actions.models import Action
from engage.actions.models import Recurrence
from engage.clock import local_day
from engage.clock import local_to_utc
from engage.extensions import db
from engage.involvement.levels import STARTING_LEVELS
from engage.involvement.models import ActivityKind
from engage.involvement.models import ActivityStatus
from engage.involvement.models import Attendance
from engage.involvement.models import ClaimStatus
from engage.involvement.models import ExpenseClaim
from engage.involvement.models import InvolvementActivity
from engage.involvement.models import InvolvementInvitation
from engage.involvement.models import InvolvementRate
from engage.involvement.models import InvolvementSession
from engage.involvement.models import Reply
from engage.involvement.models import SendStatus
from engage.membership.models import ContactChannel
from engage.membership.models import Member
from engage.membership.models import MemberStatus
from engage.membership.models import Tier
from engage.surveys.models import Finding

REFERENCE_GROUP = "Gold members' reference group"
FOCUS_GROUP = "Urgent care focus group"
CO_DESIGN = "Designing the new patient leaflet"
#: Level 4's involvement payment in the demo: £75 a session.
LEVEL_4_PENCE = 7500
#: The reference group's meetings already held (one more is to come).
PAST_MEETINGS = 5


def _months_back(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, min(day.day, 28))


def _at(day: date, hour: int) -> datetime:
    return local_to_utc(day, time(hour))


def _rates() -> dict[str, InvolvementRate]:
    """The four levels (as the migration writes them), Level 4 paying £75."""
    known = {r.name: r for r in db.session.scalars(select(InvolvementRate))}
    for position, (name, description) in enumerate(STARTING_LEVELS, 1):
        if name not in known:
            known[name] = InvolvementRate(
                name=name, description=description, position=position
            )
            db.session.add(known[name])
    level_4 = known[STARTING_LEVELS[3][0]]
    level_4.session_pence = LEVEL_4_PENCE
    return known


def _gold_members() -> list[Member]:
    """Active Gold members with an email address, by name."""
    return list(
        db.session.scalars(
            select(Member)
            .where(
                Member.tier == Tier.GOLD,
                Member.status == MemberStatus.ACTIVE,
                Member.email.is_not(None),
                Member.email != "",
            )
            .order_by(Member.name, Member.email)
        )
    )


def _invite(
    session: InvolvementSession,
    member: Member,
    reply: Reply,
    *,
    sent: datetime,
) -> None:
    session.invitations.append(
        InvolvementInvitation(
            member_id=member.id,
            channel=ContactChannel.EMAIL,
            address=member.email,
            send_status=SendStatus.SENT,
            sent_at=sent,
            reply=reply,
            replied_at=None if reply is Reply.NO_REPLY else sent + timedelta(days=2),
        )
    )


def load_demo_involvement(*, now: datetime) -> None:
    """Add the demo's involvement activities, once; set Level 4's payment."""
    rates = _rates()
    db.session.flush()
    done = select(InvolvementActivity.id).where(
        InvolvementActivity.title == REFERENCE_GROUP
    )
    if db.session.scalar(done):
        return
    members = _gold_members()
    if len(members) < 14:
        return
    officer = db.session.scalar(
        select(User).where(User.email == "officer2@engage.example")
    )
    officer_id = officer.id if officer else None
    reference = _reference_group(members[:8], rates, officer_id, now=now)
    _focus_group(members[2:14], rates, officer_id, now=now)
    _workshop(members[4:14], rates, officer_id, now=now)
    db.session.flush()
    _claims(reference.sessions[-2])
    db.session.flush()


def _action(title: str) -> Action | None:
    return db.session.scalar(select(Action).where(Action.title == title))


def _attended(
    session: InvolvementSession, officer_id: int | None, **who: object
) -> None:
    db.session.add(
        Attendance(
            session=session,
            recorded_at=session.ends_at,
            recorded_by_id=officer_id,
            **who,
        )
    )


def _reference_group(
    members: list[Member],
    rates: dict[str, InvolvementRate],
    officer_id: int | None,
    *,
    now: datetime,
) -> InvolvementActivity:
    """A reference group meeting monthly: five meetings held, the next one to come."""
    today = local_day(now)
    reference = InvolvementActivity(
        kind=ActivityKind.REFERENCE_GROUP,
        title=REFERENCE_GROUP,
        purpose="A standing group of Gold members who advise on our plans, read "
        "drafts and tell us how changes land with patients.",
        programme="Welcome and notes of the last meeting\nUpdate on the action "
        "plan\nTopic of the month\nAny other business",
        action=_action("Patient participation group network meeting"),
        rate=rates[STARTING_LEVELS[3][0]],
        status=ActivityStatus.INVITING,
        recurrence=Recurrence.MONTHLY,
        duration_minutes=120,
        venue_name="Riverside Health Centre, meeting room 2",
        venue_address="1 River Street, Exampletown EX1 1AA",
        step_free=True,
        hearing_loop=True,
        public_transport="Buses 12 and 36 stop outside.",
        online_link="https://meet.example.org/reference-group",
        offers_travel=True,
        offers_carers=True,
        created_by_id=officer_id,
        created_at=now - timedelta(days=190),
        updated_at=now - timedelta(days=190),
    )
    db.session.add(reference)
    for back in range(PAST_MEETINGS, -1, -1):
        day = _months_back(today, back) if back else today + timedelta(days=21)
        starts = _at(day, 14)
        session = InvolvementSession(
            starts_at=starts, ends_at=starts + timedelta(hours=2)
        )
        reference.sessions.append(session)
        for index, member in enumerate(members):
            came = back > 0 and (index + back) % 5 != 0
            reply = Reply.ATTENDING if back == 0 or came else Reply.NOT_ATTENDING
            if back == 0 and index >= 5:
                reply = Reply.NO_REPLY
            _invite(session, member, reply, sent=starts - timedelta(days=14))
            if came:
                _attended(session, officer_id, member_id=member.id)
        if back > 0 and officer_id is not None:
            _attended(session, officer_id, user_id=officer_id)
    return reference


def _focus_group(
    members: list[Member],
    rates: dict[str, InvolvementRate],
    officer_id: int | None,
    *,
    now: datetime,
) -> None:
    """A focus group next month: eight places, invitations out, some replies."""
    starts = _at(local_day(now) + timedelta(days=35), 10)
    focus = InvolvementActivity(
        kind=ActivityKind.FOCUS_GROUP,
        title=FOCUS_GROUP,
        purpose="What works and what does not when you need urgent care out of "
        "hours, to shape the urgent care review.",
        action=_action("Urgent care review: public survey"),
        rate=rates[STARTING_LEVELS[1][0]],
        status=ActivityStatus.INVITING,
        duration_minutes=90,
        venue_name="Castle Street Library, community room",
        venue_address="Castle Street, Exampletown EX2 2BB",
        step_free=True,
        capacity=8,
        offers_interpreters=True,
        offers_bsl=True,
        offers_travel=True,
        created_by_id=officer_id,
        created_at=now - timedelta(days=6),
        updated_at=now - timedelta(days=6),
    )
    session = InvolvementSession(
        starts_at=starts, ends_at=starts + timedelta(minutes=90)
    )
    focus.sessions.append(session)
    db.session.add(focus)
    replies = (
        [Reply.ATTENDING] * 5
        + [Reply.NOT_ATTENDING] * 2
        + [Reply.MAYBE]
        + [Reply.NO_REPLY] * 4
    )
    for member, reply in zip(members, replies, strict=False):
        _invite(session, member, reply, sent=now - timedelta(days=5))


def _workshop(
    members: list[Member],
    rates: dict[str, InvolvementRate],
    officer_id: int | None,
    *,
    now: datetime,
) -> None:
    """A co-design workshop last quarter, with what we heard and what changed."""
    today = local_day(now)
    quarter_start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    starts = _at(quarter_start - timedelta(days=20), 13)
    leaflet = _action("Printed service directory")
    workshop = InvolvementActivity(
        kind=ActivityKind.CO_DESIGN,
        title=CO_DESIGN,
        purpose="Members and carers design the new leaflet on where to go for care "
        "with us, page by page.",
        action=leaflet,
        rate=rates[STARTING_LEVELS[1][0]],
        status=ActivityStatus.INVITING,
        duration_minutes=180,
        venue_name="Meadowbank Health Centre",
        step_free=True,
        offers_carers=True,
        what_we_heard="People found the draft leaflet too long and full of NHS "
        "terms. Carers wanted the out-of-hours numbers on the front, and several "
        "people asked for an easy read version.",
        what_changed="The leaflet was cut to four pages in plain words, with the "
        "out-of-hours numbers on the front, and an easy read version is being made.",
        outcome_recorded_at=starts + timedelta(days=5),
        created_by_id=officer_id,
        created_at=starts - timedelta(days=30),
        updated_at=starts + timedelta(days=5),
    )
    session = InvolvementSession(starts_at=starts, ends_at=starts + timedelta(hours=3))
    workshop.sessions.append(session)
    if leaflet is not None:
        workshop.changed_actions = [leaflet]
    finding = db.session.scalar(
        select(Finding).where(Finding.published).order_by(Finding.theme)
    )
    if finding is not None:
        workshop.findings = [finding]
    db.session.add(workshop)
    for index, member in enumerate(members):
        came = index < 7
        _invite(
            session,
            member,
            Reply.ATTENDING if came else Reply.NOT_ATTENDING,
            sent=starts - timedelta(days=21),
        )
        if came:
            _attended(session, officer_id, member_id=member.id)
    _attended(session, officer_id, guest_name="A carer who came with a member")


def _claims(meeting: InvolvementSession) -> None:
    """Two claims for a reference group meeting: one approved, one waiting."""
    came = list(
        db.session.scalars(
            select(Attendance.member_id)
            .where(
                Attendance.session_id == meeting.id,
                Attendance.member_id.is_not(None),
            )
            .order_by(Attendance.id)
        )
    )
    submitted = meeting.ends_at + timedelta(days=1)
    approver = db.session.scalar(
        select(User.id).where(User.email == "officer@engage.example")
    )
    db.session.add(
        ExpenseClaim(
            session_id=meeting.id,
            member_id=came[0],
            status=ClaimStatus.APPROVED,
            payment_pence=LEVEL_4_PENCE,
            miles=12.5,
            mileage_rate_pence=45,
            details="Drove to the meeting.",
            submitted_at=submitted,
            decided_at=submitted + timedelta(days=2),
            decided_by_id=approver,
        )
    )
    db.session.add(
        ExpenseClaim(
            session_id=meeting.id,
            member_id=came[1],
            status=ClaimStatus.SUBMITTED,
            payment_pence=LEVEL_4_PENCE,
            fares_pence=640,
            details="Bus there and back.",
            submitted_at=submitted,
        )
    )
