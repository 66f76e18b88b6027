"""The saved templates every install starts with: the plan's regular mailings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from engage.extensions import db
from engage.mailings.models import MailingTemplate

#: (name, subject, Markdown body): added by the migration that made mailings, and
#: by the demo to databases made without migrations.
STARTER_TEMPLATES: tuple[tuple[str, str, str], ...] = (
    (
        "PPI newsletter",
        "Your PPI newsletter",
        """Welcome to this month's newsletter for our patient and public involvement
(PPI) members. Thank you for giving your time and views.

# What you told us, and what we did

- What members said:
- What we changed as a result:

# Get involved

Coming up this month:

- **Event or meeting name**, date and time, place or online. [Find out more and
  book a place](https://www.example.nhs.uk/events)

# News from across the health service

Write a short update here.

# Contact us

Reply to this email or call us if you have any questions, or if you need this
newsletter in another format such as large print or easy read.
""",
    ),
    (
        "GP bulletin",
        "GP bulletin",
        """A short update for GP practices and primary care teams.

# Action needed

- What practices need to do, and by when.

# Updates

## Clinical and service changes

Write the update here.

## Engagement with patients

How practices can help: patient participation groups, surveys now open, events.

# Dates for your diary

- Date: meeting or deadline.

# Who to contact

Name, role and email address for questions about this bulletin.
""",
    ),
    (
        "Stakeholder newsletter",
        "Stakeholder newsletter",
        """An update for our partners and stakeholders on our plans, what we have
heard and how you can take part.

# Headlines

- Key decision or development.

# What we have heard

What patients, the public and partners have told us, and what we are doing
about it.

# Consultations and engagement open now

- **Name of the consultation**: who it is for and the closing date.
  [Have your say](https://www.example.nhs.uk/have-your-say)

# Dates for your diary

- Date: board meeting, event or deadline.

# Contact us

How to reach the engagement team.
""",
    ),
)


def ensure_starter_templates(*, now: datetime) -> int:
    """Add the starter templates that are missing (by name); how many were added."""
    have = set(db.session.scalars(select(MailingTemplate.name)))
    added = 0
    for name, subject, body in STARTER_TEMPLATES:
        if name not in have:
            db.session.add(
                MailingTemplate(
                    name=name,
                    subject=subject,
                    body=body,
                    created_at=now,
                    updated_at=now,
                )
            )
            added += 1
    db.session.flush()
    return added
