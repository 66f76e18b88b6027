"""Demo relationship log: themes, six months of interactions, commitments and links.

The council, the MPs, Healthwatch, the GP practices, the hospital trust and the health
and wellbeing board get named contacts (where the map has none), a mix of meetings,
calls, letters and emails over the last six months, two drafts waiting for the demo
officer as if filed from email, eight commitments (one overdue, some done) and a few
links between them. Added once (the interactions' ``demo:`` keys mark it), with dates
counted back from the day it is loaded and no random choices. Health history is left
to the nightly job.
"""

from __future__ import annotations

from datetime import date
from datetime import datetime
from datetime import timedelta

from sqlalchemy import select

from engage.accounts.models import User
from engage.audiences.models import Audience
from engage.audiences.models import AudienceContact
from engage.clock import local_day
from engage.extensions import db
from engage.relationships.health import record_health
from engage.relationships.models import AudienceLink
from engage.relationships.models import Commitment
from engage.relationships.models import CommitmentStatus
from engage.relationships.models import Direction
from engage.relationships.models import Interaction
from engage.relationships.models import InteractionKind
from engage.relationships.models import InteractionStatus
from engage.relationships.models import LinkKind
from engage.relationships.models import Sentiment
from engage.relationships.models import Theme
from engage.relationships.services import InteractionData
from engage.relationships.services import record_interaction

COUNCIL = "Northshire County Council"
MPS = "Members of Parliament"
HEALTHWATCH = "Healthwatch Northshire"
GPS = "GP practices and primary care networks"
TRUST = "Northshire Hospitals NHS Foundation Trust"
BOARD = "Health and wellbeing board"
PPGS = "Patient participation groups"

OFFICER = "officer@engage.example"
OFFICER2 = "officer2@engage.example"
LEAD = "lead@engage.example"

STROKE = "Stroke services review"
GP_ACCESS = "GP access"
URGENT = "Urgent care"
MENTAL = "Mental health waiting times"
ESTATES = "Estates and parking"

THEMES = (
    (STROKE, "The proposal to bring hyper-acute stroke care onto one site."),
    (GP_ACCESS, "Getting through to a practice and getting an appointment."),
    (URGENT, "Urgent treatment centres, NHS 111 and waits in A&E."),
    (MENTAL, "Waits for talking therapies and children's mental health services."),
    (ESTATES, "Parking, buses and the state of buildings at our sites."),
)

#: Contacts added to the map's audiences when they have none by these names.
CONTACTS = (
    (MPS, "Sarah Whitfield MP", "MP for Northshire South", "whitfield@example.org"),
    (MPS, "James Okoro MP", "MP for Castleford and Vale", "okoro@example.org"),
    (HEALTHWATCH, "Tom Reid", "Engagement officer", "tom.reid@example.org"),
    (GPS, "Dr Anil Mehta", "GP partner, Riverside Medical Centre", ""),
    (COUNCIL, "Cllr Aisha Rahman", "Chair, health scrutiny committee", ""),
    (BOARD, "Cllr Diane Foster", "Chair of the board", "diane.foster@example.gov.uk"),
)

#: days ago, kind, direction, audiences, contacts, heading, summary, themes,
#: sentiment, who logged it.
M, C, L, E, V, S = (
    InteractionKind.MEETING,
    InteractionKind.CALL,
    InteractionKind.LETTER,
    InteractionKind.EMAIL,
    InteractionKind.EVENT,
    InteractionKind.SOCIAL,
)
OUT, IN = Direction.OUTBOUND, Direction.INBOUND
POS, NEU, NEG, MIX = (
    Sentiment.POSITIVE,
    Sentiment.NEUTRAL,
    Sentiment.NEGATIVE,
    Sentiment.MIXED,
)
INTERACTIONS: tuple[
    tuple[
        int,
        InteractionKind,
        Direction,
        tuple[str, ...],
        tuple[str, ...],
        str,
        str,
        tuple[str, ...],
        Sentiment,
        str,
    ],
    ...,
] = (
    (174, M, OUT, (COUNCIL,), ("Cllr Peter Grant",), "Stroke review: first briefing",
     "Walked through the case for change. Wants the travel-time analysis before "
     "taking a view.", (STROKE,), NEU, LEAD),
    (166, L, IN, (MPS,), ("Sarah Whitfield MP",), "Constituents worried about the "
     "stroke unit", "Letter passing on six constituents' concerns about losing the "
     "stroke unit at Castleford.", (STROKE,), NEG, LEAD),
    (158, E, OUT, (HEALTHWATCH,), ("Janet Moss",), "Sharing the engagement plan",
     "Sent the draft engagement plan for the stroke review and asked for comments.",
     (STROKE,), POS, OFFICER),
    (150, M, OUT, (GPS,), ("Dr Ruth Okafor",), "PCN clinical directors' meeting",
     "Appointment demand and the new online booking; practices want clearer "
     "messages for patients.", (GP_ACCESS,), MIX, OFFICER),
    (141, V, IN, (HEALTHWATCH,), ("Tom Reid",), "Healthwatch annual conference",
     "Stall at the conference; many questions about GP access and parking.",
     (GP_ACCESS, ESTATES), NEU, OFFICER2),
    (133, C, IN, (TRUST,), ("Mark Ellis",), "Winter messages for A&E",
     "Agreed joint messages on using NHS 111 and the urgent treatment centres.",
     (URGENT,), POS, OFFICER),
    (125, M, OUT, (BOARD, COUNCIL), ("Cllr Diane Foster", "Cllr Peter Grant"),
     "Health and wellbeing board development session",
     "Presented the stroke options. The board asked for more on transport.",
     (STROKE, ESTATES), MIX, LEAD),
    (116, E, IN, (MPS,), ("James Okoro MP",), "Children's mental health waits",
     "Asked for the latest waiting times for children's mental health services.",
     (MENTAL,), NEG, LEAD),
    (108, L, OUT, (MPS,), ("James Okoro MP",), "Reply on children's mental health",
     "Sent the waiting-time figures and the recovery plan.", (MENTAL,), NEU, LEAD),
    (99, S, IN, (HEALTHWATCH,), (), "Healthwatch post about hospital parking",
     "Shared a survey showing parking is the top complaint at the main site.",
     (ESTATES,), NEG, OFFICER2),
    (91, M, OUT, (HEALTHWATCH,), ("Janet Moss", "Tom Reid"), "Quarterly catch-up",
     "Went through what people told Healthwatch this quarter; agreed a joint "
     "listening event on mental health.", (MENTAL, GP_ACCESS), POS, OFFICER),
    (83, C, OUT, (COUNCIL,), ("Cllr Aisha Rahman",), "Scrutiny committee timetable",
     "Agreed the stroke review goes to health scrutiny before consultation.",
     (STROKE,), POS, LEAD),
    (74, M, OUT, (GPS, PPGS), ("Dr Anil Mehta",), "Riverside practice visit",
     "Met the practice team and its patient group about the new phone system.",
     (GP_ACCESS,), POS, OFFICER),
    (66, E, IN, (TRUST,), ("Mark Ellis",), "Car park works at the main site",
     "Warned us that a third of the car park closes for six weeks from next month.",
     (ESTATES,), NEU, OFFICER2),
    (58, M, OUT, (COUNCIL,), ("Cllr Aisha Rahman",), "Health scrutiny committee",
     "Presented the stroke review. Members challenged travel times for the east of "
     "the county.", (STROKE,), NEG, LEAD),
    (50, V, OUT, (HEALTHWATCH,), ("Tom Reid",), "Joint listening event on mental "
     "health", "About 40 people came; long waits for talking therapies the main "
     "theme.", (MENTAL,), MIX, OFFICER),
    (42, C, IN, (MPS,), ("Sarah Whitfield MP",), "Call about GP appointments",
     "Constituents unable to get through to Castle Street Surgery at 8am.",
     (GP_ACCESS,), NEG, LEAD),
    (35, E, OUT, (GPS,), ("Dr Ruth Okafor",), "Patient messages on booking",
     "Shared draft messages on the new booking system for practices to use.",
     (GP_ACCESS,), POS, OFFICER),
    (28, M, OUT, (TRUST,), ("Mark Ellis",), "Urgent care winter plan",
     "Agreed the winter campaign and who speaks to the media.", (URGENT,), POS,
     OFFICER),
    (21, L, OUT, (MPS,), ("Sarah Whitfield MP", "James Okoro MP"),
     "Briefing before the stroke consultation", "Wrote to the county's MPs ahead "
     "of the consultation launch.", (STROKE,), NEU, LEAD),
    (16, M, OUT, (BOARD,), ("Cllr Diane Foster",), "Board meeting: stroke "
     "consultation", "The board supported going to consultation with a transport "
     "workstream.", (STROKE, ESTATES), POS, LEAD),
    (11, S, IN, (COUNCIL,), (), "Council post about the consultation",
     "The council shared the consultation page; comments were mostly about "
     "travel.", (STROKE,), MIX, OFFICER2),
    (7, C, IN, (HEALTHWATCH,), ("Janet Moss",), "Concern about consultation "
     "venues", "Two of the consultation venues have no step-free access.",
     (STROKE,), NEG, OFFICER),
    (4, M, OUT, (GPS,), ("Dr Ruth Okafor", "Dr Anil Mehta"), "PCN leads on winter "
     "pressures", "Practices expect demand to peak after Christmas; agreed to "
     "share NHS 111 messages.", (URGENT, GP_ACCESS), NEU, OFFICER),
)  # fmt: skip

#: Drafts as if filed from email, waiting for the demo officer to confirm.
DRAFTS = (
    (2, IN, HEALTHWATCH, ("Janet Moss",), "RE: Consultation venues",
     "Thanks for the quick reply. Could you confirm the new venue for the "
     "Castleford session?"),
    (1, OUT, GPS, ("Dr Ruth Okafor",), "Winter messages for practice websites",
     "Attached are the winter messages for practice websites and screens."),
)  # fmt: skip

#: days from today it is due (negative: past), audience, description, status,
#: days ago it was closed, the heading of the interaction it came from.
COMMITMENTS = (
    (-9, COUNCIL, "Send the travel-time analysis to Cllr Grant", None, None,
     "Stroke review: first briefing"),
    (-140, MPS, "Reply to Sarah Whitfield's letter on the stroke unit", "done", 158,
     "Constituents worried about the stroke unit"),
    (-100, MPS, "Send children's mental health waiting times", "done", 108,
     "Children's mental health waits"),
    (-40, HEALTHWATCH, "Run a joint listening event on mental health", "done", 50,
     "Quarterly catch-up"),
    (12, HEALTHWATCH, "Find step-free venues for the consultation", None, None,
     "Concern about consultation venues"),
    (20, COUNCIL, "Add a transport workstream to the stroke review", None, None,
     "Board meeting: stroke consultation"),
    (-30, GPS, "Share patient messages about online booking", "done", 35,
     "PCN clinical directors' meeting"),
    (-20, TRUST, "Publish car park closure dates on our website", "dropped", 30,
     "Car park works at the main site"),
)  # fmt: skip

LINKS = (
    (COUNCIL, BOARD, LinkKind.MEMBER_OF, "Cabinet member sits on the board"),
    (HEALTHWATCH, BOARD, LinkKind.MEMBER_OF, ""),
    (HEALTHWATCH, COUNCIL, LinkKind.FUNDED_BY, "Commissioned by the council"),
    (PPGS, GPS, LinkKind.PART_OF, ""),
)


#: Days of health history the demo keeps.
HEALTH_HISTORY_DAYS = 30


def load_demo_relationships(*, now: datetime) -> None:
    """Add the demo's relationship log, once."""
    if db.session.scalar(
        select(Interaction.id).where(Interaction.source_key.like("demo:%")).limit(1)
    ):
        return
    audiences = {a.name: a for a in db.session.scalars(select(Audience))}
    if not {COUNCIL, MPS, HEALTHWATCH, GPS, TRUST, BOARD} <= set(audiences):
        return
    users = {u.email: u for u in db.session.scalars(select(User))}
    themes = _themes(now=now)
    _contacts(audiences)
    db.session.flush()
    contacts = {
        (c.audience_id, c.name): c for c in db.session.scalars(select(AudienceContact))
    }
    day = local_day(now)
    logged: dict[str, Interaction] = {}
    for number, row in enumerate(INTERACTIONS, start=1):
        ago, kind, direction, names, people, heading, summary, raised, mood, who = row
        chosen = [audiences[n] for n in names]
        data = InteractionData(
            kind=kind,
            direction=direction,
            occurred_on=day - timedelta(days=ago),
            subject=heading,
            summary=summary,
            sentiment=mood,
            audience_ids=tuple(a.id for a in chosen),
            contact_ids=_contact_ids(contacts, chosen, people),
            staff_ids=(users[who].id,) if who in users else (),
            theme_ids=tuple(themes[t].id for t in raised),
        )
        owner = users.get(who)
        logged[heading] = record_interaction(
            data,
            actor=owner or "demo",
            owner=owner,
            now=now,
            source_key=f"demo:{number}",
        )
    officer = users.get(OFFICER)
    for number, (ago, direction, name, people, heading, body) in enumerate(
        DRAFTS, start=1
    ):
        audience = audiences[name]
        record_interaction(
            InteractionData(
                kind=InteractionKind.EMAIL,
                direction=direction,
                occurred_on=day - timedelta(days=ago),
                subject=heading,
                summary=body,
                audience_ids=(audience.id,),
                contact_ids=_contact_ids(contacts, [audience], people),
            ),
            actor="demo",
            owner=officer,
            now=now,
            status=InteractionStatus.DRAFT,
            source_key=f"demo:draft-{number}",
        )
    _commitments(audiences, logged, users, day=day, now=now)
    for first, second, link_kind, note in LINKS:
        if first in audiences and second in audiences:
            db.session.add(
                AudienceLink(
                    from_audience_id=audiences[first].id,
                    to_audience_id=audiences[second].id,
                    kind=link_kind,
                    note=note,
                    created_at=now,
                )
            )
    db.session.flush()
    # The health history the nightly job would have kept over the last weeks, as
    # the log now tells it.
    for ago in range(HEALTH_HISTORY_DAYS - 1, -1, -1):
        record_health(day - timedelta(days=ago), now=now)


def _themes(*, now: datetime) -> dict[str, Theme]:
    existing = {t.name: t for t in db.session.scalars(select(Theme))}
    for name, description in THEMES:
        if name not in existing:
            existing[name] = Theme(
                name=name, description=description, created_at=now, updated_at=now
            )
            db.session.add(existing[name])
    db.session.flush()
    return existing


def _contacts(audiences: dict[str, Audience]) -> None:
    for name, person, role, email in CONTACTS:
        audience = audiences[name]
        if all(c.name != person for c in audience.contacts):
            audience.contacts.append(
                AudienceContact(name=person, role=role, email=email, phone="")
            )


def _contact_ids(
    contacts: dict[tuple[int, str], AudienceContact],
    audiences: list[Audience],
    people: tuple[str, ...],
) -> tuple[int, ...]:
    found = []
    for person in people:
        for audience in audiences:
            contact = contacts.get((audience.id, person))
            if contact is not None:
                found.append(contact.id)
                break
    return tuple(found)


def _commitments(
    audiences: dict[str, Audience],
    logged: dict[str, Interaction],
    users: dict[str, User],
    *,
    day: date,
    now: datetime,
) -> None:
    owners = [users.get(OFFICER), users.get(LEAD), users.get(OFFICER2)]
    for index, (due, name, description, status, closed, heading) in enumerate(
        COMMITMENTS
    ):
        owner = owners[index % len(owners)]
        interaction = logged.get(heading)
        db.session.add(
            Commitment(
                description=description,
                audience_id=audiences[name].id,
                owner_id=owner.id if owner else None,
                due_on=day + timedelta(days=due),
                status=CommitmentStatus(status) if status else CommitmentStatus.OPEN,
                closed_on=(
                    day - timedelta(days=closed) if closed is not None else None
                ),
                interaction_id=interaction.id if interaction else None,
                created_at=now,
                updated_at=now,
            )
        )
