"""The sections of an activity's page, each added by the part of Engage it belongs to.

A part registers a function that gives its section's template values for one
activity (or None to leave the section out); the activity page shows the sections
in their ``order``. So invitations, the register, claims and the outcome each keep
their own queries, and the page stays one template.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import render_template
from markupsafe import Markup

from engage.involvement.models import InvolvementActivity

Context = Callable[[InvolvementActivity], dict[str, Any] | None]


@dataclass(frozen=True)
class Panel:
    """One section of the activity page: its template and its values."""

    order: int
    template: str
    context: Context


_PANELS: list[Panel] = []


def panel(template: str, *, order: int) -> Callable[[Context], Context]:
    """Register ``template`` as a section of the activity page (lower ``order`` first).

    The decorated function gives the template's values for an activity, or None to
    leave the section out (e.g. claims before the first session).
    """

    def register(context: Context) -> Context:
        _PANELS[:] = [p for p in _PANELS if p.template != template]
        _PANELS.append(Panel(order, template, context))
        _PANELS.sort(key=lambda p: p.order)
        return context

    return register


def panels_for(activity: InvolvementActivity) -> list[tuple[str, dict[str, Any]]]:
    """Each registered section's template and values for ``activity``, in order."""
    shown = []
    for item in _PANELS:
        values = item.context(activity)
        if values is not None:
            shown.append((item.template, values))
    return shown


def render_panels(activity: InvolvementActivity) -> list[Markup]:
    """Each section of ``activity``'s page, rendered with its own values, in order."""
    return [
        Markup(render_template(template, **values))  # noqa: S704 - our templates
        for template, values in panels_for(activity)
    ]
