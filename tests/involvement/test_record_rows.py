"""A member's involvement record is read as plain rows, so hundreds of sessions stay
quick (the member record's benchmark opens a member in 300 sessions)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from engage.extensions import db
from engage.involvement.history import involvement_for_member
from engage.involvement.models import InvolvementActivity
from engage.involvement.models import InvolvementInvitation
from engage.involvement.models import InvolvementSession
from engage.involvement.models import Reply
from tests.involvement.test_involvement_record import _involved_member


def test_the_record_loads_no_invitation_session_or_activity_objects() -> None:
    member, made = _involved_member()
    made_id = made.id
    db.session.expire_all()
    loaded: list[str] = []

    def count(target: Any, context: Any) -> None:
        loaded.append(type(target).__name__)

    models = (InvolvementInvitation, InvolvementSession, InvolvementActivity)
    for model in models:
        event.listen(model, "load", count)
    try:
        record = involvement_for_member(member)
    finally:
        for model in models:
            event.remove(model, "load", count)

    assert loaded == []
    assert [line.activity for line in record.sessions] == [
        "Maternity focus group",
        "Cancer care reference group",
        "Public event on stroke",
    ]
    coming, came, walked_in = record.sessions
    assert (coming.reply, coming.attended, coming.kind) == (
        Reply.MAYBE,
        False,
        "Focus group",
    )
    assert (came.activity_id, came.reply, came.attended) == (
        made_id,
        Reply.ATTENDING,
        True,
    )
    assert came.support_request == "A hearing loop"
    assert came.paid_pence == 2500 + 450
    assert (walked_in.reply, walked_in.attended) == (None, True)
