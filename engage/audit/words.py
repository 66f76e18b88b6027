"""The audit log in plain words: who did what to which record, with a link to it.

Each event becomes a sentence such as "Priya Shah changed Dr Ahmed's reach report
emails to on". The record's name is looked up now (so a renamed action shows its
current title) and linked only when the person reading may open that page; a record
that no longer exists, and an erased member, are named without a link.
"""

from __future__ import annotations

import importlib
import re
from collections import defaultdict
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from typing import Any

from flask import url_for
from sqlalchemy import select

from engage.accounts.models import ADMINS
from engage.accounts.models import EDITORS
from engage.accounts.models import READERS
from engage.accounts.models import Role
from engage.audit.models import AuditEvent
from engage.extensions import db
from engage.templating import format_date
from engage.templating import format_datetime


@dataclass(frozen=True)
class Sentence:
    """One event in words: ``actor`` ``verb`` ``record`` ``detail``.

    ``url`` is the record's page when the reader may open it, else None.
    """

    actor: str
    verb: str
    record: str = ""
    url: str | None = None
    detail: str = ""

    @property
    def text(self) -> str:
        """The whole sentence as plain text (for downloads and tests)."""
        words = " ".join(part for part in (self.actor, self.verb, self.record) if part)
        return words + self.detail


#: What each action did, as a verb phrase that reads before the record's name.
VERBS: dict[str, str] = {
    "create": "added",
    "update": "changed",
    "save": "saved",
    "delete": "deleted",
    "archive": "archived",
    "restore": "restored",
    "erase": "erased",
    "export": "downloaded",
    "import": "imported",
    "view": "viewed",
    "file": "filed",
    "dismiss": "dismissed",
    "drop": "dropped",
    "reopen": "reopened",
    "deliver": "logged a delivery of",
    "status": "changed the status of",
    "observe": "recorded a figure for",
    "send": "sent",
    "revoke": "stopped",
    "open": "opened",
    "close": "closed",
    "complete": "completed",
    "invite": "invited members to",
    "remind": "sent reminders for",
    "publish": "published the \u201cyou said, we did\u201d page of",
    "unpublish": "took down the \u201cyou said, we did\u201d page of",
    "tone": "set the tone of",
    "override": "set a programme's approach for",
    "override_removed": "removed a programme's approach from",
    "login": "signed in",
    "logout": "signed out",
    "login_failed": "failed to sign in as",
    "login_password": "entered the password of",  # nosec B105 - words, not a password
    "login_code_failed": "entered a wrong code for",
    "password_change": "changed the password of",  # nosec B105 - words, not a password
    "password_link": "sent a password link to",  # nosec B105 - words, not a password
    "password_set": "set the password of",  # nosec B105 - words, not a password
    "two_factor_enabled": "turned on two-factor sign-in for",
    "two_factor_disabled": "turned off two-factor sign-in for",
    "two_factor_reset": "reset two-factor sign-in for",
    "recovery_codes_regenerated": "made new recovery codes for",
    "recovery_code_used": "used a recovery code for",
    "register": "registered",
    "register_again": "tried to join again as",
    "confirm": "confirmed the email address of",
    "equality_answers": "saved equality answers for",
    "manage_link": "asked for a manage link for",
    "self_service_update": "updated the details of",
    "email_change_request": "asked to change the email address of",
    "withdraw": "withdrew",
    "retention": "erased withdrawn",
    "purge_unconfirmed": "deleted unconfirmed",
    "request_job_run": "asked to run",
    "breach.recorded": "recorded",
    "breach.updated": "changed",
    "notice.publish": "published",
    "organisation.update": "changed",
    "test_send": "emailed themselves a test copy of",
    "board_commentary.save": "saved the commentary on",
    "board_commentary.remove": "removed the commentary on",
    "publish_mailing": "published on the web",
    "lift_suppression": "took off the do-not-send list",
    "unpublish_mailing": "took off the web",
    "schedule_mailing": "scheduled",
    "record_outcome": "recorded what was heard and what changed at",
    "send_mailing": "started sending",
    "mailing_sent": "finished sending",
    "pause_mailing": "paused",
    "resume_mailing": "resumed",
    "cancel_mailing": "cancelled",
    "cancel": "cancelled",
    "cancel_session": "cancelled a session of",
    "letters_posted": "marked as posted the letters of",
    "unsubscribe": "unsubscribed",
    "bounce": "recorded an undeliverable address for",
    "complaint": "recorded a spam complaint from",
    "support_request": "asked for support through",
    "record_attendance": "recorded who came to",
    "add_attendance": "added someone who came to",
    "remove_attendance": "took someone off",
    "search_members": "searched members by name for",
    "approve_claim": "approved",
    "reject_claim": "did not approve",
    "add_session": "added a session to",
    "move_session": "moved a session of",
    "remove_session": "removed a session from",
}

#: How the filter menu names each action, where the verb alone would not say.
ACTION_NAMES: dict[str, str] = {
    "board_commentary.save": "Saved board report commentary",
    "board_commentary.remove": "Removed board report commentary",
    "update": "Changed",
    "breach.recorded": "Recorded a breach",
    "breach.updated": "Changed a breach",
    "notice.publish": "Published a notice",
    "organisation.update": "Changed the organisation's details",
    "publish": "Published a \u201cyou said, we did\u201d page",
    "unpublish": "Took down a \u201cyou said, we did\u201d page",
    "retention": "Erased withdrawn members",
    "purge_unconfirmed": "Deleted unconfirmed registrations",
    "request_job_run": "Asked to run a job",
    "status": "Changed an action's status",
    "deliver": "Logged a delivery",
    "observe": "Recorded a metric figure",
    "approve_claim": "Approved an expense claim",
    "reject_claim": "Did not approve an expense claim",
}

#: Each kind of record, in the singular (a record with no id) and plural (filters).
NOUNS: dict[str, tuple[str, str]] = {
    "action": ("an action", "Actions"),
    "objective": ("an objective", "Objectives"),
    "channel": ("a channel", "Channels"),
    "audience": ("an audience", "Audiences"),
    "audience_contact": ("an audience's contact", "Audience contacts"),
    "programme": ("a programme", "Programmes"),
    "contact_intervals": ("the contact intervals", "Contact intervals"),
    "member": ("members", "Members"),
    "practice": ("a GP practice", "GP practices"),
    "topic": ("a topic", "Topics"),
    "equality_report": ("the equality report", "Equality report"),
    "population_share": ("the population shares", "Population shares"),
    "subject_access_request": (
        "a subject access request",
        "Subject access requests",
    ),
    "user": ("a staff account", "Staff accounts"),
    "api_token": ("an API token", "API tokens"),
    "calendar_token": ("a calendar link", "Calendar links"),
    "survey": ("a survey", "Surveys"),
    "mailing": ("a mailing", "Mailings"),
    "involvement_activity": ("an involvement activity", "Involvement activities"),
    "mailing_template": ("a mailing template", "Mailing templates"),
    "suppression": ("an address on the do-not-send list", "Do-not-send list"),
    "survey_response": ("survey responses", "Survey responses"),
    "survey_results": ("survey results", "Survey results"),
    "survey_equality": ("survey answers by equality question", "Survey equality"),
    "metric": ("a metric", "Metrics"),
    "feed": ("a feed", "Feeds"),
    "mention": ("a mention", "Mentions"),
    "reach_report": ("a reach report", "Reach reports"),
    "breach": ("a breach", "Breaches"),
    "notice": ("a notice", "Notices"),
    "organisation": ("the organisation's details", "The organisation"),
    "involvement_rate": ("an involvement level", "Involvement levels"),
    "expense_claim": ("an expense claim", "Expense claims"),
    "job": ("the job", "Jobs"),
    "audit_log": ("the audit log", "The audit log"),
    "board_commentary": ("a board report's commentary", "Board report commentary"),
    "database": ("the database", "The database"),
    "involvement_invitation": (
        "an invitation to an involvement session",
        "Involvement invitations",
    ),
    "involvement_register": (
        "the register of an involvement session",
        "Involvement registers",
    ),
    "involvement_participation": (
        "who took part in involvement activities",
        "Involvement participation",
    ),
    "interaction": ("an interaction with stakeholders", "Interactions"),
    "interaction_attachment": (
        "a file kept with an interaction",
        "Interaction files",
    ),
    "captured_message": (
        "an email from the capture mailbox",
        "Captured emails",
    ),
    "commitment": ("a commitment to stakeholders", "Commitments"),
    "theme": ("a theme stakeholders raise", "Themes"),
    "audience_link": ("a link between stakeholders", "Links between stakeholders"),
    "audience_health": ("the health of relationships", "Relationship health"),
}

#: Who acted, for events recorded without a staff user.
ACTOR_LABELS = {
    "system": "Engage",
    "public": "A member of the public",
    "anonymous": "Someone not signed in",
    "cli": "An administrator at the command line",
    "demo": "The demo data",
    "read-capture job": "The capture mailbox reader",
}

#: Events about a person's own account, said without naming them twice.
_ABOUT_THEMSELVES = {"login", "logout"}
_OWN = {
    "login_password",
    "password_change",
    "two_factor_enabled",
    "two_factor_disabled",
    "recovery_codes_regenerated",
    "recovery_code_used",
    "password_set",
}


def action_name(action: str) -> str:
    """The filter menu's name for an action code."""
    if action in ACTION_NAMES:
        return ACTION_NAMES[action]
    verb = VERBS.get(action, action.replace("_", " ").replace(".", " "))
    verb = re.sub(r" (of|for|to|from|as)$", "", verb)
    return verb[:1].upper() + verb[1:]


def record_type_name(entity_type: str) -> str:
    """The filter menu's name for a record type."""
    plural = NOUNS.get(entity_type, (None, None))[1]
    return plural or entity_type.replace("_", " ").capitalize()


# Records ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Record:
    """A record's name as read in a sentence, and its page (for readers with roles)."""

    name: str
    endpoint: str | None = None
    args: tuple[tuple[str, Any], ...] = ()
    roles: tuple[Role, ...] = READERS
    possessive: str = ""


def _load(model: Any, ids: Iterable[int]) -> dict[int, Any]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = db.session.scalars(select(model).where(model.id.in_(wanted)))
    return {row.id: row for row in rows}


def _quoted(noun: str, name: str) -> str:
    return f"the {noun} \u201c{name}\u201d"


def _model(path: str) -> Any:
    module, name = path.rsplit(".", 1)
    return getattr(importlib.import_module(module), name)


#: Records named by one column, with the page that shows them:
#: type → (model, column, noun, endpoint, id argument, who may open it).
_SIMPLE: dict[str, tuple[str, str, str, str, str, tuple[Role, ...]]] = {
    "action": (
        "engage.actions.models.Action",
        "title",
        "action",
        "actions.detail",
        "action_id",
        READERS,
    ),
    "objective": (
        "engage.actions.models.Objective",
        "title",
        "objective",
        "actions.edit_objective",
        "objective_id",
        EDITORS,
    ),
    "channel": (
        "engage.actions.models.Channel",
        "name",
        "channel",
        "actions.edit_channel",
        "channel_id",
        ADMINS,
    ),
    "audience": (
        "engage.audiences.models.Audience",
        "name",
        "audience",
        "audiences.detail",
        "audience_id",
        READERS,
    ),
    "programme": (
        "engage.audiences.models.Programme",
        "name",
        "programme",
        "audiences.edit_programme",
        "programme_id",
        EDITORS,
    ),
    "metric": (
        "engage.metrics.models.Metric",
        "name",
        "metric",
        "metrics.detail",
        "metric_id",
        READERS,
    ),
    "feed": (
        "engage.metrics.models.Feed",
        "name",
        "feed",
        "feeds.feed_detail",
        "feed_id",
        READERS,
    ),
    "practice": (
        "engage.membership.models.Practice",
        "name",
        "GP practice",
        "",
        "",
        READERS,
    ),
    "topic": (
        "engage.membership.models.Topic",
        "name",
        "topic",
        "",
        "",
        READERS,
    ),
    "mailing": (
        "engage.mailings.models.Mailing",
        "subject",
        "mailing",
        "mailings.detail",
        "mailing_id",
        EDITORS,
    ),
    "mailing_template": (
        "engage.mailings.models.MailingTemplate",
        "name",
        "mailing template",
        "mailings.edit_template",
        "template_id",
        EDITORS,
    ),
    "involvement_rate": (
        "engage.involvement.models.InvolvementRate",
        "name",
        "involvement level",
        "involvement_rates.edit_rate",
        "rate_id",
        ADMINS,
    ),
    "involvement_activity": (
        "engage.involvement.models.InvolvementActivity",
        "title",
        "involvement activity",
        "involvement.detail",
        "activity_id",
        READERS,
    ),
    "interaction": (
        "engage.relationships.models.Interaction",
        "subject",
        "interaction",
        "interactions.detail",
        "interaction_id",
        READERS,
    ),
    "commitment": (
        "engage.relationships.models.Commitment",
        "description",
        "commitment",
        "commitments.edit",
        "commitment_id",
        EDITORS,
    ),
    "theme": (
        "engage.relationships.models.Theme",
        "name",
        "theme",
        "themes.detail",
        "theme_id",
        READERS,
    ),
    "breach": (
        "engage.breaches.models.Breach",
        "title",
        "breach",
        "breaches.detail",
        "breach_id",
        ADMINS,
    ),
}

#: How a survey's own records are named, around the survey's title.
_SURVEY_PARTS = {
    "survey": "{}",
    "survey_results": "the results of {}",
    "survey_responses": "the responses to {}",
    "survey_equality": "the answers to {} by equality question",
}


def _simple(entity_type: str, ids: list[int]) -> dict[int, _Record]:
    model, column, noun, endpoint, argument, roles = _SIMPLE[entity_type]
    return {
        i: _Record(
            _quoted(noun, getattr(row, column)),
            endpoint or None,
            ((argument, i),) if argument else (),
            roles,
        )
        for i, row in _load(_model(model), ids).items()
    }


def _members(ids: list[int]) -> dict[int, _Record]:
    """Members are named by number: the log is no place to read their names.

    An erased member stays erased: no link to what is left of the record.
    """
    from engage.membership.models import Member
    from engage.membership.models import MemberStatus

    found = {}
    for i, member in _load(Member, ids).items():
        if member.status == MemberStatus.ERASED or member.erased_at is not None:
            found[i] = _Record(f"an erased member (number {i})")
        else:
            found[i] = _Record(
                f"member {i}",
                "members.detail",
                (("member_id", i),),
                possessive=f"member {i}'s",
            )
    return found


def _users(ids: list[int]) -> dict[int, _Record]:
    from engage.accounts.models import User

    return {
        i: _Record(
            user.name,
            "admin.edit_user",
            (("user_id", i),),
            ADMINS,
            possessive=f"{user.name}'s",
        )
        for i, user in _load(User, ids).items()
    }


def _surveys(entity_type: str, ids: list[int]) -> dict[int, _Record]:
    from engage.surveys.models import Survey

    return {
        i: _Record(
            _SURVEY_PARTS[entity_type].format(_quoted("survey", survey.title)),
            "surveys.detail",
            (("survey_id", i),),
        )
        for i, survey in _load(Survey, ids).items()
    }


def _reports(ids: list[int]) -> dict[int, _Record]:
    from engage.metrics.models import ReachReport

    return {
        i: _Record(
            f"the reach report for {format_date(report.start)} to "
            f"{format_date(report.end)}",
            "reports.report_detail",
            (("report_id", i),),
        )
        for i, report in _load(ReachReport, ids).items()
    }


def _notices(ids: list[int]) -> dict[int, _Record]:
    from engage.organisation.models import Notice

    # Every version of a notice is public: anyone may open it.
    return {
        i: _Record(
            f"version {notice.label} of the {notice.kind.label.lower()}",
            "organisation.notice_version",
            (("kind", notice.kind.value), ("version", notice.version)),
            (),
        )
        for i, notice in _load(Notice, ids).items()
    }


def _claims(ids: list[int]) -> dict[int, _Record]:
    from engage.involvement.models import ExpenseClaim

    # Named by number: whose claim it is stays on the claim's page.
    return {
        i: _Record(
            f"expense claim {i}", "involvement_claims.detail", (("claim_id", i),)
        )
        for i in _load(ExpenseClaim, ids)
    }


def _commentaries(ids: list[int]) -> dict[int, _Record]:
    from engage.dashboard.models import BoardCommentary

    named = {}
    for i, row in _load(BoardCommentary, ids).items():
        year, _, number = row.quarter.partition("-Q")
        named[i] = _Record(
            f"the Q{number} {year} board report",
            "dashboard.board_report",
            (("quarter", row.quarter),),
        )
    return named


def _records(entity_type: str, ids: list[int]) -> dict[int, _Record]:
    """The named records of one type, by id (only those that still exist)."""
    if entity_type in _SIMPLE:
        return _simple(entity_type, ids)
    if entity_type in _SURVEY_PARTS:
        return _surveys(entity_type, ids)
    if entity_type == "member":
        return _members(ids)
    if entity_type == "user":
        return _users(ids)
    if entity_type == "reach_report":
        return _reports(ids)
    if entity_type == "notice":
        return _notices(ids)
    if entity_type == "expense_claim":
        return _claims(ids)
    if entity_type == "board_commentary":
        return _commentaries(ids)
    if entity_type == "organisation":
        settings = _Record(
            "the organisation's details", "organisation.settings", (), ADMINS
        )
        return dict.fromkeys(ids, settings)
    return {}


# Details ------------------------------------------------------------------------------

_ISO_MOMENT = re.compile(
    r"\b(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|[+-]\d{2}:?\d{2})?"
)
_ISO_DAY = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_CODE = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")


def _moment(match: re.Match[str]) -> str:
    text = match.group(0).replace("Z", "+00:00").replace(" ", "T")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return match.group(0)
    if moment.tzinfo is None:
        from datetime import UTC

        moment = moment.replace(tzinfo=UTC)
    return format_datetime(moment)


def _day(match: re.Match[str]) -> str:
    try:
        return format_date(date.fromisoformat(match.group(0)))
    except ValueError:
        return match.group(0)


def plain(summary: str) -> str:
    """A summary with NHS-style dates, "to" for arrows and field names as words."""
    text = _ISO_MOMENT.sub(_moment, summary)
    text = _ISO_DAY.sub(_day, text)
    text = text.replace("\u2192", " to ")
    return _CODE.sub(lambda m: m.group(0).removesuffix("_id").replace("_", " "), text)


def _detail(event: AuditEvent, record: _Record | None) -> str:
    summary = (event.summary or "").strip()
    if not summary:
        return ""
    if record is not None and summary in record.name:
        return ""  # the summary only repeats the record's name
    if event.action == "status" and "\u2192" in summary:
        before, after = summary.split("\u2192", 1)
        return f" from {plain(before)} to {plain(after)}"
    if event.action == "deliver":
        found = re.search(r"\d{4}-\d{2}-\d{2}", summary)
        return f" on {plain(found.group(0))}" if found else ""
    if event.action == "observe" and " = " in summary:
        day, value = summary.split(" = ", 1)
        return f": {value} on {plain(day)}"
    summary = _unrepeated(event, summary)
    if not summary:
        return ""
    text = plain(summary)
    # Brackets within brackets read badly: a summary with its own follows a colon.
    return f": {text}" if "(" in text else f" ({text})"


def _unrepeated(event: AuditEvent, summary: str) -> str:
    """The summary without the words that only say again what the sentence says:
    "export audiences: 24 rows" after "downloaded audiences", "record viewed" or
    "equality report viewed (87 active members)" after "viewed"."""
    prefix = f"{event.action} "
    if event.entity_type == "board_commentary":
        # "Commentary on the Q3 2026 board report saved (85 characters)"
        length = re.search(r"\(([^()]*)\)$", summary)
        return length.group(1) if length else ""
    if summary.startswith(prefix) and ": " in summary:
        return summary.split(": ", 1)[1].strip()
    if event.action == "view":
        head, _, rest = summary.partition(" viewed")
        if rest == "" and summary.endswith(" viewed"):
            return ""
        if head and rest.startswith(" (") and rest.endswith(")"):
            return rest[2:-1].strip()
    return summary


# Sentences ----------------------------------------------------------------------------


def actor_name(event: AuditEvent) -> str:
    """Who did it, in words: a user's name, or what stands for Engage or the public."""
    if event.actor is not None:
        return str(event.actor.name)
    label = event.actor_label or "system"
    if label in ACTOR_LABELS:
        return ACTOR_LABELS[label]
    # A removed user keeps the name they had ("Ada Lovelace (user 3)").
    return re.sub(r" \(user \d+\)$", "", label)


def _record_id(event: AuditEvent) -> int | None:
    try:
        number = int(event.entity_id) if event.entity_id is not None else None
    except ValueError:
        return None
    return number if number is not None and 0 < number < 2**63 else None


def _url(record: _Record, viewer: Any) -> str | None:
    if record.endpoint is None:
        return None
    if record.roles and not (viewer is not None and viewer.has_role(*record.roles)):
        return None
    return url_for(record.endpoint, **dict(record.args))


def _sentence(event: AuditEvent, record: _Record | None, viewer: Any) -> Sentence:
    actor = actor_name(event)
    verb = VERBS.get(event.action, event.action.replace("_", " ").replace(".", " "))
    if event.entity_type == "user" and event.actor_id is not None:
        same_person = event.actor_id == _record_id(event)
        if event.action in _ABOUT_THEMSELVES and same_person:
            return Sentence(actor, verb, detail=_detail(event, None))
        if event.action in _OWN and same_person:
            own = re.sub(r" (of|for)$", "", verb)
            return Sentence(actor, f"{own} for their own account")
        match = re.fullmatch(r"reach report (on|off)", event.summary or "")
        if match and record is not None:
            if same_person:
                return Sentence(actor, f"turned their reach report emails {match[1]}")
            return Sentence(
                actor,
                "changed",
                record.possessive,
                _url(record, viewer),
                f" reach report emails to {match[1]}",
            )
    if record is None:
        fallback = event.entity_type.replace("_", " ")
        one, many = NOUNS.get(event.entity_type, (fallback, fallback))
        # No record: several of them ("imported actions"), or the one of its kind.
        name = one if event.entity_id is not None or one.startswith("the ") else many
        if name[:2].istitle():  # "Members" reads "members"; "API tokens" stays
            name = name[0].lower() + name[1:]
        if event.entity_id is not None and event.entity_type not in NOUNS:
            name = f"{name} {event.entity_id}"
        if event.entity_type == "member" and event.entity_id is not None:
            name = "a member who is no longer on record"
        return Sentence(actor, verb, name, None, _detail(event, None))
    return Sentence(
        actor, verb, _named(event, record), _url(record, viewer), _detail(event, record)
    )


def _named(event: AuditEvent, record: _Record) -> str:
    """The record's name in the event's sentence: the member an erasure erased is
    "member 5" ("erased member 5", not "erased an erased member")."""
    if event.action == "erase" and event.entity_type == "member":
        return f"member {event.entity_id}"
    return record.name


def describe(events: Sequence[AuditEvent], viewer: Any) -> dict[int, Sentence]:
    """Each event's sentence, by event id, for ``viewer`` (links they may open)."""
    wanted: dict[str, list[int]] = defaultdict(list)
    for event in events:
        number = _record_id(event)
        if number is not None:
            wanted[_looked_up_as(event)].append(number)
    records = {kind: _records(kind, ids) for kind, ids in wanted.items()}
    result = {}
    for event in events:
        number = _record_id(event)
        record = (
            records.get(_looked_up_as(event), {}).get(number)
            if number is not None
            else None
        )
        result[event.id] = _sentence(event, record, viewer)
    return result


def _looked_up_as(event: AuditEvent) -> str:
    """Survey responses exported or imported are recorded against their survey."""
    if event.entity_type == "survey_response" and event.action in ("export", "import"):
        return "survey_responses"
    return event.entity_type
