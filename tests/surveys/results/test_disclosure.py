"""Who sees a survey's real counts: the team on screen and in its download; small
counts suppressed in equality breakdowns, the public page, the API and the download
for publication, the same on screen and in every download for the same viewer."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import openpyxl
import pytest

from engage.accounts.models import Visitor
from engage.api.tokens import create_api_token
from engage.clock import utcnow
from engage.extensions import db
from engage.membership.reports import NOT_SHOWN
from engage.surveys import findings
from engage.surveys.disclosure import HIDDEN
from engage.surveys.disclosure import Purpose
from engage.surveys.disclosure import hide_small_counts
from engage.surveys.disclosure import suppresses
from engage.surveys.models import QuestionKind
from tests.factories import MemberFactory

from .helpers import add_response
from .helpers import make_survey
from .helpers import question

Q = QuestionKind
ROW = re.compile(
    r'<th scope="row" class="nhsuk-table__header">([^<]+)</th>\s*'
    r'<td class="nhsuk-table__cell nhsuk-table__cell--numeric">([^<]*)</td>\s*'
    r'<td class="nhsuk-table__cell nhsuk-table__cell--numeric">([^<]*)</td>'
)


def _seven(cast: dict[str, Any]) -> Any:
    """A named survey of 7: Newsletter 4, Website 3; ages 18 to 24 five, 65 to 74
    two; a published finding about question 1."""
    survey = make_survey(anonymous=False)
    for index in range(7):
        member = MemberFactory(equality={"age_band": "18_24" if index < 5 else "65_74"})
        add_response(
            survey,
            {
                Q.SINGLE_CHOICE: "Newsletter" if index < 4 else "Website",
                Q.LONG_TEXT: f"comment number {index}",
            },
            member_id=member.id,
            tier="gold",
        )
    findings.save_finding(
        survey,
        None,
        findings.FindingData(
            theme="Hearing about us",
            you_said="Most of you heard about us from the newsletter",
            we_did="We send it every month",
            question_id=question(survey, Q.SINGLE_CHOICE).id,
            published=True,
        ),
        actor=cast["officer"],
        now=utcnow(),
    )
    findings.publish_findings(survey, True, actor=cast["officer"], now=utcnow())
    db.session.commit()
    return survey


def _screen(html: str, position: int = 1) -> dict[str, tuple[str, str]]:
    """Answer → (count, percent) from a page's table of answers to a question."""
    table = html.split(f"Answers to question {position} (")[1].split("</table>")[0]
    return {label: (count, percent) for label, count, percent in ROW.findall(table)}


def _download(data: bytes, fmt: str, position: int = 1) -> dict[str, tuple[str, str]]:
    """Answer → (count, percent) of a question in a results download."""
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    else:
        sheet = openpyxl.load_workbook(io.BytesIO(data)).active
        rows = [["" if v is None else str(v) for v in r] for r in sheet.values]
    return {
        row[2]: (row[3], row[4])
        for row in rows[1:]
        if row[0] == str(position) and row[2] != "Answered"
    }


REAL = {
    "Newsletter": ("4", "57.1%"),
    "Website": ("3", "42.9%"),
    "Friend": ("0", "0.0%"),
}
SUPPRESSED = {
    "Newsletter": (HIDDEN, ""),
    "Website": (HIDDEN, ""),
    "Friend": ("0", "0.0%"),
}


def test_a_survey_of_seven_shows_its_team_real_counts_and_suppresses_them_elsewhere(
    client, login, cast
) -> None:
    survey = _seven(cast)
    results = f"/surveys/{survey.id}/results"
    # The team, on screen and in the download: the real counts and the free text.
    login(cast["officer"])
    page = client.get(results).get_data(as_text=True)
    assert _screen(page) == REAL
    assert "These are the real counts" in page
    assert _download(client.get(results + "/export.csv").data, "csv") == REAL
    text_url = (
        f"{results}/questions/{question(survey, Q.LONG_TEXT).id}/answers"
        "?q=comment+number"
    )
    text = client.get(text_url).get_data(as_text=True)
    assert "7 answers" in text
    assert "comment number 6" in text
    # The download for publication: suppressed.
    published = client.get(results + "/publication.csv").data
    assert _download(published, "csv") == SUPPRESSED
    client.post("/logout")
    # An equality breakdown (admins, named surveys): suppressed.
    login(cast["admin"])
    q = question(survey, Q.SINGLE_CHOICE)
    crosstab = client.get(
        f"{results}/crosstab?question={q.id}&by=equality:age_band"
    ).get_data(as_text=True)
    cells = re.findall(r'cell--numeric">([^<]*)</td>', crosstab)
    assert cells
    hidden = (HIDDEN, NOT_SHOWN, "0 ")
    assert all(c.startswith(hidden) for c in cells), cells
    assert "4 (" not in crosstab
    assert "Counts under 5 are shown as “fewer than 5”" in crosstab
    client.post("/logout")
    # The public "you said, we did" page: suppressed, as the publication download.
    public = client.get(f"/surveys/{survey.id}/you-said-we-did").get_data(as_text=True)
    assert _screen(public) == SUPPRESSED
    assert "57.1%" not in public
    assert "comment number" not in public
    # The API: suppressed, and no free text.
    _, secret = create_api_token(cast["lead"], name="Figures", now=utcnow())
    db.session.commit()
    body = client.get(
        f"/api/v1/surveys/{survey.id}/results",
        headers={"Authorization": f"Bearer {secret}"},
    ).get_json()
    assert body["respondents"] == 7
    assert body["suppressed"] is True
    first = next(x for x in body["questions"] if x["position"] == 1)
    assert [(c["label"], c["count"]) for c in first["counts"]] == [
        ("Newsletter", None),
        ("Website", None),
        ("Friend", 0),
    ]
    assert "comment number" not in str(body)


@pytest.mark.parametrize("role", ["lead", "officer", "admin"])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_screen_and_download_agree_for_each_viewer(
    client, login, cast, role, fmt
) -> None:
    survey = _seven(cast)
    results = f"/surveys/{survey.id}/results"
    login(cast[role])
    screen = _screen(client.get(results).get_data(as_text=True))
    assert screen == REAL
    assert _download(client.get(f"{results}/export.{fmt}").data, fmt) == screen
    # A filtered selection too (every response here is Gold).
    gold = _screen(client.get(results + "?tier=gold").get_data(as_text=True))
    assert gold == REAL
    assert _download(client.get(f"{results}/export.{fmt}?tier=gold").data, fmt) == gold
    # The download for publication agrees with the public page.
    publication = _download(client.get(f"{results}/publication.{fmt}").data, fmt)
    client.post("/logout")
    public = client.get(f"/surveys/{survey.id}/you-said-we-did").get_data(as_text=True)
    assert publication == _screen(public) == SUPPRESSED


@pytest.mark.parametrize("role", ["lead", "officer", "admin"])
def test_only_the_team_looking_at_its_own_survey_sees_real_counts(cast, role) -> None:
    viewer = cast[role]
    assert not suppresses(Purpose.TEAM, viewer)
    for purpose in Purpose:
        if purpose is not Purpose.TEAM:
            assert suppresses(purpose, viewer), purpose
    for nobody in (None, Visitor()):
        assert all(suppresses(purpose, nobody) for purpose in Purpose)


def test_hiding_small_counts_hides_a_second_one_or_the_total() -> None:
    rows: list[list[Any]] = [["A", 2, 50.0], ["B", 9, 10.0], ["C", 12, 30.0]]
    # B is the next smallest: hidden with A so the total cannot give A away.
    # B, hidden only so that A cannot be worked out, may be any size: "not shown".
    assert hide_small_counts(rows, 1, with_columns=(2,)) == [
        ["A", HIDDEN, HIDDEN],
        ["B", NOT_SHOWN, NOT_SHOWN],
        ["C", 12, 30.0],
    ]
    # With nothing else to hide, the total row goes instead.
    alone = [["A", 3], ["B", 0], ["All", 3]]
    assert hide_small_counts(alone, 1, total_last=True) == [
        ["A", HIDDEN],
        ["B", 0],
        ["All", HIDDEN],
    ]
    big = [["A", 5], ["B", 0], ["All", 5]]
    assert hide_small_counts(big, 1, total_last=True) == big
