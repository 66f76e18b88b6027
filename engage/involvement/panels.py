"""The sections of an activity's page, each added by the part of Engage it belongs to.

Invitations, the register, claims and the outcome each register a section with
``@panel(template, order=…)``; the activity page shows them (``engage/panels.py``).
"""

from __future__ import annotations

from engage.involvement.models import InvolvementActivity
from engage.panels import Panels

activity_panels: Panels[InvolvementActivity] = Panels("activity")
panel = activity_panels.panel
panel_context = activity_panels.context
panels_for = activity_panels.shown
