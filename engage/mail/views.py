"""Outbox views: administrators read the emails kept when no SMTP server is set."""

from __future__ import annotations

from flask import Blueprint
from flask import current_app
from flask import render_template
from flask.typing import ResponseReturnValue

from engage.accounts.access import ADMINS
from engage.accounts.access import roles_required
from engage.extensions import db
from engage.mail import services
from engage.mail.models import OutboxMessage

bp = Blueprint("mail", __name__, url_prefix="/admin/outbox")


@bp.get("/")
@roles_required(*ADMINS)
def index() -> ResponseReturnValue:
    return render_template(
        "mail/index.html",
        messages=services.list_outbox(),
        smtp_configured=bool(current_app.config.get("SMTP_URL")),
    )


@bp.get("/<int:message_id>")
@roles_required(*ADMINS)
def detail(message_id: int) -> ResponseReturnValue:
    return render_template(
        "mail/detail.html", message=db.get_or_404(OutboxMessage, message_id)
    )
