"""The sections of an audience's page that other parts of Engage add.

The relationship log (timeline, commitments, themes, health, links between
stakeholders) registers its sections with ``@panel(template, order=…)``; the
audience page shows them after its own (``engage/panels.py``).
"""

from __future__ import annotations

from engage.audiences.models import Audience
from engage.panels import Panels

audience_panels: Panels[Audience] = Panels("audience")
panel = audience_panels.panel
panel_context = audience_panels.context
