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


def panel_context(
    activity: InvolvementActivity, page: dict[str, Any]
) -> tuple[list[str], dict[str, Any]]:
    """The sections' templates, in order, and their values merged for the page.

    Each section's template is included by the page and reads the names its function
    returned (``lines``, ``register_sessions``, ``claims_totals``…) as the page's own
    variables, so those names are put beside the page's. A name two sections (or a
    section and the page) would both use is a mistake in the code: it is refused
    rather than letting one section read another's values. ``activity`` is the
    same for all.
    """
    templates: list[str] = []
    merged: dict[str, Any] = {}
    for template, values in panels_for(activity):
        for name, value in values.items():
            if name == "activity":
                continue
            if name in merged or name in page:
                raise ValueError(f"{template} uses {name!r}, which is already taken")
            merged[name] = value
        templates.append(template)
    return templates, merged
