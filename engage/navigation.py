"""The header's navigation: which sections each role sees."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask
from flask import current_app
from flask import request
from flask import url_for
from flask_login import current_user

from engage.accounts.access import ADMINS
from engage.accounts.access import EDITORS
from engage.accounts.access import READERS
from engage.accounts.models import Role


@dataclass(frozen=True)
class NavItem:
    """A section in the header; shown if the user has a role and the endpoint exists."""

    text: str
    endpoint: str
    roles: tuple[Role, ...]


#: Features add their section here as they arrive; endpoints not registered are skipped.
NAVIGATION = (
    NavItem("Home", "web.home", READERS),
    # Second, so that it never folds into "More" on a narrow screen: a lead's page.
    NavItem("Dashboard", "dashboard.index", READERS),
    NavItem("Stakeholder map", "map.index", READERS),
    NavItem("Audiences", "audiences.index", READERS),
    NavItem("Action plan", "actions.index", READERS),
    NavItem("My actions", "actions.mine", READERS),
    NavItem("Members", "members.index", READERS),
    NavItem("Surveys", "surveys.index", READERS),
    NavItem("Involvement", "involvement.index", READERS),
    NavItem("Relationships", "interactions.index", READERS),
    NavItem("Mailings", "mailings.index", EDITORS),
    # Measures of reach
    NavItem("Metrics", "metrics.index", READERS),
    NavItem("Feeds", "feeds.feeds_index", READERS),
    NavItem("Reports", "reports.reports_index", READERS),
    NavItem("Admin", "admin.index", ADMINS),
)


def nav_items() -> list[dict[str, object]]:
    """Items for the header macro, with the current section marked.

    The current section is the one whose address is the longest start of the
    page's (``/actions/mine`` is "My actions", not also "Action plan").
    """
    if not current_user.is_authenticated:
        return []
    endpoints = current_app.view_functions
    items: list[dict[str, object]] = []
    for item in NAVIGATION:
        if item.endpoint not in endpoints or not current_user.has_role(*item.roles):
            continue
        items.append({"text": item.text, "href": url_for(item.endpoint)})
    path = request.path
    matches = [
        str(i["href"])
        for i in items
        if path == i["href"] or (i["href"] != "/" and path.startswith(str(i["href"])))
    ]
    current = max(matches, key=len, default=None)
    for i in items:
        i["current"] = i["href"] == current
    return items


def init_app(app: Flask) -> None:
    """Expose the navigation to templates."""
    app.context_processor(lambda: {"nav_items": nav_items})
