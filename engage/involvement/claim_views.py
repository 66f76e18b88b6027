"""Expense claim pages: the member's claim through their private link, the staff
list, detail, decision, entry and export for finance, and the levels and mileage
rate under Administration."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from flask import Blueprint
from flask import Response
from flask import abort
from flask import current_app
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select

from engage.accounts.access import ADMINS
from engage.accounts.access import EDITORS
from engage.accounts.access import READERS
from engage.accounts.access import roles_required
from engage.accounts.models import User
from engage.audit.services import record_event
from engage.clock import utcnow
from engage.edge import change
from engage.errors import EngageError
from engage.extensions import db
from engage.extensions import limiter
from engage.formtools import choices
from engage.imports.tabular import mimetype
from engage.involvement import claims
from engage.involvement import rates
from engage.involvement.claim_forms import ClaimFilterForm
from engage.involvement.claim_forms import ClaimForm
from engage.involvement.claim_forms import DecisionForm
from engage.involvement.claim_forms import ExportForm
from engage.involvement.claim_forms import MileageForm
from engage.involvement.claim_forms import RateForm
from engage.involvement.claim_forms import StaffClaimForm
from engage.involvement.models import Attendance
from engage.involvement.models import ClaimReceipt
from engage.involvement.models import ClaimStatus
from engage.involvement.models import ExpenseClaim
from engage.involvement.models import InvolvementActivity
from engage.involvement.models import InvolvementInvitation
from engage.involvement.models import InvolvementRate
from engage.involvement.models import InvolvementSession
from engage.involvement.panels import panel
from engage.involvement.reply_views import bad_link_limit
from engage.involvement.reply_views import invitation_or_404
from engage.involvement.reply_views import private_headers
from engage.membership.models import Member
from engage.paging import keyset_page
from engage.templating import format_datetime

bp = Blueprint("involvement_claims", __name__, url_prefix="/involvement")
public_bp = Blueprint("involvement_claims_public", __name__)
# The claim page is one of the invitation's private pages: the same headers.
public_bp.after_request(private_headers)
rates_bp = Blueprint("involvement_rates", __name__)

PER_PAGE = 25


@bp.app_template_filter("pounds")
def _pounds(pence: int | None) -> str:
    return claims.pounds(pence)


def _form_limit() -> str:
    return str(current_app.config["PUBLIC_FORM_LIMIT"])


def _fill(form: ClaimForm, claim: ExpenseClaim | None) -> None:
    """Show a claim's figures in the form (when it is opened to be changed)."""
    if claim is None:
        return
    form.miles.typed = f"{Decimal(str(claim.miles or 0)):.1f}" if claim.miles else ""
    form.fares.data = claim.fares_pence
    form.carer.data = claim.carer_pence
    form.details.data = claim.details
    rate = claim.session.activity.rate
    form.expenses_only.data = bool(rate and rate.session_pence) and not (
        claim.payment_pence
    )


def _submit(
    form: ClaimForm,
    who: InvolvementInvitation | Member,
    session: InvolvementSession,
    entered_by: Any,
) -> tuple[ExpenseClaim | None, str | None]:
    """Read the receipts and submit the claim; the claim, or the refusal in words."""
    refusal: list[str] = []

    def refuse(error: EngageError) -> None:
        refusal.append(error.message)

    made: ExpenseClaim | None = None
    with change(on_error=refuse) as done:
        receipts = claims.read_receipts(form.uploads)
        made = claims.submit_claim(
            who,
            session,
            miles=form.miles.data or Decimal(0),
            fares_pence=form.fares.data or 0,
            carer_pence=form.carer.data or 0,
            details=form.details.data or "",
            receipts=receipts,
            entered_by=entered_by,
            now=utcnow(),
            remove_receipt_ids=list(form.remove_receipts.data or ()),
            payment_wanted=not form.expenses_only.data,
        )
    return (made if done else None), (refusal[0] if refusal else None)


# The member's claim, through their private link ---------------------------------------


@public_bp.route("/i/<token>/claim", methods=["GET", "POST"])
@bad_link_limit
@limiter.limit(_form_limit, methods=["POST"])
def claim(token: str) -> ResponseReturnValue:
    invitation = invitation_or_404(token)
    if invitation.member_id is None:
        abort(404)
    session = invitation.session
    existing = claims.claim_for(invitation.member_id, session.id)
    problem = claims.claim_problem(session, utcnow())
    open_to_change = problem is None and (
        existing is None or existing.status == ClaimStatus.SUBMITTED
    )
    form = ClaimForm()
    form.set_receipts(existing.receipts if existing else [])
    if not form.is_submitted():
        _fill(form, existing)
    refusal = None
    if open_to_change and form.validate_on_submit():
        made, refusal = _submit(form, invitation, session, None)
        if made is not None:
            return redirect(url_for(".claim", token=token, sent=1))
    return render_template(
        "involvement/claims/member_claim.html",
        form=form,
        invitation=invitation,
        session=session,
        activity=session.activity,
        claim=existing,
        problem=problem,
        open_to_change=open_to_change,
        refusal=refusal,
        sent=request.args.get("sent") == "1" and existing is not None,
        mileage_rate=rates.mileage_pence_per_mile(),
    )


# Staff: the list, a claim, the decision, a receipt ------------------------------------


@bp.get("/claims")
@roles_required(*READERS)
def index() -> ResponseReturnValue:
    form = ClaimFilterForm(request.args)
    form.validate()
    query = select(ExpenseClaim).options(*claims.WITH_PEOPLE)
    if form.status.data is not None:
        query = query.where(ExpenseClaim.status == form.status.data)
    page = keyset_page(query, claims.NEWEST_FIRST, per_page=PER_PAGE)
    return render_template(
        "involvement/claims/index.html",
        form=form,
        page=page,
        submitted=claims.count_by_status().get(ClaimStatus.SUBMITTED, 0),
        waiting=len(claims.waiting_for_export()),
    )


def _claim_or_404(claim_id: int) -> ExpenseClaim:
    found = db.session.get(ExpenseClaim, claim_id)
    if found is None:
        abort(404)
    return found


def _detail(
    claim: ExpenseClaim, form: DecisionForm, status: int = 200
) -> tuple[str, int]:
    attended = db.session.scalar(
        select(Attendance.id).where(
            Attendance.session_id == claim.session_id,
            Attendance.member_id == claim.member_id,
        )
    )
    invitation = db.session.scalar(
        select(InvolvementInvitation).where(
            InvolvementInvitation.session_id == claim.session_id,
            InvolvementInvitation.member_id == claim.member_id,
        )
    )
    page = render_template(
        "involvement/claims/detail.html",
        claim=claim,
        form=form,
        attended=attended is not None,
        invitation=invitation,
        people=_people(claim),
    )
    return page, status


def _people(claim: ExpenseClaim) -> dict[str, str]:
    ids = {claim.entered_by_id, claim.decided_by_id} - {None}
    users = db.session.scalars(select(User).where(User.id.in_(ids))).all()
    names = {user.id: user.name for user in users}
    return {
        "entered_by": names.get(claim.entered_by_id or 0, ""),
        "decided_by": names.get(claim.decided_by_id or 0, ""),
    }


@bp.get("/claims/<int:claim_id>")
@roles_required(*READERS)
def detail(claim_id: int) -> ResponseReturnValue:
    return _detail(_claim_or_404(claim_id), DecisionForm(formdata=None))


@bp.post("/claims/<int:claim_id>/decision")
@roles_required(*EDITORS)
def decide(claim_id: int) -> ResponseReturnValue:
    found = _claim_or_404(claim_id)
    form = DecisionForm()
    if form.validate_on_submit():
        approve = form.decision.data == "approve"
        with change(
            "Claim approved." if approve else "Claim marked as not approved.",
            field=form.note if not approve else form.decision,
        ) as done:
            claims.decide(
                found,
                approve=approve,
                note=form.note.data or "",
                by=current_user,
                now=utcnow(),
            )
        if done:
            return redirect(url_for(".detail", claim_id=found.id))
    if not form.decision.errors and form.decision.data is None:
        form.decision.errors = ["Choose whether to approve the claim"]
    return _detail(found, form, status=400)


@bp.get("/claims/<int:claim_id>/receipts/<int:receipt_id>")
@roles_required(*EDITORS)
def receipt(claim_id: int, receipt_id: int) -> ResponseReturnValue:
    found = db.session.get(ClaimReceipt, receipt_id)
    if found is None or found.claim_id != claim_id:
        abort(404)
    with change(catch=()):
        record_event(
            current_user,
            "view",
            "member",
            found.claim.member_id,
            f"receipt downloaded from expense claim {claim_id}",
        )
    response = Response(found.data, mimetype=found.content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{found.filename}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response


# Staff: entering a claim for a member -------------------------------------------------


@bp.route(
    "/<int:activity_id>/sessions/<int:session_id>/claims/new",
    methods=["GET", "POST"],
)
@roles_required(*EDITORS)
def new_claim(activity_id: int, session_id: int) -> ResponseReturnValue:
    session = db.session.get(InvolvementSession, session_id)
    if session is None or session.activity_id != activity_id:
        abort(404)
    members = claims.claimable_members(session)
    form = StaffClaimForm()
    form.set_members(members)
    form.set_receipts([])
    problem = claims.claim_problem(session, utcnow())
    refusal = None
    if problem is None and members and form.validate_on_submit():
        member = db.session.get(Member, form.member.data)
        if member is None:  # erased since the page was shown
            abort(404)
        made, refusal = _submit(form, member, session, current_user)
        if made is not None:
            return redirect(url_for(".detail", claim_id=made.id))
    elif form.is_submitted() and form.member.data is None and not form.member.errors:
        form.member.errors = ["Choose the member the claim is for"]
    return render_template(
        "involvement/claims/staff_form.html",
        form=form,
        session=session,
        activity=session.activity,
        members=members,
        problem=problem,
        refusal=refusal,
        mileage_rate=rates.mileage_pence_per_mile(),
    )


# Staff: the export for finance --------------------------------------------------------

_WAITING = "waiting"


def _batch_key(at: datetime) -> str:
    return at.strftime("%Y%m%d%H%M%S%f")


@bp.route("/claims/export", methods=["GET", "POST"])
@roles_required(*EDITORS)
def export() -> ResponseReturnValue:
    waiting = claims.waiting_for_export()
    past = claims.past_exports()
    batches = {_batch_key(p.exported_at): p for p in past}
    form = ExportForm()
    options: list[tuple[str, str]] = [
        (
            _WAITING,
            f"Approved claims not yet sent to finance ({len(waiting)}, "
            f"{claims.pounds(sum(c.total_pence for c in waiting))})",
        )
    ]
    options += [
        (key, f"Sent {_when(p.exported_at)}: again ({p.count} claims)")
        for key, p in batches.items()
    ]
    form.batch.choices = choices(options)
    if not form.is_submitted():
        form.batch.data = _WAITING
    if form.validate_on_submit():
        chosen = form.batch.data
        made: list[claims.Export] = []
        with change(field=form.batch) as done:
            if chosen == _WAITING:
                made.append(
                    claims.export_for_finance(
                        form.fmt.data, by=current_user, now=utcnow()
                    )
                )
            else:
                made.append(
                    claims.export_again(
                        batches[chosen].exported_at, form.fmt.data, by=current_user
                    )
                )
        if done:
            exported = made[0]
            response = Response(exported.content, mimetype=mimetype(form.fmt.data))
            response.headers["Content-Disposition"] = (
                f'attachment; filename="{exported.filename}"'
            )
            response.headers["Cache-Control"] = "no-store"
            return response
    return render_template(
        "involvement/claims/export.html", form=form, waiting=waiting, past=past
    )


def _when(moment: datetime) -> str:
    return format_datetime(moment)


# Sections of the activity page --------------------------------------------------------


@panel("involvement/_claims_panel.html", order=40)
def _claims_panel(activity: InvolvementActivity) -> dict[str, Any] | None:
    now = utcnow()
    started = [
        s for s in activity.sessions if s.starts_at <= now and s.cancelled_at is None
    ]
    totals = claims.totals_for_activity(activity.id)
    if not started and not totals:
        return None
    return {
        "claims_activity": activity,
        "claims_totals": totals,
        "claims_sessions": started,
    }


# Administration: the levels and the mileage rate --------------------------------------


@rates_bp.route("/admin/involvement-rates", methods=["GET", "POST"])
@roles_required(*ADMINS)
def rates_index() -> ResponseReturnValue:
    current = rates.mileage_pence_per_mile()
    form = MileageForm(data={"pence": current})
    if form.validate_on_submit():
        with change("Mileage rate saved.", field=form.pence) as done:
            rates.set_mileage_rate(form.pence.data, actor=current_user, now=utcnow())
        if done:
            return redirect(url_for(".rates_index"))
    return render_template(
        "involvement/rates.html", form=form, levels=rates.list_rates()
    )


@rates_bp.route("/admin/involvement-rates/new", methods=["GET", "POST"])
@roles_required(*ADMINS)
def new_rate() -> ResponseReturnValue:
    return _rate_form(None)


@rates_bp.route("/admin/involvement-rates/<int:rate_id>", methods=["GET", "POST"])
@roles_required(*ADMINS)
def edit_rate(rate_id: int) -> ResponseReturnValue:
    found = db.session.get(InvolvementRate, rate_id)
    if found is None:
        abort(404)
    return _rate_form(found)


def _rate_form(rate: InvolvementRate | None) -> ResponseReturnValue:
    form = RateForm(
        data=(
            {
                "name": rate.name,
                "description": rate.description,
                "session_pounds": rate.session_pence,
                "is_active": rate.is_active,
            }
            if rate is not None
            else {"is_active": True, "session_pounds": 0}
        )
    )
    if form.validate_on_submit():
        with change("Involvement level saved.", field=form.name) as done:
            rates.save_rate(
                rate,
                name=form.name.data,
                description=form.description.data or "",
                session_pence=form.session_pounds.data or 0,
                is_active=bool(form.is_active.data),
                actor=current_user,
                now=utcnow(),
            )
        if done:
            return redirect(url_for(".rates_index"))
    return render_template("involvement/rate_form.html", form=form, rate=rate)
