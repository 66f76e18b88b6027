"""Rows for the unsubscribe, bounce and receipt tests: a sent mailing and its copies."""

from __future__ import annotations

from datetime import timedelta

from engage.audiences.models import AudienceContact
from engage.clock import utcnow
from engage.extensions import db
from engage.mailings.models import Mailing
from engage.mailings.models import MailingRecipient
from engage.mailings.models import MailingStatus
from engage.mailings.models import RecipientStatus
from engage.membership.models import ContactChannel
from engage.membership.models import Member
from tests.factories import AudienceFactory


def sent_mailing(subject: str = "PPI newsletter, spring") -> Mailing:
    """A mailing already sent."""
    mailing = Mailing(subject=subject, status=MailingStatus.SENT)
    db.session.add(mailing)
    db.session.commit()
    return mailing


def copy_for(
    mailing: Mailing,
    *,
    member: Member | None = None,
    contact: AudienceContact | None = None,
    channel: ContactChannel = ContactChannel.EMAIL,
    address: str | None = None,
    provider_ref: str | None = None,
    sent_ago: timedelta = timedelta(hours=1),
) -> MailingRecipient:
    """One person's copy of ``mailing``, sent ``sent_ago``."""
    if address is None:
        person = member if member is not None else contact
        address = (
            (person.phone if channel is ContactChannel.SMS else person.email)
            if person is not None
            else None
        )
    recipient = MailingRecipient(
        mailing_id=mailing.id,
        channel=channel,
        member_id=member.id if member is not None else None,
        contact_id=contact.id if contact is not None else None,
        address=address,
        status=RecipientStatus.SENT,
        attempts=1,
        provider_ref=provider_ref,
        sent_at=utcnow() - sent_ago,
    )
    db.session.add(recipient)
    db.session.commit()
    return recipient


def contact(email: str = "pm@practice.example.nhs.uk") -> AudienceContact:
    """A stakeholder contact in a new audience."""
    audience = AudienceFactory()
    person = AudienceContact(
        audience_id=audience.id, name="Practice manager", role="Manager", email=email
    )
    db.session.add(person)
    db.session.commit()
    return person
