"""A mailing's delivery logged on its action, its figures' stages, and readership."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from flask import current_app
from flask import render_template
from flask.testing import FlaskClient
from sqlalchemy import select

from engage.actions.models import Action
from engage.actions.models import ActionStatus
from engage.actions.models import Activity
from engage.api.tokens import create_api_token
from engage.clock import local_day
from engage.clock import today
from engage.clock import utcnow
from engage.extensions import db
from engage.mailings.measurement import readership
from engage.mailings.measurement import record_delivery
from engage.mailings.measurement import refresh_mailing_figures
from engage.mailings.models import MailingLink
from engage.mailings.models import MailingRecipient
from engage.mailings.models import RecipientStatus
from engage.membership.models import ContactChannel
from engage.metrics.models import ReachLabel
from engage.metrics.models import ReportPeriod
from engage.metrics.models import Stage
from engage.metrics.reach import make_reach_report
from engage.metrics.report import period_containing
from tests import factories
from tests.mailings.measure_helpers import figures_of
from tests.mailings.measure_helpers import sent_mailing

S = RecipientStatus


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _quarter() -> str:
    day = today()
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def _panel(mailing: Any) -> str:
    with current_app.test_request_context("/"):
        return _text(
            render_template("mailings/_readership_panel.html", mailing=mailing)
        )


def _action() -> Action:
    channel = factories.ChannelFactory(name="Newsletter")
    return factories.ActionFactory(title="PPI newsletter", channel=channel)


def test_a_sent_mailing_logs_sent_delivered_and_bounced_on_its_action_once() -> None:
    action = _action()
    mailing = sent_mailing([S.DELIVERED, S.DELIVERED, S.BOUNCED], action=action)

    record_delivery(mailing, now=utcnow())
    db.session.commit()
    record_delivery(mailing, now=utcnow())  # again: the same delivery, not another
    db.session.commit()

    (activity,) = db.session.scalars(
        select(Activity).where(Activity.action_id == action.id)
    ).all()
    assert mailing.activity_id == activity.id
    assert activity.description == "Mailing sent: December PPI newsletter"
    assert activity.occurred_on == local_day(mailing.started_at)
    assert activity.created_by_id is None  # logged by Engage itself
    # Tracking off: no opens or clicks at all, not even zeros.
    assert figures_of(mailing) == {"sent": 3, "delivered": 2, "bounced": 1}
    assert db.session.get(Action, action.id).status is ActionStatus.IN_PROGRESS
    labels = {
        row.label: (row.stage, row.unit, row.rate_of)
        for row in db.session.scalars(select(ReachLabel))
    }
    assert labels["sent"] == (Stage.OUTPUT, "sent", "")
    assert labels["delivered"] == (Stage.OUTPUT, "delivered", "")
    assert labels["bounced"] == (Stage.OUTPUT, "bounced", "")


def test_letters_printed_count_as_sent_and_texts_as_delivered() -> None:
    mailing = sent_mailing(
        [
            (S.PRINTED, ContactChannel.POST),
            (S.DELIVERED, ContactChannel.SMS),
            (S.SENT, ContactChannel.EMAIL),
            (S.SKIPPED, ContactChannel.EMAIL),
            (S.FAILED, ContactChannel.SMS),
        ],
        action=_action(),
    )
    record_delivery(mailing, now=utcnow())
    db.session.commit()
    assert figures_of(mailing) == {"sent": 3, "delivered": 1, "bounced": 0}
    assert readership(mailing).not_sent == 2


def test_a_mailing_without_an_action_logs_nothing() -> None:
    mailing = sent_mailing([S.DELIVERED])
    record_delivery(mailing, now=utcnow())
    db.session.commit()
    assert mailing.activity_id is None
    assert db.session.scalars(select(Activity)).all() == []


def test_figures_follow_late_receipts_but_never_fall() -> None:
    action = _action()
    mailing = sent_mailing([S.SENT, S.SENT, S.SENT], action=action)
    record_delivery(mailing, now=utcnow())
    db.session.commit()
    assert figures_of(mailing) == {"sent": 3, "delivered": 0, "bounced": 0}

    copies = db.session.scalars(
        select(MailingRecipient).order_by(MailingRecipient.id)
    ).all()
    copies[0].status = S.DELIVERED
    copies[1].status = S.BOUNCED
    db.session.commit()
    assert refresh_mailing_figures(now=utcnow()) == 1
    db.session.commit()
    assert figures_of(mailing) == {"sent": 3, "delivered": 1, "bounced": 1}

    # A copy deleted (its member erased) does not lower what was logged.
    db.session.delete(copies[0])
    db.session.commit()
    refresh_mailing_figures(now=utcnow())
    db.session.commit()
    assert figures_of(mailing) == {"sent": 3, "delivered": 1, "bounced": 1}


def test_mailings_finished_over_30_days_ago_are_left_as_logged() -> None:
    mailing = sent_mailing(
        [S.SENT], action=_action(), started_at=utcnow() - timedelta(days=40)
    )
    record_delivery(mailing, now=utcnow() - timedelta(days=40))
    db.session.commit()
    db.session.scalars(select(MailingRecipient)).one().status = S.DELIVERED
    db.session.commit()
    assert refresh_mailing_figures(now=utcnow()) == 0
    assert figures_of(mailing)["delivered"] == 0


def _tracked_mailing() -> Any:
    action = _action()
    mailing = sent_mailing(
        [S.DELIVERED, S.DELIVERED, S.DELIVERED, S.DELIVERED, S.BOUNCED],
        action=action,
        tracking=True,
    )
    copies = db.session.scalars(
        select(MailingRecipient).order_by(MailingRecipient.id)
    ).all()
    for copy in copies[:3]:
        copy.opened_at = utcnow()
    copies[0].clicked_at = utcnow()
    db.session.add(
        MailingLink(
            mailing_id=mailing.id, position=1, url="https://example.org/plan", clicks=2
        )
    )
    record_delivery(mailing, now=utcnow())
    db.session.commit()
    return mailing


def test_tracked_opens_and_clicks_are_logged_as_unique_readers() -> None:
    mailing = _tracked_mailing()
    assert figures_of(mailing) == {
        "sent": 5,
        "delivered": 4,
        "bounced": 1,
        "e-mail opens": 3,
        "e-mail clicks": 1,
    }
    opens = db.session.scalar(
        select(ReachLabel).where(ReachLabel.label == "e-mail opens")
    )
    assert (opens.stage, opens.rate_of) == (Stage.OUTTAKE, "delivered")


def test_the_dashboard_shows_sent_and_delivered_as_reach_and_opens_as_a_rate(
    client: FlaskClient, login: Any, cast: dict[str, Any]
) -> None:
    _tracked_mailing()
    login(cast["lead"])
    words = _text(
        client.get(f"/dashboard/?period=quarter&value={_quarter()}").get_data(
            as_text=True
        )
    )
    assert "5 Reach: sent" in words
    assert "4 Reach: delivered" in words
    assert "1 Reach: bounced" in words
    assert "75.0% E-mail open rate (e-mail opens ÷ delivered)" in words
    assert "25.0% E-mail click rate (e-mail clicks ÷ delivered)" in words
    # Opens are never reach, and units are never added together.
    assert "Reach: e-mail opens" not in words
    assert "Reach: recipients" not in words
    for total in ("9 Reach", "10 Reach", "12 Reach", "13 Reach"):
        assert total not in words
    # The same figures, with their stage and unit, in the API summary.
    client.post("/logout")
    _, secret = create_api_token(cast["lead"], name="Board pack", now=utcnow())
    db.session.commit()
    body = client.get(
        f"/api/v1/summary?period=quarter&value={_quarter()}",
        headers={"Authorization": f"Bearer {secret}"},
    ).get_json()
    figures = {f["key"]: f for section in body["sections"] for f in section["figures"]}
    assert {
        key: (figures[key]["value"], figures[key]["unit"], figures[key]["stage"])
        for key in ("reach_sent", "reach_delivered", "rate_e-mail opens")
    } == {
        "reach_sent": (5, "sent", "output"),
        "reach_delivered": (4, "delivered", "output"),
        "rate_e-mail opens": (75.0, "%", "outtake"),
    }
    assert not [key for key in figures if key.startswith("reach_e-mail")]


def test_the_reach_report_keeps_each_unit_apart_and_opens_as_a_rate() -> None:
    _tracked_mailing()
    report = make_reach_report(
        period_containing(ReportPeriod.MONTH, today()), now=utcnow()
    )
    db.session.commit()
    channels = sorted(
        (c["channel"], c["unit"], c["value"]) for c in report.figures["channels"]
    )
    assert channels == [
        ("Newsletter", "bounced", 1.0),
        ("Newsletter", "delivered", 4.0),
        ("Newsletter", "sent", 5.0),
    ]
    rates = {
        r["name"]: (r["stage"], r["rate"], r["of"]) for r in report.figures["rates"]
    }
    assert rates["E-mail open rate"] == ("outtake", 75.0, 4)
    assert rates["E-mail click rate"] == ("outtake", 25.0, 4)


def test_the_readership_panel_gives_the_numbers_behind_each_rate() -> None:
    mailing = _tracked_mailing()
    words = _panel(mailing)
    assert "Sent 5" in words
    assert "Delivered 4" in words
    assert "Bounced 1" in words
    assert "Open rate 75.0%: 3 of 4 emails delivered" in words
    assert "Click rate 25.0%: 1 of 4 emails delivered clicked a link" in words
    assert "https://example.org/plan 2" in words


def test_the_readership_panel_without_tracking_counts_no_opens() -> None:
    mailing = sent_mailing([S.DELIVERED], action=_action())
    words = _panel(mailing)
    assert "Delivered 1" in words
    assert "Open rate" not in words
    assert "tracking was off" in words


def test_leads_read_readership_over_time_newest_first(
    client: FlaskClient, login: Any, cast: dict[str, Any]
) -> None:
    sent_mailing(
        [S.DELIVERED],
        subject="November bulletin",
        started_at=utcnow() - timedelta(days=30),
    )
    sent_mailing([S.DELIVERED, S.BOUNCED], subject="December bulletin")
    login(cast["lead"])
    response = client.get("/mailings/readership/")
    assert response.status_code == 200
    words = _text(response.get_data(as_text=True))
    assert words.index("December bulletin") < words.index("November bulletin")
    assert "December bulletin" in words
    assert "Not counted" in words
    assert "data-chart=" in response.get_data(as_text=True)
