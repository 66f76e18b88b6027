"""The header's navigation: which sections each role sees."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, request, url_for
from flask_login import current_user

from engage.accounts.access import ADMINS, READERS
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
    NavItem("Stakeholder map", "map.index", READERS),
    NavItem("Audiences", "audiences.index", READERS),
    NavItem("Action plan", "actions.index", READERS),
    NavItem("My actions", "actions.mine", READERS),
    NavItem("Members", "members.index", READERS),
    NavItem("Surveys", "surveys.index", READERS),
    # Measures of reach
    NavItem("Metrics", "metrics.index", READERS),
    NavItem("Feeds", "feeds.feeds_index", READERS),
    NavItem("Reports", "reports.reports_index", READERS),
    NavItem("Dashboard", "dashboard.index", READERS),
    NavItem("Admin", "admin.index", ADMINS),
)


def nav_items() -> list[dict[str, object]]:
    """Items for the header macro, with the current section marked."""
    if not current_user.is_authenticated:
        return []
    endpoints = current_app.view_functions
    items = []
    for item in NAVIGATION:
        if item.endpoint not in endpoints or not current_user.has_role(*item.roles):
            continue
        href = url_for(item.endpoint)
        current = request.path == href or (
            href != "/" and request.path.startswith(href)
        )
        items.append({"text": item.text, "href": href, "current": current})
    return items


def init_app(app: Flask) -> None:
    """Expose the navigation to templates."""
    app.context_processor(lambda: {"nav_items": nav_items})
