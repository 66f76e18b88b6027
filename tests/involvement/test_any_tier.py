"""An activity for members of any tier is saved as such and invites every tier."""

from __future__ import annotations

from datetime import time
from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select

from engage.clock import to_local
from engage.clock import utcnow
from engage.extensions import db
from engage.involvement import services
from engage.involvement.invitations import prepare_invitations
from engage.involvement.models import ActivityKind
from engage.involvement.models import InvolvementActivity
from engage.involvement.models import InvolvementInvitation
from engage.membership.models import Tier
from tests.involvement.helpers import gold_member
from tests.involvement.test_activities import _form


def test_any_tier_through_the_form_invites_silver_members_too(
    client: FlaskClient, login, cast
) -> None:
    gold = gold_member(name="Gold Member")
    silver = gold_member(name="Silver Member", tier=Tier.SILVER)
    login(cast["officer"])
    response = client.post("/involvement/new", data=_form(tier="any"))
    assert response.status_code == 302
    made = db.session.scalars(select(InvolvementActivity)).one()
    db.session.expire_all()
    assert made.tier is None
    assert "Members of any tier" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    assert prepare_invitations(made, utcnow()) == 2
    db.session.commit()
    invited = set(db.session.scalars(select(InvolvementInvitation.member_id)))
    assert invited == {gold.id, silver.id}


def test_a_chosen_tier_is_still_kept(cast) -> None:
    first = (to_local(utcnow()) + timedelta(days=30)).date()
    made = services.create_activity(
        services.ActivityData(
            kind=ActivityKind.MEETING, title="Silver meeting", tier=Tier.SILVER
        ),
        services.Schedule(first_day=first, first_time=time(14)),
        actor=cast["officer"],
        now=utcnow(),
    )
    db.session.commit()
    db.session.expire_all()
    assert made.tier is Tier.SILVER
