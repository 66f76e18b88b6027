"""The invited person's private pages: reply, ask for support, add it to a calendar.

No sign-in: the signed token in the link names one invitation and grants only what
concerns it. A bad, altered or too-long token, or the link of someone who has left
the scheme or been erased, gets the same 404 page as any unknown address. The pages
are kept out of search engines and never pass their address on as a referrer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint
from flask import Response
from flask import abort
from flask import current_app
from flask import render_template
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from icalendar import STATUS
from icalendar import Calendar
from icalendar import Event

from engage.clock import to_local
from engage.clock import utcnow
from engage.edge import FORM_EXPIRED
from engage.edge import change
from engage.edge import form_token_expired
from engage.edge import refuse_tokenless_post
from engage.errors import EngageError
from engage.extensions import csrf
from engage.extensions import limiter
from engage.formtools import MultiCheckboxField
from engage.formtools import RadioField
from engage.formtools import choices
from engage.formtools import enum_parser
from engage.formtools import text
from engage.involvement import claims
from engage.involvement import replies
from engage.involvement.models import InvolvementActivity
from engage.involvement.models import InvolvementInvitation
from engage.involvement.models import InvolvementSession
from engage.involvement.models import Reply
from engage.involvement.tokens import invitation_from_token
from engage.membership.models import SupportNeed

bp = Blueprint("involvement_reply", __name__)

#: Replies and support requests sent per client (one person changes their mind a
#: few times; a script trying links is slowed down).
DEFAULT_LIMIT = "30 per hour"
#: Requests with a link that does not work, per client, on any of these pages.
DEFAULT_BAD_LINK_LIMIT = "60 per hour"
PRODID = "-//Engage//Involvement sessions//EN"

ANSWER_LABELS = {
    Reply.ATTENDING: "Yes, I am coming",
    Reply.MAYBE: "Maybe",
    Reply.NOT_ATTENDING: "No, I am not coming",
}


def _limit() -> str:
    return str(current_app.config.get("INVOLVEMENT_REPLY_LIMIT") or DEFAULT_LIMIT)


def _bad_link_limit() -> str:
    return str(
        current_app.config.get("INVOLVEMENT_BAD_LINK_LIMIT") or DEFAULT_BAD_LINK_LIMIT
    )


def _not_found(response: Response) -> bool:
    return response.status_code == 404


#: One budget for the forms sent on every private page.
post_limit = limiter.shared_limit(_limit, scope="involvement-reply", methods=["POST"])
#: One budget for links that do not work, so guessing is slow (good links are free).
bad_link_limit = limiter.shared_limit(
    _bad_link_limit, scope="involvement-bad-link", deduct_when=_not_found
)


@bp.after_request
def private_headers(response: Response) -> Response:
    """The token is in the address: no search engine, no referrer, no cache."""
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


class ReplyForm(FlaskForm):  # type: ignore[misc]
    """Coming, maybe or not coming."""

    answer = RadioField(
        "Are you coming?",
        parse=enum_parser(Reply),
        choices=choices(
            (answer.value, label) for answer, label in ANSWER_LABELS.items()
        ),
    )


class SupportForm(FlaskForm):  # type: ignore[misc]
    """The support someone needs at a session: boxes to tick and their own words."""

    needs = MultiCheckboxField(
        "What support do you need?",
        parse=enum_parser(SupportNeed),
        optional=True,
        description="Select all that apply.",
        choices=choices(
            (
                need.value,
                "Something else (tell us below)"
                if need == SupportNeed.OTHER
                else need.label,
            )
            for need in SupportNeed
        ),
    )
    words = text(
        "Tell us anything else we should know",
        max_length=replies.SUPPORT_WORDS_MAX,
        lines=True,
        description=(
            "For example, a hearing loop, a quiet room, or a carer coming with you. "
            f"Up to {replies.SUPPORT_WORDS_MAX:,} characters."
        ),
    )

    def validate(self, extra_validators: Any = None) -> bool:
        valid = bool(super().validate(extra_validators))
        said = (self.words.data or "").strip()
        if SupportNeed.OTHER in (self.needs.data or ()) and not said:
            self.words.errors = [
                *self.words.errors,
                "Tell us what other support you need",
            ]
            return False
        return valid


def invitation_or_404(token: str) -> InvolvementInvitation:
    """The invitation the link names, or the same 404 as any unknown address (a form
    sent to it without a valid token is a bad request, as for every state change)."""
    invitation = replies.usable(invitation_from_token(token))
    if invitation is None:
        refuse_tokenless_post()
        abort(404)
    return invitation


@dataclass(frozen=True)
class When:
    """A session's date and times in UK time, in words."""

    day: str
    times: str
    starts_at: datetime


def when(session: InvolvementSession) -> When:
    """``Tuesday 14 July 2026`` and ``2pm to 4pm`` (UK time)."""
    start, end = to_local(session.starts_at), to_local(session.ends_at)
    day = f"{start:%A} {start.day} {start:%B %Y}"
    times = f"{_clock(start)} to {_clock(end)}"
    if end.date() != start.date():
        times = f"{_clock(start)} to {end:%A} {end.day} {end:%B} at {_clock(end)}"
    return When(day=day, times=times, starts_at=session.starts_at)


def _clock(moment: datetime) -> str:
    if (moment.hour, moment.minute) == (12, 0):
        return "midday"
    if (moment.hour, moment.minute) == (0, 0):
        return "midnight"
    return moment.strftime("%-I:%M%p").lower().replace(":00", "")


def _access_words(activity: InvolvementActivity) -> list[str]:
    """The venue's accessibility, as sentences."""
    words = []
    if activity.step_free is True:
        words.append("There is step-free access.")
    elif activity.step_free is False:
        words.append("There is no step-free access.")
    if activity.hearing_loop is True:
        words.append("There is a hearing loop.")
    elif activity.hearing_loop is False:
        words.append("There is no hearing loop.")
    if activity.parking:
        words.append(f"Parking: {activity.parking}")
    if activity.public_transport:
        words.append(f"Public transport: {activity.public_transport}")
    return words


def safe_link(link: str) -> str:
    """The link if it is a web address (http or https), else nothing to show."""
    link = (link or "").strip()
    return link if urlsplit(link).scheme.lower() in ("http", "https") else ""


def _support_offered(activity: InvolvementActivity) -> list[str]:
    offered = []
    if activity.offers_interpreters:
        offered.append("Interpreters for other languages")
    if activity.offers_bsl:
        offered.append("British Sign Language (BSL) interpreters")
    if activity.offers_travel:
        offered.append("We pay your travel costs")
    if activity.offers_carers:
        offered.append("We pay for a carer to come with you")
    return offered


def _page(
    invitation: InvolvementInvitation,
    form: ReplyForm,
    token: str,
    *,
    saved: bool = False,
    problem: str | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    session = invitation.session
    activity = session.activity
    now = utcnow()
    body = render_template(
        "involvement/reply/invitation.html",
        invitation=invitation,
        session=session,
        activity=activity,
        when=when(session),
        access=_access_words(activity),
        offered=_support_offered(activity),
        closed=replies.closed_reason(session, now),
        cancelled=replies.is_cancelled(session),
        position=replies.waiting_position(invitation),
        coming=invitation.reply == Reply.ATTENDING,
        # Once the session has begun, the page leads to the claim for it.
        can_claim=claims.claim_problem(session, now) is None,
        online_link=safe_link(activity.online_link),
        form=form,
        token=token,
        saved=saved,
        problem=problem,
    )
    return body, status


# The reply and support forms check their own token, as joining does: an expired one
# sends the page back with the answers instead of an error page that loses them.
@bp.route("/i/<token>", methods=["GET", "POST"])
@csrf.exempt
@bad_link_limit
@post_limit
def invitation(token: str) -> ResponseReturnValue:
    found = invitation_or_404(token)
    form = ReplyForm()
    problem = None
    if form.validate_on_submit():

        def refused(error: EngageError) -> None:
            nonlocal problem
            problem = error.message

        with change(on_error=refused) as done:
            replies.reply(found, form.answer.data, utcnow())
        if done:
            return _page(found, ReplyForm(formdata=None), token, saved=True)
        found = invitation_or_404(token)
        return _page(found, form, token, problem=problem, status=400)
    if form.is_submitted():
        expired = FORM_EXPIRED if form_token_expired(form) else None
        return _page(found, form, token, problem=expired, status=400)
    form = ReplyForm(formdata=None)
    if found.reply in ANSWER_LABELS:
        form.answer.data = found.reply
    elif found.reply == Reply.WAITING:
        form.answer.data = Reply.ATTENDING
    return _page(found, form, token)


@bp.route("/i/<token>/support", methods=["GET", "POST"])
@csrf.exempt
@bad_link_limit
@post_limit
def support(token: str) -> ResponseReturnValue:
    found = invitation_or_404(token)
    form = SupportForm()
    problem = None
    saved = False
    status = 200
    if form.validate_on_submit():

        def refused(error: EngageError) -> None:
            nonlocal problem
            problem = error.message

        with change(on_error=refused) as done:
            replies.request_support(
                found, list(form.needs.data or ()), form.words.data or "", utcnow()
            )
        saved = bool(done)
        if saved:
            form = SupportForm(formdata=None)
        else:
            found = invitation_or_404(token)
            status = 400
    elif form.is_submitted():
        status = 400
        problem = FORM_EXPIRED if form_token_expired(form) else None
    session = found.session
    body = render_template(
        "involvement/reply/support.html",
        invitation=found,
        activity=session.activity,
        when=when(session),
        closed=replies.closed_reason(session, utcnow()),
        form=form,
        token=token,
        saved=saved,
        problem=problem,
    )
    return body, status


@bp.get("/i/<token>/calendar.ics")
@bad_link_limit
def calendar(token: str) -> ResponseReturnValue:
    found = invitation_or_404(token)
    ics = build_event(found, page_url=_external("involvement_reply.invitation", token))
    response = Response(ics, mimetype="text/calendar")
    response.headers["Content-Disposition"] = (
        'attachment; filename="involvement-session.ics"'
    )
    return response


def _external(endpoint: str, token: str) -> str:
    base = str(current_app.config["BASE_URL"]).rstrip("/")
    return base + url_for(endpoint, token=token)


def build_event(invitation: InvolvementInvitation, *, page_url: str) -> bytes:
    """The invitation's session as an iCalendar (RFC 5545) file with one event.

    Its UID is the session's, so a calendar updates the event when the file is added
    again after a change; a cancelled session is STATUS:CANCELLED. Times are in the
    Europe/London zone (with its VTIMEZONE). The joining link is included only for
    someone coming.
    """
    session = invitation.session
    activity = session.activity
    domain = urlsplit(page_url).hostname or "engage"
    cancelled = replies.is_cancelled(session)
    lines = [activity.kind.label]
    if activity.purpose:
        lines += ["", activity.purpose]
    online = safe_link(activity.online_link)
    if invitation.reply == Reply.ATTENDING and online:
        lines += ["", f"Join online: {online}"]
    if cancelled and activity.cancel_reason:
        lines += ["", f"Cancelled: {activity.cancel_reason}"]
    lines += ["", f"Your invitation: {page_url}"]
    place = [activity.venue_name, *activity.venue_address.splitlines()]
    location = ", ".join(part.strip() for part in place if part.strip())
    if not location and activity.online_link:
        location = "Online"
    changes = [m for m in (session.changed_at, session.cancelled_at) if m is not None]
    if activity.cancelled_at is not None and cancelled:
        changes.append(activity.cancelled_at)
    event = Event.new(
        uid=f"involvement-session-{session.id}@{domain}",
        summary=("Cancelled: " if cancelled else "") + activity.title,
        start=to_local(session.starts_at),
        end=to_local(session.ends_at),
        stamp=utcnow(),
        description="\n".join(lines),
        location=location or None,
        url=page_url,
        status=STATUS.CANCELLED if cancelled else STATUS.CONFIRMED,
        # A newer SEQUENCE after each change, so calendars take the update.
        sequence=int(max(changes).timestamp() // 60) if changes else 0,
    )
    calendar = Calendar.new(prodid=PRODID)
    calendar.add_component(event)
    calendar.add_missing_timezones()
    ics: bytes = calendar.to_ical()
    return ics
