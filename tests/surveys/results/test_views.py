"""Survey results pages: who may see what, suppression, escaping, exports, imports."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from html import unescape
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func
from sqlalchemy import select

from engage.audit.models import AuditEvent
from engage.clock import utcnow
from engage.extensions import db
from engage.surveys.models import Choice
from engage.surveys.models import QuestionKind
from engage.surveys.models import Response
from tests.factories import MemberFactory
from tests.pager import pager_links

from .helpers import add_response
from .helpers import make_survey
from .helpers import question

FIXTURES = Path(__file__).parents[2] / "fixtures" / "surveys"
Q = QuestionKind
XSS = (
    "<script>alert(1)</script> [click](javascript:alert(1)) "
    "</script><img src=x onerror=alert(2)>"
)


def _responses(survey, count: int, **answers_over) -> None:
    for index in range(count):
        answers = {
            Q.SINGLE_CHOICE: "Newsletter" if index % 2 else "Website",
            Q.LIKERT_AGREEMENT: 4,
            Q.RATING_0_10: 9 if index % 3 else 3,
            Q.NUMBER: index,
            Q.LONG_TEXT: f"comment {index}",
        }
        answers.update(answers_over)
        add_response(survey, answers, tier="silver" if index % 2 else "gold")


def _text_url(survey) -> str:
    q = question(survey, Q.LONG_TEXT)
    return f"/surveys/{survey.id}/results/questions/{q.id}/answers"


@pytest.mark.parametrize("role", ["lead", "officer", "admin"])
def test_staff_read_the_results(client, login, cast, role) -> None:
    survey = make_survey()
    _responses(survey, 12)
    login(cast[role])
    page = client.get(f"/surveys/{survey.id}/results")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "12 responses" in text
    # Newsletter 6 of 12, Website 6 of 12; Likert mean 4; net score: 8 of 12 gave 9.
    assert "50.0%" in text
    assert "4.00" in text
    assert "+33.3" in text  # (8 - 4) / 12
    assert ("Download every response" in text) == (role != "lead")
    # No filter chosen is no error: the page title does not begin "Error:".
    assert "<title>Results: " in text


def test_a_filter_that_is_not_offered_is_an_error(client, login, cast) -> None:
    survey = make_survey()
    _responses(survey, 12)
    login(cast["officer"])
    page = client.get(f"/surveys/{survey.id}/results?tier=platinum")
    assert page.status_code == 200
    assert "<title>Error: Results: " in page.get_data(as_text=True)


def test_results_of_fewer_than_five_are_not_shown(client, login, cast) -> None:
    survey = make_survey()
    _responses(survey, 4)
    login(cast["officer"])
    text = client.get(f"/surveys/{survey.id}/results").get_data(as_text=True)
    assert "Fewer than 5 people responded" in text
    assert "Newsletter" not in text
    csv_text = client.get(f"/surveys/{survey.id}/results/export.csv").data.decode(
        "utf-8-sig"
    )
    assert "Fewer than 5 responses" in csv_text
    raw = client.get(f"/surveys/{survey.id}/responses/export.csv").data.decode(
        "utf-8-sig"
    )
    assert len(list(csv.reader(io.StringIO(raw)))) == 1  # the header only


def test_small_counts_are_suppressed_with_a_second_cell(client, login, cast) -> None:
    survey = make_survey()
    _responses(survey, 10, **{Q.SINGLE_CHOICE: "Newsletter"})
    _responses(survey, 2, **{Q.SINGLE_CHOICE: "Friend"})
    login(cast["officer"])
    # The team sees the real counts: Friend 2 of 12.
    text = client.get(f"/surveys/{survey.id}/results").get_data(as_text=True)
    table = text.split("Answers to question 1")[1].split("</table>")[0]
    assert "fewer than 5" not in table
    assert ">2<" in table
    # Published, Friend (2) and the next smallest (Website, 0, is not a count to
    # hide, so Newsletter, 10) are both hidden: Newsletter as "not shown", never as
    # "fewer than 5", which it is not.
    published = client.get(f"/surveys/{survey.id}/results/publication.csv")
    rows = list(csv.reader(io.StringIO(published.data.decode("utf-8-sig"))))
    first = {row[2]: row[3] for row in rows if row[0] == "1"}
    assert first == {
        "Answered": "12",
        "Newsletter": "not shown",
        "Website": "0",
        "Friend": "fewer than 5",
    }
    assert "survey-" in published.headers["Content-Disposition"]
    assert "results-for-publication" in published.headers["Content-Disposition"]


def test_a_mean_that_would_give_hidden_counts_away_is_not_published(
    client, login, cast
) -> None:
    """Agree 10, Strongly disagree 2: published, both counts are hidden, and so is
    the mean, which with the answered total would give them back."""
    survey = make_survey()
    _responses(survey, 10)  # each "Agree" (4)
    _responses(survey, 2, **{Q.LIKERT_AGREEMENT: 1})
    login(cast["officer"])
    team = client.get(f"/surveys/{survey.id}/results/export.csv")
    team_rows = list(csv.reader(io.StringIO(team.data.decode("utf-8-sig"))))
    third = {row[2]: row[3] for row in team_rows if row[0] == "3"}
    assert third["Mean (1 to 5)"] == "3.5"
    published = client.get(f"/surveys/{survey.id}/results/publication.csv")
    rows = list(csv.reader(io.StringIO(published.data.decode("utf-8-sig"))))
    third = {row[2]: row[3] for row in rows if row[0] == "3"}
    assert third["Strongly disagree"] == "fewer than 5"
    assert "Mean (1 to 5)" not in third
    assert any("would give away the hidden ones" in answer for answer in third)
    assert not any(value.startswith("'") for row in rows for value in row)


def test_a_negative_net_score_is_a_number_in_the_downloads(client, login, cast) -> None:
    survey = make_survey()
    _responses(survey, 10, **{Q.RATING_0_10: 3})
    _responses(survey, 2, **{Q.RATING_0_10: 10})
    login(cast["officer"])
    raw = client.get(f"/surveys/{survey.id}/results/export.csv")
    rows = list(csv.reader(io.StringIO(raw.data.decode("utf-8-sig"))))
    fourth = {row[2]: row[3] for row in rows if row[0] == "4"}
    assert fourth["Net score"] == "-66.7"  # not "'-66.7", which is text
    book = openpyxl.load_workbook(
        io.BytesIO(client.get(f"/surveys/{survey.id}/results/export.xlsx").data)
    )
    cells = {
        (row[0], row[2]): row[3]
        for row in book.active.iter_rows(min_row=2, values_only=True)
    }
    assert cells[(4, "Net score")] == -66.7
    assert cells[(1, "Answered")] == 12


def test_the_team_sees_a_chart_of_every_question_with_answers(
    client, login, cast
) -> None:
    survey = make_survey()
    _responses(survey, 8)  # question 1: Newsletter 4, Website 4
    login(cast["officer"])
    text = client.get(f"/surveys/{survey.id}/results").get_data(as_text=True)
    table = text.split("Answers to question 1")[1].split("</table>")[0]
    assert table.count(">4<") == 2
    assert "answers to question 1;" in text
    assert "answers to question 3;" in text  # Likert: eight 4s
    # Question 2 (multiple choice) has no answers: said, not drawn.
    assert "Nobody has answered this question yet." in text
    assert "answers to question 2;" not in text


def test_free_text_is_shown_as_text_everywhere(client, login, cast) -> None:
    survey = make_survey()
    choice = question(survey, Q.SINGLE_CHOICE).choices[0]
    choice.label = "</script><b>x</b>"
    db.session.commit()
    _responses(survey, 6, **{Q.LONG_TEXT: XSS, Q.SINGLE_CHOICE: "</script><b>x</b>"})
    login(cast["lead"])
    results = client.get(f"/surveys/{survey.id}/results").get_data(as_text=True)
    assert "</script><b>" not in results
    assert "<script>alert" not in results
    found = re.findall(r"data-chart='([^']*)'", results)
    charts = [json.loads(unescape(m)) for m in found]
    assert any(c["labels"][0] == "</script><b>x</b>" for c in charts)
    text_page = client.get(_text_url(survey))
    page = text_page.get_data(as_text=True)
    assert "<script>alert" not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert '<a href="javascript' not in page
    assert "Content-Security-Policy" in text_page.headers
    assert (
        "unsafe-inline"
        not in text_page.headers["Content-Security-Policy"]
        .split("script-src")[1]
        .split(";")[0]
    )


def test_free_text_search_and_pages(client, login, cast) -> None:
    survey = make_survey()
    _responses(survey, 60)
    login(cast["officer"])
    url = _text_url(survey)
    first = client.get(url).get_data(as_text=True)
    assert "60 answers" in first
    assert "comment 59" in first
    assert "comment 5<" not in first
    links = pager_links(first)
    second = client.get(links["next"]).get_data(as_text=True)
    assert "60 answers" in second
    assert "comment 9<" in second
    assert "comment 5<" in second
    assert "comment 0<" in second
    assert "comment 10<" not in second
    # The last page is the last fifty, as the first is the first fifty.
    last = client.get(links["last"]).get_data(as_text=True)
    assert "comment 0<" in last
    assert "comment 49<" in last
    assert "comment 50<" not in last
    # An old page-numbered link, or a made-up cursor: the first page.
    assert "comment 59" in client.get(url + "?page=2").get_data(as_text=True)
    assert "comment 59" in client.get(url + "?after=2").get_data(as_text=True)
    found = client.get(url + "?q=COMMENT+1").get_data(as_text=True)
    assert "11 answers containing" in found  # 1 and 10–19
    assert not pager_links(found)


def test_free_text_pages_keep_the_search_and_skip_blank_answers(
    client, login, cast
) -> None:
    survey = make_survey()
    for index in range(130):
        text = f"Parking {index}" if index % 3 else f"Waiting {index}"
        add_response(survey, {Q.LONG_TEXT: text if index < 126 else " \r\n\t "})
    login(cast["lead"])
    url = _text_url(survey)
    assert "126 answers, newest first" in client.get(url).get_data(as_text=True)
    parking = [f"Parking {i}" for i in range(125, -1, -1) if i % 3]
    first = client.get(url + "?q=parking").get_data(as_text=True)
    assert "84 answers containing" in first
    assert re.findall(r"Parking \d+|Waiting \d+", first) == parking[:50]
    links = pager_links(first)
    assert "q=parking" in links["next"]
    second = client.get(links["next"]).get_data(as_text=True)
    assert re.findall(r"Parking \d+|Waiting \d+", second) == parking[50:]
    back = client.get(pager_links(second)["previous"]).get_data(as_text=True)
    assert re.findall(r"Parking \d+|Waiting \d+", back) == parking[:50]


def test_crosstab_by_tier_shows_the_team_real_counts(client, login, cast) -> None:
    survey = make_survey()
    for index in range(23):
        add_response(
            survey,
            {
                Q.SINGLE_CHOICE: "Friend"
                if index == 0
                else ("Newsletter" if index < 11 else "Website")
            },
            tier="gold" if index < 10 else ("silver" if index < 20 else None),
        )
    login(cast["lead"])
    q = question(survey, Q.SINGLE_CHOICE)
    text = client.get(
        f"/surveys/{survey.id}/results/crosstab?question={q.id}&by=tier"
    ).get_data(as_text=True)
    assert "Gold" in text
    assert "Silver" in text
    rows = {
        m.group(1): m.group(2)
        for m in re.finditer(
            r'<th scope="row" class="nhsuk-table__header">([^<]+)</th>(.*?)</tr>',
            text,
            re.S,
        )
    }
    # Gold: Friend 1, Newsletter 9; Silver: Newsletter 1, Website 9; the 3 whose
    # tier is not known are a group under 5, not shown.
    assert re.findall(r">([^<]*)</td>", rows["Friend"]) == [
        "1 (10.0%)",
        "0 (0.0%)",
        "fewer than 5",
    ]
    assert re.findall(r">([^<]*)</td>", rows["Newsletter"]) == [
        "9 (90.0%)",
        "1 (10.0%)",
        "fewer than 5",
    ]
    assert "These are the real counts" in text


def test_equality_crosstab_is_for_admins_on_named_surveys(client, login, cast) -> None:
    survey = make_survey(anonymous=False)
    for index in range(12):
        member = MemberFactory(equality={"age_band": "18_24" if index < 6 else "65_74"})
        add_response(survey, {Q.SINGLE_CHOICE: "Newsletter"}, member_id=member.id)
    q = question(survey, Q.SINGLE_CHOICE)
    url = f"/surveys/{survey.id}/results/crosstab?question={q.id}&by=equality:age_band"
    login(cast["officer"])
    assert client.get(url).status_code == 403
    assert "Equality" not in client.get(
        f"/surveys/{survey.id}/results/crosstab"
    ).get_data(as_text=True)
    client.post("/logout")
    login(cast["admin"])
    page = client.get(url)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "18 to 24" in text
    viewed = db.session.scalars(
        select(AuditEvent).where(AuditEvent.entity_type == "survey_equality")
    ).one()
    assert viewed.summary == "survey answers by age_band viewed"
    assert "65 to 74" in text
    anonymous = make_survey(title="Anonymous one")
    assert (
        client.get(
            f"/surveys/{anonymous.id}/results/crosstab"
            f"?question={question(anonymous, Q.SINGLE_CHOICE).id}&by=equality:age_band"
        ).status_code
        == 403
    )


def test_response_rate_counts_invitations_answered(client, login, cast) -> None:
    from engage.surveys.models import Delivery
    from engage.surveys.models import Invitation

    survey = make_survey()
    now = utcnow()
    members = MemberFactory.create_batch(10)
    for index, member in enumerate(members):
        db.session.add(
            Invitation(
                survey_id=survey.id,
                member_id=member.id,
                token_hash=f"{index:064d}",
                delivery=Delivery.EMAIL,
                created_at=now,
                answered_at=now if index < 6 else None,
            )
        )
    db.session.commit()
    _responses(survey, 6)
    login(cast["lead"])
    text = client.get(f"/surveys/{survey.id}/results").get_data(as_text=True)
    assert "60.0%" in text
    assert "Silver" in text  # the rate by tier


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_exports_neutralise_formulas_and_are_audited(client, login, cast, fmt) -> None:
    survey = make_survey()
    login(cast["officer"])
    with (FIXTURES / "google.csv").open("rb") as upload:
        client.post(
            f"/surveys/{survey.id}/responses/import",
            data={"file": (upload, "google.csv")},
            content_type="multipart/form-data",
        )
    pending = client.get(f"/surveys/{survey.id}/results")  # nothing imported yet
    assert "6 responses" not in pending.get_data(as_text=True)
    _import_google(client, survey)
    raw = client.get(f"/surveys/{survey.id}/responses/export.{fmt}")
    assert raw.status_code == 200
    assert raw.headers["Cache-Control"] == "no-store"
    cells = _cells(raw.data, fmt)
    assert len(cells) == 7
    comments = [row[-1] for row in cells[1:]]
    assert '\'=HYPERLINK("http://x/?"&A1,"x")' in comments
    flat = " ".join(" ".join(row) for row in cells)
    assert "ann@example.org" not in flat
    assert all(c[:1] not in "=+-@\t\r" for row in cells for c in row if c)
    # A real date, and the source in words.
    assert cells[1][1] == ("2024-03-15" if fmt == "csv" else "2024-03-15 00:00:00")
    assert cells[1][2] == "Imported"
    results = client.get(f"/surveys/{survey.id}/results/export.{fmt}")
    assert "Newsletter" in " ".join(" ".join(r) for r in _cells(results.data, fmt))
    actions = {
        (e.action, e.entity_type)
        for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "export")
        )
    }
    assert actions == {("export", "survey_response"), ("export", "survey_results")}


def _cells(content: bytes, fmt: str) -> list[list[str]]:
    if fmt == "csv":
        return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    book = openpyxl.load_workbook(io.BytesIO(content))
    return [
        ["" if v is None else str(v) for v in row]
        for row in book.active.iter_rows(values_only=True)
    ]


def _import_google(client, survey, mapping=None):
    with (FIXTURES / "google.csv").open("rb") as upload:
        preview = client.post(
            f"/surveys/{survey.id}/responses/import",
            data={"file": (upload, "google.csv")},
            content_type="multipart/form-data",
        )
    text = preview.get_data(as_text=True)
    action = re.search(r'action="([^"]+/responses/import/\d+)"', text).group(1)
    selects = dict(
        re.findall(r'name="(map-c\d+)".*?<option value="(\d*)" selected', text, re.S)
    )
    selects.update(mapping or {})
    return client.post(action, data={**selects, "action": "import"}), text


def test_import_page_previews_then_imports_and_twice_adds_nothing(
    client, login, cast
) -> None:
    survey = make_survey()
    login(cast["officer"])
    done, preview = _import_google(client, survey)
    assert "Google Forms" in preview
    assert "Responses to add" in preview
    assert "Email Address" in preview  # listed as never stored
    assert done.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Response)) == 6
    with (FIXTURES / "google.xlsx").open("rb") as upload:
        again = client.post(
            f"/surveys/{survey.id}/responses/import",
            data={"file": (upload, "google.xlsx")},
            content_type="multipart/form-data",
        ).get_data(as_text=True)
    assert "every response in the file has been imported already" in again
    assert db.session.scalar(select(func.count()).select_from(Response)) == 6


def test_the_preview_asks_how_dates_are_written_when_the_file_cannot_tell(
    client, login, cast
) -> None:
    survey = make_survey()
    login(cast["officer"])
    upload = (
        b"ID,Start time,Completion time,Email,Name,Any other comments?\r\n"
        b"1,3/5/24 9:14:02,3/5/24 9:14:02,a@example.org,A,Fine\r\n"
    )
    first = client.post(
        f"/surveys/{survey.id}/responses/import",
        data={"file": (io.BytesIO(upload), "ms.csv")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert "How are the dates in the file written?" in first
    assert "Day first: 3 May 2024" in first
    assert "Month first: 5 March 2024" in first
    assert 'value="import"' not in first  # nothing to import until answered
    action = re.search(r'action="([^"]+/responses/import/\d+)"', first).group(1)
    selects = dict(
        re.findall(r'name="(map-c\d+)".*?<option value="(\d*)" selected', first, re.S)
    )
    checked = client.post(action, data={**selects, "dates": "month-first"})
    assert "Import 1 response" in checked.get_data(as_text=True)
    done = client.post(
        action, data={**selects, "dates": "month-first", "action": "import"}
    )
    assert done.status_code == 302
    (response,) = db.session.scalars(select(Response))
    assert response.submitted_on == date(2024, 3, 5)
    db.session.refresh(survey)
    assert survey.import_day_first is False


def test_import_mapping_can_be_changed_on_the_preview(client, login, cast) -> None:
    survey = make_survey()
    login(cast["officer"])
    done, _ = _import_google(client, survey, {"map-c7": ""})  # the comments column
    assert done.status_code == 302
    from engage.surveys.models import Answer

    comments = question(survey, Q.LONG_TEXT).id
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(Answer)
            .where(Answer.question_id == comments)
        )
        == 0
    )


def test_import_errors_are_escaped_and_numbered(client, login, cast) -> None:
    survey = make_survey()
    login(cast["officer"])
    text = (
        (FIXTURES / "google.csv")
        .read_text(encoding="utf-8")
        .replace("Website", "<img src=x onerror=alert(1)>", 1)
    )
    page = client.post(
        f"/surveys/{survey.id}/responses/import",
        data={"file": (io.BytesIO(text.encode()), "bad.csv")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert ">3</th>" in page  # row 3
    assert "nothing has been imported" in page
    assert db.session.scalar(select(func.count()).select_from(Response)) == 0


def test_import_upload_limits(client, login, cast) -> None:
    survey = make_survey()
    login(cast["officer"])
    url = f"/surveys/{survey.id}/responses/import"
    big = client.post(
        url,
        data={"file": (io.BytesIO(b"a" * (25 * 1024 * 1024)), "big.csv")},
        content_type="multipart/form-data",
    )
    big.request.environ["wsgi.input"].close()  # the client spooled it to a file
    assert big.status_code == 413
    png = client.post(
        url,
        data={"file": (io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"0" * 100), "image.csv")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert "looks like a PNG image" in png


def test_results_for_another_survey_question_are_not_found(client, login, cast) -> None:
    first = make_survey()
    second = make_survey(title="Other")
    login(cast["lead"])
    other = question(second, Q.LONG_TEXT).id
    assert (
        client.get(f"/surveys/{first.id}/results/questions/{other}/answers").status_code
        == 404
    )
    assert client.get("/surveys/9999/results").status_code == 404


def test_filters_select_the_responses(client, login, cast) -> None:
    survey = make_survey()
    _responses(survey, 12)
    login(cast["lead"])
    text = client.get(f"/surveys/{survey.id}/results?tier=gold").get_data(as_text=True)
    assert "6 responses in this selection" in text
    assert date(2024, 3, 15)  # keep the import used
    assert Choice
