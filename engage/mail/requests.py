"""E-mails asked for by address (a password reset, a manage link), prepared later.

The public forms that send a link "if the address is known" must answer known and
unknown addresses alike, in time too. So the request only records what was asked
(``request_mail``: one row, whatever the address) and commits; after the commit a
background thread, or failing that the ``deliver-mail`` job, claims the row and
calls the feature's service, which looks the address up and, if it is someone's,
makes the token and writes the e-mail. Handlers are named, as jobs are, so this
module imports no feature.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import delete, event, select
from sqlalchemy.orm import Session, SessionTransaction

from engage.clock import utcnow
from engage.extensions import db
from engage.mail.models import MailRequest
from engage.mail.services import deliver_queued, track_thread

log = logging.getLogger(__name__)

#: What may be asked for, and the service (``module:function``, called with the
#: address and ``now``) that decides whether to send it and writes it.
HANDLERS = {
    "password-reset": "engage.accounts.services:request_password_reset",
    "manage-link": "engage.membership.registration:request_manage_link",
}
_PENDING_KEY = "engage_pending_mail_requests"


def request_mail(kind: str, address: str, *, now: datetime) -> None:
    """Ask for the e-mail ``kind`` to ``address``, prepared after the commit."""
    if kind not in HANDLERS:
        raise ValueError(f"unknown kind of e-mail request: {kind!r}")
    request = MailRequest(kind=kind, address=address[:254], created_at=now)
    db.session.add(request)
    db.session.info.setdefault(_PENDING_KEY, []).append(request)


def _handler(kind: str) -> Callable[..., Any]:
    module, _, name = HANDLERS[kind].partition(":")
    handler: Callable[..., Any] = getattr(importlib.import_module(module), name)
    return handler


def prepare_request(request_id: int, *, now: datetime) -> bool:
    """Claim one request and let its service write the e-mail; False if taken.

    The claim (deleting the row) and the service's writes commit together, so a
    failure leaves the request for the next try and two workers never both send.
    """
    claimed = db.session.execute(
        delete(MailRequest)
        .where(MailRequest.id == request_id)
        .returning(MailRequest.kind, MailRequest.address)
    ).first()
    if claimed is None:
        db.session.rollback()
        return False
    _handler(claimed.kind)(claimed.address, now=now)
    db.session.commit()
    return True


def prepare_requested(*, now: datetime) -> int:
    """Prepare every request still waiting (the ``deliver-mail`` job); how many."""
    waiting = list(db.session.scalars(select(MailRequest.id).order_by(MailRequest.id)))
    db.session.commit()
    return sum(prepare_request(request_id, now=now) for request_id in waiting)


def prepare_and_deliver(*, now: datetime) -> dict[str, int]:
    """Prepare requested e-mails, then send those due (the ``deliver-mail`` job)."""
    prepared = prepare_requested(now=now)
    return {"prepared": prepared, **deliver_queued(now=now)}


def _prepare_in_background(app: Flask, request_ids: list[int]) -> None:
    with app.app_context():
        for request_id in request_ids:
            try:
                prepare_request(request_id, now=utcnow())
            except Exception:  # the deliver-mail job will try again
                db.session.rollback()
                log.exception("preparing a requested e-mail failed")
        db.session.remove()


@event.listens_for(Session, "after_commit")
def _prepare_after_commit(session: Session) -> None:
    pending: list[MailRequest] = session.info.pop(_PENDING_KEY, [])
    ids = [r.id for r in pending if r.id is not None]
    if not ids or not has_app_context():
        return  # without an app the deliver-mail job prepares them
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    track_thread(
        threading.Thread(
            target=_prepare_in_background, args=(app, ids), name="engage-mail-request"
        )
    )


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_rollback(
    session: Session, previous_transaction: SessionTransaction
) -> None:
    if previous_transaction.parent is None:  # the whole unit of work, not a savepoint
        session.info.pop(_PENDING_KEY, None)
