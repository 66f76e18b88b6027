"""Letter views for staff: a mailing's letters by format, their PDF batches, the post
list, and marking a batch as posted."""

from __future__ import annotations

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

from engage.accounts.access import EDITORS
from engage.accounts.access import roles_required
from engage.clock import utcnow
from engage.edge import change
from engage.errors import NotFound
from engage.extensions import limiter
from engage.formtools import parse_id
from engage.mailings import letters
from engage.mailings.letters import LetterFormat
from engage.mailings.models import Mailing
from engage.pdf import PdfError

bp = Blueprint("mailing_letters", __name__, url_prefix="/mailings")

#: Each PDF is made in a process of its own (up to two minutes): a few a minute each.
PDFS_PER_PERSON = "5 per minute"
_FORMATS = {fmt.value: fmt for fmt in letters.PRINTED_FORMATS}


@bp.app_context_processor
def _panel_helpers() -> dict[str, object]:
    """The letters panel on a mailing's page counts the letters waiting."""
    return {"mailing_letters_waiting": letters.letters_waiting}


def _mailing(mailing_id: int) -> Mailing:
    try:
        return letters.get_mailing(mailing_id)
    except NotFound:
        abort(404)


def _batch(values: dict[str, str]) -> tuple[LetterFormat, int, int]:
    """The format and first and last ids a link or form names; 404 if not valid."""
    fmt = _FORMATS.get(values.get("format", ""))
    try:
        first, last = parse_id(values.get("first")), parse_id(values.get("last"))
    except ValueError:
        abort(404)
    if fmt is None or first is None or last is None or first > last:
        abort(404)
    return fmt, first, last


def _letters_page(mailing: Mailing) -> str:
    return url_for("mailing_letters.letters_page", mailing_id=mailing.id)


@bp.get("/<int:mailing_id>/letters")
@roles_required(*EDITORS)
def letters_page(mailing_id: int) -> ResponseReturnValue:
    mailing = _mailing(mailing_id)
    summary = letters.letter_summary(mailing)
    return render_template(
        "mailings/letters.html",
        mailing=mailing,
        summary=summary,
        formats=list(LetterFormat),
        batch_size=letters.BATCH_SIZE,
    )


@bp.get("/<int:mailing_id>/letters.pdf")
@roles_required(*EDITORS)
@limiter.limit(PDFS_PER_PERSON, key_func=lambda: f"letters-pdf:{current_user.id}")
def letters_pdf(mailing_id: int) -> ResponseReturnValue:
    mailing = _mailing(mailing_id)
    fmt, first, last = _batch(request.args)
    # A batch that is no longer there is a 404 (the error page); a PDF that cannot
    # be made, or a batch nobody in it can be sent, goes back with the reason.
    with change(catch=(PdfError, letters.NothingToPrint)) as done:
        document, _ = letters.letters_pdf(
            mailing,
            fmt,
            first,
            last,
            actor=current_user._get_current_object(),
            now=utcnow(),
        )
    if not done:
        return redirect(_letters_page(mailing))
    filename = f"letters-mailing-{mailing.id}-{fmt.value.replace('_', '-')}-{first}.pdf"
    return Response(
        document,
        content_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


@bp.get("/<int:mailing_id>/post-list.<any(csv,xlsx):fmt>")
@roles_required(*EDITORS)
def post_list(mailing_id: int, fmt: str) -> ResponseReturnValue:
    mailing = _mailing(mailing_id)
    with change(catch=()):
        exported = letters.post_list(
            mailing, fmt, actor=current_user._get_current_object(), now=utcnow()
        )
    return Response(
        exported.content,
        content_type=exported.mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{exported.filename}"',
            "Cache-Control": "no-store",
        },
    )


@bp.post("/<int:mailing_id>/letters/posted")
@roles_required(*EDITORS)
def mark_posted(mailing_id: int) -> ResponseReturnValue:
    mailing = _mailing(mailing_id)
    fmt, first, last = _batch(request.form)
    with change() as done:
        posted = letters.mark_posted(
            mailing,
            fmt,
            first,
            last,
            actor=current_user._get_current_object(),
            now=utcnow(),
        )
    if done:
        if posted.printed or posted.not_sent:
            message = f"{_letters(posted.printed)} marked as printed for post."
            if posted.not_sent:
                message += (
                    f" {_letters(posted.not_sent)} not sent: the member can no "
                    "longer be written to."
                )
            flash(message, "success")
        else:
            flash("This batch was already marked as posted.", "success")
    return redirect(_letters_page(mailing))


def _letters(count: int) -> str:
    return "1 letter" if count == 1 else f"{count:,} letters"
