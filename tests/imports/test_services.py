"""The import engine and the audience and action-plan columns (C3, C4)."""

from __future__ import annotations

import io
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta
from importlib import resources
from typing import Any

import openpyxl
import pytest
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select

from engage.actions.models import Action
from engage.actions.models import ActionStatus
from engage.actions.models import Channel
from engage.actions.models import Recurrence
from engage.actions.services import ObjectiveData
from engage.actions.services import get_action_by_title
from engage.actions.services import is_unscheduled
from engage.actions.services import save_objective
from engage.actions.services import seed_channels
from engage.actions.transfer import AudienceResolver
from engage.audiences.models import Approach
from engage.audiences.models import Audience
from engage.audiences.models import AudienceGroup
from engage.audiences.services import TYPICAL_SCORES
from engage.audiences.services import AudienceData
from engage.audiences.services import build_map
from engage.audiences.services import create_audience
from engage.audiences.services import get_audience_by_name
from engage.audiences.services import save_programme
from engage.audit.models import AuditEvent
from engage.errors import NotFound
from engage.errors import ValidationError
from engage.extensions import db
from engage.imports import services
from engage.imports.models import PendingImport
from engage.imports.rows import parse_day
from engage.imports.services import Outcome
from tests.imports.test_tabular import FIXTURES
from tests.imports.test_tabular import FORMULAS
from tests.imports.test_tabular import _csv_cells

NOW = datetime(2012, 6, 1, 9, 0, tzinfo=UTC)
DEMO_DATA = resources.files("engage") / "demo_data"


def _source(text: str) -> io.BytesIO:
    return io.BytesIO(text.encode("utf-8"))


def _preview(
    kind: str, text: str, filename: str = "file.csv"
) -> services.ImportPreview:
    return services.preview_import(kind, _source(text), filename)


def _apply(
    kind: str, text: str, filename: str = "file.csv", actor: Any = "test"
) -> services.ImportPreview:
    return services.apply_import(kind, _source(text), filename, actor=actor, now=NOW)


def _import_reference(
    actor: Any = "test", now: datetime | None = None
) -> list[services.ImportPreview]:
    done = []
    for kind, name in (
        ("audiences", "audiences-2012.csv"),
        ("actions", "action-plan-2012.csv"),
    ):
        with (DEMO_DATA / name).open("rb") as source:
            done.append(
                services.apply_import(kind, source, name, actor=actor, now=now or NOW)
            )
    db.session.commit()
    return done


def _count(model: type[Any]) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def _audience(name: str, **overrides: Any) -> Audience:
    data = AudienceData(
        name=name,
        group=overrides.pop("group", AudienceGroup.PUBLIC),
        approach=overrides.pop("approach", Approach.INFORM),
        influence=overrides.pop("influence", 2),
        interest=overrides.pop("interest", 4),
        **overrides,
    )
    return create_audience(data, actor="test", now=NOW)


# The reference plan ------------------------------------------------------------------


def test_reference_files_import_23_audiences_and_23_actions() -> None:
    audiences, actions = _import_reference()
    assert (audiences.created, actions.created) == (23, 23)
    assert _count(Audience) == 23
    assert _count(Action) == 23


def test_reference_tbc_actions_are_unscheduled_and_keep_their_timescale() -> None:
    _import_reference()
    tbc = list(db.session.scalars(select(Action).where(Action.timescale == "TBC")))
    assert len(tbc) == 5
    assert all(is_unscheduled(action) for action in tbc)


@pytest.mark.parametrize(
    ("title", "recurrence"),
    [
        ("PPI newsletter", Recurrence.MONTHLY),
        ("GP newsletter", Recurrence.MONTHLY),
        ("Stakeholder newsletter", Recurrence.BIMONTHLY),
    ],
)
def test_reference_newsletters_repeat_with_a_next_due_date(
    title: str, recurrence: Recurrence
) -> None:
    _import_reference()
    action = get_action_by_title(title)
    assert action is not None
    assert action.recurrence is recurrence
    assert action.next_due_date is not None
    assert action.next_due_date > NOW.date()


def test_reference_audiences_all_have_a_grid_cell() -> None:
    _import_reference()
    grid = build_map(today=NOW.date())
    placed = sum(len(cell) for row in grid.cells.values() for cell in row.values())
    assert placed == 23
    for audience in db.session.scalars(select(Audience)):
        assert 1 <= audience.influence <= 5
        assert 1 <= audience.interest <= 5


def test_reference_audiences_without_scores_get_the_typical_ones() -> None:
    _import_reference()
    audience = get_audience_by_name("Parish councils")
    assert audience is not None
    assert (audience.influence, audience.interest) == TYPICAL_SCORES[Approach.MONITOR]


def test_reimporting_the_reference_files_changes_nothing() -> None:
    _import_reference()
    audiences, actions = _import_reference()
    for done in (audiences, actions):
        assert (done.created, done.updated, done.unchanged) == (0, 0, 23)
    assert _count(Audience) == 23
    assert _count(Action) == 23


def test_reimport_on_a_month_end_changes_nothing() -> None:
    # Imported on 31 March, "Monthly" actions are first due on 30 April and remember
    # the 30th as their day; importing the same file again must leave them alone.
    month_end = datetime(2026, 3, 31, 9, 0, tzinfo=UTC)
    _import_reference(now=month_end)
    newsletter = db.session.scalar(
        select(Action).where(Action.title == "GP newsletter")
    )
    assert newsletter is not None
    assert newsletter.next_due_date == date(2026, 4, 30)
    _, actions = _import_reference(now=month_end + timedelta(days=1))
    assert (actions.created, actions.updated, actions.unchanged) == (0, 0, 23)


def test_reference_import_adds_the_channels_it_names() -> None:
    seed_channels(now=NOW)
    _import_reference()
    names = set(db.session.scalars(select(Channel.name)))
    assert {"Media", "Membership", "Training"} <= names


def test_reference_preview_names_the_channels_it_will_add() -> None:
    seed_channels(now=NOW)
    _import_reference()
    db.session.execute(delete(Action))
    db.session.execute(delete(Channel).where(Channel.name == "Media"))
    with (DEMO_DATA / "action-plan-2012.csv").open("rb") as source:
        preview = services.preview_import("actions", source, "plan.csv")
    assert "A new channel “Media” will be added." in preview.notes
    assert preview.notes.count("A new channel “Media” will be added.") == 1


@pytest.mark.parametrize(
    ("title", "names", "everyone", "note"),
    [
        ("Media training", [], False, ""),  # N/A
        ("Website", [], True, ""),  # All
        ("PPI newsletter", ["Patients and the public"], False, ""),  # words
        ("GP newsletter", ["GPs and wider clinical teams"], False, ""),  # prefix
        ("Consultant event", ["Consultants"], False, ""),  # exact
        ("Advisory Forum", ["Governing Body and staff"], False, ""),  # group
        ("Stakeholder newsletter", [], False, "Stakeholders"),  # kept as written
        ("Developing the representation of the PPI Forum", [], False, "Members of PPI"),
    ],
)
def test_reference_action_audiences_are_resolved(
    title: str, names: list[str], everyone: bool, note: str
) -> None:
    _import_reference()
    action = get_action_by_title(title)
    assert action is not None
    assert [a.name for a in action.audiences] == names
    assert action.all_audiences is everyone
    assert action.audience_note == note


def test_reference_action_keeps_responsibility_and_measurement() -> None:
    _import_reference()
    action = get_action_by_title("Crisis manual")
    assert action is not None
    assert action.responsibility == (
        "Provider communications team (SLA); Social Marketing Manager"
    )
    assert action.success_measure == "Ability to respond to challenging issues"
    assert action.channel.name == "Media"


def test_reference_plan_imports_from_an_xlsx_copy() -> None:
    from engage.imports.tabular import read_table
    from engage.imports.tabular import write_xlsx

    _import_reference()
    db.session.execute(delete(Action))
    with (DEMO_DATA / "action-plan-2012.csv").open("rb") as source:
        table = read_table(source, "plan.csv")
    content = write_xlsx(table.columns, [list(r.values.values()) for r in table.rows])
    done = services.apply_import(
        "actions", io.BytesIO(content), "plan.xlsx", actor="t", now=NOW
    )
    assert done.created == 23


# Resolving audience wording -----------------------------------------------------------


def test_audience_resolver_matches_a_name_that_holds_a_semicolon() -> None:
    police = _audience("Police; prison service and probation")
    gps = _audience("GPs and wider clinical teams")
    match = AudienceResolver([police, gps]).resolve(
        "police;prison service and probation; GPs"
    )
    assert match.audience_ids == tuple(sorted([police.id, gps.id]))
    assert match.note == ""


def test_audience_resolver_keeps_an_ambiguous_start_as_written() -> None:
    one = _audience("Local acute hospital trust")
    two = _audience("Local print and broadcast media")
    match = AudienceResolver([one, two]).resolve("Local")
    assert match.audience_ids == ()
    assert match.note == "Local"
    assert match.ambiguous == ("Local",)


def test_audience_resolver_ignores_archived_audiences_for_groups() -> None:
    staff = _audience("Staff", group=AudienceGroup.INTERNAL)
    staff.archived_at = NOW
    match = AudienceResolver([staff]).resolve("Internal")
    assert match.audience_ids == ()
    assert match.note == "Internal"


# Validation and all-or-nothing (C4) ------------------------------------------------


def test_preview_lists_every_problem_by_row_number() -> None:
    with (FIXTURES / "audiences-c4.csv").open("rb") as source:
        preview = services.preview_import("audiences", source, "c4.csv")
    assert [(e.row, e.message) for e in preview.errors] == [
        (
            3,
            "The group must be one of public, clinical, provider, partner, media, "
            "internal, not “Aliens”.",
        ),
        (4, "The influence must be a whole number from 1 to 5, not “9”."),
        (5, "Enter the audience name."),
        (7, "Repeats the audience “youth groups” of row 6."),
    ]
    assert not preview.is_valid


def test_preview_keeps_markup_as_plain_text() -> None:
    with (FIXTURES / "audiences-c4.csv").open("rb") as source:
        preview = services.preview_import("audiences", source, "c4.csv")
    assert preview.rows[0].key == "<img src=x onerror=alert(1)>"
    assert preview.created == 2


def test_import_with_bad_rows_writes_nothing() -> None:
    with (FIXTURES / "audiences-c4.csv").open("rb") as source:
        content = source.read()
    with pytest.raises(ValidationError, match="Nothing was imported: 4 problems"):
        services.apply_import(
            "audiences", io.BytesIO(content), "c4.csv", actor="test", now=NOW
        )
    db.session.rollback()
    assert _count(Audience) == 0
    assert _count(AuditEvent) == 0


def test_import_failing_part_way_undoes_every_row(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from engage.audiences import transfer

    calls = []

    def failing_create(data: AudienceData, **kwargs: Any) -> Audience:
        calls.append(data.name)
        if len(calls) == 2:
            raise ValidationError("disk on fire")
        return create_audience(data, **kwargs)

    monkeypatch.setattr(transfer, "create_audience", failing_create)
    with (
        (FIXTURES / "audiences-clean.csv").open("rb") as source,
        pytest.raises(ValidationError, match="disk on fire"),
    ):
        services.apply_import("audiences", source, "clean.csv", actor="test", now=NOW)
    assert calls == ["Patients and the public", "GPs and wider clinical teams"]
    assert _count(Audience) == 0  # the session is still usable, and empty


def test_clean_file_imported_twice_adds_nothing_the_second_time() -> None:
    with (FIXTURES / "audiences-clean.csv").open("rb") as source:
        content = source.read()
    first = services.apply_import(
        "audiences", io.BytesIO(content), "a.csv", actor="t", now=NOW
    )
    second = services.apply_import(
        "audiences", io.BytesIO(content), "a.csv", actor="t", now=NOW
    )
    assert first.created == 3
    assert (second.created, second.updated, second.unchanged) == (0, 0, 3)
    assert _count(Audience) == 3


def test_import_updates_an_audience_matched_whatever_the_case() -> None:
    _audience("Youth groups", notes="old")
    done = _apply(
        "audiences", "name,group,approach,notes\nYOUTH GROUPS,public,inform,new\n"
    )
    assert done.rows[0].outcome is Outcome.UPDATE
    assert done.rows[0].changes == ("audience", "notes")
    audience = get_audience_by_name("youth groups")
    assert audience is not None
    assert (audience.name, audience.notes) == ("YOUTH GROUPS", "new")
    assert _count(Audience) == 1


def test_import_keeps_scores_and_notes_a_file_leaves_out() -> None:
    _audience("Youth groups", influence=1, interest=5, notes="keep me")
    done = _apply(
        "audiences", "audience,group,approach,influence\nYouth groups,public,inform,\n"
    )
    assert done.unchanged == 1


def test_import_records_one_audit_summary() -> None:
    with (FIXTURES / "audiences-clean.csv").open("rb") as source:
        services.apply_import("audiences", source, "a.csv", actor="cli", now=NOW)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "import"))
    assert event is not None
    assert event.summary == "import audiences: 3 created, 0 updated, 0 unchanged"
    assert event.actor_label == "cli"


def test_import_sets_an_audience_owner_by_email(cast: dict[str, Any]) -> None:
    email = cast["officer"].email.upper()
    _apply("audiences", f"audience,group,approach,owner\nGPs,clinical,manage,{email}\n")
    audience = get_audience_by_name("GPs")
    assert audience is not None
    assert audience.owner_id == cast["officer"].id


def test_import_refuses_an_unknown_owner() -> None:
    preview = _preview(
        "audiences", "audience,group,approach,owner\nGPs,clinical,manage,x@y.z\n"
    )
    assert preview.errors[0].message == "There is no staff user with the email “x@y.z”."


def test_import_reports_a_missing_column_for_the_whole_file() -> None:
    preview = _preview("audiences", "audience,approach\nGPs,manage\n")
    assert preview.file_error is not None
    assert preview.file_error.startswith("The file has no “group” column.")


def test_import_reports_a_file_with_no_rows() -> None:
    preview = _preview("audiences", "audience,group,approach\n")
    assert (
        preview.file_error == "The file has no rows to import under its column names."
    )


def test_import_notes_columns_it_does_not_use() -> None:
    preview = _preview(
        "audiences", "audience,group,approach,colour\nGPs,clinical,manage,red\n"
    )
    assert preview.notes == ["These columns are not used: colour."]


def test_import_reports_a_row_with_an_unquoted_comma() -> None:
    preview = _preview(
        "audiences", "audience,group,approach\nSmith, John,public,inform\n"
    )
    assert preview.errors[0].row == 2
    assert "more cells than there are column names" in preview.errors[0].message


def test_import_lists_at_most_200_errors_but_counts_them_all() -> None:
    rows = "".join(f"A{n},nowhere,inform\n" for n in range(250))
    preview = _preview("audiences", "audience,group,approach\n" + rows)
    assert preview.error_count == 250
    assert len(preview.errors) == 200


def test_get_kind_refuses_an_unknown_kind() -> None:
    with pytest.raises(NotFound):
        services.get_kind("members")


# The action plan's columns ------------------------------------------------------------

PLAN_HEADER = "action,channel,audiences,timescale,responsibility,measurement"


def test_action_schedule_columns_override_the_timescale() -> None:
    _apply(
        "actions",
        f"{PLAN_HEADER},recurrence,start_date,due_date\n"
        "Board papers,Meeting,N/A,Monthly,,,quarterly,2012-07-01,2012-09-30\n",
    )
    action = get_action_by_title("Board papers")
    assert action is not None
    assert action.timescale == "Monthly"
    assert action.recurrence is Recurrence.QUARTERLY
    assert (action.start_date, action.due_date) == (date(2012, 7, 1), date(2012, 9, 30))
    assert action.next_due_date == date(2012, 9, 30)


def test_action_blank_schedule_columns_fall_back_to_the_timescale() -> None:
    _apply(
        "actions",
        f"{PLAN_HEADER},recurrence,start_date,due_date\n"
        "Board papers,Meeting,N/A,Bi-monthly,,,,,\n",
    )
    action = get_action_by_title("Board papers")
    assert action is not None
    assert action.recurrence is Recurrence.BIMONTHLY
    assert action.next_due_date == date(2012, 8, 1)


def test_dates_may_be_written_as_people_in_the_uk_write_them() -> None:
    assert parse_day("31/07/2026") == date(2026, 7, 31)
    assert parse_day("1/12/2026") == date(2026, 12, 1)
    assert parse_day("2026-07-31") == date(2026, 7, 31)
    assert parse_day("2026-07-31 09:30:00") == date(2026, 7, 31)
    for bad in ("31/02/2026", "07/31/2026", "2026-07-31garbage", "31 July", ""):
        assert parse_day(bad) is None, bad
    preview = _preview(
        "actions",
        f"{PLAN_HEADER},start_date,due_date,recurrence\n"
        "X,Meeting,N/A,TBC,,01/12/2026,31/01/2027,\n",
    )
    assert preview.errors == []


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (",2012-09-30,2012-07-01,", "The due date must be on or after the start date."),
        (",31 July 2012,,", "The start date must be a date written like 31/07/2026"),
        (",,,fortnightly", "The recurrence must be one of “Does not repeat”, “Weekly”"),
    ],
)
def test_action_schedule_columns_are_checked(extra: str, message: str) -> None:
    preview = _preview(
        "actions",
        f"{PLAN_HEADER},start_date,due_date,recurrence\nX,Meeting,N/A,TBC,,{extra}\n",
    )
    assert preview.errors[0].message.startswith(message)


def test_action_status_owners_programme_and_objective_are_read(
    cast: dict[str, Any],
) -> None:
    programme = save_programme(
        None,
        name="Mental health review",
        description="",
        is_active=True,
        actor="t",
        now=NOW,
    )
    objective = save_objective(
        None, ObjectiveData(title="Raise awareness"), actor=cast["admin"], now=NOW
    )
    owners = f"{cast['officer'].email}; {cast['admin'].email}"
    _apply(
        "actions",
        f"{PLAN_HEADER},status,owners,programme,objective\n"
        f"Survey,Survey,All,TBC,,,In progress,{owners},mental health REVIEW,"
        "raise awareness\n",
    )
    action = get_action_by_title("Survey")
    assert action is not None
    assert action.status is ActionStatus.IN_PROGRESS
    assert {u.id for u in action.owners} == {cast["officer"].id, cast["admin"].id}
    assert action.programme_id == programme.id
    assert action.objective_id == objective.id


@pytest.mark.parametrize(
    ("extra_header", "extra", "message"),
    [
        ("status", "finished", "The status must be one of planned, in progress,"),
        ("owners", "nobody@trust.example", "There is no staff user with the email"),
        ("programme", "Nope", "There is no programme called “Nope”."),
        ("objective", "Nope", "There is no objective called “Nope”."),
    ],
)
def test_action_optional_columns_are_checked(
    extra_header: str, extra: str, message: str
) -> None:
    preview = _preview(
        "actions", f"{PLAN_HEADER},{extra_header}\nX,Meeting,All,TBC,,,{extra}\n"
    )
    assert preview.errors[0].message.startswith(message)


def test_action_import_keeps_status_and_owners_a_file_leaves_out(
    cast: dict[str, Any],
) -> None:
    _apply(
        "actions",
        f"{PLAN_HEADER},status,owners\nSurvey,Survey,All,TBC,,,done,{cast['lead'].email}\n",
    )
    again = _apply("actions", f"{PLAN_HEADER}\nSurvey,Survey,All,TBC,,\n")
    assert again.unchanged == 1
    action = get_action_by_title("Survey")
    assert action is not None
    assert action.status is ActionStatus.DONE
    assert [u.id for u in action.owners] == [cast["lead"].id]


def test_action_import_reports_what_will_change() -> None:
    _apply("actions", f"{PLAN_HEADER}\nSurvey,Survey,All,TBC,,\n")
    preview = _preview("actions", f"{PLAN_HEADER}\nSurvey,Event,N/A,Monthly,Team,\n")
    assert preview.rows[0].changes == (
        "channel",
        "audiences",
        "timescale",
        "responsibility",
        "recurrence",
    )


def test_action_with_too_long_a_title_is_refused() -> None:
    preview = _preview("actions", f"{PLAN_HEADER}\n{'x' * 301},Survey,All,TBC,,\n")
    assert preview.errors[0].message == "The action must be 300 characters or fewer."


# Export, and export → import round trips (C3) -----------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_audience_export_imports_back_unchanged(fmt: str, cast: dict[str, Any]) -> None:
    _import_reference()
    for index, formula in enumerate(FORMULAS):
        _audience(formula if formula == formula.strip() else f"x{index}", notes=formula)
    _audience(
        "Owned", owner_id=cast["officer"].id, notes='Quotes " and, commas\nand lines'
    )
    exported = services.export_table("audiences", fmt, actor="t", now=NOW)
    preview = services.preview_import(
        "audiences", io.BytesIO(exported.content), exported.filename
    )
    assert preview.is_valid, preview.errors
    assert (preview.created, preview.updated) == (0, 0)
    assert preview.unchanged == 23 + len(FORMULAS) + 1


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_action_export_imports_back_unchanged(fmt: str, cast: dict[str, Any]) -> None:
    _import_reference()
    save_programme(
        None, name="Review", description="", is_active=True, actor="t", now=NOW
    )
    _apply(
        "actions",
        f"{PLAN_HEADER},status,owners,programme,start_date,due_date,recurrence\n"
        f'"=cmd|\' /C calc\'!A0",Event,"Police; prison service and probation; Local",'
        f"TBC,,,cancelled,{cast['officer'].email},Review,2012-07-01,2012-08-01,weekly\n"
        "Bulletin,Event,All,TBC,,,planned,,,2012-07-01,,bimonthly\n"
        "Web pages,Event,All,TBC,,,planned,,,,,ongoing\n",
    )
    exported = services.export_table("actions", fmt, actor="t", now=NOW)
    # How often an action repeats is written in words, and read back.
    rows = (
        _csv_cells(exported.content)
        if fmt == "csv"
        else [
            [str(cell) for cell in row]
            for row in openpyxl.load_workbook(
                io.BytesIO(exported.content)
            ).active.iter_rows(values_only=True)
        ]
    )
    assert {"Every two months", "Ongoing (continuous)"} <= {row[-1] for row in rows}
    preview = services.preview_import(
        "actions", io.BytesIO(exported.content), exported.filename
    )
    assert preview.is_valid, preview.errors
    assert (preview.created, preview.updated, preview.unchanged) == (0, 0, 26)


def test_export_csv_neutralises_formula_names() -> None:
    for index, formula in enumerate(FORMULAS):
        _audience(formula if formula == formula.strip() else f"x{index}", notes=formula)
    exported = services.export_table("audiences", "csv", actor="t", now=NOW)
    cells = _csv_cells(exported.content)
    names = [row[0] for row in cells[1:]]
    notes = [row[3] for row in cells[1:]]
    for formula in FORMULAS:
        assert f"'{formula}" in notes
        if formula == formula.strip():
            assert f"'{formula}" in names


def test_export_names_the_file_by_date_and_audits() -> None:
    exported = services.export_table("actions", "xlsx", actor="t", now=NOW)
    assert exported.filename == "actions-2012-06-01.xlsx"
    assert exported.rows == 0
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "export"))
    assert event is not None
    assert event.summary == "export actions: 0 rows (xlsx)"


def test_export_leaves_archived_audiences_out() -> None:
    _audience("Kept")
    _audience("Gone").archived_at = NOW
    rows = services.get_kind("audiences").export_rows()
    assert [row[0] for row in rows] == ["Kept"]


# Pending imports ----------------------------------------------------------------------


def _clean_bytes() -> bytes:
    return (FIXTURES / "audiences-clean.csv").read_bytes()


def test_prepare_import_keeps_an_upload_that_can_be_applied(
    cast: dict[str, Any],
) -> None:
    preview, pending = services.prepare_import(
        "audiences", "clean.csv", _clean_bytes(), actor=cast["officer"], now=NOW
    )
    assert preview.created == 3
    assert pending is not None
    assert (pending.kind, pending.user_id) == ("audiences", cast["officer"].id)
    assert _count(Audience) == 0


def test_prepare_import_keeps_nothing_when_a_row_is_wrong(cast: dict[str, Any]) -> None:
    content = (FIXTURES / "audiences-c4.csv").read_bytes()
    _, pending = services.prepare_import(
        "audiences", "c4.csv", content, actor=cast["officer"], now=NOW
    )
    assert pending is None
    assert _count(PendingImport) == 0


def test_prepare_import_replaces_the_users_earlier_upload(cast: dict[str, Any]) -> None:
    for _ in range(2):
        services.prepare_import(
            "audiences", "clean.csv", _clean_bytes(), actor=cast["officer"], now=NOW
        )
    assert _count(PendingImport) == 1


def test_get_pending_import_refuses_another_user(cast: dict[str, Any]) -> None:
    _, pending = services.prepare_import(
        "audiences", "clean.csv", _clean_bytes(), actor=cast["officer"], now=NOW
    )
    assert pending is not None
    with pytest.raises(NotFound):
        services.get_pending_import(
            pending.id, kind="audiences", user=cast["admin"], now=NOW
        )


def test_get_pending_import_refuses_another_kind(cast: dict[str, Any]) -> None:
    _, pending = services.prepare_import(
        "audiences", "clean.csv", _clean_bytes(), actor=cast["officer"], now=NOW
    )
    assert pending is not None
    with pytest.raises(NotFound):
        services.get_pending_import(
            pending.id, kind="actions", user=cast["officer"], now=NOW
        )


def test_get_pending_import_refuses_one_older_than_an_hour(
    cast: dict[str, Any],
) -> None:
    _, pending = services.prepare_import(
        "audiences", "clean.csv", _clean_bytes(), actor=cast["officer"], now=NOW
    )
    assert pending is not None
    within = NOW + timedelta(minutes=59)
    assert services.get_pending_import(
        pending.id, kind="audiences", user=cast["officer"], now=within
    )
    later = NOW + timedelta(hours=1, seconds=1)
    with pytest.raises(NotFound):
        services.get_pending_import(
            pending.id, kind="audiences", user=cast["officer"], now=later
        )


def test_a_kept_upload_holds_only_the_columns_the_import_reads(
    cast: dict[str, Any],
) -> None:
    upload = (
        b"name,group,approach,home address,notes\r\n"
        b"Farmers,public,inform,1 Secret Lane,Rural\r\n"
        b"\r\n"
        b"Carers,public,inform,2 Hidden Road,\r\n"
    )
    preview, pending = services.prepare_import(
        "audiences", "people.csv", upload, actor=cast["officer"], now=NOW
    )
    assert pending is not None
    assert b"Secret" not in pending.content
    assert b"Hidden" not in pending.content
    assert b"Rural" in pending.content
    assert "These columns are not used: home_address." in preview.notes
    # The copy gives the same import, row numbers included.
    confirmed = services.confirm_import(pending, actor=cast["officer"], now=NOW)
    assert [r.row for r in confirmed.rows] == [r.row for r in preview.rows] == [2, 4]
    assert confirmed.filename == "people.csv"


def test_purge_pending_imports_deletes_only_old_ones(cast: dict[str, Any]) -> None:
    for age in (timedelta(minutes=61), timedelta(minutes=59)):
        db.session.add(
            PendingImport(
                kind="audiences",
                user_id=cast["officer"].id,
                filename="a.csv",
                content=b"x",
                created_at=NOW - age,
            )
        )
    assert services.purge_pending_imports(now=NOW) == 1
    assert _count(PendingImport) == 1


def test_confirm_import_applies_and_deletes_the_upload(cast: dict[str, Any]) -> None:
    _, pending = services.prepare_import(
        "audiences", "clean.csv", _clean_bytes(), actor=cast["officer"], now=NOW
    )
    assert pending is not None
    done = services.confirm_import(pending, actor=cast["officer"], now=NOW)
    assert done.created == 3
    assert _count(Audience) == 3
    assert _count(PendingImport) == 0
