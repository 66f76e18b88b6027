"""Dashboard views: the leads' dashboard, the board report (page, PDF, workbook) and
its commentary."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint
from flask import Response
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from engage import clock
from engage.accounts.access import READERS
from engage.accounts.access import roles_required
from engage.accounts.models import Role
from engage.audiences.models import Programme
from engage.audiences.services import list_programmes
from engage.dashboard import periods
from engage.dashboard import services
from engage.dashboard.commentary import commentary_for
from engage.dashboard.commentary import save_commentary
from engage.dashboard.forms import MENU_KINDS
from engage.dashboard.forms import BoardReportForm
from engage.dashboard.forms import CommentaryForm
from engage.dashboard.forms import DashboardFilterForm
from engage.dashboard.pdf import PdfError
from engage.dashboard.pdf import report_pdf
from engage.dashboard.report import NO_EVIDENCE
from engage.dashboard.report import NO_FINDINGS
from engage.dashboard.report import BoardReport
from engage.dashboard.report import board_report_workbook
from engage.dashboard.report import build_board_report
from engage.dashboard.sections import Scope
from engage.edge import change
from engage.errors import ValidationError
from engage.extensions import db
from engage.extensions import limiter
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


def _quarter_scope(form: BoardReportForm | None = None) -> Scope:
    """The board report's quarter: the one chosen from the menu, else the current
    one (``form``, when given, says why the one asked for is not shown)."""
    today = clock.today()
    form = form or BoardReportForm(request.args, today=today)
    form.validate()
    chosen = None if form.quarter.errors else form.quarter.data
    return Scope(
        period=periods.parse_period("quarter", chosen, today=today),
        today=today,
        programme=_programme(id_or_none(request.args.get("programme"))),
        actor=current_user._get_current_object(),
        include_equality=current_user.is_admin,
        now=clock.utcnow(),
        purpose=Purpose.BOARD_REPORT,
    )


def _quarter_not_offered() -> ResponseReturnValue | None:
    """For a download of a quarter the menu does not offer (one still to come, or
    not a quarter): the report's page, which says so, rather than another quarter's
    file under a name that looks right."""
    form = BoardReportForm(request.args, today=clock.today())
    if "quarter" not in request.args or form.validate():
        return None
    asked: dict[str, Any] = request.args.to_dict()
    return redirect(url_for("dashboard.board_report", **asked), 303)


#: Who writes the board report's commentary: the leads who present it, and admins.
COMMENTATORS = (Role.LEAD, Role.ADMIN)


def _report_page(template: str, report: BoardReport, **context: object) -> str:
    return render_template(
        template,
        report=report,
        can_comment=current_user.has_role(*COMMENTATORS),
        no_findings=NO_FINDINGS,
        no_evidence=NO_EVIDENCE,
        **context,
    )


def _report_address(report: BoardReport) -> str:
    return url_for(
        "dashboard.board_report",
        quarter=report.period.value,
        programme=report.scope.programme_id,
    )


@bp.get("/board-report")
@roles_required(*READERS)
def board_report() -> ResponseReturnValue:
    form = BoardReportForm(request.args, today=clock.today())
    report = build_board_report(_quarter_scope(form))
    db.session.commit()
    form.quarter.data = report.period.value  # the quarter shown, if not the one asked
    return _report_page("dashboard/board_report.html", report, pdf=False, form=form)


#: Each PDF is made in a process of its own (up to 30 seconds): a few a minute each.
PDFS_PER_PERSON = "5 per minute"


@bp.get("/board-report.pdf")
@roles_required(*READERS)
@limiter.limit(PDFS_PER_PERSON, key_func=lambda: f"board-pdf:{current_user.id}")
def board_report_pdf() -> ResponseReturnValue:
    if (refused := _quarter_not_offered()) is not None:
        return refused
    report = build_board_report(_quarter_scope())
    db.session.commit()
    html = _report_page("dashboard/board_report_pdf.html", report, pdf=True)
    try:
        document = report_pdf(html)
    except PdfError as error:
        flash(error.message, "error")
        return redirect(_report_address(report))
    filename = f"engage-board-report-{report.period.value}.pdf"
    return Response(
        document,
        content_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


@bp.route("/board-report/commentary", methods=["GET", "POST"])
@roles_required(*COMMENTATORS)
def board_commentary() -> ResponseReturnValue:
    """Write, change or remove the commentary on a quarter's board report."""
    value = request.args.get("quarter")
    today = clock.today()
    try:
        period = (
            periods.parse_period("quarter", value, today=today)
            if value
            else periods.current(periods.PeriodKind.QUARTER, today)
        )
    except ValidationError:
        abort(404)
    programme_id = id_or_none(request.args.get("programme"))
    kept = commentary_for(period)
    form = CommentaryForm(data={"body": kept.body if kept else ""})
    if form.validate_on_submit():
        body = form.body.data or ""
        words = "Commentary saved." if body.strip() else "Commentary removed."
        with change(words, field=form.body) as done:
            save_commentary(period, body, actor=current_user, now=clock.utcnow())
        if done:
            address = url_for(
                "dashboard.board_report", quarter=period.value, programme=programme_id
            )
            return redirect(f"{address}#commentary")
    return render_template(
        "dashboard/commentary.html",
        form=form,
        period=period,
        programme_id=programme_id,
    )


@bp.get("/board-report.xlsx")
@roles_required(*READERS)
def board_report_xlsx() -> ResponseReturnValue:
    if (refused := _quarter_not_offered()) is not None:
        return refused
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
