"""Plain-text emails say names as they are; HTML parts are still escaped."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from types import SimpleNamespace as Thing
from typing import Any

import pytest
from flask import Flask
from flask import render_template

from tests.conftest import ROOT

NAMES = ("Brian O'Neill", "Siobhán O'Brien & Co")


def _action(name: str) -> Thing:
    return Thing(id=1, title=name, next_due_date=date(2026, 3, 2))


def _figures(name: str) -> dict[str, Any]:
    metric = {
        "name": name,
        "value": 3.0,
        "unit": name,
        "previous": 1.0,
        "change": 2.0,
        "change_pct": 200.0,
        "target": None,
        "status": "no target",
    }
    return {
        "label": name,
        "start": "2026-10-01",
        "end": "2026-10-31",
        "previous_start": "2026-09-01",
        "previous_end": "2026-09-30",
        "metrics": [metric],
        "mentions": {
            "total": 1,
            "counts": {"positive": 1, "neutral": 0, "negative": 0, "unset": 0},
            "items": [{"day": "2026-10-02", "feed": name, "title": name, "link": ""}],
        },
        "deliveries": [
            {
                "day": "2026-10-03",
                "action": name,
                "channel": name,
                "description": name,
                "figures": name,
            }
        ],
    }


def _context(template: str, name: str) -> dict[str, Any]:
    person = Thing(name=name)
    survey = Thing(title=name, anonymous=True, closes_at=None)
    common = {"link": "https://engage.test/x", "hours": 24, "days": 7}
    contexts: dict[str, dict[str, Any]] = {
        "accounts/email/set_password.txt": {"user": person, "reason": "invitation"},
        "actions/email/digest.txt": {
            "user": person,
            "overdue": [_action(name)],
            "due": [Thing(action=_action(name), day=date(2026, 3, 3))],
            "link": lambda action: "https://engage.test/actions/1",
            "mine_link": "https://engage.test/actions/mine",
        },
        "metrics/email/reach_report.txt": {"figures": _figures(name)},
        "membership/email/already_registered.txt": {},
        "membership/email/confirm.txt": {"name": name},
        "membership/email/email_change.txt": {"member": person},
        "membership/email/email_moved.txt": {
            "name": name,
            "day": "7 December 2026",
            "org": Thing(phone=name, email="us@example.org"),
        },
        "membership/email/email_taken.txt": {"manage_page": name},
        "membership/email/manage_link.txt": {},
        "surveys/email/invitation.txt": {"member": person, "survey": survey},
        "surveys/email/reminder.txt": {"member": person, "survey": survey},
        "surveys/email/you_said_we_did.txt": {"survey": survey},
    }
    return {**common, "manage_url": name, **contexts[template]}


def _text_templates() -> list[str]:
    folder = ROOT / "templates"
    return sorted(str(p.relative_to(folder)) for p in Path(folder).rglob("*.txt"))


#: Templates whose text names nobody: only the autoescape rule is checked.
NAMELESS = {
    "membership/email/already_registered.txt",
    "membership/email/manage_link.txt",
}


@pytest.mark.parametrize("template", _text_templates())
@pytest.mark.parametrize("name", NAMES)
def test_plain_text_mail_is_not_html_escaped(
    app: Flask, template: str, name: str
) -> None:
    with app.test_request_context():
        text = render_template(template, **_context(template, name))
    assert "&#39;" not in text
    assert "&amp;" not in text
    if template not in NAMELESS:
        assert name in text


def test_every_plain_text_template_is_checked() -> None:
    assert len(_text_templates()) == 12


def test_the_html_part_is_still_escaped(app: Flask) -> None:
    with app.test_request_context():
        html = render_template(
            "metrics/email/reach_report.html", figures=_figures("<b>O'Neill & Co</b>")
        )
    assert "<b>O" not in html
    assert "&lt;b&gt;O&#39;Neill &amp; Co&lt;/b&gt;" in html
