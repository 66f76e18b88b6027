"""The audit log in plain words: sentences, links only where the reader may go."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC
from datetime import date
from datetime import datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engage.audit.models import AuditEvent
from engage.audit.services import AuditFilter
from engage.audit.services import audit_query
from engage.audit.services import record_event
from engage.audit.words import action_name
from engage.audit.words import describe
from engage.audit.words import plain
from engage.audit.words import record_type_name
from engage.extensions import db
from engage.membership.models import MemberStatus
from tests.factories import ActionFactory
from tests.factories import MemberFactory
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _request(app: Flask) -> Iterator[None]:
    """Links are built as in a page."""
    with app.test_request_context():
        yield


# 14:05 UTC on 2 June is 3:05pm in the UK (BST).
SUMMER = datetime(2026, 6, 2, 14, 5, tzinfo=UTC)


def _sentences(viewer: object) -> dict[str, str]:
    events = list(db.session.scalars(db.select(AuditEvent)))
    said = describe(events, viewer)
    return {event.action: said[event.id].text for event in events}


def test_reach_report_subscription_reads_as_a_sentence(cast) -> None:
    priya = UserFactory(role="admin", name="Priya Shah")
    ahmed = UserFactory(role="lead", name="Dr Ahmed")
    record_event(priya, "update", "user", ahmed.id, "reach report on", now=SUMMER)
    db.session.flush()
    (event,) = db.session.scalars(db.select(AuditEvent))
    sentence = describe([event], cast["admin"])[event.id]
    assert sentence.text == "Priya Shah changed Dr Ahmed's reach report emails to on"
    assert sentence.url == f"/admin/users/{ahmed.id}/edit"
    # Staff accounts are for admins: a lead reading the same event gets no link.
    assert describe([event], cast["lead"])[event.id].url is None


def test_changes_statuses_and_dates_in_words(cast) -> None:
    action = ActionFactory(title="Winter newsletter")
    officer = cast["officer"]
    record_event(officer, "update", "action", action.id, "title, channel_id")
    record_event(officer, "status", "action", action.id, "in_progress→done")
    record_event(officer, "deliver", "action", action.id, "activity 4 on 2026-12-02")
    db.session.flush()
    said = _sentences(cast["admin"])
    assert said["update"] == (
        "Owen Officer changed the action \u201cWinter newsletter\u201d (title, channel)"
    )
    assert said["status"] == (
        "Owen Officer changed the status of the action \u201cWinter newsletter\u201d"
        " from in progress to done"
    )
    assert said["deliver"] == (
        "Owen Officer logged a delivery of the action \u201cWinter newsletter\u201d"
        " on 2 December 2026"
    )


def test_erased_member_is_never_linked_or_named(cast) -> None:
    kept = MemberFactory(name="Rosa Kept")
    erased = MemberFactory(name=None, email=None, status=MemberStatus.ERASED)
    erased.erased_at = SUMMER
    record_event(cast["officer"], "view", "member", kept.id, "record viewed")
    record_event(cast["admin"], "erase", "member", erased.id, "reason: request")
    db.session.flush()
    events = list(db.session.scalars(db.select(AuditEvent)))
    said = {
        e.action: s
        for e, s in zip(events, describe(events, cast["admin"]).values(), strict=True)
    }
    assert said["view"].url == f"/members/{kept.id}"
    assert "Rosa" not in said["view"].text
    assert said["erase"].url is None
    # The erasure names the member it erased by number; other events about the
    # member say it is erased.
    assert said["erase"].text == (
        f"Alice Admin erased member {erased.id} (reason: request)"
    )
    assert said["view"].text == f"Owen Officer viewed member {kept.id}"
    record_event(cast["officer"], "export", "member", erased.id, "record viewed")
    db.session.flush()
    events = list(db.session.scalars(db.select(AuditEvent)))
    later = describe(events, cast["admin"])[events[-1].id]
    assert later.record == f"an erased member (number {erased.id})"


def test_records_that_are_gone_and_people_without_accounts() -> None:
    record_event("public", "register", "member", 999, "joined online")
    record_event("system", "retention", "member", None, "3 withdrawn members erased")
    db.session.flush()
    said = _sentences(None)
    assert said["register"] == (
        "A member of the public registered a member who is no longer on record"
        " (joined online)"
    )
    assert said["retention"] == (
        "Engage erased withdrawn members (3 withdrawn members erased)"
    )


def test_engage_s_own_workers_are_named_in_words() -> None:
    """The capture mailbox reader and the demo loader, not their codes."""
    record_event("read-capture job", "file", "captured_message", None, "")
    record_event("demo", "update", "commitment", None, "")
    db.session.flush()
    said = _sentences(None)
    assert said["file"] == "The capture mailbox reader filed captured emails"
    assert said["update"].startswith("The demo data changed ")


def test_events_about_many_records_name_them_in_the_plural(cast) -> None:
    record_event("system", "import", "action", None, "import actions: 23 created")
    record_event(cast["admin"], "revoke", "api_token", None, "")
    record_event(cast["admin"], "request_job_run", "job", None, "deliver-mail")
    db.session.flush()
    said = _sentences(cast["admin"])
    # Not "(import actions: 23 created)": the sentence already says so.
    assert said["import"] == "Engage imported actions (23 created)"
    assert said["revoke"] == "Alice Admin stopped API tokens"
    assert said["request_job_run"] == "Alice Admin asked to run the job (deliver-mail)"


def test_sign_ins_do_not_name_the_person_twice(cast) -> None:
    officer = cast["officer"]
    record_event(officer, "login", "user", officer.id, "")
    record_event(officer, "password_change", "user", officer.id, "")
    db.session.flush()
    said = _sentences(cast["admin"])
    assert said["login"] == "Owen Officer signed in"
    assert said["password_change"] == (
        "Owen Officer changed the password for their own account"
    )


def test_plain_summaries_have_nhs_dates_and_no_codes() -> None:
    assert plain("received 2026-06-02, due 2026-07-02") == (
        "received 2 June 2026, due 2 July 2026"
    )
    assert plain("sent 2026-06-02T14:05:00+00:00") == "sent 2 June 2026 at 3:05pm"
    assert plain("gold→silver") == "gold to silver"
    assert plain("practice_id, support_other") == "practice, support other"


def test_filter_names_are_words() -> None:
    assert action_name("update") == "Changed"
    assert action_name("two_factor_reset") == "Reset two-factor sign-in"
    assert action_name("something_new") == "Something new"
    assert record_type_name("user") == "Staff accounts"
    assert record_type_name("survey_response") == "Survey responses"


def test_audit_page_shows_sentences_links_and_uk_times(
    client: FlaskClient, login, cast
) -> None:
    action = ActionFactory(title="Winter newsletter")
    record_event(cast["officer"], "create", "action", action.id, "monthly", now=SUMMER)
    db.session.commit()
    login(cast["admin"])
    html = client.get("/admin/audit/").get_data(as_text=True)
    assert (
        f'Owen Officer added <a href="/actions/{action.id}">the action'
        " \u201cWinter newsletter\u201d</a> (monthly)." in html
    )
    assert "2 June 2026 at 3:05pm" in html
    assert "UTC" not in html
    # The filters name actions and records in words, codes only as values.
    assert '<option value="create">Added</option>' in html
    assert '<option value="action">Actions</option>' in html


def test_audit_filter_days_are_uk_days(cast) -> None:
    # 23:30 UTC on 1 June is 12:30am on 2 June in the UK.
    late = datetime(2026, 6, 1, 23, 30, tzinfo=UTC)
    record_event(cast["officer"], "archive", "audience", 1, "", now=late)
    db.session.flush()

    def found(day: date) -> int:
        query = audit_query(AuditFilter(date_from=day, date_to=day))
        return len(list(db.session.scalars(query)))

    assert found(date(2026, 6, 2)) == 1
    assert found(date(2026, 6, 1)) == 0


def test_mailing_events_read_as_sentences(cast) -> None:
    from engage.mailings.models import Mailing

    mailing = Mailing(subject="April news")
    db.session.add(mailing)
    db.session.flush()
    record_event(cast["officer"], "test_send", "mailing", mailing.id, "test copy")
    record_event(cast["officer"], "pause_mailing", "mailing", mailing.id, "")
    db.session.flush()
    said = _sentences(cast["admin"])
    assert said["test_send"] == (
        "Owen Officer emailed themselves a test copy of the mailing"
        " \u201cApril news\u201d (test copy)"
    )
    assert (
        said["pause_mailing"]
        == "Owen Officer paused the mailing \u201cApril news\u201d"
    )
    assert record_type_name("mailing_template") == "Mailing templates"


def test_board_commentary_events_read_as_sentences(cast) -> None:
    from engage.dashboard.commentary import save_commentary
    from engage.dashboard.periods import quarter

    period = quarter(2026, 3)
    save_commentary(period, "Reach grew.", actor=cast["lead"], now=SUMMER)
    db.session.flush()
    said = _sentences(cast["admin"])
    assert said["board_commentary.save"] == (
        "Lena Lead saved the commentary on the Q3 2026 board report (11 characters)"
    )
    assert action_name("board_commentary.save") == "Saved board report commentary"
    assert record_type_name("board_commentary") == "Board report commentary"
