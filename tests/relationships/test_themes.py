"""Themes: the admins' list, the overview, a theme's page and the audience's."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from engage.actions.schedule import add_months
from engage.audit.models import AuditEvent
from engage.clock import today
from engage.clock import utcnow
from engage.errors import Conflict
from engage.errors import PermissionDenied
from engage.extensions import db
from engage.relationships import themes
from engage.relationships.models import InteractionStatus
from engage.relationships.models import Sentiment
from engage.relationships.models import Theme
from engage.relationships.themes import ThemeData
from engage.relationships.themes import like_for_like
from engage.relationships.themes import save_theme
from engage.relationships.themes import theme_audiences
from engage.relationships.themes import theme_overview
from engage.relationships.themes import theme_quarters
from engage.relationships.themes import themes_raised_by
from tests import factories


def _finding() -> object:
    from engage.surveys.models import Finding

    survey = factories.SurveyFactory(title="Stroke survey")
    finding = Finding(
        survey=survey,
        theme="Waiting times",
        you_said="Too long",
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    db.session.add(finding)
    db.session.commit()
    return finding


def test_this_quarter_is_counted_to_date_on_its_last_day_too() -> None:
    from datetime import date

    theme = factories.ThemeFactory()
    rows = theme_quarters(theme, date(2026, 9, 30))
    assert rows[-1].to_date
    assert rows[-1].label == "Q3 2026 (July to September, to date)"
    assert rows[-2].label == "Q2 2026 (April to June)"
    assert not rows[-2].to_date
    assert theme_quarters(theme, date(2026, 10, 1))[-1].label == (
        "Q4 2026 (October to December, to date)"
    )


def test_like_for_like_periods_are_the_same_length() -> None:
    from datetime import date

    current, before = like_for_like(12, date(2026, 3, 15))
    assert (current.start, current.end) == (date(2025, 3, 16), date(2026, 3, 15))
    assert (before.start, before.end) == (date(2024, 3, 16), date(2025, 3, 15))
    current, before = like_for_like(3, date(2026, 5, 31))
    assert (current.start, current.end) == (date(2026, 3, 1), date(2026, 5, 31))
    # 92 days against the 92 before, not against three calendar months (90 days).
    assert (before.start, before.end) == (date(2025, 11, 29), date(2026, 2, 28))
    for period in (current, before):
        assert (period.end - period.start).days + 1 == 92


def test_the_overview_counts_confirmed_interactions_only() -> None:
    day = today()
    stroke = factories.ThemeFactory(name="Stroke services review")
    gp = factories.ThemeFactory(name="GP access")
    factories.ThemeFactory(name="Retired theme", is_active=False)
    council, mp = factories.AudienceFactory(), factories.AudienceFactory()
    this_year = day - timedelta(days=20)
    last_year = add_months(day, -12) - timedelta(days=20)
    for sentiment in (Sentiment.POSITIVE, Sentiment.NEGATIVE, Sentiment.NEGATIVE):
        factories.InteractionFactory(
            occurred_on=this_year,
            audiences=[council, mp],
            themes=[stroke, gp],
            sentiment=sentiment,
        )
    factories.InteractionFactory(
        occurred_on=last_year, audiences=[council], themes=[stroke]
    )
    # Drafts are not counted, not even as the last time it was raised.
    factories.InteractionFactory(
        occurred_on=day,
        audiences=[council],
        themes=[stroke],
        status=InteractionStatus.DRAFT,
        sentiment=None,
    )

    figures, current, before = theme_overview(12, day)
    by_name = {f.theme.name: f for f in figures}
    assert "Retired theme" not in by_name
    row = by_name["Stroke services review"]
    assert (row.raised, row.raised_before, row.audiences) == (3, 1, 2)
    assert (row.sentiment.positive, row.sentiment.negative) == (1, 2)
    assert (row.sentiment.neutral, row.sentiment.mixed) == (0, 0)
    assert row.last_raised == this_year
    assert by_name["GP access"].raised_before == 0
    assert before.end == current.start - timedelta(days=1)

    # Three months: the older ones fall out.
    short, _, _ = theme_overview(3, day)
    assert {f.theme.name: f.raised_before for f in short}["Stroke services review"] == 0


def test_the_overview_page_sorts_by_most_raised(
    client: FlaskClient, login, cast
) -> None:
    quiet = factories.ThemeFactory(name="Aardvark parking")
    busy = factories.ThemeFactory(name="Zebra crossings")
    audience = factories.AudienceFactory()
    factories.InteractionFactory(audiences=[audience], themes=[busy, quiet])
    factories.InteractionFactory(audiences=[audience], themes=[busy])
    login(cast["lead"])
    page = client.get("/relationships/themes").get_data(as_text=True)
    assert page.index("Zebra crossings") < page.index("Aardvark parking")
    by_name = client.get("/relationships/themes?sort=name&months=3")
    text = by_name.get_data(as_text=True)
    assert text.index("Aardvark parking") < text.index("Zebra crossings")
    assert "last 3 months" in text


def test_a_themes_page_shows_its_tables(client: FlaskClient, login, cast) -> None:
    day = today()
    theme = factories.ThemeFactory(name="Stroke services review", description="Why")
    council = factories.AudienceFactory(name="Kent County Council")
    mp = factories.AudienceFactory(name="MP for Dover")
    factories.InteractionFactory(
        occurred_on=day,
        audiences=[council],
        themes=[theme],
        subject="Scrutiny committee",
        sentiment=Sentiment.NEGATIVE,
    )
    factories.InteractionFactory(
        occurred_on=day - timedelta(days=400),
        audiences=[council, mp],
        themes=[theme],
        subject="Old briefing",
        sentiment=Sentiment.MIXED,
    )
    factories.InteractionFactory(
        occurred_on=day,
        audiences=[mp],
        themes=[theme],
        subject="Unconfirmed draft",
        status=InteractionStatus.DRAFT,
        sentiment=None,
    )
    action = factories.ActionFactory(title="Publish the stroke FAQ")
    theme.actions = [action]
    factories.CommitmentFactory(
        audience=council, description="Send the review papers", due_on=day
    )
    factories.CommitmentFactory(
        audience=factories.AudienceFactory(), description="Someone else's promise"
    )
    db.session.commit()

    rows = theme_audiences(theme)
    assert [(r.name, r.raised) for r in rows] == [
        ("Kent County Council", 2),
        ("MP for Dover", 1),
    ]
    assert rows[0].sentiment.negative == 1
    assert rows[0].sentiment.mixed == 1
    quarters = theme_quarters(theme, day)
    assert len(quarters) == 8
    assert quarters[-1].to_date
    assert quarters[-1].label.endswith(", to date)")
    assert quarters[0].label.startswith("Q")
    assert quarters[-1].raised == 1
    assert quarters[-1].sentiment.negative == 1
    assert sum(q.raised for q in quarters) == 2  # both within the two years shown

    login(cast["lead"])
    page = client.get(f"/relationships/themes/{theme.id}").get_data(as_text=True)
    assert "Scrutiny committee" in page
    assert "Unconfirmed draft" not in page
    assert "to date)" in page
    assert "Publish the stroke FAQ" in page
    assert "Planned" in page
    assert "Send the review papers" in page
    assert "Someone else" not in page


def test_admins_add_rename_and_retire_officers_link(
    client: FlaskClient, login, cast
) -> None:
    action = factories.ActionFactory(title="Stroke FAQ")
    finding = _finding()
    login(cast["admin"])
    response = client.post(
        "/relationships/themes/new",
        data={"name": "  Stroke services review ", "description": "The review"},
    )
    assert response.status_code == 302
    theme = db.session.scalar(select(Theme))
    assert theme is not None
    assert theme.name == "Stroke services review"
    again = client.post(
        "/relationships/themes/new", data={"name": "stroke SERVICES review"}
    )
    assert "already exists" in again.get_data(as_text=True)
    client.post("/logout")

    login(cast["officer"])
    assert client.get("/relationships/themes/new").status_code == 403
    response = client.post(
        f"/relationships/themes/{theme.id}/edit",
        data={
            "name": "Renamed by an officer",
            "description": "Updated",
            "actions": [str(action.id)],
            "findings": [str(finding.id)],  # type: ignore[attr-defined]
        },
    )
    assert response.status_code == 302
    db.session.refresh(theme)
    assert theme.name == "Stroke services review"  # an officer cannot rename
    assert theme.description == "Updated"
    assert [a.title for a in theme.actions] == ["Stroke FAQ"]
    assert len(theme.findings) == 1
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.entity_type == "theme")
    ).all()
    assert [e.action for e in events] == ["create", "update"]

    # Links are checked against their choices.
    refused = client.post(
        f"/relationships/themes/{theme.id}/edit",
        data={"description": "x", "actions": ["999999"], "findings": ["abc"]},
    )
    assert refused.status_code == 200
    assert "Select one of the options shown" in refused.get_data(as_text=True)
    db.session.refresh(theme)
    assert len(theme.actions) == 1


def test_a_link_beyond_the_choices_listed_is_kept_on_saving(
    client: FlaskClient, login, cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the first actions by title are offered; the theme's own always are, so
    saving its description never drops a link no one saw."""
    monkeypatch.setattr(themes, "MAX_CHOICES", 1)
    factories.ActionFactory(title="A first action")
    later = factories.ActionFactory(title="Z later action")
    theme = factories.ThemeFactory(name="GP access", actions=[later])
    login(cast["officer"])
    page = client.get(f"/relationships/themes/{theme.id}/edit").get_data(as_text=True)
    assert "A first action" in page
    assert "Z later action" in page
    response = client.post(
        f"/relationships/themes/{theme.id}/edit",
        data={"description": "Updated", "actions": [str(later.id)]},
    )
    assert response.status_code == 302
    db.session.refresh(theme)
    assert [a.title for a in theme.actions] == ["Z later action"]


def test_only_an_admin_renames_or_retires_in_the_service(cast) -> None:
    theme = factories.ThemeFactory(name="GP access")
    with pytest.raises(PermissionDenied):
        save_theme(
            theme,
            ThemeData(name="GP access", is_active=False),
            actor=cast["officer"],
            now=utcnow(),
        )
    with pytest.raises(PermissionDenied):
        save_theme(None, ThemeData(name="New"), actor=cast["officer"], now=utcnow())
    factories.ThemeFactory(name="Other")
    with pytest.raises(Conflict):
        save_theme(theme, ThemeData(name="OTHER"), actor=cast["admin"], now=utcnow())


def test_the_audience_page_lists_the_themes_it_raised(
    client: FlaskClient, login, cast
) -> None:
    theme = factories.ThemeFactory(name="Stroke services review")
    hidden = factories.ThemeFactory(name="Only in a draft")
    council = factories.AudienceFactory()
    factories.InteractionFactory(audiences=[council], themes=[theme])
    factories.InteractionFactory(
        audiences=[council],
        themes=[hidden],
        status=InteractionStatus.DRAFT,
        sentiment=None,
    )
    raised = themes_raised_by(council.id)
    assert [(r.name, r.raised) for r in raised] == [("Stroke services review", 1)]
    login(cast["lead"])
    page = client.get(f"/audiences/{council.id}").get_data(as_text=True)
    # The section (from its heading to the next one) lists confirmed raisings only;
    # the timeline above shows the draft, marked as one.
    section = page.split('<h2 id="themes">Themes raised</h2>', 1)[1].split("<h2", 1)[0]
    assert f"/relationships/themes/{theme.id}" in section
    assert "Only in a draft" not in section


@pytest.mark.parametrize(
    ("role", "statuses"),
    [
        ("anonymous", (302, 302, 302, 302)),
        ("lead", (200, 200, 403, 403)),
        ("officer", (200, 200, 200, 403)),
        ("admin", (200, 200, 200, 200)),
    ],
)
def test_access(client: FlaskClient, login, cast, role: str, statuses) -> None:
    theme = factories.ThemeFactory()
    if role != "anonymous":
        login(cast[role])
    urls = [
        "/relationships/themes",
        f"/relationships/themes/{theme.id}",
        "/relationships/themes/manage",
        "/relationships/themes/new",
    ]
    assert tuple(client.get(url).status_code for url in urls) == statuses


@pytest.mark.parametrize(
    "query",
    [
        "months=7",
        "months=%00",
        "months=12&months=3",
        "sort=DROP",
        "page=999999999999",
        "page=-1",
        "months=1e3&sort=",
    ],
)
def test_hostile_queries_give_no_error(
    client: FlaskClient, login, cast, query: str
) -> None:
    factories.ThemeFactory()
    login(cast["lead"])
    assert client.get(f"/relationships/themes?{query}").status_code in (200, 400)


def test_hostile_forms_give_no_error(client: FlaskClient, login, cast) -> None:
    theme = factories.ThemeFactory()
    login(cast["admin"])
    for data in (
        {"name": "x" * 5000},
        {"name": "a\nb"},
        {"name": "ok", "actions": ["-1", "0", "99999999999999"]},
        {"name": "ok", "findings": [""]},
        {"name": "ok", "is_active": "maybe"},
    ):
        response = client.post(f"/relationships/themes/{theme.id}/edit", data=data)
        assert response.status_code in (200, 302, 400)
    assert client.get("/relationships/themes/99999999999").status_code == 404
