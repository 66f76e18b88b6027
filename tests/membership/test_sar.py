"""The subject access request register: due dates, overdue flags, pages (D6)."""

from __future__ import annotations

from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from engage.audit.models import AuditEvent
from engage.clock import utcnow
from engage.errors import Conflict
from engage.errors import ValidationError
from engage.extensions import db
from engage.membership import sar
from engage.membership.models import Member
from engage.membership.models import SubjectAccessRequest
from engage.membership.services import ErasureReason
from engage.membership.services import erase_member
from tests.factories import MemberFactory

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
REQUESTER = "Pat Member by letter"


def make_member(name: str = "Pat Member") -> Member:
    return MemberFactory(name=name, email="pat@example.org", created_at=NOW)


def log(
    received_on: date = date(2026, 2, 10),
    *,
    member: Member | None = None,
    actor: Any = "system",
    now: datetime = NOW,
) -> SubjectAccessRequest:
    request = sar.log_request(
        member=member,
        requester=REQUESTER,
        received_on=received_on,
        notes="Asked for everything since 2024",
        actor=actor,
        now=now,
    )
    db.session.commit()
    return request


def sar_events(action: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == action,
                AuditEvent.entity_type == "subject_access_request",
            )
        )
    )


# Due dates and the overdue flag -------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (date(2026, 1, 31), date(2026, 2, 28)),
        (date(2028, 1, 31), date(2028, 2, 29)),
        (date(2026, 3, 15), date(2026, 4, 15)),
        (date(2026, 12, 31), date(2027, 1, 31)),
        (date(2026, 4, 30), date(2026, 5, 30)),
    ],
)
def test_due_date_is_one_calendar_month_clamped_to_month_end(
    received: date, due: date
) -> None:
    assert sar.due_date(received) == due


def test_log_request_sets_the_due_date() -> None:
    request = log(date(2026, 1, 31))
    assert request.due_on == date(2026, 2, 28)
    assert request.completed_on is None


def test_open_request_past_its_due_date_is_overdue() -> None:
    request = log(date(2026, 1, 31))
    assert not sar.is_overdue(request, date(2026, 2, 28))
    assert sar.is_overdue(request, date(2026, 3, 1))


def test_completed_request_is_never_overdue() -> None:
    request = log(date(2026, 1, 31))
    sar.complete_request(
        request, completed_on=date(2026, 3, 2), actor="system", now=NOW
    )
    assert not sar.is_overdue(request, date(2026, 3, 2))
    assert sar.status_on(request, date(2026, 6, 1)) is sar.SarStatus.COMPLETED


def test_list_requests_puts_open_requests_first_by_due_date() -> None:
    done = log(date(2026, 1, 5))
    sar.complete_request(done, completed_on=date(2026, 1, 20), actor="system", now=NOW)
    later = log(date(2026, 2, 20))
    sooner = log(date(2026, 1, 25))
    entries = sar.list_requests(today=date(2026, 3, 1))
    assert [e.request.id for e in entries] == [sooner.id, later.id, done.id]
    assert [e.status for e in entries] == [
        sar.SarStatus.OVERDUE,
        sar.SarStatus.OPEN,
        sar.SarStatus.COMPLETED,
    ]


# Rules --------------------------------------------------------------------------------


def test_log_request_rejects_a_future_received_date() -> None:
    with pytest.raises(ValidationError):
        log(NOW.date() + timedelta(days=1))


def test_log_request_rejects_an_erased_member() -> None:
    member = make_member()
    erase_member(member, actor="system", reason=ErasureReason.MEMBER_REQUEST, now=NOW)
    with pytest.raises(ValidationError):
        log(member=member)


def test_complete_request_twice_is_a_conflict() -> None:
    request = log()
    sar.complete_request(request, completed_on=NOW.date(), actor="system", now=NOW)
    with pytest.raises(Conflict):
        sar.complete_request(request, completed_on=NOW.date(), actor="system", now=NOW)


def test_complete_request_rejects_a_date_before_it_was_received() -> None:
    request = log(date(2026, 2, 10))
    with pytest.raises(ValidationError):
        sar.complete_request(
            request, completed_on=date(2026, 2, 9), actor="system", now=NOW
        )


# Audit and erasure --------------------------------------------------------------------


def test_logging_and_completing_are_audited_without_personal_data(cast) -> None:
    member = make_member()
    request = log(date(2026, 1, 31), member=member, actor=cast["admin"])
    sar.complete_request(
        request, completed_on=date(2026, 3, 2), actor=cast["admin"], now=NOW
    )
    db.session.commit()
    (created,) = sar_events("create")
    (completed,) = sar_events("complete")
    assert created.entity_id == str(request.id)
    assert created.actor_id == cast["admin"].id
    assert "due 2026-02-28" in created.summary
    assert f"member {member.id}" in created.summary
    assert "late" in completed.summary
    for event in (created, completed):
        assert "Pat" not in event.summary
        assert "letter" not in event.summary


def test_erasing_the_member_blanks_the_requester() -> None:
    member = make_member()
    request = log(member=member)
    other = log()
    erase_member(member, actor="system", reason=ErasureReason.MEMBER_REQUEST, now=NOW)
    db.session.commit()
    db.session.expire_all()
    assert request.requester == ""
    assert request.notes == ""
    assert request.due_on == date(2026, 3, 10)  # the dates stay, to show timeliness
    assert other.requester == REQUESTER


# Pages --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["lead", "officer"])
def test_non_admins_cannot_use_the_register(
    client: FlaskClient, login, cast, role: str
) -> None:
    request = log()
    login(cast[role])
    assert client.get("/members/subject-access-requests").status_code == 403
    assert client.get("/members/subject-access-requests/new").status_code == 403
    response = client.post(f"/members/subject-access-requests/{request.id}/complete")
    assert response.status_code == 403
    db.session.refresh(request)
    assert request.completed_on is None


def test_register_shows_overdue_and_open_requests(
    client: FlaskClient, login, cast
) -> None:
    member = make_member()
    today = utcnow().date()
    log(today - timedelta(days=70), member=member, now=utcnow())
    log(today, now=utcnow())
    login(cast["admin"])
    page = client.get("/members/subject-access-requests").get_data(as_text=True)
    assert "Overdue" in page
    assert "Open" in page
    assert REQUESTER in page
    assert f"/members/{member.id}/subject-access.json" in page
    assert f'href="/members/{member.id}"' in page
    assert "Not matched yet" in page


def test_admin_logs_a_request_for_a_member(client: FlaskClient, login, cast) -> None:
    member = make_member()
    login(cast["admin"])
    form = client.get(f"/members/subject-access-requests/new?member_id={member.id}")
    today = utcnow().date()
    assert f'name="received_on-year" type="text" value="{today.year}"' in form.get_data(
        as_text=True
    )
    response = client.post(
        "/members/subject-access-requests/new",
        data={
            "received_on": "2026-01-31",
            "member_id": str(member.id),
            "requester": "Member by email",
            "notes": "",
        },
    )
    assert response.status_code == 302
    (request,) = db.session.scalars(select(SubjectAccessRequest))
    assert request.member_id == member.id
    assert request.due_on == date(2026, 2, 28)
    assert request.created_by_id == cast["admin"].id
    assert len(sar_events("create")) == 1


def test_logging_a_request_for_an_unknown_member_shows_an_error(
    client: FlaskClient, login, cast
) -> None:
    login(cast["admin"])
    response = client.post(
        "/members/subject-access-requests/new",
        data={"received_on": "2026-01-31", "member_id": "999999", "requester": "X"},
    )
    assert response.status_code == 200
    assert "No current member has that number" in response.get_data(as_text=True)
    assert db.session.scalars(select(SubjectAccessRequest)).all() == []


def test_admin_completes_a_request(client: FlaskClient, login, cast) -> None:
    request = log(utcnow().date() - timedelta(days=3), now=utcnow())
    login(cast["admin"])
    response = client.post(f"/members/subject-access-requests/{request.id}/complete")
    assert response.status_code == 302
    db.session.refresh(request)
    assert request.completed_on == utcnow().date()
    page = client.get("/members/subject-access-requests").get_data(as_text=True)
    assert "Completed" in page
    assert "Overdue" not in page
    assert len(sar_events("complete")) == 1


def test_admin_pages_link_to_the_register(client: FlaskClient, login, cast) -> None:
    member = make_member()
    login(cast["admin"])
    for url in ("/admin/", f"/members/{member.id}"):
        page = client.get(url).get_data(as_text=True)
        assert 'href="/members/subject-access-requests"' in page
