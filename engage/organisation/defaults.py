"""What Engage says before an admin has said otherwise: a sample identity and notices.

The identity is a fictional NHS body (``.example`` addresses never reach anyone) so a
new installation and the demo read as a real one would. The notices are written from
the organisation's details and from the retention periods the code applies, so what
they promise is what Engage does.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import fields
from datetime import timedelta

from flask import current_app


@dataclass(frozen=True)
class Identity:
    """The organisation's details as shown on pages, emails and reports."""

    name: str
    short_name: str
    address: str = ""
    email: str = ""
    phone: str = ""
    website: str = ""
    data_controller: str = ""
    dpo_contact: str = ""
    ico_registration: str = ""
    lawful_basis: str = ""

    @classmethod
    def of(cls, row: object) -> Identity:
        """The details held by ``row`` (an ``Organisation``, or anything alike)."""
        return cls(**{f.name: getattr(row, f.name) for f in fields(cls)})

    @property
    def address_lines(self) -> list[str]:
        return [line.strip() for line in self.address.splitlines() if line.strip()]


SAMPLE = Identity(
    name="NHS Northshire Integrated Care Board",
    short_name="Northshire ICB",
    address="Northshire House\n1 Market Street\nNorthtown\nNT1 1AA",
    email="engagement@northshire.example",
    phone="0300 123 4567",
    website="https://www.northshire.example",
    data_controller="NHS Northshire Integrated Care Board",
    dpo_contact="Data Protection Officer, Northshire House, 1 Market Street, "
    "Northtown NT1 1AA; dpo@northshire.example",
    ico_registration="ZB123456",
    lawful_basis=(
        "We run the membership scheme as part of our legal duty to involve the public "
        "in planning and buying health services (UK GDPR Article 6(1)(e), public task; "
        "section 14Z45 of the National Health Service Act 2006). We contact you only "
        "in the ways you agree to, and you can change that at any time. Questions "
        "about you, such as your ethnic group or any disability, are optional: we use "
        "those answers only with your explicit consent (Article 9(2)(a)), and our "
        "reports show them only as totals."
    ),
)


@dataclass(frozen=True)
class Retention:
    """How long Engage keeps what, as the code applies it."""

    confirm_link: timedelta
    unconfirmed: timedelta
    withdrawn: timedelta


def retention() -> Retention:
    """The retention periods in force (the membership code's own constants)."""
    from engage.membership import registration

    return Retention(
        confirm_link=registration.CONFIRM_LINK_LIFETIME,
        unconfirmed=registration.PURGE_PENDING_AFTER,
        withdrawn=timedelta(days=int(current_app.config["MEMBER_RETENTION_DAYS"])),
    )


def _days(period: timedelta) -> str:
    return f"{period.days} day{'s' if period.days != 1 else ''}"


def _contact(org: Identity) -> str:
    ways = [w for w in (org.email, org.phone) if w]
    return " or ".join(ways) if ways else "the address below"


def _registration(org: Identity) -> str:
    if not org.ico_registration:
        return ""
    return (
        "We are registered with the Information Commissioner's Office as "
        f"{org.ico_registration}."
    )


def privacy_notice(org: Identity) -> str:
    """A privacy notice covering what UK GDPR Article 13 asks, for ``org``."""
    kept = retention()
    address = ", ".join(org.address_lines)
    return f"""\
## Who we are

{org.data_controller or org.name} is the data controller for the personal information \
you give us when you join our Patient and Public Involvement (PPI) membership scheme\
{f" ({address})" if address else ""}. \
{_registration(org)}

Our data protection officer: {org.dpo_contact or "contact us as below"}.

## What we use your information for

- to run the membership scheme: to confirm your membership and keep your details \
up to date;
- to invite you to take part in the ways you choose (Gold members: meetings and focus \
groups; Silver members: surveys), by the channels you agree to;
- to tell you what changed because of what members said;
- to check that our members reflect the people we serve, using optional answers about \
you only as totals.

## Our lawful basis

{org.lawful_basis}

## Who sees your information

Only our staff who run the scheme. Companies that provide our IT and email services \
handle it on our instructions and may not use it for anything else. We never sell your \
information or share it for marketing.

## How long we keep it

- The link to confirm your membership works for {_days(kept.confirm_link)}.
- If you do not confirm your email address, we delete your details after \
{_days(kept.unconfirmed)}.
- If you leave the scheme, we stop contacting you at once and erase your personal \
details {_days(kept.withdrawn)} later. We keep only the number your membership had, \
so that restoring a backup can never bring your details back.

## Your rights

You can ask to see the information we hold about you, to correct it, to delete it, to \
restrict how we use it, or to object to how we use it. You can download your details \
or leave the scheme at any time from the link we email you, and change your mind \
about how we contact you. To ask about any of this, contact us at {_contact(org)}.

## Complaints

If you are unhappy with how we have used your information, please tell us first. You \
can also complain to the Information Commissioner's Office: ico.org.uk, 0303 123 1113, \
Wycliffe House, Water Lane, Wilmslow, Cheshire SK9 5AF.
"""


def accessibility_statement(org: Identity) -> str:
    """An accessibility statement that is true of Engage as built, for ``org``."""
    return f"""\
This statement applies to the public pages of {org.name}'s engagement service: joining \
and managing your membership, answering surveys, and reading what changed because of \
what people said.

## How accessible these pages are

We want as many people as possible to be able to use them. You should be able to:

- change colours, contrast levels and fonts using your browser or device settings;
- zoom in up to 400% without the text spilling off the screen;
- move through every page using just a keyboard;
- use every page with a screen reader and with speech recognition software;
- use every page without JavaScript.

The pages use the NHS design system. Every chart has a table of the same figures.

## Compliance status

These pages are designed to meet the Web Content Accessibility Guidelines (WCAG) \
version 2.2 AA standard. Each release is checked with automated accessibility tests \
(axe-core) on desktop and phone screen sizes, and by hand with a keyboard.

## What to do if you cannot use these pages

If you need information in a different format, such as large print, easy read, audio \
or Braille, or if you find a problem not listed here, contact us at {_contact(org)}. \
We will reply within 5 working days.

## Enforcement procedure

The Equality and Human Rights Commission (EHRC) is responsible for enforcing the \
Public Sector Bodies (Websites and Mobile Applications) (No. 2) Accessibility \
Regulations 2018. If you are not happy with how we respond to your complaint, contact \
the Equality Advisory and Support Service (EASS): equalityadvisoryservice.com.
"""
