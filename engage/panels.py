"""Sections of a page that each part of Engage adds for itself (activity, audience).

A page keeps one ``Panels`` registry. A part registers a function that gives its
section's template values for the page's subject (or None to leave the section out);
the page shows the sections in their ``order``. So each part keeps its own queries,
and the page stays one template.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from typing import Generic
from typing import TypeVar

S = TypeVar("S")


@dataclass(frozen=True)
class Panel(Generic[S]):
    """One section of a page: its template and its values."""

    order: int
    template: str
    context: Callable[[S], dict[str, Any] | None]


class Panels(Generic[S]):
    """The sections of one kind of page, about one kind of subject."""

    def __init__(self, subject: str) -> None:
        #: The name the page's template gives its subject ("activity", "audience").
        self.subject = subject
        self._panels: list[Panel[S]] = []

    def panel(
        self, template: str, *, order: int
    ) -> Callable[
        [Callable[[S], dict[str, Any] | None]], Callable[[S], dict[str, Any] | None]
    ]:
        """Register ``template`` as a section of the page (lower ``order`` first).

        The decorated function gives the template's values for a subject, or None to
        leave the section out.
        """

        def register(
            context: Callable[[S], dict[str, Any] | None],
        ) -> Callable[[S], dict[str, Any] | None]:
            self._panels[:] = [p for p in self._panels if p.template != template]
            self._panels.append(Panel(order, template, context))
            self._panels.sort(key=lambda p: p.order)
            return context

        return register

    def shown(self, subject: S) -> list[tuple[str, dict[str, Any]]]:
        """Each registered section's template and values for ``subject``, in order."""
        shown = []
        for item in self._panels:
            values = item.context(subject)
            if values is not None:
                shown.append((item.template, values))
        return shown

    def context(
        self, subject: S, page: dict[str, Any]
    ) -> tuple[list[str], dict[str, Any]]:
        """The sections' templates, in order, and their values merged for the page.

        Each section's template is included by the page and reads the names its
        function returned as the page's own variables, so those names are put beside
        the page's. A name two sections (or a section and the page) would both use
        is a mistake in the code: it is refused rather than letting one section read
        another's values. The subject itself is the same for all.
        """
        templates: list[str] = []
        merged: dict[str, Any] = {}
        for template, values in self.shown(subject):
            for name, value in values.items():
                if name == self.subject:
                    continue
                if name in merged or name in page:
                    raise ValueError(
                        f"{template} uses {name!r}, which is already taken"
                    )
                merged[name] = value
            templates.append(template)
        return templates, merged
