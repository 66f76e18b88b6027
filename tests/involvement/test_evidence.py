"""Evidence of involvement: an activity's outcome, the board report's evidence log,
the yearly summary and its downloads, and involvement on the dashboard."""

from __future__ import annotations

import csv
import io
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta
from typing import Any

import openpyxl
from flask import render_template
from sqlalchemy import select

from engage.audiences.models import AudienceContact
from engage.audit.models import AuditEvent
from engage.clock import local_day
from engage.clock import today
from engage.clock import utcnow
from engage.dashboard import periods
from engage.dashboard.involvement_sections import involvement_section
from engage.dashboard.report import evidence_log
from engage.dashboard.sections import Scope
from engage.extensions import db
from engage.involvement import summary as summaries
from engage.involvement.models import ActivityKind
from engage.involvement.models import ActivityStatus
from engage.involvement.models import Attendance
from engage.involvement.models import InvolvementActivity
from engage.involvement.models import InvolvementSession
from engage.involvement.outcomes import outcome_panel
from engage.involvement.panels import panels_for
from engage.membership.models import Tier
from engage.surveys.models import Finding
from tests import factories
from tests.involvement.helpers import activity
from tests.involvement.helpers import gold_member


def _finding(*, published: bool = True, theme: str = "Booking") -> Finding:
    survey = factories.SurveyFactory(title="GP access survey")
    finding = Finding(
        survey_id=survey.id,
        theme=theme,
        you_said="It is hard to book an appointment by phone.",
        we_did="Added online booking.",
        published=published,
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    db.session.add(finding)
    db.session.commit()
    return finding


def _came(session: InvolvementSession, **who: Any) -> None:
    db.session.add(Attendance(session_id=session.id, recorded_at=utcnow(), **who))


# The outcome -----------------------------------------------------------------------


def test_an_officer_records_what_we_heard_and_links_findings_and_actions(
    client, login, cast
) -> None:
    held = activity(starts=utcnow() - timedelta(days=3))
    finding = _finding()
    action = factories.ActionFactory(title="Phone line review")
    login(cast["officer"])
    page = client.get(f"/involvement/{held.id}/outcome")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "GP access survey: Booking" in html
    assert "Phone line review" in html
    response = client.post(
        f"/involvement/{held.id}/outcome",
        data={
            "what_we_heard": "  Phone queues are too long.\r\nPeople gave up.  ",
            "what_changed": "A call-back service.",
            "finding_ids": [str(finding.id)],
            "action_ids": [str(action.id)],
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    saved = db.session.get(InvolvementActivity, held.id)
    assert saved is not None
    assert saved.what_we_heard == "Phone queues are too long.\nPeople gave up."
    assert saved.what_changed == "A call-back service."
    assert [f.id for f in saved.findings] == [finding.id]
    assert [a.id for a in saved.changed_actions] == [action.id]
    assert saved.outcome_recorded_at is not None
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "record_outcome")
    )
    assert event is not None
    assert event.entity_id == str(held.id) or event.entity_id == held.id
    # Unticking every box takes the links away again.
    client.post(
        f"/involvement/{held.id}/outcome",
        data={"what_we_heard": "Phone queues are too long.", "what_changed": ""},
    )
    db.session.expire_all()
    saved = db.session.get(InvolvementActivity, held.id)
    assert saved is not None
    assert saved.findings == []
    assert saved.changed_actions == []
    assert saved.what_changed == ""


def test_the_outcome_form_refuses_what_it_did_not_offer(client, login, cast) -> None:
    held = activity()
    hidden = _finding(published=False, theme="Unpublished")
    login(cast["officer"])
    address = f"/involvement/{held.id}/outcome"
    assert "Unpublished" not in client.get(address).get_data(as_text=True)
    bad = [
        {"what_we_heard": "Fine", "finding_ids": [str(hidden.id)]},
        {"what_we_heard": "Fine", "finding_ids": ["99999"]},
        {"what_we_heard": "Fine", "finding_ids": ["abc"]},
        {"what_we_heard": "Fine", "action_ids": ["1e3"]},
        {"what_we_heard": "Fine", "action_ids": ["99999999999999"]},
        {"what_we_heard": "", "what_changed": "   "},
        {"what_we_heard": "x" * 5001},
    ]
    for data in bad:
        response = client.post(address, data=data)
        assert response.status_code == 200, data
        assert "There is a problem" in response.get_data(as_text=True), data
    db.session.expire_all()
    saved = db.session.get(InvolvementActivity, held.id)
    assert saved is not None
    assert saved.outcome_recorded_at is None
    assert saved.what_we_heard == ""
    assert client.get("/involvement/99999/outcome").status_code == 404


def test_the_activity_page_section_says_what_changed_or_invites_adding_it(
    app,
) -> None:
    held = activity()
    assert any(
        template == "involvement/_outcome_panel.html"
        for template, _values in panels_for(held)
    )
    with app.test_request_context():
        empty = render_template(
            "involvement/_outcome_panel.html", **(outcome_panel(held) or {})
        )
    assert "Nothing recorded yet" in empty
    held.what_changed = "A call-back service."
    held.changed_actions = [factories.ActionFactory(title="Phone line review")]
    db.session.commit()
    with app.test_request_context():
        shown = render_template(
            "involvement/_outcome_panel.html", **(outcome_panel(held) or {})
        )
    assert "A call-back service." in shown
    assert "Phone line review" in shown


# The board report's evidence log ----------------------------------------------------


def test_the_evidence_log_lists_a_session_with_a_count_and_never_names(
    client, login, cast
) -> None:
    starts = (utcnow() - timedelta(days=2)).replace(microsecond=0)
    held = activity(
        starts=starts,
        action=factories.ActionFactory(title="Urgent care review"),
        what_changed="Opening hours are on the front page.",
    )
    session = held.sessions[0]
    for name in ("Zebedee Quill", "Yolanda Prism"):
        _came(session, member_id=gold_member(name=name).id)
    _came(session, user_id=cast["officer"].id)  # staff are not counted
    _came(session, guest_name="Xavier Guest")
    later = activity(
        starts=starts - timedelta(days=1), title="Carers' reference group"
    )  # held, no register yet
    db.session.commit()
    day = local_day(starts)
    quarter = periods.current(periods.PeriodKind.QUARTER, day)
    items = evidence_log(quarter, now=utcnow())
    mine = [i for i in items if i.involvement]
    assert [i.description for i in mine] == [later.title, held.title]
    assert mine[1].attended == 3
    assert mine[1].attended_text == "3"
    assert mine[0].attended_text == "Not recorded"
    assert mine[1].action == "Urgent care review"
    assert mine[1].channel == "Focus group"
    assert mine[1].what_changed == "Opening hours are on the front page."
    login(cast["lead"])
    html = client.get(f"/dashboard/board-report?quarter={quarter.value}").get_data(
        as_text=True
    )
    log = html[html.index('id="section-evidence"') :]
    assert held.title in log
    assert "People who took part" in log
    assert "Opening hours are on the front page." in log
    for name in ("Zebedee", "Yolanda", "Xavier", cast["officer"].name):
        assert name not in html
    book = openpyxl.load_workbook(
        io.BytesIO(
            client.get(f"/dashboard/board-report.xlsx?quarter={quarter.value}").data
        )
    )
    rows = list(book["Evidence log"].iter_rows(values_only=True))
    assert rows[0][6:] == ("People who took part", "What changed")
    row = next(r for r in rows if r[4] == held.title)
    assert row[6] == 3
    assert not any("Zebedee" in str(cell) for r in rows for cell in r)


def test_a_session_to_come_or_cancelled_is_not_in_the_log(cast) -> None:
    future = activity(title="Still to come")
    called_off = activity(
        starts=utcnow() - timedelta(days=1), title="Called off", sessions=1
    )
    called_off.status = ActivityStatus.CANCELLED
    db.session.commit()
    day = local_day(future.sessions[0].starts_at)
    year = periods.Period(
        periods.PeriodKind.CUSTOM, day - timedelta(days=30), day + timedelta(days=1)
    )
    assert [i for i in evidence_log(year, now=utcnow()) if i.involvement] == []


def test_the_board_reports_nothing_lines_name_sessions(client, login, cast) -> None:
    login(cast["lead"])
    html = client.get("/dashboard/board-report?quarter=2001-Q1").get_data(as_text=True)
    assert (
        "No deliveries were logged and no involvement sessions were held in this "
        "period." in html
    )
    assert "No involvement sessions were held in this period." in html


# The yearly summary -----------------------------------------------------------------


def _a_year_of_sessions(year: int) -> dict[str, Any]:
    """Two activities in ``year`` (three sessions held), and some not to count."""
    focus = activity(
        sessions=2, starts=datetime(year, 3, 3, 13, tzinfo=UTC), title="Focus"
    )
    workshop = activity(
        kind=ActivityKind.CO_DESIGN,
        starts=datetime(year, 6, 9, 10, tzinfo=UTC),
        title="Workshop",
        what_we_heard="Too many forms.",
        what_changed="One form instead of three.",
    )
    amy, ben = gold_member(name="Amy"), gold_member(name="Ben")
    cat = gold_member(name="Cat", tier=Tier.SILVER)
    audience = factories.AudienceFactory(name="Carers' forum")
    contact = AudienceContact(audience_id=audience.id, name="Dee")
    db.session.add(contact)
    db.session.flush()
    first, second = focus.sessions
    _came(first, member_id=amy.id)
    _came(first, member_id=ben.id)
    _came(first, guest_name="Ann")
    _came(second, member_id=amy.id)
    _came(second, contact_id=contact.id)
    _came(second, user_id=factories.UserFactory().id)  # staff: not counted
    (third,) = workshop.sessions
    _came(third, member_id=cat.id)
    _came(third, guest_name=" ann ")  # the same guest, by name
    # Not counted: a session called off, an activity called off, another year.
    extra = InvolvementSession(
        activity_id=focus.id,
        starts_at=datetime(year, 3, 24, 13, tzinfo=UTC),
        ends_at=datetime(year, 3, 24, 15, tzinfo=UTC),
        cancelled_at=datetime(year, 3, 20, tzinfo=UTC),
    )
    db.session.add(extra)
    db.session.flush()
    _came(extra, member_id=amy.id)
    dropped = activity(starts=datetime(year, 5, 5, 13, tzinfo=UTC), title="Dropped")
    dropped.status = ActivityStatus.CANCELLED
    _came(dropped.sessions[0], member_id=amy.id)
    other = activity(starts=datetime(year - 1, 12, 30, 13, tzinfo=UTC), title="Old")
    _came(other.sessions[0], member_id=ben.id)
    db.session.commit()
    return {"focus": focus, "workshop": workshop}


def test_the_summary_counts_a_fixed_year_of_sessions() -> None:
    year = today().year - 2
    made = _a_year_of_sessions(year)
    found = summaries.build_summary(summaries.summary_year(year, today()), now=utcnow())
    assert found.year.label == str(year)
    assert found.sessions == 3
    assert found.attendances == 7  # 3 + 2 + 2: staff left out
    # Amy, Ben (Gold), Cat (Silver), Dee (a contact), Ann (a guest, once)
    assert found.people == {"gold": 2, "silver": 1, "contacts": 1, "guests": 1}
    assert found.people_total == 5
    kinds = {k.kind: (k.activities, k.sessions, k.attendances) for k in found.kinds}
    assert kinds[ActivityKind.FOCUS_GROUP] == (1, 2, 5)
    assert kinds[ActivityKind.CO_DESIGN] == (1, 1, 2)
    assert kinds[ActivityKind.MEETING] == (0, 0, 0)
    lines = {line.activity.title: line for line in found.activities}
    assert set(lines) == {"Focus", "Workshop"}
    assert (lines["Focus"].sessions, lines["Focus"].attendances) == (2, 5)
    assert lines["Focus"].people == 4
    assert lines["Workshop"].people == 2
    assert found.with_outcome == [lines["Workshop"]]
    assert found.sentence.startswith(
        f"In {year} we held 3 involvement sessions (1 focus group and "
        "1 co-design workshop). People came 7 times in all: 5 different people, "
        "2 of them Gold members"
    )
    assert made["workshop"].what_changed in summaries.summary_rows(found)[1]


def test_the_summary_page_offers_years_with_sessions_and_this_year_to_date(
    client, login, cast
) -> None:
    year = today().year - 2
    _a_year_of_sessions(year)
    login(cast["lead"])
    html = client.get("/involvement/summary").get_data(as_text=True)
    this_year = summaries.summary_year(today().year, today())
    # This year (to date, unless it is its last day) is shown and chosen.
    assert (
        f'How we involved people <span class="nhsuk-caption-l">{this_year.label}'
        in html
    )
    assert f">{year}</option>" in html
    assert f">{year - 1}</option>" in html  # the "Old" session's year
    shown = client.get(f"/involvement/summary?year={year}").get_data(as_text=True)
    assert "One form instead of three." in shown
    assert "data-print" in shown
    # A year not offered is refused, and this year shown instead.
    refused = client.get("/involvement/summary?year=1850").get_data(as_text=True)
    assert "Choose a year from the list" in refused
    assert "One form instead of three." not in refused


def test_this_year_is_labelled_to_date_until_it_ends() -> None:
    assert summaries.summary_year(2026, date(2026, 6, 1)).label == "2026 (to date)"
    assert summaries.summary_year(2026, date(2026, 6, 1)).last == date(2026, 6, 1)
    assert summaries.summary_year(2025, date(2026, 6, 1)).label == "2025"
    assert summaries.summary_year(2025, date(2026, 6, 1)).last == date(2025, 12, 31)
    [first, *_] = summaries.year_choices(date(2026, 6, 1), utcnow())
    assert first.label == "2026 (to date)"


def test_the_summary_downloads_are_formula_safe(client, login, cast) -> None:
    year = today().year - 2
    held = activity(
        starts=datetime(year, 4, 4, 13, tzinfo=UTC),
        title='=HYPERLINK("http://x")',
        what_changed="+SUM(1,1)",
    )
    _came(held.sessions[0], member_id=gold_member().id)
    db.session.commit()
    login(cast["officer"])
    response = client.get(f"/involvement/summary.csv?year={year}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    rows = list(
        csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")))
    )
    assert rows[0][:4] == ["Kind of activity", "Activity", "Dates", "Sessions held"]
    assert rows[1][1] == '\'=HYPERLINK("http://x")'
    assert rows[1][7] == "'+SUM(1,1)"
    assert rows[-1][0] == "All activities"
    book = openpyxl.load_workbook(
        io.BytesIO(client.get(f"/involvement/summary.xlsx?year={year}").data)
    )
    sheet = list(book.active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert sheet[1][1] == '\'=HYPERLINK("http://x")'
    assert sheet[1][4] == 1


# The dashboard ----------------------------------------------------------------------


def _figures(scope: Scope) -> dict[str, Any]:
    section = involvement_section(scope)
    return {f.key: (f.value, f.previous, f.stage) for f in section.figures}


def test_dashboard_counts_sessions_attendances_and_people_against_before() -> None:
    year = today().year - 2
    _a_year_of_sessions(year)
    # Q1 holds two sessions of the focus group; Q2 the workshop.
    q2 = periods.quarter(year, 2)
    scope = Scope(period=q2, today=today(), now=utcnow())
    figures = _figures(scope)
    assert figures["involvement_sessions"][:2] == (1, 2)
    assert figures["involvement_attendances"] == (2, 5, "outtake")
    assert figures["involvement_people"] == (2, 4, "outtake")
    assert figures["involvement_outcomes"][2] == "outcome"
    section = involvement_section(scope)
    tables = {t.key: t for t in section.tables}
    assert all(t.chart is not None for t in section.tables)  # and each its table
    by_kind = {row[0]: row[1:] for row in tables["involvement_by_kind"].rows}
    assert by_kind["Co-design workshop"] == [1, 0, 2, 0]
    assert by_kind["Focus group"] == [0, 2, 0, 5]
    people = {row[0]: row[1:] for row in tables["involvement_people"].rows}
    assert people["Gold members"] == [0, 2]
    assert people["Guests"] == [1, 1]


def test_dashboard_compares_a_year_to_date_like_for_like() -> None:
    year = today().year - 2
    _a_year_of_sessions(year)  # 3 March (two sessions, a week apart) and 9 June
    # Seen on 31 March of the next year: compared with 1 January to 31 March of
    # this one, which holds the two March sessions and not June's.
    scope = Scope(
        period=periods.year(year + 1), today=date(year + 1, 3, 31), now=utcnow()
    )
    assert scope.period.to_date
    figures = _figures(scope)
    assert figures["involvement_sessions"][:2] == (0, 2)
    assert figures["involvement_attendances"][:2] == (0, 5)


def test_the_dashboard_shows_involvement_with_its_tables(client, login, cast) -> None:
    held = activity(starts=utcnow() - timedelta(hours=3))
    _came(held.sessions[0], member_id=gold_member().id)
    db.session.commit()
    login(cast["lead"])
    html = client.get("/dashboard/").get_data(as_text=True)
    assert "Involvement sessions held" in html
    assert "People involved by tier (each person once)" in html
    assert "Attendances at involvement sessions" in html


def test_the_demo_involves_people(app) -> None:
    from engage.demo import load_demo
    from engage.involvement.models import ClaimStatus
    from engage.involvement.models import ExpenseClaim
    from engage.involvement.models import InvolvementRate

    now = utcnow()
    load_demo(now=now)
    db.session.commit()
    rates = {
        r.name: r.session_pence for r in db.session.scalars(select(InvolvementRate))
    }
    assert rates["Level 4: partnership"] == 7500
    activities = {a.title: a for a in db.session.scalars(select(InvolvementActivity))}
    group = activities["Gold members' reference group"]
    assert sum(s.starts_at < now for s in group.sessions) >= 3
    assert sum(s.starts_at > now for s in group.sessions) == 1
    focus = activities["Urgent care focus group"]
    assert focus.capacity == 8
    assert focus.sessions[0].starts_at > now
    workshop = activities["Designing the new patient leaflet"]
    assert workshop.what_changed
    assert workshop.changed_actions
    statuses = sorted(c.status for c in db.session.scalars(select(ExpenseClaim)))
    assert statuses == sorted([ClaimStatus.APPROVED, ClaimStatus.SUBMITTED])
    load_demo(now=now)
    db.session.commit()
    assert len(list(db.session.scalars(select(InvolvementActivity)))) == 3
