"""Forms of the survey results pages: filters, cross-tabulation and text search."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length
from wtforms.validators import Optional

from engage.formtools import SelectField
from engage.formtools import choices
from engage.formtools import parse_id
from engage.formtools import strip


class ResultsFilterForm(FlaskForm):  # type: ignore[misc]
    """Which responses the results cover, read from the query string (no CSRF)."""

    class Meta:
        csrf = False

    tier = SelectField("Tier", optional=True)
    practice = SelectField("GP practice", parse=parse_id)
    topic = SelectField("Topic", parse=parse_id)

    def __init__(
        self,
        *args: Any,
        tiers: list[tuple[object, str]],
        practices: list[tuple[object, str]],
        topics: list[tuple[object, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        everyone = [("", "All")]
        self.tier.choices = choices(everyone + tiers)
        self.practice.choices = choices(everyone + practices)
        self.topic.choices = choices(everyone + topics)


class CrossTabForm(FlaskForm):  # type: ignore[misc]
    """A question and a segment to cross-tabulate it by (query string, no CSRF)."""

    class Meta:
        csrf = False

    question = SelectField("Question", parse=parse_id, optional=True)
    by = SelectField("Break down by", optional=True)

    def __init__(
        self,
        *args: Any,
        questions: list[tuple[object, str]],
        segments: list[tuple[object, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.question.choices = choices(questions)
        self.by.choices = choices(segments)


class TextSearchForm(FlaskForm):  # type: ignore[misc]
    """A search of free-text answers (query string, no CSRF)."""

    class Meta:
        csrf = False

    q = StringField(
        "Search the answers", filters=[strip], validators=[Optional(), Length(max=200)]
    )
