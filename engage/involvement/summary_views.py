"""The yearly "How we involved people" summary: the page (printable) and downloads."""

from __future__ import annotations

from flask import Blueprint
from flask import Response
from flask import render_template
from flask import request
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm

from engage import clock
from engage.accounts.access import READERS
from engage.accounts.access import roles_required
from engage.formtools import SelectField
from engage.formtools import choices
from engage.imports.tabular import mimetype
from engage.imports.tabular import write_table
from engage.involvement import summary as summaries

bp = Blueprint("involvement_summary", __name__, url_prefix="/involvement")


class SummaryForm(FlaskForm):  # type: ignore[misc]
    """Which year the summary is for (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    year = SelectField(
        "Which year",
        optional=True,
        invalid_choice_message="Choose a year from the list",
        invalid_value_message="Choose a year from the list",
    )


def _chosen() -> tuple[SummaryForm, summaries.SummaryYear]:
    """The form and the year it asks for: this year when none, or one not offered."""
    today, now = clock.today(), clock.utcnow()
    offered = summaries.year_choices(today, now)
    form = SummaryForm(request.args)
    form.year.choices = choices((str(y.year), y.label) for y in offered)
    form.validate()
    chosen = next(
        (y for y in offered if not form.year.errors and str(y.year) == form.year.data),
        offered[0],
    )
    form.year.data = str(chosen.year)
    return form, chosen


@bp.get("/summary")
@roles_required(*READERS)
def summary() -> ResponseReturnValue:
    form, year = _chosen()
    found = summaries.build_summary(year, now=clock.utcnow())
    return render_template(
        "involvement/summary.html",
        form=form,
        summary=found,
        kinds=summaries.by_kind_table(found),
    )


@bp.get("/summary.<any(csv,xlsx):fmt>")
@roles_required(*READERS)
def summary_download(fmt: str) -> ResponseReturnValue:
    _form, year = _chosen()
    found = summaries.build_summary(year, now=clock.utcnow())
    content = write_table(
        fmt,
        summaries.COLUMNS,
        summaries.summary_rows(found),
        title=f"How we involved people {year.year}",
    )
    suffix = "-to-date" if year.to_date else ""
    filename = f"how-we-involved-people-{year.year}{suffix}.{fmt}"
    return Response(
        content,
        content_type=mimetype(fmt),
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )
