"""Commitments: the services, the register and its export, the audience page's
section, the to-do list and the digest."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta

import openpyxl
import pytest
import time_machine
from flask.testing import FlaskClient
from sqlalchemy import select

from engage.actions.digest import send_action_digests
from engage.audit.models import AuditEvent
from engage.clock import today
from engage.clock import utcnow
from engage.errors import ValidationError
from engage.extensions import db
from engage.relationships import commitments as services
from engage.relationships.models import Commitment
from engage.relationships.models import CommitmentStatus
from tests import factories
from tests.pager import pager_links

#: 10 January 2026, noon in the UK.
NOON = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
DUE = date(2026, 1, 10)


def _data(audience_id: int | None, **changes: object) -> services.CommitmentData:
    values: dict[str, object] = {
        "description": "Send the stroke review papers",
        "audience_id": audience_id,
        "due_on": DUE,
    }
    values.update(changes)
    return services.CommitmentData(**values)  # type: ignore[arg-type]


def _events(commitment: Commitment) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEvent.action)
            .where(
                AuditEvent.entity_type == "commitment",
                AuditEvent.entity_id == str(commitment.id),
            )
            .order_by(AuditEvent.id)
        )
    )


# Services -------------------------------------------------------------------------


def test_adding_checks_and_defaults_the_owner_to_the_actor(cast) -> None:
    council = factories.AudienceFactory(name="Northshire Council")
    officer = cast["officer"]
    commitment = services.add_commitment(_data(council.id), actor=officer, now=NOON)
    assert commitment.owner == officer
    assert commitment.status is CommitmentStatus.OPEN
    assert commitment.closed_on is None
    assert _events(commitment) == ["create"]

    for bad, message in (
        (_data(council.id, description="   "), "Say what was promised"),
        (_data(council.id, description="x" * 1001), "1,000 characters"),
        (_data(None), "Choose the audience"),
        (_data(2_000_000), "Choose an audience from the list"),
        (_data(council.id, due_on=None), "Enter the date"),
        (_data(council.id, owner_id=cast["inactive"].id), "Choose an owner"),
        (_data(council.id, owner_id=2_000_000), "Choose an owner"),
        (_data(council.id, interaction_id=2_000_000), "Choose an interaction"),
    ):
        with pytest.raises(ValidationError, match=message):
            services.add_commitment(bad, actor=officer, now=NOON)

    archived = factories.AudienceFactory(name="Old board", archived_at=utcnow())
    with pytest.raises(ValidationError, match="Old board is archived"):
        services.add_commitment(_data(archived.id), actor=officer, now=NOON)
    with pytest.raises(ValidationError, match="Choose who owns"):
        services.add_commitment(_data(council.id), actor="cli", now=NOON)


def test_the_interaction_must_include_the_audience(cast) -> None:
    council, mp = factories.AudienceFactory(), factories.AudienceFactory(name="MP")
    meeting = factories.InteractionFactory(audiences=[council], subject="Board")
    with pytest.raises(ValidationError, match="was not with MP"):
        services.add_commitment(
            _data(mp.id, interaction_id=meeting.id), actor=cast["officer"], now=NOON
        )
    made = services.add_commitment(
        _data(council.id, interaction_id=meeting.id), actor=cast["officer"], now=NOON
    )
    assert made.interaction == meeting
    assert meeting.commitments == [made]


def test_editing_and_status_changes_are_audited(cast) -> None:
    council = factories.AudienceFactory()
    other = factories.UserFactory(name="Olga Other")
    commitment = services.add_commitment(
        _data(council.id), actor=cast["officer"], now=NOON
    )
    services.update_commitment(
        commitment,
        _data(council.id, description="Send it all", owner_id=other.id),
        actor=cast["officer"],
        now=NOON,
    )
    assert commitment.description == "Send it all"
    assert commitment.owner == other

    # 23:30 UTC on 31 March is 00:30 on 1 April in the UK (summer time).
    late = datetime(2026, 3, 31, 23, 30, tzinfo=UTC)
    services.mark_done(commitment, actor=cast["officer"], now=late)
    assert commitment.status is CommitmentStatus.DONE
    assert commitment.closed_on == date(2026, 4, 1)
    with pytest.raises(ValidationError, match="already done"):
        services.mark_done(commitment, actor=cast["officer"], now=late)
    services.reopen(commitment, actor=cast["officer"], now=late)
    assert commitment.status is CommitmentStatus.OPEN
    assert commitment.closed_on is None
    services.mark_dropped(commitment, actor=cast["officer"], now=NOON)
    assert commitment.status is CommitmentStatus.DROPPED
    assert commitment.closed_on == DUE
    assert _events(commitment) == ["create", "update", "complete", "reopen", "drop"]

    # A leaver stays the owner while the commitment is changed in other ways.
    other.is_active = False
    services.update_commitment(
        commitment,
        _data(council.id, description="Changed", owner_id=other.id),
        actor=cast["officer"],
        now=NOON,
    )
    assert commitment.owner == other


def test_overdue_from_the_day_after_the_due_date(cast) -> None:
    commitment = factories.CommitmentFactory(due_on=DUE, owner=cast["officer"])
    assert not services.is_overdue(commitment, DUE)
    assert services.overdue_words(commitment, DUE) == ""
    assert services.is_overdue(commitment, DUE + timedelta(days=1))
    assert (
        services.overdue_words(commitment, DUE + timedelta(days=1))
        == "Overdue by 1 day"
    )
    assert (
        services.overdue_words(commitment, DUE + timedelta(days=3))
        == "Overdue by 3 days"
    )
    assert services.overdue_for(cast["officer"], DUE) == []
    assert services.overdue_for(cast["officer"], DUE + timedelta(days=1)) == [
        commitment
    ]
    commitment.status = CommitmentStatus.DONE
    assert not services.is_overdue(commitment, DUE + timedelta(days=5))
    assert services.overdue_for(cast["officer"], DUE + timedelta(days=5)) == []


# The register -----------------------------------------------------------------------


def _register_cast(cast):  # type: ignore[no-untyped-def]
    day = today()
    council = factories.AudienceFactory(name="Northshire Council")
    mp = factories.AudienceFactory(name="Jo Bloggs MP")
    officer, admin = cast["officer"], cast["admin"]
    rows = {
        "late": factories.CommitmentFactory(
            description="Late papers",
            audience=council,
            owner=officer,
            due_on=day - timedelta(days=3),
        ),
        "soon": factories.CommitmentFactory(
            description="Soon letter",
            audience=mp,
            owner=admin,
            due_on=day + timedelta(days=2),
        ),
        "done": factories.CommitmentFactory(
            description="Done visit",
            audience=council,
            owner=officer,
            due_on=day - timedelta(days=10),
            status=CommitmentStatus.DONE,
            closed_on=day - timedelta(days=9),
        ),
        "dropped": factories.CommitmentFactory(
            description="Dropped idea",
            audience=mp,
            owner=officer,
            due_on=day + timedelta(days=20),
            status=CommitmentStatus.DROPPED,
            closed_on=day,
        ),
    }
    db.session.commit()
    return council, mp, rows


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ("", {"Late papers", "Soon letter"}),
        ("?status=overdue", {"Late papers"}),
        ("?status=done", {"Done visit"}),
        ("?status=dropped", {"Dropped idea"}),
        ("?status=all", {"Late papers", "Soon letter", "Done visit", "Dropped idea"}),
        ("?status=all&audience=AUDIENCE", {"Late papers", "Done visit"}),
        ("?status=all&owner=mine", {"Late papers", "Done visit", "Dropped idea"}),
        ("?owner=ADMIN", {"Soon letter"}),
        ("?status=all&due_from=FROM&due_to=TO", {"Late papers", "Soon letter"}),
    ],
)
def test_the_register_filters(
    client: FlaskClient, login, cast, query: str, shown: set[str]
) -> None:
    council, _mp, _rows = _register_cast(cast)
    day = today()
    query = (
        query.replace("AUDIENCE", str(council.id))
        .replace("ADMIN", str(cast["admin"].id))
        .replace("FROM", (day - timedelta(days=5)).isoformat())
        .replace("TO", (day + timedelta(days=5)).isoformat())
    )
    login(cast["officer"])
    page = client.get(f"/relationships/commitments/{query}").get_data(as_text=True)
    everything = {"Late papers", "Soon letter", "Done visit", "Dropped idea"}
    assert {name for name in everything if name in page} == shown


def test_the_register_marks_overdue_in_words_and_survives_bad_filters(
    client: FlaskClient, login, cast
) -> None:
    _register_cast(cast)
    login(cast["lead"])
    page = client.get("/relationships/commitments/").get_data(as_text=True)
    assert "Overdue by 3 days" in page
    for bad in (
        "?status=soon",
        "?audience=abc",
        "?audience=99999999999",
        "?owner=-1",
        "?due_from=2026-02-31",
        "?due_from-day=40&due_from-month=1&due_from-year=2026",
        "?page=x",
        "?page=999999999",
    ):
        response = client.get(f"/relationships/commitments/{bad}")
        assert response.status_code == 200, bad


def test_the_register_is_paged_with_one_query(
    client: FlaskClient, login, cast, app
) -> None:
    from sqlalchemy import event

    council = factories.AudienceFactory()
    meeting = factories.InteractionFactory(audiences=[council])
    for n in range(30):
        factories.CommitmentFactory(
            description=f"Promise {n:02d}",
            audience=council,
            owner=cast["officer"],
            interaction=meeting,
            due_on=today() + timedelta(days=n),
        )
    db.session.commit()
    login(cast["officer"])
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        first = client.get("/relationships/commitments/").get_data(as_text=True)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    about_commitments = [s for s in statements if "FROM commitments" in s]
    # The page's rows and the count: no query per row.
    assert len(about_commitments) <= 2
    assert "Promise 00" in first
    assert "Promise 24" in first
    assert "Promise 25" not in first
    second = client.get(pager_links(first)["next"]).get_data(as_text=True)
    assert re.findall(r"Promise \d\d", second) == [
        f"Promise {n}" for n in range(25, 30)
    ]
    # The export links carry the filters, never the place in the list.
    assert "after=" not in re.search(r'href="([^"]*export[^"]*)"', second).group(1)
    last = client.get(pager_links(first)["last"]).get_data(as_text=True)
    assert re.findall(r"Promise \d\d", last)[-1] == "Promise 29"
    back = client.get(pager_links(second)["previous"]).get_data(as_text=True)
    assert re.findall(r"Promise \d\d", back) == [f"Promise {n:02d}" for n in range(25)]


def test_closed_commitments_page_latest_closed_first(
    client: FlaskClient, login, cast
) -> None:
    council = factories.AudienceFactory()
    for n in range(27):
        factories.CommitmentFactory(
            description=f"Kept {n:02d}",
            audience=council,
            owner=cast["officer"],
            status=CommitmentStatus.DONE,
            closed_on=today() - timedelta(days=n // 2),
        )
    db.session.commit()
    login(cast["officer"])
    first = client.get("/relationships/commitments/?status=done").get_data(as_text=True)
    second = client.get(pager_links(first)["next"]).get_data(as_text=True)
    shown = re.findall(r"Kept \d\d", first) + re.findall(r"Kept \d\d", second)
    # Latest closed first; on the same day, the later one first.
    expected = sorted(
        (f"Kept {n:02d}" for n in range(27)),
        key=lambda d: (int(d[-2:]) // 2, -int(d[-2:])),
    )
    assert shown == expected


# The export ---------------------------------------------------------------------


def test_the_export_as_csv_and_xlsx(client: FlaskClient, login, cast) -> None:
    council = factories.AudienceFactory(name="Northshire Council")
    meeting = factories.InteractionFactory(
        audiences=[council], subject="Board meeting", occurred_on=date(2026, 1, 2)
    )
    factories.CommitmentFactory(
        description='=HYPERLINK("http://evil")',
        audience=council,
        owner=cast["officer"],
        interaction=meeting,
        due_on=today() - timedelta(days=2),
    )
    factories.CommitmentFactory(
        description="Visit",
        audience=council,
        owner=cast["officer"],
        status=CommitmentStatus.DONE,
        closed_on=date(2026, 1, 5),
        due_on=date(2026, 1, 6),
    )
    db.session.commit()
    login(cast["lead"])

    response = client.get("/relationships/commitments/export?format=csv&status=all")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert rows[0] == services.EXPORT_COLUMNS
    late, done = (rows[1], rows[2]) if rows[2][0] == "Visit" else (rows[2], rows[1])
    assert late[0] == '\'=HYPERLINK("http://evil")'
    assert late[1:4] == [
        "Northshire Council",
        "Owen Officer",
        (today() - timedelta(days=2)).isoformat(),
    ]
    assert late[4] == "Open, overdue by 2 days"
    assert late[6:] == ["Board meeting", "2026-01-02"]
    assert done[4:6] == ["Done", "2026-01-05"]

    response = client.get("/relationships/commitments/export?format=xlsx&status=done")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == services.EXPORT_COLUMNS
    assert len(values) == 2
    assert values[1][0] == "Visit"

    for bad in ("?format=pdf", "?format=csv&audience=x", "?format=csv&status=z"):
        response = client.get(f"/relationships/commitments/export{bad}")
        assert response.status_code == 400, bad


# Adding and changing through the pages ------------------------------------------


def test_adding_from_an_interaction_link(client: FlaskClient, login, cast) -> None:
    council = factories.AudienceFactory(name="Northshire Council")
    meeting = factories.InteractionFactory(audiences=[council], subject="Board")
    db.session.commit()
    login(cast["officer"])
    page = client.get(
        f"/relationships/commitments/new?interaction_id={meeting.id}"
    ).get_data(as_text=True)
    assert f'<option value="{council.id}" selected' in page
    assert f'<option value="{meeting.id}" selected' in page

    response = client.post(
        f"/relationships/commitments/new?interaction_id={meeting.id}",
        data={
            "description": "Send the stroke review papers",
            "audience_id": str(council.id),
            "owner_id": str(cast["officer"].id),
            "due_on": "2026-01-10",
            "interaction_id": str(meeting.id),
        },
    )
    assert response.status_code == 302
    made = db.session.scalar(select(Commitment))
    assert made is not None
    assert made.interaction_id == meeting.id
    assert made.due_on == DUE


@pytest.mark.parametrize(
    "query",
    [
        "?audience_id=abc",
        "?audience_id=99999999999999",
        "?audience_id=0",
        "?interaction_id=-3",
        "?interaction_id=123456",
        "?audience_id=123456&interaction_id=x",
    ],
)
def test_bad_links_to_the_new_page_are_refused_with_a_message(
    client: FlaskClient, login, cast, query: str
) -> None:
    login(cast["officer"])
    response = client.get(f"/relationships/commitments/new{query}")
    assert response.status_code == 200
    assert "was not found" in response.get_data(as_text=True)


def test_posting_bad_choices_shows_errors(client: FlaskClient, login, cast) -> None:
    council = factories.AudienceFactory()
    db.session.commit()
    login(cast["officer"])
    response = client.post(
        "/relationships/commitments/new",
        data={
            "description": "",
            "audience_id": "abc",
            "owner_id": str(cast["inactive"].id),
            "due_on-day": "31",
            "due_on-month": "2",
            "due_on-year": "2026",
            "interaction_id": "5",
        },
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Say what was promised" in page
    assert db.session.scalar(select(Commitment)) is None
    assert council.id  # still there


def test_editing_and_the_status_buttons(client: FlaskClient, login, cast) -> None:
    council = factories.AudienceFactory()
    commitment = factories.CommitmentFactory(
        audience=council, owner=cast["officer"], description="Old words"
    )
    db.session.commit()
    login(cast["officer"])
    url = f"/relationships/commitments/{commitment.id}/edit"
    assert "Mark as done" in client.get(url).get_data(as_text=True)
    response = client.post(
        url,
        data={
            "description": "New words",
            "audience_id": str(council.id),
            "owner_id": str(cast["officer"].id),
            "due_on": "2026-02-01",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert commitment.description == "New words"

    assert client.post(url, data={"status_change": "done"}).status_code == 302
    db.session.expire_all()
    assert commitment.status is CommitmentStatus.DONE
    assert commitment.closed_on == today()
    assert client.post(url, data={"status_change": "reopen"}).status_code == 302
    db.session.expire_all()
    assert commitment.status is CommitmentStatus.OPEN
    assert client.post(url, data={"status_change": "dropped"}).status_code == 302
    db.session.expire_all()
    assert commitment.status is CommitmentStatus.DROPPED
    assert client.post(url, data={"status_change": "explode"}).status_code == 302
    db.session.expire_all()
    assert commitment.status is CommitmentStatus.DROPPED
    assert client.get("/relationships/commitments/99999999/edit").status_code == 404


# Access ---------------------------------------------------------------------------


def test_access_for_each_role(client: FlaskClient, login, cast) -> None:
    commitment = factories.CommitmentFactory(owner=cast["officer"])
    db.session.commit()
    pages = [
        "/relationships/commitments/",
        "/relationships/commitments/export?format=csv",
    ]
    forms = [
        "/relationships/commitments/new",
        f"/relationships/commitments/{commitment.id}/edit",
    ]
    for url in pages + forms:
        assert client.get(url).status_code == 302  # to sign in
    login(cast["lead"])
    for url in pages:
        assert client.get(url).status_code == 200
    for url in forms:
        assert client.get(url).status_code == 403
    assert client.post(forms[1], data={"status_change": "done"}).status_code == 403
    client.post("/logout")
    login(cast["officer"])
    for url in pages + forms:
        assert client.get(url).status_code == 200


# The audience page ----------------------------------------------------------------


def test_the_audience_page_section(client: FlaskClient, login, cast) -> None:
    council = factories.AudienceFactory(name="Northshire Council")
    day = today()
    factories.CommitmentFactory(
        description="Due later", audience=council, due_on=day + timedelta(days=9)
    )
    factories.CommitmentFactory(
        description="Already late", audience=council, due_on=day - timedelta(days=4)
    )
    for _ in range(2):
        factories.CommitmentFactory(
            audience=council, status=CommitmentStatus.DONE, closed_on=day
        )
    factories.CommitmentFactory(description="Someone else's")
    db.session.commit()

    login(cast["officer"])
    page = client.get(f"/audiences/{council.id}").get_data(as_text=True)
    assert "Commitments to Northshire Council" in page
    assert page.index("Already late") < page.index("Due later")
    assert "Overdue by 4 days" in page
    assert "2 done" in page
    assert "Someone else" not in page
    assert f"/relationships/commitments/new?audience_id={council.id}" in page
    assert f"/relationships/commitments/?audience={council.id}" in page

    client.post("/logout")
    login(cast["lead"])
    page = client.get(f"/audiences/{council.id}").get_data(as_text=True)
    assert "Already late" in page
    assert "Add a commitment" not in page
    # None done or dropped yet: nothing is said of them ("0 done" says nothing).
    fresh = factories.AudienceFactory(name="Parish Council")
    factories.CommitmentFactory(audience=fresh, due_on=day)
    db.session.commit()
    page = client.get(f"/audiences/{fresh.id}").get_data(as_text=True)
    assert " done" not in page.split("Commitments to Parish Council", 1)[1]


# The to-do list and the digest ----------------------------------------------------


def test_the_to_do_list_shows_a_commitment_once_it_is_overdue(
    client: FlaskClient, login, cast
) -> None:
    factories.CommitmentFactory(
        description="Send the stroke review papers",
        owner=cast["officer"],
        due_on=DUE,
    )
    factories.CommitmentFactory(description="Not mine", due_on=DUE)
    db.session.commit()
    with time_machine.travel(NOON, tick=False):
        login(cast["officer"])
        page = client.get("/").get_data(as_text=True)
        assert "Commitments due in the next 7 days (1)" in page
        assert "Commitments overdue" not in page
        client.post("/logout")
    with time_machine.travel(NOON + timedelta(days=3), tick=False):
        login(cast["officer"])
        page = client.get("/").get_data(as_text=True)
        assert "Commitments overdue (1)" in page
        assert "Overdue by 3 days" in page
        assert "Commitments due in the next 7 days" not in page
        assert "Not mine" not in page


def test_the_digest_includes_overdue_commitments(cast, outbox) -> None:
    owner = cast["officer"]
    factories.CommitmentFactory(
        description="Send the stroke review papers", owner=owner, due_on=DUE
    )
    db.session.commit()
    # On the due day there is nothing to send; the next day there is.
    assert send_action_digests(now=NOON)["emails"] == 0
    assert send_action_digests(now=NOON + timedelta(days=1))["emails"] == 1
    db.session.commit()
    (message,) = outbox()
    assert message.to_address == owner.email
    assert message.subject == "Engage: 1 commitment overdue"
    body = message.body_text
    assert "Commitments overdue (1):" in body
    assert "Send the stroke review papers" in body
    assert "Overdue by 1 day" in body
    assert "/relationships/commitments/" in body
