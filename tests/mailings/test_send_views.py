"""The sending pages: recipients and why not, schedule, send now, progress, pause."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from sqlalchemy import select

from engage.audit.models import AuditEvent
from engage.extensions import db
from engage.mailings.models import Mailing
from engage.mailings.models import MailingStatus
from engage.membership.models import ContactChannel
from engage.membership.models import MemberStatus
from tests.mailings.helpers import T0
from tests.mailings.helpers import mailing
from tests.mailings.helpers import member


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert found
    return found.group(1)


def test_recipients_summary_and_why_not_by_name(
    client: Any, login: Any, cast: Any
) -> None:
    able = member(name="Ann Able")
    other = member(name="Ann Other", consents=[ContactChannel.POST])
    gone = member(name="Bob Gone", status=MemberStatus.WITHDRAWN, withdrawn_at=T0)
    sent = mailing()
    login(cast["officer"])
    page = client.get(f"/mailings/{sent.id}/recipients?name=ann").get_data(as_text=True)
    assert "3 members match" in page
    assert "They have not agreed to emails: 1" in page
    assert "Ann Able" in page
    assert "Included: they get this mailing." in page
    assert "Ann Other" in page
    assert "<li>They have not agreed to emails</li>" in page
    # Each member shown is audited as viewed, by whom; nobody else is.
    viewed = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "view", AuditEvent.entity_type == "member"
        )
    ).all()
    assert sorted(int(e.entity_id) for e in viewed) == sorted([able.id, other.id])
    assert gone.id not in {int(e.entity_id) for e in viewed}
    assert all(e.actor_id == cast["officer"].id for e in viewed)
    page = client.get(f"/mailings/{sent.id}/recipients?name=zzz").get_data(as_text=True)
    assert "No member's name contains" in page
    views = select(AuditEvent).where(AuditEvent.action == "view")
    assert len(db.session.scalars(views).all()) == 2


def test_schedule_in_uk_time_and_only_in_the_future(
    app: Flask, client: Any, login: Any, cast: Any
) -> None:
    app.config["SMTP_URL"] = "smtp://127.0.0.1:9"
    sent = mailing()
    login(cast["officer"])
    url = f"/mailings/{sent.id}/schedule"
    token = _csrf(client.get(url).get_data(as_text=True))
    form = {
        "csrf_token": token,
        "send_on-day": "1",
        "send_on-month": "7",
        "send_on-year": "2001",
        "send_at": "09:30",
    }
    response = client.post(url, data=form)
    assert response.status_code == 200
    assert "Choose a time in the future" in response.get_data(as_text=True)
    # Without a mail server it cannot be scheduled: said of the mailing, not the date.
    app.config["SMTP_URL"] = ""
    form["send_on-year"] = "2099"
    page = client.post(url, data=form).get_data(as_text=True)
    assert "The mailing was not scheduled: " in page
    assert "nhsuk-form-group--error" not in page
    app.config["SMTP_URL"] = "smtp://127.0.0.1:9"
    response = client.post(url, data=form)
    assert response.status_code == 302
    db.session.refresh(sent)
    assert sent.status is MailingStatus.SCHEDULED
    # 09:30 BST is 08:30 UTC.
    assert (sent.scheduled_for.hour, sent.scheduled_for.minute) == (8, 30)
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "schedule_mailing" in actions


def test_send_now_after_confirmation_then_progress_without_javascript(
    app: Flask, client: Any, login: Any, cast: Any
) -> None:
    app.config["SMTP_URL"] = "smtp://127.0.0.1:9"
    member(email="a@example.org")
    sent = mailing()
    login(cast["officer"])
    url = f"/mailings/{sent.id}/send-now"
    confirm = client.get(url)
    assert "Send the mailing now?" in confirm.get_data(as_text=True)
    assert db.session.get(Mailing, sent.id).status is MailingStatus.DRAFT
    response = client.post(
        url, data={"csrf_token": _csrf(confirm.get_data(as_text=True))}
    )
    assert response.status_code == 302
    db.session.refresh(sent)
    assert sent.status is MailingStatus.SENDING
    page = client.get(f"/mailings/{sent.id}/progress").get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="5">' in page
    assert "0 of 1 sent" in page
    assert '<progress max="1" value="0"' in page

    token = _csrf(page)
    client.post(f"/mailings/{sent.id}/pause", data={"csrf_token": token})
    db.session.refresh(sent)
    assert sent.status is MailingStatus.PAUSED
    page = client.get(f"/mailings/{sent.id}/progress").get_data(as_text=True)
    assert 'http-equiv="refresh"' not in page
    # Pausing again is refused kindly, never a server error.
    again = client.post(
        f"/mailings/{sent.id}/pause", data={"csrf_token": token}, follow_redirects=True
    )
    assert again.status_code == 200
    assert "cannot be paused" in again.get_data(as_text=True)
    client.post(f"/mailings/{sent.id}/cancel", data={"csrf_token": token})
    db.session.refresh(sent)
    assert sent.status is MailingStatus.CANCELLED
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"send_mailing", "pause_mailing", "cancel_mailing"} <= actions
