"""The activity page shows each part's section with that section's own values."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from engage.clock import utcnow
from engage.extensions import db
from engage.involvement import panels
from engage.involvement.models import Attendance
from engage.involvement.models import ClaimStatus
from engage.involvement.models import ExpenseClaim
from engage.involvement.models import InvolvementInvitation
from engage.involvement.models import Reply
from engage.involvement.models import SendStatus
from engage.membership.models import ContactChannel
from tests import factories
from tests.involvement.helpers import activity
from tests.involvement.helpers import gold_member


def test_the_activity_page_shows_replies_register_claims_and_outcome(
    client: Any, login: Any, cast: dict[str, Any]
) -> None:
    made = activity(
        starts=utcnow() - timedelta(days=1),
        what_changed="Transport is now offered for follow-up visits.",
    )
    session = made.sessions[0]
    coming, other = gold_member(name="Ada Ahmed"), gold_member(name="Ben Brown")
    for member, reply in ((coming, Reply.ATTENDING), (other, Reply.NOT_ATTENDING)):
        invitation = InvolvementInvitation(
            session_id=session.id,
            member_id=member.id,
            channel=ContactChannel.EMAIL,
            address=member.email,
            send_status=SendStatus.SENT,
            reply=reply,
        )
        db.session.add(invitation)
    db.session.add(
        Attendance(session_id=session.id, member_id=coming.id, recorded_at=utcnow())
    )
    db.session.add(
        ExpenseClaim(
            session_id=session.id,
            member_id=coming.id,
            status=ClaimStatus.SUBMITTED,
            payment_pence=2500,
            miles=12.5,
            mileage_rate_pence=45,
            submitted_at=utcnow(),
        )
    )
    db.session.commit()
    login(cast["officer"])

    response = client.get(f"/involvement/{made.id}")

    assert response.status_code == 200
    page = " ".join(response.get_data(as_text=True).split())
    # Invitations: invited 2, coming 1, maybe 0, not coming 1, waiting 0.
    assert (
        '<td class="nhsuk-table__cell nhsuk-table__cell--numeric">2</td> '
        '<td class="nhsuk-table__cell nhsuk-table__cell--numeric">1</td> '
        '<td class="nhsuk-table__cell nhsuk-table__cell--numeric">0</td> '
        '<td class="nhsuk-table__cell nhsuk-table__cell--numeric">1</td>'
    ) in page
    assert f"/involvement/{made.id}/sessions/{session.id}/register" in page
    assert f"/involvement/{made.id}/participation" in page
    assert "£30.63" in page  # the claim waiting for approval
    assert "Waiting for approval" in page
    assert "Transport is now offered for follow-up visits." in page
    assert "This activity has no sessions yet." not in page
    assert "No expense claims yet" not in page


def test_a_name_two_sections_would_share_is_refused() -> None:
    made = activity()
    saved = list(panels.activity_panels._panels)
    try:
        panels.panel("involvement/_other.html", order=99)(
            lambda _activity: {"lines": [], "activity": _activity}
        )
        with pytest.raises(ValueError, match="'lines'"):
            panels.panel_context(made, {"activity": made})
        panels.activity_panels._panels[:] = saved
        panels.panel("involvement/_other.html", order=99)(
            lambda _activity: {"sessions": []}
        )
        with pytest.raises(ValueError, match="'sessions'"):
            panels.panel_context(made, {"activity": made, "sessions": []})
    finally:
        panels.activity_panels._panels[:] = saved
    names, values = panels.panel_context(made, {"activity": made})
    assert names[0] == "involvement/_invitations_panel.html"
    assert {"lines", "register_sessions", "has_outcome"} <= set(values)


def test_a_session_under_way_is_not_listed_as_to_come(
    client: Any, login: Any, cast: dict[str, Any]
) -> None:
    made = activity(sessions=3, starts=utcnow() - timedelta(weeks=1, minutes=30))
    login(cast["officer"])
    page = client.get(f"/involvement/{made.id}").get_data(as_text=True)
    statuses = [
        cell.split("<")[0]
        for cell in page.split('<td class="nhsuk-table__cell">')[1:]
        if cell.split("<")[0] in ("Over", "Under way", "To come")
    ]
    # A week ago (over), half an hour ago for two hours (under way), next week.
    assert statuses == ["Over", "Under way", "To come"]


def test_a_lead_is_shown_no_link_to_a_page_only_editors_open(
    app: Any, client: Any, login: Any, cast: dict[str, Any]
) -> None:
    made = activity(sessions=2)
    editors_only = (
        f'href="/involvement/{made.id}/invite"',
        f'href="/involvement/{made.id}/invitations"',
        f'href="/involvement/{made.id}/cancel"',
    )
    login(cast["lead"])
    page = client.get(f"/involvement/{made.id}").get_data(as_text=True)
    for link in editors_only:
        assert link not in page
    # Every link the lead is shown on the activity's own sections opens for them.
    sections = page.split("<h1", 1)[1]
    for href in set(re.findall(r'href="(/[^"#]*)"', sections)):
        assert client.get(href.replace("&amp;", "&")).status_code != 403, href

    officer = app.test_client()
    factories.sign_in(officer, cast["officer"])
    page = officer.get(f"/involvement/{made.id}").get_data(as_text=True)
    for link in editors_only:
        assert link in page
