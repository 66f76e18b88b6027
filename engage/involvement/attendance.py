"""The attendance register of a session: who came, and the delivery it logs on the plan.

Staff tick "Came" for each person invited, and add anyone who came without a place:
a member found by name, a member of staff, or a guest not on Engage's records. Each
row has a key that names the person ("m12" a member, "c3" a contact, "u4" a member
of staff, "g55" a guest's attendance), so a save changes only the rows whose box was
changed on the page that was sent: two phones ticking the same register do not undo
each other's ticks.

Once a session has attendance, its activity's action in the plan (if it has one) gets
one delivery with two reach figures, each in its own unit: "invited" (invitations
sent, an output) and "attended" (people who came, not counting staff: an outtake, a
rate of those invited). Later changes to the register update that same delivery.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from engage.accounts.models import User
from engage.actions.deliveries import DeliveryData
from engage.actions.deliveries import default_reached_audiences
from engage.actions.deliveries import log_delivery
from engage.actions.models import Action
from engage.actions.models import Activity
from engage.actions.models import ReachFigure
from engage.audit.services import record_event
from engage.clock import local_day
from engage.db import added_once
from engage.errors import Conflict
from engage.errors import ValidationError
from engage.extensions import db
from engage.involvement.models import Attendance
from engage.involvement.models import InvolvementActivity
from engage.involvement.models import InvolvementInvitation
from engage.involvement.models import InvolvementSession
from engage.involvement.models import Reply
from engage.involvement.models import SendStatus
from engage.involvement.panels import panel
from engage.membership.models import Member
from engage.membership.models import MemberStatus
from engage.metrics.services import observations_from_activities

#: The labels of the figures logged on the plan.
INVITED, ATTENDED = "invited", "attended"
#: The most members a name search lists (ask for more of the name to narrow it).
SEARCH_LIMIT = 20
#: The shortest and longest name search.
SEARCH_MIN, SEARCH_MAX = 2, 100
#: The audit's record type for a session's register.
ENTITY = "involvement_register"

_KEY = re.compile(r"^[mcug][0-9]{1,10}$")
#: Replies listed first: those who said they would (or might) come.
_EXPECTED = (Reply.ATTENDING, Reply.MAYBE)
_REPLY_ORDER = {
    Reply.ATTENDING: 0,
    Reply.MAYBE: 1,
    Reply.NO_REPLY: 2,
    Reply.WAITING: 3,
    Reply.NOT_ATTENDING: 4,
}


@dataclass(frozen=True)
class RegisterRow:
    """One person on a session's register."""

    #: Names the person on the page ("m12", "c3", "u4", "g55").
    key: str
    name: str
    #: Who they are, in words: "Gold member", "Staff", "Guest", an audience's name.
    who: str
    #: Their reply (None: not invited).
    reply: Reply | None
    came: bool
    #: Their attendance row (None: not ticked).
    attendance_id: int | None = None
    support_request: str = ""

    @property
    def expected(self) -> bool:
        """They said they would come, or might."""
        return self.reply in _EXPECTED

    @property
    def invited(self) -> bool:
        return self.reply is not None


@dataclass(frozen=True)
class Register:
    """A session's register: those invited (expected first), then everyone else."""

    session: InvolvementSession
    rows: list[RegisterRow]

    @property
    def expected(self) -> list[RegisterRow]:
        return [row for row in self.rows if row.invited and row.expected]

    @property
    def others(self) -> list[RegisterRow]:
        return [row for row in self.rows if row.invited and not row.expected]

    @property
    def added(self) -> list[RegisterRow]:
        """People on the register who were not invited (walk-ins, staff, guests)."""
        return [row for row in self.rows if not row.invited]

    @property
    def came(self) -> int:
        return sum(1 for row in self.rows if row.came)

    @property
    def keys(self) -> set[str]:
        return {row.key for row in self.rows}


def _member_name(member: Member | None) -> str:
    if member is None or member.status is MemberStatus.ERASED or not member.name:
        return "A member whose details were erased"
    return member.name


def _member_who(member: Member | None) -> str:
    return "Member" if member is None else f"{member.tier.label} member"


def register_for(session: InvolvementSession) -> Register:
    """The register of ``session``: two queries, whatever the number of people."""
    invitations = db.session.scalars(
        select(InvolvementInvitation)
        .options(
            joinedload(InvolvementInvitation.member),
            joinedload(InvolvementInvitation.contact),
        )
        .where(InvolvementInvitation.session_id == session.id)
    ).all()
    attendances = db.session.scalars(
        select(Attendance)
        .options(
            joinedload(Attendance.member),
            joinedload(Attendance.contact),
            joinedload(Attendance.user),
        )
        .where(Attendance.session_id == session.id)
        .order_by(Attendance.id)
    ).all()
    came = {attendance_key(a): a for a in attendances}
    rows: list[RegisterRow] = []
    for invitation in invitations:
        if invitation.member_id is not None:
            key = f"m{invitation.member_id}"
            name = _member_name(invitation.member)
            who = _member_who(invitation.member)
        else:
            key = f"c{invitation.contact_id}"
            contact = invitation.contact
            name = contact.name if contact is not None else "A contact"
            who = "Contact" if contact is None else f"Contact: {contact.audience.name}"
        attendance = came.pop(key, None)
        rows.append(
            RegisterRow(
                key,
                name,
                who,
                invitation.reply,
                attendance is not None,
                attendance.id if attendance else None,
                invitation.support_request,
            )
        )
    rows.sort(key=lambda r: (_REPLY_ORDER.get(r.reply, 9), r.name.lower()))  # type: ignore[arg-type]
    added = []
    for key, attendance in came.items():
        if attendance.member_id is not None:
            name, who = (
                _member_name(attendance.member),
                _member_who(attendance.member) + ", not invited",
            )
        elif attendance.contact_id is not None:
            name = attendance.contact.name if attendance.contact else "A contact"
            who = "Contact, not invited"
        elif attendance.user_id is not None:
            name = attendance.user.name if attendance.user else "A member of staff"
            who = "Staff"
        else:
            name, who = attendance.guest_name, "Guest"
        added.append(RegisterRow(key, name, who, None, True, attendance.id))
    return Register(session, rows + added)


def attendance_key(attendance: Attendance) -> str:
    """The register's key for one attendance row."""
    if attendance.member_id is not None:
        return f"m{attendance.member_id}"
    if attendance.contact_id is not None:
        return f"c{attendance.contact_id}"
    if attendance.user_id is not None:
        return f"u{attendance.user_id}"
    return f"g{attendance.id}"


def clean_keys(values: Iterable[object], known: set[str]) -> set[str]:
    """The sent keys that name a row of the register (anything else is dropped)."""
    return {
        value
        for value in values
        if isinstance(value, str) and _KEY.match(value) and value in known
    }


def check_open(session: InvolvementSession, *, now: datetime) -> None:
    """Refuse changes to the register of a cancelled session, or one not yet begun."""
    if session.cancelled_at is not None or session.activity.cancelled_at is not None:
        raise Conflict("This session was cancelled: it has no register.")
    if local_day(session.starts_at) > local_day(now):
        raise ValidationError("The register opens on the day of the session.")


# Changes ------------------------------------------------------------------------------


def save_register(
    session: InvolvementSession,
    *,
    ticked: set[str],
    were_ticked: set[str],
    actor: User,
    now: datetime,
) -> tuple[int, int]:
    """Record the boxes changed on the page: ticked now and not before come; those
    unticked no longer came. Returns (added, removed)."""
    check_open(session, now=now)
    register = register_for(session)
    rows = {row.key: row for row in register.rows}
    added = removed = 0
    for key in sorted(ticked - were_ticked):
        row = rows.get(key)
        if row is None or row.came:
            continue
        kind, number = key[0], int(key[1:])
        if kind == "m":
            made = _attendance(session, actor, now, member_id=number)
        elif kind == "c":
            made = _attendance(session, actor, now, contact_id=number)
        else:  # staff and guests are only on the register once ticked
            continue
        # Two phones ticking the same person at once: the second finds it done.
        if added_once(db.session(), made):
            added += 1
    for key in sorted(were_ticked - ticked):
        row = rows.get(key)
        if row is None or row.attendance_id is None:
            continue
        db.session.delete(db.session.get(Attendance, row.attendance_id))
        removed += 1
    if added or removed:
        db.session.flush()
        record_event(
            actor,
            "record_attendance",
            ENTITY,
            session.id,
            f"{added} ticked, {removed} unticked",
            now=now,
        )
        record_delivery(session, actor=actor, now=now)
    return added, removed


def _attendance(
    session: InvolvementSession, actor: User, now: datetime, **who: object
) -> Attendance:
    return Attendance(
        session_id=session.id, recorded_at=now, recorded_by_id=actor.id, **who
    )


def _existing(session: InvolvementSession, **who: object) -> Attendance | None:
    query = select(Attendance).where(Attendance.session_id == session.id)
    for column, value in who.items():
        query = query.where(getattr(Attendance, column) == value)
    return db.session.scalar(query)


def add_member(
    session: InvolvementSession, member_id: int, *, actor: User, now: datetime
) -> bool:
    """A member who came (without replying, or without an invitation). False when
    they were already on the register."""
    check_open(session, now=now)
    member = db.session.get(Member, member_id)
    if member is None or member.status is MemberStatus.ERASED:
        raise ValidationError("Choose a member from the search results.")
    if _existing(session, member_id=member.id) is not None:
        return False
    if not added_once(
        db.session(), _attendance(session, actor, now, member_id=member.id)
    ):
        return False
    record_event(
        actor, "add_attendance", ENTITY, session.id, f"member {member.id}", now=now
    )
    record_delivery(session, actor=actor, now=now)
    return True


def add_staff(
    session: InvolvementSession, user_id: int, *, actor: User, now: datetime
) -> bool:
    """A member of staff who came. False when already on the register."""
    check_open(session, now=now)
    user = db.session.get(User, user_id)
    if user is None or not user.is_active:
        raise ValidationError("Choose a member of staff from the list.")
    if _existing(session, user_id=user.id) is not None:
        return False
    if not added_once(db.session(), _attendance(session, actor, now, user_id=user.id)):
        return False
    record_event(
        actor, "add_attendance", ENTITY, session.id, f"staff user {user.id}", now=now
    )
    record_delivery(session, actor=actor, now=now)
    return True


def add_guest(
    session: InvolvementSession, name: str, *, actor: User, now: datetime
) -> Attendance | None:
    """Someone who came who is not on Engage's records, by the name they gave; None
    when a guest of that name is on the session's register already (people
    involved count guests by name, so a second row would only mislead)."""
    check_open(session, now=now)
    name = " ".join(name.split())
    if not name:
        raise ValidationError("Enter the guest's name.")
    if len(name) > 200:
        raise ValidationError("A name must be 200 characters or fewer.")
    same = db.session.scalar(
        select(Attendance.id).where(
            Attendance.session_id == session.id,
            func.lower(Attendance.guest_name) == name.lower(),
        )
    )
    if same is not None:
        return None
    attendance = _attendance(session, actor, now, guest_name=name)
    db.session.add(attendance)
    db.session.flush()
    record_event(
        actor,
        "add_attendance",
        ENTITY,
        session.id,
        f"a guest (attendance {attendance.id})",
        now=now,
    )
    record_delivery(session, actor=actor, now=now)
    return attendance


def remove_attendance(
    session: InvolvementSession, attendance_id: int, *, actor: User, now: datetime
) -> None:
    """Take a wrongly-ticked row off the register."""
    check_open(session, now=now)
    attendance = db.session.get(Attendance, attendance_id)
    if attendance is None or attendance.session_id != session.id:
        raise ValidationError("That person is no longer on the register.")
    db.session.delete(attendance)
    db.session.flush()
    record_event(
        actor,
        "remove_attendance",
        ENTITY,
        session.id,
        f"attendance {attendance_id}",
        now=now,
    )
    record_delivery(session, actor=actor, now=now)


# The delivery on the plan -------------------------------------------------------------


def session_figures(session: InvolvementSession) -> list[tuple[str, int]]:
    """The reach figures of a session: invitations sent, and people who came (staff
    are on the register but reached nobody, so are not counted)."""
    invited = db.session.scalar(
        select(func.count())
        .select_from(InvolvementInvitation)
        .where(
            InvolvementInvitation.session_id == session.id,
            InvolvementInvitation.send_status == SendStatus.SENT,
        )
    )
    attended = db.session.scalar(
        select(func.count())
        .select_from(Attendance)
        .where(Attendance.session_id == session.id, Attendance.user_id.is_(None))
    )
    return [(INVITED, int(invited or 0)), (ATTENDED, int(attended or 0))]


def _description(activity: InvolvementActivity, session: InvolvementSession) -> str:
    when = local_day(session.starts_at)
    return f"{activity.kind.label} held: {activity.title} ({when:%-d %B %Y})"[:500]


def record_delivery(
    session: InvolvementSession, *, actor: User | str, now: datetime
) -> Activity | None:
    """Log (once) the session's delivery on its activity's action, or bring its
    figures up to date. Nothing happens for an activity not linked to an action.

    The figures follow the register both ways: a row ticked by mistake and taken off
    lowers "attended".
    """
    activity = session.activity
    if activity.action_id is None:
        return None
    action = db.session.get(Action, activity.action_id)
    if action is None:
        return None
    figures = session_figures(session)
    delivery = (
        db.session.get(Activity, session.delivery_id)
        if session.delivery_id is not None
        else None
    )
    if delivery is None:
        reached = list(activity.audiences) or default_reached_audiences(action)
        delivery = log_delivery(
            action,
            DeliveryData(
                occurred_on=local_day(session.starts_at),
                description=_description(activity, session),
                audience_ids=tuple(a.id for a in reached),
                figures=tuple(figures),
            ),
            actor=actor,
            now=now,
        )
        session.delivery_id = delivery.id
    else:
        logged = {figure.label: figure for figure in delivery.figures}
        for label, value in figures:
            if label in logged:
                logged[label].value = value
            else:
                delivery.figures.append(ReachFigure(label=label, value=value))
    db.session.flush()
    # The reach metrics of that day, as after a delivery an officer logs.
    observations_from_activities([delivery.occurred_on], now=now)
    return delivery


# Finding people to add ----------------------------------------------------------------


def find_members(
    term: str, *, actor: User, session: InvolvementSession, now: datetime
) -> list[Member]:
    """Members (not erased) whose name contains ``term``, at most SEARCH_LIMIT, by
    name. The search reads personal data, so it is audited (without the term)."""
    term = " ".join(term.split()).lower()
    if not SEARCH_MIN <= len(term) <= SEARCH_MAX:
        raise ValidationError(
            f"Enter between {SEARCH_MIN} and {SEARCH_MAX} characters of their name."
        )
    found = list(
        db.session.scalars(
            select(Member)
            .where(
                Member.status != MemberStatus.ERASED,
                func.lower(Member.name).contains(term, autoescape=True),
            )
            .order_by(Member.name, Member.id)
            .limit(SEARCH_LIMIT)
        )
    )
    record_event(
        actor,
        "search_members",
        ENTITY,
        session.id,
        f"{len(found)} member{'s' if len(found) != 1 else ''} found",
        now=now,
    )
    return found


def staff_choices() -> list[tuple[int, str]]:
    """Active staff users, by name, for the "member of staff" list."""
    return [
        (user.id, user.name)
        for user in db.session.scalars(
            select(User).where(User.is_active.is_(True)).order_by(User.name, User.id)
        )
    ]


# The activity page's section ----------------------------------------------------------


@panel("involvement/_register_panel.html", order=30)
def register_panel(activity: InvolvementActivity) -> dict[str, Any] | None:
    """Each session with how many came (one query) and a link to its register."""
    if not activity.sessions:
        return None
    rows = db.session.execute(
        select(Attendance.session_id, func.count())
        .join(InvolvementSession, InvolvementSession.id == Attendance.session_id)
        .where(InvolvementSession.activity_id == activity.id)
        .group_by(Attendance.session_id)
    )
    # Not dict(rows): a Result has keys(), so dict() would read it as a mapping.
    counts = {session_id: number for session_id, number in rows}  # noqa: C416
    return {
        "register_activity": activity,
        "register_sessions": [
            (session, counts.get(session.id, 0)) for session in activity.sessions
        ],
    }
