"""The question form: its type first, then only that type's fields, without scripts."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from engage.extensions import db
from engage.surveys.models import Question
from engage.surveys.models import QuestionKind
from engage.surveys.models import SurveyStatus
from tests.surveys.helpers import make_survey

#: The boxes only some types have, by their field names.
EXTRA = ("choices_text", "min_value", "max_value")


def _names(html: str) -> set[str]:
    """The names of the boxes in the page's main content, the CSRF token aside."""
    main = html[html.index("<main") : html.index("</main>")]
    found = set(re.findall(r'<(?:input|textarea|select)[^>]* name="([^"]+)"', main))
    return found - {"csrf_token"}


@pytest.fixture
def draft(cast: dict[str, Any], client: FlaskClient, login: Any) -> Any:
    survey = make_survey(cast["officer"], status=SurveyStatus.DRAFT)
    login(cast["officer"])
    return survey


def test_adding_starts_with_the_type_alone(draft: Any, client: FlaskClient) -> None:
    html = client.get(f"/surveys/{draft.id}/questions/new").get_data(as_text=True)
    assert "What type of question is it?" in html
    assert '<form method="get"' in html
    assert _names(html) == {"kind", "chosen"}


@pytest.mark.parametrize(
    ("kind", "extra", "words"),
    [
        (QuestionKind.SINGLE_CHOICE, {"choices_text"}, "Choices"),
        (QuestionKind.MULTIPLE_CHOICE, {"choices_text"}, "Choices"),
        (QuestionKind.LIKERT_AGREEMENT, set(), "Strongly disagree, Disagree"),
        (QuestionKind.LIKERT_SATISFACTION, set(), "Very dissatisfied"),
        (QuestionKind.RATING_0_10, set(), "from 0 (the lowest) to 10"),
        (QuestionKind.NUMBER, {"min_value", "max_value"}, "Lowest number allowed"),
        (QuestionKind.SHORT_TEXT, set(), "one line of up to 500 characters"),
        (QuestionKind.LONG_TEXT, set(), "a box of up to 10,000 characters"),
    ],
)
def test_each_type_shows_only_its_own_fields(
    draft: Any, client: FlaskClient, kind: QuestionKind, extra: set[str], words: str
) -> None:
    response = client.get(f"/surveys/{draft.id}/questions/new?kind={kind.value}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert words in html
    assert f'<input type="hidden" name="kind" value="{kind.value}">' in html
    assert _names(html) == {"kind", "text", "help_text", "required"} | extra
    assert kind.label in html
    assert f"kind={kind.value}&amp;change=1" in html
    # The optional boxes say so; the question itself does not.
    assert "Help text (optional)" in html
    assert "Question (optional)" not in html


@pytest.mark.parametrize("sent", ["bogus", "", "99999999999999999999999"])
def test_an_unknown_type_asks_again(draft: Any, client: FlaskClient, sent: str) -> None:
    response = client.get(f"/surveys/{draft.id}/questions/new?kind={sent}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "There is a problem" in html
    assert _names(html) == {"kind", "chosen"}


def test_continuing_without_a_type_asks_for_one(
    draft: Any, client: FlaskClient
) -> None:
    response = client.get(f"/surveys/{draft.id}/questions/new?chosen=1")
    assert "Choose the type of question" in response.get_data(as_text=True)


def test_a_posted_unknown_type_asks_again(draft: Any, client: FlaskClient) -> None:
    response = client.post(
        f"/surveys/{draft.id}/questions/new", data={"kind": "bogus", "text": "Hi"}
    )
    assert response.status_code == 200
    assert "Choose the type of question" in response.get_data(as_text=True)


def test_fields_of_another_type_are_ignored(draft: Any, client: FlaskClient) -> None:
    response = client.post(
        f"/surveys/{draft.id}/questions/new?kind=long_text",
        data={
            "kind": "long_text",
            "text": "Tell us more",
            "choices_text": "Not\nused",
            "min_value": "not a number",
        },
    )
    assert response.status_code == 302
    added = db.session.scalars(
        select(Question).filter_by(survey_id=draft.id, text="Tell us more")
    ).one()
    assert added.kind is QuestionKind.LONG_TEXT
    assert added.choices == []
    assert added.min_value is None


def test_editing_shows_the_type_and_can_change_it(
    draft: Any, client: FlaskClient
) -> None:
    question = next(q for q in draft.questions if q.kind is QuestionKind.SINGLE_CHOICE)
    base = f"/surveys/{draft.id}/questions/{question.id}/edit"
    html = client.get(base).get_data(as_text=True)
    assert "Single choice" in html
    assert "choices_text" in _names(html)
    assert question.choices[0].label in html
    # Change the type: the first step again, the current type chosen.
    choose = client.get(f"{base}?kind=single_choice&change=1").get_data(as_text=True)
    assert _names(choose) == {"kind", "chosen"}
    assert re.search(r'value="single_choice"\s+checked', choose)
    # A multiple choice keeps the choices already written.
    changed = client.get(f"{base}?kind=multiple_choice").get_data(as_text=True)
    assert "Multiple choice" in changed
    assert question.choices[0].label in changed
    response = client.post(
        f"{base}?kind=multiple_choice",
        data={"kind": "multiple_choice", "text": question.text, "choices_text": "A\nB"},
    )
    assert response.status_code == 302
    db.session.refresh(question)
    assert question.kind is QuestionKind.MULTIPLE_CHOICE
    assert [c.label for c in question.choices] == ["A", "B"]
