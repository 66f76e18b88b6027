"""A member's record as data: what subject access and "download my data" return."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from engage.audit.models import AuditEvent
from engage.extensions import db
from engage.involvement import history as involvement_history
from engage.mailings import history as mailing_history
from engage.membership import consent
from engage.membership.equality import QUESTIONS
from engage.membership.models import Member
from engage.surveys import privacy as survey_privacy


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def member_events(member: Member) -> list[AuditEvent]:
    """The audit events about this member, oldest first."""
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.entity_type == "member",
                AuditEvent.entity_id == str(member.id),
            )
            .order_by(AuditEvent.occurred_at, AuditEvent.id)
        )
    )


def member_data(member: Member) -> dict[str, Any]:
    """Everything held about one member (fields, lists, consents, equality, audit).

    JSON-ready, and about this member only. The callers audit the export.
    """
    equality = member.equality
    return {
        "member": {
            "id": member.id,
            "name": member.name,
            "email": member.email,
            "pending_email": member.pending_email,
            "phone": member.phone,
            "address": member.address,
            "postcode": member.postcode,
            "tier": member.tier.value,
            "status": member.status.value,
            "joined_by": member.joined_by.value,
            "is_champion": member.is_champion,
            "notes": member.notes,
            "support_other": member.support_other,
            "created_at": _iso(member.created_at),
            "updated_at": _iso(member.updated_at),
            "confirmed_at": _iso(member.confirmed_at),
            "withdrawn_at": _iso(member.withdrawn_at),
            "erased_at": _iso(member.erased_at),
        },
        "practice": None
        if member.practice is None
        else {"name": member.practice.name, "code": member.practice.code},
        "practice_not_in_our_list": member.practice_not_listed,
        "topics": [t.name for t in member.topics],
        "support_needs": [n.need.label for n in member.support_needs],
        "current_consents": {
            c.value: granted for c, granted in consent.current_consents(member).items()
        },
        "consent_history": [
            {
                "channel": r.channel.value,
                "granted": r.granted,
                "method": r.method.value,
                "wording_version": r.wording_version,
                "recorded_at": _iso(r.recorded_at),
            }
            for r in member.consents
        ],
        "equality_answers": None
        if equality is None
        else {
            **{q.field: getattr(equality, q.field) for q in QUESTIONS},
            "recorded_at": _iso(equality.recorded_at),
        },
        **survey_privacy.member_survey_data(member),  # surveys (D6)
        **mailing_history.member_mailing_data(member),  # what was sent to them
        **involvement_history.member_involvement_data(member),  # sessions, claims
        "audit_events": [
            {
                "occurred_at": _iso(e.occurred_at),
                "actor": e.actor_label,
                "action": e.action,
                "summary": e.summary,
            }
            for e in member_events(member)
        ],
    }
