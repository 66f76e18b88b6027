"""Two tabs on one record: on every edit form that keeps the time it was opened, a
save made after someone else's is shown back with what was typed, not saved over
theirs; looked over and sent again, it goes through."""

from __future__ import annotations

import html as html_text
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask.testing import FlaskClient

from engage.extensions import db
from tests import factories
from tests.involvement.helpers import activity
from tests.mailings.helpers import mailing
from tests.walker import read_page


@dataclass(frozen=True)
class Editable:
    """An edit form: how to make its record, its address, and the box changed."""

    make: Callable[[], Any]
    path: str
    box: str
    what: str


EDITABLE = {
    "survey": Editable(factories.SurveyFactory, "/surveys/{}/edit", "title", "survey"),
    "mailing": Editable(mailing, "/mailings/{}/edit", "subject", "mailing"),
    "activity": Editable(activity, "/involvement/{}/edit", "title", "activity"),
    "metric": Editable(
        lambda: factories.MetricFactory(unit="readers"),
        "/metrics/{}/edit",
        "name",
        "metric",
    ),
    "commitment": Editable(
        lambda: factories.CommitmentFactory(owner=factories.UserFactory()),
        "/relationships/commitments/{}/edit",
        "description",
        "commitment",
    ),
    "member": Editable(
        factories.MemberFactory, "/members/{}/edit", "name", "member's record"
    ),
}


def _form_as_sent(html: str) -> dict[str, Any]:
    """The edit form as a browser sends it untouched (its buttons left out)."""
    _, forms = read_page(html)
    (fields,) = [f for _, method, f in forms if method == "POST" and "opened_at" in f]
    return {
        name: field.default
        for name, field in fields.items()
        if field.kind != "submit" and field.default is not None
    }


def _opened_at(html: str) -> str:
    found = re.search(r'name="opened_at" type="hidden" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


@pytest.mark.parametrize("name", EDITABLE)
def test_a_save_after_someone_elses_is_shown_back_not_made(
    client: FlaskClient, login: Callable[..., Any], cast: dict[str, Any], name: str
) -> None:
    editable = EDITABLE[name]
    record = editable.make()
    path = editable.path.format(record.id)
    login(cast["admin"])
    page = client.get(path)
    assert page.status_code == 200
    tab_a = {**_form_as_sent(page.get_data(as_text=True)), editable.box: "Tab A"}
    # Tab B, opened at the same moment, saves first.
    saved = client.post(path, data={**tab_a, editable.box: "Tab B"})
    assert saved.status_code == 302, saved.get_data(as_text=True)
    db.session.refresh(record)
    assert getattr(record, editable.box) == "Tab B"
    # Tab A is shown back with what it typed; tab B's save stands.
    refused = client.post(path, data=tab_a)
    html = html_text.unescape(refused.get_data(as_text=True))
    assert refused.status_code == 200
    assert f"This {editable.what} was saved at" in html
    assert "Tab A" in html
    db.session.refresh(record)
    assert getattr(record, editable.box) == "Tab B"
    # Looked over, the same form sent again goes through.
    newer = _opened_at(html)
    assert newer != tab_a["opened_at"]
    again = client.post(path, data={**tab_a, "opened_at": newer})
    assert again.status_code == 302, again.get_data(as_text=True)
    db.session.refresh(record)
    assert getattr(record, editable.box) == "Tab A"
