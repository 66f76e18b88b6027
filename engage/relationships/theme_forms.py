"""Forms for themes (the admins' list, the overview's choices) and stakeholder links."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms.validators import InputRequired

from engage.formtools import MultiCheckboxField
from engage.formtools import SelectField
from engage.formtools import choices
from engage.formtools import enum_parser
from engage.formtools import parse_id
from engage.formtools import text
from engage.relationships.models import LinkKind
from engage.relationships.themes import PERIOD_MONTHS
from engage.relationships.themes import SORTS


class ThemeForm(FlaskForm):  # type: ignore[misc]
    """A theme: name and whether in use (admins), its description and links."""

    name = text("Name", max_length=200, required="Enter the theme's name")
    description = text("Description", max_length=5000, lines=True)
    is_active = BooleanField("Theme is in use", default=True)
    actions = MultiCheckboxField("Actions in the plan", parse=parse_id)
    findings = MultiCheckboxField(
        "\u201cYou said, we did\u201d findings", parse=parse_id
    )

    def __init__(
        self,
        *args: Any,
        actions: list[tuple[int, str]],
        findings: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.actions.choices = choices(actions)
        self.findings.choices = choices(findings)


def _months(value: object) -> int | None:
    if value is None or value == "":
        return None
    for months in PERIOD_MONTHS:
        if str(value) == str(months):
            return months
    raise ValueError("not a period")


def _sort(value: object) -> str | None:
    if value is None or value == "":
        return None
    if str(value) in SORTS:
        return str(value)
    raise ValueError("not a sort")


class ThemeOverviewForm(FlaskForm):  # type: ignore[misc]
    """The overview's period and order, from the query string (GET, so no CSRF)."""

    class Meta:
        csrf = False

    months = SelectField(
        "Period",
        choices=choices((m, f"Last {m} months") for m in PERIOD_MONTHS),
        parse=_months,
        default=12,
    )
    sort = SelectField(
        "Order", choices=choices(SORTS.items()), parse=_sort, default="raised"
    )


LINK_KIND_CHOICES = choices(
    [("", "Choose how they are linked")]
    + [(kind.value, kind.label) for kind in LinkKind]
)


class LinkForm(FlaskForm):  # type: ignore[misc]
    """A link from the audience whose page it is to another stakeholder."""

    kind = SelectField(
        "This stakeholder",
        choices=LINK_KIND_CHOICES,
        validators=[InputRequired("Choose how they are linked")],
        parse=enum_parser(LinkKind),
    )
    other_id = SelectField(
        "Other stakeholder",
        validators=[InputRequired("Choose the other stakeholder")],
        parse=parse_id,
    )
    note = text("Note", max_length=300)

    def __init__(
        self, *args: Any, audiences: list[tuple[int, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.other_id.choices = choices([("", "Choose a stakeholder"), *audiences])
