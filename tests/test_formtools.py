"""The shared form fields: the NHS.UK date input, and optional fields marked once."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask import render_template_string
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import StringField
from wtforms.validators import InputRequired
from wtforms.validators import Optional

from engage.formtools import DateField
from engage.formtools import RequiredElsewhere
from engage.formtools import marks_optional
from engage.formtools import text


class _Form(FlaskForm):  # type: ignore[misc]
    due = DateField("Due date", validators=[InputRequired("Enter the due date")])
    start = DateField("Start date", validators=[Optional()])


class _Filters(FlaskForm):  # type: ignore[misc]
    class Meta:
        csrf = False

    since = DateField("From", called="The first date", validators=[Optional()])


def _form(**sent: str) -> _Form:
    form = _Form(formdata=MultiDict(sent))
    form.validate()
    return form


def _boxes(prefix: str, day: str, month: str, year: str) -> dict[str, str]:
    return {f"{prefix}-day": day, f"{prefix}-month": month, f"{prefix}-year": year}


@pytest.fixture
def ctx(app: Flask) -> Any:
    with app.test_request_context("/"):
        yield


def test_three_boxes_make_a_date(ctx: Any) -> None:
    form = _form(
        **_boxes("due", "27", "3", "2026"), **_boxes("start", " 01 ", "02", "2026")
    )
    assert form.errors == {}
    assert form.due.data == date(2026, 3, 27)
    assert form.start.data == date(2026, 2, 1)


def test_an_iso_date_is_still_read_for_links_and_scripts(ctx: Any) -> None:
    form = _form(due="2026-03-27")
    assert form.errors == {}
    assert form.due.data == date(2026, 3, 27)
    assert form.due.values == {"day": "27", "month": "3", "year": "2026"}


@pytest.mark.parametrize(
    ("sent", "message", "bad"),
    [
        (("27", "", "2026"), "Due date must include a month", ("month",)),
        (("", "", "2026"), "Due date must include a day and month", ("day", "month")),
        (("31", "4", "2026"), "Due date must be a real date", ("day",)),
        (("29", "2", "2026"), "Due date must be a real date", ("day",)),
        (("1", "13", "2026"), "Due date must be a real date", ("month",)),
        (("x", "y", "2026"), "Due date must be a real date", ("day", "month")),
        (("1", "1", "26"), "Due date must have a year of 4 numbers", ("year",)),
        (("1", "1", "9" * 5000), "Due date must be a real date", ("year",)),
        (("9" * 5000, "1", "2026"), "Due date must be a real date", ("day",)),
        (("1", "1", "9999"), "Due date must be between 1900 and 2199", ("year",)),
        (("1", "1", "0001"), "Due date must be between 1900 and 2199", ("year",)),
        (("½", "١", "2026"), "Due date must be a real date", ("day", "month")),
        (("1e3", "1", "2026"), "Due date must be a real date", ("day",)),
    ],
)
def test_each_problem_is_said_in_nhs_words_against_its_boxes(
    ctx: Any, sent: tuple[str, str, str], message: str, bad: tuple[str, ...]
) -> None:
    form = _form(**_boxes("due", *sent))
    assert form.due.errors == [message]
    assert form.due.data is None
    assert form.due.bad_parts == bad
    assert form.due.anchor == f"due-{bad[0]}"
    # What was typed is shown back as typed.
    assert form.due.values == dict(zip(("day", "month", "year"), sent, strict=True))


@pytest.mark.parametrize(
    "sent",
    ["9999-12-31", "0001-01-01", "2026-02-30", "27/3/2026", "20260327", "x" * 5000],
)
def test_a_bad_iso_date_is_an_error_not_a_crash(ctx: Any, sent: str) -> None:
    form = _form(due=sent)
    assert form.due.errors
    assert form.due.data is None


def test_empty_boxes_are_no_date(ctx: Any) -> None:
    form = _form(**_boxes("due", "", " ", ""), **_boxes("start", "", "", ""))
    assert form.due.errors == ["Enter the due date"]
    assert form.start.errors == []
    assert form.start.data is None


def test_a_partial_optional_date_is_not_dropped(ctx: Any) -> None:
    # Optional() stops at an empty field: a day alone is not empty.
    form = _form(due="2026-03-27", **_boxes("start", "", "3", ""))
    assert form.start.errors == ["Start date must include a day and year"]


def test_a_filter_names_its_date(ctx: Any) -> None:
    form = _Filters(formdata=MultiDict(_boxes("since", "1", "", "2026")))
    form.validate()
    assert form.since.errors == ["The first date must include a month"]


def test_the_date_input_marks_only_the_boxes_in_error(ctx: Any) -> None:
    form = _form(**_boxes("due", "27", "", "2026"))
    html = render_template_string(
        '{% from "_macros/forms.html" import field, error_summary %}'
        "{{ error_summary(form) }}{{ field(form.due) }}{{ field(form.start) }}",
        form=form,
    )
    assert 'href="#due-month"' in html
    assert "nhsuk-form-group--error" in html
    assert "For example, 27 3 2026" in html
    found = {
        box: classes
        for classes, box in re.findall(r'<input class="([^"]*)" id="(due-\w+)"', html)
    }
    assert "nhsuk-input--error" in found["due-month"]
    assert "nhsuk-input--error" not in found["due-day"]
    assert "nhsuk-input--error" not in found["due-year"]
    assert 'name="due-day" type="text" value="27"' in html
    # The legend says which date; the optional one says it is optional.
    assert "Start date (optional)" in html
    assert "Due date (optional)" not in html


def test_optional_fields_are_marked_once_from_one_place(ctx: Any) -> None:
    class Form(FlaskForm):  # type: ignore[misc]
        name = text("Name", max_length=10, required="Enter a name")
        phone = text("Phone", max_length=10)
        either = StringField("Email", validators=[RequiredElsewhere()])

    form = Form(formdata=None)
    assert marks_optional(form.phone)
    assert not marks_optional(form.name)
    assert not marks_optional(form.either)
    filters = _Filters(formdata=None)
    assert not marks_optional(filters.since)


class _Notes(FlaskForm):  # type: ignore[misc]
    class Meta:
        csrf = False

    notes = text("Notes", max_length=9, lines=True)


def test_a_line_break_from_a_browser_counts_as_one_character(ctx: Any) -> None:
    # Five lines of one letter: 9 characters with each break as one, 13 as CR LF.
    form = _Notes(formdata=MultiDict({"notes": "a\r\nb\r\nc\rd\r\ne"}))
    assert form.validate(), form.errors
    assert form.notes.data == "a\nb\nc\nd\ne"
    form = _Notes(formdata=MultiDict({"notes": "a\r\nb\r\nc\r\nd\r\ne\r\nf"}))
    assert not form.validate()


def test_a_one_line_box_refuses_line_breaks_but_not_tabs(app) -> None:
    from flask_wtf import FlaskForm
    from werkzeug.datastructures import MultiDict

    from engage.formtools import text

    class Form(FlaskForm):  # type: ignore[misc]
        subject = text("Subject", max_length=50)

    with app.test_request_context():
        broken = Form(
            formdata=MultiDict({"subject": "News\r\nBcc: all@example.org"}),
            meta={"csrf": False},
        )
        assert not broken.validate()
        assert broken.subject.errors == [
            "Subject must be one line, without line breaks"
        ]
        tabbed = Form(
            formdata=MultiDict({"subject": "News\tfor May"}), meta={"csrf": False}
        )
        assert tabbed.validate()


@pytest.mark.parametrize("lines", [False, True])
def test_a_required_box_of_only_spaces_is_empty_and_a_long_one_is_named(
    app: Flask, lines: bool
) -> None:
    class Form(FlaskForm):  # type: ignore[misc]
        name = text("Name", max_length=200, required="Enter the name", lines=lines)

    with app.test_request_context():
        for blank in ("   ", " \t ", "\u00a0 "):
            form = Form(formdata=MultiDict({"name": blank}), meta={"csrf": False})
            assert not form.validate()
            assert form.name.errors == ["Enter the name"]
        form = Form(formdata=MultiDict({"name": "N" * 201}), meta={"csrf": False})
        assert not form.validate()
        assert form.name.errors == ["Name must be 200 characters or fewer"]
        form = Form(formdata=MultiDict({"name": " Ann "}), meta={"csrf": False})
        assert form.validate(), form.errors


def test_an_optional_choice_left_out_keeps_its_default_and_an_empty_one_is_none(
    app: Flask,
) -> None:
    """A filter left out of a link shows its default chosen (the map's colouring,
    a list's order); one sent empty is no choice."""
    from engage.formtools import RadioField
    from engage.formtools import choices

    class Form(FlaskForm):  # type: ignore[misc]
        order = RadioField(
            "Order",
            choices=choices([("due", "Due date"), ("title", "Title")]),
            default="due",
            optional=True,
        )

    with app.test_request_context():
        for sent, expected in (
            ({}, "due"),
            ({"order": ""}, None),
            ({"order": "title"}, "title"),
        ):
            form = Form(formdata=MultiDict(sent), meta={"csrf": False})
            assert form.validate(), form.errors
            assert form.order.data == expected, sent
        form = Form(formdata=MultiDict({"order": "nonsense"}), meta={"csrf": False})
        assert not form.validate()
