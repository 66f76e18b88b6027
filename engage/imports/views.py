"""Import and export views: upload, preview and confirm; CSV and XLSX downloads."""

from __future__ import annotations

from flask import Blueprint
from flask import Response
from flask import flash
from flask import redirect
from flask import render_template
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from engage.accounts.access import EDITORS
from engage.accounts.access import READERS
from engage.accounts.access import roles_required
from engage.clock import utcnow
from engage.edge import change
from engage.extensions import db
from engage.imports import models  # noqa: F401 - registers the tables
from engage.imports import services
from engage.imports.forms import UploadForm

bp = Blueprint("imports", __name__)

KIND = f"<any({','.join(services.KINDS)}):kind>"


@bp.route(f"/{KIND}/import", methods=["GET", "POST"])
@roles_required(*EDITORS)
def upload(kind: str) -> ResponseReturnValue:
    spec = services.get_kind(kind)
    form = UploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        preview, pending = services.prepare_import(
            kind,
            upload.filename or "",
            upload.read(),
            actor=current_user._get_current_object(),
            now=utcnow(),
        )
        db.session.commit()
        if preview.file_error is None:
            return render_template(
                "imports/preview.html", kind=spec, preview=preview, pending=pending
            )
        form.file.errors.append(preview.file_error)
    return render_template("imports/upload.html", kind=spec, form=form)


@bp.post(f"/{KIND}/import/<int:pending_id>")
@roles_required(*EDITORS)
def confirm(kind: str, pending_id: int) -> ResponseReturnValue:
    user = current_user._get_current_object()
    pending = services.get_pending_import(
        pending_id, kind=kind, user=user, now=utcnow()
    )
    with change() as done:
        preview = services.confirm_import(pending, actor=user, now=utcnow())
    if not done:
        return redirect(url_for("imports.upload", kind=kind))
    flash(f"Import finished: {preview.summary()}.", "success")
    spec = services.get_kind(kind)
    return redirect(url_for(spec.index_endpoint or f"{kind}.index"))


@bp.get(f"/{KIND}/export.<any(csv,xlsx):fmt>")
@roles_required(*READERS)
def export(kind: str, fmt: str) -> ResponseReturnValue:
    exported = services.export_table(
        kind, fmt, actor=current_user._get_current_object(), now=utcnow()
    )
    db.session.commit()
    return Response(
        exported.content,
        content_type=exported.mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{exported.filename}"',
            "Cache-Control": "no-store",
        },
    )
