"""What the several-hosts test (test_multihost.py) runs on its app hosts and schedulers.

``JOBS`` is the schedulers' job list (``ENGAGE_JOBS_REGISTRY``): ``tick`` every second,
which notes each run in a file so the test can tell how many times each one really ran
and when, and the real ``deliver-mail`` job every 2 seconds, which writes the
confirmation emails a killed host's background thread did not get to.

``python -m tests.faults.multihost_app`` (with ``ENGAGE_DATABASE_URL`` set) adds a lead
and an open survey with a public link, and prints what the simulated users need as JSON.
"""

from __future__ import annotations

import json
import os
import time
from datetime import datetime

from engage.scheduling.services import JobSpec

#: The file ``tick`` appends a line to after each run (set for the schedulers).
TICK_LOG_ENV = "MULTIHOST_TICK_LOG"
TICK_SECONDS = 1
#: How long one ``tick`` takes: long enough that two overlapping runs would show.
TICK_WORK_SECONDS = 0.2
LEAD_EMAIL = "lead@example.com"


def tick(*, now: datetime) -> dict[str, int]:
    """Note this run: the process, the run's start (its ``now``), and its wall times."""
    began = time.time()
    time.sleep(TICK_WORK_SECONDS)
    line = f"{os.getpid()} {now.isoformat()} {began:.3f} {time.time():.3f}\n"
    with open(os.environ[TICK_LOG_ENV], "a", encoding="utf-8") as log:
        log.write(line)
    return {"ticks": 1}


JOBS = (
    JobSpec(
        "tick",
        "interval",
        {"seconds": TICK_SECONDS},
        f"{__name__}:tick",
        misfire_grace_seconds=60,
    ),
    JobSpec(
        "deliver-mail",
        "interval",
        {"seconds": 2},
        "engage.mail.delivery:prepare_and_deliver",
        misfire_grace_seconds=60,
    ),
)


def prepare(password: str) -> dict[str, str]:
    """Add the lead and the open survey (committed); what the users need to know."""
    from engage import create_app
    from engage.accounts import services as accounts
    from engage.accounts.models import Role
    from engage.clock import utcnow
    from engage.extensions import db
    from engage.surveys import services as surveys
    from engage.surveys.forms import field_name
    from engage.surveys.models import QuestionKind

    app = create_app()
    with app.app_context():
        now = utcnow()
        lead = accounts.create_user(
            actor="cli", email=LEAD_EMAIL, name="Lee Lead", role=Role.LEAD,
            password=password, now=now,
        )  # fmt: skip
        survey = surveys.create_survey(
            surveys.SurveyData("Your experience of the service"), actor=lead, now=now
        )
        comment = surveys.add_question(
            survey,
            surveys.QuestionData(QuestionKind.SHORT_TEXT, "What should we change?"),
            actor=lead,
            now=now,
        )
        rating = surveys.add_question(
            survey,
            surveys.QuestionData(QuestionKind.RATING_0_10, "How likely are you to…"),
            actor=lead,
            now=now,
        )
        surveys.open_survey(survey, actor=lead, now=now)
        token = surveys.set_public_link(survey, actor=lead, now=now)
        db.session.commit()
        needs = {
            "lead_email": LEAD_EMAIL,
            "survey_token": token,
            "comment_field": field_name(comment),
            "rating_field": field_name(rating),
        }
        db.session.remove()
        db.engine.dispose()
    return needs


if __name__ == "__main__":
    print(json.dumps(prepare(input())))
