"""Dashboard views: the leads' dashboard, the board report and its workbook."""

from __future__ import annotations

from datetime import date

from flask import Blueprint
from flask import Response
from flask import render_template
from flask import request
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from engage import clock
from engage.accounts.access import READERS
from engage.accounts.access import roles_required
from engage.audiences.models import Programme
from engage.audiences.services import list_programmes
from engage.dashboard import periods
from engage.dashboard import services
from engage.dashboard.forms import MENU_KINDS
from engage.dashboard.forms import BoardReportForm
from engage.dashboard.forms import DashboardFilterForm
from engage.dashboard.report import board_report_workbook
from engage.dashboard.report import build_board_report
from engage.dashboard.sections import Scope
from engage.errors import ValidationError
from engage.extensions import db
from engage.formtools import id_or_none
from engage.imports.tabular import mimetype
from engage.surveys.disclosure import Purpose

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")


def _programme(programme_id: int | None) -> Programme | None:
    return None if programme_id is None else db.session.get(Programme, programme_id)


def _period(form: DashboardFilterForm, today: date) -> periods.Period:
    """The period the form asks for. When it asks for one that does not exist the
    form says why, and the current month, quarter or year is shown (the current
    quarter for custom dates)."""
    form.validate_choice()
    kind = form.kind
    try:
        if kind is periods.PeriodKind.CUSTOM:
            if form.start.errors or form.end.errors:
                raise ValidationError("")  # the date fields say what is wrong
            return periods.custom(form.start.data, form.end.data)
        chosen = form[kind.value]
        value = None if chosen.errors else chosen.data
        return periods.parse_period(kind.value, value, today=today)
    except ValidationError as error:
        if error.message:
            form.start.errors = [*form.start.errors, error.message]
        return periods.current(periods.PeriodKind.QUARTER, today)


def _scope(form: DashboardFilterForm) -> Scope:
    today = clock.today()
    return Scope(
        period=_period(form, today),
        today=today,
        programme=_programme(form.programme.data),
        actor=current_user._get_current_object(),
        include_equality=current_user.is_admin,
        now=clock.utcnow(),
        purpose=Purpose.TEAM,
    )


def _form() -> DashboardFilterForm:
    """The filter form from the query string.

    Bookmarks from before the menus say ``period=quarter&value=2026-Q3``: their
    ``value`` is read as the chosen kind's menu.
    """
    args = MultiDict(request.args)
    kind = args.get("period") or periods.PeriodKind.QUARTER.value
    if "value" in args and kind in {k.value for k in MENU_KINDS} and kind not in args:
        args[kind] = args["value"]
    return DashboardFilterForm(
        args,
        programmes=[(p.id, p.name) for p in list_programmes()],
        today=clock.today(),
    )


@bp.get("/")
@roles_required(*READERS)
def index() -> ResponseReturnValue:
    form = _form()
    scope = _scope(form)
    sections = services.build_dashboard(scope)
    db.session.commit()  # the representativeness report audits that it was viewed
    return render_template(
        "dashboard/index.html", form=form, scope=scope, sections=sections
    )


def _quarter_scope() -> Scope:
    today = clock.today()
    try:
        period = periods.parse_period(
            "quarter", request.args.get("quarter"), today=today
        )
    except ValidationError:
        period = periods.current(periods.PeriodKind.QUARTER, today)
    return Scope(
        period=period,
        today=today,
        programme=_programme(id_or_none(request.args.get("programme"))),
        actor=current_user._get_current_object(),
        include_equality=current_user.is_admin,
        now=clock.utcnow(),
        purpose=Purpose.BOARD_REPORT,
    )


@bp.get("/board-report")
@roles_required(*READERS)
def board_report() -> ResponseReturnValue:
    report = build_board_report(_quarter_scope())
    db.session.commit()
    form = BoardReportForm(request.args, today=report.scope.today)
    form.quarter.data = (
        report.period.value
    )  # the quarter shown, if the one asked is not
    return render_template("dashboard/board_report.html", report=report, form=form)


@bp.get("/board-report.xlsx")
@roles_required(*READERS)
def board_report_xlsx() -> ResponseReturnValue:
    report = build_board_report(_quarter_scope())
    db.session.commit()
    filename = f"engage-board-report-{report.period.value}.xlsx"
    return Response(
        board_report_workbook(report),
        content_type=mimetype("xlsx"),
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )
